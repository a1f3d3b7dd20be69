"""Lab: per-example bootstrap intervals of a teacher ensemble and of student ensembles, with a
confidence-level slider (notebook 3.2, syllabus B2).

:func:`setup` draws ``n_boot`` bootstrap resamples of the training split and, on each, trains (or loads
from the disk cache) one teacher (256-256, 150 epochs), one student from scratch and one student
distilled from the full-data teacher (32 units, 150 epochs; T = 4, alpha = 0.9). Every model predicts
the probability of the true class on each test digit. A slider move recomputes the percentile intervals
at the chosen level and redraws them: numpy only, a few milliseconds.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator
import torch
import torch.nn.functional as F

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range
from ...reliability import uncertainty as unc
from ...ui import plots, widgets

TITLE = "Bootstrap ensembles: does the student's interval match the teacher's?"
TRY = ("Switch between the scratch and the distilled students: the distilled intervals sit on the "
       "teacher's but are narrower; raise the level to 0.99 and watch every interval widen.")
TEACHER_HIDDEN, TEACHER_EPOCHS, TEACHER_LR = (256, 256), 150, 3e-3
STUDENT_HIDDEN, STUDENT_EPOCHS, STUDENT_LR = (32,), 150, 1e-2
KD_T, KD_ALPHA = 4.0, 0.9
KINDS = ("scratch", "distilled")
N_SHOW = 40


def _p_true(model, X, y) -> np.ndarray:
    return torch.softmax(train.predict(model, X), -1)[torch.arange(len(y)), y].double().numpy()


def ensemble(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", n_boot: int = 10,
             progress: bool = False) -> dict:
    """Train (or load) the three bootstrap ensembles; returns the resample indices, the models, and
    ``samples[kind]``: an (n_boot, n_test) array of each member's probability of the true class."""
    split_seed = seed if split_seed is None else split_seed
    n_boot = check_int_range("n_boot", n_boot, 2, 1000)
    ds = data.load(dataset, split_seed=split_seed)
    X, y = ds.X_train, ds.y_train
    teacher = cache.teacher(dataset, seed=seed, split_seed=split_seed)
    t_logits = train.predict(teacher, X)
    idx = torch.as_tensor(unc.bootstrap_indices(len(X), n_boot, seed=seed))
    nets = {"teacher": [], "scratch": [], "distilled": []}
    rows = range(n_boot)
    if progress:
        from tqdm.auto import tqdm
        rows = tqdm(rows, desc="bootstrap ensembles", leave=False)
    for b in rows:
        i = idx[b]
        base = dict(seed=int(seed), split_seed=int(split_seed), b=int(b), n_boot=int(n_boot))

        def t_fit(m, i=i, b=b):
            train.fit(m, lambda mm, _: {"loss": F.cross_entropy(mm(X[i]), y[i])}, len(i), epochs=TEACHER_EPOCHS,
                      lr=TEACHER_LR, weight_decay=1e-4, seed=seed * 1000 + b)

        nets["teacher"].append(cache.cached_model(
            dict(kind="ch3-boot-teacher", hidden=list(TEACHER_HIDDEN), epochs=TEACHER_EPOCHS, **base),
            lambda b=b: models.mlp(ds.n_features, TEACHER_HIDDEN, ds.n_classes, seed=seed * 1000 + b),
            t_fit, name=f"ch3-boot-teacher-{dataset}"))
        for kind in KINDS:
            def s_fit(m, i=i, b=b, kind=kind):
                if kind == "scratch":
                    train.train_scratch(m, X[i], y[i], epochs=STUDENT_EPOCHS, lr=STUDENT_LR, seed=seed * 1000 + b)
                else:
                    train.train_distilled(m, X[i], y[i], t_logits[i], T=KD_T, alpha=KD_ALPHA, epochs=STUDENT_EPOCHS,
                                          lr=STUDENT_LR, seed=seed * 1000 + b)

            nets[kind].append(cache.cached_model(
                dict(kind=f"ch3-boot-{kind}", hidden=list(STUDENT_HIDDEN), epochs=STUDENT_EPOCHS, T=KD_T,
                     alpha=KD_ALPHA, **base),
                lambda b=b: models.mlp(ds.n_features, STUDENT_HIDDEN, ds.n_classes, seed=seed * 1000 + b + 500),
                s_fit, name=f"ch3-boot-{kind}-{dataset}"))
    samples = {k: np.stack([_p_true(m, ds.X_test, ds.y_test) for m in v]) for k, v in nets.items()}
    return dict(indices=idx.numpy(), models=nets, samples=samples, teacher=teacher,
                teacher_p=_p_true(teacher, ds.X_test, ds.y_test), y_test=ds.y_test.numpy())


@dataclass
class State:
    samples: dict
    order: np.ndarray  # test digits by decreasing teacher-interval width at level 0.9
    n_boot: int


@functools.lru_cache(maxsize=4)
def setup(seed: int = 0, *, split_seed: int | None = None, dataset: str = "digits", n_boot: int = 10) -> State:
    e = ensemble(seed, split_seed=split_seed, dataset=dataset, n_boot=n_boot)
    lo, hi = unc.percentile_intervals(e["samples"]["teacher"], 0.9)
    return State(e["samples"], np.argsort(-(hi - lo), kind="stable"), n_boot)


def run(s: State, level: float = 0.9, student: str = "distilled") -> dict:
    """Intervals of the teacher ensemble and of one student ensemble at ``level``, and their fidelity."""
    check_choice("student", student, KINDS)
    fid = unc.interval_fidelity(s.samples[student], s.samples["teacher"], level=level)
    t_lo, t_hi = unc.percentile_intervals(s.samples["teacher"], level)
    s_lo, s_hi = unc.percentile_intervals(s.samples[student], level)
    show = s.order[:N_SHOW]
    return dict(level=float(level), student=student, n_boot=s.n_boot, coverage=fid["coverage"],
                width_ratio=fid["width_ratio"], spearman=fid["spearman"], t_lo=t_lo[show], t_hi=t_hi[show],
                s_lo=s_lo[show], s_hi=s_hi[show], t_width=fid["teacher_width"], s_width=fid["student_width"])


def render(result: dict, fig) -> None:
    """Left: intervals of the 40 test digits the teacher ensemble is least sure about (teacher grey,
    student coloured); right: student width against teacher width for every test digit."""
    ax1, ax2 = plots.fast_axes(fig)
    ax1.xaxis.set_major_locator(MaxNLocator(6))
    ax2.xaxis.set_major_locator(MaxNLocator(6))
    k = np.arange(len(result["t_lo"]))
    colour = "tab:green" if result["student"] == "distilled" else "tab:orange"
    ax1.vlines(k - 0.15, result["t_lo"], result["t_hi"], color="gray", lw=3, label="teacher ensemble")
    ax1.vlines(k + 0.15, result["s_lo"], result["s_hi"], color=colour, lw=3, label=f"{result['student']} ensemble")
    ax1.set_ylim(0, 1.02)
    ax1.legend(fontsize=8, loc="lower right")
    plots.style(ax1, f"{result['level']:.0%} intervals, {N_SHOW} least certain digits",
                "test digit (by teacher width)", "P(true class)")
    ax2.plot(result["t_width"], result["s_width"], ".", ms=3, color=colour)
    top = max(float(result["t_width"].max()), float(result["s_width"].max()), 1e-3)
    ax2.plot([0, top], [0, top], color="black", ls=":", lw=1)
    plots.style(ax2, f"widths: ratio {result['width_ratio']:.2f}, Spearman {result['spearman']:.2f}",
                "teacher interval width", f"{result['student']} interval width")


def summary(result: dict) -> str:
    r = result
    return (f"<b>{r['student']} students, level {r['level']:.0%}</b> ({r['n_boot']} bootstrap members each): the "
            f"student interval holds the teacher median on {r['coverage']:.0%} of test digits; mean width ratio "
            f"student/teacher {r['width_ratio']:.2f}; rank correlation of widths {r['spearman']:.2f}.")


def dashboard(seed: int = 0, *, level: float = 0.9, student: str = "distilled", split_seed: int | None = None,
              background: bool = True) -> widgets.Dashboard:
    """A confidence-level slider and a student drop-down over :func:`run`."""
    import ipywidgets as W

    s = setup(seed, split_seed=split_seed)
    controls = dict(level=widgets.slider(level, 0.5, 0.99, 0.01, description="interval level"),
                    student=W.Dropdown(options=list(KINDS), value=student, description="student"))
    return widgets.Dashboard(lambda level, student: run(s, level, student), controls, render=render,
                             summary=summary, figsize=(10, 3.4), title=f"{TITLE}. Try: {TRY}",
                             background=background)
