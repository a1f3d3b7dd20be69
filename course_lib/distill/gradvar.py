"""Variance of the mini-batch distillation gradient against batch size B and temperature T.

Per-example gradients of the soft loss with respect to the student's
parameters come from ``torch.func`` (``vmap`` over ``grad``). A mini-batch
gradient is the mean of B of them drawn with replacement, so its variance
around the full-batch gradient is ``trace(Cov) / B``; :func:`minibatch_variance`
measures it by drawing many batches. :func:`fit_loglog` fits a power law with
the standard error of its slope, and :func:`iso_variance_temperature` reads off,
for each B, the T that keeps the variance at a target level, which is how the
rule T proportional to B^(-1/4) is checked.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from .. import losses
from .._checks import check_int_range, check_positive


def per_example_grads(model: nn.Module, X: torch.Tensor, teacher_logits: torch.Tensor, *, T: float,
                      soft: str = "kd", **soft_kwargs) -> torch.Tensor:
    """(N, P) matrix: row i is the gradient of ``soft(student(x_i), teacher(x_i), T=T)`` w.r.t. all parameters."""
    T = check_positive("T", T)
    if X.shape[0] != teacher_logits.shape[0]:
        raise ValueError(f"X and teacher_logits must have the same number of rows, got {X.shape[0]} and "
                         f"{teacher_logits.shape[0]}")
    fn = losses.get(soft)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss_one(p, x, t):
        z = functional_call(model, p, (x[None],))
        return fn(z, t[None], T=T, **soft_kwargs)

    g = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, X, teacher_logits)
    return torch.cat([g[k].reshape(len(X), -1) for k in params], dim=1)


def minibatch_variance(G: torch.Tensor, B: int, *, n_draws: int = 400, seed: int = 0) -> float:
    """Mean squared distance between a size-B mini-batch gradient and the full-batch one.

    Batches are drawn with replacement from the rows of ``G`` (per-example gradients).
    """
    if G.dim() != 2:
        raise ValueError(f"G must be a 2-D (examples, parameters) tensor, got shape {tuple(G.shape)}")
    check_int_range("B", B, 1, 10**7)
    check_int_range("n_draws", n_draws, 2, 10**7)
    gen = torch.Generator().manual_seed(int(seed))
    idx = torch.randint(0, len(G), (int(n_draws), int(B)), generator=gen)
    full = G.mean(0)
    # In chunks of draws, so that no more than about 4M gradient entries are gathered at once
    # (G[idx] for 2,000 draws of 64 rows of a 1,210-parameter student would be about 600 MB).
    chunk = max(1, int(4_000_000 // max(1, int(B) * G.shape[1])))
    total = 0.0
    for rows in idx.split(chunk):
        total += float(((G[rows].mean(1) - full) ** 2).sum(-1).sum())
    return total / int(n_draws)


def exact_variance(G: torch.Tensor, B: int) -> float:
    """``trace(Cov(per-example gradient)) / B``: what :func:`minibatch_variance` estimates."""
    check_int_range("B", B, 1, 10**7)
    return float(((G - G.mean(0)) ** 2).sum(-1).mean()) / B


def variance_grid(model: nn.Module, X: torch.Tensor, teacher_logits: torch.Tensor, Ts, Bs, *,
                  n_draws: int = 400, seed: int = 0, soft: str = "kd", **soft_kwargs) -> np.ndarray:
    """Measured mini-batch gradient variance, an array of shape (len(Ts), len(Bs))."""
    out = np.zeros((len(Ts), len(Bs)))
    for i, T in enumerate(Ts):
        G = per_example_grads(model, X, teacher_logits, T=T, soft=soft, **soft_kwargs)
        for j, B in enumerate(Bs):
            out[i, j] = minibatch_variance(G, int(B), n_draws=n_draws, seed=seed + 1000 * i + j)
    return out


def fit_loglog(x, y) -> dict:
    """Least squares ``log y = intercept + slope * log x``; returns slope, intercept and slope's standard error."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError(f"x and y must be 1-D with the same length >= 3, got shapes {x.shape} and {y.shape}")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("x and y must be > 0 for a log-log fit")
    lx, ly = np.log(x), np.log(y)
    A = np.stack([np.ones_like(lx), lx], 1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    dof = len(x) - 2
    s2 = float(resid @ resid) / dof if dof > 0 else float("nan")
    cov = s2 * np.linalg.inv(A.T @ A)
    return {"slope": float(coef[1]), "intercept": float(coef[0]), "se": math.sqrt(max(cov[1, 1], 0.0)),
            "r2": 1.0 - float(resid @ resid) / float(((ly - ly.mean()) ** 2).sum())}


def iso_variance_temperature(Ts, variances, target: float) -> float:
    """The T at which variance(T) crosses ``target``, by linear interpolation in log-log space.

    ``variances`` (one per T, for a fixed B) must fall as T rises; raises a
    ValueError when ``target`` lies outside the measured range.
    """
    target = check_positive("target", target)
    lT = np.log(np.asarray(Ts, dtype=float))
    lv = np.log(np.asarray(variances, dtype=float))
    if not np.all(np.diff(lv) < 0):
        raise ValueError("variances must decrease strictly as T increases")
    lt = math.log(target)
    if not lv[-1] <= lt <= lv[0]:
        raise ValueError(f"target must lie in the measured range [{math.exp(lv[-1]):.3g}, {math.exp(lv[0]):.3g}], "
                         f"got {target:.3g}")
    return float(math.exp(np.interp(lt, lv[::-1], lT[::-1])))


def bootstrap_slope(x, y, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """Bootstrap (resampling the points) of the log-log slope: mean, standard deviation, 95% interval."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    check_int_range("n_boot", n_boot, 10, 10**6)
    rng = np.random.default_rng(seed)
    slopes = []
    for _ in range(n_boot):
        i = rng.integers(0, len(x), len(x))
        if len(np.unique(x[i])) < 2:
            continue
        slopes.append(np.polyfit(np.log(x[i]), np.log(y[i]), 1)[0])
    slopes = np.asarray(slopes)
    return {"mean": float(slopes.mean()), "std": float(slopes.std(ddof=1)),
            "ci95": (float(np.quantile(slopes, 0.025)), float(np.quantile(slopes, 0.975)))}


def per_example_loss_grads(model: nn.Module, loss_one, X: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, P) per-example gradients of any ``loss_one(logits[1, C], target[1, ...])``: hard labels or soft targets."""
    if X.shape[0] != targets.shape[0]:
        raise ValueError(f"X and targets must have the same number of rows, got {X.shape[0]} and {targets.shape[0]}")
    params = {k: v.detach() for k, v in model.named_parameters()}

    def f(p, x, t):
        return loss_one(functional_call(model, p, (x[None],)), t[None])

    g = vmap(grad(f), in_dims=(None, 0, 0))(params, X, targets)
    return torch.cat([g[k].reshape(len(X), -1) for k in params], dim=1)


def noise_to_signal(G: torch.Tensor) -> float:
    """trace(Cov) / ||mean||^2 of per-example gradients (rows of ``G``); unchanged by any rescaling of the loss,
    so hard-label cross-entropy and T^2-scaled distillation can be compared fairly."""
    if G.dim() != 2 or len(G) < 2:
        raise ValueError(f"G must be a 2-D (examples, parameters) tensor with at least 2 rows, got {tuple(G.shape)}")
    mean = G.mean(0)
    return float(((G - mean) ** 2).sum(1).mean() / (mean * mean).sum().clamp_min(1e-30))


def scaled_objective(objective, c: float):
    """The objective ``objective(model, idx)`` (a ``train.fit`` objective) with its ``"loss"`` multiplied by ``c``.

    Multiplying the loss by c multiplies every gradient by c: plain SGD then
    takes c-times larger steps (as with a c-times larger learning rate), while
    Adam divides the gradient by its running root mean square and only feels c
    through its small ``eps``.
    """
    c = check_positive("c", c)

    def scaled(model, idx):
        terms = dict(objective(model, idx))
        terms["loss"] = c * terms["loss"]
        return terms

    return scaled


def relative_distance(model_a: nn.Module, model_b: nn.Module, start: nn.Module) -> float:
    """``||theta_a - theta_b|| / ||theta_b - theta_start||``: how far apart two runs from ``start`` ended,
    relative to how far run b travelled (all parameters flattened into one vector)."""
    def vec(m):
        return torch.cat([p.detach().reshape(-1) for p in m.parameters()])

    a, b, s = vec(model_a), vec(model_b), vec(start)
    if not (a.shape == b.shape == s.shape):
        raise ValueError(f"the three models must have the same parameters, got sizes {len(a)}, {len(b)} and {len(s)}")
    travelled = float((b - s).norm())
    if travelled == 0.0:
        raise ValueError("model_b equals start (it did not move), so the relative distance is undefined")
    return float((a - b).norm()) / travelled
