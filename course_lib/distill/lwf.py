"""Learning without forgetting (Li and Hoiem, 2016): keep an old task by distilling to the frozen old model.

Before learning task B, record what the frozen task-A model says about the task-B
inputs; while learning B, penalise the current model's old-task outputs for drifting
from those recordings. No task-A data is replayed.

    loss = CE(new-task logits, new labels) + lam * T^2 * KL(recorded_T || old_head_T)

``MultiHeadMLP`` is a shared trunk with one output head per task (the
task-incremental setting: the task id picks the head); a single ten-way head
with ``heads={"all": 10}`` gives the class-incremental setting.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int_range, check_positive, check_range, check_same_shape
from ..losses import kd_kl
from ..seeding import fork


def lwf_loss(new_logits: torch.Tensor, labels: torch.Tensor, old_head_logits: torch.Tensor,
             recorded_logits: torch.Tensor, *, T: float = 2.0, lam: float = 1.0) -> torch.Tensor:
    """Cross-entropy on the new task plus ``lam`` times the T^2-scaled KD to the recorded old outputs.

    ``old_head_logits`` are the current model's outputs for the old task on the new
    inputs; ``recorded_logits`` are the frozen old model's outputs on the same inputs.
    ``lam = 0`` is plain fine-tuning.
    """
    T = check_positive("T", T)
    lam = check_range("lam", lam, 0.0, 1e6)
    check_same_shape("old_head_logits", old_head_logits, "recorded_logits", recorded_logits)
    if new_logits.dim() != 2 or labels.shape != new_logits.shape[:1]:
        raise ValueError(f"new_logits must be (batch, classes) and labels (batch,), got {tuple(new_logits.shape)} "
                         f"and {tuple(labels.shape)}")
    if len(old_head_logits) != len(new_logits):
        raise ValueError(f"old_head_logits must hold one row per new example ({len(new_logits)}), "
                         f"got {len(old_head_logits)}")
    ce = F.cross_entropy(new_logits, labels)
    if lam == 0:
        return ce
    return ce + lam * kd_kl(old_head_logits, recorded_logits.detach(), T=T)


class MultiHeadMLP(nn.Module):
    """A shared ReLU trunk ``in -> hidden...`` and one linear head per task.

    ``model(x)`` returns a dict ``{head name: logits}``; ``model(x, head)`` one head's logits.
    """

    def __init__(self, in_features: int, hidden=(64,), heads: dict | None = None, *, seed: int | None = None):
        super().__init__()
        check_int_range("in_features", in_features, 1, 10**7)
        heads = {"A": 5, "B": 5} if heads is None else dict(heads)
        if not heads:
            raise ValueError("heads must name at least one head, e.g. {'A': 5, 'B': 5}")
        hidden = tuple(hidden) if hasattr(hidden, "__iter__") else (hidden,)
        with fork(seed):
            layers, prev = OrderedDict(), in_features
            for i, h in enumerate(hidden, 1):
                check_int_range("hidden width", h, 1, 10**6)
                layers[f"fc{i}"] = nn.Linear(prev, h)
                layers[f"act{i}"] = nn.ReLU()
                prev = h
            self.trunk = nn.Sequential(layers)
            self.heads = nn.ModuleDict()
            for name, n in heads.items():
                check_int_range(f"heads[{name!r}]", n, 1, 10**6)
                self.heads[name] = nn.Linear(prev, int(n))

    def forward(self, x: torch.Tensor, head: str | None = None):
        z = self.trunk(x)
        if head is None:
            return {k: h(z) for k, h in self.heads.items()}
        if head not in self.heads:
            raise ValueError(f"head must be one of {list(self.heads)}, got {head!r}")
        return self.heads[head](z)
