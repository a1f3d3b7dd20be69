"""Labs B4-B7 (ch3_04-ch3_07): each builds, answers a move, draws, summarises, and names bad input."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.labs.ch3 import dataset_distill, imbalance, spurious, tradeoff


def _draw(mod, result):
    fig = Figure(figsize=(10, 3.6))
    mod.render(result, fig)
    assert fig.axes and all(ax.get_title() for ax in fig.axes[:2])
    assert isinstance(mod.summary(result), str) and mod.summary(result)


def test_imbalance_run_and_weights_help_the_tail():
    s = imbalance.setup(0)
    r0 = imbalance.run(s, beta=0.0)
    r1 = imbalance.run(s, beta=1.0)
    assert r0["weighted"]["tail"] == r0["kd"]["tail"]          # beta = 0 is plain KD
    assert r1["weighted"]["tail"] > r0["kd"]["tail"]
    assert len(r1["weighted"]["recall"]) == 10 and np.all(np.asarray(r1["weighted"]["ece"]) >= 0)
    _draw(imbalance, r1)
    with pytest.raises(ValueError, match="beta"):
        imbalance.run(imbalance.setup(0), beta=-1)
    with pytest.raises(ValueError, match="teacher"):
        imbalance.setup(0, teacher="oracle")


def test_spurious_run_and_render():
    s = spurious.setup(0)
    r = spurious.run(s, 1.0)
    assert r["rho"] == 1.0 and len(r["curve_student"]) == len(spurious.RHOS)
    assert r["labels"]["follows_cue"] < r["kd_biased"]["follows_cue"]
    _draw(spurious, r)
    assert spurious.run(s, 0.93)["rho"] == 0.95   # snaps to the nearest trained teacher
    with pytest.raises(ValueError, match="rho"):
        spurious.teacher(s, 0.42)


def test_dataset_distill_run_and_mosaic():
    s = dataset_distill.setup(0)
    r = dataset_distill.run(s, 1)
    assert r["images"].shape == (10, 64) and 0 < r["step"] < 1
    assert 0 <= r["learned"] <= 1 and len(r["curve"]["learned"]) == len(dataset_distill.IPCS)
    m = dataset_distill.mosaic(r["images"], r["labels"], 1)
    assert m.shape == (10 * 9, 9)
    _draw(dataset_distill, r)
    with pytest.raises(ValueError, match="ipc"):
        dataset_distill.learned(s, 4)


def test_tradeoff_table_and_render():
    s = tradeoff.build(0)
    tradeoff.time_all(s, repeats=3)
    tab = tradeoff.table(s)
    assert tab["teacher"]["smaller"] == 0 and tab["teacher"]["kept"] == 1
    assert tab["KD 32-32"]["bytes"] < tab["teacher"]["bytes"] / 10
    assert set(tab) == set(s.models) and "line_b1" in tab["pruned 90%"]
    _draw(tradeoff, tradeoff.run(s, "KD 16-16"))
    with pytest.raises(ValueError, match="student"):
        tradeoff.run(s, "KD 7-7")
