"""Temperature variants and other soft losses (adaptive T, TTM, contrastive, adversarial), registered in ``losses.LOSSES``."""
from __future__ import annotations

from .losses import register  # noqa: F401
