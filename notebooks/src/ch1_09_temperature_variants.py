# %% [header]
# number = "1.9"
# title = "Temperature variants: one global T, a T per example, or no student temperature"
# syllabus = ["D9"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "compare one global T with logit standardisation and teacher matching without a student temperature (TTM), under one live temperature slider",
#     "check the KD = TTM + Rényi-entropy identity",
# ]

# %% [markdown]
# Classic distillation softens teacher **and** student with the same temperature T. Two recent ideas question
# that choice:
#
# - **logit standardisation** z-scores every row of logits (subtract its mean, divide by its standard
#   deviation) before applying T. Each example then effectively gets its own temperature, T times the spread
#   of its logits, and the student only has to copy the *shape* of the teacher's logits, not their scale;
# - **transformed teacher matching (TTM)** softens only the teacher. The student is compared at T = 1.
#
# We put the three under the same temperature slider, derive the identity that links TTM to classic KD
# through a Rényi entropy, and measure what each does to the student.

# %%
# parameters
SEED = 0
N_SEEDS = 3  # students per setting, from a block of seeds that depends on SEED
TEMPERATURES = [0.5, 1.0, 2.0, 4.0, 8.0]
EXAMPLE = 3  # a test row whose distributions we draw

# %%
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import losses
from course_lib.claims import Claims
from course_lib.labs.ch1 import temperature_variants as lab
from course_lib.losses.variants import kd_ttm_decomposition, standardize_logits
from course_lib.ui import quiz

claims = Claims("ch1_09_temperature_variants")
s = lab.setup(SEED)  # split, teacher and labelled subset drawn with SEED
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
print(f"labelled subset: {len(s.X)} digits; test set: {len(s.X_test)} digits")
print("registered soft losses:", [k for k in losses.LOSSES if k in lab.VARIANTS])

# %% [markdown]
# ## 1. Three ways to soften
#
# With student logits $z$, teacher logits $t$ and $\sigma_T(v) = \mathrm{softmax}(v/T)$:
#
# | name | soft loss | note |
# |---|---|---|
# | `kd` | $T^2\,\mathrm{KL}\big(\sigma_T(t)\,\|\,\sigma_T(z)\big)$ | one temperature for everyone |
# | `kd_adaptive` | $T^2\,\mathrm{KL}\big(\sigma_T(\hat t)\,\|\,\sigma_T(\hat z)\big)$, $\hat v = (v - \bar v)/\mathrm{std}(v)$ per row | effective temperature $T\cdot\mathrm{std}(v)$ per example |
# | `ttm` | $\mathrm{KL}\big(\sigma_T(t)\,\|\,\sigma_1(z)\big)$ | no student temperature, and no $T^2$ |
#
# TTM needs no $T^2$ factor: its gradient with respect to $z$ is $\sigma_1(z) - \sigma_T(t)$ per example, which
# does not shrink as T grows.
#
# First, what the targets look like. A teacher that is three times more confident (its logits multiplied by 3)
# produces sharper global-T targets; the standardised targets do not change at all, because the z-score
# divides the factor out.
#
# **Predict, then run.** 1. For one test digit at T = 4, which target is flatter: the global-T one or the
# standardised one? 2. What happens to each when the teacher's logits are tripled?
#
# <details><summary>Answer</summary>
#
# 1. The standardised one, whenever the row's logit standard deviation is above 1 (standardised T then acts like a
#    global T of T times that deviation); the notebook asserts this for the digit drawn below at every seed tried.
# 2. The standardised target does not move at all (asserted to 1e-5); the global-T target gets sharper: averaged over
#    the test digits its top probability rises by more than 0.1 (asserted). For one digit the rise can be small,
#    when its top probability is close to 1 already.
#
# </details>

# %%
t_row = s.teacher_test_logits[EXAMPLE:EXAMPLE + 1]
T_SHOW = 4.0
targets = {
    "global T, teacher x1": torch.softmax(t_row / T_SHOW, -1)[0],
    "global T, teacher x3": torch.softmax(3 * t_row / T_SHOW, -1)[0],
    "standardised, teacher x1": torch.softmax(standardize_logits(t_row) / T_SHOW, -1)[0],
    "standardised, teacher x3": torch.softmax(standardize_logits(3 * t_row) / T_SHOW, -1)[0],
}
fig, ax = plt.subplots(figsize=(9, 3.5))
k = np.arange(len(s.class_names))
for i, (name, p) in enumerate(targets.items()):
    ax.bar(k + (i - 1.5) * 0.2, p.numpy(), 0.2, label=name)
ax.set_xticks(k, s.class_names)
ax.set(title=f"Soft targets at T={T_SHOW:g} for test digit #{EXAMPLE} (label {int(s.y_test[EXAMPLE])})",
       xlabel="class", ylabel="probability")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()
std_row = float(t_row.std(unbiased=False))
print(f"this row's logit std is {std_row:.2f}: standardised T={T_SHOW:g} acts like a global T of {T_SHOW * std_row:.1f}")
claims.check("tripling the teacher's logits leaves the standardised targets unchanged (to 1e-5)",
             torch.allclose(targets["standardised, teacher x1"], targets["standardised, teacher x3"], atol=1e-5),
             max_change=float((targets["standardised, teacher x1"] - targets["standardised, teacher x3"]).abs().max()))
# one digit's top probability can be close to 1 already (then it has little room to rise): measure the test set
top_x1 = torch.softmax(s.teacher_test_logits / T_SHOW, -1).max(-1).values
top_x3 = torch.softmax(3 * s.teacher_test_logits / T_SHOW, -1).max(-1).values
print(f"global-T top probability over the {len(top_x1)} test digits: mean {top_x1.mean():.3f} (teacher x1), "
      f"{top_x3.mean():.3f} (teacher x3)")
claims.check("...and raises the global-T targets' top probability, averaged over the test digits, by more than 0.1",
             (top_x3 - top_x1).mean() > 0.1, mean_x1=top_x1.mean(), mean_x3=top_x3.mean(),
             this_digit_x1=targets["global T, teacher x1"].max(), this_digit_x3=targets["global T, teacher x3"].max())
claims.check(f"this digit's teacher logits have a standard deviation above 1, so at T = {T_SHOW:g} its standardised "
             "target is flatter (lower top probability) than the global-T one",
             std_row > 1 and targets["standardised, teacher x1"].max() < targets["global T, teacher x1"].max(),
             logit_std=std_row, top_standardised=targets["standardised, teacher x1"].max(),
             top_global=targets["global T, teacher x1"].max())

# %% [markdown]
# ## 2. TTM and KD differ by a Rényi entropy
#
# Let $p_s = \sigma_1(z)$ be the student's ordinary prediction and $q = \sigma_T(t)$ the softened teacher.
# Raising $p_s$ to the power $1/T$ and renormalising gives exactly $\sigma_T(z)$, because
# $p_{s,i}^{1/T} \propto e^{z_i/T}$. So
#
# $$\log \sigma_T(z)_i = \tfrac1T \log p_{s,i} - \log \textstyle\sum_j p_{s,j}^{1/T}.$$
#
# Put this into $\mathrm{KD}_T = \mathrm{KL}(q\,\|\,\sigma_T(z)) = -H(q) - \sum_i q_i \log\sigma_T(z)_i$ and
# use $\mathrm{TTM}_T = \mathrm{KL}(q\,\|\,p_s) = -H(q) - \sum_i q_i\log p_{s,i}$ to replace the cross term:
#
# $$\mathrm{KD}_T = \tfrac1T\,\mathrm{TTM}_T - \big(1-\tfrac1T\big) H(q) + \log\textstyle\sum_j p_{s,j}^{1/T}.$$
#
# The last term is a Rényi entropy of order $a = 1/T$, $H_a(p) = \frac{1}{1-a}\log\sum_j p_j^a$, scaled by
# $1 - 1/T$. Multiplying through by T:
#
# $$T\cdot\mathrm{KD}_T = \mathrm{TTM}_T + (T-1)\,\big[H_{1/T}(p_s) - H(q)\big].$$
#
# $H(q)$ does not depend on the student. Read from TTM's side, the identity says that TTM equals $T$ times KD
# **minus** $(T-1)\,H_{1/T}(p_s)$ (plus a constant): compared with KD, TTM carries a bonus for the entropy of the
# student's own predictions, the "inherent Rényi-entropy regulariser" of Zheng and Yang (2024). So for $T > 1$ we
# expect TTM students to have softer (higher-entropy) outputs than KD students. At $T = 1$ the two losses are the
# same.
#
# What the identity does **not** explain is how sharp a KD student ends up. That follows from KD itself: a
# softmax ignores a constant added to all logits of a row, so KD at temperature T is minimised by any student
# whose logits equal the teacher's **up to an additive shift per example**. A student that fits the soft term
# therefore copies the teacher's logit *differences*, hence its logit scale, and at $T = 1$ it is about as sharp
# as the teacher is, whatever T was used in training. Section 3 measures this.
#
# We check the identity on real logits: the teacher's and an untrained student's on the test set.
#
# **Predict, then run.** Does the identity hold only for trained students, or for any logits?
#
# <details><summary>Answer</summary>
#
# For any logits: it is algebra, not a property of training. The notebook checks it on an untrained student's
# logits and asserts agreement to 1e-4 at every T tried (this is a check of the code, not a finding about
# students).
#
# </details>

# %%
from course_lib import models, train

raw_student = models.mlp(64, (16,), 10, seed=SEED)
z = train.predict(raw_student, s.X_test)
gaps = []
for T in TEMPERATURES:
    d = kd_ttm_decomposition(z, s.teacher_test_logits, T=T)
    lhs = float(T * d["kd"])
    rhs = float(d["ttm"] + (T - 1) * (d["renyi_student"] - d["entropy_teacher"]))
    print(f"T={T:4.1f}: T*KD = {lhs:.5f}   TTM + (T-1)(H_1/T - H_q) = {rhs:.5f}")
    gaps.append(abs(lhs - rhs) / max(1.0, abs(lhs)))
claims.check("T*KD = TTM + (T-1)(H_1/T - H_q) holds to 1e-4 on real logits at every T tried", max(gaps) < 1e-4,
             largest_relative_gap=max(gaps))

# %% [markdown]
# ## 3. The same slider for all three
#
# `lab.run(s, T)` (module `course_lib.labs.ch1.temperature_variants`) trains three identical students (`mlp(64, (16,), 10)`, 60
# full-batch epochs, alpha = 0.9) on the same 30% labelled subset, one per soft loss, at the same T, and returns
# their test accuracy and the mean entropy of their test predictions at T = 1. We sweep T for several seeds.
# We also measure each student's **logit spread** (the standard deviation of a row of logits, averaged over the
# test set) relative to the teacher's: the direct test of "KD copies the teacher's logits up to a shift".
#
# **Predict, then run.** 1. As T rises, which students become softer at T = 1: KD's, TTM's, or both? 2. Which
# students keep the teacher's logit scale?
#
# <details><summary>Answer</summary>
#
# 1. TTM's only: the notebook asserts that TTM student entropy rises with T above 1 and exceeds KD students' at
#    every T > 1, while KD students stay below 0.3 nats at every T.
# 2. KD's: their logit spread is asserted to stay between 0.8 and 1.7 times the teacher's at every T >= 1, while
#    TTM students' spread falls to below a fifth of the teacher's at T = 8.
#
# </details>

# %%
runs = {}
for T in tqdm(TEMPERATURES, desc="temperatures"):
    for seed in seeds:
        runs[(T, seed)] = lab.run(s, T, seed=seed, example=EXAMPLE)


def mean_over_seeds(key, variant):
    return np.array([[runs[(T, sd)][key][variant] for sd in seeds] for T in TEMPERATURES])


acc = {v: mean_over_seeds("accuracy", v) for v in lab.VARIANTS}
ent = {v: mean_over_seeds("entropy", v) for v in lab.VARIANTS}
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for v in lab.VARIANTS:
    axes[0].errorbar(TEMPERATURES, acc[v].mean(1), yerr=acc[v].std(1), marker="o", capsize=3, label=v)
    axes[1].plot(TEMPERATURES, ent[v].mean(1), marker="o", label=v)
axes[0].set(title=f"Student test accuracy (mean +/- std, {N_SEEDS} seeds)", xlabel="temperature T (log scale)",
            ylabel="accuracy (fraction)", xscale="log")
axes[1].set(title="How soft the student's own predictions are", xlabel="temperature T (log scale)",
            ylabel="mean entropy at T=1 (nats)", xscale="log")
from matplotlib.ticker import NullFormatter

for ax in axes:
    ax.set_xticks(TEMPERATURES, [f"{t:g}" for t in TEMPERATURES])  # plain labels at the measured points only
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()
for i, T in enumerate(TEMPERATURES):
    print(f"T={T:4.1f}: " + "  ".join(f"{v}: {acc[v][i].mean():.1%} (H={ent[v][i].mean():.2f})" for v in lab.VARIANTS))

# %% [markdown]
# What the sweep shows:
#
# - At $T = 1$, TTM and KD are the same loss, so their students are identical (an identity, not a finding; the
#   lab's tests check it).
# - KD students stay sharp (below 0.3 nats at every T tried), and the logit-spread measurement says why: their
#   logit spread stays close to the teacher's at every $T \ge 1$. KD at temperature T asks the student's logits to
#   match the teacher's only up to a shift per example, so the student inherits the teacher's logit *scale* and,
#   used at $T = 1$, is about as sharp as the teacher, whatever T was used in training. It is not the Rényi term
#   that keeps KD students sharp; that term only says how TTM differs from KD.
# - TTM students become softer as T rises: their logit spread falls roughly as $1/T$, because they copy the
#   softened teacher's *distribution* with their own logits at $T = 1$. From $T = 2$ up, standardised-KD students' softness changes far less with T (by less
#   than a fifth of the TTM students' range),
#   since their own logit scale is not constrained by the soft term at all (only the hard-label term sets it).
#   Below $T = 2$ the notebook makes no claim about them.
# - Accuracy differs much less than sharpness: on this small task, from $T = 2$ up, all three variants end within
#   four points of each other at every T (usually within two or three). The variants change *what kind of student* you get (its confidence) more than how
#   often it is right.

# %%
i1 = TEMPERATURES.index(1.0)
ttm_ent = ent["ttm"].mean(1)
kd_ent = ent["kd"].mean(1)
claims.check("TTM student entropy rises with T above T = 1", bool(np.all(np.diff(ttm_ent[i1:]) > 0)), ttm_entropy=ttm_ent)
claims.check("for every T > 1, TTM students are softer than KD students", bool(np.all(ttm_ent[i1 + 1:] > kd_ent[i1 + 1:])),
             ttm_entropy=ttm_ent, kd_entropy=kd_ent)
claims.check("KD students stay below 0.3 nats at every T; TTM at the highest T is above it",
             kd_ent.max() < 0.3 < ttm_ent[-1], kd_max=kd_ent.max(), ttm_highest_T=ttm_ent[-1])
i2 = TEMPERATURES.index(2.0)
ada_ent = ent["kd_adaptive"].mean(1)
print(f"standardised-KD student entropy for T >= 2 ranges over {ada_ent[i2:].min():.2f}..{ada_ent[i2:].max():.2f} nats "
      f"(all T: {ada_ent.min():.2f}..{ada_ent.max():.2f})")
ttm_range = ttm_ent[i2:].max() - ttm_ent[i2:].min()
claims.check("over T >= 2 the standardised-KD students' entropy varies by less than a fifth of the TTM students' range",
             ada_ent[i2:].max() - ada_ent[i2:].min() < 0.2 * ttm_range,
             range_standardised=ada_ent[i2:].max() - ada_ent[i2:].min(), range_ttm=ttm_range)
gaps = [max(acc[v][i].mean() for v in lab.VARIANTS) - min(acc[v][i].mean() for v in lab.VARIANTS)
        for i in range(len(TEMPERATURES))]
print("largest accuracy gap between variants at one T >= 2:", f"{max(gaps[i2:]):.1%}", f"(all T: {max(gaps):.1%})")
claims.check("for T >= 2 the three variants end within 4 points of test accuracy of each other", max(gaps[i2:]) < 0.04,
             largest_gap=max(gaps[i2:]))

teacher_spread = float(s.teacher_test_logits.std(-1, unbiased=False).mean())
spread = {v: np.array([[float(runs[(T, sd)]["logits"][v].std(-1, unbiased=False).mean()) / teacher_spread
                        for sd in seeds] for T in TEMPERATURES]).mean(1) for v in lab.VARIANTS}
for v in lab.VARIANTS:
    print(f"{v:12s} logit spread / teacher's, by T {TEMPERATURES}: {np.round(spread[v], 2)}")
claims.check("at every T >= 1 the KD students' logit spread stays between 0.8 and 1.7 times the teacher's "
             "(KD copies the teacher's logits up to a shift, hence their scale)",
             bool(np.all((spread["kd"][i1:] > 0.8) & (spread["kd"][i1:] < 1.7))), kd_spread_ratio=spread["kd"])
claims.check("TTM students' logit spread falls as T rises above 1, to below a fifth of the teacher's at T = 8",
             bool(np.all(np.diff(spread["ttm"][i1:]) < 0)) and spread["ttm"][-1] < 0.2, ttm_spread_ratio=spread["ttm"])

# %% [markdown]
# ## 4. A teacher with a different logit scale
#
# The argument for standardisation is that teacher and student may live at different logit scales. We test
# this directly: we train again at T = 4 with the teacher's logits multiplied by 3 (same ranking, three times the
# confidence). Standardised KD must give the same student up to float rounding, since its loss never sees the factor;
# global-T KD sees a sharper target and learns something else.
#
# **Predict, then run.** Will the standardised-KD student change at all?
#
# <details><summary>Answer</summary>
#
# Not beyond rounding. Its loss sees the same targets up to float32 rounding (the z-score of 3t and of t differ in
# the last bits), and the notebook asserts that its largest test-logit change is below 0.1% of its largest logit,
# while the global-T student's logits change by more than half of its largest logit.
#
# </details>
#
# Why a relative tolerance, and why 0.1%. A change caused by rounding scales with the size of the numbers, so it is
# measured against the student's largest logit (9 to 19 here). Float32 keeps about 7 significant digits
# (machine epsilon 1.2e-7), and usually the change stays within a few times that. But Adam divides every step by
# the root of a running mean of squared gradients: where a weight's gradient is close to zero, a difference in
# the last bits can change the step it takes, and 60 steps carry that on. Over 24 students (SEED 0-7) the change
# was below 2e-6 of the largest logit for 23 and reached 1e-4 for one; 0.1% leaves a factor of ten above that, and
# stays more than 500 times below the change of the global-T student.

# %%
T_SCALE = 4.0
scaled_setup = dataclasses.replace(s, teacher_logits=3 * s.teacher_logits)
same, changed = [], []  # per seed: largest test-logit change / largest test logit of the unscaled student
for seed in seeds:
    base = lab.train_variants(s, T=T_SCALE, epochs=60, lr=5e-2, seed=seed, variants=("kd", "kd_adaptive"))
    hot = lab.train_variants(scaled_setup, T=T_SCALE, epochs=60, lr=5e-2, seed=seed, variants=("kd", "kd_adaptive"))
    zb = {k: train.predict(m, s.X_test) for k, m in base.items()}
    zh = {k: train.predict(m, s.X_test) for k, m in hot.items()}
    same.append(float((zb["kd_adaptive"] - zh["kd_adaptive"]).abs().max() / zb["kd_adaptive"].abs().max()))
    changed.append(float((zb["kd"] - zh["kd"]).abs().max() / zb["kd"].abs().max()))
print(f"largest test-logit change as a share of the student's largest logit: standardised KD {max(same):.1e} "
      f"(float32 resolves {torch.finfo(torch.float32).eps:.1e}); global-T KD {min(changed):.2f}")
claims.check("tripling the teacher's logits moves the standardised-KD student's test logits by less than 0.1% of "
             "its largest logit (float rounding) and the global-T student's by more than half of its largest logit",
             max(same) < 1e-3 and min(changed) > 0.5, standardised=max(same), global_T=min(changed))

# %% [markdown]
# ## 5. Live: move the temperature
#
# Release the slider to retrain the three students at the new T. The left panel
# shows the targets each loss hands to the student for one test digit; watch how the standardised target uses
# a flatter scale for the same T, and how TTM and KD share a target but train differently. The live students
# train for 35 epochs at a higher learning rate than the sweep (60), so their numbers differ a little from the
# sweep's; each position is one seed.
#
# **Predict, then run.** Move T from 1 to 8. Which variant's accuracy changes most?
#
# <details><summary>Answer</summary>
#
# None by much: for T >= 2 the sweep asserts that the three variants end within 4 points of each other. What
# changes is confidence, which the summary line reports as entropy: TTM's rises with T (asserted in section 3).
#
# </details>

# %%
dash = lab.dashboard(SEED, example=EXAMPLE)
dash

# %% [markdown]
# > **Beside the paper.** Zheng and Yang (2024) derive the same decomposition and report that, thanks to the
# > Rényi-entropy term, TTM students generalise better than KD students on CIFAR-100 and ImageNet; their weighted
# > variant (WTTM) reaches 72.19% top-1 on ImageNet for a ResNet-18 student of a ResNet-34 teacher. Sun et al.
# > (2024) report that z-scoring the logits before KD improves vanilla KD and other logit-based distillers on
# > CIFAR-100 and ImageNet. Our miniature reproduces the mechanisms (TTM students are softer for every T > 1;
# > standardised KD never sees the teacher's scale) but not the accuracy gains: from T = 2 up the three variants end
# > within 4 points of each other, and with three seeds per setting we claim no ranking between them. A 16-unit
# > student on 8 x 8 digits has little room for the regularisation effects those papers measure on deep networks.
#
# ## Check yourself

# %%
quiz("Which loss never sees the scale of the teacher's logits?", [
    ("Logit-standardised KD.", True, "Right: the z-score divides any scale factor out."),
    ("Global-T KD.", False, "No: tripling the logits sharpened its targets."),
    ("TTM.", False, "No: TTM softens the raw teacher logits by T."),
])

# %%
quiz("At T = 1, how do the TTM and KD students compare?", [
    ("They are identical: at T = 1 the two losses coincide.", True, "Right: the Renyi term vanishes at T = 1."),
    ("TTM is softer.", False, "Only for T > 1."),
])

# %% [markdown]
# ## What we learned
#
# - Standardised targets are unchanged when the teacher's logits are tripled; global-T targets get sharper (top
#   probability up by more than 0.1 on average over the test digits at T = 4).
# - $T\cdot\mathrm{KD}_T = \mathrm{TTM}_T + (T-1)[H_{1/T}(p_s) - H(q)]$ holds to 1e-4 on real logits at every T tried.
# - TTM students' output entropy rises with T and exceeds KD students' for every T > 1; KD students stay below
#   0.3 nats at every T (mean of 3 seeds); standardised-KD students' entropy varies over T >= 2 by
#   less than a fifth of the TTM students' range.
# - For T >= 2 the three variants end within 4 points of test accuracy of each other (largest gap printed above).
# - KD matches logits up to a shift, so a KD student inherits the teacher's logit scale (its logit spread stays
#   between 0.8 and 1.7 times the teacher's at every T >= 1): that, not the Rényi term, is why it stays sharp at
#   every T. TTM students' spread falls to below a fifth of the teacher's at T = 8.
# - Tripling the teacher's logits leaves the standardised-KD student unchanged up to float rounding (largest
#   test-logit change below 0.1% of its largest logit) and moves the global-T student's logits by more than half
#   of its largest logit.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 12/12

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Sun, S., Ren, W., Li, J., Wang, R. and Cao, X. (2024). Logit standardization in knowledge distillation. CVPR.
# - Zheng, K. and Yang, E.-H. (2024). Knowledge distillation based on transformed teacher matching. ICLR.
#
# **Next:** [1.10 Batch size and temperature](ch1_10_batch_size_and_temperature.ipynb): how noisy is the
# distillation gradient?
