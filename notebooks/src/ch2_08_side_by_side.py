# %% [header]
# number = "2.8"
# title = "Four techniques side by side, and the Pareto front of the whole chapter"
# syllabus = ["C8"]
# study_minutes = 25
# prerequisites = ["ch2_01_magnitude_pruning", "ch2_02_movement_pruning", "ch2_03_structured_pruning", "ch2_04_quantization", "ch2_05_ternary_ste", "ch2_06_low_rank_svd", "ch2_07_compression_pipeline"]
# objectives = [
#     "compare pruning, quantization, low-rank factorisation and distillation with numbers measured in the notebook (mechanism, effect on the architecture, strength, weakness, when to use)",
#     "find and read size / latency / accuracy Pareto fronts of one representative model per technique of the chapter",
# ]

# %% [markdown]
# Every number stated in prose below is checked with `claims.check` on what this notebook has just computed.

# %%
# parameters
SEED = 0        # chapter models are rebuilt from this seed; the student comparison averages N_SEEDS seeds
N_SEEDS = 5
BATCH = 360     # latency is measured on one forward pass over the whole test set (360 images)

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from course_lib import cache, data, latency, models, train
from course_lib.claims import Claims
from course_lib.compress import encode, lowrank, pareto, pipeline, prune, quantize
from course_lib.labs.ch2 import bitwidth, sparsity as sparsity_lab
from course_lib.ui import pareto_plot, plots, quiz

ds = data.load("digits")
seeds = list(range(SEED, SEED + N_SEEDS))
claims = Claims("ch2_08_side_by_side")
zoo = {}  # name -> dict(model=..., bytes=..., encoding=..., acc=..., family=...)


def test_acc(model):
    return train.evaluate(model, ds.X_test, ds.y_test)


def add(name, model, size, encoding, family, acc=None, run=None):
    """Register a model: ``run`` is the float model that executes it (a decoded copy for packed formats)."""
    zoo[name] = dict(model=model, run=model if run is None else run, bytes=int(size), encoding=encoding,
                     family=family, acc=test_acc(model) if acc is None else acc)


# %% [markdown]
# ## 1. Rebuilding the chapter's models
# Not every model: the zoo leaves out the movement-pruned models of 2.2, the ternary students of 2.5, the QAT
# models of 2.4 and chapter 1's other students, to keep the notebook within its time budget. The conclusions below
# are about the models shown.
#
# We collect one representative model per technique, with the settings of the notebook that built it, and count
# each one's size for the encoding it would really be stored in:
#
# - the **teacher** (64 -> 256 -> 256 -> 10) of chapter 1, dense float32;
# - a **student** with one hidden layer of 16 units trained on 30% of the labels, once from scratch and once
#   distilled from the teacher (T = 4, alpha = 0.9): the reference setting of chapter 1, averaged over five seeds;
# - the 64 -> 128 -> 128 -> 10 network of notebooks 2.1-2.3, **magnitude-pruned** (global, 20 fine-tuning steps)
#   at four sparsities and stored in compact CSR, and **structure-pruned** to half its hidden units;
# - the 64 -> 64 -> 10 network of notebook 2.4 in float32, **int8** (torchao, dynamic; counted as 1 byte per
#   weight plus one float32 scale per row, the count notebook 2.4 checked against torchao's serialized file) and
#   **fake-quantized to 4 bits** per channel (counted as packed 4-bit codes plus one float32 scale per row);
# - the teacher with `fc2` **factorized by SVD** at ranks 4, 16 and 32, fine-tuned by distillation for 5 epochs
#   (notebook 2.6);
# - the output of the **pipeline** of notebook 2.7.

# %%
with latency.threads(1), tqdm(total=7, desc="building the model zoo") as bar:
    teacher = cache.teacher("digits", seed=SEED)
    add("teacher", teacher, encode.dense_bytes(teacher), "dense float32", "teacher")
    bar.update()

    # distillation: the chapter-1 reference student, five seeds
    student_acc = {"scratch": [], "distilled": []}
    for s in seeds:
        X30, y30 = data.labelled_subset(ds.X_train, ds.y_train, 0.3, seed=s)
        t30 = train.predict(teacher, X30)
        for kind in student_acc:
            st = models.mlp(64, (16,), 10, seed=s)
            if kind == "scratch":
                train.train_scratch(st, X30, y30, epochs=100, lr=3e-2, seed=s)
            else:
                train.train_distilled(st, X30, y30, t30, T=4.0, alpha=0.9, epochs=100, lr=3e-2, seed=s)
            student_acc[kind].append(test_acc(st))
            if s == SEED:
                add(f"student ({kind})", st, encode.dense_bytes(st), "dense float32", "distillation")
    for kind in student_acc:  # the chart shows the mean over seeds
        zoo[f"student ({kind})"]["acc"] = float(np.mean(student_acc[kind]))
    bar.update()

    # pruning: the 128-128 network of notebooks 2.1-2.3
    base = sparsity_lab.base_model(SEED, split_seed=0)
    add("dense 128x128", base, encode.dense_bytes(base), "dense float32", "pruning")
    ce = train.ce_objective(ds.X_train, ds.y_train)
    for sp in (0.5, 0.8, 0.9, 0.95):
        pm = prune.prune_finetune(base, sp, ce, len(ds.X_train), scope="global", steps=20, lr=3e-3,
                                  seed=SEED)["finetuned"]
        add(f"magnitude {sp:.0%}", pm, encode.csr_bytes(pm), "CSR, narrow indices", "pruning")
    sm = prune.remove_units(base, 0.5)
    train.fit(sm, ce, len(ds.X_train), epochs=30, lr=3e-3, seed=SEED)
    add("structured 50%", sm, encode.dense_bytes(sm), "dense float32", "pruning")
    bar.update()

    # quantization: the 64-unit network of notebook 2.4
    fs = bitwidth.float_model(SEED, split_seed=0)
    add("float 64", fs, encode.dense_bytes(fs), "dense float32", "quantization")
    q8 = quantize.int8_ptq(fs, mode="dynamic")
    add("int8", q8, encode.packed_bytes(fs, 8, scheme="per_channel"), "int8 + per-row scales", "quantization")
    # fake quantization, then the rounded weights kept as float32: exactly what the 4-bit codes decode to
    q4 = quantize.add_fake_quant(copy.deepcopy(fs), 4, scheme="per_channel")
    q4 = quantize.remove_fake_quant(q4, leave_quantized=True)
    add("4-bit", q4, encode.packed_bytes(fs, 4, scheme="per_channel"), "4-bit codes + per-row scales",
        "quantization")
    bar.update()

    # low-rank: the teacher's fc2 at three ranks, 5 distilled epochs (notebook 2.6)
    t_logits = train.predict(teacher, ds.X_train)
    rank_before = {}
    for r in (4, 16, 32):
        lr_model = lowrank.factorize(teacher, {"fc2": r})
        rank_before[r] = test_acc(lr_model)
        train.train_distilled(lr_model, ds.X_train, ds.y_train, t_logits, T=4.0, alpha=0.9, epochs=5, lr=3e-3,
                              batch_size=256, seed=SEED)
        add(f"rank {r}", lr_model, encode.dense_bytes(lr_model), "dense float32 factors", "low-rank")
    bar.update()

    # the pipeline of notebook 2.7
    rows = pipeline.run(teacher, ds, seed=SEED)
    add("pipeline (2.7)", rows[-1]["model"], rows[-1]["bytes"], "Huffman codes + codebooks", "pipeline")
    bar.update()

print(f"{'model':20s} {'family':13s} {'encoding':30s} {'bytes':>8} {'test acc':>9}")
for k, v in zoo.items():
    print(f"{k:20s} {v['family']:13s} {v['encoding']:30s} {v['bytes']:>8,} {v['acc']:>9.1%}")

# %% [markdown]
# ## 2. Latency, measured fairly
# Every model runs one forward pass over the 360 test images. `latency.compare` warms each model up, then times
# them *interleaved* (all models once, then all again, ...), 25 times, and keeps the median, so a burst of work
# from another process hits them all alike. torch runs on one thread. A packed format has to be decoded before
# an ordinary CPU kernel can use it, so the 4-bit and pipeline models run as their decoded float32 copies, and the
# magnitude-pruned ones as dense matrices full of zeros: that is what executing them costs here.

# %%
X = ds.X_test[:BATCH]
with torch.inference_mode():
    t = latency.compare({k: (lambda m=v["run"]: m(X)) for k, v in zoo.items()}, repeats=25, warmup=3, number=3,
                        n_threads=1)
for k in zoo:
    zoo[k]["ms"] = t[k].median * 1e3
    print(f"{k:20s} {t[k]}")

# %%
names = list(zoo)
size = np.array([zoo[k]["bytes"] for k in names], float)
ms = np.array([zoo[k]["ms"] for k in names])
acc = np.array([zoo[k]["acc"] for k in names])
front3 = pareto.front_mask(np.column_stack([size, ms, acc]), ("min", "min", "max"))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
ids = list(range(1, len(names) + 1))
families = [zoo[n]["family"] for n in names]
FLOOR = 85.0  # collapsed models are drawn on this line, labelled with their real accuracy
f_size = pareto.front_mask(np.column_stack([size, acc]), ("min", "max"))
f_lat = pareto.front_mask(np.column_stack([ms, acc]), ("min", "max"))
pareto_plot.pareto_front(ax1, size / 1024, 100 * acc, ids, f_size, groups=families, floor=FLOOR,
                   title="Size against accuracy", xlabel="size as stored (KiB, log scale)", ylabel="test accuracy (%)")
pareto_plot.pareto_front(ax2, ms, 100 * acc, ids, f_lat, groups=families, floor=FLOOR,
                   title=f"Latency against accuracy (batch {BATCH}, 1 thread)",
                   xlabel="median time of one forward pass (ms, log scale)", ylabel="test accuracy (%)")
for ax in (ax1, ax2):
    ax.set_ylim(FLOOR - 1, 99.5)
fig.suptitle("Representative models of chapter 2; ringed points form the Pareto front of each panel")
front3_names = {n for n, f in zip(names, front3) if f}
key = "   ".join(f"{i}: {n}{' *' if n in front3_names else ''}" for i, n in zip(ids, names))
key += "   (* on the front of all three axes at once)"
fig.text(0.5, 0.005, key, ha="center", va="bottom", fontsize=8, wrap=True)
plt.tight_layout(rect=(0, 0.07, 1, 1))
plt.show()
front = {"size": {n for n, f in zip(names, f_size) if f}, "latency": {n for n, f in zip(names, f_lat) if f},
         "all three": {n for n, f in zip(names, front3) if f}}
for k, v in front.items():
    print(f"Pareto front on {k}: {sorted(v)}")

# %% [markdown]
# ## 3. The numbers behind the comparison
# Before the table, the cell below pulls out of the zoo every number the table quotes, and checks the direction of
# each claim with a safety margin. Accuracy comparisons between the two students use the mean of the five seeds;
# a latency ratio is asserted only when it is far from 1, or, when we claim "no change", inside a wide band
# around 1, because other programs share this CPU.

# %%
z = {k: v for k, v in zoo.items()}
A = {k: v["acc"] for k, v in z.items()}
B = {k: v["bytes"] for k, v in z.items()}
T = {k: v["ms"] for k, v in z.items()}
num = dict(
    m50_gap=A["dense 128x128"] - A["magnitude 50%"],
    m80_shrink=B["dense 128x128"] / B["magnitude 80%"],
    m90_time=latency.paired_ratio(t["magnitude 90%"], t["dense 128x128"]),  # medians of interleaved pairs
    m90_drop=A["dense 128x128"] - A["magnitude 90%"],
    s50_speed=latency.paired_ratio(t["dense 128x128"], t["structured 50%"]),
    s50_drop=A["dense 128x128"] - A["structured 50%"],
    int8_shrink=B["float 64"] / B["int8"],
    int8_change=A["int8"] - A["float 64"],
    int8_slow=latency.paired_ratio(t["int8"], t["float 64"]),
    q4_shrink=B["float 64"] / B["4-bit"],
    q4_drop=A["float 64"] - A["4-bit"],
    r16_gap=A["teacher"] - A["rank 16"],
    r16_speed=latency.paired_ratio(t["teacher"], t["rank 16"]),
    r16_shrink=B["teacher"] / B["rank 16"],
    r4_before=A["teacher"] - rank_before[4],
    r4_after=A["teacher"] - A["rank 4"],
    kd_gain=float(np.mean(student_acc["distilled"]) - np.mean(student_acc["scratch"])),
    kd_gap=A["teacher"] - A["student (distilled)"],
    kd_shrink=B["teacher"] / B["student (distilled)"],
    kd_speed=latency.paired_ratio(t["teacher"], t["student (distilled)"]),
)
for k, v in num.items():
    print(f"{k:12s} {v:8.3f}")
checks = {
    "pruning: 50% of the weights cost at most 2 points": num["m50_gap"] <= 0.02,
    "pruning: at 80% sparsity compact CSR is over 3x smaller than dense": num["m80_shrink"] > 3,
    "pruning: 90% zeros run at the dense speed (time ratio in [0.67, 1.5])": 0.67 < num["m90_time"] < 1.5,
    "pruning: one-shot 90% with 20 steps loses more than 5 points": num["m90_drop"] > 0.05,
    "structured: half the units removed is at least 1.3x faster": num["s50_speed"] >= 1.3,
    "structured: and loses at most 3 points": num["s50_drop"] <= 0.03,
    "int8: more than 3.5x smaller, accuracy within 1 point": num["int8_shrink"] > 3.5 and abs(num["int8_change"]) <= 0.01,
    "int8: torchao eager int8 is over 3x slower than float32 here": num["int8_slow"] > 3,
    "4-bit: more than 6x smaller, loses at most 3 points": num["q4_shrink"] > 6 and num["q4_drop"] <= 0.03,
    "low-rank: rank 16 within 1 point of the teacher after fine-tuning": num["r16_gap"] <= 0.01,
    "low-rank: rank 16 at least 1.5x faster than the teacher": num["r16_speed"] >= 1.5,
    "low-rank: rank 4 loses over 10 points before fine-tuning, fewer after": num["r4_before"] > 0.10 and num["r4_after"] < num["r4_before"],
    "distillation: the distilled student beats scratch by over 0.5 points (5 seeds)": num["kd_gain"] > 0.005,
    "distillation: the student is over 50x smaller and over 5x faster than the teacher": num["kd_shrink"] > 50 and num["kd_speed"] > 5,
    "distillation: the student stays more than 0.5 points below the teacher": num["kd_gap"] > 0.005,
}
for c, ok in checks.items():
    claims.check(c, ok, **num)

# %% [markdown]
# ## 4. The four techniques, side by side
# The table is generated from the numbers just measured (the cell prints them in), so it cannot drift from the
# code. Read each row as: what the technique touches, what that buys, what it costs, and when it is the right
# tool.

# %%
pct = lambda v: f"{100 * v:.1f}"    # noqa: E731  (points)
sgn = lambda v: f"{100 * v:+.1f}"   # noqa: E731  (signed change in points)
table = f"""
| | **Pruning** (unstructured / structured) | **Quantization** (int8 / 4-bit) | **Low-rank factorization** (SVD) | **Distillation** |
|---|---|---|---|---|
| **Mechanism** | set the least important weights to zero (magnitude, movement), or drop whole units; fine-tune the survivors | round every weight to a symmetric grid of 2^b - 1 levels with a scale per tensor or row | keep the r largest singular directions of a weight matrix: W ~ U_r V_r | train a new, smaller network to match the teacher's softened outputs |
| **Architecture** | unstructured: same shapes, zeros inside; structured: narrower layers | unchanged; fewer bits per weight | one layer becomes two thinner ones (m x r, r x n) | whatever student you choose |
| **Strength (measured)** | 50% of weights gone, accuracy {sgn(-num['m50_gap'])} points; CSR {num['m80_shrink']:.1f}x smaller at 80%; removing half the units runs {num['s50_speed']:.1f}x faster | int8 {num['int8_shrink']:.1f}x smaller, accuracy {sgn(num['int8_change'])} points; 4-bit {num['q4_shrink']:.1f}x smaller, accuracy {sgn(-num['q4_drop'])} points | rank 16: {num['r16_shrink']:.1f}x smaller teacher, {num['r16_speed']:.1f}x faster, accuracy {sgn(-num['r16_gap'])} points against it | a {num['kd_shrink']:.0f}x smaller, {num['kd_speed']:.0f}x faster student; {pct(num['kd_gain'])} points above the same student trained on labels alone |
| **Weakness (measured)** | zeros are not speed: 90% sparse runs at {num['m90_time']:.2f}x the dense time; one-shot 90% loses {pct(num['m90_drop'])} points | eager torchao int8 is {num['int8_slow']:.0f}x *slower* than float32 on these small layers: speed needs int8 kernels | rank 4 loses {pct(num['r4_before'])} points before fine-tuning ({pct(num['r4_after'])} after); only pays for large dense layers | still {pct(num['kd_gap'])} points below the teacher; needs a trained teacher and a full training run |
| **When to use** | unstructured: to shrink storage, at high sparsity with a narrow-index format; structured: when latency matters | almost always, as the last step; int8 is nearly free, lower bits need a check (or QAT) | large dense or linear layers whose spectrum decays fast | when you can train: it builds the fast dense model, and repairs the damage of the other three |
"""
display(Markdown(table))

# %% [markdown]
# ## 5. Reading the Pareto front
# A model is on the front if no other model is at least as good on every axis and strictly better on one. The chart
# above marks the front of each two-axis view; the printout also gives the front on all three axes at once. What it
# shows, and what the next cell checks:
#
# 1. **The scratch student is never on the size front**: the distilled student has exactly the same bytes and a
#    higher mean accuracy. Distillation is free at inference time; it only costs training.
# 2. **Unstructured pruning with this recipe does not reach the front.** The recipe is deliberately the short one
#    of notebook 2.1 (one-shot global magnitude pruning, 20 fine-tuning steps), not the gradual or movement pruning
#    of notebook 2.2, so this says more about one-shot pruning than about pruning. Every magnitude-pruned model at 80% sparsity or more
#    is beaten on all three axes at once by the small 64-unit network of notebook 2.4: the 80% one by its plain
#    float32 version, which is smaller (a narrower dense model stores no indices), several times faster (it does
#    less arithmetic) and more accurate; the 90% and 95% ones, smaller than that, by its 4-bit version.
# 3. **The distilled student is on the latency front and on the three-axis front.** Only its twin, the scratch
#    student, runs as fast (same shapes, so which of the two the clock favours is noise), and the twin is less
#    accurate, so nothing can dominate the distilled one. The scratch student may or may not join the latency
#    front from run to run: a reminder that ties in latency are decided by noise.
# 4. **The smallest models come from quantization.** The 4-bit network is the smallest model on the chart, hence on
#    the size front by construction; and the pipeline of notebook 2.7 is at least as accurate as every model of its
#    size or smaller: that is what combining the techniques buys.
#
# Latency tells a different story from size: the int8 model is small but, run by torchao in eager mode, it is
# several times slower than the float network it came from; the pipeline output is tiny on disk but runs as a
# decoded float model of its shape.
# Which front matters depends on the deployment: a download budget, a memory budget or a response-time budget.

# %%
idx = {n: i for i, n in enumerate(names)}
P3 = np.column_stack([size, ms, acc])
beaten = {80: "float 64", 90: "4-bit", 95: "4-bit"}
dominated_by_small = all(idx[by] in pareto.dominators(P3, ("min", "min", "max"), idx[f"magnitude {p}%"])
                         for p, by in beaten.items())
small = [n for n in names if zoo[n]["bytes"] <= zoo["pipeline (2.7)"]["bytes"]]
pareto_claims = {
    "front: the scratch student is dominated on size/accuracy by the distilled student":
        "student (scratch)" not in front["size"] and idx["student (distilled)"] in pareto.dominators(
            np.column_stack([size, acc]), ("min", "max"), idx["student (scratch)"]),
    "front: magnitude-pruned 80% / 90% / 95% dominated on all 3 axes by float 64 / 4-bit / 4-bit": dominated_by_small,
    "front: the distilled student is on the latency front and the 3-axis front":
        "student (distilled)" in front["latency"] and "student (distilled)" in front["all three"],
    "front: the 4-bit model is the smallest and on the size front":
        size.argmin() == idx["4-bit"] and "4-bit" in front["size"],
    "front: the pipeline output is at least as accurate as every model of its size or smaller":
        all(zoo["pipeline (2.7)"]["acc"] >= zoo[n]["acc"] for n in small),
}
for c, ok in pareto_claims.items():
    claims.check(c, ok, front_size=sorted(front["size"]), front_latency=sorted(front["latency"]),
                 front_all=sorted(front["all three"]))
print(f"models no larger than the pipeline output: {small}")

# %% [markdown]
# ## Check yourself

# %%
quiz("The 90%-sparse model is stored in far fewer bytes than the dense one. Why is it not faster?", [
    ("It runs as a dense matrix full of zeros, and a dense kernel multiplies every entry", True,
     "Right: its paired time ratio to dense stayed near 1 (asserted); only a change of shape buys speed."),
    ("CSR decoding happens at every forward pass", False,
     "No: it is decoded once, before timing; the forward pass is a plain dense one."),
    ("Sparse models are always slower", False, "No: with a sparse kernel and enough zeros they can be faster (2.1)."),
])

# %%
quiz("Which technique would you pick first to cut response time on a CPU, keeping accuracy?", [
    ("Distillation into a smaller dense student (or structured pruning)", True,
     "Right: both change the shapes, which is what a dense kernel's time depends on."),
    ("Unstructured pruning", False, "No: it shrinks storage, not time, on a dense kernel."),
    ("torchao int8 in eager mode", False, "No: here it was several times slower on these small layers (asserted)."),
])

# %% [markdown]
# ## What we learned
# - Each technique buys something different: unstructured pruning shrinks storage but not time, structured pruning and low rank cut time, quantization cuts bytes most, distillation builds a fast dense model.
# - On the Pareto fronts the distilled student and the quantized models dominate; magnitude pruning with this short recipe does not reach the front.
# - Latency ratios are measured as medians of interleaved pairs, and ties in latency are decided by noise.

# %%
print(", ".join(f"{k} {v:.3g}" for k, v in num.items()))
print(f"students over {N_SEEDS} seeds: scratch {np.mean(student_acc['scratch']):.1%} "
      f"(sd {np.std(student_acc['scratch']):.1%}), distilled {np.mean(student_acc['distilled']):.1%} "
      f"(sd {np.std(student_acc['distilled']):.1%})")
for k, v in front.items():
    print(f"Pareto front on {k}: {sorted(v)}")

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 20/20

# %% [markdown]
# ## References
# - Han, S., Mao, H. and Dally, W. (2016). Deep Compression. ICLR.
# - Sanh, V., Wolf, T. and Rush, A. (2020). Movement pruning: adaptive sparsity by fine-tuning. NeurIPS.
# - Jacob, B. et al. (2018). Quantization and training of neural networks for efficient integer-arithmetic-only inference. CVPR.
# - Denton, E. et al. (2014). Exploiting linear structure within convolutional networks for efficient evaluation. NeurIPS.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** chapter 3 (see the [course map](README.md)): how reliable compressed and distilled models are.
