"""Meta-learned initialisations (Reptile; Nichol, Achiam and Schulman, 2018) and their distillation.

A meta-learned initialisation is one from which a few plain gradient steps on a handful of
labelled points fit a new task of a family. **Reptile** finds it by repeating: adapt a copy of
the initialisation with ``inner_steps`` SGD steps on a sampled task, then move the
initialisation part of the way towards the adapted weights,
``theta <- theta + outer_lr * (theta_adapted - theta)`` (exercise H21).

The perceptrons here are *functional*: a list of weight tensors with leading batch axes, so that
many initialisations (one per seed) and many tasks per initialisation are adapted in one batched
pass. ``params`` of shape ``(M, fan_in, fan_out)`` hold M initialisations; adapted weights carry
``(M, B, ...)`` for B tasks each. One backward pass of the per-task losses, summed, gives every
task its own gradient (no task's weights touch another's).

**Distillation.** In a K-shot world the student only ever sees K labelled points per task. A
meta-learned teacher can do better than that: it adapts on the K shots, and its adapted function
labels as many query points as we like. ``meta_train(..., teacher=...)`` uses those labels in the
outer update: the student adapts on the same K true shots as the directly meta-trained student
(so it learns to adapt the way it will be used), and its initialisation is then pulled along the
first-order MAML direction that makes its *adapted* function match the teacher's adapted function
on a dense set of query points. The direct student gets the Reptile direction from its K shots
alone. Both use the same tasks, shots, meta-iterations, meta-batch and inner steps; the distilled
student additionally costs the teacher's adaptation and its forward pass on the query points.

The task family is Finn et al.'s (2017) and Nichol et al.'s sine waves, y = A sin(x - phase),
with A in [0.1, 5], phase in [0, pi] and x in [-5, 5].
"""
from __future__ import annotations

import math

import torch

from .._checks import check_int_range, check_positive, check_range
from ..seeding import generator

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


# ---------------------------------------------------------------------------------------- the task family
def _check_interval(name: str, interval) -> tuple:
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {interval!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"{name} must be a non-empty range (low, high) with low < high, got {interval!r}")
    return lo, hi


def sample_tasks(shape, *, seed: int, amplitude=AMPLITUDE, phase=PHASE) -> tuple:
    """(amplitude, phase) tensors of ``shape + (1, 1)``, uniform over the ranges, from a private generator."""
    amplitude, phase = _check_interval("amplitude", amplitude), _check_interval("phase", phase)
    if amplitude[0] < 0:
        raise ValueError(f"amplitude must lie in [0, inf), got {amplitude!r}")
    shape = tuple(int(s) for s in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"shape must be a non-empty tuple of sizes >= 1, got {shape!r}")
    g = generator(seed)
    a = amplitude[0] + (amplitude[1] - amplitude[0]) * torch.rand(*shape, 1, 1, generator=g)
    ph = phase[0] + (phase[1] - phase[0]) * torch.rand(*shape, 1, 1, generator=g)
    return a, ph


def sample_x(shape, points: int, *, seed: int) -> torch.Tensor:
    """Inputs of shape ``shape + (points, 1)``, uniform on X_RANGE."""
    check_int_range("points", points, 1, 1_000_000)
    g = generator(seed)
    return X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * torch.rand(*shape, int(points), 1, generator=g)


def sine(a: torch.Tensor, ph: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The task's targets ``a * sin(x - ph)`` (broadcast)."""
    return a * torch.sin(x - ph)


def grid(points: int = 100) -> torch.Tensor:
    """``points`` evenly spaced inputs over X_RANGE, shape (points, 1)."""
    check_int_range("points", points, 2, 1_000_000)
    return torch.linspace(*X_RANGE, int(points)).unsqueeze(-1)


# ---------------------------------------------------------------------------------------- functional perceptrons
def init_params(hidden, *, seeds, activation: str = "tanh") -> dict:
    """A batch of 1 -> hidden... -> 1 perceptrons, one per seed in ``seeds`` (nn.Linear's uniform init).

    Returns ``{"W": [...], "b": [...], "act": activation}`` with weights of shape (len(seeds), fan_in, fan_out).
    """
    hidden = tuple(int(check_int_range("hidden", h, 1, 4096)) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    if not hidden:
        raise ValueError("hidden must name at least one hidden layer, got ()")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    dims = (1,) + hidden + (1,)
    Ws, bs = [], []
    for fi, fo in zip(dims[:-1], dims[1:]):
        bound = 1 / math.sqrt(fi)
        Ws.append(torch.stack([(torch.rand(fi, fo, generator=generator(1000 * s + len(Ws))) * 2 - 1) * bound for s in seeds]))
        bs.append(torch.stack([(torch.rand(1, fo, generator=generator(1000 * s + 500 + len(bs))) * 2 - 1) * bound for s in seeds]))
    return {"W": Ws, "b": bs, "act": activation}


def n_params(params: dict) -> int:
    """Weights of ONE network of the batch."""
    return sum(w[0].numel() for w in params["W"]) + sum(b[0].numel() for b in params["b"])


def _flat(params):
    return list(params["W"]) + list(params["b"])


def _unflat(flat, act):
    n = len(flat) // 2
    return {"W": list(flat[:n]), "b": list(flat[n:]), "act": act}


def forward(params: dict, x: torch.Tensor) -> torch.Tensor:
    """Outputs for ``x`` of shape (..., points, 1); weights (..., fan_in, fan_out) broadcast over the batch axes."""
    f = ACTIVATIONS[params["act"]]
    h = x
    n = len(params["W"])
    for i, (W, b) in enumerate(zip(params["W"], params["b"])):
        h = h @ W + b
        if i < n - 1:
            h = f(h)
    return h


def expand(params: dict, tasks: int) -> dict:
    """Copy each of the M initialisations to ``tasks`` tasks: weights (M, tasks, ...)."""
    check_int_range("tasks", tasks, 1, 1_000_000)
    return _unflat([q.unsqueeze(1).expand(q.shape[0], int(tasks), *q.shape[1:]) for q in _flat(params)], params["act"])


def _check_finite(flat, where):
    for q in flat:
        if not bool(torch.isfinite(q).all()):
            raise FloatingPointError(f"non-finite weights after {where}: lower the learning rate or the clip norm")


def adapt(params: dict, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, clip: float = 10.0) -> dict:
    """``steps`` plain SGD steps on each task's mean squared error, from batched ``params`` (a copy; detached).

    ``params`` carry the same leading axes as ``x`` minus (points, 1). Each task's gradient is
    clipped to norm ``clip`` (over all its weights) before the step, which keeps large-amplitude
    tasks from blowing up. Raises FloatingPointError if a weight becomes non-finite.
    """
    steps = check_int_range("steps", steps, 0, 100_000)
    lr = check_positive("lr", lr)
    clip = check_positive("clip", clip)
    if x.dim() < 2 or x.shape[-1] != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must have the same shape (..., points, 1), got {tuple(x.shape)} and {tuple(y.shape)}")
    batch = x.shape[:-2]
    p = [q.detach().expand(*batch, *q.shape[-2:]).clone() for q in _flat(params)]
    act = params["act"]
    for _ in range(steps):
        p = [q.requires_grad_(True) for q in p]
        loss = ((forward(_unflat(p, act), x) - y) ** 2).mean(dim=(-2, -1)).sum()
        grads = torch.autograd.grad(loss, p)
        norm = torch.sqrt(sum((g ** 2).sum(dim=(-2, -1)) for g in grads))  # per task
        scale = (clip / (norm + 1e-12)).clamp(max=1.0)[..., None, None]
        p = [(q - lr * scale * g).detach() for q, g in zip(p, grads)]
    _check_finite(p, f"{steps} adaptation steps")
    return _unflat(p, act)


def reptile_update(params: dict, adapted: dict, outer_lr: float) -> dict:
    """The Reptile step, theta + outer_lr * (mean over tasks of theta_adapted - theta), per initialisation.

    ``params``: (M, ...); ``adapted``: (M, B, ...). outer_lr in (0, 1].
    """
    outer_lr = check_range("outer_lr", outer_lr, 0, 1, lo_open=True)
    flat = [t + outer_lr * (a.mean(1) - t) for t, a in zip(_flat(params), _flat(adapted))]
    return _unflat(flat, params["act"])


# ---------------------------------------------------------------------------------------- meta-training
def _stream(seed: int) -> int:
    """The first generator seed of ``seed``'s training draws (iteration i uses this + 3i .. + 3i + 2)."""
    return 1_000_003 * (int(seed) + 1)


def _check_common(shots, inner_steps, inner_lr, meta_batch, iterations):
    shots = check_int_range("shots", shots, 1, 10_000)
    inner_steps = check_int_range("inner_steps", inner_steps, 0, 10_000)
    inner_lr = check_positive("inner_lr", inner_lr)
    meta_batch = check_int_range("meta_batch", meta_batch, 1, 10_000)
    iterations = check_int_range("iterations", iterations, 0, 10**7)
    return shots, inner_steps, inner_lr, meta_batch, iterations


def meta_train(params: dict, iterations: int, *, seeds, shots: int = 10, inner_steps: int = 5,
               inner_lr: float = 0.02, outer_lr: float = 0.1, meta_batch: int = 10, teacher: dict | None = None,
               teacher_steps: int | None = None, query: int = 50, distill_weight: float = 1.0, outer: str = "adam",
               clip: float = 10.0,
               amplitude=AMPLITUDE, phase=PHASE, progress: bool | str = False) -> dict:
    """Meta-train M initialisations (one per entry of ``seeds``, which also draws their tasks).

    Without ``teacher``: Reptile. Each iteration draws ``meta_batch`` tasks and ``shots`` labelled
    points per task, adapts a copy on them (``inner_steps`` SGD steps at ``inner_lr``) and moves
    the initialisation towards the mean adapted weights by ``outer_lr``, annealed linearly to 0.

    With ``teacher`` (batched like ``params``, one teacher per seed): the same inner loop on the same
    shots, then the teacher adapts on those shots too (``teacher_steps``, default ``inner_steps``) and
    labels ``query`` random inputs per task; the student's initialisation takes the first-order MAML
    step ``-distill_lr * grad`` of the mean squared gap between its adapted function and the teacher's
    at those inputs (gradient taken at the adapted weights), on top of the Reptile step.
    """
    shots, inner_steps, inner_lr, meta_batch, iterations = _check_common(shots, inner_steps, inner_lr, meta_batch, iterations)
    outer_lr = check_positive("outer_lr", outer_lr)
    query = check_int_range("query", query, 1, 100_000)
    distill_weight = check_range("distill_weight", distill_weight, 0, 1)
    if outer not in ("sgd", "adam"):
        raise ValueError(f"outer must be 'sgd' or 'adam', got {outer!r}")
    teacher_steps = inner_steps if teacher_steps is None else check_int_range("teacher_steps", teacher_steps, 0, 10_000)
    seeds = [int(s) for s in seeds]
    M = params["W"][0].shape[0]
    if len(seeds) != M:
        raise ValueError(f"seeds must have one entry per initialisation ({M}), got {len(seeds)}")
    if teacher is not None and teacher["W"][0].shape[0] != M:
        raise ValueError(f"teacher must hold one network per seed ({M}), got {teacher['W'][0].shape[0]}")
    act = params["act"]
    theta = [q.detach().clone().requires_grad_(True) for q in _flat(params)]
    opt = torch.optim.Adam(theta, lr=outer_lr) if outer == "adam" else None
    its = range(iterations)
    if progress:
        from tqdm.auto import tqdm
        its = tqdm(its, desc=progress if isinstance(progress, str) else "meta-training", leave=False)
    base = [_stream(s) for s in seeds]
    for it in its:
        a = torch.cat([sample_tasks((1, meta_batch), seed=b + 3 * it, amplitude=amplitude, phase=phase)[0] for b in base])
        ph = torch.cat([sample_tasks((1, meta_batch), seed=b + 3 * it, amplitude=amplitude, phase=phase)[1] for b in base])
        x = torch.cat([sample_x((1, meta_batch), shots, seed=b + 3 * it + 1) for b in base])
        y = sine(a, ph, x)
        cur = _unflat([q.detach() for q in theta], act)
        phi = adapt(expand(cur, meta_batch), x, y, steps=inner_steps, lr=inner_lr, clip=clip)
        # the Reptile direction, written as a gradient: theta - mean adapted weights
        direction = [t - p.mean(1) for t, p in zip(_flat(cur), _flat(phi))]
        if teacher is not None:
            xq = torch.cat([sample_x((1, meta_batch), query, seed=b + 3 * it + 2) for b in base])
            t_phi = adapt(expand(teacher, meta_batch), x, y, steps=teacher_steps, lr=inner_lr, clip=clip)
            with torch.no_grad():
                yq = forward(t_phi, xq)
            p = [q.requires_grad_(True) for q in _flat(phi)]
            gap = ((forward(_unflat(p, act), xq) - yq) ** 2).mean(dim=(-2, -1)).sum() / meta_batch
            grads = torch.autograd.grad(gap, p)  # first-order MAML: the gradient at the adapted weights
            step = inner_steps * inner_lr  # puts both directions on the scale of weights moved by the inner loop
            direction = [(1 - distill_weight) * d + distill_weight * step * g.sum(1) for d, g in zip(direction, grads)]
        frac = 1 - it / max(1, iterations)
        if opt is None:
            with torch.no_grad():
                for t, d in zip(theta, direction):
                    t.sub_(outer_lr * frac * d)
        else:
            for group in opt.param_groups:
                group["lr"] = outer_lr * frac
            for t, d in zip(theta, direction):
                t.grad = d
            opt.step()
        _check_finite(theta, f"meta-iteration {it}")
    theta = _unflat([q.detach() for q in theta], act)
    return theta


def pretrain(params: dict, iterations: int, *, seeds, shots: int = 10, meta_batch: int = 10, lr: float = 0.01,
             clip: float = 10.0, amplitude=AMPLITUDE, phase=PHASE) -> dict:
    """The non-meta baseline: one network fitted to ALL tasks at once (Finn et al.'s "pretrained" model).

    Same draws of tasks and shots as ``meta_train`` (``iterations`` x ``meta_batch`` x ``shots``), one
    clipped SGD step per iteration on the pooled mean squared error. It converges towards the family's
    average function, which for phases in [0, pi] is not zero.
    """
    shots, _, lr, meta_batch, iterations = _check_common(shots, 0, lr, meta_batch, iterations)
    seeds = [int(s) for s in seeds]
    if len(seeds) != params["W"][0].shape[0]:
        raise ValueError(f"seeds must have one entry per initialisation ({params['W'][0].shape[0]}), got {len(seeds)}")
    base = [_stream(s) for s in seeds]
    p = [q.detach().clone() for q in _flat(params)]
    act = params["act"]
    for it in range(iterations):
        a = torch.cat([sample_tasks((1, meta_batch), seed=b + 3 * it, amplitude=amplitude, phase=phase)[0] for b in base])
        ph = torch.cat([sample_tasks((1, meta_batch), seed=b + 3 * it, amplitude=amplitude, phase=phase)[1] for b in base])
        x = torch.cat([sample_x((1, meta_batch), shots, seed=b + 3 * it + 1) for b in base])
        xs, ys = x.flatten(1, 2), sine(a, ph, x).flatten(1, 2)  # (M, meta_batch * shots, 1): pooled
        p = [q.requires_grad_(True) for q in p]
        loss = ((forward(_unflat(p, act), xs) - ys) ** 2).mean(dim=(-2, -1)).sum()
        grads = torch.autograd.grad(loss, p)
        norm = torch.sqrt(sum((g ** 2).sum(dim=(-2, -1)) for g in grads))
        scale = (clip / (norm + 1e-12)).clamp(max=1.0)[..., None, None]
        p = [(q - lr * scale * g).detach() for q, g in zip(p, grads)]
    _check_finite(p, "pretraining")
    return _unflat(p, act)


# ---------------------------------------------------------------------------------------- evaluation
def held_out_tasks(n_tasks: int, *, seed: int, shots: int = 10, models: int = 1, amplitude=AMPLITUDE,
                   phase=PHASE) -> dict:
    """``n_tasks`` test tasks per model (drawn from ``seed``, disjoint from training draws by construction of
    the generator seeds), their ``shots`` labelled points, shape (models, n_tasks, ...)."""
    n_tasks = check_int_range("n_tasks", n_tasks, 1, 1_000_000)
    shots = check_int_range("shots", shots, 1, 10_000)
    models = check_int_range("models", models, 1, 10_000)
    a, ph = sample_tasks((models, n_tasks), seed=10**12 + int(seed), amplitude=amplitude, phase=phase)
    x = sample_x((models, n_tasks), shots, seed=10**12 + 10**6 + int(seed))
    return {"a": a, "ph": ph, "x": x, "y": sine(a, ph, x)}


def post_adaptation_mse(params: dict, tasks: dict, *, steps, lr: float = 0.02, clip: float = 10.0,
                        points: int = 100) -> torch.Tensor:
    """Per-task mean squared error on a ``points`` grid over X_RANGE after k SGD steps on the tasks' shots.

    ``steps``: an int or a list of ints (k); returns a tensor (len(steps), M, n_tasks). Adaptation is
    incremental, so asking for k = 1, 5, 10 costs 10 steps.
    """
    ks = [int(check_int_range("steps", k, 0, 100_000)) for k in (steps if hasattr(steps, "__iter__") else [steps])]
    if not ks:
        raise ValueError("steps must name at least one number of steps, got none")
    x, y = tasks["x"], tasks["y"]
    if params["W"][0].shape[0] != x.shape[0]:
        raise ValueError(f"tasks must be drawn for {params['W'][0].shape[0]} models, got {x.shape[0]}")
    xg = grid(points)
    yg = sine(tasks["a"], tasks["ph"], xg)
    p, done, out = expand(params, x.shape[1]), 0, {}
    for k in sorted(set(ks)):
        p = adapt(p, x, y, steps=k - done, lr=lr, clip=clip)
        done = k
        with torch.no_grad():
            out[k] = ((forward(p, xg) - yg) ** 2).mean(dim=(-2, -1))
    return torch.stack([out[k] for k in ks])


def select(params: dict, i: int) -> dict:
    """The ``i``-th initialisation of a batch, still with a batch axis of 1."""
    M = params["W"][0].shape[0]
    i = check_int_range("i", i, 0, M - 1)
    return _unflat([q[i:i + 1] for q in _flat(params)], params["act"])


def to_state(params: dict) -> dict:
    """A plain dict of tensors (for caching)."""
    return {f"p{i}": q.detach().clone() for i, q in enumerate(_flat(params))}


def from_state(state: dict, act: str) -> dict:
    return _unflat([state[f"p{i}"] for i in range(len(state))], act)
