"""Temperature variants, contrastive and adversarial losses: values, identities, gradients, errors."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import losses
from course_lib.losses import (discriminator_loss, generator_loss, infonce, kd_standardized,
                               kd_ttm_decomposition, renyi_entropy, standardize_logits, ttm)


def _pair(n=6, c=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 3, torch.randn(n, c, generator=g) * 5


def test_registered():
    for name in ("kd_adaptive", "ttm"):
        assert name in losses.LOSSES
    assert "infonce" in losses.FEATURE_LOSSES and "infonce" not in losses.LOSSES
    s, t = _pair()
    out = losses.distill_step(s, t, torch.zeros(6, dtype=torch.long), T=3.0, alpha=0.5, soft="ttm")
    assert out["loss"].shape == ()


def test_standardize_rows():
    z = torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]])
    zs = standardize_logits(z)
    assert torch.allclose(zs.mean(-1), torch.zeros(2), atol=1e-6)
    assert torch.allclose(zs.std(-1, unbiased=False), torch.ones(2), atol=1e-5)


def test_kd_adaptive_invariant_to_shift_and_scale():
    s, t = _pair()
    base = kd_standardized(s, t, T=2.0)
    moved = kd_standardized(3 * s + 7, 0.5 * t - 2, T=2.0)
    assert torch.allclose(base, moved, atol=1e-5)
    assert float(kd_standardized(t, t, T=2.0)) == pytest.approx(0.0, abs=1e-6)


def test_kd_adaptive_equals_kd_on_standardised_logits():
    s, t = _pair()
    ref = losses.kd_kl(standardize_logits(s), standardize_logits(t), T=1.5)
    assert torch.allclose(kd_standardized(s, t, T=1.5), ref, atol=1e-6)


def test_ttm_known_value_and_gradient():
    s, t = _pair()
    T = 4.0
    q = torch.softmax(t / T, -1)
    expected = (q * (torch.log(q) - torch.log_softmax(s, -1))).sum(-1).mean()
    assert torch.allclose(ttm(s, t, T=T), expected, atol=1e-6)
    s = s.clone().requires_grad_()
    ttm(s, t, T=T).backward()
    analytic = (torch.softmax(s.detach(), -1) - q) / len(s)
    assert torch.allclose(s.grad, analytic, atol=1e-6)


def test_renyi_entropy_known_values():
    u = torch.full((1, 4), 0.25)
    assert float(renyi_entropy(u, 0.5)) == pytest.approx(math.log(4), rel=1e-6)
    p = torch.tensor([[0.7, 0.2, 0.1]])
    expected = math.log(sum(v ** 0.25 for v in (0.7, 0.2, 0.1))) / 0.75
    assert float(renyi_entropy(p, 0.25)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("T", [1.0, 2.0, 4.0, 9.0])
def test_kd_equals_ttm_plus_renyi(T):
    s, t = _pair(seed=3)
    d = kd_ttm_decomposition(s, t, T=T)
    lhs = T * d["kd"]
    rhs = d["ttm"] + (T - 1) * (d["renyi_student"] - d["entropy_teacher"])
    assert float(lhs) == pytest.approx(float(rhs), rel=1e-5, abs=1e-6)
    assert torch.allclose(d["kd"], losses.kd_kl(s, t, T=T, scale_t2=False), atol=1e-6)


def test_infonce_values_and_gradient():
    e = torch.eye(4) * 5
    assert float(infonce(e, e, tau=0.05)) < 1e-3
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 3, generator=g, requires_grad=True)
    b = torch.randn(8, 3, generator=g)
    loss = infonce(a, b, tau=0.5)
    sim = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / 0.5
    manual = (-torch.diagonal(torch.log_softmax(sim, -1))).mean()
    assert torch.allclose(loss, manual, atol=1e-6)
    loss.backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_adversarial_losses():
    real = torch.tensor([10.0, 10.0])
    fake = torch.tensor([-10.0, -10.0])
    assert float(discriminator_loss(real, fake)) < 1e-3
    assert float(generator_loss(fake)) == pytest.approx(10.0, abs=1e-3)
    zero = torch.zeros(3)
    assert float(discriminator_loss(zero, zero)) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_errors():
    s, t = _pair()
    with pytest.raises(ValueError, match="T must be > 0"):
        ttm(s, t, T=0)
    with pytest.raises(ValueError, match="T must be > 0"):
        kd_standardized(s, t, T=-1)
    with pytest.raises(ValueError, match="same shape"):
        ttm(s, t[:, :3], T=2.0)
    with pytest.raises(ValueError, match="2-D"):
        kd_standardized(s[0], t[0], T=2.0)
    with pytest.raises(ValueError, match="at least 2 rows"):
        infonce(s[:1], t[:1], tau=0.1)
    with pytest.raises(ValueError, match="order must differ from 1"):
        renyi_entropy(torch.softmax(s, -1), 1.0)
    with pytest.raises(ValueError, match="smoothing must be in"):
        discriminator_loss(s[:, 0], t[:, 0], smoothing=0.9)
