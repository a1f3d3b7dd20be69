"""A9 live lab: a teacher that reads two "languages" teaches a student that reads only one.

The languages are two input spaces for the same ten concepts, the digits 0-9: **pixels**
(scikit-learn's 8x8 handwritten digits, 64 numbers) and **signals** (mnist1d's
one-dimensional digit signals, 40 numbers). They share no example and no feature; only the
labels mean the same thing. The teacher (``BilingualMLP``: one encoder per language, a
shared trunk and head) is trained on both. The student, a 64-32-10 perceptron, only ever
sees pixels, and no label at all: it learns from the teacher's soft targets on the
unlabelled training images. The baseline is the same student trained on its own labels.

    s = setup(seed=0)
    r = run(s, T=4.0)    # the label-free distilled student at temperature T
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range, check_range
from ...distill.crosslingual import BilingualMLP, class_similarity, offdiag_corr
from ...losses import kd_kl
from ...ui.widgets import Dashboard, slider

TITLE = "Cross-lingual transfer: soft targets carry the similarity structure"
TRY = "Move T: at T = 1 the student copies little more than the teacher's top guess; from T = 2 up it copies which digits the teacher finds alike."
LANGUAGES = {"pixels": ("digits", 64), "signals": ("mnist1d", 40)}
STUDENT_HIDDEN = (32,)
TEACHER_HIDDEN = 128
TEACHER_EPOCHS = 150
EPOCHS = 100
LR = 1e-2
T_SIM = 4.0  # the temperature at which every similarity matrix is read


@dataclass(frozen=True)
class Setup:
    seed: int
    sets: dict          # language -> data.Dataset
    teacher: BilingualMLP
    t_train: torch.Tensor   # teacher logits on the pixel training images (the transfer set)
    t_test: torch.Tensor    # teacher logits on the pixel test images
    S_teacher: dict         # language -> teacher's class-similarity matrix on that language's test split


def bilingual_teacher(seed: int = 0, *, split_seed: int | None = None, epochs: int = TEACHER_EPOCHS,
                      hidden: int = TEACHER_HIDDEN, progress: bool = False) -> BilingualMLP:
    """The two-language teacher, trained on the labelled training splits of both, cached on disk."""
    split_seed = seed if split_seed is None else split_seed
    check_int_range("epochs", epochs, 1, 100_000)
    sets = {lang: data.load(name, split_seed=split_seed) for lang, (name, _) in LANGUAGES.items()}
    config = dict(kind="bilingual", seed=int(seed), split_seed=int(split_seed), epochs=int(epochs),
                  hidden=int(hidden), lr=3e-3, weight_decay=1e-4)

    def build():
        return BilingualMLP({lang: d for lang, (_, d) in LANGUAGES.items()}, hidden, 10, seed=seed)

    def fit(model):
        def objective(m, idx):
            losses = {lang: F.cross_entropy(m(ds.X_train, lang), ds.y_train) for lang, ds in sets.items()}
            return {"loss": sum(losses.values()), **losses}

        n = sum(len(ds.y_train) for ds in sets.values())
        train.fit(model, objective, n, epochs=epochs, lr=3e-3, weight_decay=1e-4, seed=seed,
                  progress="training the bilingual teacher" if progress else False)

    return cached_bilingual(config, build, fit)


def cached_bilingual(config, build, fit):
    return cache.cached_model(config, build, fit, name="teacher-bilingual")


@lru_cache(maxsize=4)
def setup(seed: int = 0) -> Setup:
    """The split and the teacher for ``seed`` (both), its logits on the pixel images, its similarity matrices."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    sets = {lang: data.load(name, split_seed=seed) for lang, (name, _) in LANGUAGES.items()}
    teacher = bilingual_teacher(seed, progress=True)
    px = sets["pixels"]
    with torch.no_grad():
        t_train, t_test = teacher(px.X_train, "pixels"), teacher(px.X_test, "pixels")
        S = {lang: class_similarity(teacher(ds.X_test, lang), ds.y_test, T=T_SIM) for lang, ds in sets.items()}
    return Setup(int(seed), sets, teacher, t_train, t_test, S)


def teacher_accuracy(s: Setup, language: str) -> float:
    check_choice("language", language, list(LANGUAGES))
    ds = s.sets[language]
    with torch.no_grad():
        return float((s.teacher(ds.X_test, language).argmax(-1) == ds.y_test).float().mean())


def student(s: Setup, method: str, *, T: float = 4.0, per_class: int | None = None, seed: int | None = None):
    """Train the pixel student: ``"distilled"`` (soft targets at T on every training image, no label) or
    ``"labels"`` (cross-entropy on ``per_class`` labelled images per class; None: every label)."""
    check_choice("method", method, ("distilled", "labels"))
    T = check_range("T", T, 0.05, 100.0)
    seed = s.seed if seed is None else seed
    px = s.sets["pixels"]
    X, y = px.X_train, px.y_train
    m = models.mlp(64, STUDENT_HIDDEN, 10, seed=seed)
    if method == "distilled":
        tl = s.t_train

        def objective(mm, idx):
            return {"loss": kd_kl(mm(X), tl, T=T)}

        train.fit(m, objective, len(X), epochs=EPOCHS, lr=LR, seed=seed)
        return m
    if per_class is not None:
        check_int_range("per_class", per_class, 1, 10_000)
        g = torch.Generator().manual_seed(int(seed))
        keep = torch.cat([torch.nonzero(y == c).flatten()[torch.randperm(int((y == c).sum()), generator=g)[:per_class]]
                          for c in range(10)])
        X, y = X[keep], y[keep]
    train.fit(m, train.ce_objective(X, y), len(X), epochs=EPOCHS, lr=LR, seed=seed)
    return m


def measure(s: Setup, model) -> dict:
    """Test accuracy, the class-similarity matrix, and its off-diagonal correlation with the teacher's
    (on pixels, the student's language, and on signals, the language it never saw)."""
    px = s.sets["pixels"]
    z = train.predict(model, px.X_test)
    S = class_similarity(z, px.y_test, T=T_SIM)
    return {"accuracy": float((z.argmax(-1) == px.y_test).float().mean()), "S": S,
            "corr_pixels": offdiag_corr(S, s.S_teacher["pixels"]),
            "corr_signals": offdiag_corr(S, s.S_teacher["signals"])}


TS = tuple(float(t) for t in range(1, 9))  # the slider's positions


def run(s: Setup, T: float = 4.0) -> dict:
    """One slider position: the label-free distilled student at temperature ``T``, beside the labels student.

    Each (seed, T) is trained once and remembered; ``dashboard()`` trains every slider position up front.
    """
    T = check_range("T", T, 0.05, 100.0)
    return {"T": T, "distilled": _distilled(s.seed, round(T, 6)), "labels": _labels(s.seed),
            "S_teacher": s.S_teacher["pixels"]}


@lru_cache(maxsize=64)
def _distilled(seed: int, T: float) -> dict:
    s = setup(seed)
    return measure(s, student(s, "distilled", T=T))


@lru_cache(maxsize=4)
def _labels(seed: int) -> dict:
    s = setup(seed)
    return measure(s, student(s, "labels"))


def render(result: dict, fig) -> None:
    """The three off-diagonal similarity matrices side by side, in one image (one axes keeps a redraw cheap)."""
    fig.set_layout_engine("none")
    ax = fig.add_axes((0.04, 0.15, 0.94, 0.72))
    mats = [("teacher (pixels)", result["S_teacher"]),
            (f"distilled, T={result['T']:g}: r={result['distilled']['corr_pixels']:.2f}", result["distilled"]["S"]),
            (f"own labels: r={result['labels']['corr_pixels']:.2f}", result["labels"]["S"])]
    blocks = []
    for i, (_, S) in enumerate(mats):
        off = np.array(S, dtype=float)
        np.fill_diagonal(off, np.nan)  # the diagonal would drown the structure
        blocks += ([np.full((10, 1), np.nan)] if i else []) + [off]
    ax.imshow(np.hstack(blocks), cmap="viridis")
    for i, (name, _) in enumerate(mats):
        ax.text(11 * i + 4.5, -1.0, name, ha="center", va="bottom", fontsize=9)
    ax.set_xticks([11 * i + c for i in range(3) for c in (0, 9)], ["0", "9"] * 3, fontsize=8)
    ax.set_yticks([0, 9], ["0", "9"], fontsize=8)
    ax.set_xlabel("class the model leans to (mean probability at T=4), for each model", fontsize=8)
    ax.set_ylabel("true class", fontsize=8)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)


def summary(result: dict) -> str:
    d, l = result["distilled"], result["labels"]
    return (f"T = {result['T']:g}. Distilled student (no label): accuracy {d['accuracy']:.1%}, similarity "
            f"correlation with the teacher {d['corr_pixels']:.2f} (pixels) / {d['corr_signals']:.2f} (signals, never seen). "
            f"Own-labels student: {l['accuracy']:.1%}, {l['corr_pixels']:.2f} / {l['corr_signals']:.2f}.")


def dashboard(seed: int = 0, T: float = 4.0, *, background: bool = True) -> Dashboard:
    """The temperature slider; trains (once per seed) the student at each of the eight positions."""
    s = setup(seed)
    for t in TS:
        run(s, t)
    return Dashboard(lambda T: run(s, T), {"T": slider(T, TS[0], TS[-1], 1.0, description="temperature T")},
                     render=render, summary=summary, title=TITLE, background=background, figsize=(9, 3.2))
