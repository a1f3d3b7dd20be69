"""Plot helpers that always give a title, labelled axes and units.

They draw onto a matplotlib Axes, so the same code serves static notebook
figures and the PNG frames of a live :class:`~course_lib.widgets.Dashboard`.
"""
from __future__ import annotations

import math

import numpy as np


def style(ax, title: str, xlabel: str, ylabel: str):
    # y given explicitly: matplotlib then skips re-measuring every tick label to place the title, which was
    # about half of a live dashboard's redraw time.
    ax.set_title(title, y=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return ax


def steady_lower(values, margin: float = 0.1, step: float = 0.1, floor: float = 0.0) -> float:
    """A lower axis limit at least ``margin`` below the smallest of ``values``, rounded down to a multiple of
    ``step`` (and not below ``floor``). It moves only when the data cross a step, so a dashboard's axes, and the
    static layer its frames keep (``ui.widgets``), stay put between most moves, and the eye can compare frames."""
    lo = float(np.min(values)) - margin
    return max(floor, math.floor(lo / step + 1e-9) * step)


def steady_upper(values, margin: float = 0.0, step: float = 10.0) -> float:
    """An upper axis limit at least ``margin`` above the largest of ``values``, rounded up to a multiple of
    ``step`` (see :func:`steady_lower`)."""
    hi = float(np.max(values)) + margin
    return max(step, math.ceil(hi / step - 1e-9) * step)


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
    positions = np.arange(len(values))  # numeric positions and tick labels: no category units to carry over
    ax.bar(positions, values, yerr=errors, capsize=4,
           color=["tab:gray", "tab:blue", "tab:green", "tab:orange"][: len(values)])
    ax.set_xticks(positions, [str(n) for n in names])
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

    A dashboard draws every move on the same figure: when ``fig`` already holds
    the axes of an earlier call with the same layout, they are emptied and
    returned instead of being built again (building axes and their ticks is a
    fifth of a redraw). ``tests/test_labs.py`` checks, for every lab, that a
    frame drawn on recycled axes is pixel-identical to one drawn on new ones.
    """
    from matplotlib.ticker import MaxNLocator

    key = (int(ncols), left, right, bottom, top, wspace)
    fig._course_claimed = True
    previous = getattr(fig, "_course_fast_axes", None)
    # Axes whose ticks came from units (bars placed by string names use a category map, which would keep the
    # last frame's names) are built again rather than recycled.
    if (previous is not None and previous[0] == key and all(ax in fig.axes for ax in previous[1])
            and all(ax.xaxis.units is None and ax.yaxis.units is None for ax in previous[1])):
        axes = list(previous[1])
        _empty_figure(fig, axes)
    else:
        if fig.axes or fig.texts:
            fig.clear()
        fig.set_layout_engine("none")
        axes = fig.subplots(1, ncols, gridspec_kw=dict(left=left, right=right, bottom=bottom, top=top,
                                                       wspace=wspace))
        axes = list(np.atleast_1d(axes))
        fig._course_fast_axes = (key, tuple(axes))
    for ax in axes:
        # grid lines and ticks under the data: a dashboard then draws them once and keeps them between moves
        # while they do not change (ui.widgets._draw_on_kept_background)
        ax.set_axisbelow(True)
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    axes[-1].yaxis.set_major_locator(MaxNLocator(5))
    return axes


def _empty_figure(fig, keep) -> None:
    """Remove what a render added to ``fig`` and to the axes in ``keep``, leaving them as new axes."""
    for ax in list(fig.axes):
        if ax not in keep:
            fig.delaxes(ax)  # twins, colorbars, insets: the next render adds them again
    for artist in [*fig.texts, *fig.legends, *fig.images, *fig.lines, *fig.patches]:
        artist.remove()
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        if getattr(fig, name, None) is not None:
            setattr(fig, name, None)
    for ax in keep:
        for artist in [*ax.lines, *ax.patches, *ax.collections, *ax.texts, *ax.images, *ax.tables, *ax.artists]:
            artist.remove()
        ax.containers.clear()
        if ax.legend_ is not None:
            ax.legend_.remove()
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
        ax.set_xlabel("")
        ax.set_ylabel("")
        if ax.get_xscale() != "linear":
            ax.set_xscale("linear")
        if ax.get_yscale() != "linear":
            ax.set_yscale("linear")
        ax.set_aspect("auto")
        if ax.xaxis_inverted():
            ax.invert_xaxis()
        if ax.yaxis_inverted():
            ax.invert_yaxis()
        ax.set_axis_on()
        ax.set_prop_cycle(None)
        ax.set_position(ax.get_subplotspec().get_position(fig))
        ax.ignore_existing_data_limits = True
        ax.set_autoscale_on(True)
        ax.grid(False)


def log_axis(ax, which: str = "y"):
    """A log scale with plain major labels (0.01, 0.1, 1) and no crowded minor labels such as 2x10^-3."""
    from matplotlib.ticker import LogFormatter, NullLocator

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
    axis.set_minor_locator(NullLocator())  # no minor ticks: no crowded labels, and far fewer artists to draw
    return ax
