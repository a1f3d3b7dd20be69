"""B6 lab: dataset distillation, a handful of learned images per class against as many real ones.

For each number of images per class (ipc) the learned set is made once by
``reliability.datafree.distill_dataset`` (a short unrolled inner loop, Wang et
al. 2018) and cached on disk. A move of the slider then compares, on the test
split, fresh 64-32-10 MLPs trained on the learned images (with the inner loop
they were learned for) against MLPs trained on the same number of random real
images per class (with full Adam training: the stronger baseline).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ... import cache, data, models, train
from ..._checks import check_choice
from ...reliability import datafree
from ...ui import plots
from ...ui.widgets import Dashboard

TITLE = "Dataset distillation: learned images against real ones"
TRY = "Move images per class from 1 to 10: the learned set wins by most when it is smallest."

IPCS = (1, 2, 3, 5, 10)
HIDDEN, INNER, OUTER, BATCH = (32,), 10, 120, 256
N_EVAL = 3  # fresh models per set


class _Images(nn.Module):
    """A learned image set (and its step size) stored as a module, so the model cache can keep it on disk."""

    def __init__(self, n: int, d: int):
        super().__init__()
        self.images = nn.Parameter(torch.zeros(n, d), requires_grad=False)
        self.labels = nn.Parameter(torch.zeros(n), requires_grad=False)
        self.step = nn.Parameter(torch.zeros(()), requires_grad=False)


@dataclass(frozen=True, eq=False)
class Setup:
    seed: int
    ds: data.Dataset


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    return Setup(seed, data.load("digits", split_seed=seed))


@lru_cache(maxsize=64)
def learned(s: Setup, ipc: int):
    """(images, labels, step) learned for ``ipc`` images per class; trained once, then read from disk."""
    check_choice("ipc", int(ipc), IPCS)
    ds = s.ds
    config = dict(kind="dataset-distillation", version=2, seed=s.seed, ipc=int(ipc), hidden=list(HIDDEN), inner=INNER,
                  outer=OUTER, batch=BATCH)

    def fit(m):
        X, y, step = datafree.distill_dataset(ds.X_train, ds.y_train, int(ipc), hidden=HIDDEN, inner_steps=INNER,
                                              outer_steps=OUTER, batch=BATCH, seed=s.seed)
        m.images.data.copy_(X)
        m.labels.data.copy_(y.float())
        m.step.data.fill_(step)

    m = cache.cached_model(config, lambda: _Images(int(ipc) * ds.n_classes, ds.n_features), fit,
                           name="distilled-images-digits")
    return m.images.detach(), m.labels.detach().long(), float(m.step)


def _adam_fit(X, y, seed, ds):
    m = models.mlp(ds.n_features, HIDDEN, ds.n_classes, seed=seed)
    train.fit(m, train.ce_objective(X, y), len(X), epochs=100, lr=1e-2, seed=seed)
    return train.evaluate(m, ds.X_test, ds.y_test)


@lru_cache(maxsize=64)
def compare(s: Setup, ipc: int) -> dict:
    """Test accuracy of fresh MLPs: learned images vs random real ones (N_EVAL models each, seeds apart from training)."""
    ds = s.ds
    Xs, ys, step = learned(s, ipc)
    eval_seeds = [10_000 + s.seed * N_EVAL + i for i in range(N_EVAL)]
    acc_learned = datafree.evaluate_unrolled(Xs, ys, ds.X_test, ds.y_test, step=step, inner_steps=INNER,
                                             hidden=HIDDEN, seeds=eval_seeds)
    acc_real, acc_real_same = [], []
    for i, es in enumerate(eval_seeds):
        Xr, yr = datafree.real_per_class(ds.X_train, ds.y_train, int(ipc), seed=s.seed * 100 + i)
        acc_real.append(_adam_fit(Xr, yr, es, ds))
        acc_real_same += datafree.evaluate_unrolled(Xr, yr, ds.X_test, ds.y_test, step=step, inner_steps=INNER,
                                                    hidden=HIDDEN, seeds=[es])
    return {"ipc": int(ipc), "learned": float(np.mean(acc_learned)), "real": float(np.mean(acc_real)),
            "real_same_recipe": float(np.mean(acc_real_same)), "step": step, "images": Xs, "labels": ys}


def precompute(s: Setup, *, progress: bool = True) -> None:
    """Learn (or load) the image sets for every slider position and evaluate them, so a move only redraws."""
    items = IPCS
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc="distilled sets for every ipc", leave=False)
    for ipc in items:
        compare(s, ipc)


def mosaic(images: torch.Tensor, labels: torch.Tensor, per_class: int, *, shape=(8, 8)) -> np.ndarray:
    """One array with ``per_class`` images of every class side by side (rows: classes), for a single imshow."""
    h, w = shape
    classes = sorted(set(labels.tolist()))
    out = np.ones((len(classes) * (h + 1), per_class * (w + 1))) * np.nan
    for r, c in enumerate(classes):
        rows = images[labels == c][:per_class]
        for j, im in enumerate(rows):
            out[r * (h + 1): r * (h + 1) + h, j * (w + 1): j * (w + 1) + w] = im.reshape(h, w).numpy()
    return out


def run(s: Setup, ipc: int = 1) -> dict:
    ipc = int(min(IPCS, key=lambda v: abs(v - int(ipc))))
    return {**compare(s, ipc), "curve": {k: [compare(s, v)[k] for v in IPCS] for k in ("learned", "real")}}


def render(result: dict, fig) -> None:
    ax1, ax2 = plots.fast_axes(fig, 2)
    per = min(result["ipc"], 5)
    ax1.imshow(mosaic(result["images"], result["labels"], per).T if per > 1 else
               mosaic(result["images"], result["labels"], per), cmap="gray_r", interpolation="nearest")
    ax1.set_xticks([])
    ax1.set_yticks([])
    ax1.set_title(f"Learned images ({per} of {result['ipc']} per class shown, digits 0-9)")
    ax2.plot(IPCS, result["curve"]["learned"], "o-", label="learned images")
    ax2.plot(IPCS, result["curve"]["real"], "s-", label="random real images")
    ax2.axvline(result["ipc"], color="tab:gray", lw=1)
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=8, loc="lower right")
    plots.style(ax2, "Test accuracy of a fresh 64-32-10 MLP", "images per class", "accuracy")


def summary(result: dict) -> str:
    return (f"{result['ipc']} image(s) per class: learned {result['learned']:.1%}, random real (Adam, 100 epochs) "
            f"{result['real']:.1%}, random real with the learned images' recipe {result['real_same_recipe']:.1%}; "
            f"learned step size {result['step']:.2f}")


def dashboard(seed: int = 0, *, ipc: int = 1, background: bool = True, progress: bool = True) -> Dashboard:
    import ipywidgets as W

    s = setup(seed)
    precompute(s, progress=progress)
    control = W.SelectionSlider(options=list(IPCS), value=int(ipc), description="images per class",
                                continuous_update=False, style={"description_width": "initial"},
                                layout=W.Layout(width="420px"))
    return Dashboard(lambda ipc: run(s, ipc), {"ipc": control}, render=render, summary=summary, figsize=(10, 3.6),
                     title=TITLE, background=background)
