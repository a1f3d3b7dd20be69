# %% [header]
# number = "2.6"
# title = "Low-rank factorization with the SVD"
# syllabus = ["C6", "F1"]
# study_minutes = 30
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "factorise a dense layer with `torch.linalg.svd`",
#     "read the singular value spectrum and the energy kept",
#     "count parameters and FLOPs r(m+n) against mn",
#     "accuracy before and after a distilled fine-tune on a live rank slider",
#     "compare SVD + fine-tuning with the same shape trained from scratch, and time the factorized model",
# ]

# %% [markdown]
# **You will learn to**
# - read a trained layer's singular value spectrum and the "energy" a rank-r approximation keeps;
# - replace one dense layer by two thin ones with `torch.linalg.svd`, and count what that saves: r(m + n)
#   parameters and multiply-adds instead of mn;
# - recover the accuracy lost at small ranks with a short fine-tune that distils from the original model;
# - compare SVD plus a short fine-tune with the same shape trained from scratch, and time the factorized model;
# - explore the trade-off live with a rank slider.

# %%
# parameters
SEED = 0  # drives the data split, the teacher (seed SEED on split SEED) and the fine-tuning seeds

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import dataclasses
from collections import OrderedDict

from course_lib import cache, data, latency, models, seeding, train
from course_lib.claims import Claims
from course_lib.compress import lowrank
from course_lib.labs.ch2 import rank as rank_lab
from course_lib.ui import quiz

claims = Claims("ch2_06_low_rank_svd")

ds = data.load("digits", split_seed=SEED)
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)  # 64 -> 256 -> 256 -> 10, cached on disk
SEEDS = list(range(3 * SEED, 3 * SEED + 3))  # fine-tuning seeds, a disjoint set per SEED
acc_teacher = train.evaluate(teacher, ds.X_test, ds.y_test)
print(teacher, f"\nteacher test accuracy {acc_teacher:.1%}")

# %% [markdown]
# ## 1. The spectrum of a trained layer
#
# The SVD writes a weight matrix $W$ (m x n) as $U\,\mathrm{diag}(s)\,V^\top$ with singular values
# $s_1 \ge s_2 \ge \dots \ge 0$. Keeping the r largest gives the best rank-r approximation in the Frobenius norm
# (the Eckart-Young theorem), and its squared error is the sum of the dropped $s_i^2$. So the fraction
# $\sum_{i \le r} s_i^2 / \sum_i s_i^2$, the *energy kept*, tells how much of the matrix a rank-r layer retains.
#
# We compare the teacher's 256 x 256 hidden layer `fc2` with a freshly initialised layer of the same shape.
# Training concentrates the energy in a few directions. At initialisation it is spread out, though not evenly:
# the singular values of a random square matrix follow the Marchenko-Pastur (quarter-circle) law, falling from
# about twice their typical size to near zero, so even a random layer's top 16 directions keep more than 16/256
# of the energy, just far less than a trained layer's do.

# %%
s_trained = lowrank.spectrum(teacher.fc2.weight)


def fresh_spectrum(seed):
    with seeding.fork(seed):  # a freshly initialised layer, without touching this notebook's random stream
        layer = torch.nn.Linear(256, 256)
    return lowrank.spectrum(layer.weight)


s_init = {seed: fresh_spectrum(seed) for seed in SEEDS}
R_CHECK = 16
e_trained = lowrank.energy_kept(s_trained, R_CHECK)
e_init = np.mean([lowrank.energy_kept(s, R_CHECK) for s in s_init.values()])
print(f"energy kept at rank {R_CHECK}: trained fc2 {e_trained:.1%}, freshly initialised layer {e_init:.1%} (mean of 3)")
for target in (0.5, 0.9, 0.99):
    print(f"rank needed for {target:.0%} of the energy: trained {lowrank.rank_for_energy(s_trained, target)}, "
          f"initialised {lowrank.rank_for_energy(s_init[SEEDS[0]], target)}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
ax1.semilogy(range(1, 257), s_trained, label="trained fc2")
ax1.semilogy(range(1, 257), s_init[SEEDS[0]], label="freshly initialised")
ax1.set(title="Singular values of a 256 x 256 layer", xlabel="index i", ylabel="singular value s_i")
ax1.legend()
for s, name in ((s_trained, "trained fc2"), (s_init[SEEDS[0]], "freshly initialised")):
    ax2.plot(range(1, 257), 100 * np.cumsum(s.numpy() ** 2) / float((s ** 2).sum()), label=name)
ax2.set(title="Energy kept by the best rank-r approximation", xlabel="rank r", ylabel="energy kept (%)")
ax2.legend()
plt.show()

# %%
claims.check("at rank 16 the trained layer keeps more than twice the energy of a freshly initialised one",
             e_trained > 2 * e_init, trained=e_trained, initialised=e_init)
claims.check("a random layer's top 16 directions keep more than 16/256 of its energy (the spectrum is not flat)",
             e_init > 16 / 256, initialised=e_init)

# %% [markdown]
# At rank 16 the trained layer keeps more than twice the energy that a random layer of the same shape would.
# Still, even the trained layer is not truly low-rank: its tail is long. Whether the tail matters for accuracy
# is a separate question, answered below.
#
# ## 2. What a factorization costs and saves
#
# A rank-r factorization replaces $W$ by two layers: $V_r^\top$ (r x n, no bias) and then $U_r \mathrm{diag}(s_r)$
# (m x r, with the old bias); here each factor takes $\sqrt{s}$. The weights drop from $mn$ to $r(m + n)$ and
# so do the multiply-adds (FLOPs are 2 per multiply-add: $2mn$ against $2r(m+n)$). Factorizing only pays when
# $r < mn / (m + n)$, which is 128 for a square 256 x 256 layer. The counts below come from formulas in
# `course_lib.lowrank` and are checked against parameters counted on the actual factorized model and FLOPs counted
# by forward hooks (`models.count_params`, `models.flops`).

# %%
m_out, n_in = teacher.fc2.out_features, teacher.fc2.in_features
print(f"{'rank':>5} {'fc2 params':>11} {'of mn':>6} {'model params':>13} {'model FLOPs':>12}")
counts_match = True
for r in (4, 16, 64, 128):
    fact = lowrank.factorize(teacher, {"fc2": r})
    p_layer = lowrank.lowrank_params(m_out, n_in, r)
    counts_match &= models.count_params(fact) == models.count_params(teacher) - lowrank.dense_params(m_out, n_in) + p_layer
    counts_match &= models.flops(fact, (64,)) == (models.flops(teacher, (64,)) - lowrank.dense_flops(m_out, n_in)
                                                  + lowrank.lowrank_flops(m_out, n_in, r))
    print(f"{r:>5} {p_layer:>11,} {r * (m_out + n_in) / (m_out * n_in):>6.0%} {models.count_params(fact):>13,} "
          f"{models.flops(fact, (64,)):>12,}")
print(f"dense {lowrank.dense_params(m_out, n_in):>11,} {'100%':>6} {models.count_params(teacher):>13,} "
      f"{models.flops(teacher, (64,)):>12,}")
claims.check("parameters and FLOPs counted on the factorized models match r(m + n) and 2r(m + n) at ranks 4-128",
             counts_match)
claims.check("the break-even rank of the 256 x 256 layer is 128", lowrank.break_even_rank(m_out, n_in) == 128,
             break_even=lowrank.break_even_rank(m_out, n_in))

# %% [markdown]
# ## 3. Accuracy before and after a distilled fine-tune
#
# For each rank we factorize `fc2`, measure the test accuracy at once, then fine-tune the two factors and the
# output layer for 5 passes over the training set (mini-batches of 256, Adam) with the distillation loss from the
# original model (T = 4, alpha = 0.9). The first layer stays frozen, so its outputs are computed once. Three seeds
# (they change the order of the mini-batches).
#
# **Predict, then run.** 1. At rank 16 (an eighth of fc2's weights), how much accuracy does the bare factorization
# lose? 2. At rank 4?
#
# <details><summary>Answer</summary>
#
# 1. Less than a point, while keeping under 90% of the energy (asserted). 2. More than 10 points, and five
#    distilled epochs win back more than half of them (asserted).
#
# </details>

# %%
lab = rank_lab.setup(SEED)  # the slider's state: the same teacher and split, its fc2 inputs cached
RANKS = [1, 2, 4, 8, 16, 32, 64]
before = {r: rank_lab.run(lab, rank=r, epochs=0)["acc_before"] for r in RANKS}
after = {r: [rank_lab.run(dataclasses.replace(lab, seed=seed), rank=r, epochs=5)["acc_after"] for seed in SEEDS]
         for r in RANKS}
energy = {r: lowrank.energy_kept(s_trained, r) for r in RANKS}
for r in RANKS:
    print(f"rank {r:>3}: energy {energy[r]:6.1%} | accuracy factorized {before[r]:.1%} -> fine-tuned "
          f"{np.mean(after[r]):.1%} +- {np.std(after[r]):.1%}")

fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.plot(RANKS, [100 * before[r] for r in RANKS], marker="o", label="factorized, no fine-tune")
ax.errorbar(RANKS, [100 * np.mean(after[r]) for r in RANKS], yerr=[100 * np.std(after[r]) for r in RANKS],
            marker="s", capsize=3, label="after 5 distilled epochs")
ax.plot(RANKS, [100 * energy[r] for r in RANKS], ls=":", color="gray", label="energy kept (%)")
ax.axhline(100 * acc_teacher, color="black", lw=0.8, label="teacher")
ax.set_xscale("log", base=2)
ax.legend(fontsize=8)
ax.set(title="Factorizing fc2 (256 x 256) of the teacher", xlabel="rank r", ylabel="test accuracy or energy (%)")
plt.show()

# %% [markdown]
# Reading the curves:
#
# - at rank 4 the bare factorization loses more than 10 points of accuracy, and five distilled epochs
#   win more than half of them back;
# - from rank 16 on, the factorized layer is within a point of the teacher even before fine-tuning, although it
#   keeps less than 90% of the energy and its factors hold an eighth of fc2's weights: the dropped directions carried
#   little of what the classifier uses;
# - energy is a guide, not a verdict: accuracy saturates long before energy does.

# %%
drop_r4 = acc_teacher - before[4]
gain_r4 = np.mean(after[4]) - before[4]
print(f"rank 4: lost {drop_r4:.1%} by factorizing, fine-tuning won back {gain_r4:.1%} ({gain_r4 / drop_r4:.0%} of the loss)")
claims.check("at rank 4 the bare factorization loses more than 10 points", drop_r4 > 0.10, drop=drop_r4)
claims.check("five distilled epochs win back more than half of the rank-4 loss", gain_r4 > 0.5 * drop_r4,
             gain=gain_r4, drop=drop_r4)
claims.check("at ranks 1, 2 and 4 fine-tuning always helps (mean of 3 seeds)",
             all(np.mean(after[r]) > before[r] for r in (1, 2, 4)),
             **{f"r{r}": (before[r], float(np.mean(after[r]))) for r in (1, 2, 4)})
claims.check("from rank 16 on (16, 32, 64) the factorized teacher is within 1 point before fine-tuning; rank 16 "
             "keeps under 90% of the energy",
             all(acc_teacher - before[r] < 0.01 for r in (16, 32, 64)) and energy[16] < 0.9, teacher=acc_teacher,
             r16=before[16], r32=before[32], r64=before[64], energy=energy[16])
claims.check("rank 16 uses at most an eighth of fc2's weights",
             lowrank.lowrank_params(m_out, n_in, 16, bias=False) <= lowrank.dense_params(m_out, n_in, bias=False) / 8)

# %% [markdown]
# ## 4. Against the same shape trained from scratch, and the clock
#
# A factorized layer is also an architecture: 64 -> 256 -> r -> 256 -> 10, with the middle layer split in two. Is the
# SVD start worth anything, or would the same network, trained from scratch on the labels as long as the teacher
# was (300 epochs), do as well? And does the smaller layer run faster? We train that network for each of the three
# seeds at ranks 4 and 16 (kept on disk after the first run; about 5 s), and time the dense teacher against the
# rank-16 one on the whole test split, interleaved and paired, on one thread.
#
# **Predict, then run.**
# 1. At rank 4, which is more accurate: SVD plus five distilled epochs, or the same shape trained from scratch for
#    300 epochs?
# 2. And at rank 16?
# 3. The rank-16 model has about a third of the teacher's multiply-adds. How much faster will it run?
#
# <details><summary>Answer</summary>
#
# 1. The network trained from scratch, by more than 3 points on average (asserted): five epochs that move only
#    the two thin layers cannot reach what a full training of the same shape reaches. SVD gives a quick start, not
#    the best model of that shape.
# 2. They are within 1.5 points of each other on average (asserted): at rank 16 the factorized teacher was already
#    within a point before fine-tuning.
# 3. More than 1.3 times faster (asserted, paired); less than the FLOP ratio, because a forward pass of a model
#    this small also pays fixed costs per layer (three matrix products become four).
#
# </details>

# %%
def same_shape(seed, rank):
    """The teacher's architecture with fc2 split into 256 -> rank -> 256, freshly initialised from ``seed``."""
    m = models.mlp(ds.n_features, (256, 256), ds.n_classes, seed=seed)
    with seeding.fork(seed):
        m.fc2 = torch.nn.Sequential(OrderedDict(reduce=torch.nn.Linear(256, rank, bias=False),
                                                expand=torch.nn.Linear(rank, 256)))
    return m


def trained_same_shape(seed, rank):
    config = dict(kind="lowrank-scratch", split_seed=SEED, seed=seed, rank=rank, epochs=300, lr=3e-3, weight_decay=1e-4)
    return cache.cached_model(
        config, lambda: same_shape(seed, rank),
        lambda m: train.fit(m, train.ce_objective(ds.X_train, ds.y_train), len(ds.X_train), epochs=300, lr=3e-3,
                            weight_decay=1e-4, seed=seed),
        name="lowrank-scratch")


scratch = {r: [train.evaluate(trained_same_shape(seed, r), ds.X_test, ds.y_test) for seed in SEEDS] for r in (4, 16)}
for r in (4, 16):
    print(f"rank {r:>2}: SVD + 5 distilled epochs {np.mean(after[r]):.1%} | same shape from scratch "
          f"{np.mean(scratch[r]):.1%} (per seed {', '.join(f'{a:.1%}' for a in scratch[r])})")

dense_model = lab.model
rank16_model = torch.nn.Sequential(OrderedDict(
    (name, lowrank.factorize_linear(module, 16) if name == lab.layer_name else module)
    for name, module in dense_model.named_children()))
with torch.inference_mode():
    clock = latency.compare({"dense": lambda: dense_model(ds.X_test), "rank 16": lambda: rank16_model(ds.X_test)},
                            repeats=31, n_threads=1)
speedup16 = latency.paired_ratio(clock["dense"], clock["rank 16"])
print(f"forward pass on {len(ds.X_test)} test digits: dense {clock['dense'].median * 1e3:.2f} ms, rank 16 "
      f"{clock['rank 16'].median * 1e3:.2f} ms; paired speed-up {speedup16:.2f}x (CPU and BLAS dependent)")

# %%
gap4 = np.mean(scratch[4]) - np.mean(after[4])
gap16 = np.mean(scratch[16]) - np.mean(after[16])
claims.check("at rank 4 the same shape trained from scratch for 300 epochs beats SVD + 5 distilled epochs by more "
             "than 3 points (mean of 3 seeds)", gap4 > 0.03, scratch=float(np.mean(scratch[4])),
             svd_finetuned=float(np.mean(after[4])), gap=gap4)
claims.check("at rank 16 the two are within 1.5 points of each other (mean of 3 seeds)", abs(gap16) < 0.015,
             scratch=float(np.mean(scratch[16])), svd_finetuned=float(np.mean(after[16])), gap=gap16)
claims.check("the rank-16 model runs the test split more than 1.3x faster than the dense teacher (paired, one thread)",
             speedup16 > 1.3, speedup=speedup16)

# %% [markdown]
# With 360 test digits one image is 0.28 points, so "within 1.5 points" at rank 16 is about five images; the three
# seeds could not show a difference smaller than that. The lesson for practice: factorize and fine-tune briefly when
# you need a smaller model *now* from a trained one; when you can afford a full training run, the low-rank shape
# trained (or distilled) from scratch may be the better model at small ranks.

# %% [markdown]
# ## 5. Live: the rank slider
#
# Move the rank (up to the break-even rank 128) and the number of fine-tuning epochs. The left panel shades the
# singular values kept; the right one shows the energy curve. The summary line reports parameters, FLOPs and the
# accuracy before and after the distilled fine-tune. Each move reuses the cached teacher and its cached
# first-layer outputs, so it answers in a fraction of a second.
#
# **Try:** drag the rank from 64 down to 1 with 0 epochs and watch accuracy hold until the energy kept falls well
# below 90%; then, at rank 4, raise the epochs to 5. The slider stops at 5 epochs, as section 3 does.

# %%
dash = rank_lab.dashboard(SEED, rank=16, epochs=2)
dash

# %% [markdown]
# The same function runs without the widget; here we move the slider from code, as the tests do.

# %%
res = rank_lab.run(lab, rank=4, epochs=3)  # a direct call: the slider above keeps rank 16
print(f"rank 4, 3 epochs: before {res['acc_before']:.1%}, after {res['acc_after']:.1%}, energy {res['energy']:.1%}, "
      f"params {res['params_lowrank']:,} of {res['params_dense']:,}")
claims.check("at rank 4 the factors hold 4 x (256 + 256) weights", res["params_lowrank"] == 4 * (256 + 256),
             params=res["params_lowrank"])

# %% [markdown]
# > **Beside the paper.** Denton et al. (2014) approximate the layers of a trained ConvNet by low-rank and
# > separable factors and report about a 2x speed-up of the convolutional layers and a 5-13x reduction of the
# > fully connected layers' weights within about 1 point of accuracy; Jaderberg et al. (2014) report up to 4.5x
# > speed-up on a text-recognition network with under 1% accuracy loss. Our miniature shows the mechanism on one
# > 256 x 256 layer: an eighth of its weights costs under a point before any fine-tuning.
#
# ## Check yourself

# %%
quiz("Rank 16 keeps under 90% of fc2's energy yet costs under a point of accuracy. Why?", [
    ("The dropped directions carry little of what the following layers use to classify", True,
     "Right: energy measures the matrix, not the task; accuracy saturates long before energy does."),
    ("The factorization adds parameters that compensate", False,
     "No: rank 16 holds an eighth of fc2's weights."),
    ("The test set is too easy to notice any change", False,
     "No: at rank 4 the same test set shows a loss of more than 10 points."),
])

# %%
quiz("Above which rank does factorizing a 256 x 256 layer stop saving parameters?", [
    ("128 = mn / (m + n)", True, "Right: r(m + n) < mn exactly when r < mn / (m + n) (asserted)."),
    ("256, the full rank", False, "No: at rank 256 the two factors hold twice the weights of the dense layer."),
    ("16", False, "No: 16 is where accuracy stops changing, not where the parameter count breaks even."),
])

# %% [markdown]
# ## What we learned
# - At rank 16 the trained 256 x 256 layer keeps more than twice the energy of a freshly initialised one.
# - Parameters and FLOPs follow r(m + n) and 2r(m + n) exactly (checked on the factorized model); the break-even rank
#   of the square layer is 128, and rank 16 uses at most an eighth of its weights.
# - At rank 4 the factorization costs more than 10 points of test accuracy, and 5 distilled epochs recover more than
#   half of that (mean of 3 seeds); at ranks 1, 2 and 4 fine-tuning always helps.
# - From rank 16 the factorized teacher is within 1 point of the original before any fine-tuning, while keeping under
#   90% of the energy.
# - SVD gives a quick start, not the best model of its shape: at rank 4 the same network trained from scratch for
#   300 epochs beats SVD + 5 distilled epochs by more than 3 points; at rank 16 the two are within 1.5 points. The
#   rank-16 model runs more than 1.3x faster than the dense teacher on this CPU (paired).

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 13/13

# %% [markdown]
# ## References
# - Denton, E., Zaremba, W., Bruna, J., LeCun, Y. and Fergus, R. (2014). Exploiting linear structure within
#   convolutional networks for efficient evaluation. NeurIPS.
# - Jaderberg, M., Vedaldi, A. and Zisserman, A. (2014). Speeding up convolutional neural networks with low rank
#   expansions. BMVC.
# - Eckart, C. and Young, G. (1936). The approximation of one matrix by another of lower rank. Psychometrika.
#
# **Next:** [2.7 The compression pipeline](ch2_07_compression_pipeline.ipynb): chain pruning, distillation, SVD,
# weight sharing and Huffman coding, Deep Compression in miniature.
