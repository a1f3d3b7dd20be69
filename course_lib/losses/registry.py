"""Two small registries, a leaf module: it imports no loss family.

- ``LOSSES``: losses on logits, ``fn(student_logits, teacher_logits, *, T, ...) -> Tensor``.
- ``FEATURE_LOSSES``: losses on features or relations between examples,
  ``fn(student, teacher, ...) -> Tensor``; they take no temperature.

A new family is a new file in ``course_lib/losses/`` that decorates its
functions with ``@register(name)`` or ``@register_feature(name)``, plus one
import line in ``losses/__init__.py``.
"""
from __future__ import annotations

from typing import Callable

LOSSES: dict[str, Callable] = {}
FEATURE_LOSSES: dict[str, Callable] = {}


def _adder(table: dict, kind: str):
    def register(name: str):
        def wrap(fn):
            if name in table:
                raise ValueError(f"{kind} name {name!r} is already registered")
            table[name] = fn
            return fn
        return wrap
    return register


register = _adder(LOSSES, "loss")
register_feature = _adder(FEATURE_LOSSES, "feature loss")


def get(name: str) -> Callable:
    """The logit loss registered as ``name``."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name]


def get_feature(name: str) -> Callable:
    """The feature or relation loss registered as ``name``."""
    if name not in FEATURE_LOSSES:
        raise ValueError(f"feature loss must be one of {sorted(FEATURE_LOSSES)}, got {name!r}")
    return FEATURE_LOSSES[name]
