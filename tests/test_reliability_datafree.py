import pytest
import torch

from course_lib import models
from course_lib.reliability import datafree as df


def test_total_variation_known():
    flat = torch.ones(2, 64)
    assert float(df.total_variation(flat)) == 0
    x = torch.zeros(1, 4)
    x[0, 1] = 1.0  # 2x2 image [[0, 1], [0, 0]]
    assert float(df.total_variation(x, (1, 2, 2))) == pytest.approx(0.5 + 0.5)
    with pytest.raises(ValueError, match="image_shape"):
        df.total_variation(torch.zeros(2, 10))


def test_invert_pool_and_teacher_untouched():
    teacher = models.mlp(64, (16,), 3, seed=0)
    before = [p.clone() for p in teacher.parameters()]
    X, c = df.invert(teacher, n_per_class=2, n_classes=3, steps=20, snapshot_every=10, lr=0.2, seed=0)
    assert X.shape == (2 * 2 * 3, 64) and c.tolist() == [0, 0, 1, 1, 2, 2] * 2
    assert float(X.min()) >= 0 and float(X.max()) <= 1
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))
    assert all(p.requires_grad for p in teacher.parameters())
    final = X[-6:]
    assert float((teacher(final).argmax(-1) == c[-6:]).float().mean()) >= 0.5
    with pytest.raises(ValueError, match="n_classes"):
        df.invert(teacher, n_classes=4, steps=1, snapshot_every=1)
    with pytest.raises(ValueError, match="snapshot_every"):
        df.invert(teacher, n_classes=3, steps=5, snapshot_every=6)


def test_real_per_class():
    X, y = torch.arange(12.0)[:, None], torch.tensor([0, 1, 2] * 4)
    Xs, ys = df.real_per_class(X, y, 2, seed=0)
    assert torch.bincount(ys).tolist() == [2, 2, 2] and torch.equal(y[Xs[:, 0].long()], ys)
    with pytest.raises(ValueError, match="ipc"):
        df.real_per_class(X, y, 5)


def test_train_unrolled_matches_sgd_and_leaves_model():
    net = models.mlp(4, (3,), 2, seed=0)
    X, y = torch.randn(5, 4), torch.tensor([0, 1, 0, 1, 1])
    params = df.train_unrolled(net, X, y, lr=0.1, steps=2)
    ref = models.mlp(4, (3,), 2, seed=0)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(X), y).backward()
        opt.step()
    for k, p in ref.named_parameters():
        assert torch.allclose(params[k], p, atol=1e-6)
    assert torch.equal(net.out.weight, models.mlp(4, (3,), 2, seed=0).out.weight)
    with pytest.raises(ValueError, match="one row per label"):
        df.train_unrolled(net, X, y[:3], lr=0.1, steps=1)


def test_distill_dataset_shapes_and_bounded_step():
    X = torch.rand(40, 8)
    y = torch.arange(4).repeat(10)
    Xs, ys, step = df.distill_dataset(X, y, 2, hidden=(4,), inner_steps=2, outer_steps=3, batch=16, seed=0)
    assert Xs.shape == (8, 8) and ys.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and 0 < step < 1
    acc = df.evaluate_unrolled(Xs, ys, X, y, step=step, inner_steps=2, hidden=(4,), seeds=(0, 1))
    assert len(acc) == 2 and all(0 <= a <= 1 for a in acc)
    with pytest.raises(ValueError, match="init_step"):
        df.distill_dataset(X, y, 1, init_step=2.0)
