"""Headless widget tests: a slider move runs the callback, latest value wins, errors surface."""
import threading
import time

import pytest

from course_lib.ui.widgets import Dashboard, DashboardError, slider


def test_slider_fires_only_on_release():
    s = slider(1.0, 0.0, 2.0, 0.1, description="x")
    assert s.continuous_update is False


def test_moving_a_slider_recomputes_in_background():
    calls = []

    def fn(x):
        calls.append(x)
        return {"y": 2 * x}

    d = Dashboard(fn, {"x": slider(1.0, 0.0, 10.0, 1.0)}, summary=lambda r: f"y = {r['y']}")
    assert d.result == {"y": 2.0} and "y = 2.0" in d.summary.value
    d.controls["x"].value = 3.0  # what a browser release does
    d.wait()
    assert d.result == {"y": 6.0} and calls[-1] == 3.0 and "y = 6.0" in d.summary.value


def test_latest_value_wins_and_runs_do_not_stack():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(x):
        calls.append(x)
        if x == 1.0:
            started.set()
            release.wait(5)
        return x

    d = Dashboard(slow, {"x": slider(0.0, 0.0, 10.0, 1.0)})
    d.controls["x"].value = 1.0
    assert started.wait(5)
    for v in (2.0, 3.0, 4.0, 5.0):  # a learner dragging fast while x=1 computes
        d.controls["x"].value = v
    release.set()
    assert d.wait() == 5.0
    assert calls == [0.0, 1.0, 5.0]  # 2, 3 and 4 were never computed


def test_exception_in_callback_is_shown_and_fails_wait():
    def fn(x):
        if x > 5:
            raise ValueError(f"x must be <= 5, got {x:g}")
        return x

    d = Dashboard(fn, {"x": slider(1.0, 0.0, 10.0, 1.0)})
    d.controls["x"].value = 7.0
    with pytest.raises(DashboardError, match="x must be <= 5, got 7"):
        d.wait()
    assert "x must be &lt;= 5, got 7" in d.status.value and "error" in d.status.value
    d.controls["x"].value = 2.0  # the next good value clears the error
    assert d.wait() == 2.0


def test_failing_initial_values_raise():
    with pytest.raises(DashboardError, match="initial values"):
        Dashboard(lambda x: 1 / 0, {"x": slider(1.0, 0.0, 2.0, 1.0)})


def test_progress_bar_appears_only_for_long_runs(monkeypatch):
    import course_lib.ui.widgets as w

    monkeypatch.setattr(w, "PROGRESS_AFTER_S", 0.05)

    def fn(x, progress):
        for i in range(3):
            time.sleep(0.04)
            progress((i + 1) / 3)
        return x

    d = Dashboard(fn, {"x": slider(1.0, 0.0, 2.0, 1.0)})
    seen = []
    d.bar.layout.observe(lambda ch: seen.append(ch["new"]), names="visibility")
    d.update(x=2.0)
    assert "visible" in seen and d.bar.layout.visibility == "hidden"


def test_update_rejects_unknown_controls():
    d = Dashboard(lambda x: x, {"x": slider(1.0, 0.0, 2.0, 1.0)})
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['y'\]"):
        d.update(y=1)


def test_building_a_dashboard_takes_what_is_alive_out_of_full_garbage_collections():
    import gc

    gc.unfreeze()
    long_lived = [[i] for i in range(10_000)]  # data a notebook holds before it builds a dashboard
    Dashboard(lambda x: x, {"x": slider(1.0, 0.0, 2.0, 0.5)}, background=False)
    assert gc.get_freeze_count() >= len(long_lived)
    gc.unfreeze()
