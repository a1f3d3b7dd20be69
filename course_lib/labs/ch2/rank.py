"""Lab: SVD low-rank factorization of one layer with a rank slider (notebook 2.6, syllabus C6).

Each move replaces the 256x256 layer ``fc2`` of the cached teacher by its best
rank-r approximation (two factors from ``torch.linalg.svd``), measures test
accuracy, then fine-tunes the factors and the layers after them for a few
mini-batch epochs, distilling from the unfactorized teacher. The layers before
``fc2`` stay frozen, so their outputs are computed once in :func:`setup`.
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ... import cache, data, latency, train
from ..._checks import check_choice, check_int_range
from ...compress import lowrank
from ...ui import plots, widgets

TITLE = "Rank: SVD factorization, then a short distilled fine-tune"
TRY = ("Slide the rank down from 64 to 1 with 0 epochs: accuracy holds until the energy kept falls well below 90%; "
       "then add fine-tune epochs at rank 4 and see how much distillation wins back.")
MAX_EPOCHS = 5


@dataclass
class State:
    model: nn.Sequential
    layer_name: str
    layer: nn.Linear
    suffix: list
    H_train: torch.Tensor
    H_test: torch.Tensor
    y_train: torch.Tensor
    y_test: torch.Tensor
    teacher_logits: torch.Tensor
    acc_teacher: float
    s: torch.Tensor
    T: float
    alpha: float
    lr: float
    batch_size: int
    seed: int


def state_from(model: nn.Sequential, ds, *, layer: str = "fc2", T: float = 4.0, alpha: float = 0.9,
               lr: float = 3e-3, batch_size: int = 256, seed: int = 0) -> State:
    """A lab state over any trained ``nn.Sequential`` MLP and data set (what :func:`setup` builds)."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be an nn.Sequential, got {type(model).__name__}")
    children = list(model.named_children())
    names = [n for n, _ in children]
    check_choice("layer", layer, [n for n, m in children if isinstance(m, nn.Linear)])
    i = names.index(layer)
    prefix = nn.Sequential(OrderedDict(children[:i]))
    with torch.no_grad():
        H_train, H_test = prefix(ds.X_train), prefix(ds.X_test)
    model = model.eval()
    return State(model, layer, getattr(model, layer), children[i + 1:], H_train, H_test, ds.y_train, ds.y_test,
                 train.predict(model, ds.X_train), train.evaluate(model, ds.X_test, ds.y_test),
                 lowrank.spectrum(getattr(model, layer).weight), float(T), float(alpha), float(lr), int(batch_size),
                 int(seed))


@functools.lru_cache(maxsize=8)
def setup(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", layer: str = "fc2",
          T: float = 4.0, alpha: float = 0.9, lr: float = 3e-3, batch_size: int = 256) -> State:
    """The cached 256-256 teacher of ``seed`` on the split ``split_seed`` (default ``seed``)."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    teacher = cache.teacher(dataset, seed=seed, split_seed=split_seed)
    return state_from(teacher, ds, layer=layer, T=T, alpha=alpha, lr=lr, batch_size=batch_size, seed=seed)


def student(s: State, rank: int) -> nn.Sequential:
    """The layers from ``s.layer`` on, with that layer factorized at ``rank`` (fresh copies)."""
    return nn.Sequential(OrderedDict([(s.layer_name, lowrank.factorize_linear(s.layer, rank))]
                                     + [(n, copy.deepcopy(m)) for n, m in s.suffix]))


def run(s: State, rank: int = 16, epochs: int = 2) -> dict:
    """Factorize at ``rank``, measure, fine-tune ``epochs`` distilled epochs, measure again."""
    m, n = s.layer.out_features, s.layer.in_features
    rank = lowrank.check_rank(rank, m, n)
    epochs = check_int_range("epochs", epochs, 0, 1000)
    with latency.threads(1):
        head = student(s, rank)
        acc_before = train.evaluate(head, s.H_test, s.y_test)
        acc_after = acc_before
        if epochs:
            objective = train.kd_objective(s.H_train, s.y_train, s.teacher_logits, T=s.T, alpha=s.alpha)
            train.fit(head, objective, len(s.H_train), epochs=epochs, lr=s.lr, batch_size=s.batch_size, seed=s.seed)
            acc_after = train.evaluate(head, s.H_test, s.y_test)
    report = _report(s, rank)  # the spectrum is computed once in setup
    report.update(epochs=epochs, acc_teacher=s.acc_teacher, acc_before=acc_before, acc_after=acc_after,
                  layer=s.layer_name)
    return report


def _report(s: State, rank: int) -> dict:
    m, n = s.layer.out_features, s.layer.in_features
    return dict(m=m, n=n, rank=rank, singular_values=s.s, energy=lowrank.energy_kept(s.s, rank),
                params_dense=m * n, params_lowrank=rank * (m + n), flops_dense=lowrank.dense_flops(m, n),
                flops_lowrank=lowrank.lowrank_flops(m, n, rank), break_even=lowrank.break_even_rank(m, n))


def render(result: dict, fig) -> None:
    """Left: singular value spectrum (log10) with the kept part shaded; right: energy kept against rank.

    No legends and no log-scale axis: their text layout would cost more than the rest of the redraw.
    """
    ax1, ax2 = plots.fast_axes(fig)
    s = result["singular_values"].numpy()
    r = result["rank"]
    logs = np.log10(np.maximum(s, 1e-12))
    idx = np.arange(1, len(s) + 1)
    ax1.plot(idx, logs, color="gray", lw=1)
    ax1.fill_between(idx[:r], logs[:r], logs.min(), color="tab:blue", alpha=0.4)
    ax1.axvline(result["break_even"], color="tab:red", ls=":")
    plots.style(ax1, f"{result['layer']} spectrum: kept r = {r} (blue), break-even {result['break_even']:.0f} (red)",
                "index i", "log10 singular value s_i")
    energy = (s ** 2).cumsum() / (s ** 2).sum()
    ax2.plot(idx, 100 * energy, color="tab:blue")
    ax2.plot([r], [100 * result["energy"]], marker="o", color="tab:orange", ls="none")
    ax2.set_ylim(0, 101)
    plots.style(ax2, f"energy kept: {result['energy']:.1%} at r = {r}", "rank r", "energy kept (%)")


def summary(result: dict) -> str:
    r = result
    return (f"<b>rank {r['rank']}</b> of {min(r['m'], r['n'])}: energy kept {r['energy']:.1%}; "
            f"{r['layer']} parameters r(m+n) = {r['params_lowrank']:,} vs mn = {r['params_dense']:,} "
            f"({r['params_lowrank'] / r['params_dense']:.0%}), FLOPs {r['flops_lowrank']:,} vs {r['flops_dense']:,}. "
            f"Test accuracy: teacher {r['acc_teacher']:.1%}, factorized {r['acc_before']:.1%}, "
            f"after {r['epochs']} distilled epochs {r['acc_after']:.1%}.")


def dashboard(seed: int = 0, *, rank: int = 16, epochs: int = 2, split_seed: int | None = None,
              background: bool = True) -> widgets.Dashboard:
    """Rank and fine-tune-epoch sliders over :func:`run`.

    The rank slider stops at the break-even rank mn / (m + n): above it the two
    factors hold more parameters than the dense layer, so nothing is gained.
    """
    s = setup(seed, split_seed=split_seed)
    top = max(1, int(lowrank.break_even_rank(s.layer.out_features, s.layer.in_features)))
    controls = dict(rank=widgets.slider(min(rank, top), 1, top, 1, integer=True, description="rank r"),
                    epochs=widgets.slider(epochs, 0, MAX_EPOCHS, 1, integer=True, description="fine-tune epochs"))
    return widgets.Dashboard(functools.partial(run, s), controls, render=render, summary=summary,
                             figsize=(10, 3.4), title=f"{TITLE}. Try: {TRY}", background=background)
