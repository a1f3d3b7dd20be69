"""Feature- and relation-based distillation losses (hints, RKD), in ``FEATURE_LOSSES``.

Signature ``(student, teacher) -> Tensor`` on features or embeddings; no temperature.

- ``hint``: FitNets' squared error between the student's regressed feature and
  the teacher's feature (same shape).
- ``rkd_distance``: Huber loss between the two sets of pairwise distances,
  each divided by its own mean, so embeddings of different widths and scales
  can be compared (Park et al. 2019, RKD-D).
- ``infonce``: contrastive alignment of embeddings (row i of the student picks row i of
  the teacher), with its own contrastive temperature ``tau``.
- ``rkd_angle``: Huber loss between the cosines of the angles every triplet
  of rows forms in the two spaces (RKD-A); O(N^3) memory, so use batches of
  tens of rows.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_logits, check_positive, check_same_shape
from .registry import register_feature


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


@register_feature("hint")
def hint_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the regressed student feature and the teacher feature."""
    check_same_shape("student", student, "teacher", teacher)
    return F.mse_loss(student, teacher)


@register_feature("rkd_distance")
def rkd_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """RKD distance loss: Huber loss between mean-normalised pairwise distances."""
    _check_embeddings(student, teacher, min_rows=2)
    ds, off = _normalised_distances(student)
    with torch.no_grad():
        dt, _ = _normalised_distances(teacher)
    return F.smooth_l1_loss(ds[off], dt[off])


@register_feature("rkd_angle")
def rkd_angle(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """RKD angle loss: Huber loss between the cosines of all triplet angles."""
    _check_embeddings(student, teacher, min_rows=3)
    cs = _angle_cosines(student)
    with torch.no_grad():
        ct = _angle_cosines(teacher)
    return F.smooth_l1_loss(cs.flatten(), ct.flatten())


@register_feature("infonce")
def infonce(student_emb: torch.Tensor, teacher_emb: torch.Tensor, *, tau: float = 0.1) -> torch.Tensor:
    """InfoNCE between embeddings: row i of the student should pick row i of the teacher.

    Both are L2-normalised; the cosine similarity matrix divided by the
    contrastive temperature ``tau`` (not the distillation T) is scored with cross-entropy against the diagonal.
    The loss is at least 0 and at most about log(N) for random embeddings.
    """
    tau = check_positive("tau", tau)
    check_logits("student_emb", student_emb)
    check_logits("teacher_emb", teacher_emb)
    check_same_shape("student_emb", student_emb, "teacher_emb", teacher_emb)
    if student_emb.shape[0] < 2:
        raise ValueError(f"infonce needs at least 2 rows (one positive, one negative), got {student_emb.shape[0]}")
    s = F.normalize(student_emb, dim=-1)
    t = F.normalize(teacher_emb, dim=-1)
    sim = s @ t.T / tau
    return F.cross_entropy(sim, torch.arange(len(s), device=s.device))
