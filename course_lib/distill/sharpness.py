"""How sharp is a minimum? Filter-normalised random directions, loss slices, perturbations, the top Hessian eigenvalue.

- ``random_direction``: a Gaussian direction in weight space, rescaled row by row
  so that each neuron's slice of the direction has the norm of that neuron's
  weights (Li et al. 2018, "filter normalisation" for a fully connected layer);
  biases are not perturbed. Radii are then comparable between two networks
  whose weights have different scales.
- ``perturbed``: evaluate a function of the model at ``w + r * d`` and put the
  weights back, whatever happens.
- ``loss_slice``: the loss along one direction at several radii.
- ``top_hessian_eigenvalue``: power iteration with Hessian-vector products
  (double back-propagation), never forming the Hessian.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch
from torch import nn

from .._checks import check_int_range, check_positive, check_range
from ..seeding import generator


def _params(model: nn.Module) -> dict:
    params = {k: p for k, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(f"model has no trainable parameters ({type(model).__name__})")
    return params


def random_direction(model: nn.Module, *, seed: int = 0) -> dict:
    """A filter-normalised random direction: {parameter name: tensor}, zero on biases."""
    g = generator(seed)
    out = {}
    for k, p in _params(model).items():
        d = torch.randn(p.shape, generator=g)
        if p.dim() >= 2:
            rows = p.detach().reshape(p.shape[0], -1)
            dr = d.reshape(p.shape[0], -1)
            dr.mul_(rows.norm(dim=1, keepdim=True) / dr.norm(dim=1, keepdim=True).clamp_min(1e-12))
            out[k] = dr.reshape(p.shape)
        else:
            out[k] = torch.zeros_like(p)
    return out


@contextlib.contextmanager
def perturbed(model: nn.Module, direction: dict, radius: float):
    """Inside the block the model's weights are ``w + radius * direction``; afterwards exactly ``w`` again."""
    params = _params(model)
    missing = set(params) - set(direction)
    if missing:
        raise ValueError(f"direction has no entry for parameter(s) {sorted(missing)}")
    saved = {k: p.detach().clone() for k, p in params.items()}
    try:
        with torch.no_grad():
            for k, p in params.items():
                p.add_(float(radius) * direction[k])
        yield model
    finally:
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])


@torch.no_grad()
def loss_slice(model: nn.Module, direction: dict, radii, loss_fn: Callable[[nn.Module], torch.Tensor]) -> torch.Tensor:
    """``loss_fn(model)`` at ``w + r * direction`` for every r in ``radii``."""
    out = []
    was = model.training
    model.eval()
    for r in radii:
        with perturbed(model, direction, float(r)):
            out.append(float(loss_fn(model)))
    model.train(was)
    return torch.tensor(out)


def top_hessian_eigenvalue(model: nn.Module, loss_fn: Callable[[nn.Module], torch.Tensor], *, iters: int = 100,
                           tol: float = 1e-4, seed: int = 0) -> dict:
    """Largest-magnitude eigenvalue of the Hessian of ``loss_fn(model)`` by power iteration.

    Each step is one Hessian-vector product by double back-propagation. Stops
    when the Rayleigh quotient changes by less than ``tol`` (relative).
    Returns ``{"eigenvalue", "iterations", "converged"}``.
    """
    check_int_range("iters", iters, 1, 10**5)
    check_positive("tol", tol)
    params = list(_params(model).values())
    was = model.training
    model.eval()
    loss = loss_fn(model)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    g = generator(seed)
    v = [torch.randn(p.shape, generator=g) for p in params]
    norm = torch.sqrt(sum((x * x).sum() for x in v))
    v = [x / norm for x in v]
    lam, converged, it = 0.0, False, 0
    for it in range(1, int(iters) + 1):
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        new = float(sum((a * b).sum() for a, b in zip(hv, v)))
        norm = torch.sqrt(sum((x * x).sum() for x in hv))
        if float(norm) == 0.0:
            lam, converged = 0.0, True
            break
        v = [x / norm for x in hv]
        if it > 1 and abs(new - lam) <= tol * max(abs(new), 1e-12):
            lam, converged = new, True
            break
        lam = new
    model.train(was)
    return {"eigenvalue": lam, "iterations": it, "converged": converged}


@torch.no_grad()
def accuracy_drop(model: nn.Module, directions: list, radius: float, X: torch.Tensor, y: torch.Tensor) -> float:
    """Mean fall in accuracy on (X, y) when the weights move by ``radius`` along each direction."""
    check_range("radius", radius, 0, 100)
    if not directions:
        raise ValueError("directions must hold at least one direction")
    was = model.training
    model.eval()
    base = float((model(X).argmax(-1) == y).float().mean())
    accs = []
    for d in directions:
        with perturbed(model, d, radius):
            accs.append(float((model(X).argmax(-1) == y).float().mean()))
    model.train(was)
    return base - sum(accs) / len(accs)
