"""gradvar.scaled_objective and gradvar.relative_distance: the loss-scale experiments of notebook 1.10."""
import copy

import pytest
import torch

from course_lib import models, train
from course_lib.distill import gradvar


def _setup():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 5, generator=g)
    t = torch.randn(64, 3, generator=g) * 3
    return models.mlp(5, (6,), 3, seed=0), X, t


def test_scaled_objective_multiplies_only_the_loss():
    model, X, t = _setup()
    obj = train.kd_objective(X, None, t, T=4.0, alpha=1.0)
    idx = torch.arange(10)
    base, scaled = obj(model, idx), gradvar.scaled_objective(obj, 8.0)(model, idx)
    assert torch.allclose(scaled["loss"], 8.0 * base["loss"])
    assert torch.allclose(scaled["soft"], base["soft"])
    with pytest.raises(ValueError, match="c must be > 0"):
        gradvar.scaled_objective(obj, 0.0)


def _run(init, obj, optimizer, lr, c):
    m = copy.deepcopy(init)
    train.fit(m, gradvar.scaled_objective(obj, c), 64, epochs=5, lr=lr, batch_size=16, seed=3, optimizer=optimizer)
    return m


def test_loss_scale_is_a_learning_rate_for_sgd_and_almost_nothing_for_adam():
    init, X, t = _setup()
    obj = train.kd_objective(X, None, t, T=8.0, alpha=1.0, scale_t2=False)
    # SGD (momentum, no weight decay) is linear in the gradient: loss x 64 == learning rate x 64 (powers of two: exact)
    s64, s_lr = _run(init, obj, "sgd", 0.05, 64.0), _run(init, obj, "sgd", 0.05 * 64, 1.0)
    assert gradvar.relative_distance(s_lr, s64, init) < 1e-5
    assert gradvar.relative_distance(_run(init, obj, "sgd", 0.05, 1.0), s64, init) > 0.5
    # Adam divides the scale out, up to its eps
    a1, a64 = _run(init, obj, "adam", 1e-2, 1.0), _run(init, obj, "adam", 1e-2, 64.0)
    assert gradvar.relative_distance(a1, a64, init) < 0.05


def test_relative_distance_values_and_errors():
    start = models.mlp(2, (2,), 2, seed=0)
    b = copy.deepcopy(start)
    with torch.no_grad():
        for p in b.parameters():
            p.add_(1.0)
    a = copy.deepcopy(b)
    with torch.no_grad():
        next(a.parameters()).add_(0.5)  # fc1.weight, 4 entries moved by 0.5: distance 1.0
    n = sum(p.numel() for p in start.parameters())
    assert gradvar.relative_distance(a, b, start) == pytest.approx(1.0 / n ** 0.5, rel=1e-5)
    assert gradvar.relative_distance(b, b, start) == 0.0
    with pytest.raises(ValueError, match="did not move"):
        gradvar.relative_distance(a, start, start)
    with pytest.raises(ValueError, match="same parameters"):
        gradvar.relative_distance(models.mlp(3, (2,), 2, seed=0), b, start)
