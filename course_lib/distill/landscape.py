"""What distillation costs: the floating-point work of training, from ``models.flops``."""
from __future__ import annotations

import torch

from .. import models, train
from .._checks import check_int_range


def training_flops(model: torch.nn.Module, n_features: int, n_examples: int, epochs: int) -> int:
    """FLOPs of full-batch training: 3 forward passes' worth per example per epoch (forward + backward)."""
    check_int_range("n_examples", n_examples, 1, 10**12)
    check_int_range("epochs", epochs, 0, 10**9)
    return 3 * models.flops(model, (n_features,)) * n_examples * epochs


def _stack_mlps(mlps) -> list:
    """The parameters of several one-hidden-layer ``models.mlp`` copies, stacked along a new first axis."""
    def stack(get):
        return torch.stack([get(m).detach() for m in mlps]).clone().requires_grad_(True)
    return [stack(lambda m: m.fc1.weight), stack(lambda m: m.fc1.bias[:, None]),   # (S, h, in), (S, h, 1)
            stack(lambda m: m.out.weight), stack(lambda m: m.out.bias[:, None])]   # (S, C, h), (S, C, 1)


def _stacked_forward(params, Xt: torch.Tensor) -> torch.Tensor:
    """Logits of every stacked student as (S, C, N) for inputs ``Xt`` of shape (in, N).

    Classes sit on axis 1, not last: on CPU a softmax over a short last axis is several times slower.
    """
    W1, b1, W2, b2 = params
    return torch.baddbmm(b2, W2, torch.relu(torch.matmul(W1, Xt) + b1))


def train_stacked(X: torch.Tensor, y: torch.Tensor, teacher_logits: torch.Tensor, width: int, configs, *,
                  epochs: int = 100, lr: float = 3e-2, eval_sets=()) -> dict:
    """Train one ``models.mlp(in, (width,), C, seed=seed)`` student per ``(T, alpha, seed)`` in ``configs``, all at once.

    Each student minimises ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE`` full batch with Adam
    (alpha = 0 is training from scratch). The students are stacked into batched matrices and share one Adam
    optimiser; their parameters and losses are disjoint and Adam works element by element, so each learns as it
    would alone (the same numbers as ``train.train_distilled(..., seed=seed)`` up to float rounding), many times
    faster. ``teacher_logits`` is (N, C), shared by every student, or (S, N, C), one teacher per student.
    Returns ``{"accuracy": [array (len(configs),) per eval set], "logits": [tensor (len(configs), n, C) per eval
    set], "seconds": wall time}``. ``eval_sets`` is a sequence of ``(X, y)`` pairs.
    """
    import time

    import torch.nn.functional as F

    from .._checks import check_float_tensor, check_positive, check_range

    width = check_int_range("width", width, 1, 4096)
    check_int_range("epochs", epochs, 0, 10**7)
    lr = check_positive("lr", lr)
    check_float_tensor("X", X)
    check_float_tensor("teacher_logits", teacher_logits)
    configs = [(float(T), float(a), int(sd)) for T, a, sd in configs]
    if not configs:
        raise ValueError("configs must hold at least one (T, alpha, seed) triple, got none")
    for T, a, _ in configs:
        check_positive("T", T)
        check_range("alpha", a, 0.0, 1.0)
    S, N = len(configs), len(X)
    shared = teacher_logits.dim() == 2
    if X.dim() != 2 or y.dim() != 1 or len(y) != N or teacher_logits.shape[:-1] != ((N,) if shared else (S, N)):
        raise ValueError(f"X must be (N, features), y (N,) and teacher_logits (N, C) or (len(configs)={S}, N, C), "
                         f"got shapes {tuple(X.shape)}, {tuple(y.shape)} and {tuple(teacher_logits.shape)}")
    n_classes = teacher_logits.shape[-1]
    params = _stack_mlps([models.mlp(X.shape[1], (width,), n_classes, seed=sd) for _, _, sd in configs])
    Ts = torch.tensor([c[0] for c in configs])
    alphas = torch.tensor([c[1] for c in configs])
    Xt, ys = X.T.contiguous(), y.expand(S, N)
    t_cn = teacher_logits.T[None] if shared else teacher_logits.transpose(1, 2)
    log_q = F.log_softmax(t_cn / Ts[:, None, None], 1)                         # (S, C, N), fixed
    q = log_q.exp()
    any_soft, any_hard = bool((alphas > 0).any()), bool((alphas < 1).any())  # skip a term no student uses
    opt = train.FlatOptimizer.of(params, lambda ps: torch.optim.Adam(ps, lr=lr))  # same numbers, fewer kernels
    t0 = time.perf_counter()
    for _ in range(int(epochs)):
        opt.zero_grad(set_to_none=True)
        z = _stacked_forward(params, Xt)
        loss = 0
        if any_soft:
            kl = (q * (log_q - F.log_softmax(z / Ts[:, None, None], 1))).sum((1, 2)) / N   # (S,) batchmean KL
            loss = loss + (alphas * Ts ** 2 * kl).sum()
        if any_hard:
            ce = F.cross_entropy(z, ys, reduction="none").mean(1)                           # (S,)
            loss = loss + ((1 - alphas) * ce).sum()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    if isinstance(opt, train.FlatOptimizer):
        opt.close()
    with torch.no_grad():
        logits = [_stacked_forward(params, Xe.T.contiguous()).transpose(1, 2) for Xe, _ in eval_sets]
    acc = [(z.argmax(-1) == ye).float().mean(1).numpy() for z, (_, ye) in zip(logits, eval_sets)]
    return {"accuracy": acc, "logits": logits, "seconds": seconds}


# Public names for labs that train several stacked one-hidden-layer students with their own losses.
stack_mlps = _stack_mlps
stacked_forward = _stacked_forward
