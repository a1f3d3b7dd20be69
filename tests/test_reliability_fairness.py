import pytest
import torch
import torch.nn.functional as F

from course_lib.losses import kd_kl
from course_lib.reliability import fairness as fr


def test_long_tail_counts_exponential_profile():
    c = fr.long_tail_counts(100, 50, 10)
    assert c[0] == 100 and c[-1] == 2 and len(c) == 10
    assert all(a >= b for a, b in zip(c, c[1:]))
    assert fr.long_tail_counts(10, 1, 3) == [10, 10, 10]


@pytest.mark.parametrize("kw,match", [(dict(n_max=0, ratio=2, n_classes=3), "n_max"),
                                      (dict(n_max=5, ratio=0.5, n_classes=3), "ratio"),
                                      (dict(n_max=5, ratio=2, n_classes=1), "n_classes")])
def test_long_tail_counts_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        fr.long_tail_counts(**kw)


def test_long_tail_indices_counts_and_order():
    y = torch.arange(3).repeat(10)
    idx = fr.long_tail_indices(y, [5, 2, 1], order=[2, 0, 1], seed=0)
    assert torch.bincount(y[idx], minlength=3).tolist() == [2, 1, 5]
    assert torch.equal(idx, torch.sort(idx).values)
    with pytest.raises(ValueError, match="order"):
        fr.long_tail_indices(y, [5, 2, 1], order=[0, 0, 1])
    with pytest.raises(ValueError, match="counts"):
        fr.long_tail_indices(y, [11, 2, 1])


def test_per_class_recall_known_case():
    labels = torch.tensor([0, 0, 1, 1, 2])
    pred = torch.tensor([0, 1, 1, 1, 0])
    r = fr.per_class_recall(pred, labels, 4)
    assert r[:3].tolist() == [0.5, 1.0, 0.0] and torch.isnan(r[3])
    logits = F.one_hot(pred, 4).float()
    assert torch.allclose(fr.per_class_recall(logits, labels, 4)[:3], r[:3])
    with pytest.raises(ValueError, match="labels"):
        fr.per_class_recall(pred, torch.tensor([0, 5, 1, 1, 2]), 4)
    with pytest.raises(ValueError, match="shape"):
        fr.per_class_recall(pred, labels[:3], 4)


def test_classwise_ece_perfect_and_wrong():
    labels = torch.tensor([0, 1, 2])
    assert torch.allclose(fr.classwise_ece(F.one_hot(labels, 3).float(), labels), torch.zeros(3))
    wrong = F.one_hot(torch.tensor([1, 2, 0]), 3).float()
    # each class: one example with p=1 but label absent (error 1/3) and one with p=0 but label present (1/3)
    assert torch.allclose(fr.classwise_ece(wrong, labels), torch.full((3,), 2 / 3))
    with pytest.raises(ValueError, match="probs"):
        fr.classwise_ece(torch.randn(3, 3) * 5, labels)


def test_class_weights_balance_classes():
    w = fr.class_weights([100, 10, 1], 1.0)
    n = torch.tensor([100.0, 10, 1])
    assert torch.allclose(w * n, (w * n)[0].expand(3))           # equal total weight per class
    assert torch.isclose((w * n).sum() / n.sum(), torch.tensor(1.0))  # mean over examples is 1
    assert torch.allclose(fr.class_weights([5, 3], 0.0), torch.ones(2))
    with pytest.raises(ValueError, match="beta"):
        fr.class_weights([5, 3], -1)
    with pytest.raises(ValueError, match="counts"):
        fr.class_weights([5, 0], 1)


def test_weighted_kd_matches_kd_with_unit_weights():
    s, t = torch.randn(6, 4), torch.randn(6, 4)
    assert torch.isclose(fr.weighted_kd(s, t, torch.ones(6), T=3.0), kd_kl(s, t, T=3.0), atol=1e-6)
    w = torch.tensor([2.0, 0, 0, 0, 0, 0])
    one = fr.weighted_kd(s[:1], t[:1], torch.ones(1), T=3.0)
    assert torch.isclose(fr.weighted_kd(s, t, w, T=3.0), 2 * one / 6, atol=1e-6)
    with pytest.raises(ValueError, match="weights"):
        fr.weighted_kd(s, t, torch.ones(5))
    with pytest.raises(ValueError, match="T"):
        fr.weighted_kd(s, t, torch.ones(6), T=0)
