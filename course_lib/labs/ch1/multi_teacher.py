"""D8: several teachers. Distil from the average of k modest teachers, or from the best single one.

The modest teachers are ``mlp(64, (64,), 10)`` networks, each trained (``cache.trained_mlp``) on its own
random 30 % of the training split, so each is decent and makes its own mistakes. ``ensemble_logits``
averages their probabilities at T. The best single member is chosen on the validation split. The
dashboard (ch1_08) moves the number of teachers averaged and T, and trains the student of the average
and the student of the best member side by side.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from ... import cache, data, losses, metrics, models, train
from ..._checks import check_int_range, check_positive, check_range
from ...distill.landscape import train_stacked
from ...distill.schemes import ensemble_logits
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Distil from the average of k teachers, or from the best one"
TRY = "k = 1 against k = 5 at T = 4: does the average teach better than its best member?"
FIGSIZE = (7.0, 3.4)
MAX_TEACHERS = 5


def modest_teacher(seed: int, k: int, *, fraction: float = 0.3) -> nn.Module:
    """Teacher number ``k`` of split ``seed``: ``mlp(64, (64,), 10)`` on its own random ``fraction``."""
    check_int_range("k", k, 0, 99)
    return cache.trained_mlp("digits", (64,), seed=1000 + 100 * int(seed) + int(k), split_seed=seed, epochs=200,
                             lr=1e-2, fraction=fraction, name="modest-teacher")


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    X: torch.Tensor
    y: torch.Tensor
    logits: tuple      # per teacher: (on X, on val, on test)
    best: int          # the member with the lowest validation cross-entropy


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, n_teachers: int = MAX_TEACHERS, fraction: float = 0.3) -> Setup:
    """Split drawn with ``seed``, ``n_teachers`` modest teachers, and the student's labelled subset."""
    check_int_range("n_teachers", n_teachers, 1, 20)
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits", split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    ts = [modest_teacher(seed, k) for k in range(n_teachers)]
    logits = tuple((train.predict(t, X), train.predict(t, ds.X_val), train.predict(t, ds.X_test)) for t in ts)
    val_ce = [float(F.cross_entropy(lv, ds.y_val)) for _, lv, _ in logits]
    return Setup(int(seed), ds, X, y, logits, int(min(range(n_teachers), key=val_ce.__getitem__)))


def run(s: Setup, k: int = 3, T: float = 4.0, *, alpha: float = 0.9, seed: int | None = None, epochs: int = 60,
        lr: float = 5e-2) -> dict:
    """Two students trained together: one from the average of the first ``k`` teachers, one from the best member.

    Both are ``mlp(64, (16,), 10, seed=seed)`` students trained full batch with the KD mix at (T, alpha), stacked
    into one batched loop (``distill.landscape.train_stacked``; each learns as it would alone).
    """
    k = check_int_range("k", k, 1, len(s.logits))
    T = check_positive("T", T)
    seed = s.seed if seed is None else int(seed)
    targets = torch.stack([ensemble_logits([s.logits[i][0] for i in range(k)], T=T), s.logits[s.best][0]])
    r = train_stacked(s.X, s.y, targets, 16, [(T, alpha, seed), (T, alpha, seed)], epochs=epochs, lr=lr,
                      eval_sets=[(s.ds.X_test, s.ds.y_test)])
    student_average, student_best = (float(a) for a in r["accuracy"][0])
    ens_test = ensemble_logits([s.logits[i][2] for i in range(k)], T=1.0)
    return {"k": k, "T": float(T), "best": s.best, "student_average": student_average, "student_best": student_best,
            "teacher_average": metrics.accuracy(ens_test, s.ds.y_test),
            "teacher_best": metrics.accuracy(s.logits[s.best][2], s.ds.y_test)}


def render(r: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.1, right=0.97)
    names = ["student of\nbest member", f"student of\naverage of {r['k']}"]
    vals = [r["student_best"], r["student_average"]]
    ax.bar([0, 1], vals, color=["tab:gray", "tab:blue"])  # numeric positions: the axes are reused between moves
    for i, v in enumerate(vals):
        ax.annotate(f"{v:.1%}", (i, v), ha="center", va="bottom", fontsize=9, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks([0, 1], names)
    ax.set_ylim(plots.steady_lower(vals, 0.05), 1.0)
    plots.style(ax, f"Student test accuracy, T = {r['T']:g}", "", "accuracy (fraction)")


def summary(r: dict) -> str:
    return (f"teachers: best member (#{r['best']}, chosen on validation) {r['teacher_best']:.1%}, average of {r['k']} "
            f"{r['teacher_average']:.1%} &nbsp;|&nbsp; <b>students: {r['student_best']:.1%} vs "
            f"{r['student_average']:.1%}</b>")


def dashboard(seed: int = 0, *, k: int = 3, T: float = 4.0, background: bool = True) -> Dashboard:
    s = setup(seed)
    dash = Dashboard(lambda k, T: run(s, k, T),
                     {"k": slider(k, 1, MAX_TEACHERS, 1, integer=True, description="teachers averaged"),
                      "T": slider(T, 1.0, 10.0, 0.5, description="temperature T")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
