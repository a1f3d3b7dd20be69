"""Argument checks shared by every module.

Each helper raises a ValueError that names the parameter, the value it got and
the range it allows, so a learner sees one readable line instead of a deep
torch traceback or, worse, a silently wrong number.
"""
from __future__ import annotations

import math


def _fmt(value):
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def _number(name: str, value, allowed: str) -> float:
    """``value`` as a float; a string, None, a tensor with several values ... is refused by name."""
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, bool):
        raise TypeError(f"{name} must be a number ({allowed}), got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a number ({allowed}), got {type(value).__name__} {value!r}") from None


def check_positive(name: str, value) -> float:
    """``value`` must be a finite number > 0."""
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, bool):
        raise TypeError(f"{name} must be a number > 0 (allowed range: (0, inf)), got {type(value).__name__} {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0 (allowed range: (0, inf)), got {value!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be > 0 (allowed range: (0, inf)), got {_fmt(value)}")
    return v


def check_range(name: str, value, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` must lie in the interval [lo, hi] (or open at either end)."""
    left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
    interval = f"{left}{_fmt(lo)}, {_fmt(hi)}{right}"
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, bool):
        raise TypeError(f"{name} must be a number in {interval}, got {type(value).__name__} {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}") from None
    ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok or math.isnan(v):
        raise ValueError(f"{name} must be in {interval}, got {_fmt(value)}")
    return v


def check_int_range(name: str, value, lo: int, hi: int) -> int:
    """``value`` must be a whole number in lo..hi (inclusive)."""
    v = _number(name, value, f"a whole number in {lo}..{hi}")
    if not math.isfinite(v) or not v.is_integer():
        raise ValueError(f"{name} must be a whole number in {lo}..{hi}, got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {v}")
    return v


def check_choice(name: str, value, choices) -> object:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_same_shape(name_a: str, a, name_b: str, b) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_float_tensor(name: str, t) -> None:
    """``t`` must be a floating-point torch tensor (integer logits or weights would silently truncate)."""
    import torch

    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (e.g. float32), got dtype {t.dtype}; "
                        f"convert it with .float()")


def check_logits(name: str, logits) -> None:
    """A non-empty 2-D float tensor (batch, classes) with at least 2 classes."""
    check_float_tensor(name, logits)
    if logits.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor (batch, classes), got shape {tuple(logits.shape)}")
    if logits.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (0 rows); at least 1 row is needed")
    if logits.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 classes (columns), got {logits.shape[1]}")


def check_labels(name: str, labels, n_rows: int, n_classes: int) -> None:
    """Integer class labels, one per row, each in 0..n_classes-1 (no ignore value such as -100)."""
    import torch

    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class indices, got {type(labels).__name__}")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices (int64), got dtype {labels.dtype}; "
                        f"use .long() if they are whole numbers")
    if labels.dim() != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"{name} must have shape ({n_rows},), one label per row, got {tuple(labels.shape)}")
    if n_rows and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][:5].tolist()
        raise ValueError(f"{name} must be in 0..{n_classes - 1} (one per class), got {bad}")


def check_probabilities(name: str, probs, *, atol: float = 1e-3) -> None:
    """Rows of non-negative numbers summing to 1 (not logits, not log-probabilities)."""
    check_float_tensor(name, probs)
    if probs.numel() == 0:
        raise ValueError(f"{name} is empty; at least one row of probabilities is needed")
    if bool((probs < 0).any()) or bool((probs > 1 + atol).any()):
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values from {float(probs.min()):.3g} to "
                         f"{float(probs.max()):.3g} (logits? apply softmax first)")
    sums = probs.sum(-1)
    worst = float((sums - 1).abs().max())
    if worst > atol:
        raise ValueError(f"each row of {name} must sum to 1 (within {atol:g}), but a row sums to "
                         f"{float(sums[(sums - 1).abs().argmax()]):.4g}")


def check_slider_spec(name: str, value, lo, hi, step, *, log: bool = False) -> None:
    """A slider's (value, min, max, step): min < max, step > 0 and not wider than the range, value inside."""
    lo_f, hi_f = _number(f"{name} min", lo, "a number"), _number(f"{name} max", hi, "a number")
    step_f, v = _number(f"{name} step", step, "a number > 0"), _number(f"{name} value", value, "a number")
    if not lo_f < hi_f:
        raise ValueError(f"{name}: min must be below max, got min={_fmt(lo)} and max={_fmt(hi)}")
    if not step_f > 0:
        raise ValueError(f"{name}: step must be > 0, got {_fmt(step)}")
    if step_f > hi_f - lo_f:
        raise ValueError(f"{name}: step ({_fmt(step)}) must not exceed the range max - min ({_fmt(hi_f - lo_f)})")
    shown = math.log10(v) if log and v > 0 else v
    if log and v <= 0:
        raise ValueError(f"{name}: a log slider's value must be > 0, got {_fmt(value)}")
    if not lo_f - 1e-9 <= shown <= hi_f + 1e-9:
        rng = f"[1e{_fmt(lo)}, 1e{_fmt(hi)}]" if log else f"[{_fmt(lo)}, {_fmt(hi)}]"
        raise ValueError(f"{name}: value must be in {rng}, got {_fmt(value)}")
