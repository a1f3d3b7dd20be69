"""D10: fidelity (agreement, KL to the teacher) against generalisation (test accuracy).

:func:`fidelity_run` distils a student on the full labelled training split from the course teacher
(``"strong"``) or from the same architecture trained on only ``weak_fraction`` of the labels
(``"weak"``, cached with ``cache.trained_mlp``), and reports agreement and KL on train and test and
the test accuracy. The dashboard (ch1_06) moves the teacher, alpha and T.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from ... import cache, data, metrics, models, train
from ..._checks import check_choice, check_positive, check_range
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Fidelity against accuracy"
TRY = "weak teacher: alpha = 1 against alpha = 0; which student agrees more with the teacher, which is right more often?"
FIGSIZE = (7.0, 3.6)
TEACHERS = ("strong", "weak")


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    logits: dict   # teacher name -> (train logits, test logits)


def weak_teacher(seed: int = 0, *, fraction: float = 0.05, split_seed: int | None = None) -> torch.nn.Module:
    """The teacher's architecture trained on only ``fraction`` of the labels (cached on disk): a teacher that errs."""
    fraction = check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    return cache.trained_mlp("digits", (256, 256), seed=seed, split_seed=seed if split_seed is None else split_seed,
                             epochs=200, lr=3e-3, weight_decay=1e-4, fraction=fraction, name="weak-teacher")


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, weak_fraction: float = 0.05) -> Setup:
    """Split, strong teacher and weak teacher, all drawn with ``seed``, and their logits."""
    ds = data.load("digits", split_seed=seed)
    out = {}
    for name, t in (("strong", cache.teacher("digits", seed=seed, split_seed=seed)),
                    ("weak", weak_teacher(seed, fraction=weak_fraction))):
        out[name] = (train.predict(t, ds.X_train), train.predict(t, ds.X_test))
    return Setup(int(seed), ds, out)


def fidelity_run(s: Setup, alpha: float = 1.0, *, T: float = 4.0, teacher: str = "weak", hidden: int = 32,
                 seed: int = 0, epochs: int = 100, lr: float = 3e-2) -> dict:
    """Distil one student on the full labelled training split; fidelity on train/test and test accuracy."""
    check_choice("teacher", teacher, TEACHERS)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    T = check_positive("T", T)
    ds = s.ds
    tl_train, tl_test = s.logits[teacher]
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    train.train_distilled(student, ds.X_train, ds.y_train, tl_train, T=T, alpha=alpha, epochs=epochs, lr=lr,
                          seed=seed)
    out = metrics.fidelity(train.predict(student, ds.X_train), tl_train, train.predict(student, ds.X_test), tl_test,
                           ds.y_test)
    out["teacher_accuracy"] = metrics.accuracy(tl_test, ds.y_test)
    return out


def run(s: Setup, teacher: str = "weak", alpha: float = 1.0, T: float = 4.0) -> dict:
    """One dashboard position (a shorter schedule than the notebook's sweep)."""
    return {**fidelity_run(s, alpha, T=T, teacher=teacher, seed=s.seed, epochs=50, lr=5e-2), "teacher": teacher,
            "alpha": float(alpha), "T": float(T)}


def render(r: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.1, right=0.97)
    names = ["agreement\n(test)", "student\naccuracy", "teacher\naccuracy"]
    vals = [r["agree_test"], r["accuracy"], r["teacher_accuracy"]]
    plots.compare(ax, names, vals, title=f"{r['teacher']} teacher, alpha = {r['alpha']:g}, T = {r['T']:g}",
                  ylabel="fraction of test images", ylim=(max(0.0, min(vals) - 0.15), 1.02))


def summary(r: dict) -> str:
    return (f"agreement train {r['agree_train']:.1%} / test {r['agree_test']:.1%}; KL test {r['kl_test']:.3f} nats; "
            f"<b>test accuracy {r['accuracy']:.1%}</b>")


def dashboard(seed: int = 0, *, teacher: str = "weak", alpha: float = 1.0, T: float = 4.0,
              background: bool = True) -> Dashboard:
    import ipywidgets as W

    s = setup(seed)
    choice = W.Dropdown(options=list(TEACHERS), value=teacher, description="teacher")
    dash = Dashboard(lambda teacher, alpha, T: run(s, teacher, alpha, T),
                     {"teacher": choice, "alpha": slider(alpha, 0.0, 1.0, 0.1, description="alpha (teacher weight)"),
                      "T": slider(T, 1.0, 10.0, 0.5, description="temperature T")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
