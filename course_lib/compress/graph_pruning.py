"""Pruning the edges of a graph under a budget, for a graph network that must keep its predictions.

A two-layer graph convolutional network (Kipf & Welling 2017) in dense torch,
``GCN(A_hat @ relu(A_hat @ X W1) W2)`` with ``A_hat = D^-1/2 (A + I) D^-1/2``,
and three ways to choose which undirected edges to keep under an edge budget
(the fraction of edges kept):

* ``"drift"``: remove each edge alone and measure how far the network's output
  moves from the teacher's on the full graph (mean KL over nodes); drop the edges
  whose removal moves it least, in ``rounds`` rounds, re-measuring on the graph
  that is left after each round (one-shot scores ignore that removals interact);
* ``"degree"``: keep the edges whose endpoints have the smallest degrees (an edge
  between two hubs carries little weight after normalisation);
* ``"random"``: keep a random subset (seeded).

Every scorer returns one score per edge (higher = keep first); :func:`keep_edges`
turns scores and a budget into the kept edge list.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_choice, check_int_range, check_range
from ..seeding import fork, generator

METHODS = ("drift", "degree", "random")


def check_budget(budget) -> float:
    """An edge budget is the fraction of edges kept, in [0, 1]."""
    return check_range("budget", budget, 0.0, 1.0)


def normalized_adjacency(edges: torch.Tensor, n_nodes: int, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Dense ``D^-1/2 (A + I) D^-1/2`` for undirected ``edges`` (shape (E, 2)) with optional edge weights."""
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    if len(edges) and (int(edges.min()) < 0 or int(edges.max()) >= n_nodes):
        raise ValueError(f"edges must join nodes in 0..{n_nodes - 1}, got node ids {int(edges.min())}..{int(edges.max())}")
    w = torch.ones(len(edges)) if weights is None else weights
    A = torch.zeros(n_nodes, n_nodes)
    A = A.index_put((edges[:, 0], edges[:, 1]), w, accumulate=True)
    A = A.index_put((edges[:, 1], edges[:, 0]), w, accumulate=True)
    A = A + torch.eye(n_nodes)
    d = A.sum(1).rsqrt()
    return d[:, None] * A * d[None, :]


def batched_normalized_adjacency(edges: torch.Tensor, n_nodes: int, drop: torch.Tensor) -> torch.Tensor:
    """One normalised adjacency per row of the 0/1 mask ``drop`` (shape (B, E)): edge e removed where 1."""
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    keep = 1.0 - drop.float()
    B = keep.shape[0]
    A = torch.zeros(B, n_nodes, n_nodes)
    b = torch.arange(B)[:, None].expand(B, len(edges))
    A = A.index_put((b, edges[None, :, 0].expand(B, -1), edges[None, :, 1].expand(B, -1)), keep, accumulate=True)
    A = A.index_put((b, edges[None, :, 1].expand(B, -1), edges[None, :, 0].expand(B, -1)), keep, accumulate=True)
    A = A + torch.eye(n_nodes)
    d = A.sum(-1).rsqrt()
    return d[:, :, None] * A * d[:, None, :]


class GCN(nn.Module):
    """Two graph-convolution layers: ``A_hat relu(A_hat X W1) W2`` (dense; A_hat may be batched)."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, *, seed: int | None = 0):
        super().__init__()
        with fork(seed):
            self.lin1 = nn.Linear(in_features, hidden)
            self.lin2 = nn.Linear(hidden, n_classes)

    def forward(self, X: torch.Tensor, A_hat: torch.Tensor) -> torch.Tensor:
        h = F.relu(A_hat @ self.lin1(X))
        return A_hat @ self.lin2(h)


def output_drift(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Mean over nodes of KL(teacher || student) in nats (the last dimension holds the classes)."""
    return F.kl_div(F.log_softmax(student_logits, -1), F.log_softmax(teacher_logits, -1),
                    reduction="none", log_target=True).sum(-1).mean(-1)


@torch.no_grad()
def drift_scores(model: GCN, X: torch.Tensor, edges: torch.Tensor, n_nodes: int,
                 teacher_logits: torch.Tensor, *, chunk: int = 64) -> torch.Tensor:
    """For every edge: the model's drift from ``teacher_logits`` when that edge alone is removed."""
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    E = len(edges)
    XW = model.lin1(X)
    out = []
    for start in range(0, E, chunk):
        idx = torch.arange(start, min(E, start + chunk))
        drop = torch.zeros(len(idx), E)
        drop[torch.arange(len(idx)), idx] = 1.0
        A = batched_normalized_adjacency(edges, n_nodes, drop)
        logits = A @ model.lin2(F.relu(A @ XW))
        out.append(output_drift(logits, teacher_logits))
    return torch.cat(out) if out else torch.zeros(0)


def iterative_drift_scores(model: GCN, X: torch.Tensor, edges: torch.Tensor, n_nodes: int,
                           teacher_logits: torch.Tensor, *, rounds: int = 10) -> torch.Tensor:
    """A keep-order from ``rounds`` rounds of drift pruning: higher score = removed later (kept longer).

    Each round scores the edges still present with :func:`drift_scores` on the
    graph left so far and removes the ``E / rounds`` with the smallest drift.
    """
    check_int_range("rounds", rounds, 1, 10**4)
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    E = len(edges)
    scores = torch.zeros(E)
    alive = torch.arange(E)
    per_round = max(1, math.ceil(E / rounds))
    step = 0
    while len(alive):
        d = drift_scores(model, X, edges[alive], n_nodes, teacher_logits)
        order = torch.sort(d, stable=True).indices[:per_round]  # the least harmful removals of this round
        scores[alive[order]] = step + torch.arange(len(order), dtype=torch.float) / per_round
        step += 1
        keep = torch.ones(len(alive), dtype=torch.bool)
        keep[order] = False
        alive = alive[keep]
    return scores


def degree_scores(edges: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """Score ``1/deg(u) + 1/deg(v)``: edges between low-degree nodes are kept first."""
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    deg = torch.bincount(edges.flatten(), minlength=n_nodes).float().clamp_min(1)
    return 1.0 / deg[edges[:, 0]] + 1.0 / deg[edges[:, 1]]


def random_scores(n_edges: int, *, seed: int = 0) -> torch.Tensor:
    """A random order of the edges, drawn from ``seed``."""
    return torch.rand(int(n_edges), generator=generator(seed))


def keep_edges(edges: torch.Tensor, scores: torch.Tensor, budget: float) -> torch.Tensor:
    """The ``round(budget * E)`` edges with the highest scores (ties broken by edge order)."""
    budget = check_budget(budget)
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    if len(scores) != len(edges):
        raise ValueError(f"scores must have one entry per edge ({len(edges)}), got {len(scores)}")
    k = int(math.floor(budget * len(edges) + 0.5))
    order = torch.sort(scores, descending=True, stable=True).indices
    return edges[order[:k]]


def edge_scores(method: str, *, edges, n_nodes: int, model: GCN | None = None, X=None,
                teacher_logits=None, seed: int = 0, rounds: int = 20) -> torch.Tensor:
    """Scores by ``method`` (one of METHODS); ``drift`` needs the model, features and teacher logits."""
    check_choice("method", method, METHODS)
    edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
    if method == "drift":
        if model is None or X is None or teacher_logits is None:
            raise ValueError("method='drift' needs model, X and teacher_logits")
        return iterative_drift_scores(model, X, edges, n_nodes, teacher_logits, rounds=rounds)
    if method == "degree":
        return degree_scores(edges, n_nodes)
    return random_scores(len(edges), seed=seed)
