"""A1 image recognition: rendering, the two architectures, measured cost, the student objective, the lab."""
import numpy as np
import pytest
import torch
from torch import nn

from course_lib.distill import vision as V


def test_render_digits_shape_seed_and_global_state():
    X = torch.zeros(3, 64)
    X[:, 27:29] = 1.0  # a small blob in the middle of each digit
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = V.render_digits(X, seed=1)
    assert torch.equal(torch.get_rng_state(), before)  # the global stream is untouched
    assert a.shape == (3, 1, 16, 16)
    assert torch.equal(a, V.render_digits(X.view(3, 8, 8), seed=1))
    assert not torch.equal(a, V.render_digits(X, seed=2))
    clean = V.render_digits(X, max_rotation=0, max_shift=0, noise=0, seed=0)
    # no rotation, shift or noise: every image is the same centred upscaled glyph, ink only inside the 12x12 box
    assert torch.allclose(clean[0], clean[1])
    assert clean[0, 0, :2].abs().sum() == 0 and clean[0, 0, :, -2:].abs().sum() == 0 and clean.sum() > 0


def test_render_digits_bad_input():
    X = torch.rand(2, 64)
    with pytest.raises(ValueError, match="size"):
        V.render_digits(X, size=-16)
    with pytest.raises(ValueError, match="glyph"):
        V.render_digits(X, size=16, glyph=20)
    with pytest.raises(ValueError, match="max_rotation"):
        V.render_digits(X, max_rotation=-5)
    with pytest.raises(ValueError, match="noise"):
        V.render_digits(X, noise=-0.1)
    with pytest.raises(ValueError, match="8x8"):
        V.render_digits(torch.rand(2, 63))
    with pytest.raises(ValueError, match="float tensor"):
        V.render_digits(np.zeros((2, 64)))


def test_rotate_and_labelled_indices():
    img = torch.zeros(1, 1, 5, 5)
    img[0, 0, 2, 4] = 1.0  # right of centre
    r = V.rotate(img, 90)  # counter-clockwise: to the top
    assert r[0, 0].argmax() == 2 * 0 + 2 and torch.isclose(r.sum(), torch.tensor(1.0))
    assert V.rotate(img, 0) is img
    with pytest.raises(ValueError, match="angle"):
        V.rotate(img, 200)
    with pytest.raises(ValueError, match="images"):
        V.rotate(img[0], 10)
    y = torch.tensor([0] * 10 + [1] * 20)
    idx = V.labelled_indices(y, 0.1, seed=0)
    assert (y[idx] == 0).sum() == 1 and (y[idx] == 1).sum() == 2 and torch.equal(idx, idx.sort().values)
    assert torch.equal(idx, V.labelled_indices(y, 0.1, seed=0))
    with pytest.raises(ValueError, match="fraction"):
        V.labelled_indices(y, 0)
    with pytest.raises(ValueError, match="y must"):
        V.labelled_indices(torch.tensor([]), 0.5)


def test_architectures_feature_maps_and_separable_blocks():
    x = torch.randn(2, 1, 16, 16)
    t, s = V.CNNTeacher(8, seed=0), V.SeparableStudent(4, seed=0)
    for a, b in zip(s.state_dict().values(), V.SeparableStudent(4, seed=0).state_dict().values()):
        assert torch.equal(a, b)  # the same seed builds the same weights
    (ta, tb), tl = t.feats(x)
    (sa, sb), sl = s.feats(x)
    assert ta.shape == (2, 16, 8, 8) and tb.shape == (2, 16, 4, 4) and tl.shape == (2, 10)
    assert sa.shape == (2, 4, 8, 8) and sb.shape == (2, 8, 4, 4) and sl.shape == (2, 10)
    depthwise = [m for m in s.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == 2 and all(m.groups == m.in_channels == m.out_channels for m in depthwise)
    with pytest.raises(ValueError, match="channels"):
        V.SeparableStudent(0)
    with pytest.raises(ValueError, match="1-channel"):
        s(torch.randn(2, 3, 16, 16))


def test_cost_is_flop_counter_on_known_layers():
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    c = V.cost(conv, (2, 5, 5))
    assert c["macs"] == 2 * 3 * 9 * 25 and c["flops"] == 2 * c["macs"] and c["params"] == 54
    dw = nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)
    assert V.cost(dw, (4, 6, 6))["macs"] == 4 * 9 * 36  # one 3x3 filter per channel
    block = V.separable_block(4, 8)
    # depthwise 4*9*36 plus pointwise 4*8*36; batch norm and ReLU are not counted
    assert V.cost(block, (4, 6, 6))["macs"] == 4 * 9 * 36 + 4 * 8 * 36
    t, s = V.cost(V.CNNTeacher()), V.cost(V.SeparableStudent())
    assert t["macs"] > 10 * s["macs"] and t["params"] > 10 * s["params"]
    with pytest.raises(ValueError, match="input_shape"):
        V.cost(conv, (-1, 5, 5))
    with pytest.raises(ValueError, match="input_shape"):
        V.cost(conv, (3, 5, 5))  # wrong number of channels
    with pytest.raises(ValueError, match="model"):
        V.cost("not a model")


def test_student_objective_terms_and_errors():
    X = torch.randn(12, 1, 16, 16)
    y = torch.arange(12) % 10
    lab = torch.tensor([0, 1, 2])
    t = V.CNNTeacher(4, seed=0).eval()
    with torch.no_grad():
        feats, logits = t.feats(X)
    s = V.SeparableStudent(4, seed=1)
    idx = torch.arange(12)
    assert set(V.student_objective("scratch", X, lab, y)(s, idx)) == {"ce", "loss"}
    both = V.student_objective("both", X, lab, y, logits, feats, T=2.0, beta=10.0)(s, idx)
    assert set(both) == {"ce", "kd", "at", "loss"}
    assert torch.isclose(both["loss"], both["ce"] + both["kd"] + both["at"])
    # a student that copies the teacher exactly has no distillation loss
    copy = V.student_objective("both", X, lab, y, logits, feats)(t, idx)
    assert copy["kd"].abs() < 1e-5 and copy["at"].abs() < 1e-6
    with pytest.raises(ValueError, match="kind"):
        V.student_objective("magic", X, lab, y)
    with pytest.raises(ValueError, match="teacher_logits"):
        V.student_objective("logits", X, lab, y)
    with pytest.raises(ValueError, match="teacher_feats"):
        V.student_objective("features", X, lab, y, logits)
    with pytest.raises(ValueError, match="labelled"):
        V.student_objective("scratch", X, torch.tensor([20]), y)
    with pytest.raises(ValueError, match="T"):
        V.student_objective("logits", X, lab, y, logits, T=0)


def test_bad_seeds_and_kinds():
    with pytest.raises(ValueError, match="split_seed"):
        V.image_set(-1)
    with pytest.raises(ValueError, match="kind"):
        V.student("magic")
    with pytest.raises(ValueError, match="fraction"):
        V.student("scratch", fraction=1.5)
    with pytest.raises(ValueError, match="seeds"):
        V.experiment(0, [])


def test_lab_run_on_a_tiny_setup():
    from course_lib.labs.ch4 import vision as lab

    X = V.render_digits(torch.rand(10, 64), seed=0)
    nets = {k: V.SeparableStudent(2, seed=i).eval() for i, k in enumerate(lab.MODELS)}
    s = dict(nets=nets, X=X, y=torch.arange(10), z=torch.randn(X.shape))
    r = lab.run(s, angle=30, noise=0.2)
    assert set(r["accuracy"]) == set(lab.MODELS) and all(0 <= a <= 1 for a in r["accuracy"].values())
    assert r["images"].shape == (16, lab.N_SHOW * 17) and len(r["labels"]) == lab.N_SHOW
    assert "teacher" in lab.summary(r)
    with pytest.raises(ValueError, match="angle"):
        lab.run(s, angle=400)
    with pytest.raises(ValueError, match="noise"):
        lab.run(s, noise=-1)
