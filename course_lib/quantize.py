"""Quantization: fake quantization at 2-8 bits, int8 post-training quantization, ternary weights.

* ``FakeQuantize`` is a ``torch.nn.utils.parametrize`` parametrization that
  rounds a weight to ``bits`` bits with one scale for the whole tensor
  (``"per_tensor"``) or one scale per output row (``"per_channel"``), through
  ``torch.fake_quantize_per_tensor_affine`` / ``..._per_channel_affine``. Their
  backward pass is already a (clipped) straight-through estimator, so a
  fake-quantized model can be fine-tuned as it is (quantization-aware training).
* ``int8_ptq`` wraps torchao's ``quantize_`` (int8 weights, and int8 activations
  computed on the fly for ``mode="dynamic"``); it falls back to the deprecated
  ``torch.ao.quantization.quantize_dynamic`` only if torchao fails, and says so.
* ``ternarize`` maps a weight to {-a, 0, +a}; built from ``sign`` it has a zero
  gradient everywhere, while ``TernarySTE`` (a ``torch.autograd.Function``)
  passes the gradient straight through in its backward pass.
"""
from __future__ import annotations

import copy
import io
import warnings
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.utils import parametrize

from ._checks import check_choice, check_range

ALLOWED_BITS = (2, 3, 4, 5, 6, 7, 8)
SCHEMES = ("per_tensor", "per_channel")
PTQ_MODES = ("dynamic", "weight_only")
STE_MODES = ("ste", "none")


# --------------------------------------------------------------------------- fake quantization
def qrange(bits: int, *, symmetric: bool = True) -> tuple[int, int]:
    """Integer range (quant_min, quant_max) for ``bits`` bits.

    Symmetric grids are restricted to [-(2^(b-1) - 1), 2^(b-1) - 1] so that zero
    sits in the middle (2 bits then give the three levels -1, 0, +1); affine
    grids use all 2^b levels 0 .. 2^b - 1.
    """
    bits = check_choice("bits", bits, ALLOWED_BITS)
    if symmetric:
        q = 2 ** (bits - 1) - 1
        return -q, q
    return 0, 2 ** bits - 1


def qparams(w: torch.Tensor, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True):
    """Scale(s) and zero point(s) from the weight's range (min/max calibration).

    Returns ``(scale, zero_point, quant_min, quant_max)``; for ``"per_channel"``
    scale and zero_point have one entry per row (axis 0).
    """
    check_choice("scheme", scheme, SCHEMES)
    qmin, qmax = qrange(bits, symmetric=symmetric)
    w = w.detach()
    flat = w.reshape(len(w), -1) if scheme == "per_channel" else w.reshape(1, -1)
    lo = flat.min(dim=1).values.clamp(max=0)
    hi = flat.max(dim=1).values.clamp(min=0)
    eps = torch.finfo(torch.float32).eps
    if symmetric:
        scale = (torch.maximum(-lo, hi) / qmax).clamp(min=eps)
        zero_point = torch.zeros_like(scale, dtype=torch.int32)
    else:
        scale = ((hi - lo) / (qmax - qmin)).clamp(min=eps)
        zero_point = (qmin - torch.round(lo / scale)).clamp(qmin, qmax).to(torch.int32)
    if scheme == "per_tensor":
        return scale[0], zero_point[0], qmin, qmax
    return scale, zero_point, qmin, qmax


def fake_quantize(w: torch.Tensor, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True) -> torch.Tensor:
    """Quantize then dequantize ``w``: float values restricted to a ``bits``-bit grid.

    The gradient is straight-through inside the grid's range and zero outside it.
    """
    scale, zero_point, qmin, qmax = qparams(w, bits, scheme=scheme, symmetric=symmetric)
    if scheme == "per_tensor":
        return torch.fake_quantize_per_tensor_affine(w, scale, zero_point, qmin, qmax)
    return torch.fake_quantize_per_channel_affine(w, scale, zero_point, 0, qmin, qmax)


def quantization_mse(w: torch.Tensor, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True) -> float:
    """Mean squared rounding error of ``fake_quantize`` on ``w``."""
    with torch.no_grad():
        return float((fake_quantize(w, bits, scheme=scheme, symmetric=symmetric) - w).pow(2).mean())


class FakeQuantize(nn.Module):
    """Parametrization: the weight seen by the layer is its ``bits``-bit fake-quantized copy."""

    def __init__(self, bits: int = 8, scheme: str = "per_tensor", symmetric: bool = True):
        super().__init__()
        check_choice("bits", bits, ALLOWED_BITS)
        check_choice("scheme", scheme, SCHEMES)
        self.bits, self.scheme, self.symmetric = int(bits), scheme, bool(symmetric)

    def forward(self, w):
        return fake_quantize(w, self.bits, scheme=self.scheme, symmetric=self.symmetric)

    def extra_repr(self):
        return f"bits={self.bits}, scheme={self.scheme!r}, symmetric={self.symmetric}"


def _linears(model: nn.Module, layers=None):
    named = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    if layers is None:
        return named
    layers = [layers] if isinstance(layers, str) else list(layers)
    for n in layers:
        check_choice("layers", n, sorted(named))
    return {n: named[n] for n in layers}


def add_fake_quant(model: nn.Module, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True,
                   layers=None) -> nn.Module:
    """Register a :class:`FakeQuantize` parametrization on the weight of each Linear layer (in place).

    A layer that is already fake-quantized gets its settings changed instead of a
    second parametrization. Returns ``model``.
    """
    check_choice("bits", bits, ALLOWED_BITS)
    check_choice("scheme", scheme, SCHEMES)
    for name, m in _linears(model, layers).items():
        existing = [p for p in m.parametrizations["weight"] if isinstance(p, FakeQuantize)] \
            if parametrize.is_parametrized(m, "weight") else []
        if existing:
            existing[0].bits, existing[0].scheme, existing[0].symmetric = int(bits), scheme, bool(symmetric)
        else:
            parametrize.register_parametrization(m, "weight", FakeQuantize(bits, scheme, symmetric))
    return model


def remove_fake_quant(model: nn.Module, *, leave_quantized: bool = False) -> nn.Module:
    """Remove every weight parametrization from the Linear layers (in place).

    ``leave_quantized=True`` keeps the rounded weights, ``False`` restores the float ones.
    """
    for m in model.modules():
        if isinstance(m, nn.Linear) and parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave_quantized)
    return model


@contextmanager
def fake_quantized(model: nn.Module, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True, layers=None):
    """Context manager: ``model`` is fake-quantized inside the block and float again after it."""
    add_fake_quant(model, bits, scheme=scheme, symmetric=symmetric, layers=layers)
    try:
        yield model
    finally:
        remove_fake_quant(model, leave_quantized=False)


# --------------------------------------------------------------------------- int8 post-training quantization
def int8_ptq(model: nn.Module, *, mode: str = "dynamic") -> nn.Module:
    """An int8 copy of ``model``'s Linear layers (the original is left untouched).

    ``mode="dynamic"``: int8 weights and int8 activations, whose scale is taken from
    each input at run time (torchao ``Int8DynamicActivationInt8WeightConfig``);
    ``mode="weight_only"``: int8 weights, float activations (``Int8WeightOnlyConfig``).
    The returned model carries ``ptq_backend``, a string naming what was used. If
    torchao is missing or raises, the deprecated ``torch.ao.quantization.quantize_dynamic``
    is used instead (dynamic mode only) and ``ptq_backend`` says so.
    """
    check_choice("mode", mode, PTQ_MODES)
    q = copy.deepcopy(model).eval()
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_

        config = Int8DynamicActivationInt8WeightConfig() if mode == "dynamic" else Int8WeightOnlyConfig()
        quantize_(q, config)
        q.ptq_backend = f"torchao.quantize_({type(config).__name__}())"
        return q
    except Exception as exc:  # pragma: no cover - depends on the installed torchao
        if mode != "dynamic":
            raise RuntimeError(f"torchao int8 {mode} quantization failed ({exc!r}) and has no fallback") from exc
        failure = exc
    q = legacy_int8_dynamic(model)
    q.ptq_backend = f"torch.ao.quantization.quantize_dynamic (fallback: torchao failed with {failure!r})"
    return q


def legacy_int8_dynamic(model: nn.Module) -> nn.Module:
    """The older ``torch.ao.quantization.quantize_dynamic`` int8 path (deprecated; fbgemm/onednn kernels).

    Kept to compare speed with: its deprecation warnings are silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)
    q.ptq_backend = "torch.ao.quantization.quantize_dynamic (deprecated)"
    return q


def serialized_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: the size on disk, whatever the tensor types."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


# --------------------------------------------------------------------------- ternary weights
def ternary_params(w: torch.Tensor, *, delta_factor: float = 0.7):
    """Threshold and scale of a ternary weight (Li & Liu's Ternary Weight Networks rule).

    Weights with ``|w| > delta = delta_factor * mean|w|`` become ``+-a`` where
    ``a`` is the mean magnitude of those weights; the rest become 0. Both are
    computed without gradient: within a step they are constants.
    """
    check_range("delta_factor", delta_factor, 0.0, 10.0)
    with torch.no_grad():
        mag = w.abs()
        delta = delta_factor * mag.mean()
        keep = mag > delta
        a = mag[keep].mean() if bool(keep.any()) else mag.max()
    return delta, a


def ternarize(w: torch.Tensor, *, delta_factor: float = 0.7) -> torch.Tensor:
    """``w`` mapped to {-a, 0, +a} with plain torch ops: autograd's gradient through it is zero."""
    delta, a = ternary_params(w, delta_factor=delta_factor)
    return a * torch.sign(w) * (w.abs() > delta)


class TernarySTE(torch.autograd.Function):
    """Ternary forward pass, straight-through backward pass.

    ``clip`` (optional) zeroes the gradient of latent weights whose magnitude is
    above ``clip`` times the scale ``a``, so that they cannot drift without bound.
    """

    @staticmethod
    def forward(ctx, w, delta_factor=0.7, clip=None):
        delta, a = ternary_params(w, delta_factor=delta_factor)
        ctx.save_for_backward(w)
        ctx.clip = None if clip is None else float(clip) * float(a)
        return a * torch.sign(w) * (w.abs() > delta)

    @staticmethod
    def backward(ctx, grad_out):
        (w,) = ctx.saved_tensors
        grad = grad_out if ctx.clip is None else grad_out * (w.abs() <= ctx.clip)
        return grad, None, None


def ternary_ste(w: torch.Tensor, *, delta_factor: float = 0.7, clip: float | None = None) -> torch.Tensor:
    """Ternarize ``w`` with a straight-through gradient (see :class:`TernarySTE`)."""
    check_range("delta_factor", delta_factor, 0.0, 10.0)
    if clip is not None:
        check_range("clip", clip, 0.0, 1e6, lo_open=True)
    return TernarySTE.apply(w, delta_factor, clip)


class Ternary(nn.Module):
    """Parametrization: the layer sees a ternary weight; ``mode="ste"`` or ``"none"`` (zero gradient)."""

    def __init__(self, mode: str = "ste", delta_factor: float = 0.7, clip: float | None = None):
        super().__init__()
        self.mode = check_choice("mode", mode, STE_MODES)
        self.delta_factor = check_range("delta_factor", delta_factor, 0.0, 10.0)
        self.clip = clip

    def forward(self, w):
        if self.mode == "ste":
            return ternary_ste(w, delta_factor=self.delta_factor, clip=self.clip)
        return ternarize(w, delta_factor=self.delta_factor)


def add_ternary(model: nn.Module, *, mode: str = "ste", delta_factor: float = 0.7, clip: float | None = None,
                layers=None) -> nn.Module:
    """Make the weights of the Linear layers ternary (in place) through a :class:`Ternary` parametrization."""
    check_choice("mode", mode, STE_MODES)
    for m in _linears(model, layers).values():
        parametrize.register_parametrization(m, "weight", Ternary(mode, delta_factor, clip))
    return model


def ternary_bytes(model: nn.Module) -> int:
    """Storage of a ternary model: 2 bits per ternary weight plus one float32 scale per layer,
    every other parameter (biases) in float32."""
    n = sum(4 * p.numel() for p in model.parameters())
    for m in model.modules():
        if parametrize.is_parametrized(m, "weight") and any(
                isinstance(p, Ternary) for p in m.parametrizations["weight"]):
            k = m.parametrizations["weight"].original.numel()
            n += -4 * k + (2 * k + 7) // 8 + 4
    return n


# --------------------------------------------------------------------------- the bit-width slider
def packed_bytes(model: nn.Module, bits: int, *, scheme: str = "per_tensor") -> int:
    """Storage if every Linear weight used ``bits`` bits (plus one float32 scale per tensor or
    per row); biases and other parameters stay float32."""
    check_choice("bits", bits, ALLOWED_BITS)
    check_choice("scheme", scheme, SCHEMES)
    n = 0
    for m in model.modules():
        if isinstance(m, nn.Linear):
            k = m.in_features * m.out_features
            n += (bits * k + 7) // 8 + 4 * (m.out_features if scheme == "per_channel" else 1)
            n += 4 * (m.bias.numel() if m.bias is not None else 0)
    return n


class BitwidthLab:
    """What the bit-width slider computes, as a plain callable.

    ``lab(bits, scheme, steps)`` fake-quantizes a copy of the trained float
    ``model`` (post-training quantization: PTQ), measures test accuracy, then
    fine-tunes it for ``steps`` full-batch steps with the quantizer in the loop
    (quantization-aware training, QAT), distilling from the float model's
    logits at temperature ``T``, and measures again. The float model is never
    changed; every call starts again from its weights.
    """

    def __init__(self, model: nn.Module, X_train, y_train, X_test, y_test, *, T: float = 2.0,
                 alpha: float = 0.7, lr: float = 1e-3, show_layer: str | None = None):
        from . import train

        self.model = model.eval()
        self.state = copy.deepcopy(model.state_dict())
        self.work = copy.deepcopy(model)
        self.X_train, self.y_train, self.X_test, self.y_test = X_train, y_train, X_test, y_test
        self.T, self.alpha, self.lr = T, alpha, lr
        self.teacher_logits = train.predict(model, X_train)
        self.acc_float = train.evaluate(model, X_test, y_test)
        names = list(_linears(model))
        self.show_layer = show_layer or names[len(names) // 2]
        check_choice("show_layer", self.show_layer, names)
        self.curve = {s: [self._ptq_accuracy(b, s) for b in ALLOWED_BITS] for s in SCHEMES}

    def _ptq_accuracy(self, bits, scheme):
        from . import train

        with fake_quantized(self.model, bits, scheme=scheme):
            return train.evaluate(self.model, self.X_test, self.y_test)

    def __call__(self, bits: int = 4, scheme: str = "per_channel", steps: int = 15) -> dict:
        from . import train

        check_choice("bits", bits, ALLOWED_BITS)
        check_choice("scheme", scheme, SCHEMES)
        steps = int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        work = remove_fake_quant(self.work)
        work.load_state_dict(self.state)
        add_fake_quant(work, bits, scheme=scheme)
        acc_ptq = train.evaluate(work, self.X_test, self.y_test)
        layer = dict(work.named_modules())[self.show_layer]
        with torch.no_grad():
            w_float = layer.parametrizations["weight"].original.detach().clone()
            w_ptq = layer.weight.detach().clone()
        acc_qat = acc_ptq
        if steps:
            objective = train.kd_objective(self.X_train, self.y_train, self.teacher_logits, T=self.T, alpha=self.alpha)
            train.fit(work, objective, len(self.X_train), epochs=steps, lr=self.lr, seed=0)
            acc_qat = train.evaluate(work, self.X_test, self.y_test)
        return dict(bits=int(bits), scheme=scheme, steps=steps, acc_float=self.acc_float, acc_ptq=acc_ptq,
                    acc_qat=acc_qat, mse=float((w_ptq - w_float).pow(2).mean()), layer=self.show_layer,
                    w_float=w_float, w_ptq=w_ptq, curve=self.curve,
                    bytes_float=4 * sum(p.numel() for p in self.model.parameters()),
                    bytes_quant=packed_bytes(self.model, bits, scheme=scheme))


def render_bitwidth(result: dict, fig) -> None:
    """Left: float weights against their quantized values; right: accuracy against bit width."""
    from .ui.plots import style

    from .ui.plots import fast_axes

    ax1, ax2 = fast_axes(fig)
    wf, wq = result["w_float"].flatten(), result["w_ptq"].flatten()
    pick = torch.linspace(0, len(wf) - 1, min(len(wf), 300)).long()  # a fixed, even subsample keeps redraws fast
    wf, wq = wf[pick].numpy(), wq[pick].numpy()
    ax1.plot(wf, wq, ".", ms=3, color="tab:orange", label=f"{result['bits']}-bit ({result['scheme']})")
    lim = [float(wf.min()), float(wf.max())]
    ax1.plot(lim, lim, lw=0.8, color="gray", ls="--", label="identity")
    ax1.legend(fontsize=8, loc="upper left")
    style(ax1, f"{result['layer']}: quantized against float weight", "float weight (unitless)",
          "quantized weight (unitless)")
    bits = list(ALLOWED_BITS)
    for s, colour in zip(SCHEMES, ("tab:red", "tab:blue")):
        ax2.plot(bits, [100 * a for a in result["curve"][s]], marker="o", color=colour, label=f"PTQ {s}")
    ax2.axhline(100 * result["acc_float"], color="gray", ls=":", label="float32")
    ax2.plot([result["bits"]], [100 * result["acc_qat"]], marker="*", ms=14, color="tab:green", ls="none",
             label=f"QAT, {result['steps']} steps ({result['scheme']})")
    ax2.set_ylim(0, 100)
    ax2.legend(fontsize=8, loc="lower right")
    style(ax2, "test accuracy against bit width", "bits per weight", "test accuracy (%)")


def summarize_bitwidth(result: dict) -> str:
    r = result
    return (f"<b>{r['bits']} bits, {r['scheme']}</b>: float32 {r['acc_float']:.1%} &rarr; PTQ {r['acc_ptq']:.1%} "
            f"&rarr; after {r['steps']} QAT steps {r['acc_qat']:.1%}. Weight MSE in {r['layer']}: {r['mse']:.2e}. "
            f"Size {r['bytes_float'] / 1024:.1f} KiB &rarr; {r['bytes_quant'] / 1024:.1f} KiB "
            f"({r['bytes_float'] / r['bytes_quant']:.1f}x smaller).")


def bitwidth_dashboard(lab: BitwidthLab, *, bits: int = 4, scheme: str = "per_channel", steps: int = 10,
                       background: bool = True):
    """A live :class:`course_lib.widgets.Dashboard` over ``lab``: bits, scheme and QAT steps."""
    import ipywidgets as W

    from .ui.widgets import Dashboard, slider

    controls = dict(bits=slider(bits, 2, 8, 1, integer=True, description="bits"),
                    scheme=W.ToggleButtons(options=list(SCHEMES), value=scheme, description="scale"),
                    steps=slider(steps, 0, 20, 5, integer=True, description="QAT steps"))
    return Dashboard(lab, controls, render=render_bitwidth, summary=summarize_bitwidth, figsize=(10, 3.4),
                     title="Bit width: fake quantization, then a short distilled fine-tune", background=background)


def float_student(dataset: str = "digits", *, hidden=(64,), seed: int = 0) -> nn.Module:
    """The trained float32 MLP the bit-width slider quantizes (cached on disk; ~1 s the first time)."""
    from . import cache, data, models, train

    ds = data.load(dataset)
    config = dict(kind="quant-student", dataset=dataset, hidden=list(hidden), seed=seed, epochs=200, lr=1e-2)
    return cache.cached_model(
        config, lambda: models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed),
        lambda m: train.train_scratch(m, ds.X_train, ds.y_train, epochs=200, lr=1e-2, seed=seed),
        name=f"quant-student-{dataset}")


def default_lab(dataset: str = "digits", **kw) -> BitwidthLab:
    """A :class:`BitwidthLab` over :func:`float_student` on ``dataset`` (what the notebook and benchmark use)."""
    from . import data

    ds = data.load(dataset)
    return BitwidthLab(float_student(dataset), ds.X_train, ds.y_train, ds.X_test, ds.y_test, lr=3e-3, **kw)
