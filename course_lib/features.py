"""Intermediate features by forward hooks, hint regressors, and embedding helpers.

``capture(model, ["act1"])`` is a context manager: while it is open, every
forward pass of ``model`` stores the outputs of the named sub-modules in a
dict (with their autograd graph, so a loss on them trains the model). The
model itself is never rewritten; the hooks are removed when the block ends.

``HintRegressor`` maps a student's narrow feature to the teacher's wider one
(the learned regressor of FitNets). ``pairwise_distances``, ``recall_at_1``
and ``distance_correlation`` measure embeddings.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from ._checks import check_int_range, check_range
from .seeding import fork


def layer_names(model: nn.Module) -> list[str]:
    """Names of every sub-module that a hook can address (the empty root excluded)."""
    return [name for name, _ in model.named_modules() if name]


@contextmanager
def capture(model: nn.Module, names, *, detach: bool = False):
    """Record the outputs of the sub-modules ``names`` during forward passes.

    Yields a dict ``{name: tensor}`` that each forward pass overwrites.
    ``detach=True`` stores detached copies (for a frozen teacher).
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names must list at least one layer, got an empty list")
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules or not n]
    if unknown:
        raise ValueError(f"names must be layers of the model ({layer_names(model)}), got {unknown}")
    store: dict = {}
    handles = []

    def make_hook(name):
        def hook(module, inputs, output):
            store[name] = output.detach() if detach else output
        return hook

    for n in names:
        handles.append(modules[n].register_forward_hook(make_hook(n)))
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def features(model: nn.Module, X: torch.Tensor, name: str) -> torch.Tensor:
    """The output of layer ``name`` for inputs ``X`` (eval mode, no gradients)."""
    was = model.training
    model.eval()
    with capture(model, [name], detach=True) as store:
        model(X)
    model.train(was)
    return store[name]


class HintRegressor(nn.Module):
    """A learned linear map from a student feature (width ``in_features``) to the teacher's (``out_features``).

    FitNets put such a regressor on the student's guided layer so that a thin
    student can be compared with a wide teacher layer; it is thrown away after training.
    """

    def __init__(self, in_features: int, out_features: int, *, seed: int | None = None):
        super().__init__()
        check_int_range("in_features", in_features, 1, 10**6)
        check_int_range("out_features", out_features, 1, 10**6)
        with fork(seed):
            self.proj = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.proj(x)


def add_feature_noise(feats: torch.Tensor, noise: float, *, seed: int = 0) -> torch.Tensor:
    """Fixed Gaussian noise on every row, with standard deviation ``noise`` times each column's spread.

    The noise is drawn once (seeded) and stays the same through training: a
    corrupted hint, not a regulariser that averages out.
    """
    noise = check_range("noise", noise, 0.0, 100.0)
    if noise == 0:
        return feats.clone()
    g = torch.Generator().manual_seed(int(seed))
    scale = feats.std(0, keepdim=True).clamp_min(1e-8)
    return feats + noise * scale * torch.randn(feats.shape, generator=g)


def misalign(feats: torch.Tensor, fraction: float, *, seed: int = 0) -> torch.Tensor:
    """Hand a random ``fraction`` of the rows the feature of another row (shuffled among themselves)."""
    fraction = check_range("fraction", fraction, 0.0, 1.0)
    g = torch.Generator().manual_seed(int(seed))
    n = len(feats)
    k = int(round(fraction * n))
    out = feats.clone()
    if k < 2:
        return out
    rows = torch.randperm(n, generator=g)[:k]
    out[rows] = feats[rows[torch.randperm(k, generator=g)]]
    return out


def pairwise_distances(emb: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between every pair of rows, (N, N), via ``torch.cdist``."""
    if emb.dim() != 2:
        raise ValueError(f"emb must be a 2-D tensor (batch, dim), got shape {tuple(emb.shape)}")
    return torch.cdist(emb, emb)


@torch.no_grad()
def recall_at_1(emb: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose nearest other row (Euclidean) has the same label."""
    if emb.dim() != 2:
        raise ValueError(f"emb must be a 2-D tensor (batch, dim), got shape {tuple(emb.shape)}")
    if labels.shape != emb.shape[:1]:
        raise ValueError(f"labels must have shape ({emb.shape[0]},), got {tuple(labels.shape)}")
    if len(emb) < 2:
        raise ValueError(f"emb needs at least 2 rows for a nearest neighbour, got {len(emb)}")
    d = pairwise_distances(emb.float())
    d.fill_diagonal_(float("inf"))
    return float((labels[d.argmin(1)] == labels).float().mean())


@torch.no_grad()
def distance_correlation(emb_a: torch.Tensor, emb_b: torch.Tensor) -> float:
    """Pearson correlation of the pairwise distances of two embeddings of the same rows.

    1 means the two spaces have the same geometry up to scale.
    """
    if len(emb_a) != len(emb_b):
        raise ValueError(f"emb_a and emb_b must have the same number of rows, got {len(emb_a)} and {len(emb_b)}")
    iu = torch.triu_indices(len(emb_a), len(emb_a), 1)
    da = pairwise_distances(emb_a.float())[iu[0], iu[1]]
    db = pairwise_distances(emb_b.float())[iu[0], iu[1]]
    return float(torch.corrcoef(torch.stack([da, db]))[0, 1])
