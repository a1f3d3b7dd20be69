"""course_lib.compress.prune: magnitude, movement, structured removal, errors."""
import copy

import pytest
import torch
import torch.nn.functional as F

from course_lib import models
from course_lib.compress import encode, prune


def _toy(seed=0, n=200):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 12, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long()
    return X, y


def _objective(X, y):
    return lambda model, idx: {"loss": F.cross_entropy(model(X[idx]), y[idx])}


@pytest.mark.parametrize("scope", ["layer", "global"])
@pytest.mark.parametrize("s", [0.0, 0.5, 0.9])
def test_magnitude_prune_hits_sparsity(scope, s):
    m = prune.magnitude_prune(models.mlp(12, (32, 16), 3, seed=0), s, scope=scope)
    assert prune.sparsity(m) == pytest.approx(s, abs=0.01)
    if scope == "layer":
        assert all(v == pytest.approx(s, abs=0.02) for v in prune.layer_sparsity(m).values())


def test_magnitude_prune_removes_smallest_weights():
    m = models.mlp(12, (32,), 3, seed=0)
    w = m.fc1.weight.detach().clone()
    prune.magnitude_prune(m, 0.5, scope="layer")
    kept = m.fc1.weight.detach() != 0
    assert w.abs()[kept].min() >= w.abs()[~kept].max()


def test_global_scope_spreads_sparsity_unevenly():
    m = models.mlp(12, (32,), 3, seed=0)
    with torch.no_grad():
        m.out.weight.mul_(10)  # the output layer's weights are now large
    prune.magnitude_prune(m, 0.5, scope="global")
    ls = prune.layer_sparsity(m)
    assert ls["fc1"] > 0.5 > ls["out"]


def test_make_permanent_keeps_zeros_and_removes_masks():
    m = prune.make_permanent(prune.magnitude_prune(models.mlp(12, (32,), 3, seed=0), 0.7))
    assert not any(n.endswith("_mask") for n, _ in m.named_buffers())
    assert prune.sparsity(m) == pytest.approx(0.7, abs=0.01)


def test_prune_finetune_keeps_base_and_sparsity():
    X, y = _toy()
    base = models.mlp(12, (32,), 3, seed=0)
    before = copy.deepcopy(base.state_dict())
    acc = lambda mm: float((mm(X).argmax(1) == y).float().mean())
    out = prune.prune_finetune(base, 0.8, _objective(X, y), len(X), steps=40, lr=1e-2, eval_fn=acc)
    for k, v in base.state_dict().items():
        assert torch.equal(v, before[k])
    assert prune.sparsity(out["finetuned"]) == pytest.approx(0.8, abs=0.01)
    assert out["acc_finetuned"] >= out["acc_pruned"]


def test_sparse_bytes_match_formulas():
    w = torch.zeros(10, 20)
    w[0, :5] = 1.0
    w[3, 7] = 2.0
    coo = encode.sparse_bytes(w, "coo")
    csr = encode.sparse_bytes(w, "csr")
    assert coo == {"values": 6 * 4, "indices": 2 * 6 * 8, "total": 6 * 4 + 96, "nnz": 6, "index_bytes": 8}
    assert csr["total"] == 6 * 4 + 6 * 8 + 11 * 8
    assert encode.dense_bytes(w) == 800


def test_model_bytes_dense_matches_size_bytes():
    m = models.mlp(12, (32,), 3, seed=0)
    assert encode.model_bytes(m) == 4 * models.count_params(m)
    assert encode.model_bytes(m, "coo") > encode.model_bytes(m)  # no zeros: sparse costs more


def test_cubic_schedule_rises_to_final_then_flat():
    s = [prune.cubic_schedule(t, 30, 0.9) for t in range(30)]
    assert all(a <= b for a, b in zip(s, s[1:]))
    assert s[0] > 0 and s[19] == pytest.approx(0.9) and s[-1] == pytest.approx(0.9)


def test_movement_scores_sign():
    # A loss that pulls weights away from zero gives positive scores; toward zero, negative.
    m = models.mlp(12, (8,), 3, seed=0)
    grow = prune.movement_scores(m, lambda mm, idx: {"loss": -(mm.fc1.weight ** 2).sum()})
    shrink_ = prune.movement_scores(m, lambda mm, idx: {"loss": (mm.fc1.weight ** 2).sum()})
    assert (grow["fc1"] >= 0).all() and (shrink_["fc1"] <= 0).all()
    assert torch.equal(grow["out"], torch.zeros_like(grow["out"]))


def test_scored_mask_straight_through_gradient():
    w = torch.randn(4, 5, requires_grad=True)
    pm = prune.ScoredMask(w)
    pm.mask.zero_()
    pm.mask[0] = 1
    out = pm(w)
    assert torch.equal(out[1:], torch.zeros(3, 5)) and torch.equal(out[0], w[0])
    out.sum().backward()
    assert torch.allclose(pm.scores.grad, w.detach())  # dL/dW' = 1, times W, even where pruned
    assert torch.equal(w.grad[1:], torch.zeros(3, 5))


@pytest.mark.parametrize("method", ["magnitude", "movement"])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_gradual_prune_reaches_sparsity_and_learns(method, scope):
    X, y = _toy()
    m = models.mlp(12, (32,), 3, seed=0)
    out = prune.gradual_prune(m, _objective(X, y), sparsity=0.8, method=method, steps=60, lr=1e-2, scope=scope)
    assert out is m
    assert prune.sparsity(m) == pytest.approx(0.8, abs=0.01)
    assert not any("parametrizations" in n for n, _ in m.named_parameters())
    assert float((m(X).argmax(1) == y).float().mean()) > 0.6


def test_shrink_is_exact_and_smaller():
    X, _ = _toy()
    m = models.mlp(12, (32, 16), 3, seed=0)
    masked = prune.make_permanent(prune.mask_units(copy.deepcopy(m), 0.5))
    small = prune.shrink(masked)
    assert prune.hidden_sizes(small) == (16, 8)
    assert models.count_params(small) < models.count_params(m)
    with torch.no_grad():
        assert torch.allclose(small(X), masked(X), atol=1e-5)


def test_remove_units_keeps_largest_units():
    m = models.mlp(12, (10,), 3, seed=0)
    norms = m.fc1.weight.detach().norm(dim=1)
    small = prune.remove_units(m, 0.3)
    kept = set(torch.topk(norms, 7).indices.tolist())
    assert prune.hidden_sizes(small) == (7,)
    rows = {i for i in range(10) if any(torch.equal(m.fc1.weight[i], r) for r in small.fc1.weight)}
    assert rows == kept


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "half"])
def test_bad_sparsity_is_a_clear_error(bad):
    m = models.mlp(12, (8,), 3, seed=0)
    with pytest.raises((ValueError, TypeError), match=r"sparsity must .*\[0, 1\)"):  # a string: TypeError
        prune.magnitude_prune(m, bad)
    with pytest.raises((ValueError, TypeError), match="sparsity"):
        prune.gradual_prune(m, None, sparsity=bad)


def test_other_bad_inputs():
    m = models.mlp(12, (8,), 3, seed=0)
    with pytest.raises(ValueError, match="scope"):
        prune.magnitude_prune(m, 0.5, scope="row")
    with pytest.raises(ValueError, match="method"):
        prune.gradual_prune(m, None, sparsity=0.5, method="random")
    with pytest.raises(ValueError, match="layout"):
        encode.sparse_bytes(torch.zeros(2, 2), "bsr")
    with pytest.raises(ValueError, match="2-D"):
        encode.sparse_bytes(torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="amount"):
        prune.mask_units(m, 1.0)
    with pytest.raises(ValueError, match="Sequential"):
        prune.shrink(torch.nn.ModuleList([torch.nn.Linear(2, 2)]))
