"""The combined compression pipeline (Deep Compression in miniature) and honest size accounting.

The stages are plain functions on an MLP (``nn.Sequential`` of named Linear
layers), each returning a new model and leaving its input untouched:

1. ``structured_prune``: drop the weakest hidden units (``prune.remove_units``);
2. ``distill``: fine-tune with the distillation loss from the teacher's logits;
3. ``factorize``: replace a large dense layer by two SVD factors (``lowrank``);
4. ``sparsify``: global magnitude pruning, fine-tuned with distillation;
5. ``share_weights``: k-means weight sharing (scikit-learn ``KMeans``): each
   weight becomes an index into a small per-layer codebook, zero kept exact;
6. Huffman coding of those indices (``huffman_lengths``, a heapq construction).

Sizes are counted for the encoding that is actually built, byte by byte:
``dense_bytes`` (float32), ``csr_bytes`` (CSR with the narrowest unsigned index
type that fits), ``shared_bytes`` (fixed-width codes or Huffman codes, plus
codebooks and code-length tables). Biases always stay float32.
"""
from __future__ import annotations

import copy
import heapq
import math
from collections import Counter

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_int_range, check_range

ENCODINGS = ("fixed", "huffman")


# --------------------------------------------------------------------------- accounting
def linear_layers(model: nn.Module) -> list:
    """``[(name, nn.Linear)]`` in definition order (factor layers of an SVD included)."""
    out = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not out:
        raise ValueError(f"model must contain at least one nn.Linear layer, got {type(model).__name__} with none")
    return out


def _bias_bytes(model) -> int:
    return sum(4 * m.bias.numel() for _, m in linear_layers(model) if m.bias is not None)


def dense_bytes(model: nn.Module) -> int:
    """Bytes of every Linear weight and bias stored densely in float32."""
    return sum(4 * m.weight.numel() for _, m in linear_layers(model)) + _bias_bytes(model)


def index_dtype(max_value: int):
    """The narrowest unsigned numpy integer type that holds 0..``max_value``."""
    check_int_range("max_value", max_value, 0, 2**64 - 1)
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if max_value <= np.iinfo(dt).max:
            return dt


def csr_arrays(w: torch.Tensor) -> dict:
    """A CSR encoding of the 2-D ``w`` as numpy arrays: float32 ``values``, column
    indices and row pointers in the narrowest unsigned type that fits."""
    if w.dim() != 2:
        raise ValueError(f"w must be a 2-D weight matrix, got shape {tuple(w.shape)}")
    a = w.detach().cpu().numpy()
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


def csr_bytes(model: nn.Module) -> int:
    """Bytes of all Linear weights in compact CSR (:func:`csr_arrays`) plus float32 biases."""
    n = 0
    for _, m in linear_layers(model):
        n += sum(a.nbytes for a in csr_arrays(m.weight).values())
    return n + _bias_bytes(model)


def sparsest_bytes(model: nn.Module) -> dict:
    """The smaller of dense float32 and compact CSR: ``{"bytes", "encoding"}``."""
    d, s = dense_bytes(model), csr_bytes(model)
    return {"bytes": s, "encoding": "CSR (float32 values, narrow indices)"} if s < d else \
        {"bytes": d, "encoding": "dense float32"}


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


def shared_bytes(model: nn.Module, codes: dict, *, encoding: str = "huffman") -> int:
    """Bytes of a weight-shared model: per layer the codes (fixed width ceil(log2 k) bits,
    or Huffman), its float32 codebook and, for Huffman, one byte per symbol for the
    code-length table; plus the float32 biases. Each layer's bit stream is padded to whole bytes."""
    check_choice("encoding", encoding, ENCODINGS)
    n = 0
    for name, (c, book) in codes.items():
        k = len(book)
        if encoding == "fixed":
            bits = c.size * max(1, math.ceil(math.log2(max(k, 2))))
            n += (bits + 7) // 8 + 4 * k
        else:
            n += (huffman_bits(c) + 7) // 8 + 4 * k + k
    return n + _bias_bytes(model)


# --------------------------------------------------------------------------- the stages
def structured_prune(model: nn.Module, amount: float) -> nn.Sequential:
    """Remove the fraction ``amount`` of hidden units of every hidden layer (a smaller dense copy)."""
    from . import prune

    check_range("amount", amount, 0.0, 1.0, hi_open=True)
    return prune.remove_units(model, amount)


def distill(model: nn.Module, X, y, teacher_logits, *, T: float = 4.0, alpha: float = 0.9, epochs: int = 100,
            lr: float = 3e-3, seed: int = 0) -> nn.Module:
    """A copy of ``model`` fine-tuned full-batch with the distillation loss from ``teacher_logits``."""
    from . import train

    check_int_range("epochs", epochs, 0, 10**6)
    out = copy.deepcopy(model)
    if epochs:
        train.train_distilled(out, X, y, teacher_logits, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    return out.eval()


def factorize(model: nn.Module, layer: str, rank: int) -> nn.Module:
    """A copy of ``model`` with the Linear ``layer`` replaced by its rank-``rank`` SVD factors."""
    from . import lowrank

    return lowrank.factorize(model, {layer: rank})


def sparsify(model: nn.Module, sparsity: float, X, y, teacher_logits, *, T: float = 4.0, alpha: float = 0.9,
             steps: int = 60, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """A copy of ``model`` globally magnitude-pruned to ``sparsity``, then fine-tuned with distillation
    (the masks keep the zeros at zero)."""
    from . import prune, train

    objective = train.kd_objective(X, y, teacher_logits, T=T, alpha=alpha)
    return prune.prune_finetune(model, sparsity, objective, len(X), scope="global", steps=steps, lr=lr,
                                seed=seed)["finetuned"].eval()


DEFAULTS = dict(units_removed=0.5, distill_epochs=150, layer="fc2", rank=16, factor_epochs=60, sparsity=0.7,
                sparse_steps=80, n_clusters=16, T=4.0, alpha=0.9, lr=3e-3)


def run(teacher: nn.Module, ds, *, seed: int = 0, **config) -> list:
    """Run every stage on ``teacher`` with data set ``ds``; returns one dict per stage.

    Each dict holds ``stage``, ``model``, ``bytes``, ``encoding``, ``test_acc`` and
    ``params`` (non-zero weights and biases). Unknown config keys raise a ValueError.
    """
    from . import models, train

    for k in config:
        check_choice("config key", k, sorted(DEFAULTS))
    c = {**DEFAULTS, **config}
    check_range("sparsity", c["sparsity"], 0.0, 1.0, hi_open=True)
    X, y = ds.X_train, ds.y_train
    t_logits = train.predict(teacher, X)
    kd = dict(T=c["T"], alpha=c["alpha"], seed=seed)

    def row(stage, model, size, encoding):
        return dict(stage=stage, model=model, bytes=int(size), encoding=encoding,
                    test_acc=train.evaluate(model, ds.X_test, ds.y_test),
                    params=models.count_params(model, nonzero=True))

    rows = [row("teacher", teacher, dense_bytes(teacher), "dense float32")]
    m = structured_prune(teacher, c["units_removed"])
    rows.append(row(f"1. prune {c['units_removed']:.0%} of hidden units", m, dense_bytes(m), "dense float32"))
    m = distill(m, X, y, t_logits, epochs=c["distill_epochs"], lr=c["lr"], **kd)
    rows.append(row("2. distill from the teacher", m, dense_bytes(m), "dense float32"))
    m = factorize(m, c["layer"], c["rank"])
    m = distill(m, X, y, t_logits, epochs=c["factor_epochs"], lr=c["lr"] / 3, **kd)
    rows.append(row(f"3. SVD {c['layer']} at rank {c['rank']} (+ distill)", m, dense_bytes(m), "dense float32 factors"))
    m = sparsify(m, c["sparsity"], X, y, t_logits, steps=c["sparse_steps"], lr=c["lr"] / 3, **kd)
    rows.append(row(f"4. prune {c['sparsity']:.0%} of weights (+ distill)", m, csr_bytes(m),
                    "CSR: float32 values, uint8/uint16 indices"))
    q, codes = share_weights(m, c["n_clusters"], seed=seed)
    bits = math.ceil(math.log2(c["n_clusters"]))
    rows.append(row(f"5. quantize: {c['n_clusters']} shared values per layer", q, shared_bytes(q, codes, encoding="fixed"),
                    f"{bits}-bit codes + codebooks"))
    rows.append(row("6. Huffman-code the indices", q, shared_bytes(q, codes, encoding="huffman"),
                    "Huffman codes + codebooks + length tables"))
    rows[-1]["codes"] = rows[-2]["codes"] = codes
    return rows
