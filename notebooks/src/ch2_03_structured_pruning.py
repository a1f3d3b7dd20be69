# %% [header]
# number = "2.3"
# title = "Structured pruning: remove whole units, measure the speed-up"
# syllabus = ["C3"]
# study_minutes = 25
# prerequisites = ["ch2_01_magnitude_pruning"]
# objectives = [
#     "remove whole hidden units, physically shrink the network and measure the CPU speed-up (none from masking alone)",
#     "compare with unstructured pruning at equal weights",
# ]

# %% [markdown]
# Every number stated in prose below is checked by an `assert` on what this notebook has just computed.

# %%
# parameters
SEED = 0       # drives the data split (split SEED) and the dense models: N_SEEDS of them, seeds SEED*N_SEEDS to
#                SEED*N_SEEDS + N_SEEDS - 1 (a disjoint set per SEED), each also seeding its fine-tunes
N_SEEDS = 3
FT_STEPS = 30  # full-batch fine-tuning steps after pruning

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from course_lib import data, latency, models, train
from course_lib.claims import Claims
from course_lib.compress import prune
from course_lib.labs.ch2 import sparsity as sparsity_lab
from course_lib.ui import plots, quiz

ds = data.load("digits", split_seed=SEED)
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))  # disjoint sets per SEED
claims = Claims("ch2_03_structured_pruning")

# %% [markdown]
# ## From scattered zeros to missing rows
# Notebook 2.1 zeroed individual weights wherever they were small. The matrices kept their shapes, so the CPU
# did the same work. *Structured* pruning removes a whole unit instead: one row of the weight matrix that feeds
# the unit (its incoming weights), and the matching column of the next matrix (its outgoing weights).
#
# Which units? A common, cheap choice is the L2 norm of each unit's incoming weights:
# `torch.nn.utils.prune.ln_structured(layer, "weight", amount, n=2, dim=0)` zeroes the rows with the smallest
# norms. That is still only a mask. `prune.shrink` then builds a new, narrower MLP from the surviving rows and
# columns. A removed unit with a non-zero bias still sent the constant `relu(bias)` onward; `shrink` adds that
# constant, times the removed column, to the next layer's bias, so the small model computes exactly what the
# masked one did.
#
# **Predict, then run.** We mask half of the hidden units of the trained 64 -> 128 -> 128 -> 10 network, then shrink
# it. 1. How many parameters does the shrunk model keep? 2. Do the two models give the same outputs?
#
# <details><summary>Answer</summary>
#
# 1. About a third: the hidden widths halve, and the middle matrix, which holds most of the weights, shrinks to a
#    quarter (between 30% and 37% of the weights, asserted). 2. Yes, up to float rounding (largest gap under 1e-4,
#    asserted).
#
# </details>

# %%
base = sparsity_lab.base_model(seeds[0], split_seed=SEED)  # the dense MLP of notebook 2.1, on this notebook's split
masked = prune.make_permanent(prune.mask_units(copy.deepcopy(base), 0.5))
small = prune.shrink(masked)
with torch.no_grad():
    gap = float((small(ds.X_val) - masked(ds.X_val)).abs().max())
print("hidden widths:", prune.hidden_sizes(base), "->", prune.hidden_sizes(small))
print(f"parameters: {models.count_params(base)} -> {models.count_params(small)}; "
      f"non-zero parameters of the masked model: {models.count_params(masked, nonzero=True)}")
print(f"largest difference between masked and shrunk outputs: {gap:.1e}")
claims.check("the shrunk model computes what the masked one does (max gap < 1e-4)", gap < 1e-4, gap=gap)


def weights(model):
    return sum(m.weight.numel() for _, m in prune.prunable(model))


kept_half = weights(small) / weights(base)
print(f"weights kept with half the units: {kept_half:.1%}")
claims.check("with half the units removed the network keeps about a third of its weights (30% to 37%)",
             0.30 < kept_half < 0.37, kept=kept_half)

# %% [markdown]
# ## The speed-up, measured
# We time the model this notebook is about, the trained 64 -> 128 -> 128 -> 10 network, in four versions: dense;
# with 75% of its hidden units *masked* (rows zeroed, shapes unchanged); and *shrunk* with 50% and with 75% of the
# units removed (64 -> 64 -> 64 -> 10 and 64 -> 32 -> 32 -> 10). We time one forward pass over the 360 test images
# and over a single image. `latency.compare` warms each up, then runs them interleaved many times; each ratio is
# the median over back-to-back pairs, so a burst of work from another process slows both sides of a pair alike.
# One thread, so that the machine's other work disturbs the measurement less.
#
# **Predict, then run.** 1. Removing 75% of the units cuts the FLOPs about 7.6x. Is the forward pass 7.6x faster?
# 2. Does masking the same units (no shrinking) save anything? 3. And for a single image?
#
# <details><summary>Answer</summary>
#
# 1. No: on 360 images it is more than 2x faster but well short of 7.6x, under two thirds of it (both asserted):
#    fixed per-layer costs do not shrink with the matrices (the exact figure, printed below, depends on the CPU).
#    2. No: masking buys no speed-up (paired speed-up under 1.25x, asserted). 3. Hardly at all
#    (under 1.5x, asserted): for one row the cost is overhead.
#
# </details>

# %%
variants = {"dense": base, "masked 75%": prune.make_permanent(prune.mask_units(copy.deepcopy(base), 0.75)),
            "shrunk 50%": prune.remove_units(base, 0.5), "shrunk 75%": prune.remove_units(base, 0.75)}
timing = {}
with torch.inference_mode():
    for batch in (360, 1):
        xb = ds.X_test[:batch]
        timing[batch] = latency.compare({k: (lambda m=m: m(xb)) for k, m in variants.items()}, repeats=41,
                                        warmup=5, number=5, n_threads=1)
speed = {batch: {k: latency.paired_ratio(t["dense"], v) for k, v in t.items()} for batch, t in timing.items()}
flop_ratio = models.flops(base, (64,)) / models.flops(variants["shrunk 75%"], (64,))
for batch, t in timing.items():
    print(f"batch {batch}:")
    for k, v in t.items():
        print(f"  {k:>11}: {v}; speed-up over dense {speed[batch][k]:.2f}x")
print(f"FLOPs ratio dense / shrunk 75%: {flop_ratio:.1f}x")

fig, ax = plt.subplots(figsize=(6, 3))
plots.compare(ax, list(timing[360]), [v.median * 1e3 for v in timing[360].values()],
              title="One forward pass over 360 images (1 thread)", ylabel="median time (ms)", fmt="{:.2f} ms")
plt.show()

# %% [markdown]
# Only a change of shape buys speed on an ordinary dense kernel. Removing 75% of the units cuts the FLOPs 7.6x
# and the time on 360 images by more than 2x, but by less than two thirds of 7.6x; masking the same units buys no
# speed-up; and for a single image the forward pass is dominated by per-layer overhead that no pruning
# removes.

# %%
claims.check("360 images: removing half the units is at least 1.4x faster (paired)", speed[360]["shrunk 50%"] >= 1.4,
             speedup=speed[360]["shrunk 50%"])
claims.check("360 images: removing 75% of the units is at least 2x faster (paired)", speed[360]["shrunk 75%"] >= 2.0,
             speedup=speed[360]["shrunk 75%"])
claims.check("masking 75% of the units gives no speed-up (paired speed-up under 1.25x)",
             speed[360]["masked 75%"] < 1.25, speedup=speed[360]["masked 75%"])
claims.check("one image: shrinking 75% of the units is less than 1.5x faster", speed[1]["shrunk 75%"] < 1.5,
             speedup=speed[1]["shrunk 75%"])
claims.check("removing 75% of the units cuts the FLOPs 7.6x (counted)", round(flop_ratio, 1) == 7.6,
             flop_ratio=flop_ratio)
claims.check("360 images: the speed-up from removing 75% of the units is under two thirds of the FLOPs ratio "
             "(paired)", speed[360]["shrunk 75%"] < 2 / 3 * flop_ratio, speedup=speed[360]["shrunk 75%"],
             flop_ratio=flop_ratio)

# %% [markdown]
# ## What it costs in accuracy
# Back to the trained 64 -> 128 -> 128 -> 10 models, now `N_SEEDS` of them. For each fraction of hidden units
# removed we shrink the model, measure its test accuracy, fine-tune it for `FT_STEPS` full-batch steps on the
# labels, and measure again. Nothing here is chosen by looking at the test split: the fractions, the number of
# steps and the learning rate are fixed in advance. For a fair
# comparison we also prune the same model *unstructured* (global magnitude, notebook 2.1) down to exactly the
# number of weights the shrunk model keeps, and give it the same fine-tune.
#
# **Predict, then run.** With 87.5% of the units gone (94% of the weights), which recovers better after the same
# short fine-tune: the narrow dense model or the 94%-sparse one?
#
# <details><summary>Answer</summary>
#
# The narrow dense model, by more than 15 points on average (asserted; about 30 on the machine this was written
# on): one-shot unstructured pruning at 94% does damage that a short fine-tune cannot repair.
#
# </details>

# %%
FRACTIONS = [0.0, 0.25, 0.5, 0.75, 0.875]
res = {k: np.zeros((N_SEEDS, len(FRACTIONS))) for k in ("structured", "structured + FT", "unstructured + FT")}
widths = []


def test_acc(model):
    return train.evaluate(model, ds.X_test, ds.y_test)


ce = train.ce_objective(ds.X_train, ds.y_train)
with latency.threads(1):
    for i, s in enumerate(seeds):
        b = sparsity_lab.base_model(s, split_seed=SEED)
        for j, f in enumerate(FRACTIONS):
            sm = prune.remove_units(b, f)
            res["structured"][i, j] = test_acc(sm)
            train.fit(sm, ce, len(ds.X_train), epochs=FT_STEPS, lr=3e-3, seed=s)
            res["structured + FT"][i, j] = test_acc(sm)
            sparsity = 1 - weights(sm) / weights(b)
            un = prune.prune_finetune(b, sparsity, ce, len(ds.X_train), scope="global", steps=FT_STEPS, lr=3e-3,
                                      seed=s)["finetuned"]
            res["unstructured + FT"][i, j] = test_acc(un)
            if i == 0:
                widths.append((prune.hidden_sizes(sm), weights(sm), round(sparsity, 3)))
mean = {k: v.mean(0) for k, v in res.items()}
for f, (hs, n, sp) in zip(FRACTIONS, widths):
    print(f"remove {f:.1%} of units: widths {hs}, {n} weights (unstructured sparsity {sp:.1%})")
for k, v in mean.items():
    print(f"{k:>18}:", np.round(v, 3))

fig, ax = plt.subplots(figsize=(7, 3.6))
plots.curves(ax, [100 * f for f in FRACTIONS], mean, spread={k: v.std(0) for k, v in res.items()},
             title=f"Removing hidden units (mean of {N_SEEDS} models)", xlabel="hidden units removed (%)",
             ylabel="test accuracy")
plt.show()

# %% [markdown]
# What the curves say:
#
# 1. Removing half of the hidden units and fine-tuning briefly costs less than 2 points of accuracy, for a model
#    with about a third of the weights that genuinely runs faster.
# 2. A common expectation is that single weights, being a finer cut, always lose less accuracy than whole
#    units for the same number of weights removed. With a *short* fine-tune this miniature shows the opposite at
#    high compression: with 87.5% of the units gone (16 per layer, 94% of the weights), the narrow dense model
#    recovers to an accuracy more than 15 points higher than the 94%-sparse unstructured model of the same size, which one-shot
#    pruning has damaged more than `FT_STEPS` steps can repair (gradual pruning, notebook 2.2, does better).
#    Structured pruning here costs little accuracy *and* buys real speed.

# %%
j50, j875 = FRACTIONS.index(0.5), FRACTIONS.index(0.875)
print(f"87.5% of the units removed: {widths[j875][1]} weights, unstructured sparsity {widths[j875][2]:.1%}")
claims.check("half the units removed + fine-tune: within 2 points of dense (test, mean over seeds)",
             mean["structured + FT"][j50] > mean["structured"][0] - 0.02,
             dense=mean["structured"][0], half_removed_ft=mean["structured + FT"][j50])
claims.check("87.5% of the units removed leaves 16 per hidden layer and 94% of the weights gone",
             tuple(widths[j875][0]) == (16, 16) and round(widths[j875][2], 2) == 0.94,
             widths=widths[j875][0], sparsity=widths[j875][2])
claims.check("87.5% units removed: structured beats unstructured at equal weights by more than 15 points (both fine-tuned)",
             mean["structured + FT"][j875] - mean["unstructured + FT"][j875] > 0.15,
             structured=mean["structured + FT"][j875], unstructured=mean["unstructured + FT"][j875])

# %% [markdown]
# > **Beside the paper.** Li et al. (2017, *Pruning filters for efficient ConvNets*) remove whole convolution
# > filters by their L1 norm and retrain: on CIFAR-10 they cut the inference FLOPs of VGG-16 by up to 34% and of
# > ResNet-110 by up to 38% with close to the original accuracy. Our miniature uses the same idea on hidden units
# > (L2 norm) and measures the wall-clock side they report as FLOPs: 7.6x fewer FLOPs gave more than 2x but less
# > than two thirds of 7.6x on 360 images, and under 1.5x on one image, which is why measured latency, not FLOPs,
# > is the number to trust.
#
# ## Check yourself

# %%
quiz("Why does masking 75% of the hidden units not make the forward pass faster?", [
    ("The matrices keep their shapes, and a dense kernel multiplies zeros like any other number", True,
     "Right: only `shrink`, which builds narrower matrices, changes the work."),
    ("The masks are recomputed at every forward pass", False,
     "No: the masks were folded into the weights (`make_permanent`) before timing."),
    ("Zeros are slower to multiply", False,
     "No: a dense kernel multiplies a zero like any other number (notebook 2.1 timed it); the point is that it "
     "still multiplies it."),
])

# %%
quiz("The FLOPs fall 7.6x but the time on 360 images by much less. Why?", [
    ("Per-layer costs (calls, memory traffic, the activation) do not shrink with the matrices", True,
     "Right: and for a single image those costs are almost everything."),
    ("The shrunk model has more layers", False, "No: it has the same three Linear layers, only narrower."),
    ("`latency.compare` favours the dense model", False,
     "No: the runs are interleaved and paired, so neither side is favoured."),
])

# %% [markdown]
# ## What we learned
# - Structured pruning removes whole hidden units, so the remaining matrices are smaller and a dense kernel runs
#   faster (over 2x on 360 images with 75% of the units gone, not on one image); masking the same units gives no
#   speed-up.
# - Shrinking folds the constant output of removed units into the next bias, so the small model computes exactly what the masked one did.
# - Half the units can go for less than 2 points after a short fine-tune; at 87.5% of units removed, the narrow dense model beats an unstructured model with as many weights, both given the same short fine-tune.

# %%
print(f"speed-up on 360 images: half the units {speed[360]['shrunk 50%']:.1f}x, 75% {speed[360]['shrunk 75%']:.1f}x "
      f"(FLOPs {flop_ratio:.1f}x fewer); one image {speed[1]['shrunk 75%']:.2f}x")
print(f"dense {mean['structured'][0]:.1%}; half the units removed: {mean['structured'][j50]:.1%} -> "
      f"{mean['structured + FT'][j50]:.1%} after {FT_STEPS} steps")
print(f"87.5% of units removed, fine-tuned: structured {mean['structured + FT'][j875]:.1%}, "
      f"unstructured at equal weights {mean['unstructured + FT'][j875]:.1%}")

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 11/11

# %% [markdown]
# ## References
# - Li, H., Kadav, A., Durdanovic, I., Samet, H. and Graf, H. P. (2017). Pruning filters for efficient ConvNets. ICLR.
# - Han, S., Pool, J., Tran, J. and Dally, W. (2015). Learning both weights and connections for efficient neural networks. NeurIPS.
# - PyTorch documentation: `torch.nn.utils.prune.ln_structured`, `torch.utils.flop_counter`.
#
# **Next:** [2.4 Quantization](ch2_04_quantization.ipynb): keep every weight but store it in fewer bits.
