"""Training schemes: ensembles, mutual learning, born-again, adversarial and contrastive loops."""
import pytest
import torch

from course_lib import data, features, models, train
from course_lib.distill import schemes


def _data(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    t = torch.nn.functional.one_hot(y, 3).float() * 4 + 0.3 * torch.randn(n, 3, generator=g)
    return X, y, t


def test_ensemble_logits_average_probabilities():
    a = torch.tensor([[2.0, 0.0, -1.0]])
    b = torch.tensor([[0.0, 1.0, 0.5]])
    for T in (1.0, 3.0):
        z = schemes.ensemble_logits([a, b], T=T)
        expected = 0.5 * (torch.softmax(a / T, -1) + torch.softmax(b / T, -1))
        assert torch.allclose(torch.softmax(z / T, -1), expected, atol=1e-6)
    assert torch.allclose(torch.softmax(schemes.ensemble_logits([a]), -1), torch.softmax(a, -1), atol=1e-6)
    w = schemes.ensemble_logits([a, b], weights=[1.0, 0.0])
    assert torch.allclose(torch.softmax(w, -1), torch.softmax(a, -1), atol=1e-6)


def test_ensemble_errors():
    with pytest.raises(ValueError, match="at least one"):
        schemes.ensemble_logits([])
    with pytest.raises(ValueError, match="teacher_logits\\[1\\]"):
        schemes.ensemble_logits([torch.zeros(2, 3), torch.zeros(2, 4)])
    with pytest.raises(ValueError, match="weights"):
        schemes.ensemble_logits([torch.zeros(2, 3)] * 2, weights=[0.7, 0.7])
    with pytest.raises(ValueError, match="T must be > 0"):
        schemes.ensemble_logits([torch.zeros(2, 3)], T=0)


def test_mutual_learning_trains_both_peers():
    X, y, _ = _data()
    a, b = models.mlp(6, (8,), 3, seed=0), models.mlp(6, (8,), 3, seed=1)
    before = [train.evaluate(m, X, y) for m in (a, b)]
    hist = schemes.mutual_learning([a, b], X, y, epochs=60, lr=3e-2)
    assert hist.loss[-1] < hist.loss[0]
    assert all(train.evaluate(m, X, y) > max(0.8, b0) for m, b0 in zip((a, b), before))
    assert "soft" in hist.terms
    with pytest.raises(ValueError, match="at least 2 peers"):
        schemes.mutual_learning([a], X, y)
    with pytest.raises(ValueError, match="alpha must be in"):
        schemes.mutual_learning([a, b], X, y, alpha=1.5)


def test_born_again_generations():
    X, y, _ = _data()
    gens = schemes.born_again(lambda s: models.mlp(6, (8,), 3, seed=s), X, y, generations=2, epochs=40)
    assert len(gens) == 3
    assert all(train.evaluate(m, X, y) > 0.8 for m in gens)
    # each generation starts from its own initialisation
    assert not torch.equal(gens[0].fc1.weight, gens[1].fc1.weight)
    with pytest.raises(ValueError, match="generations must be in"):
        schemes.born_again(lambda s: models.mlp(6, (8,), 3, seed=s), X, y, generations=-1)


def test_discriminator_and_adversarial_distill():
    X, y, t = _data()
    d = schemes.Discriminator(3, 8, seed=0)
    assert d(torch.softmax(t, -1)).shape == (60,)
    student = models.mlp(6, (8,), 3, seed=0)
    hist = schemes.adversarial_distill(student, X, y, t, T=2.0, alpha=0.9, beta=0.2, epochs=40)
    for k in ("loss", "d_loss", "g_loss", "d_acc"):
        assert len(hist[k]) == 40
    assert 0.0 <= min(hist["d_acc"]) and max(hist["d_acc"]) <= 1.0
    assert train.evaluate(student, X, y) > 0.8
    with pytest.raises(ValueError, match="beta must be in"):
        schemes.adversarial_distill(student, X, y, t, beta=-1)
    with pytest.raises(ValueError, match="n_classes must be in"):
        schemes.Discriminator(1)


def test_layer_output_uses_hook_and_contrastive_distill():
    X, y, t = _data()
    teacher = models.mlp(6, (12,), 3, seed=3)
    emb = schemes.layer_output(teacher, X, "act1")
    assert emb.shape == (60, 12) and (emb >= 0).all()
    assert not teacher.act1._forward_hooks  # hook removed
    student = models.mlp(6, (8,), 3, seed=0)
    out = schemes.contrastive_distill(student, X, y, t, emb, dim=4, epochs=30, beta=0.5)
    h = out["history"]
    assert h.terms["infonce"][-1] < h.terms["infonce"][0]
    assert not student.act1._forward_hooks
    with pytest.raises(ValueError, match="names must be layers of the model"):
        schemes.layer_output(teacher, X, "nope")


def test_retrieval_accuracy():
    e = torch.eye(5)
    assert schemes.retrieval_accuracy(e, e) == 1.0
    assert schemes.retrieval_accuracy(e, e.flip(0)) < 1.0


def test_offline_distill_with_unlabelled_inputs():
    X, y, t = _data(n=90)
    Xl, yl = data.labelled_subset(X, y, 0.3, seed=0)
    Xu = X[len(Xl):]
    teacher = models.mlp(6, (16,), 3, seed=5)
    train.train_scratch(teacher, X, y, epochs=60, lr=3e-2)
    student = models.mlp(6, (8,), 3, seed=0)
    hist = schemes.offline_distill(student, teacher, Xl, yl, T=2.0, alpha=0.8, epochs=40, X_unlabelled=Xu)
    assert hist.terms["soft"][-1] < hist.terms["soft"][0]
    with pytest.raises(ValueError, match="alpha must be in"):
        schemes.offline_distill(student, teacher, Xl, yl, alpha=2.0)


def test_layer_output_is_the_hook_reader_and_library_keeps_global_stream():
    m = models.mlp(6, (5,), 3, seed=0)
    X = torch.randn(4, 6)
    assert torch.equal(schemes.layer_output(m, X, "act1"), features.features(m, X, "act1"))
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    schemes.Discriminator(3, 4, seed=7)
    assert torch.equal(torch.rand(1), before)  # the discriminator's seed did not touch the global stream
    a, b = schemes.Discriminator(3, 4, seed=7), schemes.Discriminator(3, 4, seed=7)
    assert torch.equal(a.net[0].weight, b.net[0].weight)
