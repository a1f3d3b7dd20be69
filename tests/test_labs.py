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



@pytest.mark.parametrize("T,alpha,labels", [(4.0, 0.9, True), (1.0, 0.0, True), (7.5, 1.0, True), (2.0, 1.0, False)])
def test_ch1_kd_objective_trains_the_same_weights_as_train_distilled(T, alpha, labels):
    """The chapter-1 labs' cached-teacher objective is train.kd_objective's loss, to the bit."""
    import torch

    from course_lib import models, train
    from course_lib.labs.ch1 import kd_objective
    from course_lib.losses import kd_kl

    g = torch.Generator().manual_seed(0)
    X, t = torch.randn(40, 6, generator=g), torch.randn(40, 4, generator=g) * 3
    y = torch.randint(0, 4, (40,), generator=g)
    ref, fast = (models.mlp(6, (8,), 4, seed=1) for _ in range(2))
    if labels:
        train.train_distilled(ref, X, y, t, T=T, alpha=alpha, epochs=15, lr=5e-2, seed=0)
    else:  # soft targets only: losses.kd_kl alone
        train.fit(ref, lambda m, idx: {"loss": kd_kl(m(X[idx]), t[idx], T=T)}, len(X), epochs=15, lr=5e-2, seed=0)
    train.fit(fast, kd_objective(X, y if labels else None, t, T=T, alpha=alpha), len(X), epochs=15, lr=5e-2, seed=0)
    for p, q in zip(ref.parameters(), fast.parameters()):
        assert torch.equal(p, q)


def test_ch1_kd_objective_rejects_bad_input():
    import torch

    from course_lib.labs.ch1 import kd_objective

    X, y, t = torch.zeros(5, 3), torch.zeros(5, dtype=torch.long), torch.zeros(5, 2)
    with pytest.raises(ValueError, match="T"):
        kd_objective(X, y, t, T=0.0, alpha=0.5)
    with pytest.raises(ValueError, match="alpha"):
        kd_objective(X, y, t, T=2.0, alpha=1.5)
    with pytest.raises(ValueError, match="labels are needed"):
        kd_objective(X, None, t, T=2.0, alpha=0.5)
    with pytest.raises(ValueError, match="same number of rows"):
        kd_objective(X, y, t[:4], T=2.0, alpha=0.5)
