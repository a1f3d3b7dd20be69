"""Reporting a compressed model the way DistilBERT was: x% smaller, y% faster, z% of the score kept.

Sanh et al. (2019) compared DistilBERT with BERT-base by parameters (66M
against 110M: 40% smaller), CPU inference time (410 s against 668 s on STS-B
at batch size 1: 60% faster, i.e. a speed-up of 1.63) and the GLUE macro-score
(77.0 against 79.5: 97% kept). ``distilbert_style`` computes the same three
numbers for any pair; ``paired_speedups`` turns interleaved timings (from
``latency.compare``) into per-pair speed-ups, whose low quantile is a
speed-up that survived background load; ``pareto_mask`` marks the trade-off front.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_positive, check_range

DISTILBERT = {"teacher_params": 110e6, "student_params": 66e6, "teacher_seconds": 668.0,
              "student_seconds": 410.0, "teacher_score": 79.5, "student_score": 77.0}


def distilbert_style(teacher_size, student_size, teacher_seconds, student_seconds, teacher_score,
                     student_score) -> dict:
    """``smaller`` = 1 - size ratio, ``faster`` = time ratio - 1, ``kept`` = score ratio (all fractions)."""
    ts, ss = check_positive("teacher_size", teacher_size), check_positive("student_size", student_size)
    tt, st = check_positive("teacher_seconds", teacher_seconds), check_positive("student_seconds", student_seconds)
    tq, sq = check_positive("teacher_score", teacher_score), check_range("student_score", student_score, 0, 1e12)
    return {"smaller": 1 - ss / ts, "faster": tt / st - 1, "kept": sq / tq}


def describe(report: dict) -> str:
    """One line: '40% smaller, 60% faster, 97% of the teacher's score kept'.

    A slower student reads '27% slower' (27% more time per call) or, from twice the
    time on, '18x slower'; a larger one 'x% larger'.
    """
    for k in ("smaller", "faster", "kept"):
        if k not in report:
            raise ValueError(f"report must have the keys 'smaller', 'faster' and 'kept', missing {k!r}")
    s, f, k = report["smaller"], report["faster"], report["kept"]
    size = f"{s:.0%} smaller" if s >= 0 else f"{-s:.0%} larger"
    if f >= 0:
        speed = f"{f:.0%} faster"
    else:  # slower: say how much more time it takes
        slow = 1 / (1 + f) if f > -1 else float("inf")
        speed = f"{slow:.0f}x slower" if slow >= 2 else f"{slow - 1:.0%} slower"
    return f"{size}, {speed}, {k:.0%} of the teacher's score kept"


def paired_speedups(teacher_times, student_times) -> np.ndarray:
    """Per-pair speed-ups ``teacher / student`` of timings taken interleaved (same length)."""
    a, b = np.asarray(teacher_times, dtype=float), np.asarray(student_times, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"teacher_times and student_times must be 1-D of the same non-zero length, "
                         f"got shapes {a.shape} and {b.shape}")
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("timings must all be > 0 seconds")
    return a / b


def pareto_mask(sizes, scores) -> np.ndarray:
    """True where no other model is at least as small and as good, and strictly better in one."""
    s, q = np.asarray(sizes, dtype=float), np.asarray(scores, dtype=float)
    if s.shape != q.shape or s.ndim != 1:
        raise ValueError(f"sizes and scores must be 1-D of the same length, got shapes {s.shape} and {q.shape}")
    keep = np.ones(len(s), dtype=bool)
    for i in range(len(s)):
        better = (s <= s[i]) & (q >= q[i]) & ((s < s[i]) | (q > q[i]))
        keep[i] = not better.any()
    return keep
