"""D10: fidelity (agreement, KL to the teacher) against generalisation (test accuracy).

:func:`fidelity_curve` trains one student from the course teacher by one of ``RECIPES`` and records
its fidelity on train and test and its test accuracy at several training lengths; the dashboard
(ch1_06) shows any recipe at any of those lengths. :func:`fidelity_run` distils a student on the full labelled training split from the course teacher
(``"strong"``) or from the same architecture trained on only ``weak_fraction`` of the labels
(``"weak"``, cached with ``cache.trained_mlp``), and reports agreement and KL on train and test and
the test accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as F

from ... import cache, data, metrics, models, train
from ..._checks import check_choice, check_positive, check_range
from ...seeding import generator
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Fidelity against accuracy, student by student"
TRY = "kd_T4 against labels_smooth at 200 epochs: which agrees more with the teacher on test images, which is right more often?"
FIGSIZE = (7.0, 3.6)
TEACHERS = ("strong", "weak")


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    logits: dict   # teacher name -> (train logits, test logits)
    models: dict = field(default_factory=dict)  # teacher name -> the teacher itself
    curves: dict = field(default_factory=dict)  # recipe -> fidelity_curve of seed ``seed`` (the dashboard's)


def weak_teacher(seed: int = 0, *, fraction: float = 0.05, split_seed: int | None = None) -> torch.nn.Module:
    """The teacher's architecture trained on only ``fraction`` of the labels (cached on disk): a teacher that errs."""
    fraction = check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    return cache.trained_mlp("digits", (256, 256), seed=seed, split_seed=seed if split_seed is None else split_seed,
                             epochs=200, lr=3e-3, weight_decay=1e-4, fraction=fraction, name="weak-teacher")


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, weak_fraction: float = 0.05) -> Setup:
    """Split, strong teacher and weak teacher, all drawn with ``seed``, and their logits."""
    ds = data.load("digits", split_seed=seed)
    out, nets = {}, {}
    for name, t in (("strong", cache.teacher("digits", seed=seed, split_seed=seed)),
                    ("weak", weak_teacher(seed, fraction=weak_fraction))):
        out[name], nets[name] = (train.predict(t, ds.X_train), train.predict(t, ds.X_test)), t
    return Setup(int(seed), ds, out, nets)


def fidelity_run(s: Setup, alpha: float = 1.0, *, T: float = 4.0, teacher: str = "weak", hidden: int = 32,
                 seed: int = 0, epochs: int = 100, lr: float = 3e-2) -> dict:
    """Distil one student on the full labelled training split; fidelity on train/test and test accuracy."""
    check_choice("teacher", teacher, TEACHERS)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    T = check_positive("T", T)
    ds = s.ds
    tl_train, tl_test = s.logits[teacher]
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    train.train_distilled(student, ds.X_train, ds.y_train, tl_train, T=T, alpha=alpha, epochs=epochs, lr=lr,
                          seed=seed)
    out = metrics.fidelity(train.predict(student, ds.X_train), tl_train, train.predict(student, ds.X_test), tl_test,
                           ds.y_test)
    out["teacher_accuracy"] = metrics.accuracy(tl_test, ds.y_test)
    return out


RECIPES = ("labels", "labels_smooth", "kd_T4", "kd_T4_noise")


def _recipe_objective(s: Setup, recipe: str, teacher: str, seed: int, *, T: float = 4.0, smoothing: float = 0.2,
                      noise: float = 0.1):
    """(objective, n_rows) for one way of training a student (see :func:`fidelity_curve`)."""
    ds = s.ds
    X, y = ds.X_train, ds.y_train
    tl = s.logits[teacher][0]
    if recipe == "labels":
        return train.ce_objective(X, y), len(X)
    if recipe == "labels_smooth":
        return (lambda m, idx: {"loss": F.cross_entropy(m(X[idx]), y[idx], label_smoothing=smoothing)}), len(X)
    if recipe == "kd_T4_noise":  # the teacher's answers on a noisy copy of every training input, drawn once
        Xn = X + noise * torch.randn(X.shape, generator=generator(seed))
        X, tl = torch.cat([X, Xn]), torch.cat([tl, train.predict(s.models[teacher], Xn)])
    return train.kd_objective(X, None, tl, T=T, alpha=1.0), len(X)


def fidelity_curve(s: Setup, recipe: str = "kd_T4", *, seed: int = 0, snapshots=(10, 25, 50, 100, 200),
                   hidden: int = 64, lr: float = 2e-2, teacher: str = "strong") -> dict:
    """Train one student by ``recipe`` and measure its fidelity and accuracy at several lengths.

    Recipes: ``"labels"`` (cross-entropy, never sees the teacher), ``"labels_smooth"`` (cross-entropy
    with label smoothing 0.2), ``"kd_T4"`` (KL to the teacher at T = 4 on the training inputs, no
    labels) and ``"kd_T4_noise"`` (the same on the training inputs plus one noisy copy of each, sigma
    0.1, labelled by the teacher: more inputs on which the student is asked to agree). One full-batch
    run of ``max(snapshots)`` epochs; at every epoch in ``snapshots`` it records agreement and
    KL(teacher || student) on train and test and the test accuracy (``metrics.fidelity``). Returns
    ``{epoch: that dict}``: one training gives the students of every length.
    """
    check_choice("recipe", recipe, RECIPES)
    check_choice("teacher", teacher, TEACHERS)
    snapshots = sorted({int(e) for e in snapshots})
    if not snapshots or snapshots[0] < 1 or snapshots[-1] > 10_000:
        raise ValueError(f"snapshots must be a non-empty set of epochs in [1, 10000], got {snapshots}")
    lr = check_positive("lr", lr)
    ds = s.ds
    tl_train, tl_test = s.logits[teacher]
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    objective, n = _recipe_objective(s, recipe, teacher, seed)
    out, wanted, step = {}, set(snapshots), [0]

    def record(model):
        step[0] += 1
        if step[0] in wanted:
            out[step[0]] = metrics.fidelity(train.predict(model, ds.X_train), tl_train,
                                            train.predict(model, ds.X_test), tl_test, ds.y_test)
        return 0.0

    train.fit(student, objective, n, epochs=snapshots[-1], lr=lr, seed=seed, eval_fn=record, eval_every=1)
    return out


SNAPSHOTS = (10, 25, 50, 100, 200)


def slider_curves(s: Setup, progress: bool = False) -> dict:
    """Every recipe's student (seed ``s.seed``) at every length in ``SNAPSHOTS``: trained once per setup."""
    if not s.curves:
        recipes = RECIPES
        if progress:
            from tqdm.auto import tqdm
            recipes = tqdm(RECIPES, desc="training the dashboard's students", leave=False)
        for r in recipes:
            s.curves[r] = fidelity_curve(s, r, seed=s.seed, snapshots=SNAPSHOTS)
    return s.curves


def run(s: Setup, recipe: str = "kd_T4", epochs: int = 200) -> dict:
    """One dashboard position: a student of ``recipe`` after ``epochs`` epochs (from the cached curves)."""
    check_choice("recipe", recipe, RECIPES)
    if int(epochs) not in SNAPSHOTS:
        raise ValueError(f"epochs must be one of {list(SNAPSHOTS)}, got {epochs}")
    return {**slider_curves(s)[recipe][int(epochs)], "recipe": recipe, "epochs": int(epochs),
            "teacher_accuracy": metrics.accuracy(s.logits["strong"][1], s.ds.y_test)}


def render(r: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.1, right=0.97)
    names = ["agreement\n(train)", "agreement\n(test)", "student\naccuracy", "teacher\naccuracy"]
    vals = [r["agree_train"], r["agree_test"], r["accuracy"], r["teacher_accuracy"]]
    plots.compare(ax, names, vals, title=f"{r['recipe']}, {r['epochs']} epochs (strong teacher)",
                  ylabel="fraction (train or test images)", ylim=(max(0.0, min(vals) - 0.05), 1.005))


def summary(r: dict) -> str:
    return (f"agreement train {r['agree_train']:.1%} / test {r['agree_test']:.1%}; KL train {r['kl_train']:.4f} / "
            f"test {r['kl_test']:.4f} nats; <b>test accuracy {r['accuracy']:.1%}</b> "
            f"(teacher {r['teacher_accuracy']:.1%})")


def dashboard(seed: int = 0, *, recipe: str = "kd_T4", epochs: int = 200, background: bool = True,
              progress: bool = False) -> Dashboard:
    import ipywidgets as W

    s = setup(seed)
    slider_curves(s, progress=progress)
    choice = W.Dropdown(options=list(RECIPES), value=recipe, description="recipe")
    length = W.SelectionSlider(options=list(SNAPSHOTS), value=int(epochs), continuous_update=False,
                               description="epochs", style={"description_width": "initial"})
    dash = Dashboard(lambda recipe, epochs: run(s, recipe, epochs), {"recipe": choice, "epochs": length},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
