"""Every lab under course_lib/labs/ builds its dashboard with its defaults and answers a slider move.

These are the dashboards the notebooks show and `make bench` times (found the same way, by
benchmarks/run.py), so a lab that breaks fails here, not in front of a learner.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

LABS = list(bench.lab_modules())


def test_bench_finds_every_lab_module():
    on_disk = {f"course_lib.labs.{p.parent.name}.{p.stem}" for p in (ROOT / "course_lib" / "labs").glob("ch*/*.py")
               if p.stem != "__init__"}
    found = {name for name, _ in LABS}
    assert found == on_disk, f"lab modules without a dashboard(): {sorted(on_disk - found)}"


def _pixels(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("name,mod", LABS, ids=[n.replace("course_lib.labs.", "") for n, _ in LABS])
def test_dashboard_builds_moves_and_recycles_its_figure(name, mod):
    """Every lab's dashboard builds with its defaults, and each control's move recomputes.

    Dashboards draw every move on the figure of the last one (plots.fast_axes recycles its axes).

    After a move of each control in turn, the frame shown must be pixel-identical to the same result
    drawn on a new figure by matplotlib's stock Agg canvas: nothing of the previous frame (a legend entry, a
    colour, a limit, a tick label, an extra axes) may leak into the next, and the dashboard's fast path
    (kept canvas, cached glyphs, the static layer of the last frame kept while it does not change, its own PNG
    encoder; see tests/test_fast_render.py) changes no pixel.
    """
    import numpy as np

    from course_lib.ui.widgets import png_bytes

    dash = mod.dashboard(background=False)
    assert dash.controls, f"{name}: a dashboard with no control"
    assert dash.result is not None and dash.error is None
    assert dash.image.value or dash.summary.value, f"{name}: nothing drawn or summarised"
    for attr in ("setup", "run", "render", "summary"):
        assert callable(getattr(mod, attr, None)), f"{name} lacks {attr}()"
    rng = np.random.default_rng(1)
    moved = 0
    for key, widget in dash.controls.items():
        # two moves of each control: the second may find the static layer of the first unchanged and draw on it
        for value in bench.positions(widget, 2, rng):
            runs = dash.runs
            dash.update(**{key: value})
            assert dash.values[key] == value and dash.runs == runs + 1
            moved += 1
            if dash.render is None:
                continue
            fresh = dash._new_figure()
            dash.render(dash.result, fresh)
            shown, expected = _pixels(dash.image.value), _pixels(png_bytes(fresh, stock=True))
            assert shown.shape == expected.shape, (f"{name}: frame size {shown.shape} after moving {key}, new figure "
                                                   f"{expected.shape}")
            diff = np.argwhere((shown != expected).any(-1))
            assert diff.size == 0, (f"{name}: after moving {key!r} to {value!r} the recycled frame differs from a new "
                                    f"one in {len(diff)} pixels (first at row, col {tuple(diff[0])})")
    assert moved, f"{name}: no control can be moved"
    if dash.render is not None:  # shown at exactly its pixel size, and no wider than JupyterLab's output area
        from course_lib.ui.widgets import MAX_WIDTH_PX

        width = _pixels(dash.image.value).shape[1]
        assert width == int(dash.image.layout.width.rstrip("px")) <= MAX_WIDTH_PX, (
            f"{name}: a {width} px frame shown at {dash.image.layout.width}")
