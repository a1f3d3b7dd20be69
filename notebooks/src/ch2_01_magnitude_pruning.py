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
# Pruning sets weights to exactly zero. Does that make a model smaller, and does it make it faster? We prune a
# small trained network by magnitude, measure what accuracy survives, count the bytes the zeros really save, and
# time the matrix products. Every number stated in prose is checked with `claims.check` on what the notebook has
# just computed.

# %%
# parameters
SEED = 0       # drives the data split (split SEED), the dense models (N_SEEDS of them, seeds SEED*N_SEEDS to
#                SEED*N_SEEDS + N_SEEDS - 1, a disjoint set per SEED, all on that split) and the timing matrices
N_SEEDS = 3
FT_STEPS = 20  # full-batch fine-tuning steps after pruning

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from course_lib import data, latency, models, train
from course_lib.claims import Claims
from course_lib.compress import encode, prune
from course_lib.labs.ch2 import sparsity as lab
from course_lib.ui import plots, quiz

ds = data.load("digits", split_seed=SEED)
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))  # disjoint sets per SEED
claims = Claims("ch2_01_magnitude_pruning")

# %% [markdown]
# ## The model we prune
# A two-hidden-layer MLP (64 -> 128 -> 128 -> 10) trained with cross-entropy on the 8x8 digits. It is trained
# once per seed and cached on disk, so rerunning the notebook costs nothing. Its three weight matrices hold
# about 26 thousand weights.

# %%
bases = {s: lab.base_model(s, split_seed=SEED) for s in seeds}
base = bases[seeds[0]]
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
claims.check("global pruning at 90% zeroes less of the output layer than of fc2", glob["out"] < glob["fc2"],
             out=glob["out"], fc2=glob["fc2"])

# %% [markdown]
# ## Accuracy against sparsity, with and without a short fine-tune
# For each sparsity we prune a copy of the trained model and measure validation accuracy straight away, then
# let the surviving weights train for `FT_STEPS` full-batch Adam steps (the masks keep the pruned ones at zero)
# and measure again. Everything is averaged over `N_SEEDS` independently trained dense models (about 10 s).
#
# **Predict, then run.** 1. How much of the dense accuracy is left at 50% sparsity without any retraining?
# 2. At 80%, does layer-wise or global pruning do better?
#
# <details><summary>Answer</summary>
#
# 1. Nearly all of it: global pruning stays within 2 points of dense, layer-wise within 5 (both asserted).
# 2. Global, with and without fine-tuning (asserted); one-shot layer-wise pruning loses more than 20 points at 80%.
#
# </details>

# %%
SPARSITIES = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]
acc = {(scope, ft): np.zeros((N_SEEDS, len(SPARSITIES))) for scope in prune.SCOPES for ft in (False, True)}
with latency.threads(1):  # small matrices train fastest on one thread
    for i, s in enumerate(tqdm(seeds, desc="dense models")):
        for j, sp in enumerate(SPARSITIES):
            for scope in prune.SCOPES:
                r = lab.run(lab.setup(s, split_seed=SEED, steps=FT_STEPS), sparsity=sp, scope=scope)
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
claims.check("50%, no fine-tune: global within 2 points of dense", mean["global", False][j50] > dense_acc - 0.02,
             dense=dense_acc, global50=mean["global", False][j50])
claims.check("50%, no fine-tune: layer-wise within 5 points of dense", mean["layer", False][j50] > dense_acc - 0.05,
             dense=dense_acc, layer50=mean["layer", False][j50])
claims.check("80% layer-wise, no fine-tune: loses more than 20 points", lost80 > 0.20, lost=lost80)
claims.check("80% layer-wise: fine-tuning wins back at least 3/4 of the loss", won80 >= 0.75 * lost80,
             won=won80, lost=lost80)
claims.check("80%: global beats layer-wise, with and without fine-tuning",
             mean["global", False][j80] > mean["layer", False][j80] and mean["global", True][j80] > mean["layer", True][j80],
             global_pruned=mean["global", False][j80], layer_pruned=mean["layer", False][j80],
             global_ft=mean["global", True][j80], layer_ft=mean["layer", True][j80])
claims.check("90% after fine-tuning: global beats layer-wise", mean["global", True][j90] > mean["layer", True][j90],
             global_ft=mean["global", True][j90], layer_ft=mean["layer", True][j90])

# %% [markdown]
# ## Try it: a live sparsity slider
# Release the slider: the cached model is pruned at that sparsity, fine-tuned for `FT_STEPS` steps and measured
# on the validation split, in a fraction of a second. The right panel and the text give what the weights and
# biases take **in memory**, densely and in three sparse layouts (the next section explains them), and the zeros
# in each layer. Switch `scope` to compare layer-wise and global pruning at the same sparsity.
#
# **Predict, then run.** 1. At 80% sparsity, which scope scores higher after fine-tuning? 2. At 50%, is either
# torch sparse layout (int64 indices) smaller than dense?
#
# <details><summary>Answer</summary>
#
# 1. Global: the claim above asserts it beats layer-wise at 80% with and without fine-tuning (averaged over three
#    models). 2. No: with int64 indices COO only pays above 80% sparsity and CSR above about 67% (asserted below);
#    a CSR with uint8 column indices already pays from about 20%.
#
# </details>

# %%
dash = lab.dashboard(seeds[0], sparsity=0.8, steps=FT_STEPS, split_seed=SEED)
dash

# %% [markdown]
# The dashboard is a thin layer over `lab.run(state, sparsity=..., scope=...)`, a plain function. The checks
# below call it directly, so the slider above keeps the value the code set (80%):

# %%
state = lab.setup(seeds[0], split_seed=SEED, steps=FT_STEPS)
r60, r95 = lab.run(state, sparsity=0.6), lab.run(state, sparsity=0.95)
print(f"60%: {r60['acc_finetuned']:.1%}, 95%: {r95['acc_finetuned']:.1%} after fine-tuning")
claims.check("the slider's function retrains: 95% scores lower than 60% after fine-tuning",
             r95["acc_finetuned"] < r60["acc_finetuned"], acc60=r60["acc_finetuned"], acc95=r95["acc_finetuned"])

# %% [markdown]
# ## What a sparse matrix really costs in bytes
# Zeros only save memory if we stop storing them, and a sparse format has to say *where* each surviving value
# sits. How much that costs depends on the width of the index, and that is where two answers you will meet
# (this notebook and notebook 2.7) come from:
#
# - **torch's in-memory layouts, int64 indices.** `tensor.to_sparse()` (COO) keeps for every non-zero its value
#   (4 bytes in float32) and its row and column as two int64 numbers: 20 bytes per non-zero, five times a dense
#   entry, so it only wins above 80% sparsity. `tensor.to_sparse_csr()` keeps the value and an int64 column
#   (12 bytes) plus one row pointer per row: it breaks even near 67%. These are the layouts torch computes with.
# - **a storage format with narrow indices.** A 128-column matrix needs only a byte per column index (uint8),
#   and row pointers fit in uint16: 5 bytes per non-zero, so CSR beats dense from about 20% sparsity. This is
#   what you would write to a file or a flash chip, and what notebook 2.7 counts.
#
# We measure all four on the real `fc2` matrix (128 x 128), counting the bytes of the arrays each one builds.

# %%
grid = np.round(np.arange(0.0, 1.0, 0.02), 2)
sizes = {"dense": [], "COO int64": [], "CSR int64": [], "CSR uint8": []}
for sp in grid:
    m = prune.magnitude_prune(copy.deepcopy(base.fc2), float(sp))
    w = m.weight.detach()
    sizes["dense"].append(encode.dense_bytes(w))
    sizes["COO int64"].append(encode.sparse_bytes(w, "coo")["total"])
    sizes["CSR int64"].append(encode.sparse_bytes(w, "csr")["total"])
    sizes["CSR uint8"].append(encode.sparse_bytes(w, "csr", index="narrow")["total"])
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for k, v in sizes.items():
    ax.plot(100 * grid, np.array(v) / 1024, label=k)
ax.legend()
plots.style(ax, "Storing the 128 x 128 fc2 weights", "sparsity (% of weights zero)", "size (KiB)")
plt.show()


def crossing(name):
    """First sparsity at which the sparse encoding is smaller than the dense one."""
    return float(grid[np.argmax(np.array(sizes[name]) < np.array(sizes["dense"]))])


coo_x, csr_x, narrow_x = crossing("COO int64"), crossing("CSR int64"), crossing("CSR uint8")
print(f"beats dense from: COO int64 {coo_x:.0%}, CSR int64 {csr_x:.0%}, CSR uint8 {narrow_x:.0%}")
claims.check("COO with int64 indices only beats dense above 80% sparsity", 0.80 <= coo_x <= 0.82, crossing=coo_x)
claims.check("CSR with int64 indices beats dense from about 67% sparsity", 0.66 <= csr_x <= 0.70, crossing=csr_x)
claims.check("CSR with uint8 column indices beats dense from about 20% sparsity", 0.18 <= narrow_x <= 0.24,
             crossing=narrow_x)
j = int(np.argmin(abs(grid - 0.5)))
claims.check("at 50% sparsity both int64 layouts are larger than dense, while the uint8 CSR saves about a third "
             "(between 30% and 45%)",
             sizes["COO int64"][j] > sizes["dense"][j] < sizes["CSR int64"][j]
             and 0.55 <= sizes["CSR uint8"][j] / sizes["dense"][j] <= 0.70,
             **{k: v[j] for k, v in sizes.items()})

# %% [markdown]
# So the answer to "when does a sparse format pay?" is "it depends on the index": in torch's own int64 layouts a
# model pruned to 50% is *larger* than dense, while a storage format with one-byte indices already saves about a
# third at 50% (5 bytes per survivor instead of 4 per entry, plus the row pointers). Use the int64 numbers when the model
# must stay a torch sparse tensor in memory; use the narrow numbers for what goes to disk. Deep Compression
# (notebook 2.7) goes further still, storing 4- or 8-bit *relative* offsets between survivors.
#
# ## Do zeros make the multiplication faster?
# A dense matrix product multiplies every entry, whatever its value: the CPU's kernel does not look for zeros.
# We time `X @ W.T` for a 512 x 512 weight matrix on a batch of 256 rows, once with the dense weights and once
# with 90% of them set to zero, on one thread, after a warm-up. The two run back to back, interleaved, many
# times, and we take the median of the ratio within each pair, so a burst of background load slows both alike.
# If zeros were skipped, the second would be up to ten times faster. Then we give torch's sparse CSR kernel
# (`W_csr @ X.T`) a go at 50% and at 99% zeros.
#
# **Predict, then run.** Is the sparse kernel faster than dense at 50% zeros? At 99%?
#
# <details><summary>Answer</summary>
#
# At 50% it is *slower* (asserted: more than 1.5x; usually several times); at 99% it is more than twice as fast
# (asserted).
# Indexing every survivor costs more than multiplying a zero, so a sparse kernel needs far more zeros than a
# sparse file does.
#
# </details>

# %%
g = torch.Generator().manual_seed(SEED)
Wd = torch.randn(512, 512, generator=g)


def with_zeros(frac):
    """Wd with the fraction ``frac`` of smallest-|w| entries set to zero."""
    return torch.where(Wd.abs() >= Wd.abs().quantile(frac), Wd, torch.zeros(()))


Wz = with_zeros(0.9)
print(f"zeros in Wz: {(Wz == 0).float().mean():.0%}")
Xb = torch.randn(256, 512, generator=g)
t = latency.compare({"dense": lambda: Xb @ Wd.T, "90% zeros": lambda: Xb @ Wz.T}, repeats=41, warmup=5, number=3,
                    n_threads=1)
ratio = latency.paired_ratio(t["90% zeros"], t["dense"])  # median of back-to-back pairs
for k, v in t.items():
    print(f"{k:>10}: {v}")
print(f"time with 90% zeros / dense time = {ratio:.2f}")
claims.check("90% zeros do not speed up a dense matmul (paired time ratio in [0.7, 1.4])", 0.7 < ratio < 1.4,
             ratio=ratio)

# %%
import warnings

XT = Xb.T.contiguous()
sparse_ratio = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
    for frac in (0.5, 0.99):
        Wf = with_zeros(frac)
        Wcsr = Wf.to_sparse_csr()
        tt = latency.compare({"dense": lambda: Wf @ XT, "csr": lambda: Wcsr @ XT}, repeats=21, warmup=3, n_threads=1)
        sparse_ratio[frac] = latency.paired_ratio(tt["csr"], tt["dense"])
print({f"{k:.0%} zeros": f"sparse / dense time {v:.2f}" for k, v in sparse_ratio.items()})
claims.check("torch's sparse CSR matmul is more than 1.5x slower than dense at 50% zeros", sparse_ratio[0.5] > 1.5,
             ratio=sparse_ratio[0.5])
claims.check("torch's sparse CSR matmul is more than 2x faster than dense at 99% zeros", sparse_ratio[0.99] < 0.5,
             ratio=sparse_ratio[0.99])

# %% [markdown]
# The dense timings agree to within the noise of a shared machine: zeros in a dense matrix cost exactly what
# other numbers cost. A sparse kernel turns zeros into speed only when there are very many of them, and even then
# far from the ideal 1/density (on the machine this was written on, CSR at 90% zeros took about half the dense
# time, not a tenth); hardware built for a fixed pattern such as 2:4 sparsity is the other route. The structured
# pruning of notebook 2.3 instead removes whole rows, which a dense kernel *does* benefit from.
#
# > **Beside the paper.** Han et al. (2015, *Learning both weights and connections*) prune LeNet-300-100 by 12x
# > (92% of weights) and AlexNet by 9x without loss of accuracy, after iterative pruning and retraining. Our
# > miniature one-shot prune plus 20 fine-tuning steps holds up to about 80-90% on a 26k-weight MLP: the same
# > order, with far less retraining. Their sizes, like our uint8 CSR, count narrow indices, not torch's int64 ones.
#
# ## Check yourself

# %%
quiz("A 128-column weight matrix is pruned to 50%. Which layout stores it in the fewest bytes?", [
    ("Dense float32", False, "No: it stores every zero at 4 bytes; the uint8 CSR stores 5 bytes per survivor, "
     "about 2.5 bytes per entry at 50%."),
    ("torch's CSR (int64 column indices)", False, "No: 12 bytes per survivor, 6 per entry at 50%, larger than dense."),
    ("CSR with uint8 column indices", True, "Right: one byte suffices for 128 columns, so it beats dense from "
     "about 20% sparsity, as measured above."),
])

# %%
quiz("Why did 90% zeros not make `X @ W.T` faster?", [
    ("The dense kernel multiplies every entry whatever its value", True, "Right: the work is fixed by the shape."),
    ("Zeros are slower to multiply than other numbers", False, "No: the paired ratio stayed near 1."),
    ("The matrix was too small to measure", False, "No: the timings are stable; a sparse kernel on the same "
     "matrix was measurably faster at 99% zeros."),
])

# %% [markdown]
# ## What we learned
# - Magnitude pruning removes half the weights almost for free; past 80% one-shot pruning collapses and a short
#   fine-tune wins most of it back. Global pruning beats layer-wise at high sparsity by sparing the output layer.
# - Whether a sparse layout saves memory depends on the index width: int64 COO/CSR need over 80% / 67% zeros,
#   a uint8-index CSR only about 20%.
# - Zeros in a dense matrix never speed it up; torch's sparse kernel is slower at 50% zeros and faster at 99%.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 15/15

# %% [markdown]
# ## References
# - Han, S., Pool, J., Tran, J. and Dally, W. (2015). Learning both weights and connections for efficient neural
#   networks. NeurIPS.
# - Han, S., Mao, H. and Dally, W. (2016). Deep Compression: compressing deep neural networks with pruning,
#   trained quantization and Huffman coding. ICLR.
# - Zhu, M. and Gupta, S. (2017). To prune, or not to prune: exploring the efficacy of pruning for model
#   compression. arXiv:1710.01878.
# - PyTorch documentation: `torch.nn.utils.prune`, `torch.sparse`.
#
# **Next:** [2.2 Movement pruning](ch2_02_movement_pruning.ipynb): rank weights by where fine-tuning moves them,
# not by their size, and see it win at 97% sparsity.
