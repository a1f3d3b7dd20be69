"""D4: dark knowledge lives in the rank order of the wrong classes.

:func:`rank_order_run` distils a student (soft targets only, alpha = 1) on a labelled ``fraction`` from
the teacher's true logits, from logits whose wrong classes are scrambled with the top-1 kept
(``"permuted"``), or from targets that keep the top-1 probability and spread the rest evenly
(``"spread"``); ``"hard"`` is the same student trained on the labels alone.
The dashboard (ch1_03) moves T and the student's width and trains three students on true and three on
scrambled targets at once (:func:`run`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range, check_positive, check_range
from ...distill.dark_knowledge import permute_non_top, spread_non_top
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "True against scrambled dark knowledge"
TRY = "a 6-unit student at T = 10, then T = 1: when does scrambling the wrong classes cost accuracy?"
FIGSIZE = (7.0, 3.4)
TARGETS = ("true", "permuted", "spread", "hard")


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    X: torch.Tensor
    y: torch.Tensor
    t_logits: torch.Tensor


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, fraction: float = 0.2) -> Setup:
    """Split, teacher and a stratified labelled ``fraction`` of the training split, all drawn with ``seed``."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    return Setup(int(seed), ds, X, y, train.predict(teacher, X))


def targets(s: Setup, kind: str, T: float, *, seed: int = 0) -> torch.Tensor:
    """Teacher logits of the given ``kind`` on the labelled subset (``seed`` draws the permutation)."""
    check_choice("kind", kind, TARGETS[:3])
    if kind == "true":
        return s.t_logits
    if kind == "permuted":
        return permute_non_top(s.t_logits, seed=seed)
    return spread_non_top(s.t_logits, T)


def rank_order_run(s: Setup, hidden=(12,), *, kind: str = "true", seed: int = 0, T: float = 10.0,
                   epochs: int = 100, lr: float = 3e-2) -> dict:
    """Train one student on targets of ``kind`` (see module doc) and return its test accuracy and size."""
    check_choice("kind", kind, TARGETS)
    T = check_positive("T", T)
    hidden = tuple(int(h) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    for h in hidden:
        check_int_range("hidden width", h, 1, 4096)
    student = models.mlp(s.ds.n_features, hidden, s.ds.n_classes, seed=seed)
    if kind == "hard":
        train.train_scratch(student, s.X, s.y, epochs=epochs, lr=lr, seed=seed)
    else:
        train.train_distilled(student, s.X, s.y, targets(s, kind, T, seed=seed), T=T, alpha=1.0, epochs=epochs,
                              lr=lr, seed=seed)
    return {"accuracy": train.evaluate(student, s.ds.X_test, s.ds.y_test), "params": models.count_params(student)}


STUDENTS = 3  # students per kind of target on the dashboard: a median of three survives one collapsed 6-unit student
DASH_EPOCHS, DASH_LR = 40, 8e-2  # the dashboard's quicker recipe (section 2 of ch1_03 trains 100 epochs at 3e-2)


@lru_cache(maxsize=8)
def _dashboard_targets(s: Setup) -> torch.Tensor:
    """True logits for the first ``STUDENTS`` students, their own scrambled copies for the next ``STUDENTS``."""
    seeds = [STUDENTS * s.seed + j for j in range(STUDENTS)]
    return torch.stack([s.t_logits] * STUDENTS + [permute_non_top(s.t_logits, seed=j) for j in seeds])


def run(s: Setup, T: float = 10.0, width: int = 6) -> dict:
    """``STUDENTS`` students of ``width`` hidden units on true and as many on scrambled targets, trained at once.

    Student j of either kind starts from the same initial weights (seed ``STUDENTS * s.seed + j``); each scrambled
    student has its own permutation of the wrong classes (same seed). All ``2 * STUDENTS`` are trained side by side
    with ``distill.landscape.train_stacked`` (alpha = 1, full batch), which gives each the numbers it would get alone.
    """
    from ...distill.landscape import train_stacked

    T = check_positive("T", T)
    width = check_int_range("width", width, 1, 4096)
    seeds = [STUDENTS * s.seed + j for j in range(STUDENTS)]
    tl = _dashboard_targets(s)  # scrambled targets do not depend on T: drawn once per setup
    acc = train_stacked(s.X, s.y, tl, width, [(T, 1.0, j) for j in seeds] * 2, epochs=DASH_EPOCHS, lr=DASH_LR,
                        eval_sets=[(s.ds.X_test, s.ds.y_test)])["accuracy"][0]
    true, perm = [float(a) for a in acc[:STUDENTS]], [float(a) for a in acc[STUDENTS:]]
    return {"T": float(T), "width": int(width), "seeds": seeds, "true_each": true, "permuted_each": perm,
            "true": float(np.median(true)), "permuted": float(np.median(perm))}


def render(res: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.11, right=0.97)
    each = [res["true_each"], res["permuted_each"]]
    plots.compare(ax, ["true", "scrambled"], [res["true"], res["permuted"]],
                  title=f"T = {res['T']:g}, {res['width']} hidden units: bars: median of {len(each[0])} students, dots: each",
                  ylabel="test accuracy (fraction)", ylim=(0.0, 1.05))  # fixed: a collapsed student can sit anywhere
    for i, vals in enumerate(each):
        offsets = np.linspace(0.2, 0.32, len(vals))  # right of the bar's centre, clear of its value label
        ax.plot(i + offsets, vals, "o", color="black", markersize=4, zorder=3)


def summary(res: dict) -> str:
    n = len(res["true_each"])
    return (f"median of {n} students: true targets {res['true']:.1%}, scrambled {res['permuted']:.1%}: "
            f"<b>drop {res['true'] - res['permuted']:+.1%}</b> (each student: "
            + ", ".join(f"{a - b:+.1%}" for a, b in zip(res["true_each"], res["permuted_each"])) + ")")


def dashboard(seed: int = 0, *, T: float = 10.0, width: int = 6, background: bool = True) -> Dashboard:
    s = setup(seed)
    dash = Dashboard(lambda T, width: run(s, T, width),
                     {"T": slider(T, 1.0, 20.0, 1.0, description="temperature T"),
                      "width": slider(width, 2, 64, 2, description="hidden units", integer=True)},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
