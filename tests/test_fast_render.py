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
