"""SVD factorization: exactness, energy, parameter and FLOP counts, errors."""
import pytest
import torch
from torch import nn

from course_lib import models
from course_lib.compress import lowrank as L


def test_factorize_linear_best_approximation():
    torch.manual_seed(0)
    layer = nn.Linear(20, 12)
    x = torch.randn(7, 20)
    full = L.factorize_linear(layer, 12)
    assert torch.allclose(full(x), layer(x), atol=1e-5)  # full rank: the same map
    s = L.spectrum(layer.weight)
    for r in (1, 3, 6):
        f = L.factorize_linear(layer, r)
        w_r = (f.expand.weight @ f.reduce.weight).detach()
        err = (w_r - layer.weight.detach()).pow(2).sum()
        assert torch.allclose(err, s[r:].pow(2).sum(), rtol=1e-4)  # Eckart-Young
        assert abs(L.energy_kept(s, r) - (1 - float(err) / float(s.pow(2).sum()))) < 1e-5
        assert f.reduce.weight.shape == (r, 20) and f.expand.weight.shape == (12, r)
        assert torch.linalg.matrix_rank(w_r.detach()) == r


def test_counts():
    assert L.lowrank_params(300, 100, 10) == 10 * 400 + 300
    assert L.lowrank_params(300, 100, 10, bias=False) == 4000
    assert L.dense_params(300, 100) == 30300
    assert L.lowrank_flops(300, 100, 10) == 2 * 10 * 400
    assert L.dense_flops(300, 100) == 60000
    assert L.break_even_rank(300, 100) == 75.0
    m = models.mlp(64, (32,), 10, seed=0)
    f = L.factorize(m, {"fc1": 4})
    assert models.count_params(f) == L.lowrank_params(32, 64, 4) + 32 * 10 + 10
    assert models.flops(f, (64,)) == models.flops(m, (64,)) - 2 * 32 * 64 + 2 * 4 * 96
    assert isinstance(m.fc1, nn.Linear)  # the original is not modified


def test_rank_for_energy():
    s = torch.tensor([3.0, 2.0, 1.0, 0.0])
    assert L.rank_for_energy(s, 9 / 14) == 1
    assert L.rank_for_energy(s, 0.7) == 2
    assert L.rank_for_energy(s, 1.0) == 3


def test_bad_input():
    layer = nn.Linear(8, 5)
    for bad in (0, 6, -1, 2.5):
        with pytest.raises(ValueError, match="rank must be"):
            L.factorize_linear(layer, bad)
    with pytest.raises(ValueError, match=r"rank must be in 1\.\.5, got 6"):
        L.lowrank_flops(5, 8, 6)
    with pytest.raises(ValueError, match="2-D"):
        L.spectrum(torch.ones(3))
    with pytest.raises(ValueError, match="layer name must be one of"):
        L.factorize(models.mlp(4, (3,), 2), {"fc7": 1})
    with pytest.raises(ValueError, match="energy must be in"):
        L.rank_for_energy(torch.ones(3), 0)
