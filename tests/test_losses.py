import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import losses


def _pair(seed=0, n=6, k=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g, dtype=torch.float64), torch.randn(n, k, generator=g, dtype=torch.float64)


def test_registry_holds_pure_losses():
    assert {"ce", "kd", "mse_logits"} <= set(losses.LOSSES)
    assert losses.get("kd") is losses.kd_kl
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        losses.register("kd")(lambda s, t, *, T: s)


def test_kd_kl_matches_the_formula_with_t_squared():
    s, t = _pair()
    T = 3.0
    p_t = torch.softmax(t / T, -1)
    manual = (p_t * (torch.log(p_t) - torch.log_softmax(s / T, -1))).sum(-1).mean() * T * T
    assert torch.allclose(losses.kd_kl(s, t, T=T), manual)
    assert torch.allclose(losses.kd_kl(s, t, T=T, scale_t2=False), manual / T**2)
    assert float(losses.kd_kl(t, t, T=T)) == pytest.approx(0.0, abs=1e-12)


def test_kd_kl_gradient_matches_closed_form_and_gradcheck():
    s, t = _pair()
    s.requires_grad_(True)
    T = 2.0
    losses.kd_kl(s, t, T=T).backward()
    # d/ds of T^2 * KL / N = T * (softmax(s/T) - softmax(t/T)) / N
    expected = T * (torch.softmax(s / T, -1) - torch.softmax(t / T, -1)) / len(s)
    assert torch.allclose(s.grad, expected)
    assert torch.autograd.gradcheck(lambda z: losses.kd_kl(z, t, T=T), (s.detach().clone().requires_grad_(True),))


def test_kd_gradient_shrinks_as_one_over_t_squared_without_the_factor():
    s, t = _pair(n=64, k=10)
    norms = []
    for T in (8.0, 16.0):
        z = s.clone().requires_grad_(True)
        losses.kd_kl(z, t, T=T, scale_t2=False).backward()
        norms.append(float(z.grad.norm()))
    assert norms[0] / norms[1] == pytest.approx(4.0, rel=0.05)


def test_distill_step_returns_named_terms_and_mixes():
    s, t = _pair()
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    out = losses.distill_step(s, t, y, T=2.0, alpha=0.25)
    assert set(out) == {"loss", "soft", "hard"}
    assert torch.allclose(out["hard"], F.cross_entropy(s, y))
    assert torch.allclose(out["loss"], 0.25 * out["soft"] + 0.75 * out["hard"])
    teacher_only = losses.distill_step(s, t, None, T=2.0, alpha=1.0)
    assert torch.allclose(teacher_only["loss"], losses.kd_kl(s, t, T=2.0))


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf")])
def test_bad_temperature(T):
    s, t = _pair()
    with pytest.raises(ValueError, match=r"T must be > 0 \(allowed range: \(0, inf\)\)"):
        losses.kd_kl(s, t, T=T)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_bad_alpha(alpha):
    s, t = _pair()
    with pytest.raises(ValueError, match=rf"alpha must be in \[0, 1\], got {alpha:g}"):
        losses.distill_step(s, t, torch.zeros(6, dtype=torch.long), T=2.0, alpha=alpha)


def test_mismatched_shapes_and_missing_labels():
    s, t = _pair()
    with pytest.raises(ValueError, match=r"same shape, got \(6, 5\) and \(6, 4\)"):
        losses.kd_kl(s, t[:, :4], T=1.0)
    with pytest.raises(ValueError, match="must be a 2-D tensor"):
        losses.kd_kl(s[0], t[0], T=1.0)
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        losses.hard_cross_entropy(s, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="labels are needed when alpha < 1"):
        losses.distill_step(s, t, None, T=1.0, alpha=0.5)


def test_softmax_t_limits():
    z = torch.tensor([2.0, 1.0, 0.0])
    assert torch.allclose(losses.softmax_t(z, 1e6), torch.full((3,), 1 / 3), atol=1e-5)
    assert float(losses.softmax_t(z, 0.01)[0]) == pytest.approx(1.0)
    assert float(losses.softmax_t(z, 1.0).sum()) == pytest.approx(1.0)
    assert math.isclose(float(losses.softmax_t(z, 2.0)[0]), math.exp(1) / (math.exp(1) + math.exp(0.5) + 1), rel_tol=1e-6)
