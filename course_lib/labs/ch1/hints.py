"""D5: hints from an intermediate layer (FitNets), clean or corrupted.

:func:`hint_run` trains a thin student ``mlp(64, (32, 32, 32), 10)`` with cross-entropy on a labelled
``fraction`` plus ``beta`` times the MSE between a learned regressor of its guided (middle) layer and the
teacher's hint layer (its first hidden layer, read by forward hooks), computed on all training inputs.
The hint can be corrupted by fixed noise or misaligned rows. ``two_stage=True`` follows Romero et al.
(2015): stage 1 trains the student's layers up to the guided one (and the regressor) on the hint alone,
stage 2 trains the whole student with KD. ``kd_all=True`` is the control that gives plain response KD
the same unlabelled inputs the hint sees.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from ... import cache, data, features, losses, models, train
from ..._checks import check_int_range, check_positive, check_range
from ...distill.hints import HintStudent, add_feature_noise, misalign
from ...seeding import generator
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "Hint quality: noise, misalignment and the hint weight"
TRY = "at beta = 10, raise the misaligned fraction until the hinted student falls below the no-hint baseline"
FIGSIZE = (7.0, 3.4)


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    teacher: torch.nn.Module
    t_logits: torch.Tensor        # teacher logits on the training split
    hints: dict                   # layer name -> teacher features on the training split


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """Split and teacher drawn with ``seed``; the teacher's logits and hidden layers on the training split."""
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    with features.capture(teacher, ["act1", "act2"], detach=True) as store:
        logits = train.predict(teacher, ds.X_train)
    return Setup(int(seed), ds, teacher, logits, dict(store))


def hint_run(s: Setup, *, noise: float = 0.0, misaligned: float = 0.0, beta: float = 1.0, seed: int = 0,
             fraction: float = 0.1, hidden=(32, 32, 32), guided: str = "act2", teacher_layer: str = "act1",
             hint_batch: int | None = None, epochs: int = 80, lr: float = 1.5e-2, two_stage: bool = False,
             kd_all: bool = False, T: float = 4.0) -> dict:
    """One hinted (or control) student; returns its test accuracy and final loss terms. See the module doc.

    The defaults follow the paper's placement: the guided layer is the middle one of the student's
    three hidden layers, the hint the teacher's first hidden layer (not its last, which sits next to
    the answer). ``hint_batch=None`` computes the hint on every input at each step.
    Joint (default): CE on the labelled rows + ``beta`` x hint MSE, ``epochs`` steps. ``beta = 0`` is the
    no-hint baseline. ``two_stage``: ``epochs`` steps of hint only on the layers up to ``guided``, then
    ``epochs`` steps of KD (T, alpha = 0.9 on the labelled rows, soft targets on every input).
    ``kd_all``: no hint, ``epochs`` steps of that same KD objective (the response-KD control).
    """
    beta = check_range("beta", beta, 0.0, 1000.0)
    if hint_batch is not None:
        check_int_range("hint_batch", hint_batch, 1, 10**6)
    T = check_positive("T", T)
    if teacher_layer not in s.hints:
        raise ValueError(f"teacher_layer must be one of {sorted(s.hints)}, got {teacher_layer!r}")
    ds = s.ds
    H = s.hints[teacher_layer]
    target = misalign(add_feature_noise(H, noise, seed=seed), misaligned, seed=seed)
    idx, yl = data.labelled_subset(torch.arange(len(ds.y_train))[:, None], ds.y_train, fraction, seed=seed)
    idx = idx[:, 0]
    Xl, X = ds.X_train[idx], ds.X_train
    hidden = tuple(int(h) for h in hidden)
    net = HintStudent(models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed), guided, H.shape[1], seed=seed)
    hint_loss = losses.get_feature("hint")
    g = generator(seed)

    def hint_term(model):
        if hint_batch is None or hint_batch >= len(X):
            Xh, th = X, target
        else:
            rows = torch.randperm(len(X), generator=g)[:hint_batch]
            Xh, th = X[rows], target[rows]
        with features.capture(model.student, [guided]) as store:
            model.student(Xh)
        return hint_loss(model.regressor(store[guided]), th)

    def kd_objective(model, _):
        z = model.student(X)
        soft = losses.kd_kl(z, s.t_logits, T=T)
        ce = F.cross_entropy(z[idx], yl)
        return {"loss": 0.9 * soft + 0.1 * ce, "ce": ce, "soft": soft}

    if kd_all or two_stage:
        if two_stage:  # stage 1: the hint alone trains the layers up to the guided one, and the regressor
            for p in net.student.parameters():
                p.requires_grad_(False)
            for p in _params_up_to(net.student, guided):
                p.requires_grad_(True)
            h1 = train.fit(net, lambda m, _: {"loss": hint_term(m)}, len(X), epochs=epochs, lr=lr, seed=seed)
            for p in net.parameters():
                p.requires_grad_(True)
            hint_final = h1.terms["loss"][-1]
        else:
            hint_final = float("nan")
        hist = train.fit(net.student, lambda m, i: kd_objective(net, i), len(X), epochs=epochs, lr=lr, seed=seed)
        return {"accuracy": train.evaluate(net.student, ds.X_test, ds.y_test),
                "val_accuracy": train.evaluate(net.student, ds.X_val, ds.y_val), "hint_loss": hint_final,
                "ce": hist.terms["ce"][-1], "n_labelled": len(yl), "n_inputs": len(X)}

    def objective(model, _):
        ce = F.cross_entropy(model.student(Xl), yl)
        hint = hint_term(model) if beta > 0 else torch.zeros(())
        return {"loss": ce + beta * hint, "ce": ce, "hint": hint}

    hist = train.fit(net, objective, len(X), epochs=epochs, lr=lr, seed=seed)
    return {"accuracy": train.evaluate(net.student, ds.X_test, ds.y_test),
            "val_accuracy": train.evaluate(net.student, ds.X_val, ds.y_val), "hint_loss": hist.terms["hint"][-1],
            "ce": hist.terms["ce"][-1], "n_labelled": len(yl), "n_inputs": len(X) if beta > 0 else len(yl)}


def _params_up_to(student, layer: str) -> list:
    """Parameters of the sub-modules of a Sequential student up to and including ``layer``."""
    out = []
    for name, mod in student.named_children():
        out += list(mod.parameters())
        if name == layer:
            return out
    raise ValueError(f"layer must be a direct child of the student ({[n for n, _ in student.named_children()]}), "
                     f"got {layer!r}")


@lru_cache(maxsize=16)
def baseline(s: Setup, seed: int | None = None) -> float:
    """Test accuracy of the same student without a hint (beta = 0), with the dashboard's schedule."""
    return hint_run(s, beta=0.0, seed=s.seed if seed is None else seed, epochs=40, lr=3e-2)["accuracy"]


def run(s: Setup, noise: float = 0.0, misaligned: float = 0.0, beta: float = 10.0) -> dict:
    """One dashboard position: the hinted student (a shorter schedule than the notebook's) and its baseline."""
    res = hint_run(s, noise=noise, misaligned=misaligned, beta=beta, seed=s.seed, epochs=40, lr=3e-2,
                   hint_batch=128)
    return {**res, "baseline": baseline(s), "noise": float(noise), "misaligned": float(misaligned), "beta": float(beta)}


def render(res: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.11, right=0.97)
    lo = min(res["baseline"], res["accuracy"])
    plots.compare(ax, ["no hint", "with hint"], [res["baseline"], res["accuracy"]],
                  title=f"noise {res['noise']:g}, misaligned {res['misaligned']:.0%}, beta {res['beta']:g}",
                  ylabel="test accuracy (fraction)", ylim=(plots.steady_lower(lo, 0.1), 1.0))


def summary(res: dict) -> str:
    return f"the hint changes test accuracy by <b>{res['accuracy'] - res['baseline']:+.1%}</b>"


def dashboard(seed: int = 0, *, noise: float = 0.0, misaligned: float = 0.0, beta: float = 10.0,
              background: bool = True) -> Dashboard:
    s = setup(seed)
    dash = Dashboard(lambda noise, misaligned, beta: run(s, noise, misaligned, beta),
                     {"noise": slider(noise, 0.0, 10.0, 0.5, description="hint noise (x feature spread)"),
                      "misaligned": slider(misaligned, 0.0, 1.0, 0.05, description="misaligned fraction"),
                      "beta": slider(beta, 0.0, 30.0, 1.0, description="hint weight beta")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
