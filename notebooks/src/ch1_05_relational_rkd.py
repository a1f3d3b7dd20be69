# %% [header]
# number = "1.5"
# title = "Relational distillation (RKD): copying the geometry, not the answers"
# syllabus = ["D6"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_04_hints_fitnets"]
# objectives = [
#     "write the RKD distance and angle losses",
#     "compare them with response distillation on embeddings, by nearest-neighbour recall and a linear probe",
#     "state a 'no difference' result with the effect size it could have detected",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 8  # students per setting, seeds range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS)

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from course_lib import cache, features, losses, metrics
from course_lib.claims import Claims
from course_lib.labs.ch1 import relational as lab
from course_lib.ui import plots, quiz

claims = Claims("ch1_05_relational_rkd")
s = lab.setup(SEED)  # split and teacher drawn with SEED
ds = s.ds
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)  # the same teacher the lab uses
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))

# %% [markdown]
# ## 1. Three ways to hand knowledge over
#
# * **Response-based:** the student matches the teacher's output probabilities (the KD loss of D2).
# * **Feature-based:** it matches a hidden layer, through a regressor (the hints of D5).
# * **Relation-based:** it matches how the teacher places examples *relative to each other*. Relational
#   knowledge distillation (RKD, Park et al. 2019) takes a batch of examples and compares two kinds of structure:
#   * **distance:** every pairwise distance, divided by the batch's mean distance so that the scale of each space
#     drops out;
#   * **angle:** for every triplet (i, j, k), the cosine of the angle at j between the directions to i and to k.
#
#   Both are compared with a Huber loss. Neither needs the two embeddings to have the same width, so a 4-unit
#   student can learn from a 256-unit teacher layer with no regressor at all.
#
# A quick check of our implementation: an embedding that is a rotated and scaled copy of the teacher's has the same
# normalised distances and the same angles, so both losses should print (numerically) zero; a random embedding
# should not. This is a property of the definitions, so we print it rather than claim it as a finding (the unit
# tests assert it).

# %%
t_emb = features.features(teacher, ds.X_test[:40], "act2")
Q, _ = torch.linalg.qr(torch.randn(256, 256, generator=torch.Generator().manual_seed(SEED)))
copy = 3.0 * t_emb @ Q
rand = torch.randn(40, 8, generator=torch.Generator().manual_seed(SEED))
for name, e in (("rotated, scaled copy", copy), ("random 8-d", rand)):
    print(f"{name:22s} distance {float(losses.get_feature('rkd_distance')(e, t_emb)):.4f}   "
          f"angle {float(losses.get_feature('rkd_angle')(e, t_emb)):.4f}")

# %% [markdown]
# ## 2. The experiment
#
# A student MLP 64 -> h -> 10 learns from the teacher without labels, on all training inputs, for 80 full-batch
# epochs. Its hidden layer (read by a forward hook) is the embedding we evaluate.
#
# * `response`: KD at T = 4 on the logits; the hidden layer is whatever the student needs to reproduce them.
# * `rkd`: RKD distance + 2 x RKD angle between the student's hidden layer and the teacher's last hidden layer
#   (256 units), on random batches of rows at each step (128 rows for distances, 32 for angles).
#
# Three measurements on the test split:
#
# * **distance correlation** with the teacher's test embedding. RKD optimises exactly these distances, so this
#   only checks that RKD did what it was asked; it cannot decide which student is better;
# * **recall@1**: for every test image, is its nearest other test image in the embedding of the same digit?
# * **linear probe**: a logistic regression (scikit-learn) fitted on the frozen training embeddings, its
#   regularisation chosen on the validation split, scored on the test split. Neither student was trained for this
#   task, so it is the fair judge of what the embedding is good for.
#
# Two widths, h = 4 and h = 16, 8 seeds each: 32 students (several seconds).
#
# **Predict, then run.**
# 1. At h = 4, which student gives the better nearest-neighbour recall and probe accuracy?
# 2. At h = 16, how large a difference do you expect?
#
# <details><summary>Answer</summary>
#
# 1. RKD: the notebook asserts a higher mean recall@1 and a higher mean probe accuracy for RKD at h = 4.
# 2. Too small to matter: the notebook asserts that the 95 % confidence interval of the paired difference (8 seeds)
#    lies within ±2 points for both recall@1 and the probe, and that its half-width is under 1.5 points, so a
#    2-point difference would have been detected.
#
# </details>

# %%
t_test = s.t_test
teacher_recall = metrics.recall_at_1(t_test, ds.y_test)
raw_recall = metrics.recall_at_1(ds.X_test, ds.y_test)
print(f"recall@1 of the teacher's 256-d layer: {teacher_recall:.1%};  of the raw 64 pixels: {raw_recall:.1%}")
claims.check("recall@1 in the raw 64 pixels is within 2 points of the teacher's 256-unit layer, or above it",
             raw_recall > teacher_recall - 0.02, raw=raw_recall, teacher=teacher_recall)

widths, methods, METRICS = [4, 16], ["response", "rkd"], ["recall@1", "probe", "distance_corr"]
res = {(m, h): [lab.embedding_run(s, m, seed=k, hidden=h) for k in seeds]
       for h in tqdm(widths, desc="widths") for m in methods}
val = {(m, h, q): np.array([r[q] for r in v]) for (m, h), v in res.items() for q in METRICS}
for (m, h) in res:
    print(f"h={h:2d} {m:9s} " + "   ".join(f"{q} {val[m, h, q].mean():.3f} ± {val[m, h, q].std():.3f}" for q in METRICS))

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, q, unit in ((axes[0], "recall@1", "fraction of test images"), (axes[1], "probe", "test accuracy"),
                    (axes[2], "distance_corr", "Pearson r with the teacher")):
    w = 0.35
    for i, m in enumerate(methods):
        ax.bar(np.arange(len(widths)) + (i - 0.5) * w, [val[m, h, q].mean() for h in widths], w,
               yerr=[val[m, h, q].std() for h in widths], capsize=4, label=m)
    ax.set_xticks(range(len(widths)), [f"h = {h}" for h in widths])
    ax.set_ylim(0.5, 1.0)
    ax.legend(loc="lower right")
    plots.style(ax, f"{q} ({N_SEEDS} seeds)", "student embedding width", f"{q} ({unit})")
axes[0].axhline(teacher_recall, color="gray", ls="--")
fig.tight_layout()
plt.show()

# %% [markdown]
# Claims, checked on the means over seeds (and, for h = 16, on the paired differences seed by seed):
#
# * RKD matches the teacher's test distances more closely than response KD at both widths: the check that it did
#   what it optimises, nothing more;
# * with a narrow 4-unit embedding RKD gives the higher mean recall@1 **and** the higher mean probe accuracy: the
#   task metrics agree with the geometry;
# * with 16 units there is no difference worth having: for recall@1 and for the probe, the 95 % confidence interval
#   of the mean paired difference (RKD minus response, 8 seeds, Student's t) lies inside ±2 points, and its
#   half-width is below 1.5 points, so the experiment had the resolution to see a 2-point difference.

# %%
claims.check("RKD reproduces the teacher's test distances more faithfully than response KD at both widths",
             all(val["rkd", h, "distance_corr"].mean() > val["response", h, "distance_corr"].mean() for h in widths),
             **{f"corr_{m}_{h}": val[m, h, "distance_corr"].mean() for m in methods for h in widths})
claims.check("with a 4-unit embedding RKD gives the higher mean recall@1 and the higher mean probe accuracy",
             all(val["rkd", 4, q].mean() > val["response", 4, q].mean() for q in ("recall@1", "probe")),
             **{f"{q}_{m}": val[m, 4, q].mean() for q in ("recall@1", "probe") for m in methods})


def paired_ci(a, b, level=0.95):
    """Mean of a - b and the half-width of its Student-t confidence interval."""
    d = a - b
    return d.mean(), stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))


ci = {q: paired_ci(val["rkd", 16, q], val["response", 16, q]) for q in ("recall@1", "probe")}
for q, (d, hw) in ci.items():
    print(f"h=16 {q:9s}: RKD - response = {d:+.2%}, 95% CI [{d - hw:+.2%}, {d + hw:+.2%}]")
claims.check("with 16 units the 95% CI of the paired difference lies within ±2 points for recall@1 and the probe, "
             "with a half-width below 1.5 points",
             all(abs(d) + hw < 0.02 and hw < 0.015 for d, hw in ci.values()),
             **{f"{q}_diff": d for q, (d, _) in ci.items()}, **{f"{q}_halfwidth": hw for q, (_, hw) in ci.items()})

# %% [markdown]
# A caution about the reference lines: on these easy 8x8 digits a nearest neighbour in the raw 64 pixels is
# already excellent (printed above), within 2 points of the teacher's 256-unit layer or better. What distillation buys
# here is a *small* embedding, 4 or 16 numbers per image, that keeps most of that quality.
#
# Why the width matters: response distillation only asks the 4 hidden units to carry what the 10 output logits
# need, and the logits of a confident teacher say little about how far apart two 7s are. RKD asks the same 4
# units to keep the teacher's neighbourhoods directly, which is what recall@1 and the probe reward. With 16 units
# there is room for both, and the two students end up equally good by both task metrics. The price of RKD: it gives
# no classifier (its student's output layer was never trained), and its losses cost O(B^2) and O(B^3) in the batch
# size B, which is why we use batches of tens of rows.
#
# > **Beside the paper.** Park et al. (2019) evaluate RKD mostly on metric learning: with a ResNet50 teacher with a
# > 512-d embedding and smaller students, RKD students reach a higher recall@1 than their teacher on CUB-200-2011
# > and Cars 196 (their Figure 2 and tables), and combining RKD with response KD helps on CIFAR-100 and Tiny
# > ImageNet classification. What carries over: on a narrow embedding, copying the teacher's geometry beats
# > copying its answers by recall@1 and by a linear probe. What does not: at 16 units the advantage is gone
# > (within ±2 points, asserted above), and on these easy digits the raw pixels are already a strong neighbour
# > space, so a student here cannot beat its teacher by much.
#
# ## 3. Try it
#
# Pick an embedding width; the dashboard shows both students at that width, their recall@1 and the test accuracy
# of the linear probe. Training the two students for one width takes about a second, too slow for a slider, so
# building the dashboard trains every width it offers once (reusing the students above for 4 and 16), with a
# progress bar, and every move afterwards answers at once. Try width 2, then 32.
#
# **Predict, then run.** At width 32, do you expect RKD's advantage to come back?
#
# <details><summary>Answer</summary>
#
# No reason to: at 16 units the notebook already found no difference beyond ±2 points; more width leaves room for
# both. The dashboard shows one seed, so small gaps either way are noise.
#
# </details>

# %%
dash = lab.dashboard(SEED, width=4, progress=True, student_seed=seeds[0])
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("Why can a 4-unit student learn RKD from a 256-unit teacher layer without a regressor?", [
    ("RKD compares normalised distances and angles within each space, never the coordinates themselves.", True,
     "Right: both losses are computed inside each embedding, so the widths may differ."),
    ("Because RKD pads the student to 256 units.", False, "No: nothing is padded."),
])

# %%
quiz("RKD scores higher on distance correlation with the teacher. Why is that not enough to call it better?", [
    ("RKD optimises those very distances, so the comparison is stacked; a task metric is needed too.", True,
     "Right: recall@1 and a linear probe measure what the embedding is for."),
    ("Distance correlation is always 1.", False, "No: it was measured below 1 for every student."),
    ("Because it was measured on the test split.", False, "No: the test split is where it should be measured."),
])

# %%
quiz("At 16 units the notebook claims no difference beyond ±2 points. Why does it also check the interval's half-width?", [
    ("A wide interval can contain zero without ruling out a large difference; the half-width says what size of "
     "difference the 8 seeds could have detected.", True,
     "Right: 'no difference' is only a finding when the test had the resolution to see one."),
    ("To make the claim harder to fail.", False, "No: the extra condition makes it easier to fail, not harder."),
])

# %% [markdown]
# ## What we learned
#
# * RKD students matched the teacher's test distances more closely than response students at 4 and 16 units, as
#   they were trained to; that alone says nothing about which embedding is better.
# * At 4 units RKD gave the higher mean recall@1 and linear-probe accuracy; at 16 units the two were equivalent
#   within ±2 points on both task metrics, with a test sharp enough to see 2 points (numbers above).

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 4/4

# %% [markdown]
# ## References
# - Park, W., Kim, D., Lu, Y. and Cho, M. (2019). Relational knowledge distillation. CVPR.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [1.6 Fidelity against generalisation](ch1_06_fidelity_vs_generalisation.ipynb): is imitating the teacher
# the goal?
