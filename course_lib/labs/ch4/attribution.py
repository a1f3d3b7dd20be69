"""A13 Explainability: do distilled students attribute their decisions to the same pixels as their teacher?

The teacher is the course's 256-256 perceptron on the 8x8 digits (cached); the students are 64-32-10
perceptrons distilled from its logits at temperature T (soft targets only, alpha = 1), plus one trained on the
hard labels. Attribution maps come from Captum: ``Saliency`` (the absolute input gradient of the true class's
logit) and ``IntegratedGradients`` (from an all-zero baseline, the blank image). Agreement between a student's map
and the teacher's on the same image is the Spearman rank correlation of the absolute attributions over the 64
pixels, or the overlap of their top-k pixels; both are averaged over test images.

The live lab moves T over students trained in :func:`setup` and redraws a few maps side by side.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range, check_positive

TITLE = "Explainability: teacher and student attribution maps against T"
TRY = "Move T from 1 to 64 and compare the student's maps with the teacher's, pixel by pixel."

TEMPERATURES = (1, 2, 4, 8, 16, 64)
METHODS = ("saliency", "integrated_gradients")
HIDDEN = (32,)


def student(X, teacher_logits, *, T: float | None, y=None, seed: int = 0, epochs: int = 200,
            lr: float = 1e-2) -> nn.Module:
    """A 64-32-10 student: distilled at ``T`` (alpha = 1) or, with ``T=None``, trained on the labels ``y``.

    Trained once and kept on disk (``cache.cached_model``), keyed by a digest of the inputs and targets it learns
    from and every setting, so the notebook's curve and the dashboard share the students they have in common."""
    if T is None:
        if y is None:
            raise ValueError("a student trained without a teacher (T=None) needs the labels y")
        objective, targets = train.ce_objective(X, y), y
    else:
        T = check_positive("T", T)
        objective, targets = train.kd_objective(X, None, teacher_logits, T=T, alpha=1.0), teacher_logits
    config = dict(kind="attribution-student", data=cache.tensor_digest(X, targets), hidden=list(HIDDEN),
                  T=None if T is None else float(T), seed=int(seed), epochs=int(epochs), lr=float(lr),
                  weight_decay=1e-4)
    return cache.cached_model(
        config, lambda: models.mlp(X.shape[1], HIDDEN, 10, seed=seed),
        lambda m: train.fit(m, objective, len(X), epochs=epochs, lr=lr, weight_decay=1e-4, seed=seed),
        name="attribution-student").eval()


def attributions(model: nn.Module, X: torch.Tensor, target: torch.Tensor, method: str = "saliency", *,
                 n_steps: int = 16) -> torch.Tensor:
    """Absolute attribution of each input feature to ``target``'s logit (Captum), shape (N, features)."""
    from captum.attr import IntegratedGradients, Saliency

    check_choice("method", method, METHODS)
    check_int_range("n_steps", n_steps, 2, 1000)
    if target.shape != X.shape[:1]:
        raise ValueError(f"target must have one class per row of X ({len(X)}), got shape {tuple(target.shape)}")
    model.eval()
    Xg = X.clone().requires_grad_(True)
    if method == "saliency":
        a = Saliency(model).attribute(Xg, target=target, abs=True)
    else:
        a = IntegratedGradients(model).attribute(Xg, baselines=torch.zeros_like(X), target=target,
                                                 n_steps=n_steps, internal_batch_size=4096).abs()
    return a.detach()


def rank_agreement(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Spearman rank correlation between matching rows of ``a`` and ``b`` (one value per row)."""
    from scipy.stats import rankdata

    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"a and b must be 2-D with the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    ra = rankdata(a.numpy(), axis=1)
    rb = rankdata(b.numpy(), axis=1)
    ra = ra - ra.mean(1, keepdims=True)
    rb = rb - rb.mean(1, keepdims=True)
    den = np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1))
    return np.where(den > 0, (ra * rb).sum(1) / np.where(den > 0, den, 1), 0.0)


def topk_overlap(a: torch.Tensor, b: torch.Tensor, k: int = 8) -> np.ndarray:
    """Share of the ``k`` most-attributed features of each row of ``a`` that are also in ``b``'s top k."""
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"a and b must be 2-D with the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    k = check_int_range("k", k, 1, a.shape[1])
    ta = torch.topk(a, k, dim=1).indices
    tb = torch.topk(b, k, dim=1).indices
    hit = (ta[:, :, None] == tb[:, None, :]).any(2).float().mean(1)
    return hit.numpy()


def agreement_curve(split_seed: int = 0, seeds=(0, 1, 2), temperatures=TEMPERATURES, *, k: int = 8,
                    epochs: int = 200, progress: bool = False) -> dict:
    """Mean rank agreement and top-k overlap with the teacher's maps, per T and per student seed, on the test
    split, for both attribution methods; plus the same for students trained on the labels, and accuracies.

    Returns ``{"T": [...], "accuracy": (n_T, n_seeds), "accuracy_labels": (n_seeds,), "teacher_accuracy": float,
    <method>: {"rank": (n_T, n_seeds), "topk": ..., "rank_labels": (n_seeds,), "topk_labels": ...}}``.
    """
    ds = data.load("digits", split_seed=split_seed)
    t = cache.teacher("digits", seed=split_seed, split_seed=split_seed)
    logits = train.predict(t, ds.X_train)
    target = train.predict(t, ds.X_test).argmax(1)  # explain the class the teacher predicts
    ta = {m: attributions(t, ds.X_test, target, m) for m in METHODS}
    temps, n = list(temperatures), len(seeds)
    out = {"T": temps, "accuracy": np.zeros((len(temps), n)), "accuracy_labels": np.zeros(n),
           "teacher_accuracy": train.evaluate(t, ds.X_test, ds.y_test)}
    for m in METHODS:
        out[m] = {"rank": np.zeros((len(temps), n)), "topk": np.zeros((len(temps), n)),
                  "rank_labels": np.zeros(n), "topk_labels": np.zeros(n)}
    jobs = [(i, T) for i, T in enumerate(temps)] + [(None, None)]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="students (one T at a time)", leave=False)
    for i, T in jobs:
        for j, s in enumerate(seeds):
            st = student(ds.X_train, logits, T=T, y=ds.y_train, seed=s, epochs=epochs)
            acc = train.evaluate(st, ds.X_test, ds.y_test)
            if i is None:
                out["accuracy_labels"][j] = acc
            else:
                out["accuracy"][i, j] = acc
            for m in METHODS:
                sa = attributions(st, ds.X_test, target, m)
                r, o = rank_agreement(sa, ta[m]).mean(), topk_overlap(sa, ta[m], k).mean()
                if i is None:
                    out[m]["rank_labels"][j], out[m]["topk_labels"][j] = r, o
                else:
                    out[m]["rank"][i, j], out[m]["topk"][i, j] = r, o
    return out


# --------------------------------------------------------------------------- the live lab
N_SHOW = 4


@lru_cache(maxsize=2)
def setup(seed: int = 0):
    """The teacher of split ``seed``, one student per T (student seed ``seed``), and the teacher's maps."""
    ds = data.load("digits", split_seed=seed)
    t = cache.teacher("digits", seed=seed, split_seed=seed)
    logits = train.predict(t, ds.X_train)
    X = ds.X_test
    target = train.predict(t, X).argmax(1)
    students = {T: student(ds.X_train, logits, T=T, seed=seed) for T in TEMPERATURES}
    maps = {"teacher": {m: attributions(t, X, target, m) for m in METHODS}}
    for T, s in students.items():
        maps[T] = {m: attributions(s, X, target, m) for m in METHODS}
    return dict(seed=seed, X=X, target=target, maps=maps, agreement={})


def _strip(maps: np.ndarray, scale: bool) -> np.ndarray:
    """Maps side by side in one array, each scaled to its maximum, with a blank column between them."""
    cols = []
    for m in maps:
        cols += [m / (m.max() + 1e-12) if scale else m, np.full((8, 1), np.nan)]
    return np.concatenate(cols[:-1], axis=1)


def run(s, T: float = 4, method: str = "saliency") -> dict:
    """Agreement of the student distilled at ``T`` with the teacher, and a few maps to draw."""
    T = check_choice("T", T, TEMPERATURES)
    check_choice("method", method, METHODS)
    key = (T, method)
    if key not in s["agreement"]:  # computed once per (T, method), then reused
        sa, ta = s["maps"][T][method], s["maps"]["teacher"][method]
        s["agreement"][key] = (float(rank_agreement(sa, ta).mean()), float(topk_overlap(sa, ta).mean()))
    rank, topk = s["agreement"][key]
    n = N_SHOW
    return dict(T=T, method=method, rank=rank, topk=topk,
                images=_strip(s["X"][:n].reshape(-1, 8, 8).numpy(), False),
                teacher=_strip(s["maps"]["teacher"][method][:n].reshape(-1, 8, 8).numpy(), True),
                student=_strip(s["maps"][T][method][:n].reshape(-1, 8, 8).numpy(), True),
                target=s["target"][:n].numpy())


def render(result: dict, fig) -> None:
    fig.set_layout_engine("none")
    axes = fig.subplots(3, 1, gridspec_kw=dict(left=0.16, right=0.98, bottom=0.03, top=0.86, hspace=0.25))
    rows = [("digit", result["images"], "gray_r"), ("teacher", result["teacher"], "magma"),
            (f"student\nT={result['T']:g}", result["student"], "magma")]
    for ax, (name, arr, cmap) in zip(axes, rows):
        ax.imshow(arr, cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([3.5 + 9 * i for i in range(N_SHOW)], [f"class {c}" for c in result["target"]] if
                      name == "digit" else [])
        ax.xaxis.tick_top()
        ax.set_yticks([])
        ax.set_ylabel(name, fontsize=9)
    fig.suptitle(f"{result['method'].replace('_', ' ')} maps (brighter = more attribution, each map scaled to its "
                 f"maximum)", fontsize=9)


def summary(result: dict) -> str:
    return (f"T = {result['T']:g}: rank agreement with the teacher <b>{result['rank']:.3f}</b>, top-8 pixel overlap "
            f"<b>{result['topk']:.0%}</b> ({result['method'].replace('_', ' ')}, mean over the test digits)")


def dashboard(seed: int = 0, T: float = 4, method: str = "saliency", background: bool = True):
    import ipywidgets as W

    from ...ui import Dashboard

    s = setup(seed)
    controls = {"T": W.SelectionSlider(options=list(TEMPERATURES), value=T, description="temperature T",
                                       continuous_update=False),
                "method": W.ToggleButtons(options=list(METHODS), value=method, description="attribution")}
    return Dashboard(lambda T, method: run(s, T, method), controls, render=render, summary=summary,
                     figsize=(6.5, 4.2), title=TITLE, background=background)
