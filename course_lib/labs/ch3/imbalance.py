"""B4 lab: a long-tailed training set, and distillation weighted towards the rare classes.

The training split is cut to an exponential long tail (``ratio`` times more
examples of the most common class than of the rarest; which digit gets which
rank depends on the seed). A teacher (256-256 MLP) is trained on that long
tail, or, with ``teacher="balanced"``, the course's usual teacher that saw the
whole split. Students (64-32-10) learn from the long tail alone: from the
labels (scratch), by plain KD, or by KD whose per-example term is weighted by
``n_class ** -beta``. The slider moves ``beta``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import cache, data, models, train
from ..._checks import check_choice, check_range
from ...reliability import fairness
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Long tail: distillation weighted towards the rare classes"
TRY = "Move beta from 0 (plain KD) to 1 (each class weighs the same): watch the tail's recall on the right of the left panel."

HIDDEN, EPOCHS, LR, T, ALPHA = (32,), 100, 1e-2, 4.0, 0.9
N_TAIL = 3  # the last three ranks are 'the tail', the first three 'the head'


@dataclass(frozen=True, eq=False)
class Setup:
    seed: int
    ds: data.Dataset
    order: tuple           # order[r] = the digit with rank r (0 = most common)
    counts: tuple          # training examples per rank
    X: torch.Tensor
    y: torch.Tensor
    teacher_logits: torch.Tensor
    teacher_recall: np.ndarray   # test recall by rank
    n_per_class: torch.Tensor    # training examples per digit
    teacher_kind: str
    student_seed: int


def _long_tail_teacher(ds, X, y, *, seed, split_seed, ratio, n_max):
    config = dict(kind="long-tail-teacher", dataset=ds.name, seed=int(seed), split_seed=int(split_seed),
                  ratio=float(ratio), n_max=int(n_max), hidden=[256, 256], epochs=300, lr=3e-3, wd=1e-4)

    def build():
        return models.mlp(ds.n_features, (256, 256), ds.n_classes, seed=seed)

    def fit(m):
        train.fit(m, train.ce_objective(X, y), len(X), epochs=300, lr=3e-3, weight_decay=1e-4, seed=seed)

    return cache.cached_model(config, build, fit, name="teacher-longtail")


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, ratio: float = 50.0, n_max: int = 100, teacher: str = "long-tailed",
          student_seed: int | None = None) -> Setup:
    """The long-tailed split, its teacher's logits, and the seed of the dashboard's student."""
    check_choice("teacher", teacher, ["long-tailed", "balanced"])
    ds = data.load("digits", split_seed=seed)
    order = torch.randperm(ds.n_classes, generator=torch.Generator().manual_seed(seed)).tolist()
    counts = fairness.long_tail_counts(n_max, ratio, ds.n_classes)
    idx = fairness.long_tail_indices(ds.y_train, counts, order=order, seed=seed)
    X, y = ds.X_train[idx], ds.y_train[idx]
    if teacher == "long-tailed":
        t = _long_tail_teacher(ds, X, y, seed=seed, split_seed=seed, ratio=ratio, n_max=n_max)
    else:
        t = cache.teacher("digits", seed=seed, split_seed=seed)
    t_rec = fairness.per_class_recall(train.predict(t, ds.X_test), ds.y_test, ds.n_classes)[order].numpy()
    return Setup(seed, ds, tuple(order), tuple(counts), X, y, train.predict(t, X), t_rec,
                 torch.bincount(y, minlength=ds.n_classes).float(), teacher,
                 seed if student_seed is None else int(student_seed))


def train_student(s: Setup, beta: float | None, seed: int):
    """A student trained on the long tail: ``beta=None`` labels only, else KD weighted by n_class**-beta."""
    X, y = s.X, s.y
    model = models.mlp(s.ds.n_features, HIDDEN, s.ds.n_classes, seed=seed)
    if beta is None:
        objective = train.ce_objective(X, y)
    else:
        w = fairness.class_weights(s.n_per_class, beta)[y]

        def objective(m, idx):
            out = m(X)
            soft = fairness.weighted_kd(out, s.teacher_logits, w, T=T)
            hard = F.cross_entropy(out, y)
            return {"loss": ALPHA * soft + (1 - ALPHA) * hard, "soft": soft, "hard": hard}
    train.fit(model, objective, len(X), epochs=EPOCHS, lr=LR, seed=seed)
    return model


def measure(s: Setup, model) -> dict:
    """Test recall and class-wise calibration error per rank (head first)."""
    logits = train.predict(model, s.ds.X_test)
    order = list(s.order)
    recall = fairness.per_class_recall(logits, s.ds.y_test, s.ds.n_classes)[order].numpy()
    ece = fairness.classwise_ece(F.softmax(logits, -1), s.ds.y_test)[order].numpy()
    return {"recall": recall, "ece": ece, "head": float(recall[:N_TAIL].mean()), "tail": float(recall[-N_TAIL:].mean()),
            "ece_tail": float(ece[-N_TAIL:].mean()), "ece_head": float(ece[:N_TAIL].mean()),
            "accuracy": float(np.mean(recall))}


@lru_cache(maxsize=64)
def baseline(s: Setup, which: str, seed: int) -> dict:
    """Scratch (``which='scratch'``) or plain KD (``'kd'``) for one student seed, cached."""
    check_choice("which", which, ["scratch", "kd"])
    return measure(s, train_student(s, None, seed)) if which == "scratch" else weighted(s, 0.0, seed)


@lru_cache(maxsize=256)
def weighted(s: Setup, beta: float, seed: int) -> dict:
    """Weighted KD at ``beta`` for one student seed, cached (beta = 0 is plain KD)."""
    return measure(s, train_student(s, float(beta), seed))


BETAS = tuple(np.round(np.arange(0, 2.01, 0.25), 2).tolist())


def precompute(s: Setup, betas=BETAS, *, progress: bool = True) -> None:
    """Train the dashboard's students for every slider position once, so a move only redraws."""
    items = [("scratch", None)] + [("weighted", b) for b in betas]
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc="students for every beta", leave=False)
    for kind, b in items:
        baseline(s, "scratch", s.student_seed) if kind == "scratch" else weighted(s, b, s.student_seed)


def run(s: Setup, beta: float = 1.0) -> dict:
    beta = check_range("beta", beta, 0, 4)
    seed = s.student_seed
    return {"beta": beta, "scratch": baseline(s, "scratch", seed), "kd": weighted(s, 0.0, seed),
            "weighted": weighted(s, beta, seed), "teacher_recall": s.teacher_recall,
            "counts": s.counts, "order": s.order}


def render(result: dict, fig) -> None:
    ax1, ax2 = plots.fast_axes(fig, 2)
    r = np.arange(len(result["counts"]))
    labels = [str(d) for d in result["order"]]
    for name, key, st in (("scratch", "scratch", "s-"), ("plain KD", "kd", "o-"),
                          (f"weighted KD, beta={result['beta']:g}", "weighted", "^-")):
        ax1.plot(r, result[key]["recall"], st, label=name, ms=4)
        ax2.plot(r, result[key]["ece"], st, label=name, ms=4)
    ax1.plot(r, result["teacher_recall"], "k--", lw=1, label="teacher")
    for ax in (ax1, ax2):
        ax.set_xticks(r, labels)
    ax1.set_ylim(-0.02, 1.02)
    ax1.legend(fontsize=7, loc="lower left")
    counts = result["counts"]
    plots.style(ax1, "Test recall per digit, head to tail", f"digit, from {counts[0]} to {counts[-1]} training examples",
                "recall")
    plots.style(ax2, "Class-wise calibration error", "digit, most common first", "class-wise ECE")


def summary(result: dict) -> str:
    w, k, sc = result["weighted"], result["kd"], result["scratch"]
    return (f"beta = {result['beta']:g}: tail recall (rarest 3) scratch {sc['tail']:.0%}, plain KD {k['tail']:.0%}, "
            f"weighted {w['tail']:.0%}; head recall (commonest 3) {sc['head']:.0%} / {k['head']:.0%} / "
            f"{w['head']:.0%}; tail class-wise ECE {sc['ece_tail']:.3f} / {k['ece_tail']:.3f} / {w['ece_tail']:.3f}")


def dashboard(seed: int = 0, *, beta: float = 1.0, teacher: str = "long-tailed", student_seed: int | None = None,
              background: bool = True, progress: bool = True) -> Dashboard:
    s = setup(seed, teacher=teacher, student_seed=student_seed)
    precompute(s, progress=progress)
    return Dashboard(lambda beta: run(s, beta), {"beta": slider(beta, 0.0, 2.0, 0.25, description="beta (weight exponent)")},
                     render=render, summary=summary, figsize=(10, 3.6), title=TITLE, background=background)
