"""Pipeline stages and size accounting: exact byte counts, lossless codes, clear errors."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import models
from course_lib.compress import encode as E, layers, pipeline as P, quantize as Q


def _model(seed=0):
    return models.mlp(8, (12,), 3, seed=seed)


def test_dense_bytes_counts_float32_weights_and_biases():
    m = _model()
    assert E.dense_bytes(m) == 4 * models.count_params(m) == 4 * (8 * 12 + 12 + 12 * 3 + 3)


def test_csr_round_trip_and_narrow_indices():
    torch.manual_seed(0)
    w = torch.randn(5, 300) * (torch.rand(5, 300) > 0.8)
    a = E.csr_arrays(w)
    assert a["col_idx"].dtype == np.uint16 and a["row_ptr"].dtype == np.uint16  # 300 columns > 255
    assert torch.equal(E.csr_to_dense(a, (5, 300)), w)
    nnz = int((w != 0).sum())
    assert sum(x.nbytes for x in a.values()) == 4 * nnz + 2 * nnz + 2 * 6
    assert E.csr_arrays(torch.zeros(3, 4))["values"].size == 0


def test_index_dtype():
    assert E.index_dtype(255) == np.uint8 and E.index_dtype(256) == np.uint16 and E.index_dtype(70000) == np.uint32
    with pytest.raises(ValueError, match="max_value"):
        E.index_dtype(-1)


def test_huffman_lengths_known_example_and_kraft():
    counts = {"a": 45, "b": 13, "c": 12, "d": 16, "e": 9, "f": 5}  # the textbook example (CLRS)
    L = E.huffman_lengths(counts)
    assert sum(counts[s] * L[s] for s in counts) == 224
    assert sum(2.0 ** -n for n in L.values()) == pytest.approx(1.0)  # a complete prefix code
    assert E.huffman_lengths({7: 3}) == {7: 1}


def test_huffman_encoder_round_trip_and_bits():
    rng = np.random.default_rng(0)
    sym = rng.choice(5, size=500, p=[0.6, 0.2, 0.1, 0.05, 0.05])
    bits, codes = E.huffman_encode(sym)
    assert E.huffman_decode(bits, codes) == list(sym)
    assert len(bits) == E.huffman_bits(sym)
    H = E.entropy_bits(sym)
    assert H <= len(bits) < H + len(sym)
    with pytest.raises(ValueError, match="bits"):
        longest = max(codes.values(), key=len)  # a proper prefix of a code word is not a code word
        E.huffman_decode(bits + longest[:-1], codes)


def test_huffman_errors():
    with pytest.raises(ValueError, match="counts"):
        E.huffman_lengths({})
    with pytest.raises(ValueError, match="counts"):
        E.huffman_lengths({1: 0})


def test_kmeans_codebook_keeps_zero_exact():
    torch.manual_seed(0)
    w = torch.randn(20, 10)
    w[w.abs() < 0.5] = 0
    codes, book = Q.kmeans_codebook(w, 8)
    assert book[0] == 0.0 and len(book) == 8
    assert (codes[w.numpy() == 0] == 0).all() and (codes[w.numpy() != 0] > 0).all()
    err = np.abs(book[codes] - w.numpy()).max()
    assert err < 0.5
    with pytest.raises(ValueError, match="n_clusters"):
        Q.kmeans_codebook(w, 1)


def test_share_weights_and_shared_bytes():
    m = _model()
    q, codes = Q.share_weights(m, 4)
    for name, layer in layers.linear_layers(q):
        assert len(torch.unique(layer.weight)) <= 4
    assert set(codes) == {"fc1", "out"}
    bias = 4 * (12 + 3)
    fixed = sum(math.ceil(2 * c.size / 8) + 4 * len(b) for c, b in codes.values()) + bias
    assert E.shared_bytes(q, codes, encoding="fixed") == fixed
    huff = sum((E.huffman_bits(c) + 7) // 8 + 5 * len(b) for c, b in codes.values()) + bias
    assert E.shared_bytes(q, codes, encoding="huffman") == huff
    with pytest.raises(ValueError, match="encoding"):
        E.shared_bytes(q, codes, encoding="zip")
    assert torch.equal(m.fc1.weight, _model().fc1.weight)  # input untouched


def test_stages_leave_input_untouched_and_errors():
    m = models.mlp(8, (16, 16), 3, seed=0)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    s = P.structured_prune(m, 0.5)
    assert [l.out_features for _, l in layers.linear_layers(s)] == [8, 8, 3]
    f = P.factorize(m, "fc2", 2)
    assert E.dense_bytes(f) == 4 * (2 * 16 + 16 * 2 + 16) + 4 * (8 * 16 + 16 + 16 * 3 + 3)
    X, y = torch.rand(30, 8), torch.randint(0, 3, (30,))
    sp = P.sparsify(m, 0.5, X, y, m(X).detach(), steps=2)
    assert abs(float(sum((l.weight == 0).sum() for _, l in layers.linear_layers(sp))) / (8 * 16 + 256 + 48) - 0.5) < 0.01
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k])
    with pytest.raises(ValueError, match="amount"):
        P.structured_prune(m, 1.0)
    with pytest.raises(ValueError, match="rank"):
        P.factorize(m, "fc2", 0)
    with pytest.raises(ValueError, match="epochs"):
        P.distill(m, X, y, m(X).detach(), epochs=-1)
    with pytest.raises(ValueError, match="Linear"):
        E.dense_bytes(nn.ReLU())


def test_run_config_errors():
    with pytest.raises(ValueError, match="config key"):
        P.run(_model(), None, rank_of_fc2=3)
    with pytest.raises(ValueError, match="sparsity"):
        P.run(_model(), None, sparsity=1.5)
