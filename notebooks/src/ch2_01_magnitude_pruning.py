# %% [header]
# number = "2.1"
# title = "Magnitude pruning: zeros, bytes and (no) speed"
# syllabus = ["C1", "F1"]
# study_minutes = 30
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "prune by magnitude, layer-wise and global, with `torch.nn.utils.prune`",
#     "accuracy against sparsity with and without fine-tuning on a live sparsity slider",
#     "real bytes of COO/CSR encodings",
#     "measure that zeros do not speed up a dense matmul",
# ]

# %% [markdown]
# Every number stated in prose below is checked by an `assert` on what this notebook has just computed.

# %%
# parameters
SEED = 0       # any seed: the claims are averaged over N_SEEDS dense models starting here
N_SEEDS = 3
FT_STEPS = 20  # full-batch fine-tuning steps after pruning

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
# ## The model we prune
# A two-hidden-layer MLP (64 -> 128 -> 128 -> 10) trained with cross-entropy on the 8x8 digits. It is trained
# once per seed and cached on disk, so rerunning the notebook costs nothing. Its three weight matrices hold
# about 26 thousand weights.

# %%
bases = {s: prune.trained_mlp(seed=s) for s in seeds}
base = bases[SEED]
print({name: tuple(m.weight.shape) for name, m in prune.prunable(base)})
print(f"weights: {sum(m.weight.numel() for _, m in prune.prunable(base))}, "
      f"validation accuracy: {train.evaluate(base, ds.X_val, ds.y_val):.1%}")

# %% [markdown]
# ## Pruning by magnitude
# The simplest guess at which connections matter is their size: a weight near zero moves the output little, so
# we set the smallest ones to exactly zero. `torch.nn.utils.prune` does this without touching the original
# numbers: it keeps `weight_orig` and a 0/1 buffer `weight_mask`, and recomputes `weight = weight_orig * mask`
# before every forward pass. Two ways to choose the threshold:
#
# - **layer-wise**: remove the same fraction from every matrix (`prune.l1_unstructured` per layer);
# - **global**: rank all weights of the model together and cut below one threshold
#   (`prune.global_unstructured`). Layers with many small weights then lose more than the others.

# %%
demo = prune.magnitude_prune(copy.deepcopy(base), 0.9, scope="global")
print("buffers added by torch.nn.utils.prune:", [n for n, _ in demo.named_buffers()])
glob = prune.layer_sparsity(demo)
layer = prune.layer_sparsity(prune.magnitude_prune(copy.deepcopy(base), 0.9, scope="layer"))
fig, ax = plt.subplots(figsize=(6, 3))
x = np.arange(len(glob))
ax.bar(x - 0.2, list(layer.values()), 0.4, label="layer-wise")
ax.bar(x + 0.2, list(glob.values()), 0.4, label="global")
ax.set_xticks(x, list(glob))
ax.legend()
plots.style(ax, "Where the zeros go at 90% overall sparsity", "layer", "fraction of weights zeroed")
plt.show()

# %% [markdown]
# With one global threshold the two hidden matrices take the cuts, while the small output layer (10 rows that
# decide the class) keeps a larger share of its weights than `fc2` does.

# %%
claims["global pruning at 90% zeroes less of the output layer than of fc2"] = glob["out"] < glob["fc2"]
assert claims["global pruning at 90% zeroes less of the output layer than of fc2"], glob

# %% [markdown]
# ## Accuracy against sparsity, with and without a short fine-tune
# For each sparsity we prune a copy of the trained model and measure validation accuracy straight away, then
# let the surviving weights train for `FT_STEPS` full-batch Adam steps (the masks keep the pruned ones at zero)
# and measure again. Everything is averaged over `N_SEEDS` independently trained dense models.

# %%
SPARSITIES = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]
acc = {(scope, ft): np.zeros((N_SEEDS, len(SPARSITIES))) for scope in prune.SCOPES for ft in (False, True)}
with latency.threads(1):  # small matrices train fastest on one thread
    for i, s in enumerate(seeds):
        for j, sp in enumerate(SPARSITIES):
            for scope in prune.SCOPES:
                r = prune.sparsity_report(bases[s], sp, scope=scope, X_train=ds.X_train, y_train=ds.y_train,
                                          X_eval=ds.X_val, y_eval=ds.y_val, steps=FT_STEPS, seed=s)
                acc[scope, False][i, j] = r["acc_pruned"]
                acc[scope, True][i, j] = r["acc_finetuned"]
mean = {k: v.mean(0) for k, v in acc.items()}
fig, ax = plt.subplots(figsize=(7, 3.6))
plots.curves(ax, [100 * s for s in SPARSITIES],
             {f"{scope}, {'fine-tuned' if ft else 'no fine-tune'}": mean[scope, ft] for scope, ft in acc},
             spread={f"{scope}, {'fine-tuned' if ft else 'no fine-tune'}": acc[scope, ft].std(0) for scope, ft in acc},
             title=f"Magnitude pruning (mean of {N_SEEDS} models)", xlabel="sparsity (% of weights zero)",
             ylabel="validation accuracy")
plt.show()
for k, v in mean.items():
    print(k, np.round(v, 3))

# %% [markdown]
# Three things to read off the curves:
#
# 1. Half the weights can go almost for free: at 50% sparsity, without any retraining, global pruning stays
#    within 2 points of the dense model and layer-wise pruning within 5.
# 2. Past that, one-shot pruning falls off a cliff: at 80% layer-wise, the untouched survivors lose more than
#    20 points. A few fine-tuning steps win back at least three quarters of that loss.
# 3. Global pruning beats layer-wise pruning at high sparsity, because it spares the small output layer: at
#    80% with and without fine-tuning, and at 90% after fine-tuning, the global curve is higher.

# %%
j50, j80, j90 = SPARSITIES.index(0.5), SPARSITIES.index(0.8), SPARSITIES.index(0.9)
dense_acc = mean["layer", False][0]
lost80 = dense_acc - mean["layer", False][j80]
won80 = mean["layer", True][j80] - mean["layer", False][j80]
claims["50%, no fine-tune: global within 2 points of dense"] = mean["global", False][j50] > dense_acc - 0.02
claims["50%, no fine-tune: layer-wise within 5 points of dense"] = mean["layer", False][j50] > dense_acc - 0.05
claims["80% layer-wise, no fine-tune: loses more than 20 points"] = lost80 > 0.20
claims["80% layer-wise: fine-tuning wins back at least 3/4 of the loss"] = won80 >= 0.75 * lost80
claims["80%: global beats layer-wise, with and without fine-tuning"] = (
    mean["global", False][j80] > mean["layer", False][j80] and mean["global", True][j80] > mean["layer", True][j80])
claims["90% after fine-tuning: global beats layer-wise"] = mean["global", True][j90] > mean["layer", True][j90]
for c in list(claims)[-6:]:
    assert claims[c], (c, {k: np.round(v, 3) for k, v in mean.items()})

# %% [markdown]
# ## Try it: a live sparsity slider
# Release the slider: the cached model is pruned at that sparsity, fine-tuned for `FT_STEPS` steps, and
# measured, in well under a second. The text under the chart gives what the weights would take on disk, densely
# and in torch's two sparse encodings (the next section explains those sizes), and the zeros in each layer. Switch `scope` to compare layer-wise
# and global pruning at the same sparsity.

# %%
dash = prune.sparsity_dashboard(base, ds, steps=FT_STEPS, seed=SEED)
dash

# %% [markdown]
# The dashboard is a thin layer over `prune.sparsity_report(...)`, a plain function; setting the slider from
# code runs exactly what a release runs:

# %%
r60, r95 = dash.update(sparsity=0.6), dash.update(sparsity=0.95)
print(f"60%: {r60['acc_finetuned']:.1%}, 95%: {r95['acc_finetuned']:.1%} after fine-tuning "
      f"(last update took {dash.last_seconds:.2f} s)")
claims["the slider retrains: 95% scores lower than 60%"] = r95["acc_finetuned"] < r60["acc_finetuned"]
assert claims["the slider retrains: 95% scores lower than 60%"]

# %% [markdown]
# ## What a sparse matrix really costs in bytes
# Zeros only save memory if we stop storing them, and a sparse format has to say *where* each surviving value
# sits. PyTorch offers two encodings:
#
# - **COO** (`tensor.to_sparse()`): every non-zero keeps its value (4 bytes in float32) plus its row and column
#   as two int64 numbers: 4 + 16 = 20 bytes per non-zero, five times a dense entry. It only wins when fewer
#   than one entry in five survives, that is above 80% sparsity.
# - **CSR** (`tensor.to_sparse_csr()`): every non-zero keeps its value and its column (4 + 8 = 12 bytes), and
#   each row stores one pointer to where it starts. It breaks even near 67% sparsity.
#
# We measure this on the real storage of the `fc2` matrix (128 x 128), counting the bytes of the value and
# index tensors torch creates.

# %%
W = base.fc2.weight.detach()
grid = np.round(np.arange(0.0, 1.0, 0.02), 2)
sizes = {"dense": [], "COO": [], "CSR": []}
for sp in grid:
    m = prune.magnitude_prune(copy.deepcopy(base.fc2), float(sp))
    w = m.weight.detach()
    sizes["dense"].append(prune.dense_bytes(w))
    sizes["COO"].append(prune.sparse_bytes(w, "coo")["total"])
    sizes["CSR"].append(prune.sparse_bytes(w, "csr")["total"])
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for k, v in sizes.items():
    ax.plot(100 * grid, np.array(v) / 1024, label=k)
ax.legend()
plots.style(ax, "Storing the 128 x 128 fc2 weights", "sparsity (% of weights zero)", "size (KiB)")
plt.show()


def crossing(name):
    """First sparsity at which the sparse encoding is smaller than the dense one."""
    return float(grid[np.argmax(np.array(sizes[name]) < np.array(sizes["dense"]))])


coo_x, csr_x = crossing("COO"), crossing("CSR")
print(f"COO beats dense from {coo_x:.0%} sparsity, CSR from {csr_x:.0%}")
claims["COO only beats dense above 80% sparsity"] = 0.80 <= coo_x <= 0.82
claims["CSR beats dense from about 67% sparsity"] = 0.66 <= csr_x <= 0.70
claims["at 50% sparsity both sparse encodings are larger than dense"] = (
    sizes["COO"][25] > sizes["dense"][25] and sizes["CSR"][25] > sizes["dense"][25])
for c in list(claims)[-3:]:
    assert claims[c], (c, coo_x, csr_x)

# %% [markdown]
# So a model pruned to 50% is *larger* in either sparse format than dense. Real deployments use narrower
# indices (int16 or relative offsets, as in Deep Compression) to move the break-even point down, but the lesson
# stands: sparsity must be high before a sparse format pays for its indices.
#
# ## Do zeros make the multiplication faster?
# A dense matrix product multiplies every entry, whatever its value: the CPU's kernel does not look for zeros.
# We time `X @ W.T` for a 512 x 512 weight matrix on a batch of 256 rows, once with the dense weights and once
# with 90% of them set to zero, on one thread, after a warm-up. The two run back to back many times, and we
# take the median of the ratio within each pair, so a burst of background load slows both alike. If zeros were
# skipped, the second would be up to ten times faster.

# %%
torch.manual_seed(SEED)
Wd = torch.randn(512, 512)
Wz = torch.where(Wd.abs() >= Wd.abs().quantile(0.9), Wd, torch.zeros(()))  # the 10% largest survive
print(f"zeros in Wz: {(Wz == 0).float().mean():.0%}")
Xb = torch.randn(256, 512)
t = latency.compare({"dense": lambda: Xb @ Wd.T, "90% zeros": lambda: Xb @ Wz.T}, repeats=41, warmup=5, number=3,
                    n_threads=1)
ratio = latency.paired_ratio(t["90% zeros"], t["dense"])  # median of back-to-back pairs
for k, v in t.items():
    print(f"{k:>10}: {v}")
print(f"time with 90% zeros / dense time = {ratio:.2f}")

# %% [markdown]
# The two timings agree to within the noise of a shared machine: the ratio stays between 0.7 and 1.4, nowhere
# near the 0.1 that skipping the zeros would give. To turn unstructured zeros into speed you need a sparse kernel
# (and usually far more than 90% zeros), or hardware built for a fixed pattern such as 2:4 sparsity; the
# structured pruning of notebook 2.3 instead removes whole rows, which a dense kernel *does* benefit from.

# %%
claims["90% zeros do not speed up a dense matmul (time ratio in [0.7, 1.4])"] = 0.7 < ratio < 1.4
assert claims["90% zeros do not speed up a dense matmul (time ratio in [0.7, 1.4])"], ratio

# %% [markdown]
# ## What we measured
# Each line restates a claim made above; the cell after it prints the numbers behind them.

# %%
# NBVAL_CHECK_OUTPUT
assert all(claims.values()), [c for c, ok in claims.items() if not ok]
print(f"claims checked: {sum(claims.values())}/{len(claims)}")
# %% [output]
# claims checked: 12/12

# %%
for c, ok in claims.items():
    print(("OK  " if ok else "FAIL"), c)
print(f"dense accuracy {dense_acc:.1%}; at 50% no fine-tune: global {mean['global', False][j50]:.1%}, "
      f"layer-wise {mean['layer', False][j50]:.1%}")
print(f"80% layer-wise: {mean['layer', False][j80]:.1%} -> {mean['layer', True][j80]:.1%} after {FT_STEPS} steps "
      f"(won back {won80 / lost80:.0%} of the loss); global {mean['global', False][j80]:.1%} -> "
      f"{mean['global', True][j80]:.1%}")
print(f"90% after fine-tuning: global {mean['global', True][j90]:.1%}, layer-wise {mean['layer', True][j90]:.1%}")
print(f"COO break-even {coo_x:.0%}, CSR break-even {csr_x:.0%}; matmul time ratio with 90% zeros {ratio:.2f}")
