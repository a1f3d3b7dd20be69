"""distill.landscape.train_stacked, labs.ch1.landscape.grid and distill.adversarial_probe (ch1_08, ch1_11)."""
import pytest
import torch

from course_lib import models, train
from course_lib.distill.adversarial_probe import heldout_discriminator
from course_lib.distill.landscape import train_stacked


def _toy(n=60, d=6, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = X[:, :c].argmax(1)
    t = 3 * X[:, :c] + 0.1 * torch.randn(n, c, generator=g)
    return X, y, t


def _alone(X, y, t, T, a, sd, epochs, lr):
    """The student of one config trained on its own, the ordinary way."""
    m = models.mlp(6, (5,), 3, seed=sd)
    if a == 0:
        train.train_scratch(m, X, y, epochs=epochs, lr=lr, seed=sd)
    else:
        train.train_distilled(m, X, y, t, T=T, alpha=a, epochs=epochs, lr=lr, seed=sd)
    return m


@pytest.mark.parametrize("configs,epochs,lr", [
    ([(4.0, 0.9, 0), (1.0, 0.0, 1), (2.0, 0.5, 2)], 30, 3e-2),  # mixed losses
    ([(3.0, 1.0, 0), (1.5, 1.0, 4)], 25, 5e-2),                 # soft targets only: the cross-entropy is skipped
    ([(3.0, 0.0, 0), (1.5, 0.0, 4)], 25, 5e-2),                 # labels only: the KL term is skipped
])
def test_stacked_students_learn_as_they_would_alone(configs, epochs, lr):
    X, y, t = _toy()
    r = train_stacked(X, y, t, 5, configs, epochs=epochs, lr=lr, eval_sets=[(X, y)])
    for i, (T, a, sd) in enumerate(configs):
        m = _alone(X, y, t, T, a, sd, epochs, lr)
        assert r["accuracy"][0][i] == pytest.approx(train.evaluate(m, X, y), abs=1e-6)
        assert torch.allclose(r["logits"][0][i], train.predict(m, X), atol=1e-4)


def test_stacked_accepts_one_teacher_per_student():
    X, y, t = _toy()
    both = torch.stack([t, -t])
    r = train_stacked(X, y, both, 4, [(2.0, 1.0, 0), (2.0, 1.0, 0)], epochs=40, eval_sets=[(X, y)])
    a_pos, a_neg = r["accuracy"][0]
    assert a_pos > a_neg  # the student of the reversed teacher learns the wrong classes


def test_stacked_bad_input():
    X, y, t = _toy()
    with pytest.raises(ValueError, match="alpha must be in"):
        train_stacked(X, y, t, 4, [(2.0, 1.5, 0)])
    with pytest.raises(ValueError, match="T must be > 0"):
        train_stacked(X, y, t, 4, [(0.0, 0.5, 0)])
    with pytest.raises(ValueError, match="configs must hold"):
        train_stacked(X, y, t, 4, [])
    with pytest.raises(ValueError, match="width must be in"):
        train_stacked(X, y, t, 0, [(2.0, 0.5, 0)])
    with pytest.raises(ValueError, match="teacher_logits"):
        train_stacked(X, y, t[:10], 4, [(2.0, 0.5, 0)])


def test_grid_shapes_and_scratch():
    from course_lib.labs.ch1 import landscape

    s = landscape.setup(0)
    r = landscape.grid(s, [1.0, 4.0], [0.5, 1.0], [4, 8], [0, 1], epochs=3)
    assert r["acc"].shape == r["val"].shape == (2, 2, 2, 2) and r["scratch"].shape == (2, 2)
    assert r["n_students"] == 2 * 2 * 2 + 2
    assert ((0 <= r["acc"]) & (r["acc"] <= 1)).all()
    with pytest.raises(ValueError, match="alpha must be in"):
        landscape.grid(s, [1.0], [0.0], [4], [0], epochs=1)  # alpha = 0 is the scratch student
    with pytest.raises(ValueError, match="seeds must hold"):
        landscape.grid(s, [1.0], [0.5], [4], [], epochs=1)


def test_heldout_discriminator_chance_and_separable():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(80, 4, generator=g)
    same = heldout_discriminator(a, a, a, a, steps=30)
    assert same["accuracy"] == pytest.approx(0.5) and same["low"] < 0.5 < same["high"]
    far = heldout_discriminator(5 * a, torch.zeros(80, 4), 5 * a, torch.zeros(80, 4), steps=300)
    assert far["accuracy"] > 0.85 and far["n"] == 160 and far["low"] < far["accuracy"] < far["high"]
    with pytest.raises(ValueError, match="student_test must be"):
        heldout_discriminator(a, a, a, torch.zeros(5, 3))
    with pytest.raises(ValueError, match="steps must be in"):
        heldout_discriminator(a, a, a, a, steps=0)


def test_stacked_returns_logits_per_eval_set():
    X, y, t = _toy()
    r = train_stacked(X, y, t, 4, [(2.0, 0.5, 0), (2.0, 0.5, 1)], epochs=5, eval_sets=[(X, y), (X[:7], y[:7])])
    assert r["logits"][0].shape == (2, 60, 3) and r["logits"][1].shape == (2, 7, 3)
    assert torch.equal(r["logits"][0][:, :7], r["logits"][1]) or torch.allclose(r["logits"][0][:, :7], r["logits"][1])
    assert (r["accuracy"][0] == (r["logits"][0].argmax(-1) == y).float().mean(1).numpy()).all()


def test_temperature_variants_fast_path_equals_train_variants():
    from course_lib.labs.ch1 import temperature_variants as tv

    s = tv.setup(0)
    for T in (0.5, 4.0):
        models_ = tv.train_variants(s, T=T, epochs=12, lr=5e-2, seed=3)
        z = tv.test_logits(s, T=T, epochs=12, lr=5e-2, seed=3)
        for v in tv.VARIANTS:
            assert torch.allclose(train.predict(models_[v], s.X_test), z[v], atol=1e-4)
    with pytest.raises(ValueError, match="alpha must be in"):
        tv.test_logits(s, T=2.0, alpha=1.5, epochs=1)
    with pytest.raises(ValueError, match="T must be > 0"):
        tv.test_logits(s, T=-1.0, epochs=1)
