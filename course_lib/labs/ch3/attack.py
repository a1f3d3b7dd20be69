"""Lab: FGSM and PGD against a teacher, its students and its compressed copies, with an epsilon slider
(notebook 3.1, syllabus B1).

:func:`setup` builds (or loads from the disk cache) six models on one split: the 256-256 teacher, a
64-unit student trained from scratch, a 64-unit student distilled from the teacher (T = 4, alpha = 0.9),
and three compressed copies of the teacher (70% of the weights pruned by global magnitude, 4-bit
per-channel fake-quantized weights, fc2 factorized at rank 16). It then measures each model's accuracy
under FGSM and PGD (10 steps) on the test split over an epsilon grid, once. A slider move only attacks
one test image at the chosen epsilon and redraws: the accuracy curves with the epsilon marked, the
image, its adversarial version and the perturbation.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import numpy as np
from matplotlib.ticker import MaxNLocator
import torch
import torch.nn.functional as F
from torch import nn

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range
from ...compress import lowrank, prune, quantize
from ...reliability import robustness
from ...ui import plots, widgets

TITLE = "Adversarial robustness: FGSM and PGD against teacher, students and compressed students"
TRY = ("Move epsilon from 0 to 0.15: every curve falls, the teacher's last; look at how little the "
       "perturbed digit changes while the prediction flips.")
EPSILONS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25)
STUDENT_HIDDEN = (64,)
STUDENT_EPOCHS, STUDENT_LR = 150, 1e-2
KD_T, KD_ALPHA = 4.0, 0.9
PRUNE_SPARSITY, QUANT_BITS, LOWRANK_RANK = 0.7, 4, 16
DEFENSE_T, DEFENSE_EPOCHS, DEFENSE_LR = 100.0, 200, 5e-2
NAMES = ("teacher", "scratch", "distilled", "pruned", "quantized", "low-rank")


# ------------------------------------------------------------------------------------------- models
def _student(ds, seed, split_seed, *, kind, teacher=None):
    config = dict(kind=f"ch3-student-{kind}", hidden=list(STUDENT_HIDDEN), seed=int(seed), split_seed=int(split_seed),
                  epochs=STUDENT_EPOCHS, lr=STUDENT_LR, T=KD_T, alpha=KD_ALPHA, teacher_seed=int(seed))

    def build():
        return models.mlp(ds.n_features, STUDENT_HIDDEN, ds.n_classes, seed=seed + 10_000)

    def fit(m):
        if kind == "scratch":
            train.train_scratch(m, ds.X_train, ds.y_train, epochs=STUDENT_EPOCHS, lr=STUDENT_LR, seed=seed)
        else:
            train.train_distilled(m, ds.X_train, ds.y_train, train.predict(teacher, ds.X_train), T=KD_T,
                                  alpha=KD_ALPHA, epochs=STUDENT_EPOCHS, lr=STUDENT_LR, seed=seed)

    return cache.cached_model(config, build, fit, name=f"ch3-{kind}-{ds.name}")


def compressed(teacher: nn.Module) -> dict:
    """The three compressed copies of ``teacher`` (the original is left untouched)."""
    pruned = prune.magnitude_prune(copy.deepcopy(teacher), PRUNE_SPARSITY, scope="global")
    quant = quantize.add_fake_quant(copy.deepcopy(teacher), QUANT_BITS, scheme="per_channel")
    low = lowrank.factorize(teacher, {"fc2": LOWRANK_RANK})
    return {"pruned": pruned.eval(), "quantized": quant.eval(), "low-rank": low.eval()}


def model_zoo(seed: int = 0, split_seed: int | None = None, dataset: str = "digits") -> dict:
    """``{name: model}`` for the six models of :data:`NAMES`, all trained on the split ``split_seed``."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    teacher = cache.teacher(dataset, seed=seed, split_seed=split_seed)
    zoo = {"teacher": teacher, "scratch": _student(ds, seed, split_seed, kind="scratch"),
           "distilled": _student(ds, seed, split_seed, kind="distilled", teacher=teacher)}
    zoo.update(compressed(teacher))
    return zoo


def linear_model(seed: int = 0, split_seed: int | None = None, dataset: str = "digits") -> nn.Linear:
    """A softmax-regression classifier (one Linear layer) trained on hard labels, cached on disk."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    config = dict(kind="ch3-linear", seed=int(seed), split_seed=int(split_seed), epochs=300, lr=2e-2)

    def build():
        return models.mlp(ds.n_features, (), ds.n_classes, seed=seed).out

    def fit(m):
        train.train_scratch(m, ds.X_train, ds.y_train, epochs=300, lr=2e-2, weight_decay=1e-4, seed=seed)

    return cache.cached_model(config, build, fit, name=f"ch3-linear-{dataset}")


def defensive_pair(seed: int = 0, split_seed: int | None = None, dataset: str = "digits", *,
                   T: float = DEFENSE_T) -> tuple:
    """Defensive distillation (Papernot et al. 2016) in miniature: a 64-unit network trained on hard labels
    with its softmax at temperature ``T``, then a second one trained at ``T`` on the first one's soft labels.
    Returns (first, distilled); both are used at T = 1 at test time, as in the paper."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    X, y = ds.X_train, ds.y_train
    base = dict(seed=int(seed), split_seed=int(split_seed), T=float(T), epochs=DEFENSE_EPOCHS, lr=DEFENSE_LR,
                hidden=list(STUDENT_HIDDEN))

    def build(offset):
        return lambda: models.mlp(ds.n_features, STUDENT_HIDDEN, ds.n_classes, seed=seed + offset)

    def fit_first(m):
        train.fit(m, lambda mm, idx: {"loss": F.cross_entropy(mm(X) / T, y)}, len(X), epochs=DEFENSE_EPOCHS,
                  lr=DEFENSE_LR, seed=seed)

    first = cache.cached_model(dict(kind="ch3-defense-first", **base), build(20_000), fit_first,
                               name=f"ch3-defense-{dataset}")
    soft = torch.softmax(train.predict(first, X) / T, -1)

    def fit_second(m):
        train.fit(m, lambda mm, idx: {"loss": -(soft * F.log_softmax(mm(X) / T, -1)).sum(1).mean()}, len(X),
                  epochs=DEFENSE_EPOCHS, lr=DEFENSE_LR, seed=seed + 1)

    second = cache.cached_model(dict(kind="ch3-defense-second", **base), build(30_000), fit_second,
                                name=f"ch3-defense-{dataset}")
    return first, second


# ------------------------------------------------------------------------------------------- the lab
@dataclass
class State:
    zoo: dict
    X: torch.Tensor
    y: torch.Tensor
    epsilons: np.ndarray
    curves: dict = field(default_factory=dict)  # {method: {name: accuracies over epsilons}}
    image_shape: tuple = (8, 8)


@functools.lru_cache(maxsize=4)
def setup(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", pgd_steps: int = 10) -> State:
    """The six models and their FGSM and PGD accuracy curves on the test split (computed once)."""
    split_seed = seed if split_seed is None else split_seed
    ds = data.load(dataset, split_seed=split_seed)
    zoo = model_zoo(seed, split_seed, dataset)
    eps = np.array(EPSILONS)
    curves = {"fgsm": {}, "pgd": {}}
    for name, m in zoo.items():
        curves["fgsm"][name] = robustness.robust_accuracy(m, ds.X_test, ds.y_test, eps, method="fgsm")
        curves["pgd"][name] = robustness.robust_accuracy(m, ds.X_test, ds.y_test, eps, method="pgd", steps=pgd_steps)
    shape = tuple(ds.image_shape[1:]) if ds.image_shape else (1, ds.n_features)
    return State(zoo, ds.X_test, ds.y_test, eps, curves, shape)


def run(s: State, epsilon: float = 0.1, example: int = 0, model: str = "teacher", method: str = "pgd") -> dict:
    """Attack test image ``example`` of ``model`` at ``epsilon`` with ``method``."""
    epsilon = robustness.check_epsilon(epsilon)
    example = check_int_range("example", example, 0, len(s.X) - 1)
    check_choice("model", model, list(s.zoo))
    check_choice("method", method, robustness.METHODS)
    m = s.zoo[model]
    x, y = s.X[example:example + 1], s.y[example:example + 1]
    x_adv = robustness.attack(m, x, y, epsilon, method=method)
    with torch.no_grad():
        p_clean = torch.softmax(m(x), -1)[0]
        p_adv = torch.softmax(m(x_adv), -1)[0]
    return dict(epsilon=epsilon, example=example, model=model, method=method, label=int(y),
                x=x[0].numpy(), x_adv=x_adv[0].numpy(), pred_clean=int(p_clean.argmax()),
                pred_adv=int(p_adv.argmax()), conf_clean=float(p_clean.max()), conf_adv=float(p_adv.max()),
                linf=float((x_adv - x).abs().max()), epsilons=s.epsilons, curves=s.curves[method],
                image_shape=s.image_shape)


def composite(result: dict) -> np.ndarray:
    """One RGB picture: the clean image, the attacked image (grey, dark = ink) and the perturbation
    (red = +epsilon, blue = -epsilon, white = 0), separated by white columns."""
    from matplotlib import colormaps

    shape = result["image_shape"]
    e = max(result["epsilon"], 1e-6)
    grey = lambda a: np.repeat((1 - a.reshape(shape))[..., None], 3, axis=2)
    delta = colormaps["bwr"]((result["x_adv"] - result["x"]).reshape(shape) / (2 * e) + 0.5)[..., :3]
    gap = np.ones((shape[0], 1, 3))
    return np.concatenate([grey(result["x"]), gap, grey(result["x_adv"]), gap, delta], axis=1)


def render(result: dict, fig) -> None:
    """Left: accuracy against epsilon for every model (epsilon marked); right: the image, the attacked
    image and the perturbation, drawn as one picture (one axes keeps a redraw cheap)."""
    ax, ax2 = plots.fast_axes(fig)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    for name, acc in result["curves"].items():
        ax.plot(result["epsilons"], 100 * acc, lw=1.2, label=name)
    ax.axvline(result["epsilon"], color="black", ls=":")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    plots.style(ax, f"{result['method'].upper()}: test accuracy of six models", "epsilon (pixel scale 0-1)",
                "accuracy (%)")
    ax2.imshow(composite(result), interpolation="nearest")
    ax2.set_xticks([3.5, 12.5, 21.5], ["clean", "attacked", "perturbation"])
    ax2.set_yticks([])
    ax2.set_title(f"{result['model']}, label {result['label']}: '{result['pred_clean']}' "
                  f"({result['conf_clean']:.0%}) -> '{result['pred_adv']}' ({result['conf_adv']:.0%})", fontsize=10)
    ax2.set_xlabel(f"perturbation: red +{result['epsilon']:.2f}, blue -{result['epsilon']:.2f}", fontsize=9)


def summary(result: dict) -> str:
    r = result
    i = int(np.argmin(np.abs(r["epsilons"] - r["epsilon"])))
    accs = ", ".join(f"{n} {100 * a[i]:.0f}%" for n, a in r["curves"].items())
    flipped = "flipped" if r["pred_adv"] != r["pred_clean"] else "kept"
    return (f"<b>epsilon = {r['epsilon']:.2f}</b> ({r['method'].upper()}): the {r['model']} {flipped} its answer on "
            f"image {r['example']} (label {r['label']}): '{r['pred_clean']}' -> '{r['pred_adv']}'. "
            f"Test accuracy at the nearest grid epsilon {r['epsilons'][i]:.2f}: {accs}.")


def dashboard(seed: int = 0, *, epsilon: float = 0.1, example: int = 0, split_seed: int | None = None,
              background: bool = True) -> widgets.Dashboard:
    """An epsilon slider and an example slider over :func:`run` (PGD against the teacher); model and
    attack can be changed with the drop-downs."""
    import ipywidgets as W

    s = setup(seed, split_seed=split_seed)
    controls = dict(epsilon=widgets.slider(epsilon, 0.0, 0.25, 0.01, description="epsilon"),
                    example=widgets.slider(example, 0, min(len(s.X) - 1, 59), 1, integer=True,
                                           description="test image"),
                    model=W.Dropdown(options=list(s.zoo), value="teacher", description="model"),
                    method=W.Dropdown(options=list(robustness.METHODS), value="pgd", description="attack"))
    return widgets.Dashboard(functools.partial(run, s), controls, render=render, summary=summary,
                             figsize=(10, 3.3), title=f"{TITLE}. Try: {TRY}", background=background)
