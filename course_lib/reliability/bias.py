"""A spurious cue planted in images: one bright pixel whose position names a class.

``cue_pixels`` picks one border pixel per class; ``cue_classes`` draws, for each
example, which class's cue it carries (the true class with probability ``rho``,
else one of the others at random); ``add_cue`` paints it; ``cue_following``
measures how often a model's prediction follows a cue that contradicts the label.
This is a grey-scale cousin of Colored MNIST (Arjovsky et al. 2019), where
colour rather than a pixel carries the shortcut.
"""
from __future__ import annotations

import torch

from .._checks import check_int_range, check_range


def cue_pixels(n_classes: int = 10, image_shape=(1, 8, 8)) -> list[int]:
    """Flat indices of one border pixel per class: down the left column, then along the bottom row."""
    n_classes = check_int_range("n_classes", n_classes, 2, 10**6)
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {tuple(image_shape)}")
    _, h, w = (int(v) for v in image_shape)
    border = [r * w for r in range(h)] + [(h - 1) * w + c for c in range(1, w)]
    if n_classes > len(border):
        raise ValueError(f"n_classes must be at most {len(border)} for image_shape {tuple(image_shape)}, "
                         f"got {n_classes}")
    return border[:n_classes]


def cue_classes(y: torch.Tensor, rho: float, n_classes: int, *, seed: int = 0) -> torch.Tensor:
    """The class whose cue each example carries: its own with probability ``rho``, else another at random.

    rho = 1 / n_classes makes the cue independent of the label (no correlation).
    """
    rho = check_range("rho", rho, 0, 1)
    n_classes = check_int_range("n_classes", n_classes, 2, 10**6)
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"y must hold labels in 0..{n_classes - 1}")
    g = torch.Generator().manual_seed(int(seed))
    same = torch.rand(len(y), generator=g) < rho
    other = (y + torch.randint(1, n_classes, (len(y),), generator=g)) % n_classes  # never y
    return torch.where(same, y, other)


def add_cue(X: torch.Tensor, cue: torch.Tensor, pixels, *, value: float = 1.0) -> torch.Tensor:
    """A copy of the flat images ``X`` with pixel ``pixels[cue[i]]`` of row i set to ``value``."""
    if X.dim() != 2:
        raise ValueError(f"X must be 2-D (examples, pixels), got shape {tuple(X.shape)}")
    if cue.shape != X.shape[:1]:
        raise ValueError(f"cue must have shape ({X.shape[0]},), got {tuple(cue.shape)}")
    pixels = torch.as_tensor(list(pixels), dtype=torch.long)
    if len(cue) and (int(cue.min()) < 0 or int(cue.max()) >= len(pixels)):
        raise ValueError(f"cue must hold classes in 0..{len(pixels) - 1}")
    if len(pixels) and (int(pixels.min()) < 0 or int(pixels.max()) >= X.shape[1]):
        raise ValueError(f"pixels must be indices in 0..{X.shape[1] - 1}")
    out = X.clone()
    out[torch.arange(len(X)), pixels[cue]] = float(value)
    return out


def cue_following(pred_or_logits: torch.Tensor, cue: torch.Tensor, labels: torch.Tensor) -> float:
    """Among examples whose cue contradicts the label, the fraction predicted as the cue's class."""
    pred = pred_or_logits.argmax(-1) if pred_or_logits.dim() == 2 else pred_or_logits
    if not (pred.shape == cue.shape == labels.shape):
        raise ValueError(f"predictions, cue and labels must have the same length, got {tuple(pred.shape)}, "
                         f"{tuple(cue.shape)} and {tuple(labels.shape)}")
    off = cue != labels
    if not bool(off.any()):
        raise ValueError("no example has a cue that contradicts its label")
    return float((pred[off] == cue[off]).float().mean())
