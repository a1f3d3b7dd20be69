"""Pareto fronts: which models no other model beats on every axis at once.

A point *dominates* another if it is at least as good on every objective and
strictly better on one. The non-dominated points form the Pareto front; every
other model has a rival that is no worse anywhere and better somewhere.
``senses`` says per column whether smaller (``"min"``: bytes, seconds) or larger
(``"max"``: accuracy) is better.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_choice

SENSES = ("min", "max")


def _as_matrix(points, senses) -> np.ndarray:
    a = np.asarray(points, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"points must be a non-empty 2-D array (models x objectives), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("points must be finite numbers, got NaN or infinity")
    senses = list(senses)
    if len(senses) != a.shape[1]:
        raise ValueError(f"senses must give one of {list(SENSES)} per objective ({a.shape[1]}), got {len(senses)}")
    for s in senses:
        check_choice("senses", s, SENSES)
    sign = np.array([1.0 if s == "min" else -1.0 for s in senses])
    return a * sign  # every column: smaller is better


def dominates(a, b, senses) -> bool:
    """True if point ``a`` is no worse than ``b`` on every objective and strictly better on one."""
    m = _as_matrix([a, b], senses)
    return bool((m[0] <= m[1]).all() and (m[0] < m[1]).any())


def front_mask(points, senses) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``points`` (models x objectives)."""
    m = _as_matrix(points, senses)
    n = len(m)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = (m <= m[i]).all(axis=1)
        better = (m < m[i]).any(axis=1)
        if (no_worse & better).any():
            keep[i] = False
    return keep


def dominators(points, senses, i: int) -> list:
    """Indices of the rows that dominate row ``i``."""
    m = _as_matrix(points, senses)
    if not 0 <= int(i) < len(m):
        raise ValueError(f"i must be in 0..{len(m) - 1}, got {i}")
    return [j for j in range(len(m)) if (m[j] <= m[i]).all() and (m[j] < m[i]).any()]


def dominators_within(points, senses, i: int, slack) -> list:
    """Indices of the rows that beat row ``i`` once differences within ``slack`` are treated as ties.

    Row ``j`` qualifies if, on every objective, it is no worse than row ``i`` by more than that objective's
    ``slack`` (a non-negative number in the objective's units, one per column), and strictly better than row
    ``i`` on at least one objective. With ``slack`` all zero this is :func:`dominators`. Use it when an
    objective is measured with noise, e.g. accuracy on a small test set: ``slack=(0, 0.015)`` for
    (bytes, accuracy) accepts a rival up to 1.5 points less accurate.
    """
    m = _as_matrix(points, senses)
    if not 0 <= int(i) < len(m):
        raise ValueError(f"i must be in 0..{len(m) - 1}, got {i}")
    s = np.asarray(slack, dtype=float)
    if s.shape != (m.shape[1],):
        raise ValueError(f"slack must give one number per objective ({m.shape[1]}), got shape {s.shape}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"slack must be finite and non-negative, got {s.tolist()}")
    return [j for j in range(len(m)) if j != i and (m[j] <= m[i] + s).all() and (m[j] < m[i]).any()]
