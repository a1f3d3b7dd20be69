"""Wall-clock timings that survive a busy machine: warm up, repeat, report the median.

``measure(fn)`` calls ``fn`` a few times to warm caches and allocators, then
times ``repeats`` calls (each of ``number`` back-to-back runs) and returns a
:class:`Timing` with the median and 95th percentile per run. ``compare``
times several functions *interleaved* (a, b, then b, a, ...), so a burst of
background load hits all of them alike and their ratio stays meaningful.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ._checks import check_int_range


@dataclass(frozen=True)
class Timing:
    """Seconds per run of each repeat, with summary statistics."""
    times: tuple

    @property
    def median(self) -> float:
        return float(np.median(self.times))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.times, 95))

    @property
    def best(self) -> float:
        return float(min(self.times))

    def __str__(self):
        return f"median {self.median * 1e3:.3g} ms, p95 {self.p95 * 1e3:.3g} ms over {len(self.times)} repeats"


@contextlib.contextmanager
def threads(n: int | None):
    """Temporarily run torch with ``n`` intra-op threads (``None``: leave as is)."""
    if n is None:
        yield
        return
    n = check_int_range("threads", n, 1, 1024)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _check(repeats, warmup, number):
    check_int_range("repeats", repeats, 1, 10**6)
    check_int_range("warmup", warmup, 0, 10**6)
    check_int_range("number", number, 1, 10**6)


def compare(fns: dict, *, repeats: int = 25, warmup: int = 3, number: int = 1,
            n_threads: int | None = None) -> dict:
    """Time each ``fns[name]()`` interleaved; returns ``{name: Timing}`` (seconds per call)."""
    _check(repeats, warmup, number)
    if not fns:
        raise ValueError("fns must hold at least one function, got an empty dict")
    times = {k: [] for k in fns}
    with threads(n_threads):
        for _ in range(warmup):
            for fn in fns.values():
                fn()
        items = list(fns.items())
        for r in range(repeats):
            for k, fn in (items if r % 2 == 0 else items[::-1]):  # a, b, b, a, ...: no order bias
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                times[k].append((time.perf_counter() - t0) / number)
    return {k: Timing(tuple(v)) for k, v in times.items()}


def measure(fn: Callable, *, repeats: int = 25, warmup: int = 3, number: int = 1,
            n_threads: int | None = None) -> Timing:
    """Median / p95 seconds per call of ``fn()`` after ``warmup`` untimed calls."""
    return compare({"fn": fn}, repeats=repeats, warmup=warmup, number=number, n_threads=n_threads)["fn"]


def paired_ratio(a: Timing, b: Timing) -> float:
    """Median over repeats of ``a / b`` for timings taken interleaved by :func:`compare`.

    Each pair ran back to back, under the same background load, so the median of
    the per-pair ratios is steadier than the ratio of the two medians.
    """
    if len(a.times) != len(b.times):
        raise ValueError(f"a and b must have the same number of repeats, got {len(a.times)} and {len(b.times)}")
    return float(np.median(np.asarray(a.times) / np.asarray(b.times)))
