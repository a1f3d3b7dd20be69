"""Pareto fronts: which models no other model beats on every axis at once.

A point *dominates* another if it is at least as good on every objective and
strictly better on one. The non-dominated points form the Pareto front; every
other model has a rival that is no worse anywhere and better somewhere.
``senses`` says per column whether smaller (``"min"``: bytes, seconds) or larger
(``"max"``: accuracy) is better.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_choice

SENSES = ("min", "max")


def _as_matrix(points, senses) -> np.ndarray:
    a = np.asarray(points, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"points must be a non-empty 2-D array (models x objectives), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("points must be finite numbers, got NaN or infinity")
    senses = list(senses)
    if len(senses) != a.shape[1]:
        raise ValueError(f"senses must give one of {list(SENSES)} per objective ({a.shape[1]}), got {len(senses)}")
    for s in senses:
        check_choice("senses", s, SENSES)
    sign = np.array([1.0 if s == "min" else -1.0 for s in senses])
    return a * sign  # every column: smaller is better


def dominates(a, b, senses) -> bool:
    """True if point ``a`` is no worse than ``b`` on every objective and strictly better on one."""
    m = _as_matrix([a, b], senses)
    return bool((m[0] <= m[1]).all() and (m[0] < m[1]).any())


def front_mask(points, senses) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``points`` (models x objectives)."""
    m = _as_matrix(points, senses)
    n = len(m)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = (m <= m[i]).all(axis=1)
        better = (m < m[i]).any(axis=1)
        if (no_worse & better).any():
            keep[i] = False
    return keep


def dominators(points, senses, i: int) -> list:
    """Indices of the rows that dominate row ``i``."""
    m = _as_matrix(points, senses)
    if not 0 <= int(i) < len(m):
        raise ValueError(f"i must be in 0..{len(m) - 1}, got {i}")
    return [j for j in range(len(m)) if (m[j] <= m[i]).all() and (m[j] < m[i]).any()]


def plot_front(ax, x, y, labels, *, senses=("min", "max"), title: str, xlabel: str, ylabel: str,
               logx: bool = True, groups=None, floor: float | None = None, fontsize: int = 8):
    """Scatter the models, ring and join the 2-D Pareto front of (x, y); returns the front mask.

    ``groups`` (one name per point) colours the points by family. Points with
    ``y`` below ``floor`` are drawn on the floor as downward triangles, their
    label carrying the true value, so one collapsed model does not squash the
    axis. The front is computed on the true values.
    """
    from .ui.plots import style

    x, y = np.asarray(x, float), np.asarray(y, float)
    labels = [str(lab) for lab in labels]
    if len(x) != len(y) or len(x) != len(labels):
        raise ValueError(f"x, y and labels must have the same length, got {len(x)}, {len(y)} and {len(labels)}")
    if groups is not None and len(groups) != len(x):
        raise ValueError(f"groups must give one name per point ({len(x)}), got {len(groups)}")
    mask = front_mask(np.column_stack([x, y]), senses)
    groups = ["models"] * len(x) if groups is None else list(groups)
    names = list(dict.fromkeys(groups))
    colour = {g: f"C{i % 10}" for i, g in enumerate(names)}
    shown = y if floor is None else np.maximum(y, floor)
    low = np.zeros(len(y), bool) if floor is None else y < floor
    for g in names:
        sel = np.array([gi == g for gi in groups])
        for m, marker in ((sel & ~low, "o"), (sel & low, "v")):
            if m.any():
                ax.scatter(x[m], shown[m], s=40, marker=marker, color=colour[g], alpha=0.85,
                           label=g if marker == "o" or not (sel & ~low).any() else None, zorder=2)
    ax.scatter(x[mask], shown[mask], s=140, facecolors="none", edgecolors="black", lw=1.5, zorder=3,
               label="Pareto front")
    order = np.argsort(x[mask])
    ax.step(x[mask][order], shown[mask][order], where="post" if senses[0] == "min" else "pre", color="black",
            lw=1, alpha=0.6)
    n_low = 0
    for xi, yi, si, lab, lo in zip(x, y, shown, labels, low):
        lift = 4 + 10 * (n_low % 3) if lo else 4  # stagger labels of points piled on the floor
        n_low += int(lo)
        ax.annotate(f"{lab} ({yi:.0f})" if lo else lab, (xi, si), textcoords="offset points", xytext=(4, lift),
                    fontsize=fontsize)
    if logx:
        from matplotlib.ticker import FormatStrFormatter, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, loc="lower right")
    style(ax, title, xlabel, ylabel)
    return mask
