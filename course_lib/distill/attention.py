"""Attention transfer (Zagoruyko and Komodakis 2017): match where two convolutional networks put their activation.

A feature map ``(N, C, H, W)`` becomes a spatial attention map ``(N, H*W)``: the mean over channels of
``|activation|^p``, flattened and scaled to unit L2 norm. Because the channel dimension is averaged away, a
student with 16 channels can learn from a teacher with 64, with no regressor in between; only the spatial size
must agree. The loss is the mean squared distance between the two normalised maps (the paper's ``||.||_2``
between normalised vectors, squared and averaged over the batch, which gives the same gradient direction).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_positive


def _check_map(name, feats):
    if not isinstance(feats, torch.Tensor) or feats.dim() != 4:
        shape = tuple(feats.shape) if isinstance(feats, torch.Tensor) else type(feats).__name__
        raise ValueError(f"{name} must be a 4-D feature map (batch, channels, height, width), got {shape}")


def attention_map(feats: torch.Tensor, *, p: float = 2.0) -> torch.Tensor:
    """The spatial attention map of ``feats``: mean over channels of ``|a|^p``, flattened, unit L2 norm."""
    _check_map("feats", feats)
    p = check_positive("p", p)
    a = feats.abs().pow(p).mean(1).flatten(1)
    return F.normalize(a, dim=1)


def at_loss(student_feats: torch.Tensor, teacher_feats: torch.Tensor, *, p: float = 2.0) -> torch.Tensor:
    """Mean over the batch of the squared distance between the two normalised attention maps.

    The maps may differ in channels but must agree in batch size and spatial size.
    """
    _check_map("student_feats", student_feats)
    _check_map("teacher_feats", teacher_feats)
    s, t = student_feats.shape, teacher_feats.shape
    if s[0] != t[0] or s[2:] != t[2:]:
        raise ValueError("student_feats and teacher_feats must agree in batch and spatial size (channels may "
                         f"differ), got {tuple(s)} and {tuple(t)}")
    d = attention_map(student_feats, p=p) - attention_map(teacher_feats, p=p)
    return d.pow(2).sum(1).mean()
