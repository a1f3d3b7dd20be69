import pytest
import torch

from course_lib.distill import forecasting as fc


def test_pinball_known_values():
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    # target above every prediction by 1: loss q * 1 for each level
    assert fc.pinball_loss(pred, torch.tensor([1.0])).item() == pytest.approx((0.1 + 0.5 + 0.9) / 3)
    # target below by 1: (1 - q) * 1
    assert fc.pinball_loss(pred, torch.tensor([-1.0])).item() == pytest.approx((0.9 + 0.5 + 0.1) / 3)
    # per-quantile targets equal to the prediction: zero
    assert fc.pinball_loss(pred, pred.clone()).item() == 0.0
    el = fc.pinball_loss(pred, torch.tensor([2.0]), reduction="none")
    assert torch.allclose(el, torch.tensor([[0.2, 1.0, 1.8]]))


def test_pinball_minimiser_is_the_quantile():
    y = torch.arange(1.0, 101.0)
    grid = torch.arange(1.0, 101.0)
    losses = torch.stack([fc.pinball_loss(torch.full((100, 1), float(c)), y, [0.9]) for c in grid])
    assert 89 <= grid[losses.argmin()] <= 91


def test_pinball_bad_input():
    with pytest.raises(ValueError, match="quantiles"):
        fc.pinball_loss(torch.zeros(2, 1), torch.zeros(2), [1.5])
    with pytest.raises(ValueError, match="target must have shape"):
        fc.pinball_loss(torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="last axis"):
        fc.pinball_loss(torch.zeros(2, 2), torch.zeros(2))
    with pytest.raises(TypeError, match="pred"):
        fc.pinball_loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2))
    with pytest.raises(ValueError, match="reduction"):
        fc.pinball_loss(torch.zeros(2, 3), torch.zeros(2), reduction="sum")


def test_make_windows():
    X, Y = fc.make_windows(torch.arange(10.0), 3, 2)
    assert X.shape == (6, 3) and Y.shape == (6, 2)
    assert X[1].tolist() == [1, 2, 3] and Y[1].tolist() == [4, 5]
    with pytest.raises(ValueError, match="too short"):
        fc.make_windows(torch.arange(4.0), 3, 2)
    with pytest.raises(ValueError, match="lookback"):
        fc.make_windows(torch.arange(10.0), 0, 2)


def test_models_shapes_and_causality():
    x = torch.randn(5, 24)
    t = fc.TransformerForecaster(24, 6, 3, d_model=16, seed=0)
    assert t(x).shape == (5, 6, 3)
    s = fc.TCNForecaster(24, 6, 3, seed=0)
    assert s(x).shape == (5, 6, 3)
    assert s.receptive_field == 16
    x2 = x.clone()
    x2[:, :8] += 100.0  # outside the receptive field: no effect
    assert torch.allclose(s(x), s(x2))
    # same seed, same weights; the global RNG is untouched
    state = torch.random.get_rng_state()
    a, b = fc.TCNForecaster(24, 6, seed=3), fc.TCNForecaster(24, 6, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="n_heads"):
        fc.TransformerForecaster(24, 6, d_model=15, n_heads=2)
    with pytest.raises(ValueError, match="channels"):
        fc.TCNForecaster(24, 6, channels=0)


def test_fit_and_errors():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 16, generator=g)
    Y = X[:, -1:].repeat(1, 4)  # future = last value
    m = fc.TCNForecaster(16, 4, seed=0)
    before = fc.horizon_errors(fc.predict_quantiles(m, X), Y)["mae"].mean()
    fc.fit_forecaster(m, X, Y=Y, epochs=150, lr=1e-2)
    p = fc.predict_quantiles(m, X)
    assert (p.diff(dim=-1) >= 0).all()
    err = fc.horizon_errors(p, Y, scale=2.0)
    assert err["mae"].shape == (4,) and err["pinball"].shape == (4,)
    assert err["mae"].mean() / 2 < 0.5 * before
    # distilling from a teacher's quantiles moves the student towards them
    tq = fc.predict_quantiles(m, X)
    s = fc.TCNForecaster(16, 4, seed=1)
    fc.fit_forecaster(s, X, teacher_q=tq, weight=1.0, epochs=150)
    assert fc.pinball_loss(fc.predict_quantiles(s, X), tq).item() < 0.1


def test_fit_bad_input():
    X = torch.randn(4, 8)
    m = fc.TCNForecaster(8, 2, dilations=(1, 2))
    with pytest.raises(ValueError, match="weight"):
        fc.fit_forecaster(m, X, Y=torch.zeros(4, 2), weight=1.5)
    with pytest.raises(ValueError, match="Y"):
        fc.fit_forecaster(m, X, weight=0.5, teacher_q=torch.zeros(4, 2, 3))
    with pytest.raises(ValueError, match="teacher_q"):
        fc.fit_forecaster(m, X, Y=torch.zeros(4, 2), weight=0.5)
