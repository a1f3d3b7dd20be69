"""The Pareto-front scatter plot of chapter 2 (kept apart from ``plots.py`` so the front is computed by
``course_lib.compress.pareto`` and only drawn here: ui never imports methods)."""
from __future__ import annotations

import numpy as np

from .plots import style


def pareto_front(ax, x, y, labels, front, *, title: str, xlabel: str, ylabel: str, x_smaller_better: bool = True,
                 logx: bool = True, groups=None, floor: float | None = None, fontsize: int = 8):
    """Scatter models, ring and join the Pareto front given as a boolean mask ``front`` (computed elsewhere).

    ``groups`` (one name per point) colours the points by family. Points with
    ``y`` below ``floor`` are drawn on the floor as downward triangles, their
    label carrying the true value, so one collapsed model does not squash the axis.
    """
    x, y, mask = np.asarray(x, float), np.asarray(y, float), np.asarray(front, bool)
    labels = [str(lab) for lab in labels]
    if not (len(x) == len(y) == len(labels) == len(mask)):
        raise ValueError(f"x, y, labels and front must have the same length, got {len(x)}, {len(y)}, "
                         f"{len(labels)} and {len(mask)}")
    if groups is not None and len(groups) != len(x):
        raise ValueError(f"groups must give one name per point ({len(x)}), got {len(groups)}")
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
    ax.step(x[mask][order], shown[mask][order], where="post" if x_smaller_better else "pre", color="black",
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
    return style(ax, title, xlabel, ylabel)
