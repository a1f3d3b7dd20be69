"""Cross-lingual distillation helpers: a teacher with one encoder per input "language", and class-similarity matrices.

``BilingualMLP`` reads two input spaces (say 8x8 digit images and mnist1d's 40-sample
signals) through one linear-ReLU encoder each, into a shared trunk and one output
head over the same classes. A student that only ever sees one language can then be
distilled from the teacher's outputs on that language.

``class_similarity(logits, labels, T)`` is the model's class-similarity matrix: row i
is the mean tempered softmax over the examples of class i (each row sums to 1).
``offdiag_corr(S1, S2)`` is the Pearson correlation of two such matrices over their
off-diagonal entries: how alike two models find the same pairs of classes.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .._checks import check_int_range, check_positive
from ..seeding import fork


class BilingualMLP(nn.Module):
    """``{language: in_features}`` encoders -> shared ReLU trunk -> one head of ``n_classes``.

    ``model(x, language)`` returns logits for inputs of that language.
    """

    def __init__(self, languages: dict, hidden: int = 128, n_classes: int = 10, *, seed: int | None = None):
        super().__init__()
        if not isinstance(languages, dict) or not languages:
            raise ValueError(f"languages must be a non-empty dict {{name: in_features}}, got {languages!r}")
        check_int_range("hidden", hidden, 1, 10**6)
        check_int_range("n_classes", n_classes, 2, 10**6)
        with fork(seed):
            self.encoders = nn.ModuleDict()
            for name, d in languages.items():
                check_int_range(f"languages[{name!r}]", d, 1, 10**7)
                self.encoders[name] = nn.Sequential(OrderedDict(fc=nn.Linear(int(d), hidden), act=nn.ReLU()))
            self.trunk = nn.Sequential(OrderedDict(fc=nn.Linear(hidden, hidden), act=nn.ReLU()))
            self.out = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor, language: str) -> torch.Tensor:
        if language not in self.encoders:
            raise ValueError(f"language must be one of {list(self.encoders)}, got {language!r}")
        return self.out(self.trunk(self.encoders[language](x)))


def class_similarity(logits: torch.Tensor, labels: torch.Tensor, *, T: float = 4.0) -> np.ndarray:
    """(classes x classes) matrix: row i = mean softmax(logits / T) over the examples labelled i."""
    T = check_positive("T", T)
    if logits.dim() != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (batch, classes) and labels (batch,), got {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    k = logits.shape[1]
    p = torch.softmax(logits.detach().float() / T, -1)
    S = np.zeros((k, k))
    for c in range(k):
        rows = labels == c
        if not bool(rows.any()):
            raise ValueError(f"labels must contain every class 0..{k - 1}; class {c} has no example")
        S[c] = p[rows].mean(0).numpy()
    return S


def offdiag_corr(S1, S2) -> float:
    """Pearson correlation of two square matrices over their off-diagonal entries."""
    S1, S2 = np.asarray(S1, dtype=float), np.asarray(S2, dtype=float)
    if S1.shape != S2.shape or S1.ndim != 2 or S1.shape[0] != S1.shape[1] or S1.shape[0] < 3:
        raise ValueError(f"S1 and S2 must be square matrices of the same shape (at least 3x3), got "
                         f"{S1.shape} and {S2.shape}")
    mask = ~np.eye(len(S1), dtype=bool)
    a, b = S1[mask], S2[mask]
    if a.std() == 0 or b.std() == 0:
        raise ValueError("off-diagonal entries are constant in one matrix; their correlation is undefined")
    return float(np.corrcoef(a, b)[0, 1])
