"""Reptile (Nichol, Achiam and Schulman, 2018) on batched functional perceptrons, and its distillation.

A meta-learned initialisation is one from which a few plain gradient steps on a handful of
examples fit a new task of the family. Reptile finds it by repeating: copy the
initialisation, take ``inner_steps`` SGD steps on a sampled task, and move the
initialisation a fraction of the way towards the result. Here every meta-batch of tasks
is adapted at once: the parameters carry a leading task axis and one backward pass of the
summed per-task losses gives each task its own gradient.

``distill_targets`` turns a meta-learned teacher into a source of training targets: the
teacher adapts on a task's few labelled points, and its adapted predictions at many
unlabelled inputs become the student's inner-loop data (a student that learns to adapt
the way the teacher does).

The task family is Nichol et al.'s and Finn et al.'s sine waves: y = A sin(x - phi), with
A in [0.1, 5], phi in [0, pi], x in [-5, 5].
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .._checks import check_int_range, check_positive, check_range
from ..seeding import generator

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)


def init_params(hidden: int, *, seed: int = 0, layers: int = 2) -> list:
    """Parameters of a 1 -> hidden (x layers) -> 1 ReLU perceptron, uniform(+-1/sqrt(fan_in)) like nn.Linear."""
    check_int_range("hidden", hidden, 1, 10_000)
    check_int_range("layers", layers, 1, 10)
    g = generator(seed)
    dims = [1] + [hidden] * layers + [1]
    params = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = 1 / math.sqrt(fan_in)
        params.append((torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound)
        params.append((torch.rand(1, fan_out, generator=g) * 2 - 1) * bound)
    return params


def forward(params: list, x: torch.Tensor) -> torch.Tensor:
    """Outputs for inputs ``x`` of shape (tasks, points, 1) (batched params) or (points, 1) (plain params)."""
    h = x
    n = len(params) // 2
    for i in range(n):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n - 1:
            h = torch.relu(h)
    return h


def adapt(params: list, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, batched: bool = False) -> list:
    """``steps`` plain SGD steps on each task's mean squared error, from ``params``.

    ``params`` are one initialisation (copied to every task) unless ``batched``; returns batched,
    detached parameters with a leading task axis.
    """
    check_int_range("steps", steps, 0, 100_000)
    lr = check_positive("lr", lr)
    if x.dim() != 3 or y.shape != x.shape:
        raise ValueError(f"x and y must both have shape (tasks, points, 1), got {tuple(x.shape)} and {tuple(y.shape)}")
    B = x.shape[0]
    p = [(q if batched else q.expand(B, *q.shape)).detach().clone().requires_grad_(True) for q in params]
    for _ in range(int(steps)):
        loss = ((forward(p, x) - y) ** 2).mean(dim=(1, 2)).sum()
        grads = torch.autograd.grad(loss, p)
        p = [(q - lr * g).detach().requires_grad_(True) for q, g in zip(p, grads)]
    return [q.detach() for q in p]


def sample_tasks(n: int, gen: torch.Generator):
    """``n`` (amplitude, phase) pairs from the sine family."""
    a = AMPLITUDE[0] + (AMPLITUDE[1] - AMPLITUDE[0]) * torch.rand(n, 1, 1, generator=gen)
    ph = PHASE[0] + (PHASE[1] - PHASE[0]) * torch.rand(n, 1, 1, generator=gen)
    return a, ph


def sample_x(n: int, points: int, gen: torch.Generator) -> torch.Tensor:
    return X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * torch.rand(n, points, 1, generator=gen)


def sine(a: torch.Tensor, ph: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return a * torch.sin(x - ph)


def reptile(params: list, iterations: int, *, shots: int = 10, inner_steps: int = 5, inner_lr: float = 0.02,
            outer_lr: float = 1.0, meta_batch: int = 10, seed: int = 0,
            targets: Callable | None = None, progress: bool | str = False) -> list:
    """Meta-train ``params`` with Reptile; returns new parameters (the input is not changed).

    Each iteration samples ``meta_batch`` sine tasks and ``shots`` labelled points per task,
    adapts a copy on them, and moves the initialisation towards the mean adapted weights by
    ``outer_lr`` (linearly annealed to 0, as in the paper). ``targets(a, ph, x, gen) -> (x_in, y_in)``
    replaces the inner-loop data (see ``distill_targets``).
    """
    check_int_range("iterations", iterations, 0, 10**7)
    check_int_range("shots", shots, 1, 10_000)
    check_int_range("meta_batch", meta_batch, 1, 10_000)
    check_range("outer_lr", outer_lr, 0, 1, lo_open=True)
    gen = generator(seed)
    theta = [q.detach().clone() for q in params]
    its = range(int(iterations))
    if progress:
        from tqdm.auto import tqdm
        its = tqdm(its, desc=progress if isinstance(progress, str) else "meta-training", leave=False)
    for it in its:
        a, ph = sample_tasks(meta_batch, gen)
        x = sample_x(meta_batch, shots, gen)
        if targets is None:
            x_in, y_in = x, sine(a, ph, x)
        else:
            x_in, y_in = targets(a, ph, x, gen)
        phi = adapt(theta, x_in, y_in, steps=inner_steps, lr=inner_lr)
        eps = outer_lr * (1 - it / max(1, iterations))
        theta = [t + eps * (p.mean(0) - t) for t, p in zip(theta, phi)]
    return theta


def distill_targets(teacher: list, *, steps: int = 5, lr: float = 0.02, points: int = 50) -> Callable:
    """Inner-loop data for a student: the teacher adapts on the task's labelled shots, then labels
    ``points`` unlabelled inputs with its adapted predictions."""
    check_int_range("points", points, 1, 100_000)

    def targets(a, ph, x, gen):
        t = adapt(teacher, x, sine(a, ph, x), steps=steps, lr=lr)
        xd = sample_x(len(x), points, gen)
        with torch.no_grad():
            return xd, forward(t, xd)

    return targets


def post_adaptation_mse(params: list, *, tasks: int = 200, shots: int = 10, steps: int = 5, lr: float = 0.02,
                        seed: int = 12345, grid: int = 100) -> torch.Tensor:
    """Per-task mean squared error on a dense grid after ``steps`` SGD steps on ``shots`` labelled points."""
    check_int_range("tasks", tasks, 1, 100_000)
    check_int_range("shots", shots, 1, 10_000)
    gen = generator(seed)
    a, ph = sample_tasks(tasks, gen)
    x = sample_x(tasks, shots, gen)
    p = adapt(params, x, sine(a, ph, x), steps=steps, lr=lr)
    xg = torch.linspace(*X_RANGE, grid).reshape(1, grid, 1).expand(tasks, grid, 1)
    with torch.no_grad():
        return ((forward(p, xg) - sine(a, ph, xg)) ** 2).mean(dim=(1, 2))
