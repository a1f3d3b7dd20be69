"""Hint and RKD losses: registry, known values, gradients, invariances and clear errors."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import losses


def rkd_distance_loop(s, t):
    """Reference: explicit pairs, means over ordered pairs i != j."""
    n = len(s)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    ds = torch.stack([torch.linalg.norm(s[i] - s[j]) for i, j in pairs])
    dt = torch.stack([torch.linalg.norm(t[i] - t[j]) for i, j in pairs])
    return F.smooth_l1_loss(ds / ds.mean(), dt / dt.mean())


def rkd_angle_loop(s, t):
    """Reference: cosines of the angle at j for every (j, i, k), zero when i or k equals j."""
    def cos(e, i, j, k):
        if i == j or k == j:
            return torch.zeros(())
        a, b = e[i] - e[j], e[k] - e[j]
        return (a @ b) / (torch.linalg.norm(a) * torch.linalg.norm(b))
    n = len(s)
    cs = torch.stack([cos(s, i, j, k) for j, i, k in itertools.product(range(n), repeat=3)])
    ct = torch.stack([cos(t, i, j, k) for j, i, k in itertools.product(range(n), repeat=3)])
    return F.smooth_l1_loss(cs, ct)


@pytest.mark.parametrize("name", ["hint", "rkd_distance", "rkd_angle"])
def test_registered_apart_and_take_no_temperature(name):
    fn = losses.get_feature(name)
    s, t = torch.randn(6, 4), torch.randn(6, 4)
    assert fn(s, t).shape == ()
    assert name not in losses.LOSSES
    with pytest.raises(TypeError):
        fn(s, t, T=3.0)
    with pytest.raises(ValueError, match="feature loss must be one of"):
        losses.get_feature("kd")


def test_hint_is_mse():
    s, t = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 4.0]])
    assert float(losses.get_feature("hint")(s, t)) == pytest.approx((1 + 4) / 2)
    with pytest.raises(ValueError, match="student and teacher must have the same shape"):
        losses.get_feature("hint")(torch.zeros(2, 3), torch.zeros(2, 4))


def test_rkd_match_reference_loops():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 3, generator=g), torch.randn(6, 8, generator=g)
    assert float(losses.get_feature("rkd_distance")(s, t)) == pytest.approx(float(rkd_distance_loop(s, t)), rel=1e-5)
    assert float(losses.get_feature("rkd_angle")(s, t)) == pytest.approx(float(rkd_angle_loop(s, t)), rel=1e-5)


def test_rkd_known_value_equilateral():
    # An equilateral triangle against three points on a line at 0, 1, 2.
    tri = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    line = torch.tensor([[0.0], [1.0], [2.0]])
    # line distances 1, 1, 2 (mean 4/3) -> 0.75, 0.75, 1.5; triangle all 1; Huber: 2 * 0.5*0.25^2 + 0.5*0.5^2
    expected = (2 * 0.5 * 0.25 ** 2 + 0.5 * 0.5 ** 2) / 3
    assert float(losses.get_feature("rkd_distance")(line, tri)) == pytest.approx(expected, rel=1e-5)


def test_rkd_invariant_to_rotation_scale_translation():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(10, 5, generator=g)
    Q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g))
    s = 4.0 * t @ Q + 2.0
    assert float(losses.get_feature("rkd_distance")(s, t)) < 1e-8
    assert float(losses.get_feature("rkd_angle")(s, t)) < 1e-8


@pytest.mark.parametrize("name", ["hint", "rkd_distance", "rkd_angle"])
def test_gradcheck(name):
    g = torch.Generator().manual_seed(2)
    s = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randn(5, 3 if name == "hint" else 6, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: losses.get_feature(name)(x, t), (s,))


def test_rkd_teacher_gets_no_gradient():
    s = torch.randn(5, 3, requires_grad=True)
    t = torch.randn(5, 6, requires_grad=True)
    (losses.get_feature("rkd_distance")(s, t) + losses.get_feature("rkd_angle")(s, t)).backward()
    assert s.grad is not None and t.grad is None


def test_rkd_bad_input():
    with pytest.raises(ValueError, match="student must be a 2-D tensor"):
        losses.get_feature("rkd_distance")(torch.zeros(5), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="same rows, got 5 and 4 rows"):
        losses.get_feature("rkd_distance")(torch.zeros(5, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 3 rows"):
        losses.get_feature("rkd_angle")(torch.zeros(2, 2), torch.zeros(2, 2))


def test_logit_registry_refuses_feature_losses():
    s, t = torch.randn(6, 4), torch.randn(6, 4)
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.distill_step(s, t, None, alpha=1.0, soft="hint")
