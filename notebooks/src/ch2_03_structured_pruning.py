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
SEED = 0       # any seed: the accuracy claims are averaged over N_SEEDS dense models starting here
N_SEEDS = 3
FT_STEPS = 30  # full-batch fine-tuning steps after pruning

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from course_lib import data, latency, models, prune, train
from course_lib.ui import plots

ds = data.load("digits")
seeds = list(range(SEED, SEED + N_SEEDS))
claims = {}

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

# %%
base = prune.trained_mlp(seed=SEED)
masked = prune.make_permanent(prune.mask_units(copy.deepcopy(base), 0.5))
small = prune.shrink(masked)
with torch.no_grad():
    gap = float((small(ds.X_val) - masked(ds.X_val)).abs().max())
print("hidden widths:", prune.hidden_sizes(base), "->", prune.hidden_sizes(small))
print(f"parameters: {models.count_params(base)} -> {models.count_params(small)}; "
      f"non-zero parameters of the masked model: {models.count_params(masked, nonzero=True)}")
print(f"largest difference between masked and shrunk outputs: {gap:.1e}")
claims["the shrunk model computes what the masked one does (max gap < 1e-4)"] = gap < 1e-4
assert claims["the shrunk model computes what the masked one does (max gap < 1e-4)"], gap

# %% [markdown]
# ## The speed-up, measured
# Timing depends on the sizes of the matrices, not on their values, so for a clear measurement we take a wider
# MLP (64 -> 1024 -> 1024 -> 10, freshly initialised) and a batch of 512 inputs. We compare three versions:
#
# - the dense model;
# - the same model with 75% of its hidden units *masked* (rows zeroed, shapes unchanged);
# - the model *shrunk* to the remaining 25% (64 -> 256 -> 256 -> 10).
#
# `latency.compare` warms each up, then runs them interleaved many times and reports the median (and the 95th
# percentile) per forward pass; ratios are medians over back-to-back pairs, so a burst of work from another
# process slows both sides of a pair alike. We use one
# thread so that the two cores' other work disturbs the measurement less.

# %%
wide = models.mlp(64, (1024, 1024), 10, seed=SEED).eval()
wide_masked = prune.make_permanent(prune.mask_units(copy.deepcopy(wide), 0.75))
wide_small = prune.shrink(wide_masked)
xb = torch.randn(512, 64)
with torch.inference_mode():
    t = latency.compare({"dense": lambda: wide(xb), "masked 75%": lambda: wide_masked(xb),
                         "shrunk 75%": lambda: wide_small(xb)}, repeats=21, warmup=3, n_threads=1)
flop_ratio = models.flops(wide, (64,)) / models.flops(wide_small, (64,))
speedup = latency.paired_ratio(t["dense"], t["shrunk 75%"])  # medians of back-to-back pairs
mask_ratio = latency.paired_ratio(t["masked 75%"], t["dense"])
for k, v in t.items():
    print(f"{k:>11}: {v}")
print(f"FLOPs ratio dense/shrunk: {flop_ratio:.1f}x; measured speed-up {speedup:.1f}x; "
      f"masked/dense time {mask_ratio:.2f}")

fig, ax = plt.subplots(figsize=(6, 3))
plots.compare(ax, list(t), [v.median * 1e3 for v in t.values()], title="One forward pass, batch of 512 (1 thread)",
              ylabel="median time (ms)", fmt="{:.1f} ms")
plt.show()

# %% [markdown]
# The shrunk model runs many times faster: we assert at least 3x, a wide margin for a busy machine. Its FLOPs
# fall by more than 10x, and the measured gain can be larger still, because a 256 x 256 matrix fits in the CPU's
# caches where a 1024 x 1024 one does not. Masking the same units without removing them changes the time by
# no more than the noise (a ratio between 0.7 and 1.4). Only a change of shape buys speed on an ordinary dense
# kernel.

# %%
claims["shrinking 75% of units speeds the forward pass up at least 3x"] = speedup >= 3.0
claims["masking the same units gives no speed-up (time ratio in [0.7, 1.4])"] = 0.7 < mask_ratio < 1.4
claims["the shrunk model needs over 10x fewer FLOPs"] = flop_ratio > 10
for c in list(claims)[-3:]:
    assert claims[c], (c, speedup, mask_ratio, flop_ratio)

# %% [markdown]
# ## What it costs in accuracy
# Back to the trained 64 -> 128 -> 128 -> 10 models. For each fraction of hidden units removed we shrink the
# model, measure it, fine-tune it for `FT_STEPS` full-batch steps on the labels, and measure again. For a fair
# comparison we also prune the same model *unstructured* (global magnitude, notebook 2.1) down to exactly the
# number of weights the shrunk model keeps, and give it the same fine-tune.

# %%
FRACTIONS = [0.0, 0.25, 0.5, 0.75, 0.875]
res = {k: np.zeros((N_SEEDS, len(FRACTIONS))) for k in ("structured", "structured + FT", "unstructured + FT")}
widths = []


def weights(model):
    return sum(m.weight.numel() for _, m in prune.prunable(model))


def val_acc(model):
    return train.evaluate(model, ds.X_val, ds.y_val)


ce = train.ce_objective(ds.X_train, ds.y_train)
with latency.threads(1):
    for i, s in enumerate(seeds):
        b = prune.trained_mlp(seed=s)
        for j, f in enumerate(FRACTIONS):
            sm = prune.remove_units(b, f)
            res["structured"][i, j] = val_acc(sm)
            train.fit(sm, ce, len(ds.X_train), epochs=FT_STEPS, lr=3e-3, seed=s)
            res["structured + FT"][i, j] = val_acc(sm)
            sparsity = 1 - weights(sm) / weights(b)
            un = prune.prune_finetune(b, sparsity, ce, len(ds.X_train), scope="global", steps=FT_STEPS, lr=3e-3,
                                      seed=s)["finetuned"]
            res["unstructured + FT"][i, j] = val_acc(un)
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
             ylabel="validation accuracy")
plt.show()

# %% [markdown]
# What the curves say:
#
# 1. Removing half of the hidden units and fine-tuning briefly costs less than 2 points of accuracy, for a model
#    with about a third of the weights that genuinely runs faster.
# 2. A common expectation is that single weights, being a finer cut, always lose less accuracy than whole
#    units for the same number of weights removed. With a *short* fine-tune this miniature shows the opposite at
#    high compression: with 87.5% of the units gone (16 per layer, 94% of the weights), the narrow dense model
#    recovers to a clearly higher accuracy than the 94%-sparse unstructured model of the same size, which one-shot
#    pruning has damaged more than `FT_STEPS` steps can repair (gradual pruning, notebook 2.2, does better).
#    Structured pruning here costs little accuracy *and* buys real speed.

# %%
j50, j875 = FRACTIONS.index(0.5), FRACTIONS.index(0.875)
claims["half the units removed + fine-tune: within 2 points of dense"] = mean["structured + FT"][j50] > mean["structured"][0] - 0.02
claims["87.5% units removed: structured beats unstructured at equal weights (both fine-tuned)"] = (
    mean["structured + FT"][j875] > mean["unstructured + FT"][j875])
for c in list(claims)[-2:]:
    assert claims[c], (c, {k: np.round(v, 3) for k, v in mean.items()})

# %% [markdown]
# ## What we measured
# Each line restates a claim made above; the cell after it prints the numbers behind them.

# %%
# NBVAL_CHECK_OUTPUT
assert all(claims.values()), [c for c, ok in claims.items() if not ok]
print(f"claims checked: {sum(claims.values())}/{len(claims)}")
# %% [output]
# claims checked: 6/6

# %%
for c, ok in claims.items():
    print(("OK  " if ok else "FAIL"), c)
print(f"speed-up of the shrunk wide MLP {speedup:.1f}x (FLOPs {flop_ratio:.1f}x fewer); masked/dense time {mask_ratio:.2f}")
print(f"dense {mean['structured'][0]:.1%}; half the units removed: {mean['structured'][j50]:.1%} -> "
      f"{mean['structured + FT'][j50]:.1%} after {FT_STEPS} steps")
print(f"87.5% of units removed, fine-tuned: structured {mean['structured + FT'][j875]:.1%}, "
      f"unstructured at equal weights {mean['unstructured + FT'][j875]:.1%}")
