"""Chapter 1's live experiments (see course_lib/LAYOUT.md for the five names each module exposes).

Shared helpers for the chapter's labs live here (not in a module of their own, since every module of
``labs/ch1/`` is a lab): :func:`panels` gives fast axes with room for the y label, :func:`show_at_size`
pins a dashboard's image to the pixel size it was drawn at, so it is never stretched.
"""
from __future__ import annotations

DPI = 72  # what ui.widgets.Dashboard draws at


def panels(fig, ncols: int = 2, *, left: float = 0.08, right: float = 0.985, bottom: float = 0.18,
           top: float = 0.87, wspace: float = 0.3):
    """``ui.plots.fast_axes`` with margins that leave room for axis labels."""
    from ...ui import plots

    axes = plots.fast_axes(fig, ncols)
    axes[0].get_gridspec().update(left=left, right=right, bottom=bottom, top=top, wspace=wspace)
    return axes


def show_at_size(dash, figsize):
    """Display the dashboard's PNG at the size it was rendered (``figsize`` inches at 72 dpi), not stretched."""
    w, h = int(round(figsize[0] * DPI)), int(round(figsize[1] * DPI))
    dash.image.width, dash.image.height = str(w), str(h)
    dash.image.layout.width, dash.image.layout.height = f"{w}px", f"{h}px"
    dash.image.layout.max_width = "100%"
    dash.image.layout.object_fit = "contain"
    return dash
