"""course_lib.distill.lwf: the LwF loss and the multi-head network."""
import pytest
import torch
import torch.nn.functional as F

from course_lib.distill.lwf import MultiHeadMLP, lwf_loss


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 5, generator=g), torch.randint(0, 5, (8,), generator=g), torch.randn(8, 5, generator=g)


def test_lwf_loss_is_ce_plus_scaled_kd():
    new, y, old = _batch()
    rec = old + 0.5 * torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    T, lam = 2.0, 0.7
    kd = T * T * F.kl_div(F.log_softmax(old / T, -1), F.log_softmax(rec / T, -1), reduction="batchmean", log_target=True)
    want = F.cross_entropy(new, y) + lam * kd
    assert torch.allclose(lwf_loss(new, y, old, rec, T=T, lam=lam), want, atol=1e-6)


def test_lwf_loss_zero_weight_or_unchanged_head_is_plain_ce():
    new, y, old = _batch()
    ce = F.cross_entropy(new, y)
    assert torch.allclose(lwf_loss(new, y, old, old + 3.0, lam=0.0), ce)
    assert torch.allclose(lwf_loss(new, y, old, old, lam=5.0), ce, atol=1e-6)  # shifting logits changes nothing either
    assert torch.allclose(lwf_loss(new, y, old, old + 3.0, lam=5.0), ce, atol=1e-5)


def test_lwf_loss_gradient_does_not_reach_the_recording():
    new, y, old = _batch()
    rec = torch.randn(8, 5, requires_grad=True)
    old = old.clone().requires_grad_(True)
    lwf_loss(new, y, old, rec).backward()
    assert rec.grad is None and old.grad is not None and old.grad.abs().sum() > 0


@pytest.mark.parametrize("kw, match", [(dict(T=0.0), "T must be"), (dict(lam=-1.0), "lam must be")])
def test_lwf_loss_bad_numbers(kw, match):
    new, y, old = _batch()
    with pytest.raises(ValueError, match=match):
        lwf_loss(new, y, old, old, **kw)


def test_lwf_loss_bad_shapes():
    new, y, old = _batch()
    with pytest.raises(ValueError, match="same shape"):
        lwf_loss(new, y, old, old[:, :4])
    with pytest.raises(ValueError, match="one row per new example"):
        lwf_loss(new, y, old[:4], old[:4])
    with pytest.raises(ValueError, match="labels"):
        lwf_loss(new, y[:3], old, old)


def test_multihead_shapes_seed_and_errors():
    m1, m2 = MultiHeadMLP(6, (4,), {"A": 3, "B": 2}, seed=1), MultiHeadMLP(6, (4,), {"A": 3, "B": 2}, seed=1)
    x = torch.randn(5, 6)
    out = m1(x)
    assert set(out) == {"A", "B"} and out["A"].shape == (5, 3) and m1(x, "B").shape == (5, 2)
    assert torch.equal(m1(x, "A"), m2(x, "A"))
    before = torch.random.get_rng_state()
    MultiHeadMLP(6, (4,), seed=3)
    assert torch.equal(before, torch.random.get_rng_state())
    with pytest.raises(ValueError, match="head must be one of"):
        m1(x, "C")
    with pytest.raises(ValueError, match="heads must name"):
        MultiHeadMLP(6, (4,), {})
    with pytest.raises(ValueError, match="hidden width"):
        MultiHeadMLP(6, (0,))
