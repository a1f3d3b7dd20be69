"""course_lib.reliability.uncertainty: bootstrap resamples, percentile intervals, interval fidelity."""
import numpy as np
import pytest

from course_lib.reliability import uncertainty as unc


def test_bootstrap_indices_are_seeded_and_in_range():
    a = unc.bootstrap_indices(20, 5, seed=3)
    assert a.shape == (5, 20) and a.min() >= 0 and a.max() < 20
    assert np.array_equal(a, unc.bootstrap_indices(20, 5, seed=3))
    assert not np.array_equal(a, unc.bootstrap_indices(20, 5, seed=4))
    state = np.random.get_state()[1].copy()
    unc.bootstrap_indices(20, 5, seed=3)
    assert np.array_equal(state, np.random.get_state()[1])  # the global stream is untouched


def test_percentile_intervals_values():
    samples = np.arange(101, dtype=float)[:, None] * np.array([[1.0, 2.0]])
    lo, hi = unc.percentile_intervals(samples, 0.9)
    assert np.allclose(lo, [5, 10]) and np.allclose(hi, [95, 190])


def test_coverage():
    assert unc.coverage([0.5, 2.0, 1.0], [0, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)


def test_interval_fidelity_identical_and_scaled():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(50, 30)) * rng.uniform(0.1, 2, size=30)
    f = unc.interval_fidelity(t, t)
    assert f["coverage"] == 1.0 and f["width_ratio"] == pytest.approx(1.0) and f["spearman"] == pytest.approx(1.0)
    g = unc.interval_fidelity(0.5 * t, t)
    assert g["width_ratio"] == pytest.approx(0.5) and g["spearman"] == pytest.approx(1.0)
    shifted = unc.interval_fidelity(t + 100, t)
    assert shifted["coverage"] == 0.0


def test_constant_widths_give_nan_correlation():
    s = np.vstack([np.zeros(4), np.ones(4)])
    assert np.isnan(unc.interval_fidelity(s, s)["spearman"])


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2])
def test_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        unc.percentile_intervals(np.zeros((3, 2)), level)


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="same examples"):
        unc.interval_fidelity(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="at least 2 members"):
        unc.percentile_intervals(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="one length"):
        unc.coverage([1, 2], [0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="low <= high"):
        unc.coverage([1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        unc.percentile_intervals(np.array([[np.nan], [1.0]]))
    with pytest.raises(ValueError, match="n_resamples"):
        unc.bootstrap_indices(10, 0)
