"""Temperature variants and adversarial terms, registered in ``losses.LOSSES``.

* ``"kd_adaptive"``: logit standardisation. Each row of logits is z-scored
  (mean 0, standard deviation 1) before the shared temperature, so every
  example effectively gets its own temperature ``T * std(row)``.
* ``"ttm"``: transformed teacher matching. Only the teacher is softened by T;
  the student is compared at T = 1. :func:`kd_ttm_decomposition` shows the
  identity ``T * KD_T = TTM_T + (T - 1) * (H_{1/T}(student) - H(teacher_T))``,
  where ``H_{1/T}`` is the Renyi entropy of order 1/T.
* ``"infonce"``: a contrastive loss between student and teacher embeddings
  (row i of each is a positive pair, other rows are negatives).
* Adversarial pieces: the discriminator's and the student's (generator's)
  binary cross-entropy losses on discriminator logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_logits, check_positive, check_range, check_same_shape
from .registry import register


def _check_pair(student_logits, teacher_logits):
    check_logits("student_logits", student_logits)
    check_logits("teacher_logits", teacher_logits)
    check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)


def standardize_logits(logits: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Z-score every row: subtract the row mean, divide by the row standard deviation (+ eps)."""
    check_logits("logits", logits)
    check_positive("eps", eps)
    mean = logits.mean(dim=-1, keepdim=True)
    std = logits.std(dim=-1, keepdim=True, unbiased=False)
    return (logits - mean) / (std + eps)


@register("kd_adaptive")
def kd_standardized(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float = 2.0,
                    scale_t2: bool = True, eps: float = 1e-7) -> torch.Tensor:
    """KD on z-scored logits: KL(teacher_T || student_T) after each row is standardised.

    Standardising removes each row's offset and scale, so the student only has
    to match the *shape* of the teacher's logits, not their range.
    """
    T = check_positive("T", T)
    _check_pair(student_logits, teacher_logits)
    s = standardize_logits(student_logits, eps) / T
    t = standardize_logits(teacher_logits, eps) / T
    kl = F.kl_div(F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1), reduction="batchmean", log_target=True)
    return kl * T * T if scale_t2 else kl


@register("ttm")
def ttm(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float = 4.0) -> torch.Tensor:
    """KL(teacher_T || student_1): the teacher is softened by T, the student is left at T = 1.

    The gradient with respect to the student logits is ``softmax(s) - softmax(t / T)``
    per example, whose size does not shrink with T, so no T^2 factor is used.
    """
    T = check_positive("T", T)
    _check_pair(student_logits, teacher_logits)
    return F.kl_div(F.log_softmax(student_logits, dim=-1), F.log_softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean", log_target=True)


def renyi_entropy(probs: torch.Tensor, order: float) -> torch.Tensor:
    """Renyi entropy ``log(sum p^a) / (1 - a)`` of each row, in nats (order a > 0, a != 1)."""
    a = check_positive("order", order)
    if abs(a - 1.0) < 1e-12:
        raise ValueError("order must differ from 1 (order 1 is the Shannon entropy), got 1")
    return torch.log((probs.clamp_min(1e-30) ** a).sum(-1)) / (1.0 - a)


def kd_ttm_decomposition(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, T: float) -> dict:
    """The terms of ``T * KD_T = TTM_T + (T - 1) * (H_{1/T}(p_s) - H(q))`` (batch means, nats).

    ``KD_T`` is the plain KL at temperature T (no T^2), ``p_s`` the student's
    softmax at T = 1 and ``q`` the teacher's softmax at T. Returns a dict with
    ``kd``, ``ttm``, ``renyi_student`` and ``entropy_teacher``.
    """
    T = check_positive("T", T)
    _check_pair(student_logits, teacher_logits)
    q = torch.softmax(teacher_logits / T, dim=-1)
    p_s = torch.softmax(student_logits, dim=-1)
    kd = F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                  reduction="batchmean", log_target=True)
    h_q = -(q * torch.log(q.clamp_min(1e-30))).sum(-1).mean()
    renyi = (renyi_entropy(p_s, 1.0 / T).mean() if T != 1.0 else
             -(p_s * torch.log(p_s.clamp_min(1e-30))).sum(-1).mean())
    return {"kd": kd, "ttm": ttm(student_logits, teacher_logits, T=T), "renyi_student": renyi,
            "entropy_teacher": h_q}


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, *, smoothing: float = 0.0) -> torch.Tensor:
    """The discriminator's loss: call teacher outputs real (1) and student outputs fake (0).

    ``smoothing`` lowers the real target to ``1 - smoothing`` (one-sided label smoothing).
    """
    smoothing = check_range("smoothing", smoothing, 0.0, 0.5)
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, 1.0 - smoothing))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The student's adversarial loss (non-saturating form): make the discriminator say real."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
