"""Hidden-state distillation between transformers of different depth, and the layer mappings it needs.

A student with ``n_s`` layers learns from a teacher with ``n_t >= n_s`` layers.
A *layer mapping* lists, for each student layer j = 1..n_s, the teacher layer
(1..n_t) whose output it imitates:

* ``"uniform"``: every (n_t / n_s)-th layer, ending at the last one (patient KD's
  "skip" strategy; TinyBERT's mapping ``g(m) = m * n_t / n_s``);
* ``"first"``: teacher layers 1..n_s;
* ``"last"``: teacher layers n_t - n_s + 1 .. n_t (patient KD's "last" strategy).

:class:`SeqEncoder` is a small ``torch.nn.TransformerEncoder`` classifier whose
``forward(x, return_hidden=True)`` also returns each layer's output, and
:func:`hidden_state_loss` is the mean-squared error between mapped layers
(TinyBERT's hidden-state loss, with an optional learned projection when the
widths differ).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_choice, check_int_range
from ..seeding import fork

MAPPINGS = ("uniform", "first", "last")


def layer_mapping(kind: str, n_student: int, n_teacher: int) -> list[int]:
    """The teacher layer (1-based) each of ``n_student`` student layers imitates, for ``kind``."""
    check_choice("kind", kind, MAPPINGS)
    n_teacher = check_int_range("n_teacher", n_teacher, 1, 10**4)
    n_student = check_int_range("n_student", n_student, 1, n_teacher)
    if kind == "first":
        return list(range(1, n_student + 1))
    if kind == "last":
        return list(range(n_teacher - n_student + 1, n_teacher + 1))
    return [round((j + 1) * n_teacher / n_student) for j in range(n_student)]


def check_mapping(mapping, n_teacher: int, n_student: int | None = None) -> list[int]:
    """Validate a mapping: at most ``n_teacher`` entries, each a teacher layer in 1..n_teacher."""
    mapping = [int(m) for m in mapping]
    if not mapping:
        raise ValueError("mapping must list at least one teacher layer, got []")
    if len(mapping) > n_teacher:
        raise ValueError(f"mapping has {len(mapping)} entries but the teacher has only {n_teacher} layers "
                         f"(allowed length: 1..{n_teacher})")
    if n_student is not None and len(mapping) != n_student:
        raise ValueError(f"mapping must have one entry per student layer ({n_student}), got {len(mapping)}")
    for m in mapping:
        if not 1 <= m <= n_teacher:
            raise ValueError(f"mapping entries must be teacher layers in 1..{n_teacher}, got {m}")
    return mapping


class SeqEncoder(nn.Module):
    """Token + position embeddings, ``n_layers`` TransformerEncoder layers, mean-pool, linear head."""

    def __init__(self, vocab: int, length: int, n_classes: int, *, d_model: int = 32, n_layers: int = 4,
                 n_heads: int = 2, d_ff: int = 64, seed: int | None = 0):
        super().__init__()
        check_int_range("vocab", vocab, 2, 10**6)
        check_int_range("length", length, 1, 10**5)
        check_int_range("n_layers", n_layers, 1, 64)
        check_int_range("n_classes", n_classes, 2, 10**5)
        with fork(seed):
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Parameter(0.1 * torch.randn(length, d_model))
            layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, n_classes)
        self.n_layers, self.d_model = n_layers, d_model

    def forward(self, x: torch.Tensor, return_hidden: bool = False):
        h = self.tok(x) + self.pos[: x.shape[1]]
        hidden = []
        for layer in self.encoder.layers:  # the same computation as self.encoder(h), layer by layer
            h = layer(h)
            hidden.append(h)
        logits = self.head(h.mean(1))
        return (logits, hidden) if return_hidden else logits


def hidden_state_loss(student_hidden, teacher_hidden, mapping, projections: nn.ModuleList | None = None):
    """Mean over student layers j of MSE(W_j h_s^j, h_t^{mapping[j]}); ``mapping`` is 1-based."""
    mapping = check_mapping(mapping, len(teacher_hidden), len(student_hidden))
    total = 0.0
    for j, m in enumerate(mapping):
        hs = student_hidden[j] if projections is None else projections[j](student_hidden[j])
        total = total + F.mse_loss(hs, teacher_hidden[m - 1])
    return total / len(mapping)


@torch.no_grad()
def teacher_hidden(teacher: SeqEncoder, X: torch.Tensor):
    """The teacher's logits and per-layer outputs on X (eval mode, no gradients)."""
    was = teacher.training
    teacher.eval()
    logits, hidden = teacher(X, return_hidden=True)
    teacher.train(was)
    return logits, [h.detach() for h in hidden]
