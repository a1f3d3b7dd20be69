"""course_lib.distill.meta (Reptile on batched functional perceptrons, its distillation) and labs/ch4/meta.py."""
import math

import pytest
import torch

from course_lib.distill import meta


def _net(seeds=(0,), hidden=(5,)):
    return meta.init_params(hidden, seeds=seeds)


def test_init_shapes_and_seeding():
    p = meta.init_params((8, 4), seeds=[0, 1, 2])
    assert [tuple(w.shape) for w in p["W"]] == [(3, 1, 8), (3, 8, 4), (3, 4, 1)]
    assert meta.n_params(p) == (1 * 8 + 8) + (8 * 4 + 4) + (4 * 1 + 1)
    q = meta.init_params((8, 4), seeds=[0])
    assert torch.equal(p["W"][1][0], q["W"][1][0])          # seed 0 is the same net in any batch
    assert not torch.equal(p["W"][1][0], p["W"][1][1])
    assert p["W"][0].abs().max() <= 1.0                     # uniform(+-1/sqrt(fan_in)), fan_in 1


def test_forward_matches_nn_linear():
    p = _net(hidden=(3,))
    lin1, lin2 = torch.nn.Linear(1, 3), torch.nn.Linear(3, 1)
    with torch.no_grad():
        lin1.weight.copy_(p["W"][0][0].T), lin1.bias.copy_(p["b"][0][0, 0])
        lin2.weight.copy_(p["W"][1][0].T), lin2.bias.copy_(p["b"][1][0, 0])
    x = torch.linspace(-2, 2, 7).reshape(1, 7, 1)
    torch.testing.assert_close(meta.forward(p, x)[0], lin2(torch.tanh(lin1(x[0]))))


def test_adapt_one_step_is_sgd_and_copies():
    p = _net()
    x = torch.linspace(-1, 1, 4).reshape(1, 4, 1)
    y = torch.sin(x)
    before = [w.clone() for w in meta._flat(p)]
    q = meta.adapt(p, x, y, steps=1, lr=0.1, clip=1e9)
    leaf = [w.clone().requires_grad_(True) for w in meta._flat(p)]
    loss = ((meta.forward(meta._unflat(leaf, "tanh"), x) - y) ** 2).mean()
    grads = torch.autograd.grad(loss, leaf)
    for a, w, g in zip(meta._flat(q), before, grads):
        torch.testing.assert_close(a, w - 0.1 * g)
    for w, b in zip(meta._flat(p), before):
        assert torch.equal(w, b)                            # the initialisation is not changed
    assert all(torch.equal(a, w) for a, w in zip(meta._flat(meta.adapt(p, x, y, steps=0, lr=0.1)), before))


def test_adapt_clips_per_task():
    p = meta.expand(_net(), 2)
    x = torch.linspace(-1, 1, 4).reshape(1, 1, 4, 1).expand(1, 2, 4, 1)
    y = torch.stack([torch.sin(x[0, 0]), 100 * torch.sin(x[0, 0])])[None]
    q = meta.adapt(p, x, y, steps=1, lr=1.0, clip=0.5)
    moved = [torch.sqrt(sum(((a[0, i] - w[0, i]) ** 2).sum() for a, w in zip(meta._flat(q), meta._flat(p))))
             for i in range(2)]
    assert float(moved[1]) == pytest.approx(0.5, rel=1e-4)  # the large task's step is clipped to norm 0.5
    assert float(moved[0]) <= 0.5 + 1e-6


def test_reptile_update_known_values():
    p = {"W": [torch.zeros(1, 1, 1)], "b": [torch.zeros(1, 1, 1)], "act": "tanh"}
    adapted = {"W": [torch.tensor([2.0, 4.0]).reshape(1, 2, 1, 1)], "b": [torch.ones(1, 2, 1, 1)], "act": "tanh"}
    q = meta.reptile_update(p, adapted, 0.5)              # theta + 0.5 * (mean(2, 4) - 0) = 1.5
    assert float(q["W"][0]) == pytest.approx(1.5) and float(q["b"][0]) == pytest.approx(0.5)


def test_meta_training_helps_and_is_finite():
    seeds = [0]
    p = meta.init_params((16, 16), seeds=seeds)
    tasks = meta.held_out_tasks(50, seed=3, models=1)
    base = meta.post_adaptation_mse(p, tasks, steps=5, lr=0.05).mean()
    q = meta.meta_train(p, 60, seeds=seeds, inner_lr=0.05, outer_lr=0.02, inner_steps=3)
    after = meta.post_adaptation_mse(q, tasks, steps=5, lr=0.05).mean()
    assert torch.isfinite(after) and after < 0.9 * base
    d = meta.meta_train(p, 5, seeds=seeds, inner_lr=0.05, teacher=q, query=8)
    assert all(torch.isfinite(w).all() for w in meta._flat(d))
    pre = meta.pretrain(p, 30, seeds=seeds, lr=0.05)
    assert meta.post_adaptation_mse(pre, tasks, steps=0).mean() < meta.post_adaptation_mse(p, tasks, steps=0).mean()
    assert all(torch.isfinite(w).all() for w in meta._flat(pre))


def test_distillation_weight_zero_is_reptile():
    p = meta.init_params((4,), seeds=[0])
    t = meta.init_params((6,), seeds=[5])
    a = meta.meta_train(p, 3, seeds=[0])
    b = meta.meta_train(p, 3, seeds=[0], teacher=t, distill_weight=0.0)
    assert all(torch.allclose(x, y) for x, y in zip(meta._flat(a), meta._flat(b)))
    c = meta.meta_train(p, 3, seeds=[0], teacher=t, distill_weight=1.0)
    assert not all(torch.allclose(x, y) for x, y in zip(meta._flat(a), meta._flat(c)))


def test_post_adaptation_steps_are_incremental():
    p = meta.init_params((8,), seeds=[0])
    tasks = meta.held_out_tasks(5, seed=0)
    e = meta.post_adaptation_mse(p, tasks, steps=[0, 2, 5], lr=0.05)
    assert e.shape == (3, 1, 5)
    torch.testing.assert_close(e[2], meta.post_adaptation_mse(p, tasks, steps=5, lr=0.05)[0])
    # zero steps: the error of the initialisation itself on the grid
    yg = meta.sine(tasks["a"], tasks["ph"], meta.grid(100))
    torch.testing.assert_close(e[0], ((meta.forward(p, meta.grid(100)) - yg) ** 2).mean(dim=(-2, -1)))


def test_sine_tasks_in_range_and_split_disjoint():
    a, ph = meta.sample_tasks((3, 100), seed=1)
    assert a.min() >= 0.1 and a.max() <= 5.0 and ph.min() >= 0 and ph.max() <= math.pi
    v, t = meta.held_out_tasks(20, seed=1), meta.held_out_tasks(20, seed=0)
    assert not torch.equal(v["a"], t["a"])


@pytest.mark.parametrize("call, match", [
    (lambda: meta.held_out_tasks(5, seed=0, shots=0), "shots"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], shots=0), "shots"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], inner_steps=-1), "inner_steps"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], inner_lr=0), "inner_lr"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], outer_lr=-1), "outer_lr"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], amplitude=(3, 3)), "amplitude"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], phase=(2, 1)), "phase"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0, 1]), "seeds"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], teacher=_net(), distill_weight=2), "distill_weight"),
    (lambda: meta.meta_train(_net(), 1, seeds=[0], outer="rmsprop"), "outer"),
    (lambda: meta.sample_tasks((2,), seed=0, amplitude=(-1, 2)), "amplitude"),
    (lambda: meta.sample_tasks((2,), seed=0, amplitude=None), "amplitude"),
    (lambda: meta.adapt(_net(), torch.zeros(1, 3, 1), torch.zeros(1, 3, 1), steps=-1, lr=0.1), "steps"),
    (lambda: meta.adapt(_net(), torch.zeros(1, 3, 1), torch.zeros(1, 2, 1), steps=1, lr=0.1), "same shape"),
    (lambda: meta.adapt(_net(), torch.zeros(1, 3, 1), torch.zeros(1, 3, 1), steps=1, lr=0.1, clip=0), "clip"),
    (lambda: meta.reptile_update(_net(), meta.expand(_net(), 2), 1.5), "outer_lr"),
    (lambda: meta.init_params((), seeds=[0]), "hidden"),
    (lambda: meta.init_params((4,), seeds=[0], activation="gelu"), "activation"),
    (lambda: meta.post_adaptation_mse(_net(), meta.held_out_tasks(3, seed=0), steps=-2), "steps"),
    (lambda: meta.post_adaptation_mse(_net(), meta.held_out_tasks(3, seed=0, models=2), steps=1), "models"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_finite_raises():
    p = _net()
    x = torch.linspace(-1, 1, 4).reshape(1, 4, 1)
    with pytest.raises(FloatingPointError, match="non-finite"):
        meta.adapt(p, x, torch.full_like(x, float("nan")), steps=1, lr=0.1)


def test_lab_run_and_errors(monkeypatch, tmp_path):
    from course_lib.labs.ch4 import meta as lab
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    monkeypatch.setattr(lab, "TEACHER_ITERS", 3)
    monkeypatch.setattr(lab, "STUDENT_ITERS", 3)
    lab.setup.cache_clear()
    lab.choose_weight.cache_clear()
    s = lab.setup(0)
    r = lab.run(s, steps=2, amplitude=2.0, phase=0.5)
    assert set(r["mse"]) == {"teacher", *lab.ROLES} and all(math.isfinite(v) for v in r["mse"].values())
    assert "distilled" in lab.summary(r)
    for bad, match in (({"steps": -1}, "steps"), ({"amplitude": 9.0}, "amplitude"), ({"phase": -1.0}, "phase")):
        with pytest.raises(ValueError, match=match):
            lab.run(s, **bad)
    with pytest.raises(ValueError, match="role"):
        lab.student(0, "teacher")
    with pytest.raises(ValueError, match="part"):
        lab.study(0, part="train")
    w, errs = lab.choose_weight(0, n_tasks=5)
    assert w in lab.DISTILL_WEIGHTS and set(errs) == set(lab.DISTILL_WEIGHTS)
    assert lab.study(0, n_tasks=5)["teacher"].shape == (len(lab.KS), lab.N_SEEDS)
    lab.choose_weight.cache_clear()
    lab.setup.cache_clear()
