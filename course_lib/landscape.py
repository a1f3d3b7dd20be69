"""The distillation hyperparameter landscape (T, alpha, student width) and the cost of distilling.

* :func:`sweep` trains one student per (width, T, alpha, seed) and one
  scratch student per (width, seed), returning accuracy arrays and timings.
* :func:`training_flops` counts the floating-point work of training
  (forward + backward taken as 3 forward passes) from ``models.flops``.
* :func:`landscape_point` is the slider function: one distilled student at
  (width, T, alpha) against the scratch student of that width (cached).
"""
from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import torch

from . import cache, data, models, train
from ._checks import check_int_range, check_positive, check_range


@lru_cache(maxsize=4)
def setup(fraction: float = 0.3, seed: int = 0):
    """Labelled subset, teacher logits on it, and the test set (cached)."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits")
    teacher = cache.teacher("digits")
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    return X, y, train.predict(teacher, X), ds.X_test, ds.y_test


def _student(width: int, seed: int, n_features: int = 64, n_classes: int = 10):
    check_int_range("width", width, 1, 4096)
    return models.mlp(n_features, (int(width),), n_classes, seed=seed)


def sweep(Ts, alphas, widths, seeds, *, epochs: int = 100, lr: float = 3e-2, fraction: float = 0.3,
          progress: bool = False) -> dict:
    """Accuracy of distilled students on a (width, T, alpha, seed) grid, and of scratch students.

    Returns ``acc`` with shape (len(widths), len(Ts), len(alphas), len(seeds)),
    ``scratch`` with shape (len(widths), len(seeds)), ``seconds_per_student``
    (mean wall time of one distilled run) and ``n_runs``. alpha = 0 uses no
    soft term, so its runs are identical for every T and are trained once.
    """
    for T in Ts:
        check_positive("T", T)
    for a in alphas:
        check_range("alpha", a, 0.0, 1.0)
    X, y, tl, X_test, y_test = setup(fraction, 0)
    acc = np.zeros((len(widths), len(Ts), len(alphas), len(seeds)))
    scratch = np.zeros((len(widths), len(seeds)))
    times = []
    jobs = [(w, s) for w in range(len(widths)) for s in range(len(seeds))]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="sweep (width, seed)", leave=False)
    for wi, si in jobs:
        width, seed = widths[wi], seeds[si]
        m = _student(width, seed)
        train.train_scratch(m, X, y, epochs=epochs, lr=lr, seed=seed)
        scratch[wi, si] = train.evaluate(m, X_test, y_test)
        for ai, alpha in enumerate(alphas):
            for ti, T in enumerate(Ts):
                if alpha == 0 and ti > 0:
                    acc[wi, ti, ai, si] = acc[wi, 0, ai, si]
                    continue
                m = _student(width, seed)
                t0 = time.perf_counter()
                train.train_distilled(m, X, y, tl, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
                times.append(time.perf_counter() - t0)
                acc[wi, ti, ai, si] = train.evaluate(m, X_test, y_test)
    return {"acc": acc, "scratch": scratch, "Ts": list(Ts), "alphas": list(alphas), "widths": list(widths),
            "seeds": list(seeds), "seconds_per_student": float(np.mean(times)), "n_runs": len(times) + len(scratch.flat)}


def training_flops(model: torch.nn.Module, n_features: int, n_examples: int, epochs: int) -> int:
    """FLOPs of full-batch training: 3 forward passes' worth per example per epoch (forward + backward)."""
    check_int_range("n_examples", n_examples, 1, 10**12)
    check_int_range("epochs", epochs, 0, 10**9)
    return 3 * models.flops(model, (n_features,)) * n_examples * epochs


@lru_cache(maxsize=64)
def _scratch_accuracy(width: int, seed: int, epochs: int, lr: float, fraction: float) -> float:
    X, y, _, X_test, y_test = setup(fraction, 0)
    m = _student(width, seed)
    train.train_scratch(m, X, y, epochs=epochs, lr=lr, seed=seed)
    return train.evaluate(m, X_test, y_test)


def landscape_point(width: int = 16, alpha: float = 0.9, T: float = 4.0, *, seed: int = 0, epochs: int = 100,
                    lr: float = 3e-2, fraction: float = 0.3) -> dict:
    """Slider function: one distilled student at (width, T, alpha) and the scratch student of that width.

    The scratch accuracy is cached per width, so a move of alpha or T trains one student.
    """
    width = check_int_range("width", width, 1, 4096)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    T = check_positive("T", T)
    X, y, tl, X_test, y_test = setup(fraction, 0)
    m = _student(width, seed)
    train.train_distilled(m, X, y, tl, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    return {"width": width, "alpha": alpha, "T": T, "distilled": train.evaluate(m, X_test, y_test),
            "scratch": _scratch_accuracy(width, seed, epochs, float(lr), float(fraction)),
            "params": models.count_params(m)}


def summary(r: dict) -> str:
    gain = r["distilled"] - r["scratch"]
    return (f"width {r['width']} ({r['params']} parameters), T = {r['T']:g}, alpha = {r['alpha']:.2f}: "
            f"distilled {r['distilled']:.1%} vs scratch {r['scratch']:.1%} (<b>{gain:+.1%}</b>)")
