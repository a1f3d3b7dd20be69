"""Losses on logits: softmax at T, hard cross-entropy, Hinton's KD, MSE on logits, and the alpha mix.

Every soft loss has the signature ``(student_logits, teacher_logits, *, T, ...) -> Tensor``
and returns a scalar. KL divergence is computed with log-probabilities and
``reduction="batchmean"``, the form that equals the mathematical KL per example.

``distill_step`` mixes a soft loss with hard-label cross-entropy and returns
its named terms, so a training loop can log each one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_float_tensor, check_labels, check_logits, check_positive, check_range, check_same_shape
from .registry import get, register


def _check_pair(student_logits, teacher_logits):
    check_logits("student_logits", student_logits)
    check_logits("teacher_logits", teacher_logits)
    check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)


def softmax_t(logits: torch.Tensor, T: float = 1.0) -> torch.Tensor:
    """Softmax at temperature T over the class axis (the last one)."""
    check_positive("T", T)
    check_float_tensor("logits", logits)
    if logits.numel() == 0:
        raise ValueError("logits is empty; at least one row is needed")
    return torch.softmax(logits / T, dim=-1)


@register("ce")
def hard_cross_entropy(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with the hard labels, at T = 1."""
    check_logits("student_logits", student_logits)
    check_labels("labels", labels, student_logits.shape[0], student_logits.shape[1])
    return F.cross_entropy(student_logits, labels)


@register("kd")
def kd_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float = 4.0,
          scale_t2: bool = True) -> torch.Tensor:
    """Hinton's soft loss: KL(teacher_T || student_T), times T^2 unless ``scale_t2=False``.

    The T^2 factor keeps the gradient's size independent of T (without it the
    gradient shrinks as 1/T^2).
    """
    T = check_positive("T", T)
    _check_pair(student_logits, teacher_logits)
    kl = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.log_softmax(teacher_logits / T, dim=-1),
                  reduction="batchmean", log_target=True)
    return kl * T * T if scale_t2 else kl


@register("mse_logits")
def mse_logits(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float = 1.0) -> torch.Tensor:
    """Mean squared error between logits (the high-T limit of KD; T is accepted and ignored)."""
    check_positive("T", T)
    _check_pair(student_logits, teacher_logits)
    return F.mse_loss(student_logits, teacher_logits)


def distill_step(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor | None,
                 *, T: float = 4.0, alpha: float = 0.5, soft: str = "kd", **soft_kwargs) -> dict:
    """One distillation objective: ``alpha * soft + (1 - alpha) * hard``.

    ``alpha`` weighs the teacher's soft targets (alpha = 1: teacher only,
    alpha = 0: hard labels only). Returns ``{"loss", "soft", "hard"}``; the
    student is used at T = 1 for the hard term and at inference.
    """
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    soft_loss = get(soft)(student_logits, teacher_logits, T=T, **soft_kwargs)
    if labels is None:
        if alpha < 1:
            raise ValueError(f"labels are needed when alpha < 1 (alpha={alpha:g})")
        hard = torch.zeros((), dtype=student_logits.dtype)
    else:
        hard = hard_cross_entropy(student_logits, labels)
    return {"loss": alpha * soft_loss + (1 - alpha) * hard, "soft": soft_loss, "hard": hard}

