"""What distillation costs: the floating-point work of training, from ``models.flops``."""
from __future__ import annotations

import torch

from .. import models
from .._checks import check_int_range


def training_flops(model: torch.nn.Module, n_features: int, n_examples: int, epochs: int) -> int:
    """FLOPs of full-batch training: 3 forward passes' worth per example per epoch (forward + backward)."""
    check_int_range("n_examples", n_examples, 1, 10**12)
    check_int_range("epochs", epochs, 0, 10**9)
    return 3 * models.flops(model, (n_features,)) * n_examples * epochs
