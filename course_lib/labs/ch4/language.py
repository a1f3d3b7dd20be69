"""A4 live lab: where a transformer teacher holds the answer, layer by layer, on two generated sequence tasks.

The teachers are 4-layer ``torch.nn.TransformerEncoder`` classifiers
(``course_lib.distill.layer_mapping.SeqEncoder``, width 32, 2 heads), one per task of
``course_lib.distill.language`` (``"first"``: the first token modulo 4; ``"match"``: how
often the first token occurs again), trained on 1000 sequences of 8 tokens and cached on
disk. ``setup`` fits a linear probe on the mean-pooled state after every layer; the
slider picks one teacher layer and shows both probes there (nothing is retrained on a move).

The notebook's distillation experiment also lives here: :func:`student_accuracy` trains
(and caches) a 2-layer student from scratch, with output distillation or with
hidden-state distillation under the uniform, first or last mapping.

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

TITLE = "Layer mapping: where the teacher holds the answer"
TRY = ("Move the teacher layer from 0 (the embeddings) to 4: the first-token task is readable from layer 1-2 on, "
       "the match-count task only near the top.")
TASKS = ("first", "match")
TASK_NAMES = {"first": "first token (mod 4)", "match": "repeats of the first token"}
N_TEACHER, N_STUDENT = 4, 2
TEACHER = dict(n_layers=N_TEACHER, n_train=1000, steps=250, lr=5e-3)
TEACHER_SEED = 0  # one teacher per task for every seed: the teachers are the expensive part, the students the question
N_PROBE_FIT, N_PROBE_EVAL = 600, 400
# the distillation experiment: few labelled sequences, more unlabelled ones for the teacher's signal
N_LABELLED, N_TRANSFER, N_TEST = 64, 300, 2000
STUDENT = dict(steps=200, lr=1e-2, beta=2.0, pooled=True)
LOSSES = {"pooled": STUDENT, "tokens": dict(steps=200, lr=1e-2, beta=1.0, pooled=False)}
METHODS = LG.METHODS  # scratch, output, uniform, first, last
MAPPINGS = ("uniform", "first", "last")


def _stream(task: str, seed: int, k: int) -> int:
    """A distinct data seed per (task, purpose, seed)."""
    return 1_000_003 * (1 + TASKS.index(task)) + 10_007 * k + int(seed)


def teacher(task: str, seed: int = TEACHER_SEED):
    """The cached 4-layer teacher of ``task`` (trained on its own 1000 sequences drawn with ``seed``)."""
    check_choice("task", task, TASKS)
    return LG.train_teacher(task, seed=seed, **TEACHER)


@dataclass(frozen=True)
class Setup:
    seed: int
    curves: dict       # task -> probe test accuracy at layers 0..N_TEACHER
    recall: dict       # task -> (N_TEACHER + 1, N_CLASSES) per-class recall of each layer's probe
    teacher_acc: dict  # task -> the teacher's test accuracy


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """The two cached teachers and one linear probe per layer, fitted and scored on sequences drawn with ``seed``."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    curves, recall, tacc = {}, {}, {}
    for task in TASKS:
        t = teacher(task)
        X, y = LG.make_task(task, N_PROBE_FIT + N_PROBE_EVAL, seed=_stream(task, seed, 1))
        f = LG.pooled_states(t, X)
        ya, yb = y[:N_PROBE_FIT].numpy(), y[N_PROBE_FIT:].numpy()
        preds = [_probe(a[:N_PROBE_FIT], ya).predict(a[N_PROBE_FIT:]) for a in f]
        curves[task] = np.array([(p == yb).mean() for p in preds])
        recall[task] = np.array([[(p[yb == c] == c).mean() if (yb == c).any() else np.nan
                                  for c in range(LG.N_CLASSES)] for p in preds])
        Xt, yt = test_set(task, seed)
        with torch.no_grad():
            tacc[task] = float((t(Xt).argmax(-1) == yt).float().mean())
    return Setup(int(seed), curves, recall, tacc)


@lru_cache(maxsize=16)
def test_set(task: str, seed: int):
    return LG.make_task(task, N_TEST, seed=_stream(task, seed, 2))


def student_accuracy(task: str, method: str, seed: int, *, loss: str = "pooled",
                     teacher_seed: int = TEACHER_SEED) -> float:
    """Test accuracy of the 2-layer student trained with ``method`` (students cached on disk by config).

    ``loss`` picks the hidden-state loss of the mapping methods: ``"pooled"`` (patient KD's
    normalised sequence summaries, weight 2) or ``"tokens"`` (TinyBERT's MSE at every position,
    weight 1).
    """
    check_choice("loss", loss, LOSSES)
    return _student_accuracy(task, method, int(seed), int(teacher_seed), loss)


@lru_cache(maxsize=512)
def _student_accuracy(task: str, method: str, seed: int, teacher_seed: int, loss: str = "pooled") -> float:
    check_choice("task", task, TASKS)
    check_choice("method", method, METHODS)
    t = teacher(task, teacher_seed)
    Xs, _ = LG.make_task(task, N_TRANSFER, seed=_stream(task, seed, 3))
    Xl, yl = LG.make_task(task, N_LABELLED, seed=_stream(task, seed, 4))
    kw = LOSSES[loss] if method in MAPPINGS else STUDENT
    config = dict(kind="seq_student", task=task, method=method, seed=seed, teacher=dict(seed=teacher_seed, **TEACHER),
                  n_student=N_STUDENT, n_labelled=N_LABELLED, n_transfer=N_TRANSFER, **kw)
    s = cache.cached_model(config, lambda: LG.build_student(t, N_STUDENT, seed=seed),
                           lambda m: LG.train_student(t, method, Xs, Xl, yl, n_layers=N_STUDENT, seed=seed,
                                                      student=m, **kw), name="seq_student")
    Xt, yt = test_set(task, seed)
    with torch.no_grad():
        return float((s(Xt).argmax(-1) == yt).float().mean())


def run(s: Setup, layer: int = 2) -> dict:
    """One slider position: both tasks' probes at teacher ``layer`` (fitted once in ``setup``)."""
    layer = check_int_range("layer", int(round(float(layer))), 0, N_TEACHER)
    return {"layer": layer, "curves": s.curves, "teacher_acc": s.teacher_acc,
            "acc": {t: float(s.curves[t][layer]) for t in TASKS}, "recall": {t: s.recall[t][layer] for t in TASKS}}


def _probe(F, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(F, y)


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
    rec = ", ".join(f"{r:.0%}" for r in result["recall"]["match"])
    return (f"Probe on {where}: first token {result['acc']['first']:.1%}, repeats {result['acc']['match']:.1%} "
            f"(recall per repeats class 0-3: {rec}; teachers: {result['teacher_acc']['first']:.1%}, "
            f"{result['teacher_acc']['match']:.1%}).{m}")


def dashboard(seed: int = 0, layer: int = 2, *, background: bool = True) -> Dashboard:
    """The teacher-layer slider; each move shows the two linear probes fitted at that layer in ``setup``."""
    s = setup(seed)
    return Dashboard(lambda layer: run(s, layer),
                     {"layer": slider(int(layer), 0, N_TEACHER, 1, integer=True, description="teacher layer")},
                     render=render, summary=summary, title=TITLE, background=background, figsize=(9, 3.2))
