"""Adversarial robustness, headless: FGSM and PGD under an L-infinity budget, and the exact margin condition
for a linear classifier.

    X_adv = fgsm(model, X, y, epsilon=0.1)                  # one signed-gradient step, clamped to [0, 1]
    X_adv = pgd(model, X, y, epsilon=0.1, steps=10)         # projected gradient ascent in the epsilon-ball
    accs = robust_accuracy(model, X, y, [0, 0.05, 0.1], method="pgd")

Both attacks ascend a loss of the model's logits: ``"ce"`` (cross-entropy of ``logits / temperature``, the
loss of Goodfellow et al. 2015; ``temperature`` > 1 undoes the logit scaling of defensive distillation) or
``"margin"`` (the best other logit minus the true one, as in Carlini and Wagner 2017), which has no softmax
to saturate. Every perturbed input stays inside the epsilon-ball around ``X`` and inside ``clamp`` (the
valid input range; ``None`` for no box).

For a linear classifier z = W x + b the worst L-infinity perturbation is known in closed form: pushing x by
``-epsilon * sign(w_y - w_j)`` lowers the margin z_y - z_j by exactly ``epsilon * ||w_y - w_j||_1`` and no
perturbation in the ball lowers it more. So x is safe at epsilon exactly when every margin exceeds that
amount (:func:`linear_certified`), and :func:`linear_worst_case` builds the attack that succeeds everywhere
else. Nothing here touches the global random state.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_choice, check_int_range, check_positive
from ..seeding import generator

LOSSES = ("ce", "margin")
METHODS = ("fgsm", "pgd")


# ------------------------------------------------------------------------------------------- checks
def check_epsilon(epsilon, name: str = "epsilon") -> float:
    """An attack budget: a finite number >= 0."""
    try:
        v = float(epsilon)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0 (allowed range: [0, inf)), got {epsilon!r}") from None
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be >= 0 (allowed range: [0, inf)), got {epsilon!r}")
    return v


def _check_clamp(clamp):
    if clamp is None:
        return None
    try:
        lo, hi = (float(c) for c in clamp)
    except (TypeError, ValueError):
        raise ValueError(f"clamp must be None or a pair (low, high), got {clamp!r}") from None
    if not lo < hi:
        raise ValueError(f"clamp must be (low, high) with low < high, got {clamp!r}")
    return lo, hi


def _check_xy(X, y, clamp):
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"X and y must be torch tensors, got {type(X).__name__} and {type(y).__name__}")
    if X.dim() < 2:
        raise ValueError(f"X must have a batch dimension (shape (N, ...)), got shape {tuple(X.shape)}")
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
    if clamp is not None and len(X) and (float(X.min()) < clamp[0] - 1e-6 or float(X.max()) > clamp[1] + 1e-6):
        raise ValueError(f"X must lie inside clamp={clamp} (the valid input range), got values in "
                         f"[{float(X.min()):g}, {float(X.max()):g}]")


# ------------------------------------------------------------------------------------------- losses
def attack_loss(logits: torch.Tensor, y: torch.Tensor, *, loss: str = "ce", temperature: float = 1.0) -> torch.Tensor:
    """The per-example loss an attack ascends: ``"ce"`` at ``temperature``, or the ``"margin"``
    max_{j != y} z_j - z_y (positive once the example is misclassified)."""
    check_choice("loss", loss, LOSSES)
    temperature = check_positive("temperature", temperature)
    if loss == "ce":
        return F.cross_entropy(logits / temperature, y, reduction="none")
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf"))
    return others.max(1).values - true


def input_gradient(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, loss: str = "ce",
                   temperature: float = 1.0) -> torch.Tensor:
    """Gradient of the summed attack loss with respect to the input (the model's weights get no .grad)."""
    x = X.detach().clone().requires_grad_(True)
    was = model.training
    model.eval()
    try:
        value = attack_loss(model(x), y, loss=loss, temperature=temperature).sum()
        (grad,) = torch.autograd.grad(value, x)
    finally:
        model.train(was)
    return grad


def project_linf(X_adv: torch.Tensor, X: torch.Tensor, epsilon: float, clamp=(0.0, 1.0)) -> torch.Tensor:
    """Project onto the L-infinity ball of radius ``epsilon`` around ``X``, then onto the box ``clamp``."""
    epsilon = check_epsilon(epsilon)
    clamp = _check_clamp(clamp)
    if X_adv.shape != X.shape:
        raise ValueError(f"X_adv and X must have the same shape, got {tuple(X_adv.shape)} and {tuple(X.shape)}")
    out = X + (X_adv - X).clamp(-epsilon, epsilon)
    return out if clamp is None else out.clamp(*clamp)


# ------------------------------------------------------------------------------------------- attacks
def fgsm(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epsilon: float, *, loss: str = "ce",
         temperature: float = 1.0, clamp=(0.0, 1.0)) -> torch.Tensor:
    """The fast gradient sign method: ``X + epsilon * sign(grad_x loss)``, clamped to the valid range."""
    epsilon = check_epsilon(epsilon)
    clamp = _check_clamp(clamp)
    _check_xy(X, y, clamp)
    if epsilon == 0:
        return X.detach().clone()
    g = input_gradient(model, X, y, loss=loss, temperature=temperature)
    return project_linf(X.detach() + epsilon * g.sign(), X.detach(), epsilon, clamp)


def pgd(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epsilon: float, *, steps: int = 10,
        step_size: float | None = None, loss: str = "ce", temperature: float = 1.0, clamp=(0.0, 1.0),
        random_start: bool = False, seed: int = 0) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): ``steps`` signed steps of ``step_size`` (default
    2.5 * epsilon / steps), each followed by projection onto the epsilon-ball and the box ``clamp``.

    ``random_start`` begins at a uniform point of the ball drawn from ``seed``. Returns, per example, the
    last iterate (ascending the loss; it usually is the strongest one).
    """
    epsilon = check_epsilon(epsilon)
    clamp = _check_clamp(clamp)
    steps = check_int_range("steps", steps, 1, 10_000)
    _check_xy(X, y, clamp)
    step_size = 2.5 * epsilon / steps if step_size is None else check_positive("step_size", step_size)
    X = X.detach()
    if epsilon == 0:
        return X.clone()
    x = X.clone()
    if random_start:
        noise = torch.rand(X.shape, generator=generator(seed), dtype=X.dtype) * 2 - 1
        x = project_linf(X + epsilon * noise, X, epsilon, clamp)
    for _ in range(steps):
        g = input_gradient(model, x, y, loss=loss, temperature=temperature)
        x = project_linf(x + step_size * g.sign(), X, epsilon, clamp)
    return x


def attack(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epsilon: float, *, method: str = "fgsm",
           **kw) -> torch.Tensor:
    """``fgsm`` or ``pgd`` by name (keywords go to the attack)."""
    check_choice("method", method, METHODS)
    return (fgsm if method == "fgsm" else pgd)(model, X, y, epsilon, **kw)


@torch.no_grad()
def _correct(model, X, y):
    was = model.training
    model.eval()
    out = model(X).argmax(-1) == y
    model.train(was)
    return out


def robust_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epsilons, *, method: str = "fgsm",
                    **kw) -> np.ndarray:
    """Accuracy on attacked inputs at each epsilon (epsilon 0 gives the clean accuracy)."""
    eps = [check_epsilon(e) for e in np.atleast_1d(np.asarray(epsilons, dtype=float))]
    return np.array([float(_correct(model, attack(model, X, y, e, method=method, **kw), y).float().mean())
                     for e in eps])


def success_rate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, X_adv: torch.Tensor) -> float:
    """Share of the examples the model classifies correctly that ``X_adv`` turns into mistakes
    (Papernot et al.'s "adversarial success rate"); nan when the model gets none right."""
    if X_adv.shape != X.shape:
        raise ValueError(f"X_adv and X must have the same shape, got {tuple(X_adv.shape)} and {tuple(X.shape)}")
    ok = _correct(model, X, y)
    if not ok.any():
        return float("nan")
    return float((~_correct(model, X_adv, y))[ok].float().mean())


# ------------------------------------------------------------------------------------------- linear models
def _check_linear(W, b, X, y):
    if W.dim() != 2:
        raise ValueError(f"W must be a 2-D tensor (classes, features), got shape {tuple(W.shape)}")
    if W.shape[0] < 2:
        raise ValueError(f"W must have at least 2 rows (classes), got {W.shape[0]}")
    if b.shape != W.shape[:1]:
        raise ValueError(f"b must have shape ({W.shape[0]},) to match W, got {tuple(b.shape)}")
    if X.dim() != 2 or X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have shape (N, {W.shape[1]}) to match W, got {tuple(X.shape)}")
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= W.shape[0]):
        raise ValueError(f"y must hold class indices in 0..{W.shape[0] - 1}, got values in "
                         f"{int(y.min())}..{int(y.max())}")


def linear_margins(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """For z = W x + b: the margins z_y - z_j (N, K) and the L1 norms ||w_y - w_j||_1 (N, K);
    the true class's own column holds +inf and 0."""
    _check_linear(W, b, X, y)
    z = X @ W.T + b
    margins = z.gather(1, y[:, None]) - z
    norms = (W[y][:, None, :] - W[None, :, :]).abs().sum(-1)
    own = F.one_hot(y, W.shape[0]).bool()
    return margins.masked_fill(own, float("inf")), norms.masked_fill(own, 0.0)


def linear_safe_radius(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per example, min over j != y of (z_y - z_j) / ||w_y - w_j||_1: the largest L-infinity budget the
    example survives (without a box); negative for an example already misclassified."""
    margins, norms = linear_margins(W, b, X, y)
    ratio = margins / norms
    ratio = torch.where(norms > 0, ratio, torch.where(margins > 0, torch.inf, -torch.inf))
    return ratio.min(1).values


def linear_certified(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    """True where every margin z_y - z_j exceeds epsilon * ||w_y - w_j||_1: no L-infinity perturbation of
    size epsilon can change the prediction away from y."""
    epsilon = check_epsilon(epsilon)
    margins, norms = linear_margins(W, b, X, y)
    return (margins > epsilon * norms).all(1)


def linear_worst_case(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    """The optimal L-infinity attack on a linear classifier (no box): for the class j with the smallest
    margin left, move x by ``-epsilon * sign(w_y - w_j)``."""
    epsilon = check_epsilon(epsilon)
    margins, norms = linear_margins(W, b, X, y)
    j = (margins - epsilon * norms).argmin(1)
    return X - epsilon * (W[y] - W[j]).sign()
