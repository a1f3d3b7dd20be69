"""Lab: fake quantization at 2-8 bits with a bit-width slider, then a short distilled QAT (notebook 2.4, C4).

Each move fake-quantizes a copy of a trained float MLP (64-64-10 on the digits)
at ``bits`` bits with one scale per tensor or per output row (post-training
quantization, PTQ), measures test accuracy, then fine-tunes it for ``steps``
full-batch steps with the quantizer in the loop (quantization-aware training,
QAT), distilling from the float model's logits, and measures again. The PTQ
curve over every bit width is computed once in :func:`setup`.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import torch
from torch import nn

from ... import cache, data, latency, train
from ..._checks import check_choice, check_int_range
from ...compress import encode, quantize
from ...compress.layers import linear_layers
from ...ui import plots, widgets

TITLE = "Bit width: fake quantization, then a short distilled fine-tune"
TRY = ("Step bits down from 8 to 2 with 0 QAT steps and watch the per-tensor curve collapse first; then at 2 bits "
       "raise QAT steps to 20 and see how much a short fine-tune wins back.")
BITS = encode.ALLOWED_BITS
SCHEMES = encode.SCHEMES
HIDDEN = (64,)


def float_model(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits") -> nn.Module:
    """The float32 MLP this lab quantizes: cross-entropy, 200 full-batch Adam steps at lr 1e-2 (cached on disk)."""
    split_seed = seed if split_seed is None else split_seed
    return cache.trained_mlp(dataset, HIDDEN, seed=seed, split_seed=split_seed, epochs=200, lr=1e-2,
                             weight_decay=0.0, name="quant-student")


@dataclass
class State:
    model: nn.Module
    work: nn.Module
    state: dict
    ds: object
    teacher_logits: torch.Tensor
    acc_float: float
    curve: dict
    layer: str
    T: float
    alpha: float
    lr: float
    seed: int


def _ptq(model, bits, scheme, X, y) -> float:
    with quantize.fake_quantized(model, bits, scheme=scheme):
        return train.evaluate(model, X, y)


@functools.lru_cache(maxsize=8)
def setup(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", T: float = 2.0,
          alpha: float = 0.7, lr: float = 3e-3) -> State:
    """The trained float model, its logits, its PTQ accuracy at every bit width and scheme (test split)."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    model = float_model(seed, split_seed=split_seed, dataset=dataset).eval()
    names = [n for n, _ in linear_layers(model)]
    curve = {s: [_ptq(model, b, s, ds.X_test, ds.y_test) for b in BITS] for s in SCHEMES}
    return State(model, copy.deepcopy(model), copy.deepcopy(model.state_dict()), ds, train.predict(model, ds.X_train),
                 train.evaluate(model, ds.X_test, ds.y_test), curve, names[len(names) // 2], float(T), float(alpha),
                 float(lr), int(seed))


def run(s: State, bits: int = 4, scheme: str = "per_channel", steps: int = 10) -> dict:
    """PTQ at ``bits`` bits and ``scheme``, then ``steps`` distilled QAT steps, from the float weights each time."""
    check_choice("bits", bits, BITS)
    check_choice("scheme", scheme, SCHEMES)
    steps = check_int_range("steps", steps, 0, 10_000)
    ds = s.ds
    with latency.threads(1):
        work = quantize.remove_fake_quant(s.work)
        work.load_state_dict(s.state)
        quantize.add_fake_quant(work, bits, scheme=scheme)
        acc_ptq = train.evaluate(work, ds.X_test, ds.y_test)
        layer = dict(work.named_modules())[s.layer]
        with torch.no_grad():
            w_float = layer.parametrizations["weight"].original.detach().clone()
            w_ptq = layer.weight.detach().clone()
        acc_qat = acc_ptq
        if steps:
            objective = train.kd_objective(ds.X_train, ds.y_train, s.teacher_logits, T=s.T, alpha=s.alpha)
            train.fit(work, objective, len(ds.X_train), epochs=steps, lr=s.lr, seed=s.seed)
            acc_qat = train.evaluate(work, ds.X_test, ds.y_test)
    return dict(bits=int(bits), scheme=scheme, steps=steps, acc_float=s.acc_float, acc_ptq=acc_ptq, acc_qat=acc_qat,
                mse=float((w_ptq - w_float).pow(2).mean()), layer=s.layer, w_float=w_float, w_ptq=w_ptq,
                curve=s.curve, levels=len(torch.unique(w_ptq)),
                bytes_float=encode.dense_bytes(s.model), bytes_quant=encode.packed_bytes(s.model, bits, scheme=scheme))


def render(result: dict, fig) -> None:
    """Left: float weights against their quantized values; right: accuracy against bit width.

    Colours are named in the titles instead of legends: legend layout would cost more than the rest of a redraw.
    """
    ax1, ax2 = plots.fast_axes(fig)
    wf, wq = result["w_float"].flatten(), result["w_ptq"].flatten()
    pick = torch.linspace(0, len(wf) - 1, min(len(wf), 300)).long()  # a fixed, even subsample keeps redraws fast
    wf, wq = wf[pick].numpy(), wq[pick].numpy()
    ax1.plot(wf, wq, ".", ms=3, color="tab:orange")
    lim = [float(wf.min()), float(wf.max())]
    ax1.plot(lim, lim, lw=0.8, color="gray", ls="--")
    plots.style(ax1, f"{result['layer']}: {result['bits']}-bit (orange) vs float (dashed)", "float weight (unitless)",
                "quantized weight (unitless)")
    for sch, colour in zip(SCHEMES, ("tab:red", "tab:blue")):
        ax2.plot(BITS, [100 * a for a in result["curve"][sch]], marker="o", color=colour)
    ax2.axhline(100 * result["acc_float"], color="gray", ls=":")
    ax2.plot([result["bits"]], [100 * result["acc_qat"]], marker="*", ms=14, color="tab:green", ls="none")
    ax2.set_ylim(0, 100)
    plots.style(ax2, "PTQ per-tensor (red), per-channel (blue), QAT (star)", "bits per weight", "test accuracy (%)")


def summary(result: dict) -> str:
    r = result
    note = ""
    if r["acc_qat"] == r["acc_ptq"] and r["steps"]:
        note = " (QAT left accuracy unchanged at this width: the weight MSE shows what moved)"
    return (f"<b>{r['bits']} bits, {r['scheme']}</b>: float32 {r['acc_float']:.1%} &rarr; PTQ {r['acc_ptq']:.1%} "
            f"&rarr; after {r['steps']} QAT steps {r['acc_qat']:.1%}{note}. {r['levels']} distinct values in "
            f"{r['layer']}, weight MSE {r['mse']:.2e}. Packed size {r['bytes_float'] / 1024:.1f} KiB &rarr; "
            f"{r['bytes_quant'] / 1024:.1f} KiB ({r['bytes_float'] / r['bytes_quant']:.1f}x smaller).")


def dashboard(seed: int = 0, *, bits: int = 4, scheme: str = "per_channel", steps: int = 10,
              split_seed: int | None = None, background: bool = True) -> widgets.Dashboard:
    """Sliders for bits and QAT steps and a toggle for the scale scheme, over :func:`run`."""
    import ipywidgets as W

    s = setup(seed, split_seed=split_seed)
    controls = dict(bits=widgets.slider(bits, 2, 8, 1, integer=True, description="bits"),
                    scheme=W.ToggleButtons(options=list(SCHEMES), value=scheme, description="scale"),
                    steps=widgets.slider(steps, 0, 20, 5, integer=True, description="QAT steps"))
    return widgets.Dashboard(functools.partial(run, s), controls, render=render, summary=summary,
                             figsize=(10, 3.4), title=f"{TITLE}. Try: {TRY}", background=background)
