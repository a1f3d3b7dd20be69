"""Stacked training (many small runs at once), per-model losses and stacked deep mutual learning."""
import copy

import pytest
import torch
import torch.nn.functional as F

from course_lib import losses, models, train
from course_lib.distill import schemes


def _data(K=3, n=30, d=5, C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(K, n, d, generator=g)
    y = torch.randint(0, C, (K, n), generator=g)
    return X, y


def test_stacked_cross_entropy_matches_torch_label_smoothing():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 7, 4, generator=g)
    y = torch.randint(0, 4, (3, 7), generator=g)
    eps = torch.tensor([0.0, 0.3, 0.8])
    out = schemes.stacked_cross_entropy(z, y, label_smoothing=eps)
    for k in range(3):
        ref = F.cross_entropy(z[k], y[k], label_smoothing=float(eps[k]))
        assert torch.allclose(out[k], ref, atol=1e-6)
    # one number for every model, and labels shared by all models
    shared = schemes.stacked_cross_entropy(z, y[0], label_smoothing=0.2)
    assert torch.allclose(shared[2], F.cross_entropy(z[2], y[0], label_smoothing=0.2), atol=1e-6)


def test_stacked_kd_matches_kd_kl():
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(2, 6, 5, generator=g), torch.randn(2, 6, 5, generator=g) * 3
    for scale in (True, False):
        out = schemes.stacked_kd(s, t, T=3.0, scale_t2=scale)
        for k in range(2):
            assert torch.allclose(out[k], losses.kd_kl(s[k], t[k], T=3.0, scale_t2=scale), atol=1e-6)
    assert torch.allclose(schemes.stacked_kd(s, s, T=2.0), torch.zeros(2), atol=1e-6)


def test_stacked_loss_errors():
    z = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="logits must be 3-D"):
        schemes.stacked_cross_entropy(torch.zeros(3, 4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="y must have shape"):
        schemes.stacked_cross_entropy(z, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        schemes.stacked_cross_entropy(z, torch.zeros(3, dtype=torch.long), label_smoothing=1.5)
    with pytest.raises(ValueError, match="one number or 2 numbers"):
        schemes.stacked_cross_entropy(z, torch.zeros(3, dtype=torch.long), label_smoothing=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="class indices in 0..3"):
        schemes.stacked_cross_entropy(z, torch.full((3,), 4))
    with pytest.raises(ValueError, match="one shape"):
        schemes.stacked_kd(z, torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="T must be > 0"):
        schemes.stacked_kd(z, z, T=0)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_stacked_equals_separate_runs(optimizer):
    X, y = _data()
    build = [models.mlp(5, (4,), 3, seed=s) for s in range(3)]
    separate = [copy.deepcopy(m) for m in build]
    for k, m in enumerate(separate):
        train.train_scratch(m, X[k], y[k], epochs=25, lr=1e-2, optimizer=optimizer)
    hist = schemes.train_stacked(build, lambda z: schemes.stacked_cross_entropy(z, y), X, epochs=25, lr=1e-2,
                                 optimizer=optimizer)
    assert len(hist) == 25 and hist[-1] < hist[0]
    for a, b in zip(build, separate):
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.allclose(pa, pb, atol=1e-5)
        assert not a.training


def test_train_stacked_shared_inputs_and_predict():
    X, y = _data(K=2)
    ms = [models.mlp(5, (4,), 3, seed=s) for s in (0, 1)]
    schemes.train_stacked(ms, lambda z: schemes.stacked_cross_entropy(z, y), X[0], epochs=3)
    out = schemes.stacked_predict(ms, X[0])
    assert out.shape == (2, 30, 3)
    assert torch.allclose(out[1], train.predict(ms[1], X[0]))
    assert torch.allclose(schemes.stacked_predict(ms, X)[0], train.predict(ms[0], X[0]))


def test_train_stacked_errors():
    X, y = _data(K=2)
    ms = [models.mlp(5, (4,), 3, seed=s) for s in (0, 1)]
    ce = lambda z: schemes.stacked_cross_entropy(z, y)  # noqa: E731
    with pytest.raises(ValueError, match="at least one model"):
        schemes.train_stacked([], ce, X)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        schemes.train_stacked(ms, ce, X, optimizer="rmsprop")
    with pytest.raises(ValueError, match="lr must be > 0"):
        schemes.train_stacked(ms, ce, X, lr=0)
    with pytest.raises(ValueError, match="X must be"):
        schemes.train_stacked(ms, ce, torch.zeros(3, 30, 5))
    with pytest.raises(ValueError, match="one loss per model"):
        schemes.train_stacked(ms, lambda z: ce(z).sum(), X, epochs=1)
    with pytest.raises(ValueError, match="X must be"):
        schemes.stacked_predict(ms, torch.zeros(3, 30, 5))


def test_mutual_learning_stacked_matches_mutual_learning():
    X, y = _data(K=1)
    a, b = models.mlp(5, (4,), 3, seed=1), models.mlp(5, (4,), 3, seed=2)
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    schemes.mutual_learning([a, b], X[0], y[0], T=4.0, alpha=0.7, epochs=20, lr=1e-2)
    schemes.mutual_learning_stacked([a2], [b2], X, y, T=4.0, ce_weight=0.3, kl_weight=0.7, epochs=20, lr=1e-2)
    for m, m2 in ((a, a2), (b, b2)):
        for p, p2 in zip(m.parameters(), m2.parameters()):
            assert torch.allclose(p, p2, atol=1e-5)


def test_mutual_learning_stacked_pulls_peers_together():
    X, y = _data(K=2)
    def run(kl_weight):
        a = [models.mlp(5, (8,), 3, seed=s) for s in (0, 1)]
        b = [models.mlp(5, (8,), 3, seed=s + 10) for s in (0, 1)]
        schemes.mutual_learning_stacked(a, b, X, y, T=1.0, ce_weight=1.0, kl_weight=kl_weight, epochs=60, lr=1e-2)
        pa, pb = schemes.stacked_predict(a, X), schemes.stacked_predict(b, X)
        return float(schemes.stacked_kd(pa, pb, T=1.0).mean())
    assert run(5.0) < run(0.0)


def test_mutual_learning_stacked_errors():
    X, y = _data(K=1)
    a = [models.mlp(5, (4,), 3, seed=0)]
    with pytest.raises(ValueError, match="peers_a and peers_b"):
        schemes.mutual_learning_stacked(a, [], X, y)
    with pytest.raises(ValueError, match="kl_weight"):
        schemes.mutual_learning_stacked(a, [models.mlp(5, (4,), 3, seed=1)], X, y, kl_weight=-1)
    with pytest.raises(ValueError, match="T must be > 0"):
        schemes.mutual_learning_stacked(a, [models.mlp(5, (4,), 3, seed=1)], X, y, T=0)
