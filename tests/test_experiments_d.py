"""The plain functions behind the D3-D6 and D10 notebooks and their dashboards."""
import numpy as np
import pytest
import torch

from course_lib import experiments_d as E


def test_bias_shift_and_error_counts():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    y = torch.tensor([1, 1, 0])
    assert E.error_counts(logits, y, 1) == (1, 1)
    shifted = E.bias_shift(logits, 1, 1.5)
    assert torch.equal(shifted[:, 0], logits[:, 0]) and torch.allclose(shifted[:, 1], logits[:, 1] + 1.5)
    assert E.error_counts(shifted, y, 1) == (0, 0)
    with pytest.raises(ValueError, match="cls must be in 0..1, got 2"):
        E.bias_shift(logits, 2, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        E.bias_shift(logits[0], 0, 1.0)


def test_permute_non_top_keeps_top_and_values():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 10, generator=g)
    p = E.permute_non_top(logits, seed=1)
    assert torch.equal(p.argmax(1), logits.argmax(1))
    assert torch.equal(p.max(1).values, logits.max(1).values)
    assert torch.equal(p.sort(1).values, logits.sort(1).values)  # the same values per row
    moved = (p != logits).any(1).float().mean()
    assert moved > 0.95  # the wrong classes really are reshuffled
    assert torch.equal(p, E.permute_non_top(logits, seed=1))
    with pytest.raises(ValueError, match="2-D"):
        E.permute_non_top(logits[0])


def test_subset_run():
    r = E.subset_run(0.05, seed=0)
    assert r["n_labelled"] == pytest.approx(0.05 * 1077, abs=6)
    assert 0 < r["hard"] <= 1 and 0 < r["soft"] <= 1
    with pytest.raises(ValueError, match="fraction must be in"):
        E.subset_run(0.0)


def test_left_out_run_shift_choice_and_cache():
    r = E.left_out_run(3, T=2.0, seed=0)
    assert r["n_digit"] == int((E.setup()[0].y_test == 3).sum()) == 37 and r["n_test"] == 360
    assert r["curve"].shape == (len(r["shifts"]), 2)
    assert r["shift"] in set(r["shifts"].tolist())
    assert r["errors_digit"] <= r["errors"] and r["errors_digit"] == r["curve"][0, 1]
    fixed = E.left_out_run(3, T=2.0, seed=0, shift=0.0)
    assert fixed["errors_shifted"] == r["errors"]
    with pytest.raises(ValueError, match="digit must be in 0..9"):
        E.left_out_run(10)


def test_rank_order_run():
    a = E.rank_order_run((6,), seed=0, T=10.0)
    b = E.rank_order_run((6,), seed=0, T=10.0)
    assert a == b and a["params"] == 64 * 6 + 6 + 6 * 10 + 10


def test_hint_run_terms():
    r = E.hint_run(beta=1.0, seed=0, epochs=20)
    assert set(r) >= {"accuracy", "hint_loss", "ce"} and r["hint_loss"] > 0
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1000\]"):
        E.hint_run(beta=-1.0)


def test_embedding_run_methods():
    for m in ("none", "response", "rkd"):
        r = E.embedding_run(m, seed=0, hidden=4, epochs=10)
        assert 0 <= r["recall@1"] <= 1 and -1 <= r["distance_corr"] <= 1
    with pytest.raises(ValueError, match="method must be one of"):
        E.embedding_run("bogus")


def test_fidelity_run():
    r = E.fidelity_run(1.0, teacher="strong", seed=0, epochs=30)
    assert set(r) >= {"agree_train", "agree_test", "kl_train", "kl_test", "accuracy", "teacher_accuracy"}
    assert r["kl_train"] >= 0 and 0 <= r["agree_test"] <= 1
    with pytest.raises(ValueError, match="teacher must be one of"):
        E.fidelity_run(1.0, teacher="medium")
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        E.fidelity_run(1.5)


@pytest.mark.parametrize("fn, kwargs", [
    (E.left_out_run, dict(digit=3, T=3.5, seed=0)),
    (lambda **k: (E.rank_order_run((6,), permute=False, **k), E.rank_order_run((6,), permute=True, **k)),
     dict(T=10.0, seed=0)),
    (E.hint_run, dict(misaligned=0.5, beta=3.0, seed=0)),
    (E.fidelity_run, dict(alpha=0.5, teacher="weak", seed=0)),
])
def test_dashboard_callbacks_are_quick(fn, kwargs):
    """Median of three fresh calls; generous bound because tests share the CPU (the target is 0.3 s)."""
    import time
    fn(**kwargs)  # warm caches (teacher, data)
    times = []
    for i in range(3):
        k = dict(kwargs, seed=100 + i)
        t0 = time.perf_counter()
        fn(**k)
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 3.0, times
