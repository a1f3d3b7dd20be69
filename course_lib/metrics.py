"""Metrics: accuracy, teacher-student agreement, KL to the teacher, entropy."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_logits, check_positive, check_same_shape


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the label."""
    check_logits("logits", logits)
    if labels.shape != logits.shape[:1]:
        raise ValueError(f"labels must have shape ({logits.shape[0]},), got {tuple(labels.shape)}")
    return float((logits.argmax(-1) == labels).float().mean())


def agreement(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> float:
    """Fraction of rows on which student and teacher predict the same class (top-1 fidelity)."""
    check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    return float((student_logits.argmax(-1) == teacher_logits.argmax(-1)).float().mean())


def kl_to_teacher(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float = 1.0) -> float:
    """Mean KL(teacher_T || student_T) in nats per example (no T^2 factor)."""
    T = check_positive("T", T)
    check_logits("student_logits", student_logits)
    check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    return float(F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                          reduction="batchmean", log_target=True))


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats of each row of a probability table."""
    return -(probs * torch.log(probs.clamp_min(1e-30))).sum(-1)
