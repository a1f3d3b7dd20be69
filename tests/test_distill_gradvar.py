"""Per-example gradients, mini-batch variance, log-log fits and the iso-variance temperature."""
import numpy as np
import pytest
import torch

from course_lib import losses, models
from course_lib.distill import gradvar


def _setup(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, generator=g)
    t = torch.randn(n, 3, generator=g) * 3
    return models.mlp(5, (4,), 3, seed=seed), X, t


def test_per_example_grads_match_autograd():
    model, X, t = _setup()
    G = gradvar.per_example_grads(model, X, t, T=2.0)
    n_params = sum(p.numel() for p in model.parameters())
    assert G.shape == (40, n_params)
    for i in (0, 17):
        model.zero_grad()
        losses.kd_kl(model(X[i:i + 1]), t[i:i + 1], T=2.0).backward()
        ref = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        assert torch.allclose(G[i], ref, atol=1e-5)
    # the mean of per-example gradients is the full-batch gradient (batchmean)
    model.zero_grad()
    losses.kd_kl(model(X), t, T=2.0).backward()
    full = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert torch.allclose(G.mean(0), full, atol=1e-5)


def test_minibatch_variance_matches_theory():
    g = torch.Generator().manual_seed(1)
    G = torch.randn(200, 6, generator=g)
    for B in (1, 4, 16):
        measured = gradvar.minibatch_variance(G, B, n_draws=20000, seed=2)
        assert measured == pytest.approx(gradvar.exact_variance(G, B), rel=0.05)


def test_unscaled_gradient_variance_falls_like_T_to_minus_4_at_high_T():
    model, X, t = _setup(n=60)
    v = [gradvar.exact_variance(gradvar.per_example_grads(model, X, t, T=T, scale_t2=False), 8)
         for T in (40.0, 80.0, 160.0)]
    fit = gradvar.fit_loglog([40, 80, 160], v)
    assert fit["slope"] == pytest.approx(-4.0, abs=0.1)


def test_variance_grid_shape():
    model, X, t = _setup()
    V = gradvar.variance_grid(model, X, t, [2.0, 4.0], [2, 4, 8], n_draws=50)
    assert V.shape == (2, 3) and (V > 0).all()


def test_fit_loglog_known_power_law():
    x = np.array([1, 2, 4, 8, 16.0])
    fit = gradvar.fit_loglog(x, 3 * x ** -0.25)
    assert fit["slope"] == pytest.approx(-0.25, abs=1e-9)
    assert fit["intercept"] == pytest.approx(np.log(3), abs=1e-9)
    assert fit["se"] < 1e-9 and fit["r2"] == pytest.approx(1.0)
    noisy = 3 * x ** -0.25 * np.exp(np.array([0.01, -0.02, 0.015, -0.01, 0.005]))
    assert gradvar.fit_loglog(x, noisy)["se"] > 0


def test_iso_variance_temperature_inverts_a_power_law():
    Ts = np.array([2, 4, 8, 16.0])
    v = 5 * Ts ** -4.0
    assert gradvar.iso_variance_temperature(Ts, v, 5 * 6.0 ** -4) == pytest.approx(6.0, rel=1e-9)


def test_bootstrap_slope():
    x = np.array([1, 2, 4, 8, 16, 32.0])
    out = gradvar.bootstrap_slope(x, x ** -0.25, n_boot=200)
    assert out["mean"] == pytest.approx(-0.25, abs=1e-9)
    assert out["ci95"][0] <= -0.25 <= out["ci95"][1]


def test_errors():
    model, X, t = _setup()
    with pytest.raises(ValueError, match="T must be > 0"):
        gradvar.per_example_grads(model, X, t, T=0.0)
    with pytest.raises(ValueError, match="same number of rows"):
        gradvar.per_example_grads(model, X, t[:5], T=1.0)
    with pytest.raises(ValueError, match="B must be in"):
        gradvar.minibatch_variance(torch.zeros(5, 2), 0)
    with pytest.raises(ValueError, match="2-D"):
        gradvar.minibatch_variance(torch.zeros(5), 2)
    with pytest.raises(ValueError, match=">= 3"):
        gradvar.fit_loglog([1, 2], [1, 2])
    with pytest.raises(ValueError, match="must be > 0"):
        gradvar.fit_loglog([1, 2, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="target must lie"):
        gradvar.iso_variance_temperature([1, 2, 4], [1.0, 0.5, 0.25], 10.0)
    with pytest.raises(ValueError, match="decrease"):
        gradvar.iso_variance_temperature([1, 2, 4], [1.0, 2.0, 0.25], 0.5)


def test_minibatch_variance_in_chunks_matches_one_gather():
    G = torch.randn(50, 7, generator=torch.Generator().manual_seed(0))
    idx = torch.randint(0, 50, (300, 4), generator=torch.Generator().manual_seed(3))
    direct = float(((G[idx].mean(1) - G.mean(0)) ** 2).sum(-1).mean())
    assert gradvar.minibatch_variance(G, 4, n_draws=300, seed=3) == pytest.approx(direct, rel=1e-5)
