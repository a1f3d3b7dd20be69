"""Trained models cached on disk by their configuration: teachers and every other pre-trained network.

``cached_model(config, build, train)`` builds a model and trains it only when no
readable copy of this configuration is on disk. ``trained_mlp`` is the one
builder for a perceptron trained on the hard labels of a course data set
(teachers and the pre-trained networks chapters 2 and 3 compress); ``teacher``
is its usual configuration. Files live in ``$COURSE_LIB_CACHE`` or
``~/.cache/course_lib``. Writes are atomic and guarded by a lock file, so
parallel notebooks that need the same teacher train it once.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import data, models, train
from ._checks import check_choice, check_range

CACHE_ENV = "COURSE_LIB_CACHE"
_FORMAT = 1


def cache_dir() -> Path:
    """Where cached models live: ``$COURSE_LIB_CACHE`` or ``~/.cache/course_lib``."""
    d = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "course_lib")
    d.mkdir(parents=True, exist_ok=True)
    return d


def config_key(config: dict) -> str:
    """A stable hash of a JSON-able configuration (and the torch version)."""
    blob = json.dumps({"config": config, "torch": torch.__version__.split("+")[0], "format": _FORMAT},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock next to ``path`` (POSIX); elsewhere, no lock (writes stay atomic)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path.with_suffix(".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load(path: Path, model: nn.Module) -> bool:
    if not path.exists():
        return False
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
    except Exception:  # corrupt, truncated, or from another architecture: rebuild
        return False
    model.eval()
    return True


def tensor_digest(*tensors) -> str:
    """A short hash of the values of ``tensors``: a cache key part for a model that starts from given weights."""
    import hashlib

    h = hashlib.sha1()
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"tensors must be torch tensors, got {type(t).__name__}")
        a = t.detach().cpu().contiguous()
        h.update(str((tuple(a.shape), str(a.dtype))).encode())
        h.update(a.numpy().tobytes())
    return h.hexdigest()[:16]


def cached_model(config: dict, build: Callable[[], nn.Module], train_fn: Callable[[nn.Module], object],
                 *, name: str = "model") -> nn.Module:
    """Build a model, and train it only if no readable cached copy of this ``config`` exists.

    The file is keyed by a hash of ``config``; an unreadable or mismatched file
    is rebuilt. Two processes asking for the same model at once: one trains,
    the other waits for the lock and loads the result.
    """
    path = cache_dir() / f"{name}-{config_key(config)}.pt"
    model = build()
    if _load(path, model):
        return model
    with _locked(path):
        model = build()
        if _load(path, model):  # another process finished it while we waited
            return model
        model = build()
        train_fn(model)
        model.eval()
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    return model


def trained_mlp(dataset: str = "digits", hidden=(256, 256), *, seed: int = 0, split_seed: int = 0,
                epochs: int = 300, lr: float = 3e-3, weight_decay: float = 1e-4, fraction: float = 1.0,
                label_smoothing: float = 0.0, progress: bool = False, name: str = "mlp") -> nn.Module:
    """A perceptron trained from ``seed`` on the hard labels of ``dataset``'s training split, cached on disk.

    ``split_seed`` picks the train/validation/test split (``data.load``);
    ``fraction`` < 1 trains on a stratified subset of the training split (drawn
    with ``seed``); ``label_smoothing`` > 0 smooths the targets.
    """
    check_range("fraction", fraction, 0, 1, lo_open=True)
    check_range("label_smoothing", label_smoothing, 0, 1, hi_open=True)
    ds = data.load(dataset, split_seed=split_seed)
    hidden = tuple(int(h) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    config = dict(kind="mlp", dataset=dataset, hidden=list(hidden), seed=int(seed), split_seed=int(split_seed),
                  epochs=int(epochs), lr=float(lr), weight_decay=float(weight_decay), fraction=float(fraction),
                  label_smoothing=float(label_smoothing))

    def build():
        return models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)

    def fit(model):
        X, y = ds.X_train, ds.y_train
        if fraction < 1:
            X, y = data.labelled_subset(X, y, fraction, seed=seed)

        def objective(m, idx):
            return {"loss": torch.nn.functional.cross_entropy(m(X[idx]), y[idx], label_smoothing=label_smoothing)}

        train.fit(model, objective, len(X), epochs=epochs, lr=lr, weight_decay=weight_decay, seed=seed,
                  progress=f"training {name}" if progress else False)

    return cached_model(config, build, fit, name=f"{name}-{dataset}")


def teacher(dataset: str = "digits", *, hidden=(256, 256), seed: int = 0, split_seed: int = 0,
            epochs: int = 300, lr: float = 3e-3, weight_decay: float = 1e-4, progress: bool = False,
            **kw) -> nn.Module:
    """The course's usual teacher for ``dataset``: a 256-256 perceptron, cached on disk."""
    return trained_mlp(dataset, hidden, seed=seed, split_seed=split_seed, epochs=epochs, lr=lr,
                       weight_decay=weight_decay, progress=progress, name="teacher", **kw)
