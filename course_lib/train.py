"""Fast, seeded training on in-memory tensors, and teachers cached on disk.

``fit`` runs full-batch (``batch_size=None``) or mini-batch training of any
``objective(model, idx) -> {"loss": ..., other named terms}``, where ``idx``
selects the rows of the cached tensors the objective closes over. The same
seed gives the same numbers on the same machine.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int_range, check_positive
from .losses import distill_step


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
        progress: bool | str = False) -> History:
    """Train ``model`` on ``objective`` and return a :class:`History`.

    ``batch_size=None`` means full batch: one step per epoch on every row.
    ``eval_fn(model) -> float`` is called every ``eval_every`` epochs (0: never).
    ``progress=True`` shows a tqdm.auto bar (use it for runs over ~2 s).
    """
    check_int_range("epochs", epochs, 0, 10**7)
    check_int_range("n_samples", n_samples, 1, 10**9)
    lr = check_positive("lr", lr)
    if batch_size is not None:
        check_int_range("batch_size", batch_size, 1, 10**9)
    torch.manual_seed(int(seed))
    gen = torch.Generator().manual_seed(int(seed))
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be one of ['adam', 'sgd'], got {optimizer!r}")
    hist = History()
    epochs_iter = range(int(epochs))
    if progress:
        from tqdm.auto import tqdm
        epochs_iter = tqdm(epochs_iter, desc=progress if isinstance(progress, str) else "training", leave=False)
    model.train()
    t0 = time.perf_counter()
    full = batch_size is None or batch_size >= n_samples
    for epoch in epochs_iter:
        batches = [slice(None)] if full else torch.randperm(n_samples, generator=gen).split(batch_size)
        sums: dict = {}
        for idx in batches:
            opt.zero_grad(set_to_none=True)
            terms = objective(model, idx)
            terms["loss"].backward()
            opt.step()
            hist.steps += 1
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
        for k, v in sums.items():
            hist.terms.setdefault(k, []).append(v / len(batches))
        if eval_fn is not None and eval_every and (epoch + 1) % eval_every == 0:
            model.eval()
            hist.evals.append((epoch + 1, float(eval_fn(model))))
            model.train()
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


def ce_objective(X: torch.Tensor, y: torch.Tensor) -> Callable:
    """Plain cross-entropy with the hard labels."""
    def objective(model, idx):
        return {"loss": F.cross_entropy(model(X[idx]), y[idx])}
    return objective


def kd_objective(X: torch.Tensor, y: torch.Tensor | None, teacher_logits: torch.Tensor, *, T: float,
                 alpha: float, soft: str = "kd", **soft_kwargs) -> Callable:
    """Distillation from precomputed teacher logits; returns loss, soft and hard terms."""
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
    return float((predict(model, X).argmax(-1) == y).float().mean())


# --------------------------------------------------------------------------- cache
CACHE_ENV = "COURSE_LIB_CACHE"
_FORMAT = 1


def cache_dir() -> Path:
    """Where cached teachers live: ``$COURSE_LIB_CACHE`` or ``~/.cache/course_lib``."""
    d = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "course_lib")
    d.mkdir(parents=True, exist_ok=True)
    return d


def config_key(config: dict) -> str:
    """A stable hash of a JSON-able configuration (and the torch version)."""
    blob = json.dumps({"config": config, "torch": torch.__version__.split("+")[0], "format": _FORMAT},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_model(config: dict, build: Callable[[], nn.Module], train: Callable[[nn.Module], object],
                 *, name: str = "model") -> nn.Module:
    """Build a model, and train it only if no readable cached copy of this config exists.

    The file is keyed by a hash of ``config``; an unreadable or mismatched file
    is rebuilt. Writes are atomic, so parallel runs cannot leave half a file.
    """
    path = cache_dir() / f"{name}-{config_key(config)}.pt"
    model = build()
    if path.exists():
        try:
            model.load_state_dict(torch.load(path, weights_only=True))
            model.eval()
            return model
        except Exception:  # corrupt, truncated, or from another architecture: rebuild
            model = build()
    train(model)
    model.eval()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return model


def teacher(dataset: str = "digits", *, arch: str = "mlp", hidden=(256, 256), width: int = 16,
            epochs: int = 300, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0,
            progress: bool = False) -> nn.Module:
    """A trained teacher for ``dataset`` (``arch`` "mlp" or "cnn"), cached on disk by its configuration."""
    from . import data, models

    if arch not in ("mlp", "cnn"):
        raise ValueError(f"arch must be one of ['mlp', 'cnn'], got {arch!r}")
    ds = data.load(dataset)
    config = dict(kind="teacher", dataset=dataset, arch=arch, hidden=list(hidden), width=width, epochs=epochs,
                  lr=lr, weight_decay=weight_decay, seed=seed)

    def build():
        if arch == "mlp":
            return models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)
        if ds.image_shape is None:
            raise ValueError(f"arch='cnn' needs an image data set, {dataset!r} has none")
        return models.small_cnn(ds.image_shape[0], ds.n_classes, width=width, image_size=ds.image_shape[1], seed=seed)

    def train(model):
        train_scratch(model, ds.X_train, ds.y_train, epochs=epochs, lr=lr, weight_decay=weight_decay,
                      seed=seed, progress="training teacher" if progress else False)

    return cached_model(config, build, train, name=f"teacher-{dataset}-{arch}")
