"""ch4_06: the distillation weight is chosen on the validation windows, never on the test windows."""
import pytest
import torch

from course_lib.labs.ch4 import forecasting as lab


def test_choose_weight_uses_validation_only(monkeypatch):
    seen = []
    real = lab.fc.predict_quantiles

    def spy(model, X):
        seen.append(X)
        return real(model, X)

    w = lab.windows("seasonal")
    monkeypatch.setattr(lab.fc, "predict_quantiles", spy)
    lab.choose_weight.cache_clear()
    best, scores = lab.choose_weight(0, "seasonal")
    lab.choose_weight.cache_clear()
    assert best in lab.WEIGHTS and set(scores) == set(lab.WEIGHTS)
    assert scores[best] == min(scores.values())
    test_X = w.X[w.test]
    assert not any(X.shape == test_X.shape and torch.equal(X, test_X) for X in seen)  # no test window is scored
    assert any(X.shape == w.X[w.val].shape and torch.equal(X, w.X[w.val]) for X in seen)


def test_setup_uses_the_chosen_weight():
    s = lab.setup(0, "seasonal")
    best, scores = lab.choose_weight(0, "seasonal")
    assert s.weight == best and s.val == scores
    assert lab.setup(0, "seasonal", weight=0.5).weight == 0.5


@pytest.mark.parametrize("kw, match", [({"series": "nile"}, "series"), ({"fraction": 0.0}, "fraction")])
def test_choose_weight_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        lab.choose_weight(**{"seed": 0, **kw})
