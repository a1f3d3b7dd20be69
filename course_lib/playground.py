"""The chapter-1 playground behind the T and alpha sliders (D1, D2).

One cached teacher (trained on the full digits training split), one small
labelled budget for the student (30% of the training split by default), and a
tiny student ``mlp(64, (16,), 10)`` retrained from scratch on every slider move:
100 full-batch Adam epochs on cached tensors, about 0.1 s on two cores.
The scratch baseline (same student, same seed, hard labels only) is cached per
seed, since it does not depend on T or alpha.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from . import cache, data, losses, metrics, models, train
from .ui import plots
from ._checks import check_positive, check_range
from .ui.widgets import Dashboard, slider


@dataclass(frozen=True)
class Setup:
    ds: data.Dataset
    X: torch.Tensor           # the student's labelled budget
    y: torch.Tensor
    teacher: torch.nn.Module
    teacher_logits: torch.Tensor       # on X
    teacher_test_logits: torch.Tensor  # on the test split
    hidden: int
    epochs: int
    lr: float
    example: int              # index of the test image shown in the plots


@lru_cache(maxsize=8)
def setup(dataset: str = "digits", fraction: float = 0.3, hidden: int = 16, epochs: int = 100,
          lr: float = 3e-2, subset_seed: int = 0) -> Setup:
    ds = data.load(dataset)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=subset_seed)
    teacher = cache.teacher(dataset)
    t_test = train.predict(teacher, ds.X_test)
    # A test image the teacher gets right but is least sure about: its dark knowledge is visible.
    p = torch.softmax(t_test, -1)
    ok = t_test.argmax(-1) == ds.y_test
    conf = torch.where(ok, p.max(-1).values, torch.full_like(p[:, 0], 2.0))
    example = int(conf.argmin())
    return Setup(ds, X, y, teacher, train.predict(teacher, X), t_test, hidden, epochs, lr, example)


def _student(s: Setup, seed: int):
    return models.mlp(s.ds.n_features, (s.hidden,), s.ds.n_classes, seed=seed)


@lru_cache(maxsize=64)
def scratch_accuracy(seed: int = 0, **setup_kw) -> float:
    """Test accuracy of the student trained on hard labels only (cached per seed)."""
    s = setup(**setup_kw)
    m = _student(s, seed)
    train.train_scratch(m, s.X, s.y, epochs=s.epochs, lr=s.lr, seed=seed)
    return train.evaluate(m, s.ds.X_test, s.ds.y_test)


def train_student(T: float = 4.0, alpha: float = 0.9, *, seed: int = 0, **setup_kw) -> dict:
    """Retrain the student at temperature ``T`` and mix ``alpha``; return its numbers.

    ``alpha`` weighs the teacher's soft targets (1: teacher only, 0: labels only).
    Inference is at T = 1.
    """
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    s = setup(**setup_kw)
    m = _student(s, seed)
    hist = train.train_distilled(m, s.X, s.y, s.teacher_logits, T=T, alpha=alpha, epochs=s.epochs, lr=s.lr, seed=seed)
    logits = train.predict(m, s.ds.X_test)
    return {
        "T": T, "alpha": alpha, "seed": seed,
        "student_acc": metrics.accuracy(logits, s.ds.y_test),
        "scratch_acc": scratch_accuracy(seed, **setup_kw),
        "teacher_acc": metrics.accuracy(s.teacher_test_logits, s.ds.y_test),
        "agreement": metrics.agreement(logits, s.teacher_test_logits),
        "kl_to_teacher": metrics.kl_to_teacher(logits, s.teacher_test_logits),
        "teacher_probs_T": losses.softmax_t(s.teacher_test_logits[s.example], T).numpy(),
        "student_probs_T": losses.softmax_t(logits[s.example], T).numpy(),
        "example_label": int(s.ds.y_test[s.example]),
        "history": hist,
    }


def render(result: dict, fig):
    """Left: the teacher's and student's distributions at T for one test digit; right: accuracies."""
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    k = np.arange(len(result["teacher_probs_T"]))
    ax1.bar(k - 0.2, result["teacher_probs_T"], width=0.4, label="teacher")
    ax1.bar(k + 0.2, result["student_probs_T"], width=0.4, label="distilled student")
    ax1.set_xticks(k)
    ax1.set_ylim(0, 1)
    ax1.legend(fontsize=8)
    plots.style(ax1, f"Soft targets at T = {result['T']:g} (a test '{result['example_label']}')",
                "class (digit)", "probability")
    plots.compare(ax2, ["scratch", "distilled", "teacher"],
                  [result["scratch_acc"], result["student_acc"], result["teacher_acc"]],
                  title=f"Test accuracy (alpha = {result['alpha']:g})", ylabel="accuracy (fraction)", ylim=(0.8, 1.0))


def summary(result: dict) -> str:
    gain = result["student_acc"] - result["scratch_acc"]
    return (f"<b>distilled student: {result['student_acc']:.1%}</b> &nbsp;|&nbsp; scratch: {result['scratch_acc']:.1%} "
            f"({gain:+.1%}) &nbsp;|&nbsp; teacher: {result['teacher_acc']:.1%} &nbsp;|&nbsp; "
            f"agreement with teacher: {result['agreement']:.1%}")


def dashboard(T: float = 4.0, alpha: float = 0.9, *, seed: int = 0) -> Dashboard:
    """The live T / alpha dashboard of notebook ch1_01."""
    return Dashboard(
        lambda T, alpha: train_student(T, alpha, seed=seed),
        {"T": slider(T, 1.0, 20.0, 0.5, description="temperature T"),
         "alpha": slider(alpha, 0.0, 1.0, 0.05, description="alpha (teacher weight)")},
        render=render, summary=summary, title="Distil a 16-unit student: move T or alpha and release")


# ----------------------------------------------------------------- start page
TOY_LOGITS = (10.5, 2.1, -5.3, -8.2)
TOY_CLASSES = ("cat", "dog", "car", "airplane")


def softmax_demo(T: float = 1.0, logits=TOY_LOGITS) -> dict:
    """Softmax of a few fixed logits at temperature T, with its entropy (nats)."""
    p = losses.softmax_t(torch.tensor(logits, dtype=torch.float32), T)
    return {"T": float(T), "probs": p.numpy(), "entropy": float(metrics.entropy(p))}


def softmax_demo_dashboard(T: float = 1.0) -> Dashboard:
    def render(r, fig):
        ax = fig.subplots()
        plots.probabilities(ax, r["probs"], TOY_CLASSES, title=f"Softmax at T = {r['T']:g}")
    return Dashboard(softmax_demo, {"T": slider(T, 0.5, 20.0, 0.5, description="temperature T")},
                     render=render, figsize=(5, 3),
                     summary=lambda r: f"entropy: <b>{r['entropy']:.2f} nats</b> (uniform: {np.log(4):.2f})",
                     title="Try it: drag the temperature and release")
