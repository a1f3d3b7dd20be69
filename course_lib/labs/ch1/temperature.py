"""D1/D2: the temperature and alpha sliders, and the softmax-at-T demo of the start page.

``setup(seed)`` holds everything a move does not change: the digits split drawn with ``seed``, the
course teacher trained from ``seed`` on that split (cached on disk), a stratified labelled subset
(30 % of the training split) for a tiny student ``mlp(64, (16,), 10)``, and the teacher's logits.
``run(s, T, alpha)`` retrains the student from the same initialisation on every move (full batch on
cached tensors) and evaluates it; the scratch student (hard labels only) does not depend on T or alpha
and is cached per student seed.

``softmax_dashboard()`` is the start page's first slider: the softmax of four fixed logits at T.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, losses, metrics, models, train
from ..._checks import check_positive, check_range
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Distil a 16-unit student: temperature T and alpha"
TRY = "T = 1 against T = 8 at alpha = 0.9, then alpha = 1 (no labels at all)"
FIGSIZE = (10.0, 3.4)


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    X: torch.Tensor                    # the student's labelled budget
    y: torch.Tensor
    teacher: torch.nn.Module
    teacher_logits: torch.Tensor       # on X
    teacher_test_logits: torch.Tensor  # on the test split
    hidden: int
    epochs: int
    lr: float
    example: int                       # the test image shown in the plots


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, fraction: float = 0.3, hidden: int = 16, epochs: int = 60, lr: float = 5e-2,
          dataset: str = "digits") -> Setup:
    """The split, teacher and labelled subset drawn with ``seed``; the student's size and schedule."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load(dataset, split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    teacher = cache.teacher(dataset, seed=seed, split_seed=seed)
    t_test = train.predict(teacher, ds.X_test)
    # A test image the teacher gets right but is least sure about: its dark knowledge is visible.
    p = torch.softmax(t_test, -1)
    ok = t_test.argmax(-1) == ds.y_test
    conf = torch.where(ok, p.max(-1).values, torch.full_like(p[:, 0], 2.0))
    return Setup(int(seed), ds, X, y, teacher, train.predict(teacher, X), t_test, int(hidden), int(epochs),
                 float(lr), int(conf.argmin()))


def student(s: Setup, seed: int) -> torch.nn.Module:
    return models.mlp(s.ds.n_features, (s.hidden,), s.ds.n_classes, seed=seed)


@lru_cache(maxsize=256)
def _scratch(s: Setup, seed: int) -> torch.Tensor:
    m = student(s, seed)
    train.train_scratch(m, s.X, s.y, epochs=s.epochs, lr=s.lr, seed=seed)
    return train.predict(m, s.ds.X_test)


def scratch_accuracy(s: Setup, seed: int | None = None) -> float:
    """Test accuracy of the student trained on hard labels only (cached per setup and student seed)."""
    return metrics.accuracy(_scratch(s, s.seed if seed is None else int(seed)), s.ds.y_test)


def run(s: Setup, T: float = 4.0, alpha: float = 0.9, *, seed: int | None = None) -> dict:
    """Retrain the student at temperature ``T`` and mix ``alpha`` (1: teacher only, 0: labels only).

    ``seed`` is the student's initialisation (default: the setup's seed). Inference is at T = 1.
    Returns accuracies, agreement and KL to the teacher, the test logits and one example's distributions.
    """
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    seed = s.seed if seed is None else int(seed)
    m = student(s, seed)
    # train.train_distilled's loss with the teacher's targets at T computed once (same weights, bit for bit)
    train.fit(m, train.kd_objective(s.X, s.y, s.teacher_logits, T=T, alpha=alpha), len(s.X), epochs=s.epochs, lr=s.lr,
              seed=seed)
    logits = train.predict(m, s.ds.X_test)
    return {
        "T": T, "alpha": alpha, "seed": seed, "logits": logits,
        "student_acc": metrics.accuracy(logits, s.ds.y_test),
        "scratch_acc": scratch_accuracy(s, seed),
        "teacher_acc": metrics.accuracy(s.teacher_test_logits, s.ds.y_test),
        "agreement": metrics.agreement(logits, s.teacher_test_logits),
        "kl_to_teacher": metrics.kl_to_teacher(logits, s.teacher_test_logits),
        "teacher_probs_T": losses.softmax_t(s.teacher_test_logits[s.example], T).numpy(),
        "student_probs_T": losses.softmax_t(logits[s.example], T).numpy(),
        "example_label": int(s.ds.y_test[s.example]),
    }


def render(result: dict, fig) -> None:
    """Left: the teacher's and student's distributions at T for one test digit; right: accuracies."""
    ax1, ax2 = fast_axes(fig, 2, left=0.06)
    k = np.arange(len(result["teacher_probs_T"]))
    ax1.bar(k - 0.2, result["teacher_probs_T"], width=0.4, label="teacher")
    ax1.bar(k + 0.2, result["student_probs_T"], width=0.4, label="distilled student")
    ax1.set_xticks(k)
    ax1.set_ylim(0, 1)
    ax1.legend(fontsize=10, loc="upper right")
    plots.style(ax1, f"Soft targets at T = {result['T']:g} (a test '{result['example_label']}')",
                "class (digit)", "probability")
    lo = min(result["scratch_acc"], result["student_acc"], result["teacher_acc"])
    plots.compare(ax2, ["scratch", "distilled", "teacher"],
                  [result["scratch_acc"], result["student_acc"], result["teacher_acc"]],
                  title=f"Test accuracy (alpha = {result['alpha']:g})", ylabel="accuracy (fraction)",
                  ylim=(plots.steady_lower(lo, 0.05), 1.0))


def summary(result: dict) -> str:
    gain = result["student_acc"] - result["scratch_acc"]
    return (f"<b>distilled student: {result['student_acc']:.1%}</b> &nbsp;|&nbsp; scratch: {result['scratch_acc']:.1%} "
            f"({gain:+.1%}) &nbsp;|&nbsp; teacher: {result['teacher_acc']:.1%} &nbsp;|&nbsp; "
            f"agreement with teacher: {result['agreement']:.1%}")


def dashboard(seed: int = 0, *, T: float = 4.0, alpha: float = 0.9, background: bool = True) -> Dashboard:
    """The live T / alpha dashboard of notebook ch1_01."""
    s = setup(seed)
    dash = Dashboard(lambda T, alpha: run(s, T, alpha),
                     {"T": slider(T, 1.0, 20.0, 0.5, description="temperature T"),
                      "alpha": slider(alpha, 0.0, 1.0, 0.05, description="alpha (teacher weight)")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash


# ----------------------------------------------------------------- start page
TOY_LOGITS = (10.5, 2.1, -5.3, -8.2)
TOY_CLASSES = ("cat", "dog", "car", "airplane")
SOFTMAX_FIGSIZE = (8.0, 3.2)


def softmax_demo(T: float = 1.0, logits=TOY_LOGITS) -> dict:
    """Softmax of a few fixed logits at temperature T, with its entropy (nats)."""
    T = check_positive("T", T)
    p = losses.softmax_t(torch.tensor(logits, dtype=torch.float32), T)
    return {"T": float(T), "probs": p.numpy(), "entropy": float(metrics.entropy(p))}


def softmax_render(result: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.09, right=0.98)
    plots.probabilities(ax, result["probs"], TOY_CLASSES, title=f"Softmax of four fixed logits at T = {result['T']:g}")
    for i, v in enumerate(result["probs"]):
        ax.annotate(f"{v:.3f}", (i, v), ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")


def softmax_summary(result: dict) -> str:
    return f"entropy: <b>{result['entropy']:.2f} nats</b> (uniform over 4 classes: {np.log(4):.2f})"


def softmax_dashboard(T: float = 1.0, *, background: bool = True) -> Dashboard:
    """The start page's first slider: drag T and watch four fixed logits' softmax flatten."""
    dash = Dashboard(softmax_demo, {"T": slider(T, 0.5, 20.0, 0.5, description="temperature T")},
                     render=softmax_render, figsize=SOFTMAX_FIGSIZE, summary=softmax_summary,
                     title="Try it: drag the temperature and release", background=background)
    return dash
