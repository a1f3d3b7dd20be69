"""Lab: magnitude pruning with a sparsity slider (notebook 2.1, syllabus C1).

Each move magnitude-prunes a copy of a cached dense MLP (64-128-128-10 on the
8x8 digits) at the chosen sparsity, layer-wise or globally, fine-tunes the
survivors for a few full-batch steps and measures validation accuracy and the
bytes of the weights in memory, dense and in sparse layouts.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ... import cache, data, latency
from ...compress import encode, prune
from ...ui import plots, widgets

TITLE = "Magnitude pruning, then a short fine-tune"
TRY = ("Drag sparsity from 0.5 to 0.95 with scope 'layer', then switch to 'global': where does accuracy fall off, "
       "and at what sparsity does the uint8-index CSR beat dense while torch's int64 CSR still does not?")
HIDDEN = (128, 128)


@dataclass(frozen=True)
class State:
    base: nn.Module
    ds: object
    steps: int
    lr: float
    seed: int
    acc_dense: float
    bytes_max: int = 0  # the largest layout of the unpruned model: the size axis stays put across moves


def base_model(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits") -> nn.Module:
    """The dense MLP this lab prunes: trained with cross-entropy, 200 full-batch Adam steps (cached on disk)."""
    split_seed = seed if split_seed is None else split_seed
    return cache.trained_mlp(dataset, HIDDEN, seed=seed, split_seed=split_seed, epochs=200, lr=3e-3,
                             weight_decay=0.0, name="dense")


@functools.lru_cache(maxsize=8)
def setup(seed: int = 0, *, split_seed: int | None = None, steps: int = 20, lr: float = 3e-3,
          dataset: str = "digits") -> State:
    """The trained dense model, the data split (``split_seed``, default ``seed``) and the fine-tune settings."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    base = base_model(seed, split_seed=split_seed, dataset=dataset)
    with torch.no_grad():
        acc = float((base(ds.X_val).argmax(-1) == ds.y_val).float().mean())
    layouts = [encode.model_bytes(base, kind) for kind in (None, "coo", "csr")]
    return State(base, ds, int(steps), float(lr), int(seed), acc, max(layouts))


def run(s: State, sparsity: float = 0.8, scope: str = "layer") -> dict:
    """Prune a copy of ``s.base`` at ``sparsity`` (``scope`` "layer" or "global"), fine-tune, measure."""
    sparsity = prune.check_sparsity(sparsity)
    ds = s.ds

    def objective(model, idx):
        return {"loss": F.cross_entropy(model(ds.X_train[idx]), ds.y_train[idx])}

    def acc(model):
        with torch.no_grad():
            return float((model(ds.X_val).argmax(-1) == ds.y_val).float().mean())

    with latency.threads(1):  # small matrices: one thread is as fast, and immune to a busy second core
        out = prune.prune_finetune(s.base, sparsity, objective, len(ds.X_train), scope=scope, steps=s.steps,
                                   lr=s.lr, seed=s.seed, eval_fn=acc)
    model = out["finetuned"]
    return {"sparsity": float(sparsity), "scope": scope, "steps": s.steps, "acc_dense": s.acc_dense,
            "bytes_max": s.bytes_max,
            "acc_pruned": out["acc_pruned"], "acc_finetuned": out["acc_finetuned"],
            "layer_sparsity": prune.layer_sparsity(model),
            "bytes": {"dense": encode.model_bytes(model),
                      "COO int64": encode.model_bytes(model, "coo"),
                      "CSR int64": encode.model_bytes(model, "csr"),
                      "CSR uint8": encode.model_bytes(model, "csr", index="narrow")},
            "model": model}


def render(r: dict, fig) -> None:
    """Left: validation accuracy dense / pruned / fine-tuned; right: bytes in each layout."""
    ax1, ax2 = plots.fast_axes(fig)
    names = ["dense", "pruned", f"+{r['steps']} steps"]
    vals = [100 * r["acc_dense"], 100 * r["acc_pruned"], 100 * r["acc_finetuned"]]
    ax1.bar(range(3), vals, color=["tab:gray", "tab:red", "tab:green"])  # numeric positions: recyclable axes
    ax1.set_xticks(range(3), names)
    for i, v in enumerate(vals):
        ax1.text(i, v + 1, f"{v:.1f}", ha="center", fontsize=8)
    ax1.set_ylim(0, 110)
    plots.style(ax1, f"{r['sparsity']:.0%} of weights zeroed ({r['scope']})", "model", "validation accuracy (%)")
    b = r["bytes"]
    ax2.barh(range(len(b)), [v / 1024 for v in b.values()], color=["tab:gray", "tab:orange", "tab:blue", "tab:green"])
    ax2.set_yticks(range(len(b)), list(b))
    ax2.axvline(b["dense"] / 1024, color="gray", ls=":")
    ax2.set_xlim(0, plots.steady_upper(max(r.get("bytes_max", 0), *b.values()) / 1024, 0, 50))
    plots.style(ax2, "weights + biases in memory", "size (KiB)", "layout")


def summary(r: dict) -> str:
    b = r["bytes"]
    sizes = " &middot; ".join(f"{k} {v / 1024:.1f} KiB" for k, v in b.items())
    per = ", ".join(f"{k} {v:.0%}" for k, v in r["layer_sparsity"].items())
    return (f"<b>{r['sparsity']:.0%} sparsity, {r['scope']} scope</b>: validation accuracy dense "
            f"{r['acc_dense']:.1%} &rarr; pruned {r['acc_pruned']:.1%} &rarr; after {r['steps']} steps "
            f"{r['acc_finetuned']:.1%}.<br>Weights + biases in memory: {sizes}<br>zeros per layer: {per}")


def dashboard(seed: int = 0, *, sparsity: float = 0.8, scope: str = "layer", steps: int = 20,
              split_seed: int | None = None, background: bool = True) -> widgets.Dashboard:
    """A live sparsity slider and scope menu over :func:`run`."""
    import ipywidgets as W

    s = setup(seed, split_seed=split_seed, steps=steps)
    controls = {"sparsity": widgets.slider(sparsity, 0.0, 0.99, 0.01, description="sparsity"),
                "scope": W.Dropdown(options=list(prune.SCOPES), value=scope, description="scope")}
    return widgets.Dashboard(functools.partial(run, s), controls, render=render, summary=summary,
                             figsize=(10, 3.4), title=f"{TITLE}. Try: {TRY}", background=background)
