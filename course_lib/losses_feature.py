"""Feature- and relation-based distillation losses (hints, RKD), registered in ``losses.LOSSES``."""
from __future__ import annotations

from .losses import register  # noqa: F401
