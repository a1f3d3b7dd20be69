"""The combined compression pipeline (Deep Compression in miniature) and honest size accounting.

The stages are plain functions on an MLP (``nn.Sequential`` of named Linear
layers), each returning a new model and leaving its input untouched:

1. ``structured_prune``: drop the weakest hidden units (``prune.remove_units``);
2. ``distill``: fine-tune with the distillation loss from the teacher's logits;
3. ``factorize``: replace a large dense layer by two SVD factors (``lowrank``);
4. ``sparsify``: global magnitude pruning, fine-tuned with distillation;
5. ``quantize.share_weights``: k-means weight sharing (scikit-learn ``KMeans``):
   each weight becomes an index into a small per-layer codebook, zero kept exact;
6. Huffman coding of those indices (``encode.huffman_lengths``), which is lossless.

Sizes are counted in :mod:`course_lib.compress.encode` for the encoding that is
actually built, byte by byte: ``dense_bytes`` (float32), ``csr_bytes`` (CSR with
the narrowest unsigned index type that fits), ``shared_bytes`` (fixed-width codes
or Huffman codes, plus codebooks and code-length tables). Biases stay float32.
"""
from __future__ import annotations

import copy
import math

from torch import nn

from .. import models, train
from .._checks import check_choice, check_int_range, check_range
from . import lowrank, prune
from .encode import csr_bytes, dense_bytes, shared_bytes
from .quantize import share_weights


# --------------------------------------------------------------------------- the stages
def structured_prune(model: nn.Module, amount: float) -> nn.Sequential:
    """Remove the fraction ``amount`` of hidden units of every hidden layer (a smaller dense copy)."""
    check_range("amount", amount, 0.0, 1.0, hi_open=True)
    return prune.remove_units(model, amount)


def distill(model: nn.Module, X, y, teacher_logits, *, T: float = 4.0, alpha: float = 0.9, epochs: int = 100,
            lr: float = 3e-3, seed: int = 0) -> nn.Module:
    """A copy of ``model`` fine-tuned full-batch with the distillation loss from ``teacher_logits``."""
    check_int_range("epochs", epochs, 0, 10**6)
    out = copy.deepcopy(model)
    if epochs:
        train.train_distilled(out, X, y, teacher_logits, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    return out.eval()


def factorize(model: nn.Module, layer: str, rank: int) -> nn.Module:
    """A copy of ``model`` with the Linear ``layer`` replaced by its rank-``rank`` SVD factors."""
    return lowrank.factorize(model, {layer: rank})


def sparsify(model: nn.Module, sparsity: float, X, y, teacher_logits, *, T: float = 4.0, alpha: float = 0.9,
             steps: int = 60, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """A copy of ``model`` globally magnitude-pruned to ``sparsity``, then fine-tuned with distillation
    (the masks keep the zeros at zero)."""
    objective = train.kd_objective(X, y, teacher_logits, T=T, alpha=alpha)
    return prune.prune_finetune(model, sparsity, objective, len(X), scope="global", steps=steps, lr=lr,
                                seed=seed)["finetuned"].eval()


DEFAULTS = dict(units_removed=0.5, distill_epochs=150, layer="fc2", rank=16, factor_epochs=60, sparsity=0.7,
                sparse_steps=80, n_clusters=16, T=4.0, alpha=0.9, lr=3e-3)


def _trained_stages(teacher: nn.Module, X, y, t_logits, c: dict, kd: dict) -> tuple:
    """The models after stages 1-4 (the only stages that train)."""
    m1 = structured_prune(teacher, c["units_removed"])
    m2 = distill(m1, X, y, t_logits, epochs=c["distill_epochs"], lr=c["lr"], **kd)
    m3 = factorize(m2, c["layer"], c["rank"])
    m3 = distill(m3, X, y, t_logits, epochs=c["factor_epochs"], lr=c["lr"] / 3, **kd)
    m4 = sparsify(m3, c["sparsity"], X, y, t_logits, steps=c["sparse_steps"], lr=c["lr"] / 3, **kd)
    return m1, m2, m3, m4


def _cached_stages(teacher: nn.Module, X, y, t_logits, c: dict, kd: dict, seed: int) -> tuple:
    """:func:`_trained_stages`, with the trained models of stages 2-4 kept on disk (``cache.cached_model``).

    The key holds everything that changes them: the teacher's weights, the training data, the configuration
    and the seed.
    """
    from .. import cache

    m1 = structured_prune(teacher, c["units_removed"])
    key = dict(kind="pipeline stages 2-4", teacher=cache.tensor_digest(*teacher.state_dict().values()),
               data=cache.tensor_digest(X, y), config=c, seed=int(seed))

    def build():
        skeleton = factorize(m1, c["layer"], c["rank"])
        return nn.ModuleList([copy.deepcopy(m1), skeleton, copy.deepcopy(skeleton)])

    def fit(holder):
        for slot, m in zip(holder, _trained_stages(teacher, X, y, t_logits, c, kd)[1:]):
            slot.load_state_dict(m.state_dict())

    holder = cache.cached_model(key, build, fit, name="pipeline")
    return (m1, *(m.eval() for m in holder))


def run(teacher: nn.Module, ds, *, seed: int = 0, cached: bool = False, **config) -> list:
    """Run every stage on ``teacher`` with data set ``ds``; returns one dict per stage.

    Each dict holds ``stage``, ``model``, ``bytes``, ``encoding``, ``test_acc`` and
    ``params`` (non-zero weights and biases). Unknown config keys raise a ValueError.
    ``cached=True`` keeps the trained models of stages 2-4 on disk, so a second call
    with the same teacher, data, configuration and seed reads them back.
    """
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

    if cached:
        m1, m2, m3, m4 = _cached_stages(teacher, X, y, t_logits, c, kd, seed)
    else:
        m1, m2, m3, m4 = _trained_stages(teacher, X, y, t_logits, c, kd)
    rows = [row("teacher", teacher, dense_bytes(teacher), "dense float32")]
    rows.append(row(f"1. prune {c['units_removed']:.0%} of hidden units", m1, dense_bytes(m1), "dense float32"))
    rows.append(row("2. distill from the teacher", m2, dense_bytes(m2), "dense float32"))
    rows.append(row(f"3. SVD {c['layer']} at rank {c['rank']} (+ distill)", m3, dense_bytes(m3), "dense float32 factors"))
    rows.append(row(f"4. prune {c['sparsity']:.0%} of weights (+ distill)", m4, csr_bytes(m4),
                    "CSR: float32 values, uint8/uint16 indices"))
    q, codes = share_weights(m4, c["n_clusters"], seed=seed)
    bits = math.ceil(math.log2(c["n_clusters"]))
    rows.append(row(f"5. quantize: {c['n_clusters']} shared values per layer", q, shared_bytes(q, codes, encoding="fixed"),
                    f"{bits}-bit codes + codebooks"))
    rows.append(row("6. Huffman-code the indices", q, shared_bytes(q, codes, encoding="huffman"),
                    "Huffman codes + codebooks + length tables"))
    rows[-1]["codes"] = rows[-2]["codes"] = codes
    return rows
