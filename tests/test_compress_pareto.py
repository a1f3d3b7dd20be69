"""Pareto fronts: domination, masks, senses, errors; the plot helper in ui.plots."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.compress import pareto
from course_lib.ui import pareto_plot as plots


def test_front_mask_min_max():
    # (bytes: min, accuracy: max)
    pts = [(10, 0.90), (20, 0.95), (30, 0.94), (10, 0.85), (40, 0.97)]
    assert pareto.front_mask(pts, ("min", "max")).tolist() == [True, True, False, False, True]
    assert pareto.dominators(pts, ("min", "max"), 2) == [1]
    assert pareto.dominates((10, 0.9), (10, 0.85), ("min", "max"))
    assert not pareto.dominates((10, 0.9), (10, 0.9), ("min", "max"))  # equal points do not dominate


def test_ties_both_stay_and_three_objectives():
    assert pareto.front_mask([(1, 1), (1, 1)], ("min", "min")).all()
    pts = np.array([[1, 5, 0.9], [2, 1, 0.9], [2, 5, 0.8], [1, 1, 0.7]])
    assert pareto.front_mask(pts, ("min", "min", "max")).tolist() == [True, True, False, True]


def test_errors():
    with pytest.raises(ValueError, match="points"):
        pareto.front_mask([1, 2, 3], ("min",))
    with pytest.raises(ValueError, match="points"):
        pareto.front_mask([(1, np.nan)], ("min", "max"))
    with pytest.raises(ValueError, match="senses"):
        pareto.front_mask([(1, 2)], ("min",))
    with pytest.raises(ValueError, match="senses"):
        pareto.front_mask([(1, 2)], ("min", "up"))
    with pytest.raises(ValueError, match="i must be"):
        pareto.dominators([(1, 2)], ("min", "max"), 3)


def _plot(ax, x, y, labels, **kw):
    front = pareto.front_mask(np.column_stack([x, y]), ("min", "max")) if len(x) == len(y) else [True] * len(x)
    plots.pareto_front(ax, x, y, labels, front, **kw)
    return np.asarray(front)


def test_plot_front():
    fig, ax = plt.subplots()
    mask = _plot(ax, [1, 2, 3], [0.5, 0.9, 0.8], ["a", "b", "c"], title="t", xlabel="x (B)", ylabel="y (%)")
    assert mask.tolist() == [True, True, False]
    assert ax.get_title() == "t" and ax.get_xlabel() == "x (B)"
    with pytest.raises(ValueError, match="same length"):
        plots.pareto_front(ax, [1, 2], [1], ["a"], [True, True], title="t", xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="groups"):
        _plot(ax, [1, 2], [1, 2], ["a", "b"], groups=["g"], title="t", xlabel="x", ylabel="y")
    fig2, ax2 = plt.subplots()  # a point below the floor is drawn on it; the front uses true values
    mask = _plot(ax2, [1, 2, 3], [10, 90, 80], [1, 2, 3], groups=["a", "b", "b"], floor=50, title="t",
                 xlabel="x", ylabel="y")
    assert mask.tolist() == [True, True, False]
    assert any(t.get_text() == "1 (10)" for t in ax2.texts)
    plt.close(fig2)
    plt.close(fig)
