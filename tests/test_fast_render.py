"""The dashboards' fast frame path (ui.widgets.png_bytes) gives exactly the pixels of matplotlib's own Agg.

png_bytes keeps each figure's canvas, draws plain text from cached glyph bitmaps and encodes the PNG
without row filters; tests/test_labs.py compares every lab's live frame against stock Agg on a new figure,
and these tests cover text the labs may not show (rotations, sizes, math, no antialiasing, other dpi).
"""
import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from course_lib.ui import widgets
from course_lib.ui.widgets import encode_png, png_bytes


def _pixels(png: bytes):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _same(fig):
    fast, stock = _pixels(png_bytes(fig)), _pixels(png_bytes(fig, stock=True))
    assert fast.shape == stock.shape
    diff = np.argwhere((fast != stock).any(-1))
    assert diff.size == 0, f"{len(diff)} pixels differ from stock Agg, first at {tuple(diff[0])}"


def _text_figure(fig, shift=0.0, label="accuracy (fraction)"):
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1, 2], [0.2 + shift, 0.5, 0.9], label="student")
    ax.set_title(f"Soft targets at T = {4 + shift:g}")
    ax.set_xlabel("class (digit)")
    ax.set_ylabel(label)
    ax.legend(loc="upper left")
    for i, angle in enumerate((0, 30, 45, 90, 137.5)):
        ax.text(0.1 + 0.37 * i + shift / 7, 0.3 + 0.013 * i, f"rot {angle} {shift:.3f}", rotation=angle,
                fontsize=7 + 2 * i)
    ax.annotate("$\\alpha = 0.9$, $T^2$", (1, 0.5))          # math text: the stock path
    ax.text(0.5, 0.8, "no antialias", antialiased=False)
    ax.text(0.2, 0.7, "bold serif", fontweight="bold", family="serif")
    return fig


def test_text_at_many_subpixel_positions_matches_stock_agg():
    fig = Figure(figsize=(6, 3), dpi=100)
    for shift in np.linspace(0, 1, 4):  # text moves by fractions of a pixel; labels change between frames
        _same(_text_figure(fig, shift, label=f"loss {shift:.2f}"))


@pytest.mark.parametrize("dpi", [72, 100, 133])
def test_other_dpi_and_sizes_match_stock_agg(dpi):
    fig = Figure(figsize=(4.3, 2.7), dpi=dpi)
    _same(_text_figure(fig, 0.25))
    fig.set_size_inches(5.1, 2.2)  # a new size: a new renderer on the same canvas
    _same(_text_figure(fig, 0.5))


def test_canvas_is_kept_between_frames():
    fig = Figure(figsize=(3, 2), dpi=100)
    fig.add_subplot(1, 1, 1).plot([0, 1])
    png_bytes(fig)
    canvas = fig.canvas
    png_bytes(fig)
    assert fig.canvas is canvas and type(canvas).__name__ == "GlyphCanvas"


def test_text_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(widgets, "_TEXT_CACHE_MAX", 5)
    fig = Figure(figsize=(4, 2), dpi=100)
    for shift in (0.0, 0.3, 0.6):
        _same(_text_figure(fig, shift))
    # cleared once past the bound (a cache may pass it by the glyphs of one string before the next check)
    assert all(len(c) <= 5 + 30 for c in widgets._text_caches.values())


def test_encode_png_round_trips_exactly():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(17, 23, 4), dtype=np.uint8)
    assert (_pixels(encode_png(rgba)) == rgba[..., :3]).all()
    rgb = np.ascontiguousarray(rgba[..., :3])
    assert (_pixels(encode_png(rgb, level=6)) == rgb).all()
    img = Image.open(io.BytesIO(encode_png(rgb)))
    assert img.size == (23, 17) and img.mode == "RGB"


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((4, 4, 3), np.float32)])
def test_encode_png_rejects_other_arrays(bad):
    with pytest.raises(ValueError, match="rgba must be a uint8 array"):
        encode_png(bad)


# ------------------------------------------------ the static layer kept between frames (fast_axes figures)
def _frame(fig, heights, *, ylim=(0, 1), title="T = 4", xlabel="class", tick_colour=None, grid=True, legend=True):
    from course_lib.ui import plots

    ax1, ax2 = plots.fast_axes(fig, 2)
    ax1.bar(range(len(heights)), heights, label="student")
    ax1.plot(range(len(heights)), heights[::-1], "o-", label="teacher")
    ax1.set_ylim(*ylim)
    ax1.text(1, heights[1] + 0.02, f"{heights[1]:.2f}", ha="center", fontsize=8)
    if legend:
        ax1.legend(loc="upper right")
    plots.style(ax1, title, xlabel, "probability")
    if not grid:
        ax1.grid(False)
    if tick_colour:
        ax1.get_xticklabels()[1].set_color(tick_colour)
    ax2.plot([0, 1, 2], [heights[0], heights[2], heights[1]])
    ax2.set_ylim(0, 1)
    plots.style(ax2, "accuracy", "epoch", "fraction")
    fig.suptitle(title + " overall", fontsize=9)
    return fig


def _kept(fig):
    return getattr(fig.canvas, "_course_background", None)


def _same_keeping_canvas(fig):
    """As _same, then give the figure its fast canvas back (the stock draw replaced it)."""
    fast = _pixels(png_bytes(fig))
    canvas = fig.canvas
    stock = _pixels(png_bytes(fig, stock=True))
    fig.set_canvas(canvas)
    assert fast.shape == stock.shape
    diff = np.argwhere((fast != stock).any(-1))
    assert diff.size == 0, f"{len(diff)} pixels differ from stock Agg, first at {tuple(diff[0])}"


def test_static_layer_is_kept_while_it_does_not_change_and_frames_match_stock_agg():
    fig = Figure(figsize=(8, 3), dpi=100)
    fig._course_claimed = False
    rng = np.random.default_rng(0)
    _same_keeping_canvas(_frame(fig, rng.uniform(0.1, 0.8, 5)))
    first = _kept(fig)
    assert first is not None  # a fast_axes figure: drawn as static layer + artists on top
    for i in range(3):  # new data, titles and texts, same axes: the kept layer is reused
        _same_keeping_canvas(_frame(fig, rng.uniform(0.1, 0.8, 5), title=f"T = {5 + i}"))
        assert _kept(fig) is first


@pytest.mark.parametrize("change", [dict(ylim=(0, 2)), dict(xlabel="digit"), dict(tick_colour="red"),
                                    dict(grid=False), dict(legend=False)])
def test_a_change_in_the_static_layer_redraws_it(change):
    fig = Figure(figsize=(8, 3), dpi=100)
    heights = np.array([0.2, 0.5, 0.3, 0.1, 0.7])
    _same_keeping_canvas(_frame(fig, heights))
    first = _kept(fig)
    _same_keeping_canvas(_frame(fig, heights, **change))  # the frame still matches stock Agg pixel for pixel
    if "legend" not in change:  # a legend is drawn on top, not part of the static layer
        assert _kept(fig) is not first


def test_an_image_under_the_grid_is_drawn_in_full():
    from course_lib.ui import plots

    fig = Figure(figsize=(4, 3), dpi=100)
    (ax,) = plots.fast_axes(fig, 1)
    ax.imshow(np.arange(16.0).reshape(4, 4))
    ax.grid(True)
    _same_keeping_canvas(fig)
    assert _kept(fig) is None
