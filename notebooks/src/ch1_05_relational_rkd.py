# %% [header]
# number = "1.5"
# title = "Relational distillation (RKD): copying the geometry, not the answers"
# syllabus = ["D6"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_04_hints_fitnets"]
# objectives = [
#     "write the RKD distance and angle losses",
#     "compare them with response distillation on embeddings, by nearest-neighbour recall",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 4  # students per setting, from a block of seeds that depends on SEED

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import cache, features, losses, metrics
from course_lib.claims import Claims
from course_lib.labs.ch1 import relational as lab
from course_lib.ui import plots, quiz

claims = Claims("ch1_05_relational_rkd")
s = lab.setup(SEED)  # split and teacher drawn with SEED
ds = s.ds
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)
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
# A quick check of the two losses: an embedding that is a rotated and scaled copy of the teacher's has the same
# normalised distances and the same angles, so both losses are zero; a random embedding is not.

# %%
t_emb = features.features(teacher, ds.X_test[:40], "act2")
Q, _ = torch.linalg.qr(torch.randn(256, 256, generator=torch.Generator().manual_seed(SEED)))
copy = 3.0 * t_emb @ Q
rand = torch.randn(40, 8, generator=torch.Generator().manual_seed(SEED))
for name, e in (("rotated, scaled copy", copy), ("random 8-d", rand)):
    print(f"{name:22s} distance {float(losses.get_feature('rkd_distance')(e, t_emb)):.4f}   "
          f"angle {float(losses.get_feature('rkd_angle')(e, t_emb)):.4f}")
d_copy, a_copy = float(losses.rkd_distance(copy, t_emb)), float(losses.rkd_angle(copy, t_emb))
claims.check("both RKD losses are zero (below 1e-4) for a rotated, scaled copy of the teacher's embedding",
             d_copy < 1e-4 and a_copy < 1e-4, distance=d_copy, angle=a_copy)
claims.check("the RKD distance loss is above 0.01 for a random embedding", float(losses.rkd_distance(rand, t_emb)) > 0.01,
             distance=float(losses.rkd_distance(rand, t_emb)))

# %% [markdown]
# ## 2. The experiment
#
# A student MLP 64 -> h -> 10 learns from the teacher without labels, on all training inputs. Its hidden layer
# (read by a forward hook) is the embedding we evaluate.
#
# * `response`: KD at T = 4 on the logits; the hidden layer is whatever the student needs to reproduce them.
# * `rkd`: RKD distance + 2 x RKD angle between the student's hidden layer and the teacher's last hidden layer
#   (256 units), on random batches of rows at each step.
#
# The metric: for every test image, find its nearest other test image in the embedding; **recall@1** is the
# fraction of those neighbours with the same label. We also report how well the student's test distances
# correlate with the teacher's. We try a narrow embedding (h = 4) and a wider one (h = 16).

# %%
t_test = features.features(teacher, ds.X_test, "act2")
teacher_recall = metrics.recall_at_1(t_test, ds.y_test)
raw_recall = metrics.recall_at_1(ds.X_test, ds.y_test)
print(f"recall@1 of the teacher's 256-d layer: {teacher_recall:.1%};  of the raw 64 pixels: {raw_recall:.1%}")
claims.check("recall@1 in the raw 64 pixels is within 2 points of the teacher's 256-unit layer, or above it",
             raw_recall > teacher_recall - 0.02, raw=raw_recall, teacher=teacher_recall)

widths, methods = [4, 16], ["response", "rkd"]
res = {(m, h): [lab.embedding_run(s, m, seed=k, hidden=h, probe=False) for k in seeds]
       for h in tqdm(widths, desc="widths") for m in methods}
rec = {k: np.array([r["recall@1"] for r in v]) for k, v in res.items()}
cor = {k: np.array([r["distance_corr"] for r in v]) for k, v in res.items()}
for (m, h), r in rec.items():
    print(f"h={h:2d} {m:9s} recall@1 {r.mean():.1%} ± {r.std():.1%}   distance corr {cor[m, h].mean():.3f} ± {cor[m, h].std():.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, table, name, unit in ((axes[0], rec, "recall@1", "fraction of test images"),
                              (axes[1], cor, "distance correlation with the teacher", "Pearson r")):
    w = 0.35
    for i, m in enumerate(methods):
        ax.bar(np.arange(len(widths)) + (i - 0.5) * w, [table[m, h].mean() for h in widths], w,
               yerr=[table[m, h].std() for h in widths], capsize=4, label=m)
    ax.set_xticks(range(len(widths)), [f"h = {h}" for h in widths])
    ax.set_ylim(0.5, 1.0)
    ax.legend(loc="lower right")
    plots.style(ax, f"{name} ({N_SEEDS} seeds)", "student embedding width", f"{name} ({unit})")
axes[0].axhline(teacher_recall, color="gray", ls="--")
plt.show()

# %% [markdown]
# Claims, checked on the means over seeds:
#
# * RKD reproduces the teacher's geometry more faithfully than response distillation at both widths (higher
#   correlation of test distances);
# * with a narrow 4-unit embedding RKD also gives the better nearest-neighbour recall@1;
# * with 16 units the two are close: their mean recall@1 differs by less than 2 points.

# %%
claims.check("RKD reproduces the teacher's test distances more faithfully than response KD at both widths",
             all(cor["rkd", h].mean() > cor["response", h].mean() for h in widths),
             **{f"corr_{m}_{h}": cor[m, h].mean() for m in methods for h in widths})
claims.check("with a 4-unit embedding RKD gives the better recall@1", rec["rkd", 4].mean() > rec["response", 4].mean(),
             rkd=rec["rkd", 4].mean(), response=rec["response", 4].mean())
claims.check("with 16 units their mean recall@1 differs by less than 2 points",
             abs(rec["rkd", 16].mean() - rec["response", 16].mean()) < 0.02,
             rkd=rec["rkd", 16].mean(), response=rec["response", 16].mean())
print(f"h=4: recall {rec['rkd', 4].mean():.1%} (rkd) against {rec['response', 4].mean():.1%} (response)")

# %% [markdown]
# A caution about the reference lines: on these easy 8x8 digits a nearest neighbour in the raw 64 pixels is
# already excellent (printed above), within 2 points of the teacher's 256-unit layer or better. What distillation buys here is a
# *small* embedding, 4 or 16 numbers per image, that keeps most of that quality.
#
# Why the width matters: response distillation only asks the 4 hidden units to carry what the 10 output logits
# need, and the logits of a confident teacher say little about how far apart two 7s are. RKD asks the same 4
# units to keep the teacher's neighbourhoods directly, which is exactly what recall@1 tests. With 16 units there
# is room for both, and the response student's hidden layer ends up with neighbourhoods almost as good. The
# price of RKD: it gives no classifier (its student's output layer was never trained), and its losses cost
# O(B^2) and O(B^3) in the batch size B, which is why we use batches of tens of rows.
#
# ## 3. Try it
#
# Pick an embedding width; the dashboard shows both students at that width, their recall@1 and the test accuracy
# of a linear probe (logistic regression on the frozen embedding). Training the two students for one width takes
# about a second, too slow for a slider, so building the dashboard trains every width it offers once, with a
# progress bar, and every move afterwards answers at once.

# %%
dash = lab.dashboard(SEED, width=4, progress=True)
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
])

# %% [markdown]
# ## What we learned
#
# * RKD students matched the teacher's test distances more closely than response students at 4 and 16 units.
# * At 4 units RKD gave the higher test recall@1; at 16 units the two were within 2 points (numbers above, mean
#   ± std over seeds), with the teacher's own 256-d layer as the reference line.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 6/6

# %% [markdown]
# ## References
# - Park, W., Kim, D., Lu, Y. and Cho, M. (2019). Relational knowledge distillation. CVPR.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [1.6 Fidelity against generalisation](ch1_06_fidelity_vs_generalisation.ipynb): is imitating the teacher
# the goal?
