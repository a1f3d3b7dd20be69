"""Every byte count of chapter 2 in one place: what an encoding really stores.

* ``dense_bytes``: a tensor, or a model's weight layers and biases, stored densely
  (each tensor at its own element size: 4 bytes for float32).
* ``sparse_bytes`` / ``model_bytes``: COO or CSR with the index width stated.
  ``index="int64"`` counts the tensors torch's ``to_sparse()`` / ``to_sparse_csr()``
  really build (8-byte indices); ``index="narrow"`` stores each index array in the
  narrowest unsigned type that holds it (uint8 column indices for a matrix up to
  256 columns wide), as a storage format written for the purpose would.
* ``csr_arrays`` builds that narrow CSR encoding (and ``csr_to_dense`` inverts it).
* ``shared_bytes``: k-means codebooks plus fixed-width or Huffman-coded indices
  (``huffman_lengths``, ``canonical_codes``, ``huffman_encode`` / ``huffman_decode``).
* ``packed_bytes``: every weight at ``bits`` bits plus float32 scales;
  ``ternary_bytes``: 2 bits per ternary weight; ``serialized_bytes``: ``torch.save``.
Biases always stay float32.
"""
from __future__ import annotations

import heapq
import io
import math
import warnings
from collections import Counter

import numpy as np
import torch
from torch import nn

from .._checks import check_choice, check_int_range
from .layers import PRUNABLE, linear_layers

LAYOUTS = ("coo", "csr")
INDEX = ("int64", "narrow")
ENCODINGS = ("fixed", "huffman")
SCHEMES = ("per_tensor", "per_channel")
ALLOWED_BITS = (2, 3, 4, 5, 6, 7, 8)


# --------------------------------------------------------------------------- dense
def dense_bytes(x) -> int:
    """Bytes of ``x`` stored densely: a tensor (``numel * element_size``), or a model's
    Linear/Conv weights and biases, each at its own element size (4 bytes in float32)."""
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, nn.Module):
        n = 0
        for _, m in linear_layers(x, kinds=PRUNABLE):
            n += dense_bytes(m.weight.detach())
            if m.bias is not None:
                n += dense_bytes(m.bias.detach())
        return n
    raise ValueError(f"x must be a torch Tensor or an nn.Module, got {type(x).__name__}")


def bias_bytes(model: nn.Module) -> int:
    """Bytes of the biases of the weight layers (dense)."""
    return sum(dense_bytes(m.bias.detach()) for _, m in linear_layers(model, kinds=PRUNABLE) if m.bias is not None)


# --------------------------------------------------------------------------- sparse
def index_dtype(max_value: int):
    """The narrowest unsigned numpy integer type that holds 0..``max_value``."""
    check_int_range("max_value", max_value, 0, 2**64 - 1)
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if max_value <= np.iinfo(dt).max:
            return dt


def _matrix(t: torch.Tensor) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"t must be a torch Tensor, got {type(t).__name__}")
    if t.dim() != 2:
        raise ValueError(f"t must be a 2-D tensor (a weight matrix), got shape {tuple(t.shape)}")
    return t.detach().cpu()


def csr_arrays(w: torch.Tensor) -> dict:
    """A CSR encoding of the 2-D ``w`` as numpy arrays: float32 ``values``, column
    indices and row pointers in the narrowest unsigned type that fits."""
    a = _matrix(w).numpy()
    rows, cols = np.nonzero(a)
    values = a[rows, cols].astype(np.float32)
    col_idx = cols.astype(index_dtype(max(a.shape[1] - 1, 0)))
    counts = np.bincount(rows, minlength=a.shape[0])
    row_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(index_dtype(len(values)))
    return {"values": values, "col_idx": col_idx, "row_ptr": row_ptr}


def csr_to_dense(arrays: dict, shape) -> torch.Tensor:
    """Rebuild the dense matrix from :func:`csr_arrays` (to check the encoding is lossless)."""
    out = np.zeros(shape, dtype=np.float32)
    ptr = arrays["row_ptr"].astype(np.int64)
    for r in range(shape[0]):
        out[r, arrays["col_idx"][ptr[r]:ptr[r + 1]].astype(np.int64)] = arrays["values"][ptr[r]:ptr[r + 1]]
    return torch.from_numpy(out)


def sparse_bytes(t: torch.Tensor, layout: str = "csr", *, index: str = "int64") -> dict:
    """Bytes of a sparse encoding of the 2-D ``t``: ``{"values", "indices", "total", "nnz", "index_bytes"}``.

    ``layout="coo"`` stores per non-zero a value and a (row, column) pair;
    ``"csr"`` a value and a column per non-zero, plus one row pointer per row (+1).
    ``index="int64"`` measures the tensors torch builds (``to_sparse`` /
    ``to_sparse_csr``, 8-byte indices); ``"narrow"`` gives each index array the
    narrowest unsigned type that fits (``index_bytes`` is then the column-index width).
    """
    check_choice("layout", layout, LAYOUTS)
    check_choice("index", index, INDEX)
    t = _matrix(t)
    if index == "int64":
        if layout == "coo":
            s = t.to_sparse().coalesce()
            values, idx = s.values(), [s.indices()]
        else:
            with warnings.catch_warnings():  # "CSR support is in beta"
                warnings.simplefilter("ignore", UserWarning)
                s = t.to_sparse_csr()
            values, idx = s.values(), [s.crow_indices(), s.col_indices()]
        v, i, width = dense_bytes(values), sum(dense_bytes(x) for x in idx), idx[-1].element_size()
        return {"values": v, "indices": i, "total": v + i, "nnz": int(values.numel()), "index_bytes": width}
    arrays = csr_arrays(t)
    v = arrays["values"].nbytes
    if layout == "csr":
        i = arrays["col_idx"].nbytes + arrays["row_ptr"].nbytes
    else:
        rows = np.zeros(len(arrays["values"]), dtype=index_dtype(max(t.shape[0] - 1, 0)))
        i = arrays["col_idx"].nbytes + rows.nbytes
    return {"values": v, "indices": i, "total": v + i, "nnz": len(arrays["values"]),
            "index_bytes": arrays["col_idx"].itemsize}


def model_bytes(model: nn.Module, layout: str | None = None, *, index: str = "int64") -> int:
    """Bytes of every weight matrix and bias: dense (``layout=None``) or the weights in a sparse layout."""
    if layout is None:
        return dense_bytes(model)
    n = 0
    for _, m in linear_layers(model, kinds=PRUNABLE):
        w = m.weight.detach()
        n += sparse_bytes(w.reshape(w.shape[0], -1), layout, index=index)["total"]
    return n + bias_bytes(model)


def csr_bytes(model: nn.Module) -> int:
    """Bytes of all weights in narrow-index CSR (:func:`csr_arrays`) plus dense biases."""
    return model_bytes(model, "csr", index="narrow")


# --------------------------------------------------------------------------- Huffman
def huffman_lengths(counts: dict) -> dict:
    """Code length in bits of each symbol of an optimal prefix code for ``counts`` ({symbol: count}).

    Built with a heap: the two rarest subtrees are merged until one is left; a
    symbol's length is the number of merges above it. One symbol gets 1 bit.
    """
    counts = {s: int(c) for s, c in counts.items() if int(c) > 0}
    if not counts:
        raise ValueError("counts must hold at least one symbol with a positive count, got none")
    if len(counts) == 1:
        return {next(iter(counts)): 1}
    heap = [(c, i, [s]) for i, (s, c) in enumerate(sorted(counts.items(), key=lambda kv: str(kv[0])))]
    heapq.heapify(heap)
    lengths = dict.fromkeys(counts, 0)
    tie = len(heap)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
        tie += 1
    return lengths


def canonical_codes(lengths: dict) -> dict:
    """Canonical prefix codes ({symbol: bit string}) from code lengths; the lengths alone rebuild them."""
    code, prev, out = 0, 0, {}
    for s, n in sorted(lengths.items(), key=lambda kv: (kv[1], kv[0])):
        code <<= (n - prev)
        out[s] = format(code, f"0{n}b")
        code, prev = code + 1, n
    return out


def huffman_encode(symbols) -> tuple:
    """``(bit string, codes)``: a tiny Huffman encoder (strings of '0'/'1', for teaching and tests)."""
    symbols = [int(s) for s in np.asarray(symbols).ravel()]
    codes = canonical_codes(huffman_lengths(Counter(symbols)))
    return "".join(codes[s] for s in symbols), codes


def huffman_decode(bits: str, codes: dict) -> list:
    """Invert :func:`huffman_encode`."""
    inverse, out, cur = {v: k for k, v in codes.items()}, [], ""
    for b in bits:
        cur += b
        if cur in inverse:
            out.append(inverse[cur])
            cur = ""
    if cur:
        raise ValueError(f"bits must end on a complete code word, {len(cur)} bits left over")
    return out


def huffman_bits(symbols) -> int:
    """Total bits of the Huffman-coded ``symbols`` (sum of count x code length)."""
    counts = Counter(int(s) for s in np.asarray(symbols).ravel())
    lengths = huffman_lengths(counts)
    return sum(c * lengths[s] for s, c in counts.items())


def entropy_bits(symbols) -> float:
    """Shannon lower bound: total bits = n x entropy of the symbol frequencies."""
    _, counts = np.unique(np.asarray(symbols).ravel(), return_counts=True)
    p = counts / counts.sum()
    return float(counts.sum() * -(p * np.log2(p)).sum())


# --------------------------------------------------------------------------- weight sharing
def shared_bytes(model: nn.Module, codes: dict, *, encoding: str = "huffman") -> int:
    """Bytes of a weight-shared model: per layer the codes (fixed width ceil(log2 k) bits,
    or Huffman), its float32 codebook and, for Huffman, one byte per symbol for the
    code-length table; plus the float32 biases. Each layer's bit stream is padded to whole
    bytes. Every weight is coded, zeros included (not Deep Compression's relative sparse indices)."""
    check_choice("encoding", encoding, ENCODINGS)
    n = 0
    for _, (c, book) in codes.items():
        k = len(book)
        if encoding == "fixed":
            bits = c.size * max(1, math.ceil(math.log2(max(k, 2))))
            n += (bits + 7) // 8 + 4 * k
        else:
            n += (huffman_bits(c) + 7) // 8 + 4 * k + k
    return n + bias_bytes(model)


# --------------------------------------------------------------------------- low-bit and serialized
def packed_bytes(model: nn.Module, bits: int, *, scheme: str = "per_tensor") -> int:
    """Storage if every Linear weight used ``bits`` bits packed tightly (plus one float32 scale per
    tensor or per row); biases stay float32."""
    check_choice("bits", bits, ALLOWED_BITS)
    check_choice("scheme", scheme, SCHEMES)
    n = 0
    for _, m in linear_layers(model):
        k = m.in_features * m.out_features
        n += (bits * k + 7) // 8 + 4 * (m.out_features if scheme == "per_channel" else 1)
        n += 4 * (m.bias.numel() if m.bias is not None else 0)
    return n


def ternary_bytes(model: nn.Module) -> int:
    """Storage of a ternary model: 2 bits per ternary weight plus one float32 scale per layer;
    every other parameter (biases, float layers) in float32."""
    from torch.nn.utils import parametrize

    from .quantize import Ternary

    n = sum(4 * p.numel() for p in model.parameters())
    for m in model.modules():
        if parametrize.is_parametrized(m, "weight") and any(
                isinstance(p, Ternary) for p in m.parametrizations["weight"]):
            k = m.parametrizations["weight"].original.numel()
            n += -4 * k + (2 * k + 7) // 8 + 4
    return n


def serialized_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: the size on disk, whatever the tensor types."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes
