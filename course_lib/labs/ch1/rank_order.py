"""D4: dark knowledge lives in the rank order of the wrong classes.

:func:`rank_order_run` distils a student (soft targets only, alpha = 1) on a labelled ``fraction`` from
the teacher's true logits, from logits whose wrong classes are scrambled with the top-1 kept
(``"permuted"``), or from targets that keep the top-1 probability and spread the rest evenly
(``"spread"``); ``"hard"`` is the same student trained on the labels alone.
The dashboard (ch1_03) moves T and the student's width and trains the true and scrambled students.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range, check_positive, check_range
from ...distill.dark_knowledge import permute_non_top, spread_non_top
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes
from . import kd_objective

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


def run(s: Setup, T: float = 10.0, width: int = 6) -> dict:
    """Two students of ``width`` hidden units, true and scrambled targets, trained together in one loop."""
    T = check_positive("T", T)
    width = check_int_range("width", width, 1, 4096)
    pair = nn.ModuleDict({k: models.mlp(s.ds.n_features, (width,), s.ds.n_classes, seed=s.seed)
                          for k in ("true", "permuted")})
    # losses.kd_kl on each target (alpha = 1), the teacher's log-probabilities at T computed once
    objectives = {k: kd_objective(s.X, None, targets(s, k, T, seed=s.seed), T=T, alpha=1.0) for k in pair}

    def objective(model, idx):  # disjoint parameters and losses: each learns as it would alone
        return {"loss": sum(objectives[k](m, idx)["soft"] for k, m in model.items())}

    train.fit(pair, objective, len(s.X), epochs=60, lr=5e-2, seed=s.seed)
    acc = {k: train.evaluate(m, s.ds.X_test, s.ds.y_test) for k, m in pair.items()}
    return {"T": float(T), "width": int(width), **acc}


def render(res: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.11, right=0.97)
    lo = min(res["true"], res["permuted"])
    plots.compare(ax, ["true", "scrambled"], [res["true"], res["permuted"]],
                  title=f"T = {res['T']:g}, {res['width']} hidden units", ylabel="test accuracy (fraction)",
                  ylim=(max(0.0, lo - 0.15), 1.02))


def summary(res: dict) -> str:
    return (f"true targets {res['true']:.1%}, scrambled {res['permuted']:.1%}: "
            f"<b>drop {res['true'] - res['permuted']:+.1%}</b>")


def dashboard(seed: int = 0, *, T: float = 10.0, width: int = 6, background: bool = True) -> Dashboard:
    s = setup(seed)
    dash = Dashboard(lambda T, width: run(s, T, width),
                     {"T": slider(T, 1.0, 20.0, 1.0, description="temperature T"),
                      "width": slider(width, 2, 64, 2, description="hidden units", integer=True)},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
