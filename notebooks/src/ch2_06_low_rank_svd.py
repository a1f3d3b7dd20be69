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
# ]

# %% [markdown]
# **You will learn to**
# - read a trained layer's singular value spectrum and the "energy" a rank-r approximation keeps;
# - replace one dense layer by two thin ones with `torch.linalg.svd`, and count what that saves: r(m + n)
#   parameters and multiply-adds instead of mn;
# - recover the accuracy lost at small ranks with a short fine-tune that distils from the original model;
# - explore the trade-off live with a rank slider.

# %%
# parameters
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import cache, data, lowrank, models, train

ds = data.load("digits")
teacher = cache.teacher("digits")  # 64 -> 256 -> 256 -> 10, cached on disk
SEEDS = list(range(SEED, SEED + 3))
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
# Training concentrates the energy in a few directions; at initialisation it is spread evenly.

# %%
s_trained = lowrank.spectrum(teacher.fc2.weight)


def fresh_spectrum(seed):
    torch.manual_seed(seed)
    return lowrank.spectrum(torch.nn.Linear(256, 256).weight)


s_init = {seed: fresh_spectrum(seed) for seed in SEEDS}
R_CHECK = 16
e_trained = lowrank.energy_kept(s_trained, R_CHECK)
e_init = np.mean([lowrank.energy_kept(s, R_CHECK) for s in s_init.values()])
print(f"energy kept at rank {R_CHECK}: trained fc2 {e_trained:.1%}, freshly initialised layer {e_init:.1%} (mean of 3)")
for target in (0.5, 0.9, 0.99):
    print(f"rank needed for {target:.0%} of the energy: trained {lowrank.rank_for_energy(s_trained, target)}, "
          f"initialised {lowrank.rank_for_energy(s_init[SEED], target)}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
ax1.semilogy(range(1, 257), s_trained, label="trained fc2")
ax1.semilogy(range(1, 257), s_init[SEED], label="freshly initialised")
ax1.set(title="Singular values of a 256 x 256 layer", xlabel="index i", ylabel="singular value s_i")
ax1.legend()
for s, name in ((s_trained, "trained fc2"), (s_init[SEED], "freshly initialised")):
    ax2.plot(range(1, 257), 100 * np.cumsum(s.numpy() ** 2) / float((s ** 2).sum()), label=name)
ax2.set(title="Energy kept by the best rank-r approximation", xlabel="rank r", ylabel="energy kept (%)")
ax2.legend()
plt.show()

# %%
assert e_trained > 2 * e_init

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
for r in (4, 16, 64, 128):
    fact = lowrank.factorize(teacher, {"fc2": r})
    p_layer = lowrank.lowrank_params(m_out, n_in, r)
    assert models.count_params(fact) == models.count_params(teacher) - lowrank.dense_params(m_out, n_in) + p_layer
    assert models.flops(fact, (64,)) == (models.flops(teacher, (64,)) - lowrank.dense_flops(m_out, n_in)
                                         + lowrank.lowrank_flops(m_out, n_in, r))
    print(f"{r:>5} {p_layer:>11,} {r * (m_out + n_in) / (m_out * n_in):>6.0%} {models.count_params(fact):>13,} "
          f"{models.flops(fact, (64,)):>12,}")
print(f"dense {lowrank.dense_params(m_out, n_in):>11,} {'100%':>6} {models.count_params(teacher):>13,} "
      f"{models.flops(teacher, (64,)):>12,}")
assert lowrank.break_even_rank(m_out, n_in) == 128

# %% [markdown]
# ## 3. Accuracy before and after a distilled fine-tune
#
# For each rank we factorize `fc2`, measure the test accuracy at once, then fine-tune the two factors and the
# output layer for 5 passes over the training set (mini-batches of 256, Adam) with the distillation loss from the
# original model (T = 4, alpha = 0.9). The first layer stays frozen, so its outputs are computed once. Three seeds
# (they change the order of the mini-batches).

# %%
lab = lowrank.RankLab(teacher, ds.X_train, ds.y_train, ds.X_test, ds.y_test, layer="fc2")
RANKS = [1, 2, 4, 8, 16, 32, 64]
before = {r: lab(rank=r, epochs=0)["acc_before"] for r in RANKS}
after = {r: [lab(rank=r, epochs=5, seed=seed)["acc_after"] for seed in SEEDS] for r in RANKS}
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
assert drop_r4 > 0.10
assert gain_r4 > 0.5 * drop_r4
assert all(np.mean(after[r]) > before[r] for r in (1, 2, 4))
assert acc_teacher - before[16] < 0.01 and energy[16] < 0.9
assert lowrank.lowrank_params(m_out, n_in, 16, bias=False) <= lowrank.dense_params(m_out, n_in, bias=False) / 8

# %% [markdown]
# ## 4. Live: the rank slider
#
# Move the rank (up to the break-even rank 128) and the number of fine-tuning epochs. The left panel shades the
# singular values kept; the right one shows the energy curve. The summary line reports parameters, FLOPs and the
# accuracy before and after the distilled fine-tune. Each move reuses the cached teacher and its cached
# first-layer outputs, so it answers in a fraction of a second.

# %%
dash = lowrank.rank_dashboard(lab, rank=16, epochs=2)
dash

# %% [markdown]
# The same function runs without the widget; here we move the slider from code, as the tests do.

# %%
res = dash.update(rank=4, epochs=3)
print(f"rank 4, 3 epochs: before {res['acc_before']:.1%}, after {res['acc_after']:.1%}, energy {res['energy']:.1%}, "
      f"params {res['params_lowrank']:,} of {res['params_dense']:,}")
assert res["params_lowrank"] == 4 * (256 + 256)

# %% [markdown]
# ## What we measured
#
# - At rank 16 the trained 256 x 256 layer keeps more than twice the energy of a freshly initialised one.
# - Parameters and FLOPs follow r(m + n) and 2r(m + n) exactly (checked on the factorized model); the break-even rank
#   of the square layer is 128, and rank 16 uses at most an eighth of its weights.
# - At rank 4 the factorization costs more than 10 points of test accuracy, and 5 distilled epochs recover more than
#   half of that (mean of 3 seeds); at ranks 1, 2 and 4 fine-tuning always helps.
# - From rank 16 the factorized teacher is within 1 point of the original before any fine-tuning, while keeping under
#   90% of the energy.
