"""The capstone challenge: compress the course's digits teacher to fit a byte budget, as accurate as possible.

In the learner's notebook, the last cell (the course's, like a check cell) calls :func:`submit`
with the compressed model: a sequence of ``nn.Linear`` layers (ReLU between them where wanted) from
the 64 digit features to 10 logits, and the bit width of each layer's weights (2 to 8, or 32 for
float32). ``submit`` only writes the weights out (as plain tensors); everything that decides the grade
is measured by the grader, in its own process, by :func:`measure`:

* **size** as the course's encoders count it: each weight matrix quantized symmetrically per output
  row at its bit width (32: float32 as is), stored either densely (bits packed tightly, plus one float32
  scale per row) or in CSR with the narrowest unsigned index types (packed non-zero values, column
  indices, row pointers, scales), whichever is smaller; every bias in float32;
* **accuracy** of that quantized model on a held-out split of the digits (the course's test split for
  ``split_seed=0``, rebuilt here from scikit-learn), which the capstone notebook never loads.
"""
from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

BUDGET_BYTES = 2000
N_FEATURES, N_CLASSES = 64, 10
ALLOWED_BITS = (2, 3, 4, 5, 6, 7, 8, 32)
OUT_ENV = "COURSE_CAPSTONE_OUT"
FORBIDDEN = ("X_test", "y_test", "load_digits", "heldout", "measure(")  # the held-out data is the grader's alone
SUBMITTED = "capstone: model submitted (the grader measures its size and accuracy)"
_PASSIVE = (nn.ReLU, nn.Identity, nn.Dropout, nn.Flatten)


# ------------------------------------------------------------------------------ in the learner's kernel
def spec_of(model: nn.Module, bits=None) -> dict:
    """The submission: {"layers": [{"weight", "bias", "bits", "relu"}]} from an MLP, or a ValueError."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    leaves = [m for m in model.modules() if not list(m.children())]
    layers = []
    for m in leaves:
        if isinstance(m, nn.Linear):
            w = m.weight
            w = w.dequantize() if hasattr(w, "dequantize") and not isinstance(w, nn.Parameter) else w
            layers.append({"weight": torch.as_tensor(w.detach(), dtype=torch.float32).clone().contiguous(),
                           "bias": None if m.bias is None else m.bias.detach().float().clone(), "relu": False})
        elif isinstance(m, nn.ReLU):
            if not layers:
                raise ValueError("a ReLU before the first Linear layer: the model must start with nn.Linear")
            layers[-1]["relu"] = True
        elif not isinstance(m, _PASSIVE):
            raise ValueError(f"only nn.Linear and nn.ReLU layers (in order) can be submitted, found "
                             f"{type(m).__name__}")
    if not layers:
        raise ValueError("the model has no nn.Linear layer")
    bits = [32] * len(layers) if bits is None else [bits] * len(layers) if isinstance(bits, int) else list(bits)
    if len(bits) != len(layers):
        raise ValueError(f"bits must give one width per Linear layer ({len(layers)}), got {len(bits)}")
    for layer, b in zip(layers, bits):
        if b not in ALLOWED_BITS:
            raise ValueError(f"bits must be one of {ALLOWED_BITS}, got {b}")
        layer["bits"] = int(b)
    if layers[0]["weight"].shape[1] != N_FEATURES or layers[-1]["weight"].shape[0] != N_CLASSES:
        raise ValueError(f"the model must map {N_FEATURES} features to {N_CLASSES} logits, got "
                         f"{layers[0]['weight'].shape[1]} -> {layers[-1]['weight'].shape[0]}")
    for a, b in zip(layers, layers[1:]):
        if a["weight"].shape[0] != b["weight"].shape[1]:
            raise ValueError(f"consecutive layers do not fit: {tuple(a['weight'].shape)} then "
                             f"{tuple(b['weight'].shape)}")
    return {"version": 1, "layers": layers}


def submit(model: nn.Module, bits=None) -> None:
    """Hand the compressed model in. Prints one line; the grader measures size and accuracy itself."""
    try:
        spec = spec_of(model, bits)
    except ValueError as exc:
        print(f"capstone: not submitted - {exc}")
        return
    path = os.environ.get(OUT_ENV)
    if path:
        torch.save(spec, path)
    print(SUBMITTED)


def size_bytes(model: nn.Module, bits=None) -> int:
    """The size the grader will count for ``model`` at ``bits`` (the learner may call this; accuracy on the
    held-out split is measured by the grader only)."""
    spec = spec_of(model, bits)
    return sum(layer_bytes(layer["weight"], layer["bits"], layer["bias"] is not None)["total"]
               for layer in spec["layers"])


# ------------------------------------------------------------------------------ in the grader
def index_bytes(max_value: int) -> int:
    """Bytes of the narrowest unsigned integer type holding ``max_value``."""
    for width, limit in ((1, 2 ** 8 - 1), (2, 2 ** 16 - 1), (4, 2 ** 32 - 1)):
        if max_value <= limit:
            return width
    return 8


def quantized(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(the dequantized weight, its integer codes or None for float32): symmetric, one scale per row."""
    w = w.double()
    if bits == 32:
        return w.float().double(), None
    qmax = 2 ** (bits - 1) - 1
    scale = (w.abs().amax(1, keepdim=True) / qmax).clamp_min(1e-12).float().double()
    q = torch.clamp(torch.round(w / scale), -qmax, qmax)
    return q * scale, q


def layer_bytes(w: torch.Tensor, bits: int, has_bias: bool) -> dict:
    """Bytes of one layer: the cheaper of dense-packed and narrow CSR, plus scales and bias."""
    out_f, in_f = w.shape
    _, q = quantized(w, bits)
    codes = w if q is None else q
    nnz = int((codes != 0).sum())
    scales = 0 if bits == 32 else 4 * out_f
    dense = (bits * out_f * in_f + 7) // 8 + scales
    csr = (bits * nnz + 7) // 8 + nnz * index_bytes(max(in_f - 1, 0)) + (out_f + 1) * index_bytes(nnz) + scales
    bias = 4 * out_f if has_bias else 0
    return {"dense": dense, "csr": csr, "weights": min(dense, csr), "bias": bias, "total": min(dense, csr) + bias,
            "layout": "dense" if dense <= csr else "csr", "nnz": nnz}


def heldout() -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out digits: the course's stratified test split for split_seed=0 (20%), rebuilt here."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = np.asarray(d.data / 16.0, dtype=np.float32)
    _, X_test, _, y_test = train_test_split(X, np.asarray(d.target), test_size=0.2, stratify=d.target,
                                            random_state=0)
    return torch.as_tensor(X_test), torch.as_tensor(y_test, dtype=torch.long)


def measure(spec: dict, *, budget: int = BUDGET_BYTES) -> dict:
    """Size (bytes), accuracy on the held-out split, and whether it fits the budget; ValueError if malformed."""
    layers = spec.get("layers") if isinstance(spec, dict) else None
    if not isinstance(layers, list) or not layers:
        raise ValueError("the submission holds no layers")
    X, y = heldout()
    h = X.double()
    size, parts = 0, []
    for i, layer in enumerate(layers):
        w, b, bits = layer.get("weight"), layer.get("bias"), layer.get("bits")
        if not isinstance(w, torch.Tensor) or w.dim() != 2 or bits not in ALLOWED_BITS:
            raise ValueError(f"layer {i} is malformed")
        if not bool(torch.isfinite(w).all()) or (b is not None and not bool(torch.isfinite(b).all())):
            raise ValueError(f"layer {i} holds nan or inf")
        if h.shape[1] != w.shape[1]:
            raise ValueError(f"layer {i} expects {w.shape[1]} inputs, gets {h.shape[1]}")
        wq, _ = quantized(w, bits)
        h = h @ wq.T + (0 if b is None else b.double())
        if layer.get("relu"):
            h = h.clamp_min(0)
        part = layer_bytes(w, bits, b is not None)
        parts.append(part)
        size += part["total"]
    if h.shape[1] != N_CLASSES:
        raise ValueError(f"the model outputs {h.shape[1]} values, expected {N_CLASSES} logits")
    accuracy = float((h.argmax(1) == y).double().mean())
    return {"size_bytes": int(size), "accuracy": accuracy, "within_budget": size <= budget, "budget": budget,
            "layers": parts, "n_heldout": len(y)}


def load_submission(path) -> dict:
    """Read a submission file safely (tensors, lists and numbers only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def accuracy_text(m: dict) -> str:
    return (f"{m['size_bytes']} bytes (budget {m['budget']}), held-out accuracy {m['accuracy']:.2%} on "
            f"{m['n_heldout']} digits")
