"""Chapter-1 methods in course_lib.distill: hints, dark-knowledge probes, training FLOPs; embedding metrics."""
import pytest
import torch

from course_lib import metrics, models
from course_lib.distill import dark_knowledge as dk
from course_lib.distill import hints
from course_lib.distill.landscape import training_flops


def test_hint_regressor_shapes_and_errors():
    r = hints.HintRegressor(4, 16, seed=0)
    assert r(torch.randn(7, 4)).shape == (7, 16)
    assert torch.equal(r.proj.weight, hints.HintRegressor(4, 16, seed=0).proj.weight)
    with pytest.raises(ValueError, match="in_features"):
        hints.HintRegressor(0, 16)


def test_hint_student_reads_the_guided_layer():
    net = hints.HintStudent(models.mlp(8, (6, 5), 3, seed=0), "act2", 12, seed=0)
    assert net.regressor.proj.in_features == 5 and net.regressor.proj.out_features == 12
    assert net(torch.randn(2, 8)).shape == (2, 3)
    with pytest.raises(ValueError, match="guided must be a layer"):
        hints.HintStudent(models.mlp(8, (6,), 3), "act9", 12)


def test_add_feature_noise_fixed_and_scaled():
    f = torch.randn(500, 3) * torch.tensor([1.0, 10.0, 0.1])
    a = hints.add_feature_noise(f, 2.0, seed=1)
    assert torch.equal(a, hints.add_feature_noise(f, 2.0, seed=1))
    ratio = (a - f).std(0) / f.std(0)
    assert torch.allclose(ratio, torch.full((3,), 2.0), rtol=0.15)
    assert torch.equal(hints.add_feature_noise(f, 0.0), f)
    with pytest.raises(ValueError, match="noise must be in"):
        hints.add_feature_noise(f, -1.0)


def test_misalign_moves_the_given_fraction():
    f = torch.arange(100.0)[:, None]
    m = hints.misalign(f, 0.4, seed=0)
    moved = (m != f).flatten().sum()
    assert 30 <= int(moved) <= 40 and torch.equal(m.sort(0).values, f)  # a permutation of some rows
    assert torch.equal(hints.misalign(f, 0.0), f)
    with pytest.raises(ValueError, match="fraction must be in"):
        hints.misalign(f, 1.5)


def test_bias_shift_and_error_counts():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    y = torch.tensor([1, 1, 0])
    assert dk.error_counts(logits, y, 1) == (1, 1)
    shifted = dk.bias_shift(logits, 1, 1.5)
    assert torch.equal(shifted[:, 0], logits[:, 0]) and torch.allclose(shifted[:, 1], logits[:, 1] + 1.5)
    assert dk.error_counts(shifted, y, 1) == (0, 0)
    with pytest.raises(ValueError, match="cls must be in 0..1, got 2"):
        dk.bias_shift(logits, 2, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        dk.bias_shift(logits[0], 0, 1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        dk.error_counts(logits, y[:2], 1)


def test_permute_non_top_keeps_top_and_values():
    logits = torch.randn(200, 10, generator=torch.Generator().manual_seed(0))
    p = dk.permute_non_top(logits, seed=1)
    assert torch.equal(p.argmax(1), logits.argmax(1))
    assert torch.equal(p.sort(1).values, logits.sort(1).values)  # the same values per row
    assert (p != logits).any(1).float().mean() > 0.95  # the wrong classes really are reshuffled
    assert torch.equal(p, dk.permute_non_top(logits, seed=1))
    with pytest.raises(ValueError, match="2-D"):
        dk.permute_non_top(logits[0])


def test_spread_non_top_keeps_top_probability_and_flattens_the_rest():
    logits = torch.randn(50, 10, generator=torch.Generator().manual_seed(0)) * 3
    T = 4.0
    p, q = torch.softmax(logits / T, -1), torch.softmax(dk.spread_non_top(logits, T) / T, -1)
    assert torch.equal(q.argmax(1), p.argmax(1))
    assert torch.allclose(q.max(1).values, p.max(1).values, atol=1e-5)
    rest = q.masked_fill(torch.nn.functional.one_hot(q.argmax(1), 10).bool(), float("nan"))
    assert torch.allclose(rest.nan_to_num(0).sum(1) / 9, rest.nanmean(1), atol=1e-6)
    assert float((rest.nan_to_num(0).amax(1) - rest.nanmean(1)).abs().max()) < 1e-5  # all wrong classes equal
    with pytest.raises(ValueError, match="T must be > 0"):
        dk.spread_non_top(logits, 0.0)


def test_training_flops_known_value():
    m = models.mlp(4, (3,), 2)
    fwd = models.flops(m, (4,))
    assert fwd == 2 * 4 * 3 + 3 + 2 * 3 * 2 + 2
    assert training_flops(m, 4, 10, 5) == 3 * fwd * 10 * 5
    with pytest.raises(ValueError, match="epochs must be in"):
        training_flops(m, 4, 10, -1)


def test_recall_at_1_and_distance_correlation():
    emb = torch.tensor([[0.0], [0.1], [5.0], [5.1], [0.2]])
    assert metrics.recall_at_1(emb, torch.tensor([0, 0, 1, 1, 0])) == pytest.approx(1.0)
    assert metrics.recall_at_1(emb, torch.tensor([0, 1, 2, 3, 4])) == 0.0
    with pytest.raises(ValueError, match="labels must have shape"):
        metrics.recall_at_1(emb, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="2-D"):
        metrics.recall_at_1(torch.zeros(5), torch.zeros(5))
    a = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    assert metrics.distance_correlation(a, 3 * a + 1) == pytest.approx(1.0, abs=1e-5)
    assert metrics.distance_correlation(a, torch.randn(20, 2, generator=torch.Generator().manual_seed(1))) < 0.9
    with pytest.raises(ValueError, match="same number of rows"):
        metrics.distance_correlation(a, a[:5])


def test_fidelity_summary():
    t = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    r = metrics.fidelity(t, t, t.flip(1), t, torch.tensor([0, 1]))
    assert r["agree_train"] == 1.0 and r["agree_test"] == 0.0 and r["accuracy"] == 0.0
    assert r["kl_train"] == pytest.approx(0.0, abs=1e-7) and r["kl_test"] > 0


def test_error_curve_equals_error_counts_shift_by_shift():
    import numpy as np

    from course_lib.distill.dark_knowledge import bias_shift, error_counts, error_curve

    g = torch.Generator().manual_seed(3)
    z = torch.randn(200, 10, generator=g) * 3
    z[:6, 3] = z[:6, 4] - 0.5  # a shift of 0.5 makes exact ties, where argmax takes the lower class
    y = torch.randint(0, 10, (200,), generator=g)
    shifts = np.arange(0.0, 6.01, 0.25)
    expected = np.array([error_counts(bias_shift(z, 3, v), y, 3) for v in shifts])
    assert (error_curve(z, y, 3, shifts) == expected).all()
    with pytest.raises(ValueError, match="cls must be"):
        error_curve(z, y, 10, shifts)
