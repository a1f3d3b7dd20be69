import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from course_lib import models


def test_mlp_shapes_names_and_seed():
    m = models.mlp(64, (32, 16), 10, seed=0)
    assert [n for n, _ in m.named_children()] == ["fc1", "act1", "fc2", "act2", "out"]
    assert m(torch.zeros(5, 64)).shape == (5, 10)
    m2 = models.mlp(64, (32, 16), 10, seed=0)
    assert torch.equal(m.fc1.weight, m2.fc1.weight)


def test_count_params_and_size():
    m = models.mlp(64, (16,), 10)
    assert models.count_params(m) == 64 * 16 + 16 + 16 * 10 + 10 == 1210
    with torch.no_grad():
        m.fc1.weight[:, :32] = 0
    assert models.count_params(m, nonzero=True) == 1210 - 16 * 32


def test_count_params_with_torch_prune():
    m = models.mlp(8, (4,), 2)
    prune.l1_unstructured(m.fc1, "weight", amount=0.5)
    assert models.count_params(m) == 8 * 4 + 4 + 4 * 2 + 2
    assert models.count_params(m, nonzero=True) == 16 + 4 + 8 + 2


def test_flops_linear_and_conv():
    m = models.mlp(64, (16,), 10)
    assert models.flops(m, (64,)) == (2 * 64 * 16 + 16) + (2 * 16 * 10 + 10)
    conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1))
    assert models.flops(conv, (1, 8, 8)) == (2 * 9 + 1) * 4 * 8 * 8


def test_bad_builder_arguments():
    with pytest.raises(ValueError, match=r"hidden width must be in 1\.\.1000000, got 0"):
        models.mlp(64, (0,), 10)
    with pytest.raises(ValueError, match="n_classes must be in 2..1000000, got 1"):
        models.mlp(64, (8,), 1)
