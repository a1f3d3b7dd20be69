"""Low-rank factorization of dense layers with ``torch.linalg.svd``.

A Linear layer ``y = W x + b`` with ``W`` of shape (m, n) becomes two layers,
``x -> V_r x`` (r x n, no bias) then ``-> U_r S_r (.) + b`` (m x r), where
``U_r, S_r, V_r`` keep the ``r`` largest singular values. That is the best
rank-r approximation of ``W`` in the Frobenius norm (Eckart-Young); the
fraction of ``sum(S^2)`` kept, the "energy", tells how much of ``W`` survives.
Parameters drop from ``mn`` to ``r(m + n)`` and multiply-adds per example
likewise, a saving whenever ``r < mn / (m + n)``.
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from .._checks import check_choice, check_int_range, check_range
from .layers import linear_layers


def spectrum(weight: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D weight, largest first."""
    if weight.dim() != 2:
        raise ValueError(f"weight must be a 2-D matrix, got shape {tuple(weight.shape)}")
    return torch.linalg.svdvals(weight.detach())


def energy_kept(singular_values: torch.Tensor, rank: int) -> float:
    """Fraction of the squared Frobenius norm that the ``rank`` largest singular values keep."""
    s = torch.as_tensor(singular_values)
    rank = check_int_range("rank", rank, 1, len(s))
    e = s.pow(2)
    return float(e[:rank].sum() / e.sum())


def rank_for_energy(singular_values: torch.Tensor, energy: float) -> int:
    """Smallest rank whose energy kept is at least ``energy`` (in (0, 1])."""
    check_range("energy", energy, 0.0, 1.0, lo_open=True)
    e = torch.as_tensor(singular_values).pow(2)
    cum = torch.cumsum(e, 0) / e.sum()
    return int(torch.searchsorted(cum, torch.tensor(energy, dtype=cum.dtype) - 1e-12)) + 1


def check_rank(rank: int, m: int, n: int) -> int:
    """``rank`` must be a whole number in 1..min(m, n)."""
    return check_int_range("rank", rank, 1, min(int(m), int(n)))


def dense_params(m: int, n: int, *, bias: bool = True) -> int:
    return m * n + (m if bias else 0)


def lowrank_params(m: int, n: int, rank: int, *, bias: bool = True) -> int:
    """Parameters of the factorized layer: r(m + n) (plus the m biases)."""
    rank = check_rank(rank, m, n)
    return rank * (m + n) + (m if bias else 0)


def dense_flops(m: int, n: int) -> int:
    """FLOPs of ``W x`` for one example (a multiply-add counts 2): 2mn."""
    return 2 * m * n


def lowrank_flops(m: int, n: int, rank: int) -> int:
    """FLOPs of ``U (V x)`` for one example: 2r(m + n)."""
    rank = check_rank(rank, m, n)
    return 2 * rank * (m + n)


def break_even_rank(m: int, n: int) -> float:
    """The rank below which factorizing saves parameters and FLOPs: mn / (m + n)."""
    return m * n / (m + n)


def factorize_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """Replace ``layer`` by ``Sequential(reduce=Linear(n, r, bias=False), expand=Linear(r, m))``.

    The singular values are split evenly (sqrt(S) into each factor), so both
    factors have similar scales for fine-tuning. The product equals the best
    rank-``rank`` approximation of the weight.
    """
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"layer must be an nn.Linear, got {type(layer).__name__}")
    m, n = layer.out_features, layer.in_features
    rank = check_rank(rank, m, n)
    with torch.no_grad():
        U, S, Vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
        root = S[:rank].sqrt()
        reduce = nn.Linear(n, rank, bias=False)
        expand = nn.Linear(rank, m, bias=layer.bias is not None)
        reduce.weight.copy_(root[:, None] * Vh[:rank])
        expand.weight.copy_(U[:, :rank] * root[None, :])
        if layer.bias is not None:
            expand.bias.copy_(layer.bias)
    return nn.Sequential(OrderedDict(reduce=reduce, expand=expand))


def factorize(model: nn.Module, ranks: dict) -> nn.Module:
    """A copy of ``model`` with each named Linear layer in ``ranks`` ({name: rank}) factorized."""
    model = copy.deepcopy(model)
    linears = dict(linear_layers(model))
    for name, rank in ranks.items():
        check_choice("layer name", name, sorted(linears))
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, factorize_linear(linears[name], rank))
    return model


def layer_report(layer: nn.Linear, rank: int) -> dict:
    """Everything the rank slider shows for one layer: spectrum, energy, parameters and FLOPs."""
    m, n = layer.out_features, layer.in_features
    rank = check_rank(rank, m, n)
    s = spectrum(layer.weight)
    return dict(m=m, n=n, rank=rank, singular_values=s, energy=energy_kept(s, rank),
                params_dense=m * n, params_lowrank=rank * (m + n),
                flops_dense=dense_flops(m, n), flops_lowrank=lowrank_flops(m, n, rank),
                break_even=break_even_rank(m, n))
