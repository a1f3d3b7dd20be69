"""Low-rank factorization of dense layers with ``torch.linalg.svd``.

A Linear layer ``y = W x + b`` with ``W`` of shape (m, n) becomes two layers,
``x -> V_r x`` (r x n, no bias) then ``-> U_r S_r (.) + b`` (m x r), where
``U_r, S_r, V_r`` keep the ``r`` largest singular values. That is the best
rank-r approximation of ``W`` in the Frobenius norm (Eckart-Young); the
fraction of ``sum(S^2)`` kept, the "energy", tells how much of ``W`` survives.
Parameters drop from ``mn`` to ``r(m + n)`` and multiply-adds per example
likewise, a saving whenever ``r < mn / (m + n)``.
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from ._checks import check_choice, check_int_range, check_range


def spectrum(weight: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D weight, largest first."""
    if weight.dim() != 2:
        raise ValueError(f"weight must be a 2-D matrix, got shape {tuple(weight.shape)}")
    return torch.linalg.svdvals(weight.detach())


def energy_kept(singular_values: torch.Tensor, rank: int) -> float:
    """Fraction of the squared Frobenius norm that the ``rank`` largest singular values keep."""
    s = torch.as_tensor(singular_values)
    rank = check_int_range("rank", rank, 1, len(s))
    e = s.pow(2)
    return float(e[:rank].sum() / e.sum())


def rank_for_energy(singular_values: torch.Tensor, energy: float) -> int:
    """Smallest rank whose energy kept is at least ``energy`` (in (0, 1])."""
    check_range("energy", energy, 0.0, 1.0, lo_open=True)
    e = torch.as_tensor(singular_values).pow(2)
    cum = torch.cumsum(e, 0) / e.sum()
    return int(torch.searchsorted(cum, torch.tensor(energy, dtype=cum.dtype) - 1e-12)) + 1


def check_rank(rank: int, m: int, n: int) -> int:
    """``rank`` must be a whole number in 1..min(m, n)."""
    return check_int_range("rank", rank, 1, min(int(m), int(n)))


def dense_params(m: int, n: int, *, bias: bool = True) -> int:
    return m * n + (m if bias else 0)


def lowrank_params(m: int, n: int, rank: int, *, bias: bool = True) -> int:
    """Parameters of the factorized layer: r(m + n) (plus the m biases)."""
    rank = check_rank(rank, m, n)
    return rank * (m + n) + (m if bias else 0)


def dense_flops(m: int, n: int) -> int:
    """FLOPs of ``W x`` for one example (a multiply-add counts 2): 2mn."""
    return 2 * m * n


def lowrank_flops(m: int, n: int, rank: int) -> int:
    """FLOPs of ``U (V x)`` for one example: 2r(m + n)."""
    rank = check_rank(rank, m, n)
    return 2 * rank * (m + n)


def break_even_rank(m: int, n: int) -> float:
    """The rank below which factorizing saves parameters and FLOPs: mn / (m + n)."""
    return m * n / (m + n)


def factorize_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """Replace ``layer`` by ``Sequential(reduce=Linear(n, r, bias=False), expand=Linear(r, m))``.

    The singular values are split evenly (sqrt(S) into each factor), so both
    factors have similar scales for fine-tuning. The product equals the best
    rank-``rank`` approximation of the weight.
    """
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"layer must be an nn.Linear, got {type(layer).__name__}")
    m, n = layer.out_features, layer.in_features
    rank = check_rank(rank, m, n)
    with torch.no_grad():
        U, S, Vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
        root = S[:rank].sqrt()
        reduce = nn.Linear(n, rank, bias=False)
        expand = nn.Linear(rank, m, bias=layer.bias is not None)
        reduce.weight.copy_(root[:, None] * Vh[:rank])
        expand.weight.copy_(U[:, :rank] * root[None, :])
        if layer.bias is not None:
            expand.bias.copy_(layer.bias)
    return nn.Sequential(OrderedDict(reduce=reduce, expand=expand))


def factorize(model: nn.Module, ranks: dict) -> nn.Module:
    """A copy of ``model`` with each named Linear layer in ``ranks`` ({name: rank}) factorized."""
    model = copy.deepcopy(model)
    linears = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    for name, rank in ranks.items():
        check_choice("layer name", name, sorted(linears))
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, factorize_linear(linears[name], rank))
    return model


def layer_report(layer: nn.Linear, rank: int) -> dict:
    """Everything the rank slider shows for one layer: spectrum, energy, parameters and FLOPs."""
    m, n = layer.out_features, layer.in_features
    rank = check_rank(rank, m, n)
    s = spectrum(layer.weight)
    return dict(m=m, n=n, rank=rank, singular_values=s, energy=energy_kept(s, rank),
                params_dense=m * n, params_lowrank=rank * (m + n),
                flops_dense=dense_flops(m, n), flops_lowrank=lowrank_flops(m, n, rank),
                break_even=break_even_rank(m, n))


# --------------------------------------------------------------------------- the rank slider
class RankLab:
    """What the rank slider computes, as a plain callable.

    ``lab(rank, epochs)`` factorizes ``layer`` of the trained ``model`` (an
    ``nn.Sequential``) at ``rank``, measures test accuracy, then fine-tunes the
    factors and the layers after them for ``epochs`` passes of mini-batches,
    distilling from the original model (the teacher) at temperature ``T``, and
    measures again. The layers before ``layer`` stay frozen, so their outputs are
    computed once and cached; that keeps each slider move well under a second.
    """

    def __init__(self, model: nn.Sequential, X_train, y_train, X_test, y_test, *, layer: str = "fc2",
                 T: float = 4.0, alpha: float = 0.9, lr: float = 3e-3, batch_size: int = 256):
        from . import train

        if not isinstance(model, nn.Sequential):
            raise ValueError(f"model must be an nn.Sequential, got {type(model).__name__}")
        names = [n for n, _ in model.named_children()]
        check_choice("layer", layer, [n for n, m in model.named_children() if isinstance(m, nn.Linear)])
        i = names.index(layer)
        self.model, self.layer_name, self.layer = model.eval(), layer, getattr(model, layer)
        self.prefix = nn.Sequential(OrderedDict(list(model.named_children())[:i]))
        self.suffix = list(model.named_children())[i + 1:]
        with torch.no_grad():
            self.H_train, self.H_test = self.prefix(X_train), self.prefix(X_test)
        self.y_train, self.y_test = y_train, y_test
        self.teacher_logits = train.predict(model, X_train)
        self.acc_teacher = train.evaluate(model, X_test, y_test)
        self.T, self.alpha, self.lr, self.batch_size = T, alpha, lr, batch_size
        self.s = spectrum(self.layer.weight)

    def student(self, rank: int) -> nn.Sequential:
        """The layers from ``layer`` on, with ``layer`` factorized at ``rank`` (fresh copies)."""
        return nn.Sequential(OrderedDict([(self.layer_name, factorize_linear(self.layer, rank))]
                                         + [(n, copy.deepcopy(m)) for n, m in self.suffix]))

    def __call__(self, rank: int = 16, epochs: int = 2, seed: int = 0) -> dict:
        from . import train

        m, n = self.layer.out_features, self.layer.in_features
        rank = check_rank(rank, m, n)
        epochs = check_int_range("epochs", epochs, 0, 1000)
        head = self.student(rank)
        acc_before = train.evaluate(head, self.H_test, self.y_test)
        acc_after = acc_before
        if epochs:
            objective = train.kd_objective(self.H_train, self.y_train, self.teacher_logits, T=self.T, alpha=self.alpha)
            train.fit(head, objective, len(self.H_train), epochs=epochs, lr=self.lr, batch_size=self.batch_size,
                      seed=seed)
            acc_after = train.evaluate(head, self.H_test, self.y_test)
        report = layer_report(self.layer, rank)
        report.update(singular_values=self.s, epochs=epochs, acc_teacher=self.acc_teacher, acc_before=acc_before,
                      acc_after=acc_after, layer=self.layer_name)
        return report


def render_rank(result: dict, fig) -> None:
    """Left: singular value spectrum with the kept part shaded; right: energy kept against rank."""
    from matplotlib.ticker import NullLocator

    from .ui.plots import style

    from .ui.plots import fast_axes

    ax1, ax2 = fast_axes(fig)
    s = result["singular_values"].numpy()
    r = result["rank"]
    idx = range(1, len(s) + 1)
    ax1.semilogy(idx, s, color="gray", lw=1)
    ax1.fill_between(list(idx)[:r], s[:r], s.min(), color="tab:blue", alpha=0.4, label=f"kept: r = {r}")
    ax1.axvline(result["break_even"], color="tab:red", ls=":", label=f"break-even r = {result['break_even']:.0f}")
    ax1.yaxis.set_minor_locator(NullLocator())  # log-axis minor tick labels cost most of a redraw
    ax1.legend(fontsize=8)
    style(ax1, f"{result['layer']} ({result['m']}x{result['n']}): singular values", "index i", "singular value s_i")
    energy = (s ** 2).cumsum() / (s ** 2).sum()
    ax2.plot(idx, 100 * energy, color="tab:blue")
    ax2.plot([r], [100 * result["energy"]], marker="o", color="tab:orange", ls="none",
             label=f"{result['energy']:.1%} kept")
    ax2.set_ylim(0, 101)
    ax2.legend(fontsize=8, loc="lower right")
    style(ax2, "energy kept (sum of s_i^2 up to r)", "rank r", "energy kept (%)")


def summarize_rank(result: dict) -> str:
    r = result
    return (f"<b>rank {r['rank']}</b> of {min(r['m'], r['n'])}: energy kept {r['energy']:.1%}; "
            f"{r['layer']} parameters r(m+n) = {r['params_lowrank']:,} vs mn = {r['params_dense']:,} "
            f"({r['params_lowrank'] / r['params_dense']:.0%}), FLOPs {r['flops_lowrank']:,} vs {r['flops_dense']:,}. "
            f"Test accuracy: teacher {r['acc_teacher']:.1%}, factorized {r['acc_before']:.1%}, "
            f"after {r['epochs']} distilled epochs {r['acc_after']:.1%}.")


def rank_dashboard(lab: RankLab, *, rank: int = 16, epochs: int = 2, background: bool = True):
    """A live :class:`course_lib.widgets.Dashboard` over ``lab``: rank and fine-tuning epochs.

    The rank slider stops at the break-even rank mn / (m + n): above it the two
    factors hold more parameters than the dense layer, so nothing is gained.
    """
    from .ui.widgets import Dashboard, slider

    top = max(1, int(break_even_rank(lab.layer.out_features, lab.layer.in_features)))
    controls = dict(rank=slider(min(rank, top), 1, top, 1, integer=True, description="rank r"),
                    epochs=slider(epochs, 0, 3, 1, integer=True, description="fine-tune epochs"))
    return Dashboard(lab, controls, render=render_rank, summary=summarize_rank, figsize=(10, 3.4),
                     title="Rank: SVD factorization, then a short distilled fine-tune", background=background)


def default_lab(dataset: str = "digits", **kw) -> RankLab:
    """A :class:`RankLab` on the cached MLP teacher's 256x256 layer ``fc2`` (notebook and benchmark)."""
    from . import cache, data, train

    ds = data.load(dataset)
    return RankLab(cache.teacher(dataset), ds.X_train, ds.y_train, ds.X_test, ds.y_test, **kw)
