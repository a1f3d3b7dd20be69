"""Pruning: magnitude (layer-wise or global), movement, and structured unit removal.

* ``magnitude_prune`` zeroes the smallest weights with ``torch.nn.utils.prune``
  (per layer or over the whole model); the masks stay attached, so a later
  ``train.fit`` fine-tunes only the surviving weights.
* ``gradual_prune`` raises the sparsity along a cubic schedule while it
  fine-tunes, ranking weights either by magnitude |W| or by *movement*: a score
  per weight that accumulates -W * dL/dW (Sanh et al., 2020), carried by a
  ``torch.nn.utils.parametrize`` mask with a straight-through gradient.
* ``mask_units`` zeroes whole hidden units (``prune.ln_structured``), and
  ``shrink`` rebuilds the MLP without them, which is what makes it faster.
Byte counts live in :mod:`course_lib.compress.encode`.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as tprune

from .._checks import check_choice, check_int_range, check_positive, check_range
from ..seeding import fork
from .layers import PRUNABLE, linear_layers

SCOPES = ("layer", "global")
METHODS = ("magnitude", "movement")


def check_sparsity(value, name: str = "sparsity") -> float:
    """A sparsity is the fraction of weights set to zero: a number in [0, 1)."""
    return check_range(name, value, 0.0, 1.0, hi_open=True)


def prunable(model: nn.Module) -> list:
    """``[(name, module)]`` of the Linear and Conv layers whose weights get pruned (none: an empty list)."""
    return linear_layers(model, kinds=PRUNABLE, required=False)


def _weight(module) -> torch.Tensor:
    return module.weight.detach()


# ------------------------------------------------------------------ magnitude
def magnitude_prune(model: nn.Module, sparsity: float, *, scope: str = "layer") -> nn.Module:
    """Zero the fraction ``sparsity`` of smallest-|w| weights, in place; returns ``model``.

    ``scope="layer"`` prunes that fraction in every layer; ``"global"`` ranks all
    weights of the model together, so layers with many small weights lose more.
    """
    sparsity = check_sparsity(sparsity)
    check_choice("scope", scope, SCOPES)
    layers = prunable(model)
    if not layers:
        raise ValueError("model has no Linear or Conv layer to prune")
    if scope == "layer":
        for _, m in layers:
            tprune.l1_unstructured(m, "weight", amount=sparsity)
    else:
        tprune.global_unstructured([(m, "weight") for _, m in layers], pruning_method=tprune.L1Unstructured,
                                   amount=sparsity)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold ``torch.nn.utils.prune`` masks into the weights (zeros stay zeros); returns ``model``."""
    for _, m in prunable(model):
        if tprune.is_pruned(m) and hasattr(m, "weight_orig"):
            tprune.remove(m, "weight")
    return model


def layer_sparsity(model: nn.Module) -> dict:
    """``{layer name: fraction of zero weights}``."""
    return {n: float((_weight(m) == 0).float().mean()) for n, m in prunable(model)}


def sparsity(model: nn.Module) -> float:
    """Fraction of zero weights over all prunable layers together."""
    zeros = total = 0
    layers = prunable(model)
    if not layers:
        raise ValueError(f"model has no Linear or Conv layer whose sparsity could be measured ({type(model).__name__})")
    for _, m in layers:
        w = _weight(m)
        zeros += int((w == 0).sum())
        total += w.numel()
    return zeros / max(total, 1)


# ------------------------------------------------------------ prune + fine-tune
def prune_finetune(base: nn.Module, sparsity: float, objective: Callable, n_samples: int, *,
                   scope: str = "layer", steps: int = 30, lr: float = 1e-3, seed: int = 0,
                   eval_fn: Callable | None = None) -> dict:
    """Copy ``base``, magnitude-prune it, fine-tune the survivors ``steps`` full-batch steps.

    ``base`` is never modified. Returns ``{"pruned", "finetuned"}`` models (masks
    folded in) and, when ``eval_fn(model) -> float`` is given, ``"acc_pruned"``
    and ``"acc_finetuned"``.
    """
    from ..train import fit

    check_int_range("steps", steps, 0, 10**6)
    model = magnitude_prune(copy.deepcopy(base), sparsity, scope=scope)
    model.eval()
    pruned = copy.deepcopy(base).eval()
    with torch.no_grad():
        for (_, p), (_, m) in zip(prunable(pruned), prunable(model)):
            p.weight.mul_(m.weight_mask)
    out = {"pruned": pruned}
    if eval_fn is not None:
        out["acc_pruned"] = float(eval_fn(pruned))
    if steps:
        fit(model, objective, n_samples, epochs=steps, lr=lr, seed=seed)
    out["finetuned"] = make_permanent(model)
    if eval_fn is not None:
        out["acc_finetuned"] = float(eval_fn(out["finetuned"]))
    return out


# ------------------------------------------------------------------- movement
class ScoredMask(nn.Module):
    """Parametrization ``W -> W * mask`` whose scores receive the straight-through gradient.

    In the forward pass the mask is exactly the 0/1 buffer ``mask``. In the
    backward pass it behaves as if it were ``scores`` itself, so
    ``scores.grad = dL/dW' * W`` (W' the masked weight): the movement signal,
    which also reaches weights that are currently pruned.
    """

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.scores = nn.Parameter(torch.zeros_like(weight))
        self.register_buffer("mask", torch.ones_like(weight))

    def forward(self, w):
        return w * (self.mask + self.scores - self.scores.detach())


def cubic_schedule(step: int, steps: int, final: float, *, ramp: float = 2 / 3) -> float:
    """Sparsity at ``step``: from 0 up to ``final`` along Zhu and Gupta's cubic over the first ``ramp`` of the
    steps, then flat. The formula is ``torch.ao.pruning.CubicSL.sparsity_compute_fn`` (one pruning step per
    training step)."""
    from torch.ao.pruning import CubicSL

    final = check_sparsity(final, "final")
    ramp = check_range("ramp", ramp, 0.0, 1.0, lo_open=True)
    end = max(1, round(ramp * steps))
    return float(CubicSL.sparsity_compute_fn(0.0, final, min(step + 1, end), 0, 1, end))


def _keep_masks(scores: list, sparsity: float, scope: str) -> list:
    """0/1 masks keeping the highest scores (exact count; per layer or over all layers)."""
    if scope == "layer":
        out = []
        for s in scores:
            k = s.numel() - round(sparsity * s.numel())
            m = torch.zeros(s.numel())
            m[torch.topk(s.flatten(), k).indices] = 1.0
            out.append(m.reshape(s.shape))
        return out
    flat = torch.cat([s.flatten() for s in scores])
    k = flat.numel() - round(sparsity * flat.numel())
    m = torch.zeros(flat.numel())
    m[torch.topk(flat, k).indices] = 1.0
    return [x.reshape(s.shape) for x, s in zip(m.split([s.numel() for s in scores]), scores)]


def gradual_prune(model: nn.Module, objective: Callable, *, sparsity: float, method: str = "movement",
                  steps: int = 150, lr: float = 1e-3, scope: str = "layer", ramp: float = 2 / 3,
                  seed: int = 0) -> nn.Module:
    """Fine-tune ``model`` in place while pruning it up to ``sparsity``; returns it with zeros folded in.

    Every step sets the mask from the current scores at the scheduled sparsity
    (:func:`cubic_schedule`), takes one full-batch Adam step on the weights for
    ``objective(model, idx)["loss"]`` and, for ``method="movement"``, adds
    ``-W * dL/dW'`` to each weight's score; a pruned weight keeps its value and
    can come back if its score rises (Sanh et al., 2020).
    ``method="magnitude"`` is standard gradual magnitude pruning (Zhu and Gupta,
    2017): it ranks by |W * mask|, and a pruned weight is set to zero after every
    step, so Adam's momentum cannot move it and it never returns.
    """
    sparsity = check_sparsity(sparsity)
    check_choice("method", method, METHODS)
    check_choice("scope", scope, SCOPES)
    check_int_range("steps", steps, 1, 10**6)
    lr = check_positive("lr", lr)
    layers = [m for _, m in prunable(model)]
    if not layers:
        raise ValueError("model has no Linear or Conv layer to prune")
    masks = []
    for m in layers:
        parametrize.register_parametrization(m, "weight", ScoredMask(m.weight))
        masks.append(m.parametrizations.weight[0])
    weights = [p for n, p in model.named_parameters() if not n.endswith(".scores")]
    opt = torch.optim.Adam(weights, lr=lr)
    with fork(seed):  # anything random in the objective draws from a private stream
        model.train()
        try:
            for step in range(steps):
                s_now = cubic_schedule(step, steps, sparsity, ramp=ramp)
                with torch.no_grad():
                    if method == "movement":
                        scores = [pm.scores for pm in masks]
                    else:  # masked weights score 0: once pruned, always pruned
                        scores = [(m.parametrizations.weight.original * pm.mask).abs() for m, pm in zip(layers, masks)]
                    for pm, new in zip(masks, _keep_masks(scores, s_now, scope)):
                        pm.mask.copy_(new)
                opt.zero_grad(set_to_none=True)
                for pm in masks:
                    pm.scores.grad = None
                objective(model, slice(None))["loss"].backward()
                opt.step()
                if method == "magnitude":
                    with torch.no_grad():
                        for m, pm in zip(layers, masks):
                            m.parametrizations.weight.original.mul_(pm.mask)
                if method == "movement":
                    with torch.no_grad():
                        for pm in masks:
                            pm.scores.sub_(pm.scores.grad)
        finally:
            model.eval()
            for m in layers:
                parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


def movement_scores(model: nn.Module, objective: Callable, *, steps: int = 1) -> dict:
    """Movement scores ``-sum_t W * dL/dW`` over ``steps`` gradient evaluations, without changing weights.

    A positive score means the loss wants the weight to grow away from zero.
    Returns ``{layer name: scores tensor}``.
    """
    check_int_range("steps", steps, 1, 10**6)
    layers = prunable(model)
    if not layers:
        raise ValueError(f"model has no Linear or Conv layer to score ({type(model).__name__})")
    out = {n: torch.zeros_like(_weight(m)) for n, m in layers}
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        objective(model, slice(None))["loss"].backward()
        with torch.no_grad():
            for n, m in layers:
                if m.weight.grad is not None:
                    out[n] -= m.weight * m.weight.grad
    model.zero_grad(set_to_none=True)
    return out


# ----------------------------------------------------------------- structured
def _mlp_parts(model: nn.Module) -> list:
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be an nn.Sequential MLP (Linear, activation, ..., Linear), got {type(model).__name__}")
    parts = list(model.named_children())
    linear = [i for i, (_, m) in enumerate(parts) if isinstance(m, nn.Linear)]
    if not linear or linear[-1] != len(parts) - 1 or len(linear) < 2:
        raise ValueError("model must alternate Linear layers and activations and end with a Linear layer")
    return parts


def mask_units(model: nn.Module, amount: float) -> nn.Module:
    """Zero the incoming weights of the fraction ``amount`` of hidden units with the smallest L2 norm, in place.

    Uses ``prune.ln_structured(dim=0)`` on every hidden Linear layer (not on the
    output layer). The matrices keep their shapes: no computation is saved.
    """
    amount = check_range("amount", amount, 0.0, 1.0, hi_open=True)
    parts = _mlp_parts(model)
    for _, m in [p for p in parts if isinstance(p[1], nn.Linear)][:-1]:
        tprune.ln_structured(m, "weight", amount=amount, n=2, dim=0)
    return model


def shrink(model: nn.Module) -> nn.Sequential:
    """A new, physically smaller MLP without the hidden units whose incoming weights are all zero.

    A removed unit still outputs the constant ``act(bias)``; that constant is
    folded into the next layer's bias, so the smaller model computes the same
    function as the masked one.
    """
    parts = _mlp_parts(model)
    new = OrderedDict()
    keep_in = None   # indices of surviving inputs of the next Linear layer
    carry = None     # constant contribution of removed units to the next layer
    lin_idx = [i for i, (_, m) in enumerate(parts) if isinstance(m, nn.Linear)]
    for i, (name, m) in enumerate(parts):
        if not isinstance(m, nn.Linear):
            new[name] = copy.deepcopy(m)
            continue
        w = _weight(m)
        b = m.bias.detach() if m.bias is not None else torch.zeros(w.shape[0])
        if keep_in is not None:
            if carry is not None:
                b = b + w[:, ~keep_in] @ carry
            w = w[:, keep_in]
        if i != lin_idx[-1]:
            keep_out = (w != 0).any(dim=1)
            if not keep_out.any():
                keep_out[torch.argmax(w.abs().sum(1))] = True  # keep at least one unit
            act = parts[i + 1][1] if i + 1 < len(parts) else nn.Identity()
            removed_b = b[~keep_out]
            carry = act(removed_b) if removed_b.numel() else None
            w, b, keep_in = w[keep_out], b[keep_out], keep_out
        layer = nn.Linear(w.shape[1], w.shape[0], bias=True)
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        new[name] = layer
    return nn.Sequential(new).eval()


def remove_units(model: nn.Module, amount: float) -> nn.Sequential:
    """Drop the fraction ``amount`` of hidden units (smallest L2 norm) of every hidden layer; a smaller copy."""
    masked = mask_units(copy.deepcopy(model), amount)
    return shrink(make_permanent(masked))


def hidden_sizes(model: nn.Module) -> tuple:
    """Output widths of the hidden Linear layers of an MLP."""
    return tuple(m.out_features for _, m in _mlp_parts(model) if isinstance(m, nn.Linear))[:-1]
