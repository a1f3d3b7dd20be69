"""Chapter 1's live experiments (see course_lib/LAYOUT.md for the five names each module exposes).

``kd_objective`` is the one helper they share: ``train.kd_objective`` with the teacher's soft targets
computed once per temperature instead of on every step, which a slider move pays for.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..._checks import check_positive, check_range


def kd_objective(X: torch.Tensor, y: torch.Tensor | None, teacher_logits: torch.Tensor, *, T: float, alpha: float):
    """``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE`` for ``train.fit``, teacher log-probs cached.

    Term for term the loss of ``train.kd_objective`` / ``losses.distill_step`` with ``soft="kd"`` (the same
    operations in the same order), so training gives the same weights bit for bit; the teacher's
    log-softmax at T is computed here once rather than on every step, and the inputs are not re-checked
    on every step (``tests/test_labs.py`` compares both). ``y`` may be None only when ``alpha == 1``.
    """
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    if y is None and alpha < 1:
        raise ValueError(f"labels are needed when alpha < 1 (alpha={alpha:g})")
    if teacher_logits.shape[0] != X.shape[0] or (y is not None and y.shape[0] != X.shape[0]):
        raise ValueError(f"X, y and teacher_logits must have the same number of rows, got {X.shape[0]}, "
                         f"{None if y is None else y.shape[0]} and {teacher_logits.shape[0]}")
    log_q = F.log_softmax(teacher_logits / T, dim=-1)

    def objective(model, idx):
        z = model(X[idx])
        soft = F.kl_div(F.log_softmax(z / T, dim=-1), log_q[idx], reduction="batchmean", log_target=True) * T * T
        hard = torch.zeros((), dtype=z.dtype) if y is None else F.cross_entropy(z, y[idx])
        return {"loss": alpha * soft + (1 - alpha) * hard, "soft": soft, "hard": hard}
    return objective
