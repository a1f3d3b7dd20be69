"""One temperature, three ways to use it: the function behind the D9 temperature slider.

:func:`compare_temperature_variants` trains three identical students on the
same labelled subset and teacher, at the same T: global-temperature KD
(``"kd"``), logit-standardised KD (``"kd_adaptive"``) and transformed teacher
matching (``"ttm"``). The three train together in one full-batch loop (one
optimizer over a ModuleDict; their parameters and losses are disjoint, so each
learns exactly as it would alone) and the function returns their test
accuracies, output entropies and one example's distributions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch
from torch import nn

from . import cache, data, losses, models, train
from ._checks import check_choice, check_int_range, check_positive, check_range

VARIANTS = ("kd", "kd_adaptive", "ttm")


@dataclass
class Setup:
    X: torch.Tensor
    y: torch.Tensor
    teacher_logits: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    teacher_test_logits: torch.Tensor
    class_names: tuple = field(default_factory=tuple)


@lru_cache(maxsize=8)
def setup(fraction: float = 0.3, seed: int = 0) -> Setup:
    """The cached digits teacher, a labelled subset of ``fraction`` of the training set, and test logits."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds = data.load("digits")
    teacher = cache.teacher("digits")
    X, y = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    return Setup(X, y, train.predict(teacher, X), ds.X_test, ds.y_test, train.predict(teacher, ds.X_test),
                 ds.class_names)


def train_variants(s: Setup, *, T: float, alpha: float = 0.9, hidden: int = 16, epochs: int = 100,
                   lr: float = 3e-2, seed: int = 0, variants=VARIANTS) -> dict:
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


def compare_temperature_variants(T: float = 4.0, *, alpha: float = 0.9, example: int = 0, seed: int = 0,
                                 epochs: int = 60, lr: float = 5e-2, fraction: float = 0.3) -> dict:
    """Slider function: train the three variants at T and report what each student learned.

    Returns ``T``, per-variant ``accuracy`` and mean output ``entropy`` (nats,
    at T = 1 on the test set), the teacher's softened distribution for test
    row ``example`` as each loss sees it, and each student's distribution for it.
    """
    s = setup(fraction, seed)
    check_int_range("example", example, 0, len(s.X_test) - 1)
    students = train_variants(s, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    x_t = s.teacher_test_logits[example:example + 1]
    from .losses.variants import standardize_logits

    targets = {"kd": torch.softmax(x_t / T, -1)[0], "kd_adaptive": torch.softmax(standardize_logits(x_t) / T, -1)[0],
               "ttm": torch.softmax(x_t / T, -1)[0]}
    acc, ent, probs = {}, {}, {}
    for name, m in students.items():
        z = train.predict(m, s.X_test)
        p = torch.softmax(z, -1)
        acc[name] = float((z.argmax(-1) == s.y_test).float().mean())
        ent[name] = float(-(p * torch.log(p.clamp_min(1e-30))).sum(-1).mean())
        probs[name] = p[example]
    return {"T": float(T), "accuracy": acc, "entropy": ent, "targets": targets, "student_probs": probs,
            "label": int(s.y_test[example]), "class_names": s.class_names}


def render(result: dict, fig) -> None:
    """Two panels: the teacher targets each loss uses for one test digit, and the students' test accuracy."""
    import numpy as np

    ax1, ax2 = fig.subplots(1, 2)
    width = 0.27
    k = np.arange(len(result["class_names"]))
    for i, name in enumerate(VARIANTS):
        ax1.bar(k + (i - 1) * width, result["targets"][name].numpy(), width, label=f"target for {name}")
    ax1.set_xticks(k, result["class_names"])
    ax1.legend(fontsize=8)
    ax1.set(title=f"Teacher target at T={result['T']:g} (true class {result['label']})", xlabel="class",
            ylabel="probability")
    names = list(VARIANTS)
    ax2.bar(names, [result["accuracy"][n] for n in names], color=["tab:blue", "tab:orange", "tab:green"])
    for i, n in enumerate(names):
        ax2.annotate(f"{result['accuracy'][n]:.1%}", (i, result["accuracy"][n]), ha="center", va="bottom")
    lo = min(result["accuracy"].values())
    ax2.set_ylim(max(0.0, lo - 0.08), 1.0)
    ax2.set(title="Student test accuracy", xlabel="soft loss", ylabel="accuracy (fraction)")


def summary(result: dict) -> str:
    cells = " | ".join(f"{n}: acc {result['accuracy'][n]:.1%}, entropy {result['entropy'][n]:.2f} nats"
                       for n in VARIANTS)
    return f"T = {result['T']:g} &mdash; {cells}"
