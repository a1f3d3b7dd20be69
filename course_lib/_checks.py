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


def check_positive(name: str, value) -> float:
    """``value`` must be a finite number > 0."""
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
    if isinstance(value, bool) or not float(value).is_integer():
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


def check_logits(name: str, logits) -> None:
    if logits.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor (batch, classes), got shape {tuple(logits.shape)}")
