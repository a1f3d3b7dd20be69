"""FitNets-style hints: a regressor from a student layer to a teacher layer, and ways to corrupt the hint.

* :class:`HintRegressor` maps a student's narrow feature to the teacher's wider one (the learned
  regressor of Romero et al. 2015, thrown away after training).
* :class:`HintStudent` bundles a student MLP, the name of its guided layer and its regressor.
* :func:`add_feature_noise` and :func:`misalign` corrupt a hint: fixed Gaussian noise in units of each
  feature's spread, or a fraction of rows handed another row's hint.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import features
from .._checks import check_int_range, check_range
from ..seeding import fork, generator


class HintRegressor(nn.Module):
    """A learned linear map from a student feature (width ``in_features``) to the teacher's (``out_features``)."""

    def __init__(self, in_features: int, out_features: int, *, seed: int | None = None):
        super().__init__()
        check_int_range("in_features", in_features, 1, 10**6)
        check_int_range("out_features", out_features, 1, 10**6)
        with fork(seed):
            self.proj = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.proj(x)


class HintStudent(nn.Module):
    """A student MLP and the regressor that maps its ``guided`` layer to the teacher's width."""

    def __init__(self, student: nn.Module, guided: str, teacher_width: int, *, seed: int | None = None):
        super().__init__()
        if guided not in features.layer_names(student):
            raise ValueError(f"guided must be a layer of the student ({features.layer_names(student)}), got {guided!r}")
        self.student, self.guided = student, guided
        first = next(m for m in student.modules() if isinstance(m, nn.Linear))
        width = features.features(student, torch.zeros(1, first.in_features), guided).shape[1]
        self.regressor = HintRegressor(width, teacher_width, seed=seed)

    def forward(self, x):
        return self.student(x)


def add_feature_noise(feats: torch.Tensor, noise: float, *, seed: int = 0) -> torch.Tensor:
    """Fixed Gaussian noise on every row, with standard deviation ``noise`` times each column's spread.

    The noise is drawn once (seeded) and stays the same through training: a corrupted hint.
    """
    noise = check_range("noise", noise, 0.0, 100.0)
    if noise == 0:
        return feats.clone()
    scale = feats.std(0, keepdim=True).clamp_min(1e-8)
    return feats + noise * scale * torch.randn(feats.shape, generator=generator(seed))


def misalign(feats: torch.Tensor, fraction: float, *, seed: int = 0) -> torch.Tensor:
    """Hand a random ``fraction`` of the rows the feature of another row (shuffled among themselves)."""
    fraction = check_range("fraction", fraction, 0.0, 1.0)
    g = generator(seed)
    n = len(feats)
    k = int(round(fraction * n))
    out = feats.clone()
    if k < 2:
        return out
    rows = torch.randperm(n, generator=g)[:k]
    out[rows] = feats[rows[torch.randperm(k, generator=g)]]
    return out
