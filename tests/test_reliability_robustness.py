"""course_lib.reliability.robustness: FGSM, PGD, projection, and the exact linear margin condition."""
import numpy as np
import pytest
import torch
from torch import nn

from course_lib.reliability import robustness as rob


def linear(W, b):
    m = nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        m.weight.copy_(W)
        m.bias.copy_(b)
    return m


def toy():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(4, 6, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    X = torch.rand(50, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (50,), generator=g)
    return W, b, X, y


def test_fgsm_on_a_binary_linear_model_moves_against_the_weight_sign():
    # two classes, z1 - z0 = w.x: the CE gradient for label 0 is proportional to +w, so FGSM adds eps*sign(w)
    W = torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]], dtype=torch.float64)
    m = linear(W, torch.zeros(2, dtype=torch.float64))
    X = torch.full((1, 3), 0.5, dtype=torch.float64)
    x_adv = rob.fgsm(m, X, torch.tensor([0]), 0.1)
    assert torch.allclose(x_adv, X + 0.1 * torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64))


def test_fgsm_clamps_to_the_valid_range_and_epsilon_zero_is_identity():
    W = torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=torch.float64)
    m = linear(W, torch.zeros(2, dtype=torch.float64))
    X = torch.tensor([[0.98, 0.01]], dtype=torch.float64)
    x_adv = rob.fgsm(m, X, torch.tensor([0]), 0.1)
    assert torch.allclose(x_adv, torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    assert torch.equal(rob.fgsm(m, X, torch.tensor([0]), 0.0), X)


def test_project_linf_values():
    X = torch.tensor([[0.5, 0.5, 0.95]])
    out = rob.project_linf(torch.tensor([[0.9, 0.45, 1.3]]), X, 0.1)
    assert torch.allclose(out, torch.tensor([[0.6, 0.45, 1.0]]))
    assert torch.allclose(rob.project_linf(torch.tensor([[0.9, 0.45, 1.3]]), X, 0.1, clamp=None),
                          torch.tensor([[0.6, 0.45, 1.05]]))


def test_pgd_stays_in_the_ball_and_box_and_is_at_least_as_strong_as_fgsm():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    g = torch.Generator().manual_seed(1)
    X = torch.rand(200, 6, generator=g)
    y = m(X).argmax(1).detach()
    for rs in (False, True):
        x = rob.pgd(m, X, y, 0.2, steps=20, random_start=rs, seed=3)
        assert float((x - X).abs().max()) <= 0.2 + 1e-6
        assert float(x.min()) >= 0 and float(x.max()) <= 1
    a_fgsm, a_pgd = rob.robust_accuracy(m, X, y, [0.0, 0.2], method="fgsm"), rob.robust_accuracy(m, X, y, [0.0, 0.2], method="pgd", steps=20)
    assert a_fgsm[0] == a_pgd[0] == 1.0
    assert a_pgd[1] <= a_fgsm[1]


def test_margin_loss_and_temperature():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    y = torch.tensor([0, 2])
    assert torch.allclose(rob.attack_loss(logits, y, loss="margin"), torch.tensor([-1.0, 4.0]))
    ce2 = torch.nn.functional.cross_entropy(logits / 2, y, reduction="none")
    assert torch.allclose(rob.attack_loss(logits, y, temperature=2.0), ce2)


def test_input_gradient_leaves_weights_untouched_and_is_zero_when_saturated():
    m = nn.Linear(3, 2)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[1000.0, 0, 0], [-1000.0, 0, 0]]))
        m.bias.zero_()
    X, y = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([0])
    g = rob.input_gradient(m, X, y)
    assert torch.equal(g, torch.zeros_like(g))  # the softmax saturates in float32: gradient masking
    assert m.weight.grad is None
    g_t = rob.input_gradient(m, X, y, temperature=1000.0)
    assert float(g_t.abs().sum()) > 0
    assert float(rob.input_gradient(m, X, y, loss="margin").abs().sum()) > 0


def test_success_rate():
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    m = linear(W, torch.zeros(2, dtype=torch.float64))
    X = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1])  # the third is misclassified already
    X_adv = torch.tensor([[0.1, 0.9], [0.1, 0.9], [0.6, 0.4]], dtype=torch.float64)
    assert rob.success_rate(m, X, y, X_adv) == 0.5


def test_linear_condition_is_exact_against_the_worst_case_attack():
    W, b, X, y = toy()
    for eps in np.linspace(0, 1.0, 21):
        safe = rob.linear_certified(W, b, X, y, eps)
        hit = (rob.linear_worst_case(W, b, X, y, eps) @ W.T + b).argmax(1) != y
        assert torch.equal(safe, ~hit)
        # and no FGSM (no box) succeeds on a certified point
        f = rob.fgsm(linear(W, b), X, y, eps, clamp=None)
        assert not bool((((f @ W.T + b).argmax(1) != y) & safe).any())


def test_linear_safe_radius_by_hand():
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    b = torch.zeros(3, dtype=torch.float64)
    X = torch.tensor([[2.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([0])
    # margins: vs 1: 1 with ||(1,-1)||_1 = 2 -> 0.5; vs 2: 2 with ||(1,0)||_1 = 1 -> 2
    assert torch.allclose(rob.linear_safe_radius(W, b, X, y), torch.tensor([0.5], dtype=torch.float64))
    assert bool(rob.linear_certified(W, b, X, y, 0.49)) and not bool(rob.linear_certified(W, b, X, y, 0.5))
    margins, norms = rob.linear_margins(W, b, X, y)
    assert margins[0, 0] == float("inf") and norms[0, 0] == 0


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "a"])
def test_bad_epsilon(bad):
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="epsilon"):
        rob.fgsm(m, torch.rand(3, 2), torch.zeros(3, dtype=torch.long), bad)
    with pytest.raises(ValueError, match="epsilon"):
        rob.pgd(m, torch.rand(3, 2), torch.zeros(3, dtype=torch.long), bad)


def test_bad_inputs_are_named():
    m = nn.Linear(2, 2)
    X, y = torch.rand(3, 2), torch.zeros(3, dtype=torch.long)
    with pytest.raises(ValueError, match="y must have shape"):
        rob.fgsm(m, X, torch.zeros(4, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match="inside clamp"):
        rob.fgsm(m, X + 2, y, 0.1)
    with pytest.raises(ValueError, match="clamp"):
        rob.fgsm(m, X, y, 0.1, clamp=(1, 0))
    with pytest.raises(ValueError, match="steps"):
        rob.pgd(m, X, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="loss"):
        rob.fgsm(m, X, y, 0.1, loss="hinge")
    with pytest.raises(ValueError, match="method"):
        rob.robust_accuracy(m, X, y, [0.1], method="cw")
    with pytest.raises(ValueError, match="temperature"):
        rob.fgsm(m, X, y, 0.1, temperature=0)
    with pytest.raises(ValueError, match="same shape"):
        rob.project_linf(torch.rand(2, 2), X, 0.1)
    W, b, Xl, yl = toy()
    with pytest.raises(ValueError, match="b must have shape"):
        rob.linear_margins(W, b[:3], Xl, yl)
    with pytest.raises(ValueError, match="X must have shape"):
        rob.linear_margins(W, b, Xl[:, :5], yl)
    with pytest.raises(ValueError, match="class indices"):
        rob.linear_margins(W, b, Xl, yl + 4)
    with pytest.raises(ValueError, match="epsilon"):
        rob.linear_certified(W, b, Xl, yl, -1)
