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
from matplotlib.figure import Figure

PROGRESS_AFTER_S = 2.0
DPI = 100  # the PNG is shown at exactly its pixel size: sharp, never stretched


def png_bytes(fig) -> bytes:
    """Draw ``fig`` with Agg and encode it as a PNG, fast (light compression; redraws must stay cheap)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    buf = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB").save(
        buf, format="png", compress_level=1)
    return buf.getvalue()


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
        width_px = int(round(figsize[0] * DPI))
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width_px}px", max_width="100%", height="auto"))
        self.widget = W.VBox([self.title, *self.controls.values(), W.HBox([self.status, self.bar]),
                              self.summary, self.image])
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self._compute(self.values)  # first result, synchronously
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
        fig = Figure(figsize=self.figsize, dpi=DPI)
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
