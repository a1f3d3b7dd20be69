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


@pytest.mark.parametrize("name,mod", LABS, ids=[n.replace("course_lib.labs.", "") for n, _ in LABS])
def test_dashboard_builds_and_a_move_recomputes(name, mod):
    import numpy as np

    dash = mod.dashboard()
    assert dash.controls, f"{name}: a dashboard with no control"
    assert dash.result is not None and dash.error is None
    assert dash.image.value or dash.summary.value, f"{name}: nothing drawn or summarised"
    runs = dash.runs
    rng = np.random.default_rng(0)
    for key, widget in dash.controls.items():
        values = bench.positions(widget, 1, rng)
        if values:
            dash.update(**{key: values[0]})
            assert dash.values[key] == values[0] and dash.runs == runs + 1
            break
    else:
        pytest.fail(f"{name}: no control can be moved")
    for attr in ("setup", "run", "render", "summary"):
        assert callable(getattr(mod, attr, None)), f"{name} lacks {attr}()"
