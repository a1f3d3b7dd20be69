"""Calibration, headless: expected calibration error, reliability-diagram bins, and temperature scaling.

    ece = expected_calibration_error(probs, labels, n_bins=15)   # equal-width bins over [0, 1]
    T = fit_temperature(val_logits, val_labels)                  # minimises the validation NLL (Guo et al. 2017)
    probs_scaled = scaled_probs(test_logits, T)

The binning is stated once and used everywhere: ``n_bins`` equal-width bins over [0, 1], each open on the
left and closed on the right, (lo, hi], with a confidence of exactly 0 put into the first bin. Confidence
is the probability of the predicted class (the row's maximum); a bin's gap is |accuracy - mean confidence|
and the ECE is the average gap weighted by the share of examples in the bin. Inputs may be torch tensors
or numpy arrays; every result is a plain float or numpy array.
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import check_int_range, check_positive

ROW_SUM_TOL = 1e-4


def _numpy(a, name):
    try:
        import torch
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().double().numpy() if a.is_floating_point() else a.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    try:
        return np.asarray(a)
    except Exception:
        raise ValueError(f"{name} must be an array or tensor, got {type(a).__name__}") from None


def check_probs(probs, name: str = "probs", *, atol: float = ROW_SUM_TOL) -> np.ndarray:
    """A 2-D (examples, classes) table of probabilities: finite, in [0, 1], rows summing to one."""
    p = _numpy(probs, name)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"{name} must be a 2-D table (examples, classes) with at least 1 row and 2 columns, "
                         f"got shape {p.shape}")
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)) or p.min() < -atol or p.max() > 1 + atol:
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{np.nanmin(p):g}, {np.nanmax(p):g}]")
    sums = p.sum(1)
    worst = int(np.argmax(np.abs(sums - 1)))
    if abs(sums[worst] - 1) > atol:
        raise ValueError(f"every row of {name} must sum to 1 (within {atol:g}); row {worst} sums to {sums[worst]:.6g}. "
                         f"Pass probabilities (softmax of the logits), not logits")
    return p


def check_labels(labels, n_rows: int, n_classes: int, name: str = "labels") -> np.ndarray:
    y = _numpy(labels, name)
    if y.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},) to match the probabilities, got {y.shape}")
    if n_rows and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must hold integer class indices in 0..{n_classes - 1}, got dtype {y.dtype} "
                         f"with values in [{y.min()}, {y.max()}]")
    return y.astype(np.int64)


def check_n_bins(n_bins) -> int:
    return check_int_range("n_bins", n_bins, 1, 10_000)


def bin_index(confidence, n_bins: int) -> np.ndarray:
    """The bin of each confidence in ``n_bins`` equal-width bins (lo, hi] over [0, 1] (0 goes to bin 0)."""
    n_bins = check_n_bins(n_bins)
    c = np.asarray(confidence, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, c, side="left") - 1, 0, n_bins - 1)


def reliability_bins(probs, labels, n_bins: int = 15) -> dict:
    """Per equal-width bin: ``edges`` (n_bins + 1), ``count``, ``accuracy`` and ``confidence`` (nan where a
    bin is empty) and ``gap`` = |accuracy - confidence| (0 where empty)."""
    p = check_probs(probs)
    y = check_labels(labels, len(p), p.shape[1])
    n_bins = check_n_bins(n_bins)
    conf, pred = p.max(1), p.argmax(1)
    correct = (pred == y).astype(np.float64)
    idx = bin_index(conf, n_bins)
    count = np.bincount(idx, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(idx, weights=correct, minlength=n_bins) / count
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
    gap = np.where(count > 0, np.abs(acc - mean_conf), 0.0)
    return {"edges": np.linspace(0.0, 1.0, n_bins + 1), "count": count, "accuracy": acc,
            "confidence": mean_conf, "gap": gap}


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """ECE = sum over bins of (share of examples in the bin) * |accuracy - mean confidence|."""
    b = reliability_bins(probs, labels, n_bins)
    return float((b["count"] / b["count"].sum() * b["gap"]).sum())


ece = expected_calibration_error


def _logits(logits, name="logits"):
    z = _numpy(logits, name).astype(np.float64)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        raise ValueError(f"{name} must be a 2-D table (examples, classes) with at least 1 row and 2 columns, "
                         f"got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"{name} must be finite")
    return z


def _log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def scaled_probs(logits, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / temperature), row by row (float64)."""
    temperature = check_positive("temperature", temperature)
    return np.exp(_log_softmax(_logits(logits) / temperature))


def nll(logits, labels, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (nats per example) of the labels under softmax(logits / temperature)."""
    temperature = check_positive("temperature", temperature)
    z = _logits(logits)
    y = check_labels(labels, len(z), z.shape[1])
    return float(-_log_softmax(z / temperature)[np.arange(len(y)), y].mean())


def fit_temperature(logits, labels, *, bounds=(0.05, 20.0)) -> float:
    """The temperature T in ``bounds`` that minimises the NLL of softmax(logits / T) (Guo et al. 2017's
    temperature scaling); fit it on the validation split, never on the test split."""
    from scipy.optimize import minimize_scalar

    lo, hi = (check_positive("bounds", b) for b in bounds)
    if not lo < hi:
        raise ValueError(f"bounds must be (low, high) with 0 < low < high, got {bounds!r}")
    z = _logits(logits)
    y = check_labels(labels, len(z), z.shape[1])
    rows = np.arange(len(y))

    def objective(log_t):
        return float(-_log_softmax(z / math.exp(log_t))[rows, y].mean())

    res = minimize_scalar(objective, bounds=(math.log(lo), math.log(hi)), method="bounded",
                          options={"xatol": 1e-6})
    return float(math.exp(res.x))
