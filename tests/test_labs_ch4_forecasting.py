import time

import numpy as np
import pytest

from course_lib.labs.ch4 import forecasting as lab


def test_series_load_offline():
    co2 = lab.load_series("co2")
    assert len(co2) > 500 and np.isfinite(co2).all() and 300 < co2.min() < co2.max() < 400
    s = lab.load_series("seasonal")
    assert len(s) == len(co2) and np.isfinite(s).all()
    with pytest.raises(ValueError, match="series"):
        lab.load_series("nile")


def test_windows_split_in_time():
    w = lab.windows("co2")
    assert w.train.max() < w.val.min() and w.val.max() < w.test.min()
    assert w.X.shape[1] == lab.LOOKBACK and w.Y.shape[1] == lab.HORIZON
    assert np.allclose(w.X[:, -1].numpy(), 0.0)


def test_lab_protocol_and_speed():
    import matplotlib
    matplotlib.use("Agg")
    d = lab.dashboard(seed=0, series="seasonal", background=False)
    r = d.result
    assert set(r["errors"]) == set(lab.MODELS)
    assert r["bands"]["teacher"].shape == (len(r["t"]), 3)
    assert "month" in lab.summary(r)
    times = []
    for h in range(1, 11):
        t0 = time.process_time()
        d.update(horizon=h)
        times.append(time.process_time() - t0)
    assert np.median(times) < 1.0  # CPU seconds per move (robust to a loaded machine); make bench measures the 0.15 s wall target
    with pytest.raises(ValueError, match="horizon"):
        lab.run(lab.setup(0, "seasonal"), horizon=13)
    with pytest.raises(ValueError, match="series"):
        lab.setup(0, "nile")
