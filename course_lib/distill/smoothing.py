"""Soft targets against label smoothing: matching their entropy, and measuring the similarity structure they carry.

- ``smoothing_for_entropy``: the label-smoothing weight epsilon whose targets
  ``(1 - eps) * onehot + eps / K`` have a given entropy (Yuan et al. 2020 compare
  distillation with label smoothing at equal target entropy).
- ``class_similarity``: the mean soft-target vector of each true class (a K x K matrix).
- ``wrong_class_spread``: how unevenly each class spreads its wrong-class mass
  (coefficient of variation of the off-diagonal row, normalised, averaged over
  classes). Near 0: every wrong class looks alike to the model, the similarity
  structure is erased (what Muller, Kornblith and Hinton 2019 found for teachers
  trained with label smoothing).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .._checks import check_int_range, check_labels, check_probabilities


def smoothed_entropy(eps: float, n_classes: int) -> float:
    """Entropy in nats of a label-smoothed one-hot target."""
    p_top = 1 - eps + eps / n_classes
    p_other = eps / n_classes
    h = -p_top * math.log(p_top) if p_top > 0 else 0.0
    if p_other > 0:
        h -= (n_classes - 1) * p_other * math.log(p_other)
    return h


def smoothing_for_entropy(entropy: float, n_classes: int) -> float:
    """The epsilon in [0, 1] whose smoothed targets have ``entropy`` nats (bisection; entropy rises with eps)."""
    check_int_range("n_classes", n_classes, 2, 10**6)
    h_max = math.log(n_classes)
    if not 0 <= float(entropy) <= h_max:
        raise ValueError(f"entropy must be in [0, log n_classes = {h_max:.4g}], got {entropy!r}")
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if smoothed_entropy(mid, n_classes) < entropy:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def class_similarity(probs: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Row c: the mean probability vector the model gives to examples of true class c."""
    check_probabilities("probs", probs)
    k = probs.shape[1]
    check_labels("labels", labels, probs.shape[0], k)
    missing = [c for c in range(k) if not bool((labels == c).any())]
    if missing:
        raise ValueError(f"labels must contain every class to build the matrix, missing {missing}")
    return torch.stack([probs[labels == c].mean(0) for c in range(k)]).numpy()


def wrong_class_spread(similarity: np.ndarray) -> float:
    """Mean coefficient of variation of each row's wrong-class probabilities (diagonal left out)."""
    m = np.asarray(similarity, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 3:
        raise ValueError(f"similarity must be a square matrix with at least 3 classes, got shape {m.shape}")
    k = m.shape[0]
    off = m[~np.eye(k, dtype=bool)].reshape(k, k - 1)
    off = off / np.clip(off.sum(1, keepdims=True), 1e-300, None)
    return float((off.std(1) / off.mean(1)).mean())

