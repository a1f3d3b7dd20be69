"""Flat or sharp? Loss slices of a scratch and a distilled student along filter-normalised random directions (D13).

``setup(seed)`` trains, once, a 32-unit student on 30% of the digits labels from
scratch and the same student distilled from the cached teacher (T = 4,
alpha = 0.9), with the split, the teacher, the subset and the students all drawn
from ``seed``, and fixes random directions for each. A move of the radius slider
recomputes the training loss along one direction for both students (25 points in
[-r, r]) and their mean test-accuracy drop over four directions at radius r.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import cache, data, models, train
from ..._checks import check_range
from ...distill import sharpness
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Flat or sharp: loss slices of a scratch and a distilled student"
TRY = "radius 0.1, then 0.5 and 1: which student's training loss rises first, and which loses more test accuracy?"
FIGSIZE = (9.0, 3.3)
N_DIRECTIONS = 4


@dataclass(frozen=True)
class Setup:
    ds: data.Dataset
    X: torch.Tensor
    y: torch.Tensor
    students: dict          # name -> trained model
    slice_dirs: dict        # name -> one direction for the slice
    drop_dirs: dict         # name -> directions for the accuracy drop
    seed: int


@lru_cache(maxsize=4)
def setup(seed: int = 0, *, fraction: float = 0.3, hidden: int = 32, epochs: int = 100, lr: float = 3e-2,
          T: float = 4.0, alpha: float = 0.9) -> Setup:
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    t_logits = train.predict(teacher, X)
    scratch = models.mlp(ds.n_features, (hidden,), ds.n_classes, seed=1000 + seed)
    train.train_scratch(scratch, X, y, epochs=epochs, lr=lr, seed=seed)
    kd = models.mlp(ds.n_features, (hidden,), ds.n_classes, seed=1000 + seed)
    train.train_distilled(kd, X, y, t_logits, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    students = {"scratch": scratch, "distilled": kd}
    slice_dirs = {k: sharpness.random_direction(m, seed=seed) for k, m in students.items()}
    drop_dirs = {k: [sharpness.random_direction(m, seed=seed * 100 + j + 1) for j in range(N_DIRECTIONS)]
                 for k, m in students.items()}
    return Setup(ds, X, y, students, slice_dirs, drop_dirs, seed)


def run(s: Setup, radius: float = 0.5) -> dict:
    radius = check_range("radius", radius, 0.0, 2.0, lo_open=True)
    radii = np.linspace(-radius, radius, 25)
    train_loss = lambda m: F.cross_entropy(m(s.X), s.y)  # noqa: E731
    out = {"radius": radius, "radii": radii, "slices": {}, "drops": {}, "acc": {}}
    for name, m in s.students.items():
        out["slices"][name] = sharpness.loss_slice(m, s.slice_dirs[name], radii, train_loss).numpy()
        out["drops"][name] = sharpness.accuracy_drop(m, s.drop_dirs[name], radius, s.ds.X_test, s.ds.y_test)
        out["acc"][name] = train.evaluate(m, s.ds.X_test, s.ds.y_test)
    return out


def render(result: dict, fig) -> None:
    ax1, ax2 = plots.fast_axes(fig, left=0.1, wspace=0.32)
    colours = {"scratch": "tab:gray", "distilled": "tab:blue"}
    for name, ys in result["slices"].items():
        ax1.plot(result["radii"], ys, color=colours[name], label=name)
    plots.log_axis(ax1)
    ax1.legend(fontsize=9, loc="upper center")
    plots.style(ax1, "Training loss along a random direction", "step along the direction (filter-normalised)",
                "cross-entropy (nats, log scale)")
    names = list(result["drops"])
    vals = [100 * result["drops"][n] for n in names]
    ax2.bar(range(len(names)), vals, color=[colours[n] for n in names])  # numeric positions: recyclable axes
    ax2.set_xticks(range(len(names)), names)
    for i, v in enumerate(vals):
        ax2.annotate(f"{v:.1f}", (i, v), ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax2.set_ylim(0, max(5.0, 1.25 * max(vals)))
    plots.style(ax2, f"Test accuracy lost at radius {result['radius']:g}", "student", "accuracy drop (points)")


def summary(result: dict) -> str:
    a, d = result["acc"], result["drops"]
    return (f"radius {result['radius']:g}: scratch {a['scratch']:.1%} loses {100 * d['scratch']:.1f} points; "
            f"distilled {a['distilled']:.1%} loses {100 * d['distilled']:.1f} points "
            f"(mean over {N_DIRECTIONS} random directions)")


def dashboard(seed: int = 0, *, radius: float = 0.5, background: bool = True) -> Dashboard:
    s = setup(seed)
    return Dashboard(lambda radius: run(s, radius), {"radius": slider(radius, 0.05, 1.5, 0.05, description="radius r")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
