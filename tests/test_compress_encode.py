"""course_lib.compress.encode and .layers: byte counts with the index width stated, the one layer walker."""
import numpy as np
import pytest
import torch
from torch import nn

from course_lib import models
from course_lib.compress import encode as E, layers


def test_dense_bytes_of_tensor_and_model_agree():
    m = models.mlp(12, (32,), 3, seed=0)
    assert E.dense_bytes(torch.zeros(10, 20)) == 800
    assert E.dense_bytes(torch.zeros(10, dtype=torch.int8)) == 10
    assert E.dense_bytes(m) == 4 * models.count_params(m) == 4 * (12 * 32 + 32 + 32 * 3 + 3)
    assert E.bias_bytes(m) == 4 * (32 + 3)
    with pytest.raises(ValueError, match="x must be"):
        E.dense_bytes([1.0, 2.0])


def test_narrow_index_widths():
    w = torch.zeros(10, 20)
    w[0, :5] = 1.0
    w[3, 7] = 2.0
    csr = E.sparse_bytes(w, "csr", index="narrow")
    assert csr == {"values": 24, "indices": 6 * 1 + 11 * 1, "total": 24 + 17, "nnz": 6, "index_bytes": 1}
    coo = E.sparse_bytes(w, "coo", index="narrow")
    assert coo["indices"] == 6 + 6 and coo["index_bytes"] == 1
    wide = torch.zeros(2, 300)
    wide[0, 299] = 1.0
    assert E.sparse_bytes(wide, "csr", index="narrow")["index_bytes"] == 2  # 300 columns need uint16
    assert E.sparse_bytes(w, "csr")["index_bytes"] == 8  # torch's own tensors: int64
    with pytest.raises(ValueError, match="index"):
        E.sparse_bytes(w, "csr", index="int32")


def test_csr_break_even_near_20_percent_with_uint8_indices():
    """Narrow CSR costs 5 bytes per non-zero (plus row pointers): it beats dense once fewer than ~80% survive."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(128, 128, generator=g)
    dense = E.dense_bytes(w)
    for keep, smaller in ((0.85, False), (0.75, True)):
        t = torch.where(torch.rand(w.shape, generator=g) < keep, w, torch.zeros(()))
        assert (E.sparse_bytes(t, "csr", index="narrow")["total"] < dense) is smaller


def test_model_bytes_layouts_and_csr_bytes():
    m = models.mlp(12, (32,), 3, seed=0)
    assert E.model_bytes(m) == E.dense_bytes(m)
    assert E.csr_bytes(m) == E.model_bytes(m, "csr", index="narrow")
    assert E.model_bytes(m, "coo") > E.model_bytes(m, "csr") > E.csr_bytes(m)
    with pytest.raises(ValueError, match="layout"):
        E.model_bytes(m, "bsr")


def test_serialized_bytes_grows_with_parameters():
    assert E.serialized_bytes(models.mlp(8, (64,), 3, seed=0)) > E.serialized_bytes(models.mlp(8, (8,), 3, seed=0))


def test_one_walker():
    m = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(4, 3))
    assert [n for n, _ in layers.linear_layers(m)] == ["2"]
    assert [n for n, _ in layers.linear_layers(m, kinds=layers.PRUNABLE)] == ["0", "2"]
    mlp = models.mlp(4, (3,), 2, seed=0)
    assert [n for n, _ in layers.linear_layers(mlp, names="out")] == ["out"]
    with pytest.raises(ValueError, match="layers must be one of"):
        layers.linear_layers(mlp, names=["fc9"])
    with pytest.raises(ValueError, match="at least one Linear"):
        layers.linear_layers(nn.ReLU())
    assert layers.linear_layers(nn.ReLU(), required=False) == []
    with pytest.raises(ValueError, match="nn.Module"):
        layers.linear_layers("model")
