"""B7 lab: every kind of student the course builds, reported as DistilBERT was.

The teacher is the course's 256-256 MLP. The students: distilled MLPs of
widths 16 to 128 (two hidden layers, KD at T = 4, cached on disk), and the
teacher compressed four ways with ``course_lib.compress``: 90% global magnitude
pruning, int8 post-training quantization (torchao), a rank-16 factorization of
its 256 x 256 layer, and 75% of its hidden units removed; each of the three
that can be fine-tuned gets 30 full-batch KD epochs. Size is stored bytes
(CSR for the pruned model, packed int8 for the quantized one); speed is the
median of paired, interleaved timings (``latency.compare``) at batch 1 and 256.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, latency, models, train
from ..._checks import check_choice
from ...compress import encode, lowrank, prune, quantize
from ...reliability import report
from ...ui import plots
from ...ui.widgets import Dashboard

TITLE = "Size, speed, accuracy: every student against its teacher"
TRY = "Pick a student: its DistilBERT-style line appears below, and it is circled on both trade-off plots."

WIDTHS = (16, 32, 64, 128)
T, ALPHA, KD_EPOCHS, FT_EPOCHS = 4.0, 0.9, 150, 30
BATCHES = (1, 256)


@dataclass(eq=False)
class Setup:
    seed: int
    ds: data.Dataset
    models: dict                      # name -> model (the teacher first)
    kind: dict                        # name -> "teacher" | "distilled" | "compressed"
    accuracy: dict = field(default_factory=dict)
    bytes: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)   # batch -> {name: latency.Timing}


def distilled(ds, teacher_logits, width: int, seed: int):
    """A 64-w-w-10 MLP distilled from the teacher on the training split (cached on disk)."""
    config = dict(kind="kd-student", dataset=ds.name, width=int(width), seed=int(seed), T=T, alpha=ALPHA,
                  epochs=KD_EPOCHS, lr=1e-2)

    def build():
        return models.mlp(ds.n_features, (width, width), ds.n_classes, seed=seed)

    def fit(m):
        train.fit(m, train.kd_objective(ds.X_train, ds.y_train, teacher_logits, T=T, alpha=ALPHA), len(ds.X_train),
                  epochs=KD_EPOCHS, lr=1e-2, seed=seed)

    return cache.cached_model(config, build, fit, name=f"kd-student-s{seed}")


def build(seed: int = 0, *, progress: bool = False) -> Setup:
    """Train (or load) every student and compress the teacher four ways; no timing yet."""
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    tl = train.predict(teacher, ds.X_train)
    kd = train.kd_objective(ds.X_train, ds.y_train, tl, T=T, alpha=ALPHA)
    n = len(ds.X_train)
    steps = [("teacher", lambda: teacher, "teacher")]
    steps += [(f"KD {w}-{w}", lambda w=w: distilled(ds, tl, w, seed), "distilled") for w in WIDTHS]

    def pruned():
        return prune.prune_finetune(teacher, 0.9, kd, n, scope="global", steps=FT_EPOCHS, lr=1e-3, seed=seed)["finetuned"]

    def fine_tuned(m):
        train.fit(m, kd, n, epochs=FT_EPOCHS, lr=1e-3, seed=seed)
        return m.eval()

    steps += [("pruned 90%", pruned, "compressed"),
              ("int8 (torchao)", lambda: quantize.int8_ptq(teacher), "compressed"),
              ("low-rank fc2, rank 16", lambda: fine_tuned(lowrank.factorize(teacher, {"fc2": 16})), "compressed"),
              ("75% of units removed", lambda: fine_tuned(prune.remove_units(teacher, 0.75)), "compressed")]
    if progress:
        from tqdm.auto import tqdm
        steps = tqdm(steps, desc="students", leave=False)
    s = Setup(seed, ds, {}, {})
    for name, make, kind in steps:
        m = make()
        m.eval()
        s.models[name], s.kind[name] = m, kind
        s.accuracy[name] = train.evaluate(m, ds.X_test, ds.y_test)
        if name.startswith("int8"):
            s.bytes[name] = encode.packed_bytes(teacher, 8)
            s.params[name] = models.count_params(teacher)
        elif name.startswith("pruned"):
            s.bytes[name] = encode.model_bytes(m, layout="csr")
            s.params[name] = models.count_params(m, nonzero=True)
        else:
            s.bytes[name] = encode.model_bytes(m)
            s.params[name] = models.count_params(m)
    return s


def time_all(s: Setup, *, repeats: int = 31) -> None:
    """Paired, interleaved timings of every model's forward pass, one thread, at each batch size."""
    for b in BATCHES:
        x = s.ds.X_test[:b] if b <= len(s.ds.X_test) else s.ds.X_test.repeat(b // len(s.ds.X_test) + 1, 1)[:b]
        fns = {k: (lambda m=m: m(x)) for k, m in s.models.items()}
        with torch.inference_mode():
            s.timings[b] = latency.compare(fns, repeats=repeats, warmup=3, number=1, n_threads=1)


@lru_cache(maxsize=8)
def setup(seed: int = 0, *, progress: bool = False) -> Setup:
    s = build(seed, progress=progress)
    time_all(s)
    return s


def table(s: Setup) -> dict:
    """name -> DistilBERT-style numbers against the teacher, with speed-ups at each batch size."""
    out = {}
    t = "teacher"
    for k in s.models:
        row = {"accuracy": s.accuracy[k], "bytes": s.bytes[k], "params": s.params[k], "kind": s.kind[k]}
        for b in BATCHES:
            sp = report.paired_speedups(s.timings[b][t].times, s.timings[b][k].times)
            row[f"speedup_b{b}"] = float(np.median(sp))
            row[f"speedup_b{b}_q25"] = float(np.quantile(sp, 0.25))
            row[f"speedup_b{b}_q75"] = float(np.quantile(sp, 0.75))
            row[f"ms_b{b}"] = s.timings[b][k].median * 1e3
        rep = report.distilbert_style(s.bytes[t], s.bytes[k], 1.0, 1.0 / row["speedup_b1"], s.accuracy[t],
                                      s.accuracy[k])
        row.update(rep)
        row["line_b1"] = report.describe(rep)
        rep256 = dict(rep, faster=row["speedup_b256"] - 1)
        row["line_b256"] = report.describe(rep256)
        out[k] = row
    return out


def run(s: Setup, student: str = "KD 32-32") -> dict:
    check_choice("student", student, list(s.models))
    return {"student": student, "table": table(s)}


def render(result: dict, fig) -> None:
    ax1, ax2 = plots.fast_axes(fig, 2)
    tab = result["table"]
    names = list(tab)
    kb = np.array([tab[k]["bytes"] / 1024 for k in names])
    acc = np.array([tab[k]["accuracy"] for k in names])
    sp = np.array([tab[k]["speedup_b256"] for k in names])
    colours = {"teacher": "k", "distilled": "tab:blue", "compressed": "tab:orange"}
    front = report.pareto_mask(kb, acc)
    d = [i for i, k in enumerate(names) if tab[k]["kind"] == "distilled"]
    ax1.plot(kb[d], acc[d], "-", color="tab:blue", lw=1)
    cols = [colours[tab[k]["kind"]] for k in names]
    on = np.flatnonzero(front)
    off = np.flatnonzero(~front)
    ax1.scatter(kb[on], acc[on], c=[cols[i] for i in on], s=30, marker="o")
    if len(off):
        ax1.scatter(kb[off], acc[off], c=[cols[i] for i in off], s=30, marker="x")
    ax2.scatter(sp, acc, c=cols, s=30)
    j = names.index(result["student"])
    for ax, xv in ((ax1, kb[j]), (ax2, sp[j])):
        ax.scatter([xv], [acc[j]], s=160, facecolors="none", edgecolors="tab:red", lw=1.5)
    from matplotlib.ticker import NullFormatter

    ax1.set_xscale("log")
    ax2.set_xscale("log")
    ticks = [v for v in (0.03, 0.1, 0.3, 1, 3, 10, 30) if sp.min() / 1.5 <= v <= sp.max() * 1.5]
    ax2.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax2.xaxis.set_minor_formatter(NullFormatter())
    from matplotlib.lines import Line2D

    ax1.legend([Line2D([], [], ls="", marker="o", color=c) for c in colours.values()], list(colours), fontsize=8,
               loc="lower right")
    lo = max(0.0, float(acc.min()) - 0.03)
    for ax in (ax1, ax2):
        ax.set_ylim(lo, 1.0)
    plots.style(ax1, "Size against accuracy (o: Pareto front)", "stored size (KiB, log)", "test accuracy")
    plots.style(ax2, "Speed-up at batch 256 against accuracy", "speed-up over the teacher (x, log)", "test accuracy")


def summary(result: dict) -> str:
    r = result["table"][result["student"]]
    return (f"<b>{result['student']}</b>: {r['line_b1']} (batch 1); at batch 256 {r['speedup_b256']:.1f}x the "
            f"teacher's speed; {r['bytes'] / 1024:.1f} KiB, test accuracy {r['accuracy']:.1%}")


def dashboard(seed: int = 0, *, student: str = "KD 32-32", background: bool = True) -> Dashboard:
    import ipywidgets as W

    s = setup(seed)
    control = W.SelectionSlider(options=list(s.models), value=student, description="student",
                                continuous_update=False, style={"description_width": "initial"},
                                layout=W.Layout(width="520px"))
    return Dashboard(lambda student: run(s, student), {"student": control}, render=render, summary=summary,
                     figsize=(10, 3.6), title=TITLE, background=background)
