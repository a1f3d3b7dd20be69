"""Live dashboards: a pure function plus slider specs becomes a thin widget layer.

``Dashboard(fn, controls, render=..., summary=...)`` calls ``fn(**values)`` when
a slider is released (``continuous_update=False``), draws ``render(result, fig)``
into a PNG and shows ``summary(result)`` as text. Work runs in one background
worker: while it computes, further moves only update the pending values, and
the worker then computes the latest one, so fast dragging never stacks runs.
A computation that passes about 2 s shows a progress bar (``fn`` may accept a
``progress`` callback taking a fraction in [0, 1]). Exceptions are shown in the
dashboard, kept in ``.error``, and re-raised by ``wait()`` and ``update()``.
"""
from __future__ import annotations

import html
import inspect
import io
import threading
import time
import traceback
from typing import Callable

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

PROGRESS_AFTER_S = 2.0
DPI = 100  # the PNG is shown at exactly its pixel size: sharp, never stretched
# A widget in JupyterLab has about 845 px for its image in a 1280 px window: a wider frame would be scaled down, blurred.
# A wider figure is drawn at a lower dpi instead (the same size on screen as the scaled image, but sharp).
MAX_WIDTH_PX = 840


_TEXT_CACHE_MAX = 50_000  # entries of each text cache (a glyph bitmap is ~100 bytes); cleared when full
_text_caches = {"layout": {}, "glyph": {}, "metrics": {}}


def _glyph_canvas_class():
    """``FigureCanvasAgg`` whose renderer draws plain text from cached glyph bitmaps (built once, on first use).

    Text is three quarters of an Agg frame: matplotlib (3.11) shapes every string and rasterises every
    glyph with FreeType on every draw, though a live frame shows the same tick labels, titles and legends
    move after move. This renderer keeps, across frames and figures,

    * the shaped layout of each string (font, size, dpi, hinting, features, language),
    * each glyph's bitmap, keyed by its position's sub-pixel remainder (1/64 px) and its offset from the
      whole pixel (moving an outline by whole pixels moves its raster by exactly as many pixels), and
    * the string metrics matplotlib caches only per renderer,

    and otherwise draws exactly as ``RendererAgg``: ``tests/test_fast_render.py`` checks that every lab's
    frame is pixel-identical to stock Agg's. Math text, TeX and anything unexpected take the stock path.
    """
    global _GlyphCanvas
    if _GlyphCanvas is not None:
        return _GlyphCanvas
    import math

    import numpy as np
    from matplotlib.backends import backend_agg as agg
    from matplotlib.ft2font import RenderMode

    import matplotlib as mpl

    rc_keys = ("font.family", "font.style", "font.variant", "font.weight", "font.stretch", "font.size",
               "font.sans-serif", "font.serif", "font.monospace", "font.cursive", "font.fantasy",
               "mathtext.fontset", "font.fallback_to_default" if "font.fallback_to_default" in mpl.rcParams else
               "font.family")

    def font_paths(prop):
        # fontManager._find_fonts_by_props copies the properties once per family on every call; the answer
        # depends only on the properties (all of them: FontProperties hashes the same tuple) and rcParams.
        key = ("paths", tuple(prop.__dict__.values()),
               tuple(tuple(v) if isinstance(v, list) else v for v in (mpl.rcParams[k] for k in rc_keys)))
        cache = _text_caches["metrics"]
        try:
            hit = cache.get(key)
        except TypeError:  # an unhashable property: look it up every time
            return tuple(agg._fontManager._find_fonts_by_props(prop))
        if hit is None:
            hit = cache[key] = tuple(agg._fontManager._find_fonts_by_props(prop))
        return hit

    class _GlyphRenderer(agg.RendererAgg):
        def _prepare_font(self, font_prop):
            # as RendererAgg._prepare_font, with the font lookup cached
            font = agg.get_font(font_paths(font_prop))
            font.clear()
            font.set_size(font_prop.get_size_in_points(), self.dpi)
            return font

        def _font_key(self, prop):
            font = self._prepare_font(prop)  # as RendererAgg: the (thread's) FT2Font, cleared, sized
            return font, prop.get_size_in_points()

        def get_text_width_height_descent(self, s, prop, ismath):
            if ismath:
                return super().get_text_width_height_descent(s, prop, ismath)
            key = (s, font_paths(prop), prop.get_size_in_points(), self.dpi,
                   agg.get_hinting_flag())
            cache = _text_caches["metrics"]
            hit = cache.get(key)
            if hit is None:
                if len(cache) > _TEXT_CACHE_MAX:
                    cache.clear()
                hit = cache[key] = super().get_text_width_height_descent(s, prop, ismath)
            return hit

        def _get_font_height_metrics(self, prop):
            # The hook Text._get_layout asks first: the font's ascent, descent and line gap, which it
            # otherwise reads from the font's tables for every text on every draw. Same formula, cached.
            font = agg.get_font(font_paths(prop))
            size = prop.get_size_in_points()
            key = ("height", font, size, self.dpi)
            cache = _text_caches["metrics"]
            hit = cache.get(key)
            if hit is None:
                if len(cache) > _TEXT_CACHE_MAX:
                    cache.clear()
                hit = (None, None, None)
                for table_name, gap_key, ascent_key, descent_key in (
                        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                        ("hhea", "lineGap", "ascent", "descent")):
                    table = font.get_sfnt_table(table_name)
                    if table is None:
                        continue
                    scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * size * self.dpi / 72
                    hit = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
                    break
                cache[key] = hit
            return hit

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if ismath:
                return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            features = mtext.get_fontfeatures() if mtext is not None else None
            language = mtext.get_language() if mtext is not None else None
            try:
                fkey = (tuple(features) if features is not None else None,
                        language if language is None or isinstance(language, str) else
                        tuple(tuple(v) if isinstance(v, list) else v for v in language))
                hash(fkey)
            except TypeError:
                return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            flags = agg.get_hinting_flag()
            font, size = self._font_key(prop)
            layouts = _text_caches["layout"]
            lkey = (font, size, self.dpi, s, flags, fkey)
            items = layouts.get(lkey)
            if items is None:
                if len(layouts) > _TEXT_CACHE_MAX:
                    layouts.clear()
                items = layouts[lkey] = tuple(
                    (it.ft_object, it.glyph_index, it.x, it.y)
                    for it in font._layout(s, flags=flags, features=features, language=language))
            glyphs = _text_caches["glyph"]
            if len(glyphs) > _TEXT_CACHE_MAX:
                glyphs.clear()
            cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            aa = bool(gc.get_antialiased())
            height = self.height
            for ft, index, dx, dy in items:  # as RendererAgg._draw_text_glyphs_and_boxes, dy upwards
                px = round(0x40 * (x + dx * cos - dy * sin))
                py = round(0x40 * (height - y + dx * sin + dy * cos))
                gkey = (ft, size, self.dpi, index, angle, flags, aa, px & 63, py & 63)
                hit = glyphs.get(gkey)
                if hit is None:
                    ft.set_size(size, self.dpi)
                    ft._set_transform((0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int),
                                      [px & 63, py & 63])
                    bitmap = ft._render_glyph(index, flags, RenderMode.NORMAL if aa else RenderMode.MONO)
                    buffer = np.array(bitmap.buffer)  # our own copy
                    if not aa:
                        buffer *= 0xff
                    hit = glyphs[gkey] = (buffer, bitmap.left, bitmap.top)
                buffer, left, top = hit
                self._renderer.draw_text_image(buffer, left + (px >> 6), int(height) - (top + (py >> 6)) +
                                               buffer.shape[0], 0, gc)

    class GlyphCanvas(agg.FigureCanvasAgg):
        def get_renderer(self):
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = _GlyphRenderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    _GlyphCanvas = GlyphCanvas
    return GlyphCanvas


_GlyphCanvas = None
GLYPH_RENDERER_MATPLOTLIB = "3.11.2"  # the matplotlib release tests/test_fast_render.py checked pixel for pixel


def png_bytes(fig, *, stock: bool = False) -> bytes:
    """Draw ``fig`` with Agg and encode it as a PNG, fast (light compression; redraws must stay cheap).

    The figure's canvas is kept between calls (its renderer and text caches are reused) and draws text from
    cached glyphs (see ``_glyph_canvas_class``); ``stock=True`` draws with matplotlib's own
    ``FigureCanvasAgg`` instead, to check that both give the same pixels.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    # The glyph renderer leans on private parts of matplotlib; it is used only with the version whose pixels the
    # tests compared (requirements.txt pins it), and any failure in it falls back to matplotlib's own renderer.
    stock = stock or matplotlib.__version__ != GLYPH_RENDERER_MATPLOTLIB
    if not stock:
        try:
            cls = _glyph_canvas_class()
            canvas = fig.canvas if type(fig.canvas) is cls else cls(fig)
            if getattr(fig, "_course_claimed", False):
                _draw_on_kept_background(canvas)
            else:
                canvas.draw()
        except Exception:  # an unexpected text object: draw this frame the stock way
            if fig.canvas is not None:
                fig.canvas._course_background = None
            stock = True
    if stock:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    if stock:
        buf = io.BytesIO()
        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert(
            "RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()
    return encode_png(np.asarray(canvas.buffer_rgba()))


def _text_key(t, *, placed: bool = False) -> tuple:
    """What decides how a static text looks: its string, place and style (``placed``: Axis.draw sets its place
    from the tick labels, which the key already holds)."""
    return (t.get_text(), t.get_visible(), None if placed else tuple(t.get_position()), str(t.get_color()),
            t.get_alpha(), hash(t.get_fontproperties()), t.get_rotation(), t.get_horizontalalignment(),
            t.get_verticalalignment(), t.get_rotation_mode(), None if placed else _transform_key(t.get_transform()))


def _transform_key(tr):
    return tuple(tr.get_matrix().ravel()) if tr.is_affine else id(tr)


def _tick_key(tick) -> tuple:
    return (tick.get_loc(), *(_text_key(lbl) for lbl in (tick.label1, tick.label2)),
            *((ln.get_visible(), str(ln.get_color()), ln.get_alpha(), ln.get_linestyle(), ln.get_linewidth(),
               ln.get_marker(), ln.get_markersize()) for ln in (tick.tick1line, tick.tick2line, tick.gridline)))


def _static_layers(fig):
    """``(key, dynamic)`` for a frame that can be drawn on a kept background, else None.

    The *static* layer of a figure laid out by ``plots.fast_axes`` is what stays put between moves: the
    figure and axes backgrounds and the axes (ticks, tick labels, grid lines, axis labels). ``key`` captures
    everything that decides how it looks (limits, tick positions and labels and their styles, axis labels,
    positions, scales, colours); ``dynamic`` lists, per axes, the artists drawn on top (lines, bars, texts,
    legends, spines, titles), in the order ``Axes.draw`` draws them, then the figure's texts. The frame
    is the same pixel for pixel when the static layer sits below every dynamic artist, so a figure with
    a dynamic artist below its axis layer (an image under grid lines, say), a layout engine, inset
    axes or figure-level artists other than texts gets None and is drawn in full.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if (engine is not None and not isinstance(engine, PlaceHolderLayoutEngine)) or fig.legends or fig.images \
            or fig.lines or fig.patches or fig.subfigs or not fig.get_visible():
        return None
    key = [tuple(fig.get_size_inches()), fig.dpi, str(fig.get_facecolor()), fig.patch.get_visible()]
    dynamic = []
    for ax in fig.axes:
        if ax.child_axes or ax.get_axes_locator() is not None or not ax.get_visible():
            return None
        ax.apply_aspect()
        static = {ax.patch, ax.xaxis, ax.yaxis}
        children = [a for a in ax.get_children() if a not in static and not a.get_animated()]
        if not (ax.axison and ax.get_frame_on()):
            spines = set(ax.spines.values())
            children = [a for a in children if a not in spines]
        axis_z = max(ax.xaxis.get_zorder(), ax.yaxis.get_zorder()) if ax.axison else -np.inf
        if any(a.get_zorder() <= axis_z for a in children if a.get_visible()):
            return None  # it would be drawn under the axis layer
        key.append((id(ax), tuple(ax.get_position().bounds), tuple(ax.get_xlim()), tuple(ax.get_ylim()),
                    ax.get_xscale(), ax.get_yscale(), ax.axison, ax.get_frame_on(), ax.get_axisbelow(),
                    str(ax.patch.get_facecolor()), ax.patch.get_visible()))
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                ticks = axis._update_ticks()  # what Axis.draw will draw: locations and formatted labels
                key.append((axis.get_visible(), _text_key(axis.label, placed=axis._autolabelpos), axis.get_label_position(),
                            repr(axis._major_tick_kw), repr(axis._minor_tick_kw), axis.major.formatter.get_offset(),
                            _text_key(axis.offsetText, placed=True), *(_tick_key(t) for t in ticks)))
        dynamic.append((ax, sorted(children, key=lambda a: a.get_zorder())))
    dynamic.append((None, sorted((t for t in fig.texts if not t.get_animated()), key=lambda a: a.get_zorder())))
    return tuple(key), dynamic


def _draw_on_kept_background(canvas) -> None:
    """Draw a ``fast_axes`` frame: the static layer from the last frame when nothing in it changed, then the
    dynamic artists on top. About three quarters of a redraw is the static layer (ticks, labels, grid)."""
    fig = canvas.figure
    with fig._render_lock:  # the lock Figure.draw takes (re-entrant): one frame at a time per figure
        layers = _static_layers(fig)
        if layers is None:
            canvas._course_background = None
            canvas.draw()
            return
        key, dynamic = layers
        kept = getattr(canvas, "_course_background", None)
        if kept is not None and kept[0] == key and kept[2] == canvas.get_width_height(physical=True):
            renderer = canvas.get_renderer()
            renderer.restore_region(kept[1])
        else:
            shown = [a for _, arts in dynamic for a in arts if a.get_visible()]
            for a in shown:
                a.set_visible(False)
            try:
                canvas.draw()
            finally:
                for a in shown:
                    a.set_visible(True)
            renderer = canvas.get_renderer()
            canvas._course_background = (key, renderer.copy_from_bbox(fig.bbox), canvas.get_width_height(physical=True))
        for ax, arts in dynamic:  # in Figure.draw's order: each axes' artists by zorder, then the figure's texts
            if ax is not None:
                ax._update_title_position(renderer)
            for a in arts:
                a.draw(renderer)
        fig.stale = False


def encode_png(rgba, level: int = 1) -> bytes:
    """A truecolour PNG of the RGB channels of an ``(h, w, 3 or 4)`` uint8 array: no row filters, zlib ``level``.

    About twice as fast as PIL's encoder at level 1 for a dashboard frame (PIL filters every row) and a
    little larger (about 40 kB for a 1000 x 340 plot); decodes to exactly the same pixels.
    """
    import struct
    import zlib

    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise ValueError(f"rgba must be a uint8 array of shape (h, w, 3 or 4), got {rgba.dtype} {rgba.shape}")
    h, w = rgba.shape[:2]
    rows = np.zeros((h, 1 + 3 * w), np.uint8)  # a 0 byte (filter: none) before every row
    rows[:, 1:].reshape(h, w, 3)[...] = rgba[..., :3]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + chunk(b"IEND", b""))


def slider(value, min, max, step, *, description: str | None = None, integer: bool = False, log: bool = False):
    """A slider that only fires on release (``continuous_update=False``).

    ``value`` must lie in [min, max] and ``step`` must be > 0 (for ``log``, min and max are exponents of 10).
    """
    from .._checks import check_slider_spec

    check_slider_spec(description or "slider", value, min, max, step, log=log)
    kw = dict(value=value, min=min, max=max, step=step, continuous_update=False,
              style={"description_width": "initial"}, layout=W.Layout(width="420px"))
    if description:
        kw["description"] = description
    if log:
        return W.FloatLogSlider(base=10, **kw)
    return (W.IntSlider if integer else W.FloatSlider)(**kw)


def _freeze_long_lived() -> None:
    """Collect garbage once, then exempt every object alive now from later full garbage collections.

    A full collection walks every object the kernel holds: 0.2-0.5 s once a notebook has loaded data, teachers and
    a few dashboards, and it would land inside a slider move now and then (``make bench`` saw such moves at
    0.3-0.5 s). The data, models and caches alive when a dashboard is built stay alive; ``gc.freeze`` moves them out
    of the collector's way, so later collections walk only what moves create. Objects frozen here are still freed
    when their last reference goes; only garbage cycles among them would wait.
    """
    import gc

    gc.collect()
    gc.freeze()


class DashboardError(RuntimeError):
    """Raised by ``wait``/``update`` when the dashboard's function failed."""


class Dashboard:
    def __init__(self, fn: Callable, controls: dict, *, render: Callable | None = None,
                 summary: Callable | None = None, figsize=(9, 3.2), title: str | None = None,
                 background: bool = True):
        self.fn, self.render, self.summary_fn = fn, render, summary
        self.figsize, self.background = figsize, background
        self.controls = {k: (v if isinstance(v, W.ValueWidget) else slider(*v, description=k))
                         for k, v in controls.items()}
        for name, w in self.controls.items():
            if not w.description:
                w.description = name
        self._accepts_progress = "progress" in inspect.signature(fn).parameters
        self.result = None
        self._fig = None  # the figure frames are drawn on, kept between moves (see _draw)
        self.error: BaseException | None = None
        self.runs = 0
        self.last_seconds = None
        self._lock = threading.Lock()
        self._pending = None
        self._worker: threading.Thread | None = None
        self._running = False
        self._idle = threading.Event()
        self._idle.set()

        self.title = W.HTML(f"<b>{html.escape(title)}</b>" if title else "")
        self.status = W.HTML("")
        self.status.add_class("course-status")
        self.bar = W.FloatProgress(value=0, min=0, max=1, layout=W.Layout(visibility="hidden", width="420px"))
        self.summary = W.HTML("")
        self.summary.add_class("course-summary")
        self.dpi = min(DPI, MAX_WIDTH_PX / figsize[0])
        width_px = int(round(figsize[0] * self.dpi))
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width_px}px", max_width="100%", height="auto"))
        self.widget = W.VBox([self.title, *self.controls.values(), W.HBox([self.status, self.bar]),
                              self.summary, self.image])
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self._compute(self.values)  # first result, synchronously
        _freeze_long_lived()
        if self.error is not None:
            raise DashboardError(f"the dashboard's function failed on its initial values: {self.error!r}") from self.error

    # ------------------------------------------------------------------ public
    @property
    def values(self) -> dict:
        return {k: w.value for k, w in self.controls.items()}

    def update(self, **values):
        """Set sliders and compute synchronously; returns the result (raises on error)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this dashboard has {sorted(self.controls)}")
        self.wait()
        bg, self.background = self.background, False
        try:
            for k, v in values.items():
                self.controls[k].value = v  # observers see background=False and do nothing
        finally:
            self.background = bg
        self._compute(self.values)
        self._raise_error()
        return self.result

    def wait(self, timeout: float = 120.0):
        """Block until the worker is idle; re-raise an error from the last run."""
        if not self._idle.wait(timeout):
            raise TimeoutError(f"dashboard still computing after {timeout:g} s")
        self._raise_error()
        return self.result

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    # ---------------------------------------------------------------- internal
    def _raise_error(self):
        if self.error is not None:
            raise DashboardError(f"{type(self.error).__name__}: {self.error}") from self.error

    def _on_change(self, change):
        if not self.background:
            return  # update() computes once after setting every value
        with self._lock:
            self._pending = self.values
            if self._running:
                return  # the running worker will pick the latest values up
            self._running = True
            self._idle.clear()
            self._worker = threading.Thread(target=self._work, daemon=True)
            self._worker.start()

    def _work(self):
        while True:
            with self._lock:
                values, self._pending = self._pending, None
                if values is None:
                    self._running = False
                    self._idle.set()
                    return
            self._compute(values)

    def _new_figure(self):
        # Fixed margins: constrained/tight layout would cost more than the drawing itself.
        fig = Figure(figsize=self.figsize, dpi=self.dpi)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.88, wspace=0.3, hspace=0.45)
        return fig

    def _draw(self, result):
        """Render ``result`` on the dashboard's figure, recycling the axes of the last frame when it can.

        A render that lays its axes out with ``plots.fast_axes`` gets them back emptied on the next move; a
        render that did not (or stopped doing so) draws on a new figure, so a frame never shows stale axes.
        """
        fig = self._fig
        recycled = fig is not None
        if fig is None:
            fig = self._new_figure()
        fig._course_claimed = False
        self.render(result, fig)
        if not fig._course_claimed:
            if recycled:  # axes of the last frame may still be there: draw this one afresh
                fig = self._new_figure()
                self.render(result, fig)
            self._fig = None  # this render does not use fast_axes: a new figure every move
            return fig
        self._fig = fig
        return fig

    def _compute(self, values):
        self.status.value = "<i>computing…</i>"
        t0 = time.perf_counter()
        kwargs = dict(values)
        if self._accepts_progress:
            def progress(frac):
                if time.perf_counter() - t0 > PROGRESS_AFTER_S:
                    self.bar.layout.visibility = "visible"
                self.bar.value = max(0.0, min(1.0, float(frac)))
            kwargs["progress"] = progress
        try:
            result = self.fn(**kwargs)
            png = None
            if self.render is not None:
                png = png_bytes(self._draw(result))
            text = self.summary_fn(result) if self.summary_fn else ""
        except Exception as exc:  # shown, kept, and re-raised by wait()/update()
            self.error = exc
            tb = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.status.value = f"<span style='color:#b00'><b>error:</b> {html.escape(tb)}</span>"
            self.bar.layout.visibility = "hidden"
            return
        self.error = None
        self.result = result
        if png is not None:
            self.image.value = png
        self.summary.value = text
        self.runs += 1
        self.last_seconds = time.perf_counter() - t0
        self.bar.layout.visibility = "hidden"
        self.status.value = f"<small>updated in {self.last_seconds:.2f} s</small>"
