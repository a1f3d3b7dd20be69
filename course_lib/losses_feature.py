"""Feature- and relation-based distillation losses (hints, RKD), registered in ``losses.LOSSES``.

They keep the registry's signature ``(student, teacher, *, T, ...) -> Tensor``
but act on features or embeddings instead of logits, so ``T`` is accepted (and
checked) only to honour that contract; it does not change the value.

- ``hint``: FitNets' squared error between the student's regressed feature and
  the teacher's feature (same shape).
- ``rkd_distance``: Huber loss between the two sets of pairwise distances,
  each divided by its own mean, so embeddings of different widths and scales
  can be compared (Park et al. 2019, RKD-D).
- ``rkd_angle``: Huber loss between the cosines of the angles every triplet
  of rows forms in the two spaces (RKD-A); O(N^3) memory, so use batches of
  tens of rows.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_positive, check_same_shape
from .losses import register


def _check_embeddings(student, teacher, *, min_rows: int):
    for name, t in (("student", student), ("teacher", teacher)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a 2-D tensor (batch, dim), got {shape}")
    if len(student) != len(teacher):
        raise ValueError(f"student and teacher must embed the same rows, got {len(student)} and {len(teacher)} rows")
    if len(student) < min_rows:
        raise ValueError(f"student needs at least {min_rows} rows for this relational loss, got {len(student)}")


def _normalised_distances(emb: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(emb, emb)
    n = len(emb)
    off = ~torch.eye(n, dtype=torch.bool, device=emb.device)
    mean = d[off].mean().clamp_min(1e-12)
    return d / mean, off


def _angle_cosines(emb: torch.Tensor) -> torch.Tensor:
    # e[j, i] = unit vector from row j to row i; cos[j, i, k] = angle at j between i and k.
    diff = emb.unsqueeze(0) - emb.unsqueeze(1)
    unit = F.normalize(diff, p=2, dim=2)
    return torch.bmm(unit, unit.transpose(1, 2))


@register("hint")
def hint_mse(student: torch.Tensor, teacher: torch.Tensor, *, T: float = 1.0) -> torch.Tensor:
    """Mean squared error between the regressed student feature and the teacher feature (T is ignored)."""
    check_positive("T", T)
    check_same_shape("student", student, "teacher", teacher)
    return F.mse_loss(student, teacher)


@register("rkd_distance")
def rkd_distance(student: torch.Tensor, teacher: torch.Tensor, *, T: float = 1.0) -> torch.Tensor:
    """RKD distance loss: Huber loss between mean-normalised pairwise distances (T is ignored)."""
    check_positive("T", T)
    _check_embeddings(student, teacher, min_rows=2)
    ds, off = _normalised_distances(student)
    with torch.no_grad():
        dt, _ = _normalised_distances(teacher)
    return F.smooth_l1_loss(ds[off], dt[off])


@register("rkd_angle")
def rkd_angle(student: torch.Tensor, teacher: torch.Tensor, *, T: float = 1.0) -> torch.Tensor:
    """RKD angle loss: Huber loss between the cosines of all triplet angles (T is ignored)."""
    check_positive("T", T)
    _check_embeddings(student, teacher, min_rows=3)
    cs = _angle_cosines(student)
    with torch.no_grad():
        ct = _angle_cosines(teacher)
    return F.smooth_l1_loss(cs.flatten(), ct.flatten())
