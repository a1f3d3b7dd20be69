"""Fast, seeded training on in-memory tensors: ``fit``, objectives, ``predict`` and ``evaluate``.

``fit`` runs full-batch (``batch_size=None``) or mini-batch training of any
``objective(model, idx) -> {"loss": ..., other named terms}``, where ``idx``
selects the rows of the cached tensors the objective closes over. The same
seed gives the same numbers on the same machine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_float_tensor, check_int_range, check_labels, check_positive
from .losses import distill_step
from .seeding import fork, generator


@dataclass
class History:
    """Per-epoch means of every named loss term, plus timing."""
    terms: dict = field(default_factory=dict)
    evals: list = field(default_factory=list)  # (epoch, value) from eval_fn
    seconds: float = 0.0
    steps: int = 0

    @property
    def loss(self):
        return self.terms.get("loss", [])


def fit(model: nn.Module, objective: Callable, n_samples: int, *, epochs: int = 100, lr: float = 1e-2,
        batch_size: int | None = None, weight_decay: float = 0.0, seed: int = 0,
        optimizer: str = "adam", eval_fn: Callable | None = None, eval_every: int = 0,
        progress: bool | str = False, schedule: Callable | None = None) -> History:
    """Train ``model`` on ``objective`` and return a :class:`History`.

    ``batch_size=None`` means full batch: one step per epoch on every row.
    ``eval_fn(model) -> float`` is called every ``eval_every`` epochs (0: never).
    ``progress=True`` shows a tqdm.auto bar (use it for runs over ~2 s).
    ``schedule(optimizer, total_steps)`` may return a ``torch.optim.lr_scheduler`` stepped after every step.
    """
    check_int_range("epochs", epochs, 0, 10**7)
    check_int_range("n_samples", n_samples, 1, 10**9)
    lr = check_positive("lr", lr)
    if batch_size is not None:
        check_int_range("batch_size", batch_size, 1, 10**9)
    gen = generator(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be one of ['adam', 'sgd'], got {optimizer!r}")
    full = batch_size is None or batch_size >= n_samples
    sched = None
    if schedule is not None:
        sched = schedule(opt, int(epochs) * (1 if full else -(-n_samples // batch_size)))
    hist = History()
    epochs_iter = range(int(epochs))
    if progress:
        from tqdm.auto import tqdm
        epochs_iter = tqdm(epochs_iter, desc=progress if isinstance(progress, str) else "training", leave=False)
    model.train()
    t0 = time.perf_counter()
    with fork(seed):
        _loop(model, objective, opt, epochs_iter, full, n_samples, batch_size, gen, hist, eval_fn, eval_every, sched)
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


def _loop(model, objective, opt, epochs_iter, full, n_samples, batch_size, gen, hist, eval_fn, eval_every, sched=None):
    for epoch in epochs_iter:
        batches = [slice(None)] if full else torch.randperm(n_samples, generator=gen).split(batch_size)
        sums: dict = {}
        for idx in batches:
            opt.zero_grad(set_to_none=True)
            terms = objective(model, idx)
            terms["loss"].backward()
            opt.step()
            if sched is not None:
                sched.step()
            hist.steps += 1
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
        for k, v in sums.items():
            hist.terms.setdefault(k, []).append(v / len(batches))
        if eval_fn is not None and eval_every and (epoch + 1) % eval_every == 0:
            model.eval()
            hist.evals.append((epoch + 1, float(eval_fn(model))))
            model.train()


def _check_data(X, y, teacher_logits=None):
    check_float_tensor("X", X)
    if X.dim() < 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty batch of rows (at least 2-D), got shape {tuple(X.shape)}")
    if y is not None:
        n_classes = teacher_logits.shape[1] if teacher_logits is not None else int(y.max()) + 1 if len(y) else 1
        check_labels("y", y, len(X), max(n_classes, 2))
    if teacher_logits is not None:
        check_float_tensor("teacher_logits", teacher_logits)
        if teacher_logits.dim() != 2 or len(teacher_logits) != len(X):
            raise ValueError(f"teacher_logits must have one row per row of X ({len(X)}), got shape "
                             f"{tuple(teacher_logits.shape)}")


def ce_objective(X: torch.Tensor, y: torch.Tensor) -> Callable:
    """Plain cross-entropy with the hard labels."""
    _check_data(X, y)
    y_max = y.max()

    def objective(model, idx):
        logits = model(X[idx])
        if logits.shape[-1] <= int(y_max):
            raise ValueError(f"y must be in 0..{logits.shape[-1] - 1} (the model has {logits.shape[-1]} outputs), "
                             f"got a label {int(y_max)}")
        return {"loss": F.cross_entropy(logits, y[idx])}
    return objective


def kd_objective(X: torch.Tensor, y: torch.Tensor | None, teacher_logits: torch.Tensor, *, T: float,
                 alpha: float, soft: str = "kd", **soft_kwargs) -> Callable:
    """Distillation from precomputed teacher logits; returns loss, soft and hard terms."""
    _check_data(X, y, teacher_logits)

    def objective(model, idx):
        return distill_step(model(X[idx]), teacher_logits[idx], None if y is None else y[idx],
                            T=T, alpha=alpha, soft=soft, **soft_kwargs)
    return objective


def train_scratch(model, X, y, **fit_kw) -> History:
    return fit(model, ce_objective(X, y), len(X), **fit_kw)


def train_distilled(model, X, y, teacher_logits, *, T: float, alpha: float, soft: str = "kd", **fit_kw) -> History:
    return fit(model, kd_objective(X, y, teacher_logits, T=T, alpha=alpha, soft=soft), len(X), **fit_kw)


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Logits of ``model`` in eval mode, without gradients."""
    was = model.training
    model.eval()
    out = model(X)
    model.train(was)
    return out


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on (X, y)."""
    check_float_tensor("X", X)
    if len(X) == 0:
        raise ValueError("X is an empty batch (0 rows); accuracy needs at least 1 row")
    logits = predict(model, X)
    check_labels("y", y, len(X), logits.shape[-1])
    return float((logits.argmax(-1) == y).float().mean())
