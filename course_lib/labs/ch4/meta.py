"""A11 live lab: a meta-learned initialisation (Reptile) and a smaller student distilled from it, on sine waves.

Per seed of the study, five initialisations adapt to a new sine task from its K = 10 labelled points:
the **teacher** (a 40-40 tanh perceptron meta-trained with Reptile), and four students of one smaller
size (16-16): a **random** initialisation, one **pretrained** on all tasks at once (it learns the
family's average function), one **meta-trained directly** with Reptile, and one **distilled**: meta-
trained on the same tasks and shots with the same budget, its outer update pulled towards the
teacher's adapted function on 50 query points per task (see ``course_lib.distill.meta``).

    s = setup(seed=0)                # meta-trains (or loads) the study's networks for SEED = 0
    r = run(s, steps=5, amplitude=3.0, phase=1.0)   # adapt every initialisation on one shown task
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ... import cache
from ..._checks import check_int_range, check_range
from ...distill import meta
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Meta-learning: a distilled initialisation that adapts in a few steps"
TRY = ("Move the number of adaptation steps from 0 to 10: the meta-learned curves snap onto the task within a "
       "step or two, the random and pretrained students barely move.")

N_SEEDS = 4            # initialisations per SEED, disjoint across SEEDs: range(SEED * 4, SEED * 4 + 4)
TEACHER = (40, 40)     # hidden widths
STUDENT = (16, 16)
SHOTS = 10             # K labelled points per task
INNER_STEPS = 5        # SGD steps in the inner loop during meta-training
INNER_LR = 0.05        # the inner loop's (and test-time adaptation's) SGD step size
OUTER_LR = 0.01        # Adam's step size on the Reptile direction, annealed linearly to 0
META_BATCH = 10        # tasks per meta-iteration
TEACHER_ITERS = 1000
STUDENT_ITERS = 500    # the students' budget (direct and distilled alike)
QUERY = 50             # teacher-labelled query points per task (distilled student only)
DISTILL_WEIGHTS = (0.5, 1.0)  # candidates for the weight of the teacher's direction, chosen on validation tasks
ROLES = ("random", "pretrained", "direct", "distilled")  # the four students, in this order
KS = (1, 5, 10)        # adaptation steps at which the study measures the error


class _Bank(nn.Module):
    """Batched functional weights as buffers, so ``cache.cached_model`` can store and reload them."""

    def __init__(self, hidden, n: int):
        super().__init__()
        p = meta.init_params(hidden, seeds=range(n))
        for k, v in meta.to_state(p).items():
            self.register_buffer(k, torch.zeros_like(v))

    def set(self, params):
        for k, v in meta.to_state(params).items():
            getattr(self, k).copy_(v)

    def params(self):
        return meta.from_state({k: v.clone() for k, v in self.state_dict().items()}, "tanh")


def _seeds(seed):
    return list(range(seed * N_SEEDS, seed * N_SEEDS + N_SEEDS))


def _common():
    return dict(shots=SHOTS, inner_steps=INNER_STEPS, inner_lr=INNER_LR, outer_lr=OUTER_LR, meta_batch=META_BATCH)


def teacher(seed: int, *, progress=False) -> dict:
    """The study's meta-trained teachers for ``seed`` (one per initialisation seed), cached on disk."""
    seeds = _seeds(seed)
    tseeds = [10_000 + s for s in seeds]  # the teacher draws its own tasks and initialisation
    config = dict(kind="a11-teacher", hidden=list(TEACHER), seeds=tseeds, iterations=TEACHER_ITERS, **_common())
    bank = cache.cached_model(config, lambda: _Bank(TEACHER, N_SEEDS), lambda b: b.set(meta.meta_train(
        meta.init_params(TEACHER, seeds=tseeds), TEACHER_ITERS, seeds=tseeds, progress=progress and "teacher (Reptile)",
        **_common())), name="a11-teacher")
    return bank.params()


def student(seed: int, role: str, *, distill_weight: float | None = None, progress=False) -> dict:
    """A batch of ``N_SEEDS`` students of one ``role`` (see ROLES), cached on disk."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    if role == "distilled" and distill_weight is None:
        distill_weight = choose_weight(seed)[0]
    seeds = _seeds(seed)
    init = meta.init_params(STUDENT, seeds=seeds)
    if role == "random":
        return init
    config = dict(kind=f"a11-{role}", hidden=list(STUDENT), seeds=seeds, iterations=STUDENT_ITERS, **_common())
    if role == "pretrained":
        def train_fn(b):
            b.set(meta.pretrain(init, STUDENT_ITERS, seeds=seeds, shots=SHOTS, meta_batch=META_BATCH, lr=INNER_LR))
    elif role == "direct":
        def train_fn(b):
            b.set(meta.meta_train(init, STUDENT_ITERS, seeds=seeds, progress=progress and "student, Reptile",
                                  **_common()))
    else:
        config.update(teacher=list(TEACHER), teacher_iterations=TEACHER_ITERS, query=QUERY,
                      distill_weight=float(distill_weight))

        def train_fn(b):
            b.set(meta.meta_train(init, STUDENT_ITERS, seeds=seeds, teacher=teacher(seed), query=QUERY,
                                  distill_weight=distill_weight, progress=progress and "student, distilled",
                                  **_common()))
    return cache.cached_model(config, lambda: _Bank(STUDENT, N_SEEDS), train_fn, name=f"a11-{role}").params()


@dataclass(frozen=True)
class Setup:
    seed: int
    teacher: dict       # the first initialisation seed's teacher (batch of 1)
    students: dict      # the four roles' students of the first seed, stacked: batch of 4 in ROLES order
    x: torch.Tensor     # the shown task's K inputs, (1, 1, K, 1)


def _stack(ps):
    flat = [meta._flat(p) for p in ps]
    return meta._unflat([torch.cat(qs) for qs in zip(*flat)], ps[0]["act"])


@lru_cache(maxsize=4)
def setup(seed: int = 0) -> Setup:
    """Load (or meta-train, about half a minute on one core) the study's networks for ``seed``."""
    check_int_range("seed", seed, 0, 2**20)
    t = meta.select(teacher(seed), 0)
    st = _stack([meta.select(student(seed, r), 0) for r in ROLES])
    x = meta.sample_x((1, 1), SHOTS, seed=777 + seed)
    return Setup(int(seed), t, st, x)


GRID = meta.grid(100)


MAX_STEPS = 10  # the slider's range of adaptation steps (the study measures k = 1, 5, 10)


@lru_cache(maxsize=64)
def _trajectory(seed: int, amplitude: float, phase: float) -> dict:
    """Curves and errors of the five initialisations after 0..MAX_STEPS steps on one shown task (one pass)."""
    s = setup(seed)
    a, ph = torch.tensor(amplitude), torch.tensor(phase)
    y = meta.sine(a, ph, s.x)
    yg = meta.sine(a, ph, GRID)[:, 0]
    xs, ys = s.x.expand(len(ROLES), 1, SHOTS, 1), y.expand(len(ROLES), 1, SHOTS, 1)
    t, stu = s.teacher, meta.expand(s.students, 1)
    curves = {k: [] for k in ("teacher",) + ROLES}
    for k in range(MAX_STEPS + 1):
        if k:
            t = meta.adapt(t, s.x[0], y[0], steps=1, lr=INNER_LR)
            stu = meta.adapt(stu, xs, ys, steps=1, lr=INNER_LR)
        with torch.no_grad():
            curves["teacher"].append(meta.forward(t, GRID)[0, :, 0].numpy())
            fs = meta.forward(stu, GRID)[:, 0, :, 0].numpy()
        for i, r in enumerate(ROLES):
            curves[r].append(fs[i])
    truth = yg.numpy()
    mse = {n: [float(((c - truth) ** 2).mean()) for c in cs] for n, cs in curves.items()}
    return {"x": s.x.flatten().numpy(), "y": y.flatten().numpy(), "truth": truth, "curves": curves, "mse": mse}


def run(s: Setup, steps: int = 1, amplitude: float = 3.0, phase: float = 1.0) -> dict:
    """Adapt the teacher and the four students on the shown task (``amplitude * sin(x - phase)`` at the
    setup's K inputs) for ``steps`` SGD steps; their curves on a grid and their errors.

    One pass computes every step count from 0 to MAX_STEPS for this task (remembered), so a move of the
    steps slider only looks up; a new amplitude or phase re-adapts all five initialisations."""
    steps = check_int_range("steps", steps, 0, MAX_STEPS)
    amplitude = check_range("amplitude", amplitude, *meta.AMPLITUDE)
    phase = check_range("phase", phase, *meta.PHASE)
    tr = _trajectory(s.seed, round(amplitude, 6), round(phase, 6))
    return {"steps": steps, "amplitude": amplitude, "phase": phase, "x": tr["x"], "y": tr["y"],
            "grid": GRID.flatten().numpy(), "truth": tr["truth"],
            "curves": {n: c[steps] for n, c in tr["curves"].items()}, "mse": {n: m[steps] for n, m in tr["mse"].items()}}


STYLE = {"teacher": ("tab:purple", "-"), "random": ("0.6", ":"), "pretrained": ("tab:brown", "--"),
         "direct": ("tab:blue", "-"), "distilled": ("tab:orange", "-")}


def render(result: dict, fig) -> None:
    """The task, its K shots and every adapted curve, each labelled with its error (one light axes)."""
    ax = plots.fast_axes(fig, 1, left=0.07, right=0.7)[0]
    ax.plot(result["grid"], result["truth"], color="k", lw=2.5, alpha=0.35, label="task")
    ax.plot(result["x"], result["y"], "k^", ms=5, label=f"{SHOTS} shots")
    for name, c in result["curves"].items():
        col, ls = STYLE[name]
        ax.plot(result["grid"], c, color=col, ls=ls, lw=1.4, label=f"{name}: MSE {result['mse'][name]:.2f}")
    ax.set_ylim(-6, 6)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    plots.style(ax, f"After {result['steps']} SGD step(s) on the {SHOTS} shots (MSE on the whole curve)", "x",
                "y = amplitude sin(x - phase)")


def summary(result: dict) -> str:
    m = result["mse"]
    return (f"{result['steps']} step(s) on {SHOTS} points of {result['amplitude']:g} sin(x - {result['phase']:g}). "
            f"MSE: teacher {m['teacher']:.2f}; students (16-16): <b>distilled {m['distilled']:.2f}</b>, "
            f"Reptile {m['direct']:.2f}, pretrained {m['pretrained']:.2f}, random {m['random']:.2f}. "
            "Recomputed live: the adaptation steps of all five cached initialisations.")


def dashboard(seed: int = 0, steps: int = 1, amplitude: float = 3.0, phase: float = 1.0, *,
              background: bool = True) -> Dashboard:
    """Sliders: adaptation steps, and the shown task's amplitude and phase."""
    s = setup(seed)
    return Dashboard(lambda steps, amplitude, phase: run(s, steps, amplitude, phase),
                     {"steps": slider(steps, 0, MAX_STEPS, 1, description="adaptation steps k", integer=True),
                      "amplitude": slider(amplitude, 0.5, 5.0, 0.25, description="task amplitude"),
                      "phase": slider(phase, 0.0, 3.0, 0.25, description="task phase")},
                     render=render, summary=summary, title=TITLE, background=background, figsize=(10, 3.4))


def _tasks(seed, part, n_tasks):
    if part not in ("val", "test"):
        raise ValueError(f"part must be 'val' or 'test', got {part!r}")
    n_tasks = check_int_range("n_tasks", n_tasks, 1, 100_000)
    return meta.held_out_tasks(n_tasks, seed=2 * seed + (part == "val"), shots=SHOTS, models=N_SEEDS)


def _errors(params, tasks):
    return meta.post_adaptation_mse(params, tasks, steps=list(KS), lr=INNER_LR).mean(-1).numpy()


@lru_cache(maxsize=8)
def choose_weight(seed: int, n_tasks: int = 200) -> tuple:
    """The distillation weight (of DISTILL_WEIGHTS) whose students have the lowest mean error after
    INNER_STEPS adaptation steps on VALIDATION tasks; returns (weight, {weight: val errors (len(KS), N_SEEDS)})."""
    tasks = _tasks(seed, "val", n_tasks)
    errs = {w: _errors(student(seed, "distilled", distill_weight=w, progress=True), tasks) for w in DISTILL_WEIGHTS}
    k = KS.index(INNER_STEPS)
    best = min(DISTILL_WEIGHTS, key=lambda w: float(errs[w][k].mean()))
    return best, errs


def study(seed: int, *, part: str = "test", n_tasks: int = 200, progress=False) -> dict:
    """Post-adaptation MSE after k = 1, 5, 10 steps: {name: array (len(KS), N_SEEDS)}, each the mean over
    ``n_tasks`` held-out tasks per initialisation seed (``part`` "val" and "test" draw disjoint tasks)."""
    tasks = _tasks(seed, part, n_tasks)
    nets = {"teacher": teacher(seed, progress=progress)}
    nets.update({r: student(seed, r, progress=progress) for r in ROLES})
    return {k: _errors(p, tasks) for k, p in nets.items()}
