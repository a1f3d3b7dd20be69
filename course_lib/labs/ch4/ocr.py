"""A5 lab: reading digit strings with CTC; a quantized student with and without the teacher's per-frame targets.

``setup(seed)`` splits sklearn's 8x8 digit images into train / test glyphs (``data.load("digits",
split_seed=seed)``), lays them side by side into strings of 3-6 digits with random gaps (train strings only from
train glyphs, test strings only from test glyphs), trains and caches a 48-channel convolutional CTC teacher, and
trains and caches 16-channel students whose convolution weights are fake-quantized while they train
(quantization-aware training, per output channel) at ``BITS`` = 8 and 2 bits, each from ``N_STUDENTS``
seeds (``range(1000 + N_STUDENTS * seed, ...)``), either on CTC with the labels only ("scratch") or on CTC plus
the per-frame KL divergence to the teacher ("distilled"). It reads the test strings with greedy decoding and
counts insertions, deletions and substitutions.

The live lab needs no training: it takes two 8-bit students (of each kind, the one with the lowest CER on the
training strings), rounds
their latent float weights to the slider's bit-width instead (post-training quantization: no retraining at the
new width), reads the test strings again, and shows a few of them with their decodings and the error operations
coloured.
"""
from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ... import cache, data
from ..._checks import check_choice, check_int_range, check_range
from ...compress.quantize import ALLOWED_BITS, WEIGHTED, add_fake_quant, fake_quantize, remove_fake_quant
from ...distill import ocr
from ...ui import plots, widgets

TITLE = "Reading digit strings: post-training quantization of two CTC students"
TRY = ("Lower the bit-width from 8 to 2 and watch the decodings fall apart once the weights are rounded without "
       "retraining; compare which error type grows, and the two students.")
N_TRAIN, N_VAL, N_TEST = 1000, 300, 500
TEACHER_CHANNELS, STUDENT_CHANNELS = 48, 16
BITS = (8, 2)
KINDS = ("scratch", "distilled")
WEIGHTS = (0.25, 0.5, 0.75)  # the per-frame KD weights tried at 8 bits; one is chosen on the validation strings
TAU = 1.0
EPOCHS, LR, BATCH = 12, 1e-2, 50
N_STUDENTS = {8: 6, 2: 3}  # student seeds per bit-width: the first n of student_seeds(seed)
SCHEME = "per_channel"
SHOWN = 4
LIVE_FROM = 8  # the live lab rounds the 8-bit students (one seed of each kind) to fewer bits
COLOURS = {"scratch": "tab:gray", "distilled": "tab:green", "teacher": "tab:purple"}
OP_COLOURS = {"replace": "#e67e00", "insert": "#c00000", "delete": "#1f5fbf"}


@lru_cache(maxsize=8)
def strings(seed: int = 0):
    """Train and test strings: glyphs from the train / test split of ``data.load('digits', split_seed=seed)``."""
    ds = data.load("digits", split_seed=seed)
    train = ocr.make_strings(ds.X_train.reshape(-1, 8, 8), ds.y_train, N_TRAIN, seed=100 * seed + 1)
    test = ocr.make_strings(ds.X_test.reshape(-1, 8, 8), ds.y_test, N_TEST, seed=100 * seed + 3)
    return train, test


@lru_cache(maxsize=8)
def val_strings(seed: int = 0):
    """Validation strings, from the validation glyphs only (for choosing the KD weight)."""
    ds = data.load("digits", split_seed=seed)
    return ocr.make_strings(ds.X_val.reshape(-1, 8, 8), ds.y_val, N_VAL, seed=100 * seed + 2)


def _fit(data_, teacher_lp=None, weight=0.0, seed=0, progress=False):
    def fit(m):
        ocr.fit_ctc(m, data_, teacher_log_probs=teacher_lp, weight=weight, tau=TAU, epochs=EPOCHS, lr=LR,
                    batch_size=BATCH, seed=seed, progress=progress)
    return fit


def _config(kind, seed, channels, bits=None, weight=0.0, teacher_seed=None):
    return dict(kind=kind, seed=int(seed), channels=channels, bits=bits, scheme=SCHEME, weight=weight, tau=TAU,
                epochs=EPOCHS, lr=LR, batch=BATCH, n_train=N_TRAIN, data_seed=int(teacher_seed), model="convctc-v1",
                teacher_channels=TEACHER_CHANNELS)


def teacher(seed: int = 0, progress=False) -> nn.Module:
    train, _ = strings(seed)
    return cache.cached_model(_config("ocr-teacher", seed, TEACHER_CHANNELS, teacher_seed=seed),
                              lambda: ocr.ConvCTC(TEACHER_CHANNELS, seed=seed),
                              _fit(train, seed=seed, progress=progress and "training the teacher"),
                              name="ocr-teacher")


def student(seed: int, data_seed: int, bits: int | None, kind: str, teacher_lp=None, weight: float = 0.5) -> nn.Module:
    """A 16-channel student; ``bits=None``: float, else fake-quantized (per channel) while it trains.
    ``kind="distilled"`` trains on ``(1 - weight) * CTC + weight * frame KD``."""
    check_choice("kind", kind, KINDS)
    if bits is not None:
        check_choice("bits", bits, ALLOWED_BITS)
    train, _ = strings(data_seed)
    weight = float(check_range("weight", weight, 0, 1, lo_open=True)) if kind == "distilled" else 0.0

    def build():
        m = ocr.ConvCTC(STUDENT_CHANNELS, seed=seed)
        if bits is not None:
            add_fake_quant(m, bits, scheme=SCHEME, kinds=WEIGHTED)
        return m

    return cache.cached_model(_config(f"ocr-{kind}", seed, STUDENT_CHANNELS, bits, weight, data_seed), build,
                              _fit(train, teacher_lp if weight else None, weight, seed), name="ocr-student")


def student_seeds(seed: int, bits: int = 8) -> list[int]:
    """Student seeds of SEED ``seed`` (disjoint between SEEDs); ``bits`` uses the first ``N_STUDENTS[bits]``."""
    n = max(N_STUDENTS.values())
    return list(range(1000 + n * seed, 1000 + n * seed + N_STUDENTS[bits]))


@dataclass(frozen=True, eq=False)
class Setup:
    seed: int
    test: ocr.DigitStrings
    teacher: dict                  # error_rate of the teacher on the test strings
    results: dict                  # (bits, kind) -> list of error_rate dicts, one per student seed
    weight: float                  # the KD weight chosen on the validation strings (8-bit students)
    val_cer: dict                  # weight (0.0: scratch) -> validation CER of each 8-bit student seed
    live_students: dict            # kind -> an 8-bit student with its parametrization removed (latent weights)
    work: nn.Module                # a scratch model the live lab loads rounded weights into
    reads: dict = field(default_factory=dict)  # bits -> kind -> readings of every test string (filled by run)


@lru_cache(maxsize=4)
def setup(seed: int = 0, progress: bool = False) -> Setup:
    """Strings, the cached teacher and every QAT student.

    At 8 bits: for each of ``N_STUDENTS[8]`` seeds a scratch student and a distilled student at each of
    ``WEIGHTS``; the weight with the lowest mean CER on the *validation* strings is chosen, and its students are the
    "distilled" results. At 2 bits: ``N_STUDENTS[2]`` seeds, scratch and distilled at the chosen weight.
    """
    from tqdm.auto import tqdm

    seed = int(seed)
    train, test = strings(seed)
    val = val_strings(seed)
    t = teacher(seed, progress)
    t_lp = ocr.predict_log_probs(t, train.images)
    t_res = ocr.error_rate(test.texts, ocr.read_strings(t, test.images))

    def cer(m, d):
        return ocr.error_rate(d.texts, ocr.read_strings(m, d.images))

    jobs8 = [(s_, w) for s_ in student_seeds(seed, 8) for w in (0.0,) + WEIGHTS]
    bar = tqdm(total=len(jobs8) + 2 * N_STUDENTS[2], desc="students (cached on disk)", leave=False) if progress else None
    models, val_cer = {}, {}
    for s_, w in jobs8:
        m = student(s_, seed, 8, "distilled" if w else "scratch", t_lp, w or 0.5)
        models[s_, w] = m
        val_cer.setdefault(w, []).append(cer(m, val)["cer"])
        if bar is not None:
            bar.update()
    w_best = min(WEIGHTS, key=lambda w: (float(np.mean(val_cer[w])), w))
    results = {(8, "scratch"): [cer(models[s_, 0.0], test) for s_ in student_seeds(seed, 8)],
               (8, "distilled"): [cer(models[s_, w_best], test) for s_ in student_seeds(seed, 8)]}
    for k in KINDS:
        for s_ in student_seeds(seed, 2):
            m = student(s_, seed, 2, k, t_lp, w_best)
            results.setdefault((2, k), []).append(cer(m, test))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    live = {}
    for k in KINDS:  # the live lab uses, of each kind, the 8-bit student that reads the *training* strings best
        cands = [models[s_, w_best if k == "distilled" else 0.0] for s_ in student_seeds(seed, LIVE_FROM)]
        train_cer = [cer(m, train)["cer"] for m in cands]
        live[k] = remove_fake_quant(copy.deepcopy(cands[int(np.argmin(train_cer))]))
    work = ocr.ConvCTC(STUDENT_CHANNELS, seed=0).eval()
    return Setup(seed, test, t_res, results, float(w_best), {w: list(v) for w, v in val_cer.items()}, live, work)


def median_over_seeds(s: Setup, key: str = "cer") -> dict:
    """(bits, kind) -> median of ``key`` over the student seeds (one run stuck at the all-blank start cannot move it)."""
    return {bk: float(np.median([r[key] for r in rs])) for bk, rs in s.results.items()}


def _rounded(s: Setup, model: nn.Module, bits: int) -> nn.Module:
    """Load ``model``'s weights into ``s.work`` with every convolution weight rounded to ``bits`` bits."""
    state = model.state_dict()
    with torch.no_grad():
        for name, m in s.work.named_modules():
            if isinstance(m, nn.Conv1d):
                m.weight.copy_(fake_quantize(state[f"{name}.weight"], bits, scheme=SCHEME))
                m.bias.copy_(state[f"{name}.bias"])
            elif isinstance(m, nn.BatchNorm1d):
                for p in ("weight", "bias", "running_mean", "running_var"):
                    getattr(m, p).copy_(state[f"{name}.{p}"])
    return s.work


def run(s: Setup, bits: int = 8, first: int = 0) -> dict:
    """Round both live students' latent convolution weights to ``bits`` bits and read every test string."""
    bits = check_choice("bits", int(bits) if isinstance(bits, (int, np.integer)) else bits, ALLOWED_BITS)
    first = check_int_range("first", first, 0, N_TEST - SHOWN)
    out = {"bits": bits, "first": first, "reads": {}, "errors": {}}
    if bits not in s.reads:  # rounding and reading are deterministic: a bit-width already visited is remembered
        s.reads[bits] = {}
        for k, m in s.live_students.items():
            hyp = ocr.read_strings(_rounded(s, m, bits), s.test.images)
            s.reads[bits][k] = (hyp, ocr.error_rate(s.test.texts, hyp))
    for k, (hyp, err) in s.reads[bits].items():
        out["reads"][k] = hyp[first:first + SHOWN]
        out["errors"][k] = err
    out["truth"] = list(s.test.texts[first:first + SHOWN])
    out["images"] = s.test.images[first:first + SHOWN].numpy()
    out["teacher_cer"] = s.teacher["cer"]
    return out


def coloured(reference: str, hypothesis: str) -> str:
    """HTML of ``hypothesis`` with substitutions, insertions and deleted reference characters coloured."""
    ops = ocr.edit_ops(reference, hypothesis)
    sub = {h for t, _, h in ops if t == "replace"}
    ins = {h for t, _, h in ops if t == "insert"}
    dels = {}
    for t, r, h in ops:
        if t == "delete":
            dels.setdefault(h, []).append(reference[r])
    parts = []
    for j in range(len(hypothesis) + 1):
        for c in dels.get(j, []):
            parts.append(f"<s style='color:{OP_COLOURS['delete']}'>{c}</s>")
        if j == len(hypothesis):
            break
        c = html.escape(hypothesis[j])
        colour = OP_COLOURS["replace"] if j in sub else OP_COLOURS["insert"] if j in ins else None
        parts.append(f"<b style='color:{colour}'>{c}</b>" if colour else c)
    return "<code>" + "".join(parts) + "</code>"


def render(result: dict, fig) -> None:
    """Left: the shown test strings. Right: insertions, deletions and substitutions of both students."""
    ax1, ax2 = plots.fast_axes(fig, 2, left=0.06, wspace=0.25)
    imgs = result["images"]
    gap = np.full((2, imgs.shape[2]), np.nan)
    stack = np.concatenate([np.concatenate([im, gap]) for im in imgs])
    ax1.imshow(stack, cmap="gray_r", aspect="auto", interpolation="nearest")
    ax1.set_yticks([4 + 10 * i for i in range(len(imgs))], [f"#{result['first'] + i}" for i in range(len(imgs))])
    ax1.set_xticks([0, 16, 32, 48, 63])
    # titles at a fixed y: matplotlib then skips measuring tick labels to place them (a good part of a redraw)
    ax1.set_title(f"test strings #{result['first']}-{result['first'] + len(imgs) - 1} (8 px high)", y=1.0)
    ax1.set_xlabel("column (pixels)")
    x = np.arange(3)
    for i, k in enumerate(KINDS):
        e = result["errors"][k]
        ax2.bar(x + (i - 0.5) * 0.38, [e["insertions"], e["deletions"], e["substitutions"]], width=0.38,
                color=COLOURS[k])
    ax2.set_xticks(x, ["insertions", "deletions", "substitutions"])
    ax2.set_title(f"errors at {result['bits']} bits, {N_TEST} strings (grey: scratch, green: distilled)", y=1.0,
                  fontsize=9)
    ax2.set_ylabel("count (characters)")


def summary(result: dict) -> str:
    rows = []
    for i, truth in enumerate(result["truth"]):
        cells = " &nbsp; ".join(f"{k}: {coloured(truth, result['reads'][k][i])}" for k in KINDS)
        rows.append(f"#{result['first'] + i} true <code>{truth}</code> &nbsp; {cells}")
    e = result["errors"]
    legend = (f"<span style='color:{OP_COLOURS['replace']}'><b>substituted</b></span>, "
              f"<span style='color:{OP_COLOURS['insert']}'><b>inserted</b></span>, "
              f"<span style='color:{OP_COLOURS['delete']}'><s>deleted</s></span>")
    return (f"{result['bits']}-bit weights (rounded after training; nothing retrained): CER scratch "
            f"{e['scratch']['cer']:.1%}, distilled {e['distilled']['cer']:.1%} (float teacher: "
            f"{result['teacher_cer']:.1%}). Colours: {legend}.<br>" + "<br>".join(rows))


def dashboard(seed: int = 0, bits: int = 8, first: int = 0, background: bool = True):
    """Sliders over the bit-width the 8-bit students are rounded to, and which test strings are shown."""
    s = setup(seed)
    return widgets.Dashboard(lambda bits, first: run(s, bits, first),
                             {"bits": widgets.slider(bits, 2, 8, 1, description="weight bits", integer=True),
                              "first": widgets.slider(first, 0, N_TEST - SHOWN, SHOWN,
                                                      description="first string shown", integer=True)},
                             render=render, summary=summary, figsize=(9.5, 2.8), title=TITLE, background=background)
