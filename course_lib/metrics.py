"""Metrics: accuracy, teacher-student agreement, KL to the teacher, entropy, embedding quality (recall@1,
distance correlation) and a fidelity summary."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_labels, check_logits, check_positive, check_probabilities, check_same_shape


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the label."""
    check_logits("logits", logits)
    check_labels("labels", labels, logits.shape[0], logits.shape[1])
    return float((logits.argmax(-1) == labels).float().mean())


def agreement(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> float:
    """Fraction of rows on which student and teacher predict the same class (top-1 fidelity)."""
    check_logits("student_logits", student_logits)
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
    """Shannon entropy in nats of each row of a probability table (rows must sum to 1: not logits)."""
    check_probabilities("probs", probs)
    return -(probs * torch.log(probs.clamp_min(1e-30))).sum(-1)


@torch.no_grad()
def recall_at_1(emb: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose nearest other row (Euclidean) has the same label."""
    if emb.dim() != 2:
        raise ValueError(f"emb must be a 2-D tensor (batch, dim), got shape {tuple(emb.shape)}")
    if labels.shape != emb.shape[:1]:
        raise ValueError(f"labels must have shape ({emb.shape[0]},), got {tuple(labels.shape)}")
    if len(emb) < 2:
        raise ValueError(f"emb needs at least 2 rows for a nearest neighbour, got {len(emb)}")
    emb = emb.float()
    d = torch.cdist(emb, emb)
    d.fill_diagonal_(float("inf"))
    return float((labels[d.argmin(1)] == labels).float().mean())


@torch.no_grad()
def distance_correlation(emb_a: torch.Tensor, emb_b: torch.Tensor) -> float:
    """Pearson correlation of the pairwise Euclidean distances of two embeddings of the same rows.

    1 means the two spaces have the same geometry up to scale.
    """
    if emb_a.dim() != 2 or emb_b.dim() != 2:
        raise ValueError(f"emb_a and emb_b must be 2-D (batch, dim), got shapes {tuple(emb_a.shape)} and "
                         f"{tuple(emb_b.shape)}")
    if len(emb_a) != len(emb_b):
        raise ValueError(f"emb_a and emb_b must have the same number of rows, got {len(emb_a)} and {len(emb_b)}")
    if len(emb_a) < 3:
        raise ValueError(f"emb_a needs at least 3 rows for a correlation of distances, got {len(emb_a)}")
    iu = torch.triu_indices(len(emb_a), len(emb_a), 1)
    da = torch.cdist(emb_a.float(), emb_a.float())[iu[0], iu[1]]
    db = torch.cdist(emb_b.float(), emb_b.float())[iu[0], iu[1]]
    return float(torch.corrcoef(torch.stack([da, db]))[0, 1])


def fidelity(student_logits_train: torch.Tensor, teacher_logits_train: torch.Tensor,
             student_logits_test: torch.Tensor, teacher_logits_test: torch.Tensor, y_test: torch.Tensor) -> dict:
    """Top-1 agreement and KL(teacher || student) at T = 1 on train and test, and test accuracy."""
    return {"agree_train": agreement(student_logits_train, teacher_logits_train),
            "agree_test": agreement(student_logits_test, teacher_logits_test),
            "kl_train": kl_to_teacher(student_logits_train, teacher_logits_train),
            "kl_test": kl_to_teacher(student_logits_test, teacher_logits_test),
            "accuracy": accuracy(student_logits_test, y_test)}
