import numpy as np
import pytest
import torch

from course_lib.distill import language as LG
from course_lib.distill.layer_mapping import SeqEncoder


def test_labels_known_cases():
    x = torch.tensor([[5, 5, 1, 5, 2, 3],    # first token 5 -> 1; occurs twice more; counts 0..3: 0,1,1,1 -> 1
                      [2, 0, 0, 3, 3, 1],    # first 2 -> 2; never again; counts 2,1,1,2 -> 0 (tie to smaller)
                      [3, 3, 3, 3, 3, 3]])   # first 3 -> 3; five more, clipped at 3; counts -> 3
    assert LG.labels("first", x).tolist() == [1, 2, 3]
    assert LG.labels("last", x).tolist() == [3, 1, 3]
    assert LG.labels("match", x).tolist() == [2, 0, 3]
    assert LG.labels("count", x).tolist() == [1, 0, 3]


def test_make_task_is_seeded_and_shaped():
    x1, y1 = LG.make_task("match", 50, length=6, vocab=5, seed=3)
    x2, y2 = LG.make_task("match", 50, length=6, vocab=5, seed=3)
    assert x1.shape == (50, 6) and x1.dtype == torch.int64 and int(x1.max()) < 5
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, LG.make_task("match", 50, length=6, vocab=5, seed=4)[0])
    assert set(y1.tolist()) <= {0, 1, 2, 3}


def test_bad_input():
    with pytest.raises(ValueError, match="task"):
        LG.make_task("reverse", 10)
    with pytest.raises(ValueError, match="task"):
        LG.labels("hop", torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="vocab"):
        LG.make_task("first", 10, vocab=2)
    with pytest.raises(ValueError, match="method"):
        LG.resolve_method("middle", 2, 4)
    with pytest.raises(ValueError, match="only 4 layers"):   # a mapping longer than the teacher
        LG.resolve_method([1, 2, 3, 4, 4], 2, 4)
    with pytest.raises(ValueError, match="1..4"):
        LG.resolve_method([0, 5], 2, 4)
    with pytest.raises(ValueError, match="x must be"):
        LG.labels("first", torch.zeros(4, dtype=torch.long))


def test_resolve_method():
    assert LG.resolve_method("uniform", 2, 4) == ("uniform", [2, 4])
    assert LG.resolve_method("first", 2, 4) == ("first", [1, 2])
    assert LG.resolve_method("last", 2, 4) == ("last", [3, 4])
    assert LG.resolve_method("output", 2, 4) == ("output", None)
    assert LG.resolve_method([1, 4], 2, 4) == ("mapping 1,4", [1, 4])


def _tiny_teacher():
    return SeqEncoder(6, 5, 4, d_model=8, n_layers=3, n_heads=2, d_ff=16, seed=0).eval()


def test_train_student_methods_and_errors():
    t = _tiny_teacher()
    X, y = LG.make_task("first", 20, length=5, vocab=6, seed=0)
    for method in ("scratch", "output", "last", [1, 3]):
        s = LG.train_student(t, method, X, X[:8], y[:8], n_layers=2, steps=3, seed=1)
        assert s.n_layers == 2 and s(X).shape == (20, 4)
    a = LG.train_student(t, "first", X, X[:8], y[:8], n_layers=2, steps=3, seed=1)
    b = LG.train_student(t, "first", X, X[:8], y[:8], n_layers=2, steps=3, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ValueError, match="n_layers"):
        LG.train_student(t, "first", X, X, y, n_layers=4)
    with pytest.raises(ValueError, match="same number of rows"):
        LG.train_student(t, "first", X, X[:8], y[:5], n_layers=2, steps=1)
    with pytest.raises(ValueError, match="beta"):
        LG.train_student(t, "first", X, X, y, beta=-1.0)
    with pytest.raises(ValueError, match="same length"):
        LG.train_student(t, "first", X[:, :4], X[:8], y[:8], n_layers=2, steps=1)
    with pytest.raises(ValueError, match="teacher_logits must have shape"):
        LG.train_student(t, "output", X, X[:8], y[:8], n_layers=2, steps=1, teacher_logits=torch.zeros(3, 4))


def test_hidden_distillation_pulls_the_student_towards_its_mapped_layers():
    t = _tiny_teacher()
    X, y = LG.make_task("first", 64, length=5, vocab=6, seed=0)
    from course_lib.distill.layer_mapping import hidden_state_loss, teacher_hidden
    _, th = teacher_hidden(t, X)
    s0 = LG.train_student(t, "scratch", X, X[:8], y[:8], n_layers=2, steps=60, seed=1)
    s1 = LG.train_student(t, [1, 2], X, X[:8], y[:8], n_layers=2, steps=60, seed=1, beta=5.0)
    with torch.no_grad():
        l0 = hidden_state_loss(s0(X, return_hidden=True)[1], th, [1, 2]).item()
        l1 = hidden_state_loss(s1(X, return_hidden=True)[1], th, [1, 2]).item()
    assert l1 < 0.5 * l0


def test_probe_layers():
    t = _tiny_teacher()
    X, y = LG.make_task("first", 200, length=5, vocab=6, seed=0)
    feats = LG.pooled_states(t, X)
    assert len(feats) == 4 and feats[0].shape == (200, 8)
    acc = LG.probe_layers(t, X[:150], y[:150], X[150:], y[150:])
    assert acc.shape == (4,) and np.all((acc >= 0) & (acc <= 1))
    # a probe on features that contain the label exactly is perfect
    f = np.eye(4)[y.numpy()]
    assert LG.probe_accuracy(f[:150], y[:150], f[150:], y[150:]) == 1.0
    with pytest.raises(ValueError, match="same number of rows"):
        LG.probe_accuracy(f[:150], y[:140], f[150:], y[150:])


def test_pooled_hidden_loss_known_values():
    t = [torch.zeros(2, 3, 4) for _ in range(3)]
    t[0][..., 0] = 1.0   # teacher layer 1 pools to e1
    t[1][..., 1] = 2.0   # teacher layer 2 pools to 2 * e2 (normalised: e2)
    t[2][..., 0] = -1.0  # teacher layer 3 pools to -e1
    s = [t[0].clone(), 5 * t[0].clone()]  # both student layers pool to a multiple of e1
    assert LG.pooled_hidden_loss(s, t, [1, 1]).item() == pytest.approx(0.0)
    assert LG.pooled_hidden_loss(s, t, [1, 2]).item() == pytest.approx((0 + 2) / 2)   # |e1 - e2|^2 = 2
    assert LG.pooled_hidden_loss(s, t, [3, 3]).item() == pytest.approx(4.0)          # |e1 + e1|^2 = 4
    with pytest.raises(ValueError, match="only 3 layers"):
        LG.pooled_hidden_loss(s, t, [1, 2, 3, 3])


def test_build_student_and_pooled_training():
    t = _tiny_teacher()
    s = LG.build_student(t, 2, seed=4)
    assert s.n_layers == 2 and s.d_model == t.d_model and s.head.out_features == 4
    with pytest.raises(ValueError, match="n_layers"):
        LG.build_student(t, 5)
    X, y = LG.make_task("first", 20, length=5, vocab=6, seed=0)
    out = LG.train_student(t, "uniform", X, X[:8], y[:8], n_layers=2, steps=3, seed=4, pooled=True, student=s)
    assert out is s
    with pytest.raises(ValueError, match="student has 2 layers"):
        LG.train_student(t, "uniform", X, X[:8], y[:8], n_layers=1, steps=1, student=s)


def test_output_distillation_follows_the_given_teacher_logits():
    """With teacher_logits, output distillation copies those predictions (not the teacher's top head)."""
    t = _tiny_teacher()
    X, _ = LG.make_task("first", 64, length=5, vocab=6, seed=0)
    target = torch.full((64, 4), -5.0)
    target[:, 2] = 5.0   # always class 2
    s = LG.train_student(t, "output", X, X[:4], torch.full((4,), 2), n_layers=1, steps=60, seed=0,
                         teacher_logits=target)
    with torch.no_grad():
        assert (s(X).argmax(-1) == 2).float().mean().item() == 1.0


def test_exit_encoder_heads():
    m = LG.ExitEncoder(6, 5, 4, exit_layer=2, d_model=8, n_layers=3, n_heads=2, d_ff=16, seed=0).eval()
    x = torch.randint(0, 6, (7, 5), generator=torch.Generator().manual_seed(0))
    a, b = m.heads(x)
    assert a.shape == b.shape == (7, 4)
    with torch.no_grad():
        _, h = m(x, return_hidden=True)
        assert torch.allclose(a, m.exit(h[1].mean(1))) and torch.allclose(b, m(x))
    # the same seed builds the same model; the exit head is initialised differently from the top head
    m2 = LG.ExitEncoder(6, 5, 4, exit_layer=2, d_model=8, n_layers=3, n_heads=2, d_ff=16, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(m.state_dict().values(), m2.state_dict().values()))
    assert not torch.equal(m.exit.weight, m.head.weight)
    with pytest.raises(ValueError, match="exit_layer"):
        LG.ExitEncoder(6, 5, 4, exit_layer=4, d_model=8, n_layers=3, n_heads=2, d_ff=16)


def test_two_task_teacher_learns_both_heads_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    kw = dict(exit_task="first", top_task="last", exit_layer=1, n_layers=2, steps=120, batch=128, lr=1e-2,
              length=4, vocab=4, d_model=16, seed=0)
    t = LG.train_two_task_teacher(**kw)
    assert len(list(tmp_path.glob("seq_two_task_teacher-*.pt"))) == 1
    x, yf = LG.make_task("first", 300, length=4, vocab=4, seed=9)
    yl = LG.labels("last", x)
    with torch.no_grad():
        a, b = t.heads(x)
    assert (a.argmax(-1) == yf).float().mean() > 0.9 and (b.argmax(-1) == yl).float().mean() > 0.9
    t2 = LG.train_two_task_teacher(**kw)   # loaded from disk: the same weights
    assert all(torch.equal(p, q) for p, q in zip(t.state_dict().values(), t2.state_dict().values()))


def test_two_task_teacher_bad_input():
    with pytest.raises(ValueError, match="must differ"):
        LG.train_two_task_teacher("first", "first")
    with pytest.raises(ValueError, match="top_task"):
        LG.train_two_task_teacher("first", "middle")
    with pytest.raises(ValueError, match="exit_layer"):
        LG.train_two_task_teacher(exit_layer=4, n_layers=4)
    with pytest.raises(ValueError, match="batch"):
        LG.train_two_task_teacher(batch=0)
    with pytest.raises(ValueError, match="lr"):
        LG.train_two_task_teacher(lr=0.0)
