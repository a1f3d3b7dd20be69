"""D9: one temperature, three ways to use it (global-T KD, logit-standardised KD, TTM).

:func:`train_variants` trains one identical student per soft loss, together in one full-batch loop
(one optimizer over a ModuleDict; their parameters and losses are disjoint, so each learns exactly as
it would alone). :func:`run` is the slider position: test accuracy, output entropy and one example's
distributions for each variant at temperature T. The dashboard is notebook ch1_09's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ... import cache, data, losses, metrics, models, train
from ..._checks import check_choice, check_int_range, check_positive, check_range
from ...losses.variants import standardize_logits
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Global T, standardised T and TTM at the same temperature"
TRY = "T = 1 (TTM and KD coincide), then T = 8: watch the TTM student's entropy"
FIGSIZE = (11.0, 3.6)
VARIANTS = ("kd", "kd_adaptive", "ttm")


@dataclass(eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    X: torch.Tensor
    y: torch.Tensor
    teacher_logits: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    teacher_test_logits: torch.Tensor
    class_names: tuple = field(default_factory=tuple)


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, fraction: float = 0.3) -> Setup:
    """Split, teacher and a labelled ``fraction`` of the training split, all drawn with ``seed``."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    return Setup(int(seed), X, y, train.predict(teacher, X), ds.X_val, ds.y_val, ds.X_test, ds.y_test,
                 train.predict(teacher, ds.X_test), ds.class_names)


def train_variants(s: Setup, *, T: float, alpha: float = 0.9, hidden: int = 16, epochs: int = 60,
                   lr: float = 5e-2, seed: int = 0, variants=VARIANTS) -> dict:
    """Train one student per variant at temperature T; returns {variant: model}."""
    T = check_positive("T", T)
    for v in variants:
        check_choice("variant", v, VARIANTS)
    check_int_range("hidden", hidden, 1, 4096)
    students = nn.ModuleDict({v: models.mlp(s.X.shape[1], (hidden,), s.teacher_logits.shape[1], seed=seed)
                              for v in variants})

    def objective(model, idx):
        out, total = {}, 0.0
        for name, m in model.items():
            terms = losses.distill_step(m(s.X[idx]), s.teacher_logits[idx], s.y[idx], T=T, alpha=alpha, soft=name)
            total = total + terms["loss"]
            out[name] = terms["soft"].detach()
        out["loss"] = total
        return out

    train.fit(students, objective, len(s.X), epochs=epochs, lr=lr, seed=seed)
    return dict(students.items())


def test_logits(s: Setup, *, T: float, alpha: float = 0.9, hidden: int = 16, epochs: int = 60, lr: float = 5e-2,
                seed: int = 0) -> dict:
    """The three variants' students at temperature T, trained side by side; returns {variant: test logits}.

    The same students as :func:`train_variants` (same initialisation, full batch, Adam), stacked into batched
    matrices with the classes on axis 1 (``distill.landscape.stack_mlps``): a softmax over a short last axis is
    several times slower on CPU, and this is what a slider move pays for.
    """
    import torch.nn.functional as F

    from ...distill.landscape import stack_mlps, stacked_forward

    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    check_int_range("hidden", hidden, 1, 4096)
    check_int_range("epochs", epochs, 0, 10**7)
    lr = check_positive("lr", lr)
    n, n_classes = len(s.X), s.teacher_logits.shape[1]
    params = stack_mlps([models.mlp(s.X.shape[1], (hidden,), n_classes, seed=seed) for _ in VARIANTS])
    Xt, t = s.X.T.contiguous(), s.teacher_logits.T                     # (in, N), (C, N)

    def zscore(v):  # standardize_logits along the class axis (axis -2 here)
        return (v - v.mean(-2, keepdim=True)) / (v.std(-2, keepdim=True, unbiased=False) + 1e-7)

    log_q = F.log_softmax(t / T, 0)
    log_q_std = F.log_softmax(zscore(t) / T, 0)
    q, q_std = log_q.exp(), log_q_std.exp()
    ys = s.y.expand(len(VARIANTS), n)
    opt = train.FlatOptimizer.of(params, lambda ps: torch.optim.Adam(ps, lr=lr))  # same numbers, fewer kernels
    for _ in range(int(epochs)):
        opt.zero_grad(set_to_none=True)
        z = stacked_forward(params, Xt)                                # (3, C, N): kd, kd_adaptive, ttm
        soft = torch.stack([(q * (log_q - F.log_softmax(z[0] / T, 0))).sum() / n * T * T,
                            (q_std * (log_q_std - F.log_softmax(zscore(z[1]) / T, 0))).sum() / n * T * T,
                            (q * (log_q - F.log_softmax(z[2], 0))).sum() / n])
        hard = F.cross_entropy(z, ys, reduction="none").mean(1)
        (alpha * soft + (1 - alpha) * hard).sum().backward()
        opt.step()
    if isinstance(opt, train.FlatOptimizer):
        opt.close()
    with torch.no_grad():
        z = stacked_forward(params, s.X_test.T.contiguous()).transpose(1, 2)
    return {v: z[i] for i, v in enumerate(VARIANTS)}


def run(s: Setup, T: float = 4.0, *, alpha: float = 0.9, example: int = 3, seed: int | None = None,
        epochs: int = 60, lr: float = 5e-2) -> dict:
    """Train the three variants at T; per-variant test accuracy, mean output entropy (nats, at T = 1), and
    the teacher target and student distribution for test row ``example``."""
    check_int_range("example", example, 0, len(s.X_test) - 1)
    seed = s.seed if seed is None else int(seed)
    z_test = test_logits(s, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    x_t = s.teacher_test_logits[example:example + 1]
    targets = {"kd": torch.softmax(x_t / T, -1)[0], "kd_adaptive": torch.softmax(standardize_logits(x_t) / T, -1)[0],
               "ttm": torch.softmax(x_t / T, -1)[0]}
    acc, ent, probs, logits = {}, {}, {}, {}
    for name, z in z_test.items():
        p = torch.softmax(z, -1)
        acc[name] = metrics.accuracy(z, s.y_test)
        ent[name] = float(metrics.entropy(p).mean())
        probs[name] = p[example]
        logits[name] = z
    return {"T": float(T), "accuracy": acc, "entropy": ent, "targets": targets, "student_probs": probs,
            "logits": logits, "label": int(s.y_test[example]), "class_names": s.class_names}


def render(result: dict, fig) -> None:
    """Two panels: the teacher targets each loss uses for one test digit, and the students' test accuracy."""
    ax1, ax2 = fast_axes(fig, 2, left=0.06, wspace=0.22)
    k = np.arange(len(result["class_names"]))
    # KD and TTM hand the student the same target (the teacher at T); two lines draw faster than 30 bars
    ax1.plot(k, result["targets"]["kd"].numpy(), marker="o", label="target for kd and ttm (the same)")
    ax1.plot(k, result["targets"]["kd_adaptive"].numpy(), marker="s", label="target for kd_adaptive")
    ax1.set_ylim(0.0, 1.05)
    ax1.set_xticks(k, result["class_names"])
    ax1.legend(fontsize=10, loc="upper left")  # the true class (7 for the default example) peaks on the right
    plots.style(ax1, f"Teacher target at T = {result['T']:g} (true class {result['label']})", "class (digit)",
                "probability")
    accs = [result["accuracy"][n] for n in VARIANTS]
    plots.compare(ax2, list(VARIANTS), accs, title="Student test accuracy", ylabel="accuracy (fraction)",
                  ylim=(plots.steady_lower(accs, 0.05), 1.0))
    ax2.set_xlabel("soft loss")


def summary(result: dict) -> str:
    cells = " | ".join(f"{n}: acc {result['accuracy'][n]:.1%}, entropy {result['entropy'][n]:.2f} nats"
                       for n in VARIANTS)
    return f"T = {result['T']:g} &mdash; {cells}"


def dashboard(seed: int = 0, *, T: float = 4.0, example: int = 3, background: bool = True) -> Dashboard:
    s = setup(seed)
    # The live students train for 35 epochs at a higher learning rate than the notebook's sweep (60), to stay live.
    dash = Dashboard(lambda T: run(s, T, example=example, epochs=35, lr=8e-2),
                     {"T": slider(T, 0.5, 10.0, 0.5, description="temperature T")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
