"""D13's measurements: filter-normalised directions, perturbations that restore the weights, the top Hessian
eigenvalue against autograd's full Hessian, label smoothing matched by entropy, wrong-class spread, gradient noise."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import models
from course_lib.distill import gradvar, sharpness, smoothing


def test_direction_is_filter_normalised_and_spares_biases():
    m = models.mlp(5, (4,), 3, seed=0)
    d = sharpness.random_direction(m, seed=1)
    assert torch.allclose(d["fc1.weight"].norm(dim=1), m.fc1.weight.detach().norm(dim=1), rtol=1e-5)
    assert torch.count_nonzero(d["fc1.bias"]) == 0 and torch.count_nonzero(d["out.bias"]) == 0
    assert torch.equal(d["fc1.weight"], sharpness.random_direction(m, seed=1)["fc1.weight"])


def test_perturbed_restores_the_weights_even_after_an_error():
    m = models.mlp(5, (4,), 3, seed=0)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    d = sharpness.random_direction(m, seed=2)
    with pytest.raises(RuntimeError):
        with sharpness.perturbed(m, d, 0.5):
            assert not torch.equal(m.fc1.weight, before["fc1.weight"])
            raise RuntimeError("boom")
    assert all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
    with pytest.raises(ValueError, match="no entry for parameter"):
        with sharpness.perturbed(m, {}, 0.1):
            pass


def test_loss_slice_is_smallest_near_a_minimum():
    torch.manual_seed(0)
    X, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    m = models.mlp(5, (8,), 3, seed=0)
    opt = torch.optim.Adam(m.parameters(), 0.05)
    for _ in range(300):
        opt.zero_grad()
        F.cross_entropy(m(X), y).backward()
        opt.step()
    radii = torch.linspace(-1, 1, 11)
    ys = sharpness.loss_slice(m, sharpness.random_direction(m, seed=3), radii, lambda mm: F.cross_entropy(mm(X), y))
    assert int(ys.argmin()) in (4, 5, 6) and ys[0] > ys[5] and ys[-1] > ys[5]


def test_top_eigenvalue_matches_the_full_hessian():
    torch.manual_seed(0)
    X, y = torch.randn(30, 3), torch.randint(0, 2, (30,))
    m = models.mlp(3, (3,), 2, seed=4)
    names = [k for k, _ in m.named_parameters()]
    shapes = [p.shape for p in m.parameters()]
    flat0 = torch.cat([p.detach().flatten() for p in m.parameters()])

    def loss_of(flat):
        params, i = {}, 0
        for k, s in zip(names, shapes):
            n = int(np.prod(s))
            params[k] = flat[i:i + n].reshape(s)
            i += n
        return F.cross_entropy(torch.func.functional_call(m, params, (X,)), y)

    H = torch.autograd.functional.hessian(loss_of, flat0)
    eig = torch.linalg.eigvalsh(H)
    top = float(eig[eig.abs().argmax()])
    got = sharpness.top_hessian_eigenvalue(m, lambda mm: F.cross_entropy(mm(X), y), iters=500, tol=1e-7, seed=0)
    assert got["converged"] and got["eigenvalue"] == pytest.approx(top, rel=1e-3)


def test_accuracy_drop_and_its_errors():
    X, y = torch.randn(20, 5), torch.randint(0, 3, (20,))
    m = models.mlp(5, (4,), 3, seed=0)
    assert sharpness.accuracy_drop(m, [sharpness.random_direction(m, seed=0)], 0.0, X, y) == 0.0
    with pytest.raises(ValueError, match="directions must hold at least one"):
        sharpness.accuracy_drop(m, [], 0.5, X, y)
    with pytest.raises(ValueError, match=r"radius must be in \[0, 100\]"):
        sharpness.accuracy_drop(m, [sharpness.random_direction(m)], -1, X, y)


def test_smoothing_for_entropy_inverts_the_entropy():
    for h in (0.0, 0.3, 1.5, math.log(10) - 1e-9):
        eps = smoothing.smoothing_for_entropy(h, 10)
        assert smoothing.smoothed_entropy(eps, 10) == pytest.approx(h, abs=1e-6)
    assert smoothing.smoothing_for_entropy(math.log(10), 10) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"entropy must be in \[0, log n_classes"):
        smoothing.smoothing_for_entropy(3.0, 10)


def test_wrong_class_spread_tells_structure_from_uniform():
    uniform = np.full((4, 4), 0.1) + np.eye(4) * 0.6
    assert smoothing.wrong_class_spread(uniform) == pytest.approx(0.0, abs=1e-12)
    structured = uniform.copy()
    structured[0, 1] += 0.2
    assert smoothing.wrong_class_spread(structured) > 0.1
    probs = torch.softmax(torch.randn(40, 3), -1)
    labels = torch.arange(40) % 3
    M = smoothing.class_similarity(probs, labels)
    assert M.shape == (3, 3) and np.allclose(M.sum(1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="missing \\[2\\]"):
        smoothing.class_similarity(probs, labels % 2)
    with pytest.raises(ValueError, match="logits\\? apply softmax first"):
        smoothing.class_similarity(torch.randn(40, 3) * 5, labels)


def test_gradient_noise_to_signal_is_scale_free():
    m = models.mlp(5, (4,), 3, seed=0)
    X, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    G = gradvar.per_example_loss_grads(m, lambda z, t: F.cross_entropy(z, t), X, y)
    assert G.shape == (16, sum(p.numel() for p in m.parameters()))
    full = torch.autograd.grad(F.cross_entropy(m(X), y), list(m.parameters()))
    assert torch.allclose(G.mean(0), torch.cat([g.flatten() for g in full]), atol=1e-6)
    assert gradvar.noise_to_signal(G) == pytest.approx(gradvar.noise_to_signal(16 * G), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 rows"):
        gradvar.noise_to_signal(G[:1])
