"""Long-tailed training sets and what they do to each class: recall, calibration, re-weighted distillation.

``long_tail_counts`` gives an exponential profile (the largest class ``ratio``
times the smallest); ``long_tail_indices`` draws it from a balanced training
split. ``per_class_recall`` and ``classwise_ece`` (Kull et al. 2019) measure
each class separately. ``class_weights`` turns class counts into per-class
weights ``n_c ** -beta`` (beta = 0: plain, beta = 1: inverse frequency), and
``weighted_kd`` is Hinton's KD term with one weight per example.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_int_range, check_logits, check_positive, check_range


def long_tail_counts(n_max: int, ratio: float, n_classes: int) -> list[int]:
    """Examples per class for an exponential long tail: ``n_max * ratio ** (-r / (n_classes - 1))`` at rank r.

    The first class keeps ``n_max`` examples, the last ``n_max / ratio`` (at least one).
    """
    n_max = check_int_range("n_max", n_max, 1, 10**9)
    ratio = check_range("ratio", ratio, 1, 1e6)
    n_classes = check_int_range("n_classes", n_classes, 2, 10**6)
    return [max(1, int(round(n_max * ratio ** (-r / (n_classes - 1))))) for r in range(n_classes)]


def long_tail_indices(y: torch.Tensor, counts, *, order=None, seed: int = 0) -> torch.Tensor:
    """Sorted row indices of ``y`` keeping ``counts[r]`` random examples of class ``order[r]``.

    ``order`` (default 0, 1, 2, ...) says which class gets which rank: the head first.
    """
    counts = [int(c) for c in counts]
    n_classes = len(counts)
    order = list(range(n_classes)) if order is None else [int(c) for c in order]
    if sorted(order) != list(range(n_classes)):
        raise ValueError(f"order must be a permutation of 0..{n_classes - 1}, got {order}")
    g = torch.Generator().manual_seed(int(seed))
    keep = []
    for rank, c in enumerate(order):
        idx = torch.nonzero(y == c).flatten()
        if counts[rank] < 1 or counts[rank] > len(idx):
            raise ValueError(f"counts[{rank}] (class {c}) must be in 1..{len(idx)} (examples available), "
                             f"got {counts[rank]}")
        keep.append(idx[torch.randperm(len(idx), generator=g)[: counts[rank]]])
    return torch.sort(torch.cat(keep)).values


def _preds(pred_or_logits: torch.Tensor) -> torch.Tensor:
    return pred_or_logits.argmax(-1) if pred_or_logits.dim() == 2 else pred_or_logits


def per_class_recall(pred_or_logits: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Recall of every class (correct / present); NaN for a class absent from ``labels``."""
    n_classes = check_int_range("n_classes", n_classes, 2, 10**6)
    pred = _preds(pred_or_logits)
    if pred.shape != labels.shape:
        raise ValueError(f"labels must have shape {tuple(pred.shape)} to match the predictions, "
                         f"got {tuple(labels.shape)}")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got values from {int(labels.min())} to "
                         f"{int(labels.max())}")
    present = torch.bincount(labels, minlength=n_classes).float()
    hit = torch.bincount(labels[pred == labels], minlength=n_classes).float()
    return torch.where(present > 0, hit / present.clamp_min(1), torch.full_like(present, float("nan")))


def classwise_ece(probs: torch.Tensor, labels: torch.Tensor, *, n_bins: int = 10) -> torch.Tensor:
    """Calibration error of each class's probability, as in Kull et al. (2019).

    For class c, the examples are binned by ``probs[:, c]`` (equal-width bins)
    and the error is the bin-size-weighted mean of ``|mean probs[:, c] - fraction
    with label c|``. Returns one value per class, in [0, 1].
    """
    check_logits("probs", probs)
    n_bins = check_int_range("n_bins", n_bins, 1, 10**4)
    if labels.shape != probs.shape[:1]:
        raise ValueError(f"labels must have shape ({probs.shape[0]},), got {tuple(labels.shape)}")
    if probs.numel() and (float(probs.min()) < -1e-6 or float(probs.max()) > 1 + 1e-6):
        raise ValueError("probs must be probabilities in [0, 1] (apply softmax to logits first)")
    n, k = probs.shape
    onehot = F.one_hot(labels, k).float()
    bins = (probs.clamp(0, 1) * n_bins).long().clamp_max(n_bins - 1)  # (n, k)
    out = torch.zeros(k)
    for c in range(k):
        b = bins[:, c]
        cnt = torch.bincount(b, minlength=n_bins).float()
        conf = torch.bincount(b, weights=probs[:, c].float(), minlength=n_bins)
        freq = torch.bincount(b, weights=onehot[:, c], minlength=n_bins)
        out[c] = (conf - freq).abs().sum() / n
    return out


def class_weights(counts, beta: float) -> torch.Tensor:
    """Per-class weights ``n_c ** -beta``, scaled so that the mean over the training examples is 1.

    beta = 0 weighs every example alike; beta = 1 gives each class the same total weight.
    """
    beta = check_range("beta", beta, 0, 4)
    n = torch.as_tensor(counts, dtype=torch.float32)
    if n.dim() != 1 or len(n) < 2 or bool((n <= 0).any()):
        raise ValueError(f"counts must be a 1-D list of at least 2 positive class counts, got {n.tolist()}")
    w = n ** (-beta)
    return w * n.sum() / (w * n).sum()


def weighted_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor, weights: torch.Tensor, *,
                T: float = 4.0) -> torch.Tensor:
    """KD loss ``T^2 * KL(teacher_T || student_T)`` per example, averaged with ``weights`` (one per row).

    With all weights 1 it equals ``losses.kd_kl``.
    """
    T = check_positive("T", T)
    check_logits("student_logits", student_logits)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    if weights.shape != student_logits.shape[:1]:
        raise ValueError(f"weights must have shape ({student_logits.shape[0]},), got {tuple(weights.shape)}")
    kl = F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                  reduction="none", log_target=True).sum(-1)
    return (weights * kl).mean() * T * T
