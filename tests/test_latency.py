"""course_lib.latency: warm-up, medians, interleaving, clear errors."""
import time

import pytest
import torch

from course_lib import latency


def test_measure_counts_and_orders_statistics():
    calls = []
    t = latency.measure(lambda: calls.append(1), repeats=7, warmup=2, number=3)
    assert len(calls) == 2 + 7 * 3
    assert len(t.times) == 7
    assert t.best <= t.median <= t.p95
    assert "median" in str(t)


def test_compare_interleaves_and_ranks_slow_above_fast():
    order = []
    res = latency.compare({"fast": lambda: order.append("f"),
                           "slow": lambda: (order.append("s"), time.sleep(0.004))},
                          repeats=5, warmup=1)
    assert order[:6] == ["f", "s", "f", "s", "s", "f"]  # warm-up, then alternating order
    assert res["slow"].median > res["fast"].median + 0.002


def test_threads_context_restores():
    before = torch.get_num_threads()
    with latency.threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kw, word", [(dict(repeats=0), "repeats"), (dict(warmup=-1), "warmup"),
                                      (dict(number=0), "number"), (dict(n_threads=0), "threads")])
def test_bad_arguments_name_parameter(kw, word):
    with pytest.raises(ValueError, match=word):
        latency.measure(lambda: None, **kw)


def test_compare_needs_functions():
    with pytest.raises(ValueError, match="fns"):
        latency.compare({})


def test_paired_ratio():
    a = latency.Timing((2.0, 4.0, 6.0))
    b = latency.Timing((1.0, 2.0, 2.0))
    assert latency.paired_ratio(a, b) == 2.0
    with pytest.raises(ValueError, match="repeats"):
        latency.paired_ratio(a, latency.Timing((1.0,)))
