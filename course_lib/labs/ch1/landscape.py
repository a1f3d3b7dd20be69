"""D12: the distillation hyperparameter landscape (T, alpha, student width).

* :func:`sweep` trains one distilled student per (width, T, alpha, seed) and one scratch student per
  (width, seed), and reports validation and test accuracy (choose on validation, report on test).
* :func:`run` is the slider position: one distilled student at (width, alpha, T) against the scratch
  student of that width (cached per width).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, models, train
from ..._checks import check_int_range, check_positive, check_range
from ...distill.landscape import train_stacked
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "One point of the landscape: width, alpha and T"
TRY = "width 4 against width 32 at the same T and alpha: which gains more from distillation?"
FIGSIZE = (8.0, 3.4)
EPOCHS, LR = 60, 5e-2  # the recipe of the notebook's grid and of the dashboard (full batch, Adam)


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    X: torch.Tensor
    y: torch.Tensor
    teacher: torch.nn.Module
    teacher_logits: torch.Tensor


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, fraction: float = 0.3) -> Setup:
    """Split, teacher and a labelled ``fraction`` of the training split, all drawn with ``seed``."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    return Setup(int(seed), ds, X, y, teacher, train.predict(teacher, X))


def student(s: Setup, width: int, seed: int):
    check_int_range("width", width, 1, 4096)
    return models.mlp(s.ds.n_features, (int(width),), s.ds.n_classes, seed=seed)


def _scores(s: Setup, m) -> tuple[float, float]:
    return train.evaluate(m, s.ds.X_val, s.ds.y_val), train.evaluate(m, s.ds.X_test, s.ds.y_test)


def sweep(s: Setup, Ts, alphas, widths, seeds, *, epochs: int = 100, lr: float = 3e-2,
          progress: bool = False) -> dict:
    """Accuracy of distilled students on a (width, T, alpha, seed) grid, and of scratch students.

    ``acc``/``val`` have shape (len(widths), len(Ts), len(alphas), len(seeds)) (test / validation);
    ``scratch``/``scratch_val`` shape (len(widths), len(seeds)); ``seconds_per_student`` is the mean wall
    time of one distilled run; ``n_runs`` counts every student trained. alpha = 0 uses no soft term, so its
    runs are identical for every T and are trained once.
    """
    for T in Ts:
        check_positive("T", T)
    for a in alphas:
        check_range("alpha", a, 0.0, 1.0)
    shape = (len(widths), len(Ts), len(alphas), len(seeds))
    acc, val = np.zeros(shape), np.zeros(shape)
    scratch, scratch_val = np.zeros(shape[::3]), np.zeros(shape[::3])
    times, n_runs = [], 0
    jobs = [(w, k) for w in range(len(widths)) for k in range(len(seeds))]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="sweep (width, seed)", leave=False)
    for wi, si in jobs:
        width, seed = widths[wi], seeds[si]
        m = student(s, width, seed)
        train.train_scratch(m, s.X, s.y, epochs=epochs, lr=lr, seed=seed)
        n_runs += 1
        scratch_val[wi, si], scratch[wi, si] = _scores(s, m)
        for ai, alpha in enumerate(alphas):
            for ti, T in enumerate(Ts):
                if alpha == 0 and ti > 0:
                    acc[wi, ti, ai, si], val[wi, ti, ai, si] = acc[wi, 0, ai, si], val[wi, 0, ai, si]
                    continue
                m = student(s, width, seed)
                t0 = time.perf_counter()
                train.train_distilled(m, s.X, s.y, s.teacher_logits, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
                times.append(time.perf_counter() - t0)
                n_runs += 1
                val[wi, ti, ai, si], acc[wi, ti, ai, si] = _scores(s, m)
    return {"acc": acc, "val": val, "scratch": scratch, "scratch_val": scratch_val, "Ts": list(Ts),
            "alphas": list(alphas), "widths": list(widths), "seeds": list(seeds),
            "seconds_per_student": float(np.mean(times)) if times else 0.0, "n_runs": n_runs}


def grid(s: Setup, Ts, alphas, widths, seeds, *, epochs: int = EPOCHS, lr: float = LR, progress: bool = False) -> dict:
    """The same (width, T, alpha, seed) grid as :func:`sweep`, every student of one width trained at once.

    Uses :func:`course_lib.distill.landscape.train_stacked` (one batched full-batch loop per width; each
    student learns as it would alone). ``acc``/``val``: shape (len(widths), len(Ts), len(alphas), len(seeds));
    ``scratch``/``scratch_val``: (len(widths), len(seeds)); ``n_students``: students trained per width;
    ``seconds``: wall time per width.
    """
    Ts, alphas, widths, seeds = list(Ts), list(alphas), list(widths), [int(x) for x in seeds]
    for name, v in (("Ts", Ts), ("alphas", alphas), ("widths", widths), ("seeds", seeds)):
        if not v:
            raise ValueError(f"{name} must hold at least one value, got none")
    for a in alphas:
        check_range("alpha", a, 0.0, 1.0, lo_open=True)  # alpha = 0 is the scratch student, trained separately
    shape = (len(widths), len(Ts), len(alphas), len(seeds))
    acc, val = np.zeros(shape), np.zeros(shape)
    scratch, scratch_val = np.zeros(shape[::3]), np.zeros(shape[::3])
    configs = [(T, a, sd) for T in Ts for a in alphas for sd in seeds] + [(1.0, 0.0, sd) for sd in seeds]
    seconds = []
    it = enumerate(widths)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(list(it), desc="grid (one batch of students per width)", leave=False)
    for wi, width in it:
        r = train_stacked(s.X, s.y, s.teacher_logits, width, configs, epochs=epochs, lr=lr,
                          eval_sets=[(s.ds.X_val, s.ds.y_val), (s.ds.X_test, s.ds.y_test)])
        (v, t), k = r["accuracy"], len(seeds)
        val[wi], acc[wi] = v[:-k].reshape(shape[1:]), t[:-k].reshape(shape[1:])
        scratch_val[wi], scratch[wi] = v[-k:], t[-k:]
        seconds.append(r["seconds"])
    return {"acc": acc, "val": val, "scratch": scratch, "scratch_val": scratch_val, "Ts": Ts, "alphas": alphas,
            "widths": widths, "seeds": seeds, "n_students": len(configs), "seconds": seconds,
            "epochs": int(epochs), "lr": float(lr)}


@lru_cache(maxsize=128)
def _scratch_accuracy(s: Setup, width: int, seed: int, epochs: int, lr: float) -> float:
    r = train_stacked(s.X, s.y, s.teacher_logits, width, [(1.0, 0.0, seed)], epochs=epochs, lr=lr,
                      eval_sets=[(s.ds.X_test, s.ds.y_test)])
    return float(r["accuracy"][0][0])


def point(s: Setup, width: int = 16, alpha: float = 0.9, T: float = 4.0, *, seed: int | None = None,
          epochs: int = 100, lr: float = 3e-2) -> dict:
    """One distilled student at (width, T, alpha) and the scratch student of that width (cached).

    Trained with ``distill.landscape.train_stacked`` (the same numbers as ``train.train_distilled``, faster).
    """
    width = check_int_range("width", width, 1, 4096)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    T = check_positive("T", T)
    seed = s.seed if seed is None else int(seed)
    r = train_stacked(s.X, s.y, s.teacher_logits, width, [(T, alpha, seed)], epochs=epochs, lr=lr,
                      eval_sets=[(s.ds.X_test, s.ds.y_test)])
    return {"width": width, "alpha": alpha, "T": T, "distilled": float(r["accuracy"][0][0]),
            "scratch": _scratch_accuracy(s, width, seed, int(epochs), float(lr)),
            "params": models.count_params(student(s, width, seed))}


def run(s: Setup, width: int = 16, alpha: float = 0.9, T: float = 4.0) -> dict:
    """One dashboard position, trained with the notebook grid's recipe (``EPOCHS`` full-batch epochs at ``LR``)."""
    return point(s, width, alpha, T, epochs=EPOCHS, lr=LR)


def render(r: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.09, right=0.97)
    vals = [r["scratch"], r["distilled"]]
    ax.bar([0, 1], vals, color=["tab:gray", "tab:blue"])  # numeric positions: the axes are reused between moves
    for i, v in enumerate(vals):
        ax.annotate(f"{v:.1%}", (i, v), ha="center", va="bottom", fontsize=9, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks([0, 1], ["scratch", "distilled"])
    ax.set_ylim(max(0.0, min(vals) - 0.15), 1.0)
    plots.style(ax, f"width {r['width']} ({r['params']} parameters), T = {r['T']:g}, alpha = {r['alpha']:.2f}", "",
                "test accuracy (fraction)")


def summary(r: dict) -> str:
    gain = r["distilled"] - r["scratch"]
    return (f"width {r['width']} ({r['params']} parameters), T = {r['T']:g}, alpha = {r['alpha']:.2f}: "
            f"distilled {r['distilled']:.1%} vs scratch {r['scratch']:.1%} (<b>{gain:+.1%}</b>)")


def dashboard(seed: int = 0, *, width: int = 16, alpha: float = 0.9, T: float = 4.0,
              background: bool = True) -> Dashboard:
    s = setup(seed)
    for w in range(4, 65, 4):  # every scratch student the width slider can ask for, trained once
        _scratch_accuracy(s, w, s.seed, EPOCHS, LR)
    dash = Dashboard(lambda width, alpha, T: run(s, width, alpha, T),
                     {"width": slider(width, 4, 64, 4, integer=True, description="student width (hidden units)"),
                      "alpha": slider(alpha, 0.0, 1.0, 0.05, description="alpha (soft weight)"),
                      "T": slider(T, 1.0, 16.0, 0.5, description="temperature T")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
