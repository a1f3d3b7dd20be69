"""Uncertainty, headless: bootstrap resamples, per-example percentile intervals from a bootstrap ensemble,
and the fidelity of one model's intervals to another's.

    idx = bootstrap_indices(n_train, n_resamples=12, seed=0)   # (12, n_train) rows drawn with replacement
    # ... train one model per row of idx, stack their predictions: samples has shape (12, n_test)
    lo, hi = percentile_intervals(samples, level=0.9)           # one interval per test example
    fid = interval_fidelity(student_samples, teacher_samples)    # coverage, width ratio, rank correlation

For a metric computed on a test set the course uses ``scipy.stats.bootstrap`` directly (exercise H9 writes
the percentile bootstrap by hand). Nothing here touches the global random state: resamples come from
``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_int_range, check_range


def check_level(level) -> float:
    """A confidence level strictly between 0 and 1."""
    return check_range("level", level, 0.0, 1.0, lo_open=True, hi_open=True)


def _array(a, name):
    try:
        import torch
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().double().numpy()
    except ImportError:  # pragma: no cover
        pass
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return a


def bootstrap_indices(n: int, n_resamples: int, *, seed: int = 0) -> np.ndarray:
    """``n_resamples`` bootstrap resamples of ``range(n)``: an (n_resamples, n) integer array, each row
    drawn uniformly with replacement."""
    n = check_int_range("n", n, 1, 10**9)
    n_resamples = check_int_range("n_resamples", n_resamples, 1, 10**6)
    return np.random.default_rng(int(seed)).integers(0, n, size=(n_resamples, n))


def check_samples(samples, name: str = "samples") -> np.ndarray:
    s = _array(samples, name)
    if s.ndim != 2 or s.shape[0] < 2 or s.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (ensemble members, examples) with at least 2 members, "
                         f"got shape {s.shape}")
    return s


def percentile_intervals(samples, level: float = 0.9):
    """Per example (column), the central ``level`` percentile interval of an ensemble's predictions
    ``samples`` (members, examples): returns (low, high), two arrays of length n_examples."""
    s = check_samples(samples)
    level = check_level(level)
    tail = (1 - level) / 2
    lo, hi = np.quantile(s, [tail, 1 - tail], axis=0)
    return lo, hi


def coverage(points, low, high) -> float:
    """Share of ``points`` that fall inside their interval [low, high] (all three of the same length)."""
    p, lo, hi = _array(points, "points"), _array(low, "low"), _array(high, "high")
    if not (p.shape == lo.shape == hi.shape) or p.ndim != 1 or len(p) == 0:
        raise ValueError(f"points, low and high must be 1-D arrays of one length, got shapes {p.shape}, "
                         f"{lo.shape} and {hi.shape}")
    if np.any(lo > hi):
        raise ValueError(f"every interval needs low <= high; {int(np.sum(lo > hi))} do not")
    return float(np.mean((p >= lo) & (p <= hi)))


def interval_fidelity(student_samples, teacher_samples, *, level: float = 0.9) -> dict:
    """How well the student's per-example intervals match the teacher's.

    Both are (members, examples) ensembles of the same quantity on the same examples. Returns
    ``coverage``: share of examples whose teacher ensemble median lies inside the student's interval;
    ``width_ratio``: mean student width / mean teacher width; ``spearman``: rank correlation of the two
    widths across examples (scipy.stats.spearmanr; nan if either is constant); and the widths themselves.
    """
    from scipy.stats import spearmanr

    s = check_samples(student_samples, "student_samples")
    t = check_samples(teacher_samples, "teacher_samples")
    if s.shape[1] != t.shape[1]:
        raise ValueError(f"student_samples and teacher_samples must cover the same examples (columns), "
                         f"got {s.shape[1]} and {t.shape[1]}")
    s_lo, s_hi = percentile_intervals(s, level)
    t_lo, t_hi = percentile_intervals(t, level)
    sw, tw = s_hi - s_lo, t_hi - t_lo
    if np.ptp(sw) == 0 or np.ptp(tw) == 0:
        rho = float("nan")
    else:
        rho = float(spearmanr(sw, tw).statistic)
    return {"coverage": coverage(np.median(t, axis=0), s_lo, s_hi),
            "width_ratio": float(sw.mean() / tw.mean()) if tw.mean() > 0 else float("nan"),
            "spearman": rho, "student_width": sw, "teacher_width": tw}
