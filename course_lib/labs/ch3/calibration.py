"""Lab: reliability diagram and ECE under temperature scaling, with a scaling-temperature slider
(notebook 3.3, syllabus B3).

:func:`setup` loads the cached 256-256 teacher and students (64 units, 150 epochs) distilled from it at
several temperatures T (alpha = 0.9), ``per_t`` of each, all cached on disk, and keeps their validation
and test logits. A slider move only rescales one model's test logits by 1 / temperature and recomputes
the 15 equal-width bins, so it costs a few milliseconds plus the redraw.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range
from ...reliability import calibration as cal
from ...ui import plots, widgets

TITLE = "Calibration: reliability diagram and ECE (15 equal-width bins) under temperature scaling"
TRY = ("Slide the scaling temperature from 1 up to the fitted value and beyond: the bars climb to the "
       "diagonal and ECE falls, then the model turns under-confident and ECE rises again.")
DISTILL_TS = (1.0, 2.0, 4.0, 8.0, 16.0)
ALPHA, HIDDEN, EPOCHS, LR = 0.9, (64,), 150, 1e-2
N_BINS = 15


def distilled_student(seed: int, T: float, *, teacher_seed: int, split_seed: int, dataset: str = "digits"):
    """A 64-unit student distilled at temperature ``T`` from the cached teacher ``teacher_seed`` (cached)."""
    ds = data.load(dataset, split_seed=split_seed)
    teacher = cache.teacher(dataset, seed=teacher_seed, split_seed=split_seed)
    config = dict(kind="ch3-calibration-student", seed=int(seed), T=float(T), alpha=ALPHA, hidden=list(HIDDEN),
                  epochs=EPOCHS, lr=LR, teacher_seed=int(teacher_seed), split_seed=int(split_seed))

    def build():
        return models.mlp(ds.n_features, HIDDEN, ds.n_classes, seed=seed + 40_000)

    def fit(m):
        train.train_distilled(m, ds.X_train, ds.y_train, train.predict(teacher, ds.X_train), T=float(T),
                              alpha=ALPHA, epochs=EPOCHS, lr=LR, seed=seed)

    return cache.cached_model(config, build, fit, name=f"ch3-calstudent-{dataset}")


@dataclass
class State:
    names: list
    val_logits: dict
    test_logits: dict
    y_val: np.ndarray
    y_test: np.ndarray
    fitted: dict  # name -> temperature fitted on the validation split
    grid: np.ndarray = None  # scaling temperatures at which ``ece_curve`` is precomputed
    ece_curve: dict = None  # name -> test ECE at each temperature of ``grid``


@functools.lru_cache(maxsize=4)
def setup(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", per_t: int = 3,
          temperatures: tuple = DISTILL_TS) -> State:
    """Teacher ``seed`` and ``per_t`` students per distillation temperature (student seeds
    ``per_t*seed .. per_t*seed + per_t - 1``); their logits and fitted scaling temperatures."""
    split_seed = seed if split_seed is None else split_seed
    per_t = check_int_range("per_t", per_t, 1, 50)
    ds = data.load(dataset, split_seed=split_seed)
    nets = {"teacher": cache.teacher(dataset, seed=seed, split_seed=split_seed)}
    for T in temperatures:
        for k in range(per_t):
            nets[f"T={T:g} #{k}"] = distilled_student(per_t * seed + k, T, teacher_seed=seed, split_seed=split_seed,
                                                      dataset=dataset)
    val = {n: train.predict(m, ds.X_val).double().numpy() for n, m in nets.items()}
    test = {n: train.predict(m, ds.X_test).double().numpy() for n, m in nets.items()}
    y_val, y_test = ds.y_val.numpy(), ds.y_test.numpy()
    fitted = {n: cal.fit_temperature(val[n], y_val) for n in nets}
    grid = np.geomspace(0.25, 8.0, 31)
    curve = {n: np.array([cal.ece(cal.scaled_probs(test[n], t), y_test, N_BINS) for t in grid]) for n in nets}
    return State(list(nets), val, test, y_val, y_test, fitted, grid, curve)


def run(s: State, temperature: float = 1.0, model: str = "teacher", n_bins: int = N_BINS) -> dict:
    """Scale ``model``'s test logits by 1 / ``temperature``; its reliability bins, ECE and NLL."""
    check_choice("model", model, s.names)
    probs = cal.scaled_probs(s.test_logits[model], temperature)
    bins = cal.reliability_bins(probs, s.y_test, n_bins)
    return dict(model=model, temperature=float(temperature), fitted=s.fitted[model], bins=bins,
                ece=float((bins["count"] / bins["count"].sum() * bins["gap"]).sum()),
                nll=cal.nll(s.test_logits[model], s.y_test, temperature),
                accuracy=float((probs.argmax(1) == s.y_test).mean()), mean_conf=float(probs.max(1).mean()),
                grid=s.grid, ece_curve=None if s.ece_curve is None else s.ece_curve[model])


def render(result: dict, fig) -> None:
    """Left: reliability diagram (accuracy per confidence bin against the diagonal, gaps in red);
    right: test ECE against the scaling temperature, with the current and the fitted temperature marked."""
    ax1, ax2 = plots.fast_axes(fig)
    ax1.xaxis.set_major_locator(MaxNLocator(6))
    b = result["bins"]
    edges = b["edges"]
    full = b["count"] > 0
    acc = np.where(full, b["accuracy"], 0.0)
    conf = np.where(full, b["confidence"], 0.0)
    ax1.stairs(acc, edges, fill=True, color="tab:blue", label="accuracy")
    ax1.stairs(conf, edges, baseline=acc, fill=True, color="tab:red", alpha=0.35, label="gap to confidence")
    ax1.plot([0, 1], [0, 1], color="black", ls=":", lw=1)
    ax1.set_xlim(0, 1)
    ax1.set_ylim(0, 1)
    ax1.legend(fontsize=8, loc="upper left")
    plots.style(ax1, f"{result['model']} at scaling T = {result['temperature']:.2f}: ECE {100 * result['ece']:.2f}%",
                "confidence (15 equal-width bins)", "accuracy in bin")
    if result.get("ece_curve") is not None:
        ax2.plot(np.log2(result["grid"]), 100 * result["ece_curve"], color="tab:blue")
    ax2.axvline(np.log2(result["fitted"]), color="tab:green", ls="--")
    ax2.plot([np.log2(result["temperature"])], [100 * result["ece"]], "o", color="tab:red")
    plots.style(ax2, f"test ECE (red: now, green: fitted T = {result['fitted']:.2f})",
                "log2 of the scaling temperature", "ECE (%)")


def summary(result: dict) -> str:
    r = result
    return (f"<b>{r['model']}, scaling temperature {r['temperature']:.2f}</b> (fitted on validation: "
            f"{r['fitted']:.2f}): ECE {100 * r['ece']:.2f}% with 15 equal-width bins, NLL {r['nll']:.3f} nats, "
            f"mean confidence {r['mean_conf']:.1%} against accuracy {r['accuracy']:.1%}.")


def dashboard(seed: int = 0, *, temperature: float = 1.0, model: str = "teacher", split_seed: int | None = None,
              background: bool = True) -> widgets.Dashboard:
    """A scaling-temperature slider (log scale, 0.25 to 8) and a model drop-down over :func:`run`."""
    import ipywidgets as W

    s = setup(seed, split_seed=split_seed)
    controls = dict(temperature=widgets.slider(temperature, -0.6, 0.9, 0.02, log=True,
                                               description="scaling temperature"),
                    model=W.Dropdown(options=s.names, value=model, description="model"))
    return widgets.Dashboard(lambda temperature, model: run(s, temperature, model), controls, render=render,
                             summary=summary, figsize=(10, 3.4), title=f"{TITLE}. Try: {TRY}",
                             background=background)
