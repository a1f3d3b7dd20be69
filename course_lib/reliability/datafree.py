"""Distillation without the training data: inputs synthesised from the teacher, and learned tiny data sets.

``invert`` is model inversion with an image prior: random inputs are optimised
so that the teacher assigns them a chosen class, with penalties for total
variation (smoothness) and size, and snapshots along the way become a transfer
set of varied confidence. ``distill_dataset`` learns ``ipc`` images per class
(and a step size) such that a freshly initialised network trained on them for a
few unrolled gradient steps does well on the real training data (Wang et al.
2018); ``train_unrolled`` is that inner training, used again to evaluate them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .. import models
from .._checks import check_int_range, check_positive, check_range


def total_variation(x: torch.Tensor, image_shape=(1, 8, 8)) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels of flat images ``x`` (a smoothness prior)."""
    c, h, w = (int(v) for v in image_shape)
    if x.dim() != 2 or x.shape[1] != c * h * w:
        raise ValueError(f"x must have shape (n, {c * h * w}) for image_shape {tuple(image_shape)}, "
                         f"got {tuple(x.shape)}")
    im = x.reshape(-1, c, h, w)
    return ((im[..., 1:, :] - im[..., :-1, :]) ** 2).mean() + ((im[..., :, 1:] - im[..., :, :-1]) ** 2).mean()


def invert(teacher: nn.Module, *, n_per_class: int = 20, n_classes: int = 10, image_shape=(1, 8, 8),
           steps: int = 150, lr: float = 0.1, tv: float = 1.0, l2: float = 0.1, snapshot_every: int = 10,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthesise inputs from ``teacher`` alone; returns (inputs, intended classes).

    Pixels are ``sigmoid(z)`` (kept in [0, 1]); ``z`` starts as Gaussian noise and
    follows Adam on ``CE(teacher(x), class) + tv * TV(x) + l2 * mean(x^2)``.
    Every ``snapshot_every`` steps a copy is kept, so the pool holds
    ``steps // snapshot_every * n_per_class * n_classes`` rows, from unsure to confident.
    The teacher is not changed.
    """
    n_per_class = check_int_range("n_per_class", n_per_class, 1, 10**6)
    n_classes = check_int_range("n_classes", n_classes, 2, 10**6)
    steps = check_int_range("steps", steps, 1, 10**6)
    snapshot_every = check_int_range("snapshot_every", snapshot_every, 1, steps)
    lr = check_positive("lr", lr)
    tv = check_range("tv", tv, 0, 1e6)
    l2 = check_range("l2", l2, 0, 1e6)
    n_features = int(math.prod(image_shape))
    g = torch.Generator().manual_seed(int(seed))
    target = torch.arange(n_classes).repeat_interleave(n_per_class)
    z = torch.randn(len(target), n_features, generator=g).requires_grad_()
    opt = torch.optim.Adam([z], lr=lr)
    was, flags = teacher.training, [p.requires_grad for p in teacher.parameters()]
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    pool = []
    try:
        for s in range(steps):
            x = torch.sigmoid(z)
            out = teacher(x)
            if out.shape[-1] != n_classes:
                raise ValueError(f"n_classes must match the teacher's {out.shape[-1]} outputs, got {n_classes}")
            loss = F.cross_entropy(out, target) + tv * total_variation(x, image_shape) + l2 * (x ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if (s + 1) % snapshot_every == 0:
                pool.append(torch.sigmoid(z).detach().clone())
    finally:
        for p, f in zip(teacher.parameters(), flags):
            p.requires_grad_(f)
        teacher.train(was)
    return torch.cat(pool), target.repeat(len(pool))


def real_per_class(X: torch.Tensor, y: torch.Tensor, ipc: int, *, seed: int = 0):
    """``ipc`` random real examples of every class (sorted by class)."""
    ipc = check_int_range("ipc", ipc, 1, 10**6)
    g = torch.Generator().manual_seed(int(seed))
    idx = []
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        if len(rows) < ipc:
            raise ValueError(f"ipc must be at most {len(rows)} (examples of class {int(c)}), got {ipc}")
        idx.append(rows[torch.randperm(len(rows), generator=g)[:ipc]])
    idx = torch.cat(idx)
    return X[idx], y[idx]


def train_unrolled(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, lr, steps: int,
                   create_graph: bool = False) -> dict:
    """Plain full-batch gradient descent on CE, ``steps`` times; returns the final parameters as a dict.

    With ``create_graph=True`` the result stays differentiable in ``X`` and ``lr``
    (the inner loop of dataset distillation). ``model`` itself is not changed.
    """
    steps = check_int_range("steps", steps, 0, 10**5)
    if X.dim() != 2 or len(X) != len(y):
        raise ValueError(f"X must be 2-D with one row per label, got X {tuple(X.shape)} and y {tuple(y.shape)}")
    params = {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}
    with torch.enable_grad():
        for _ in range(steps):
            loss = F.cross_entropy(functional_call(model, params, (X,)), y)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
            params = {k: (v - lr * g) if create_graph else (v - lr * g).detach().requires_grad_()
                      for (k, v), g in zip(params.items(), grads)}
    return params if create_graph else {k: v.detach() for k, v in params.items()}


def distill_dataset(X: torch.Tensor, y: torch.Tensor, ipc: int, *, hidden=(32,), inner_steps: int = 10,
                    outer_steps: int = 150, batch: int = 256, lr: float = 0.03, init_step: float = 0.1,
                    max_step: float = 1.0, seed: int = 0, progress=None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Learn ``ipc`` images per class (and a step size) that train a fresh MLP in ``inner_steps`` steps.

    Each outer step draws a new initialisation, trains it on the synthetic set
    by unrolled gradient descent, measures cross-entropy on a random batch of the
    real ``(X, y)`` and moves the images (and the log step size) down that loss.
    The images start as random real ones. The step size is ``max_step * sigmoid(r)``
    for a learned ``r``: bounded, so that a fresh initialisation cannot diverge
    on a step the outer loop happened to like. Returns (images, labels, step size).
    ``progress(fraction)`` is called as it goes, if given.
    """
    ipc = check_int_range("ipc", ipc, 1, 10**4)
    inner_steps = check_int_range("inner_steps", inner_steps, 1, 1000)
    outer_steps = check_int_range("outer_steps", outer_steps, 0, 10**6)
    batch = check_int_range("batch", batch, 1, 10**7)
    lr = check_positive("lr", lr)
    max_step = check_positive("max_step", max_step)
    init_step = check_range("init_step", init_step, 0, max_step, lo_open=True, hi_open=True)
    n_classes = int(y.max()) + 1
    Xs, ys = real_per_class(X, y, ipc, seed=seed)
    Xs = Xs.clone().requires_grad_()
    r0 = init_step / max_step
    raw_step = torch.tensor(math.log(r0 / (1 - r0)), requires_grad=True)
    opt = torch.optim.Adam([Xs, raw_step], lr=lr)
    g = torch.Generator().manual_seed(int(seed) + 1)
    for it in range(outer_steps):
        net = models.mlp(X.shape[1], hidden, n_classes, seed=int(seed) * 1_000_003 + it)
        params = train_unrolled(net, Xs, ys, lr=max_step * torch.sigmoid(raw_step), steps=inner_steps,
                                create_graph=True)
        b = torch.randint(0, len(X), (min(batch, len(X)),), generator=g)
        loss = F.cross_entropy(functional_call(net, params, (X[b],)), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress is not None:
            progress((it + 1) / outer_steps)
    return Xs.detach(), ys, float(max_step * torch.sigmoid(raw_step.detach()))


def evaluate_unrolled(Xs: torch.Tensor, ys: torch.Tensor, X: torch.Tensor, y: torch.Tensor, *, step: float,
                      inner_steps: int = 10, hidden=(32,), seeds=(0,)) -> list[float]:
    """Accuracy on (X, y) of fresh MLPs (one per seed) trained on (Xs, ys) by ``train_unrolled``."""
    accs = []
    n_classes = int(max(int(y.max()), int(ys.max()))) + 1
    for s in seeds:
        net = models.mlp(X.shape[1], hidden, n_classes, seed=int(s))
        params = train_unrolled(net, Xs, ys, lr=step, steps=inner_steps)
        with torch.no_grad():
            accs.append(float((functional_call(net, params, (X,)).argmax(-1) == y).float().mean()))
    return accs
