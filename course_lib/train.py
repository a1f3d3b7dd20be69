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

from ._checks import check_float_tensor, check_int_range, check_labels, check_positive, check_range
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
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be one of ['adam', 'sgd'], got {optimizer!r}")
    params = [p for p in model.parameters() if p.requires_grad]

    def make_optimizer(ps):
        if optimizer == "adam":
            return torch.optim.Adam(ps, lr=lr, weight_decay=weight_decay)
        return torch.optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=weight_decay)

    # a scheduler needs the torch optimiser itself
    opt = make_optimizer(params) if schedule is not None else FlatOptimizer.of(params, make_optimizer)
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
    try:
        with fork(seed):
            _loop(model, objective, opt, epochs_iter, full, n_samples, batch_size, gen, hist, eval_fn, eval_every,
                  sched)
    finally:
        if isinstance(opt, FlatOptimizer):
            opt.close()
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


class FlatOptimizer:
    """An Adam or SGD optimiser that steps all its tensors as one flat vector: the same numbers, bit for bit.

    Adam and SGD act element by element, so stepping one flat vector whose storage the tensors share gives what
    stepping every tensor on its own gives, with one set of optimiser kernels instead of one per tensor (on the
    course's small models a full-batch training step is about a fifth shorter). The tensors stay the same
    objects: their ``.data`` and ``.grad`` become views into two flat buffers, and autograd accumulates into
    the gradient views in place. A tensor the backward pass does not reach would have no gradient and
    ``torch.optim`` would skip it; a hook on every tensor notices that, and :meth:`step` then hands the state
    over to an ordinary per-tensor optimiser, which runs that step and the rest of training the usual way.
    ``tests/test_train.py`` compares both ways bit for bit.

    Use :meth:`of`, which returns a plain optimiser when the tensors cannot be flattened (not all dense float32
    CPU leaves); call :meth:`close` when training ends (it removes the hooks).
    """

    def __init__(self, params, make_optimizer):
        self.params, self.make_optimizer = list(params), make_optimizer
        total = sum(p.numel() for p in self.params)
        data, self.grad = torch.empty(total), torch.zeros(total)
        self.slices, offset = [], 0
        with torch.no_grad():
            for p in self.params:
                k = p.numel()
                self.slices.append(slice(offset, offset + k))
                data[offset:offset + k].copy_(p.reshape(-1))
                p.data = data[offset:offset + k].view(p.shape)
                p.grad = self.grad[offset:offset + k].view(p.shape)
                offset += k
        self.flat = nn.Parameter(data)
        self.flat.grad = self.grad
        self.inner = make_optimizer([self.flat])
        self.flat_mode = True
        self.reached: set = set()
        self.hooks = [p.register_post_accumulate_grad_hook(self._mark) for p in self.params]

    @classmethod
    def of(cls, params, make_optimizer):
        """``FlatOptimizer(params, make_optimizer)``, or ``make_optimizer(params)`` when they cannot be flattened."""
        params = list(params)
        if (not params or len({id(p) for p in params}) != len(params)
                or any(type(p) not in (nn.Parameter, torch.Tensor) or not p.is_leaf or not p.requires_grad
                       or p.dtype != torch.float32 or p.device.type != "cpu" or p.layout != torch.strided
                       for p in params)):
            return make_optimizer(params)
        return cls(params, make_optimizer)

    def _mark(self, p):
        self.reached.add(id(p))

    def zero_grad(self, set_to_none: bool = True):
        if self.flat_mode:
            self.grad.zero_()  # the tensors' .grad are views into it
            self.reached.clear()
        else:
            self.inner.zero_grad(set_to_none=set_to_none)

    def step(self):
        if self.flat_mode and len(self.reached) != len(self.params):
            self._unflatten()
        return self.inner.step()

    def close(self):
        """Remove the hooks (the tensors stay views into the flat buffers, which is harmless)."""
        for h in self.hooks:
            h.remove()
        self.hooks = []

    def _unflatten(self):
        """Per tensor from here on, with the flat optimiser's state; this step's gradients kept for the tensors the
        backward pass reached and None for the others, as ``zero_grad(set_to_none=True)`` and that pass would
        have left them."""
        self.close()
        opt = self.make_optimizer(self.params)
        state = self.inner.state.get(self.flat, {})
        for p, sl in zip(self.params, self.slices):
            if state:
                opt.state[p] = {k: v.clone() if v.dim() == 0 else v[sl].view(p.shape).clone() for k, v in state.items()}
            p.grad = p.grad.clone() if id(p) in self.reached else None
        self.inner, self.flat_mode = opt, False


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
    """Distillation from precomputed teacher logits; returns loss, soft and hard terms (``losses.distill_step``).

    For Hinton's loss (``soft="kd"``, the default) the teacher's log-probabilities at T are computed once here
    rather than on every step, and the inputs are checked once rather than on every step: the same operations
    as ``distill_step`` otherwise, in the same order, so training gives the same weights bit for bit
    (``tests/test_train.py``). With ``alpha == 1`` no labels are needed (``y`` may be None). Other soft losses
    go through ``distill_step`` on every step.
    """
    _check_data(X, y, teacher_logits)
    if soft != "kd" or set(soft_kwargs) - {"scale_t2"}:
        def objective(model, idx):
            return distill_step(model(X[idx]), teacher_logits[idx], None if y is None else y[idx],
                                T=T, alpha=alpha, soft=soft, **soft_kwargs)
        return objective

    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    if y is None and alpha < 1:
        raise ValueError(f"labels are needed when alpha < 1 (alpha={alpha:g})")
    scale = soft_kwargs.get("scale_t2", True)
    log_q = F.log_softmax(teacher_logits / T, dim=-1)  # losses.kd_kl's teacher term, once

    def objective(model, idx):
        z = model(X[idx])
        if z.shape[-1] != log_q.shape[-1]:
            raise ValueError(f"the model has {z.shape[-1]} outputs but teacher_logits has {log_q.shape[-1]} classes")
        kl = F.kl_div(F.log_softmax(z / T, dim=-1), log_q[idx], reduction="batchmean", log_target=True)
        soft_loss = kl * T * T if scale else kl
        hard = torch.zeros((), dtype=z.dtype) if y is None else F.cross_entropy(z, y[idx])
        return {"loss": alpha * soft_loss + (1 - alpha) * hard, "soft": soft_loss, "hard": hard}
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
