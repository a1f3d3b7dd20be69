"""The D12 sweep, FLOP counting and slider function."""
import numpy as np
import pytest

from course_lib import landscape, models


def test_sweep_shapes_and_alpha_zero_shared():
    r = landscape.sweep([1.0, 4.0], [0.0, 0.9], [8], [0], epochs=10)
    assert r["acc"].shape == (1, 2, 2, 1) and r["scratch"].shape == (1, 1)
    assert r["acc"][0, 0, 0, 0] == r["acc"][0, 1, 0, 0]  # alpha = 0 trained once, same for every T
    assert r["n_runs"] == 3 + 1 and r["seconds_per_student"] > 0
    assert ((r["acc"] > 0) & (r["acc"] <= 1)).all()


def test_training_flops_known_value():
    m = models.mlp(4, (3,), 2)
    fwd = models.flops(m, (4,))
    assert fwd == 2 * 4 * 3 + 3 + 2 * 3 * 2 + 2
    assert landscape.training_flops(m, 4, 10, 5) == 3 * fwd * 10 * 5


def test_landscape_point_and_summary():
    r = landscape.landscape_point(width=8, alpha=0.9, T=4.0, epochs=10)
    assert r["params"] == 64 * 8 + 8 + 8 * 10 + 10
    assert 0 < r["scratch"] <= 1 and 0 < r["distilled"] <= 1
    assert "width 8" in landscape.summary(r)


def test_errors():
    with pytest.raises(ValueError, match="alpha must be in"):
        landscape.landscape_point(alpha=1.5, epochs=1)
    with pytest.raises(ValueError, match="width must be in"):
        landscape.landscape_point(width=0, epochs=1)
    with pytest.raises(ValueError, match="T must be > 0"):
        landscape.sweep([0.0], [0.5], [8], [0], epochs=1)
    with pytest.raises(ValueError, match="epochs must be in"):
        landscape.training_flops(models.mlp(4, (3,), 2), 4, 10, -1)
