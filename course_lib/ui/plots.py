"""Plot helpers that always give a title, labelled axes and units.

They draw onto a matplotlib Axes, so the same code serves static notebook
figures and the PNG frames of a live :class:`~course_lib.widgets.Dashboard`.
"""
from __future__ import annotations

import numpy as np


def style(ax, title: str, xlabel: str, ylabel: str):
    # y given explicitly: matplotlib then skips re-measuring every tick label to place the title, which was
    # about half of a live dashboard's redraw time.
    ax.set_title(title, y=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return ax


def probabilities(ax, probs, class_names, *, title: str, highlight: int | None = None, ylim=(0, 1)):
    """Bar chart of one probability vector; ``highlight`` colours one class."""
    probs = np.asarray(probs, dtype=float)
    colours = ["tab:orange" if i == highlight else "tab:blue" for i in range(len(probs))]
    ax.bar(range(len(probs)), probs, color=colours)
    ax.set_xticks(range(len(probs)), class_names)
    ax.set_ylim(*ylim)
    return style(ax, title, "class", "probability")


def compare(ax, names, values, *, errors=None, title: str, ylabel: str, fmt="{:.1%}", ylim=None):
    """Bars with optional error bars and their values written on top."""
    values = np.asarray(values, dtype=float)
    ax.bar(names, values, yerr=errors, capsize=4, color=["tab:gray", "tab:blue", "tab:green", "tab:orange"][: len(values)])
    for i, v in enumerate(values):
        ax.annotate(fmt.format(v), (i, v), ha="center", va="bottom", fontsize=9,
                    xytext=(0, 3), textcoords="offset points")
    if ylim is not None:
        ax.set_ylim(*ylim)
    return style(ax, title, "", ylabel)


def curves(ax, x, series: dict, *, title: str, xlabel: str, ylabel: str, spread: dict | None = None, logx=False):
    """Line plot of named series over ``x``, with optional shaded +/- spread."""
    for name, ys in series.items():
        ys = np.asarray(ys, dtype=float)
        ax.plot(x, ys, marker="o", label=name)
        if spread and name in spread:
            s = np.asarray(spread[name], dtype=float)
            ax.fill_between(x, ys - s, ys + s, alpha=0.2)
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.set_xticks(list(x), [f"{v:g}" for v in x])  # plain numbers at the measured points, not 2x10^0
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend()
    return style(ax, title, xlabel, ylabel)


def fast_axes(fig, ncols: int = 2, *, left: float = 0.09, right: float = 0.985, bottom: float = 0.17,
              top: float = 0.88, wspace: float = 0.3):
    """Side-by-side axes with fixed margins and few ticks, for live redraws.

    Constrained layout measures every tick label and can cost more than the
    drawing itself; fixed margins roughly halve a dashboard's redraw time. The
    defaults leave room for a y label and tick labels of about five characters;
    widen ``left``/``wspace`` for longer ones.
    """
    from matplotlib.ticker import MaxNLocator

    fig.set_layout_engine("none")
    axes = fig.subplots(1, ncols, gridspec_kw=dict(left=left, right=right, bottom=bottom, top=top, wspace=wspace))
    axes = list(np.atleast_1d(axes))
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    axes[-1].yaxis.set_major_locator(MaxNLocator(5))
    return axes


def log_axis(ax, which: str = "y"):
    """A log scale with plain major labels (0.01, 0.1, 1) and no crowded minor labels such as 2x10^-3."""
    from matplotlib.ticker import LogFormatter, NullLocator

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
    axis.set_minor_locator(NullLocator())  # no minor ticks: no crowded labels, and far fewer artists to draw
    return ax
