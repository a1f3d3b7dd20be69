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
* ``kmeans_codebook`` / ``share_weights``: k-means weight sharing (Deep
  Compression's quantization stage); byte counts live in ``compress.encode``.
"""
from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .._checks import check_choice, check_int_range, check_range
from .encode import ALLOWED_BITS, SCHEMES
from .layers import linear_layers

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


#: Layer types fake quantization can act on: ``kinds=WEIGHTED`` adds convolutions to the Linear default.
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d)


def _linears(model: nn.Module, layers=None, kinds=(nn.Linear,)) -> dict:
    return dict(linear_layers(model, kinds=tuple(kinds), names=layers, required=False))


def add_fake_quant(model: nn.Module, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True,
                   layers=None, kinds=(nn.Linear,)) -> nn.Module:
    """Register a :class:`FakeQuantize` parametrization on the weight of each Linear layer (in place).

    ``kinds=WEIGHTED`` also covers Conv1d and Conv2d layers ("per_channel" then
    means one scale per output channel).

    A layer that is already fake-quantized gets its settings changed instead of a
    second parametrization. Returns ``model``.
    """
    check_choice("bits", bits, ALLOWED_BITS)
    check_choice("scheme", scheme, SCHEMES)
    for name, m in _linears(model, layers, kinds).items():
        existing = [p for p in m.parametrizations["weight"] if isinstance(p, FakeQuantize)] \
            if parametrize.is_parametrized(m, "weight") else []
        if existing:
            existing[0].bits, existing[0].scheme, existing[0].symmetric = int(bits), scheme, bool(symmetric)
        else:
            parametrize.register_parametrization(m, "weight", FakeQuantize(bits, scheme, symmetric))
    return model


def remove_fake_quant(model: nn.Module, *, leave_quantized: bool = False) -> nn.Module:
    """Remove every weight parametrization from the Linear and convolution layers (in place).

    ``leave_quantized=True`` keeps the rounded weights, ``False`` restores the float ones.
    """
    for m in model.modules():
        if isinstance(m, WEIGHTED) and parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave_quantized)
    return model


@contextmanager
def fake_quantized(model: nn.Module, bits: int, *, scheme: str = "per_tensor", symmetric: bool = True, layers=None,
                   kinds=(nn.Linear,)):
    """Context manager: ``model`` is fake-quantized inside the block and float again after it."""
    add_fake_quant(model, bits, scheme=scheme, symmetric=symmetric, layers=layers, kinds=kinds)
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


# --------------------------------------------------------------------------- weight sharing
def kmeans_codebook(w: torch.Tensor, n_clusters: int, *, seed: int = 0, keep_zero: bool = True) -> tuple:
    """Cluster the weights of one layer: ``(codes, codebook)`` with ``codebook[codes] ~ w``.

    scikit-learn ``KMeans`` on the weight values, initialised linearly between
    the smallest and largest weight (the initialisation Deep Compression found
    best). With ``keep_zero`` and pruned weights present, code 0 is exactly 0.0,
    reserved for the zeros, and the other ``n_clusters - 1`` centroids are fitted
    to the non-zero weights only.
    """
    from sklearn.cluster import KMeans

    check_int_range("n_clusters", n_clusters, 2, 256)
    a = w.detach().cpu().numpy().astype(np.float64).ravel()
    zero = a == 0
    reserve = bool(keep_zero and zero.any())
    fit_on = a[~zero] if reserve else a
    k = min(n_clusters - 1 if reserve else n_clusters, len(np.unique(fit_on)))
    codes = np.zeros(a.shape, dtype=np.int64)
    if k >= 1:
        init = np.linspace(fit_on.min(), fit_on.max(), k).reshape(-1, 1)
        km = KMeans(n_clusters=k, init=init, n_init=1, random_state=int(seed)).fit(fit_on.reshape(-1, 1))
        centroids = km.cluster_centers_.ravel()
        labels = km.labels_ + (1 if reserve else 0)
    else:
        centroids, labels = np.zeros(0), np.zeros(0, dtype=np.int64)
    if reserve:
        codes[~zero] = labels
        codebook = np.concatenate([[0.0], centroids])
    else:
        codes[:] = labels
        codebook = centroids
    return codes.reshape(tuple(w.shape)), codebook.astype(np.float32)


def share_weights(model: nn.Module, n_clusters: int = 16, *, seed: int = 0, keep_zero: bool = True) -> tuple:
    """A copy of ``model`` whose Linear weights are replaced by their k-means centroids.

    Returns ``(model, codes)`` with ``codes = {layer name: (codes array, codebook)}``.
    """
    check_int_range("n_clusters", n_clusters, 2, 256)
    out = copy.deepcopy(model).eval()
    codes = {}
    for name, m in linear_layers(out):
        c, book = kmeans_codebook(m.weight, n_clusters, seed=seed, keep_zero=keep_zero)
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(book[c]))
        codes[name] = (c, book)
    return out, codes
