"""A4 live lab: where a transformer teacher holds two answers, layer by layer.

The teacher is one 4-layer ``torch.nn.TransformerEncoder`` classifier
(``course_lib.distill.language.ExitEncoder``, width 16, 2 heads) trained on two tasks of
the same sequences at once: the class of the **first token**, read by an early-exit head
after layer 2, and the class of the **last token**, read by the output head after layer 4
(``course_lib.distill.language.train_two_task_teacher``, cached on disk by SEED).
``setup`` fits a linear probe for each task on the mean-pooled state after every layer;
the slider picks one teacher layer and shows both probes there (nothing is retrained on a move).

The notebook's distillation experiment also lives here: :func:`student_accuracy` trains
(and caches) a 2-layer student from scratch, with output distillation or with
hidden-state distillation (TinyBERT's per-token loss) under the uniform, first or last mapping,
and scores it on validation and test sequences.

    s = setup(seed=0)
    r = run(s, layer=2)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache
from ..._checks import check_choice, check_int_range
from ...distill import language as LG
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Layer mapping: where the teacher holds each answer"
TRY = ("Move the teacher layer from 0 (the embeddings) to 4: the first-token class is readable from layer 1 on, "
       "the last-token class only from layer 3, above the early exit.")
TASKS = ("first", "last")  # first: the early-exit task; last: the top task
TASK_NAMES = {"first": "first token (exit after layer 2)", "last": "last token (head after layer 4)"}
N_TEACHER, N_STUDENT = 4, 2
TEACHER = dict(exit_task="first", top_task="last", exit_layer=2, n_layers=N_TEACHER, steps=150, batch=256,
               lr=5e-3, d_model=16, n_heads=2)
N_PROBE_FIT, N_PROBE_EVAL = 600, 400
# the distillation experiment: few labelled sequences, more unlabelled ones for the teacher's signal
N_LABELLED, N_TRANSFER, N_VAL, N_TEST = 64, 150, 1000, 2000
STUDENT = dict(steps=80, lr=1e-2, beta=1.0, pooled=False)
METHODS = LG.METHODS  # scratch, output, uniform, first, last
MAPPINGS = ("uniform", "first", "last")


def _stream(task: str, seed: int, k: int) -> int:
    """A distinct data seed per (task, purpose, seed)."""
    return 1_000_003 * (1 + TASKS.index(task)) + 10_007 * k + int(seed)


def teacher(seed: int = 0):
    """The cached two-task teacher trained from ``seed`` (a few seconds on one core the first time)."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    return LG.train_two_task_teacher(seed=int(seed), progress=True, **TEACHER)


@torch.no_grad()
def teacher_logits(t, task: str, X: torch.Tensor) -> torch.Tensor:
    """The logits of the teacher's head for ``task`` (the early exit for "first", the top head for "last")."""
    check_choice("task", task, TASKS)
    t.eval()
    exit_logits, top_logits = t.heads(X)
    return exit_logits if task == TEACHER["exit_task"] else top_logits


@dataclass(frozen=True)
class Setup:
    seed: int
    curves: dict       # task -> probe test accuracy at layers 0..N_TEACHER
    teacher_acc: dict  # task -> the accuracy of the teacher's head for the task on the test sequences


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """The cached teacher of ``seed`` and one linear probe per layer and task, fitted and scored on fresh sequences."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    t = teacher(seed)
    curves, tacc = {}, {}
    for task in TASKS:
        X, y = LG.make_task(task, N_PROBE_FIT + N_PROBE_EVAL, seed=_stream(task, seed, 1))
        f = LG.pooled_states(t, X)
        ya, yb = y[:N_PROBE_FIT].numpy(), y[N_PROBE_FIT:].numpy()
        curves[task] = np.array([LG.probe_accuracy(a[:N_PROBE_FIT], ya, a[N_PROBE_FIT:], yb) for a in f])
        Xt, yt = eval_set(task, seed, "test")
        tacc[task] = float((teacher_logits(t, task, Xt).argmax(-1) == yt).float().mean())
    return Setup(int(seed), curves, tacc)


@lru_cache(maxsize=16)
def eval_set(task: str, seed: int, part: str = "test"):
    """Validation (1000) or test (2000) sequences of ``task`` drawn for ``seed``; the two never share a stream."""
    check_choice("part", part, ("val", "test"))
    return LG.make_task(task, N_VAL if part == "val" else N_TEST, seed=_stream(task, seed, 2 if part == "test" else 5))


def student_accuracy(task: str, method: str, seed: int, teacher_seed: int) -> tuple[float, float]:
    """(validation, test) accuracy of the 2-layer student trained with ``method`` from the teacher of ``teacher_seed``.

    ``seed`` draws the student's labelled and unlabelled sequences and its initialisation;
    the validation and test sequences belong to ``teacher_seed``. Students are cached on disk by config.
    """
    check_choice("task", task, TASKS)
    check_choice("method", method, METHODS)
    check_int_range("seed", seed, 0, 2**31 - 1)
    check_int_range("teacher_seed", teacher_seed, 0, 2**31 - 1)
    return _student_accuracy(task, method, int(seed), int(teacher_seed))


@lru_cache(maxsize=512)
def _student_accuracy(task: str, method: str, seed: int, teacher_seed: int) -> tuple[float, float]:
    t = teacher(teacher_seed)
    Xs, _ = LG.make_task(task, N_TRANSFER, seed=_stream(task, seed, 3))
    Xl, yl = LG.make_task(task, N_LABELLED, seed=_stream(task, seed, 4))
    config = dict(kind="seq_student_two_task", task=task, method=method, seed=seed,
                  teacher=dict(seed=teacher_seed, **TEACHER), n_student=N_STUDENT, n_labelled=N_LABELLED,
                  n_transfer=N_TRANSFER, **STUDENT)
    tl = teacher_logits(t, task, Xs)
    s = cache.cached_model(config, lambda: LG.build_student(t, N_STUDENT, seed=seed),
                           lambda m: LG.train_student(t, method, Xs, Xl, yl, n_layers=N_STUDENT, seed=seed,
                                                      student=m, teacher_logits=tl, **STUDENT),
                           name="seq_student")
    out = []
    with torch.no_grad():
        for part in ("val", "test"):
            X, y = eval_set(task, teacher_seed, part)
            out.append(float((s(X).argmax(-1) == y).float().mean()))
    return tuple(out)


def run(s: Setup, layer: int = 2) -> dict:
    """One slider position: both tasks' probes at teacher ``layer`` (fitted once in ``setup``)."""
    layer = check_int_range("layer", int(round(float(layer))), 0, N_TEACHER)
    return {"layer": layer, "curves": s.curves, "teacher_acc": s.teacher_acc,
            "acc": {t: float(s.curves[t][layer]) for t in TASKS}}


def mapped_by(layer: int) -> list[str]:
    """The mappings that send some student layer to teacher ``layer``."""
    from ...distill.layer_mapping import MAPPINGS, layer_mapping
    return [k for k in MAPPINGS if layer in layer_mapping(k, N_STUDENT, N_TEACHER)]


def render(result: dict, fig) -> None:
    ax = plots.fast_axes(fig, 1)[0]
    x = np.arange(N_TEACHER + 1)
    k = result["layer"]
    for task, mk in zip(TASKS, "os"):
        line, = ax.plot(x, result["curves"][task], marker=mk, label=TASK_NAMES[task])
        ax.plot([k], [result["acc"][task]], marker=mk, ms=13, mfc="none", color=line.get_color())
    ax.axvline(k, color="0.5", ls="--", lw=1)
    ax.set_ylim(0, 1.03)
    ax.set_xlim(-0.2, N_TEACHER + 0.2)
    ax.legend(fontsize=8, loc="lower right")
    plots.style(ax, f"Linear probe on the teacher's mean-pooled state (circled: layer {k})",
                "teacher layer (0 = embeddings)", "probe test accuracy")


def summary(result: dict) -> str:
    k = result["layer"]
    where = "the embeddings" if k == 0 else f"teacher layer {k}"
    maps = mapped_by(k) if k else []
    m = (f" Mappings that teach from this layer: {', '.join(maps)}." if maps
         else " No mapping of a 2-layer student uses this layer.")
    return (f"Probe on {where}: first token {result['acc']['first']:.1%}, last token {result['acc']['last']:.1%} "
            f"(the teacher's own heads: {result['teacher_acc']['first']:.1%}, "
            f"{result['teacher_acc']['last']:.1%}).{m}")


def dashboard(seed: int = 0, layer: int = 2, *, background: bool = True) -> Dashboard:
    """The teacher-layer slider; each move shows the two linear probes fitted at that layer in ``setup``."""
    s = setup(seed)
    return Dashboard(lambda layer: run(s, layer),
                     {"layer": slider(int(layer), 0, N_TEACHER, 1, integer=True, description="teacher layer")},
                     render=render, summary=summary, title=TITLE, background=background, figsize=(9, 3.2))
