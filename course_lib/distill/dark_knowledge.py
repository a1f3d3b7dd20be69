"""Probing what soft targets carry: shift one class's logit, count errors, scramble the wrong classes.

* :func:`bias_shift` adds a constant to one class's logit (Hinton et al. 2015 repair a class left out of
  the transfer set this way).
* :func:`error_counts` counts all errors and the errors on one class.
* :func:`permute_non_top` keeps each row's top-1 logit and shuffles the others among the wrong classes.
* :func:`spread_non_top` keeps each row's top-1 probability and spreads the rest evenly over the others.
"""
from __future__ import annotations

import numpy as np
import torch

from .._checks import check_int_range, check_positive
from ..seeding import generator


def _check_2d(name, logits):
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"{name} must be a 2-D tensor (batch, classes), got {shape}")


def bias_shift(logits: torch.Tensor, cls: int, shift: float) -> torch.Tensor:
    """Add ``shift`` to the logit of class ``cls`` (a copy; the model is untouched)."""
    _check_2d("logits", logits)
    check_int_range("cls", cls, 0, logits.shape[1] - 1)
    out = logits.clone()
    out[:, cls] += float(shift)
    return out


def error_counts(logits: torch.Tensor, y: torch.Tensor, cls: int) -> tuple[int, int]:
    """(all errors, errors on rows whose true label is ``cls``)."""
    _check_2d("logits", logits)
    if y.shape != logits.shape[:1]:
        raise ValueError(f"y must have shape ({logits.shape[0]},), got {tuple(y.shape)}")
    wrong = logits.argmax(1) != y
    return int(wrong.sum()), int((wrong & (y == cls)).sum())


def error_curve(logits: torch.Tensor, y: torch.Tensor, cls: int, shifts) -> np.ndarray:
    """``error_counts(bias_shift(logits, cls, v), y, cls)`` for every ``v`` in ``shifts`` at once: shape (len, 2)."""
    _check_2d("logits", logits)
    check_int_range("cls", cls, 0, logits.shape[1] - 1)
    if y.shape != logits.shape[:1]:
        raise ValueError(f"y must have shape ({logits.shape[0]},), got {tuple(y.shape)}")
    shifts = torch.as_tensor(np.asarray(shifts, dtype=float), dtype=logits.dtype)
    z = logits.expand(len(shifts), *logits.shape).clone()
    z[:, :, cls] += shifts[:, None]  # the same float32 additions as bias_shift, one shift per slice
    wrong = z.argmax(2) != y
    return torch.stack([wrong.sum(1), (wrong & (y == cls)).sum(1)], 1).numpy()


def permute_non_top(logits: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
    """Keep each row's top-1 logit in place and shuffle the other logits among the other classes.

    Softmax commutes with a permutation of classes, so at every temperature the
    probabilities are permuted the same way: the top-1 class and its probability
    are kept, the ranking of the wrong classes is destroyed.
    """
    _check_2d("logits", logits)
    n, c = logits.shape
    top = logits.argmax(1, keepdim=True)
    keys = torch.rand(n, c, generator=generator(seed)).scatter_(1, top, -1.0)
    target_order = keys.argsort(1)  # the top class first, then the others in random order
    source_order = logits.scatter(1, top, float("inf")).argsort(1, descending=True)  # top first, then by rank
    out = torch.empty_like(logits)
    out.scatter_(1, target_order, logits.gather(1, source_order))
    return out


def spread_non_top(logits: torch.Tensor, T: float) -> torch.Tensor:
    """Logits whose softmax at ``T`` keeps each row's top-1 probability and spreads the rest evenly.

    The control for :func:`permute_non_top`: the same top-1 class and probability, the same total
    wrong-class mass, but no ranking at all among the wrong classes (and nothing that differs from image
    to image beyond the top-1 confidence).
    """
    _check_2d("logits", logits)
    T = check_positive("T", T)
    p = torch.softmax(logits / T, -1)
    top = p.argmax(1, keepdim=True)
    p_top = p.gather(1, top)
    rest = ((1 - p_top) / (p.shape[1] - 1)).clamp_min(1e-12)
    q = rest.expand_as(p).clone().scatter_(1, top, p_top)
    return T * torch.log(q)
