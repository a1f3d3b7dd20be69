"""B5 lab: a teacher that learned a spurious cue hands it to its student through the soft targets.

Each digit image carries one bright border pixel whose position names a class
(``reliability.bias``). In the teacher's training data the pixel names the
true class with probability ``rho`` (rho = 0.1 is chance: no correlation). The
students learn on a transfer set (the same training images) whose cue pixels
are drawn at random, independent of the label, so any reliance on the cue a
student shows came from its teacher. They are tested on the clean test split
and on a *reversed* copy whose pixel always names a wrong class.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, models, train
from ..._checks import check_choice
from ...reliability import bias
from ...ui import plots
from ...ui.widgets import Dashboard

TITLE = "Bias inheritance: a shortcut passed on through soft targets"
TRY = "Move rho (how often the pixel names the true class in the teacher's data) from 0.1 to 1: watch the distilled student's reversed-cue accuracy follow its teacher's down."

RHOS = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
CHANCE = 0.1
T_HIDDEN, T_EPOCHS, T_LR = (128,), 150, 3e-3
S_HIDDEN, S_EPOCHS, S_LR, T, ALPHA = (32,), 80, 1e-2, 4.0, 0.9


@dataclass(frozen=True, eq=False)
class Setup:
    seed: int
    ds: data.Dataset
    pixels: tuple
    X_transfer: torch.Tensor      # training images, cue independent of the label
    X_reversed: torch.Tensor      # test images, cue always names a wrong class
    cue_reversed: torch.Tensor
    student_seed: int


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, student_seed: int | None = None) -> Setup:
    ds = data.load("digits", split_seed=seed)
    px = tuple(bias.cue_pixels(ds.n_classes, ds.image_shape))
    c_tr = bias.cue_classes(ds.y_train, CHANCE, ds.n_classes, seed=seed + 1000)
    c_te = bias.cue_classes(ds.y_test, 0.0, ds.n_classes, seed=seed + 2000)
    return Setup(seed, ds, px, bias.add_cue(ds.X_train, c_tr, px), bias.add_cue(ds.X_test, c_te, px), c_te,
                 seed if student_seed is None else int(student_seed))


def teacher(s: Setup, rho: float):
    """A 64-128-10 teacher trained on images whose cue names the true class with probability ``rho`` (cached)."""
    check_choice("rho", float(rho), RHOS)
    ds = s.ds
    config = dict(kind="cue-teacher", seed=s.seed, rho=float(rho), hidden=list(T_HIDDEN), epochs=T_EPOCHS, lr=T_LR)

    def build():
        return models.mlp(ds.n_features, T_HIDDEN, ds.n_classes, seed=s.seed)

    def fit(m):
        cue = bias.cue_classes(ds.y_train, rho, ds.n_classes, seed=s.seed)
        X = bias.add_cue(ds.X_train, cue, s.pixels)
        train.fit(m, train.ce_objective(X, ds.y_train), len(X), epochs=T_EPOCHS, lr=T_LR, weight_decay=1e-4,
                  seed=s.seed)

    return cache.cached_model(config, build, fit, name="teacher-cue-digits")


def scores(s: Setup, model) -> dict:
    """Clean and reversed-cue test accuracy, and how often a reversed cue is followed."""
    logits = train.predict(model, s.X_reversed)
    return {"clean": train.evaluate(model, s.ds.X_test, s.ds.y_test),
            "reversed": float((logits.argmax(-1) == s.ds.y_test).float().mean()),
            "follows_cue": bias.cue_following(logits, s.cue_reversed, s.ds.y_test)}


@lru_cache(maxsize=64)
def teacher_scores(s: Setup, rho: float) -> dict:
    return scores(s, teacher(s, rho))


@lru_cache(maxsize=512)
def student(s: Setup, rho: float | None, seed: int) -> dict:
    """Scores of a 64-32-10 student on the transfer set: labels only (``rho=None``) or KD from teacher(rho)."""
    X, y = s.X_transfer, s.ds.y_train
    m = models.mlp(s.ds.n_features, S_HIDDEN, s.ds.n_classes, seed=seed)
    if rho is None:
        objective = train.ce_objective(X, y)
    else:
        objective = train.kd_objective(X, y, train.predict(teacher(s, rho), X), T=T, alpha=ALPHA)
    train.fit(m, objective, len(X), epochs=S_EPOCHS, lr=S_LR, seed=seed)
    return scores(s, m)


def precompute(s: Setup, *, progress: bool = True) -> None:
    """Train every teacher (disk-cached) and the dashboard's students once, so a move only redraws."""
    items = [None, *RHOS]
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc="teachers and students for every rho", leave=False)
    for rho in items:
        if rho is not None:
            teacher_scores(s, rho)
        student(s, rho, s.student_seed)


def run(s: Setup, rho: float = 0.95) -> dict:
    rho = float(min(RHOS, key=lambda r: abs(r - float(rho))))
    seed = s.student_seed
    return {"rho": rho, "teacher": teacher_scores(s, rho), "kd_biased": student(s, rho, seed),
            "labels": student(s, None, seed), "kd_free": student(s, CHANCE, seed),
            "curve_teacher": [teacher_scores(s, r)["reversed"] for r in RHOS],
            "curve_student": [student(s, r, seed)["reversed"] for r in RHOS]}


def render(result: dict, fig) -> None:
    ax1, ax2 = plots.fast_axes(fig, 2)
    names = ["teacher", "its student", "labels only", "cue-free KD"]
    keys = ["teacher", "kd_biased", "labels", "kd_free"]
    x = np.arange(4)
    ax1.bar(x - 0.2, [result[k]["clean"] for k in keys], 0.4, label="clean test", color="tab:gray")
    ax1.bar(x + 0.2, [result[k]["reversed"] for k in keys], 0.4, label="cue reversed", color="tab:red")
    ax1.set_xticks(x, names)
    ax1.set_ylim(0.5, 1.0)
    ax1.legend(fontsize=8, loc="lower left")
    plots.style(ax1, f"Test accuracy, teacher trained at rho = {result['rho']:g}", "", "accuracy")
    ax2.plot(RHOS, result["curve_teacher"], "o-", label="teacher", ms=4)
    ax2.plot(RHOS, result["curve_student"], "s-", label="student distilled from it", ms=4)
    ax2.axhline(result["labels"]["reversed"], color="k", ls="--", lw=1, label="labels-only student")
    ax2.axvline(result["rho"], color="tab:gray", lw=1)
    ax2.set_ylim(0.5, 1.0)
    ax2.legend(fontsize=8, loc="lower left", frameon=False)
    plots.style(ax2, "Accuracy with the cue reversed", "rho (cue = true class in teacher's data)", "accuracy")


def summary(result: dict) -> str:
    t, k, l = result["teacher"], result["kd_biased"], result["labels"]
    return (f"rho = {result['rho']:g}: reversed-cue accuracy teacher {t['reversed']:.1%}, its KD student "
            f"{k['reversed']:.1%} (follows the cue {k['follows_cue']:.1%}), labels-only student {l['reversed']:.1%}, "
            f"student of the cue-free teacher {result['kd_free']['reversed']:.1%}")


def dashboard(seed: int = 0, *, rho: float = 0.95, student_seed: int | None = None, background: bool = True,
              progress: bool = True) -> Dashboard:
    import ipywidgets as W

    s = setup(seed, student_seed=student_seed)
    precompute(s, progress=progress)
    control = W.SelectionSlider(options=list(RHOS), value=float(rho), description="rho (cue correlation)",
                                continuous_update=False, style={"description_width": "initial"},
                                layout=W.Layout(width="420px"))
    return Dashboard(lambda rho: run(s, rho), {"rho": control}, render=render, summary=summary, figsize=(10, 3.6),
                     title=TITLE, background=background)
