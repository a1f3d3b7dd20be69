# %% [header]
# number = "1.3"
# title = "Dark knowledge lives in the rank order of the wrong classes"
# syllabus = ["D4"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_02_when_soft_targets_pay_off"]
# objectives = [
#     "scramble the teacher's wrong-class probabilities with top-1 kept, and measure what that costs a small and a larger student",
#     "separate the rank order of the wrong classes from their per-image consistency with an evenly spread control",
# ]

# %%
# parameters
SEED = 0     # draws the split, the teacher, the labelled subset and the students
N_SEEDS = 16  # students per setting, from a block of seeds that depends on SEED
T = 10.0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import losses, models
from course_lib.claims import Claims
from course_lib.distill.dark_knowledge import permute_non_top, spread_non_top
from course_lib.distill.landscape import train_stacked
from course_lib.labs.ch1 import rank_order as lab
from course_lib.ui import plots, quiz

claims = Claims("ch1_03_dark_knowledge_rank_order")
s = lab.setup(SEED)
ds = s.ds
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))

# %% [markdown]
# ## 1. A target with the same answer and the same confidence, but no similarity structure
#
# If soft targets help only because they are *soft* (less confident than one-hot), then any soft target with
# the same top-1 probability should help as much. If they help because of *which* wrong classes look
# plausible, shuffling the wrong classes should hurt. `permute_non_top` keeps the winning logit where it is and
# moves every other logit to a random other wrong class, separately for each image. Softmax treats classes
# symmetrically, so at every temperature the probabilities are shuffled the same way.

# %%
tl = s.t_logits[:1]
pl = permute_non_top(tl, seed=SEED)
el = spread_non_top(tl, T)
p, q, e = (losses.softmax_t(v, T)[0] for v in (tl, pl, el))
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), sharey=True)
top = float(p.max()) * 1.1
plots.probabilities(axes[0], p, ds.class_names, title=f"teacher at T={T:g} (label {int(s.y[0])})",
                    highlight=int(p.argmax()), ylim=(0, top))
plots.probabilities(axes[1], q, ds.class_names, title="top-1 kept, the rest permuted", highlight=int(q.argmax()),
                    ylim=(0, top))
plots.probabilities(axes[2], e, ds.class_names, title="top-1 kept, the rest spread evenly", highlight=int(e.argmax()),
                    ylim=(0, top))
plt.tight_layout()
plt.show()

# %% [markdown]
# A scrambled target destroys two things at once: the **rank order** (which wrong classes the teacher favours) and
# the **consistency** between images (two similar 7s now favour different wrong classes, at random). To tell them
# apart we add a control, `spread_non_top`: the same top-1 class and probability, with the remaining mass spread
# evenly over the nine wrong classes. It has no rank order either, but nothing random that differs between images.
#
# ## 2. Two students, four kinds of target
#
# Every student learns from the teacher only (alpha = 1), at T = 10 where the wrong-class probabilities are large
# enough to matter, on a 20 % labelled subset of the training images. One student is heavily compressed (a hidden
# layer of 6 units), the other has 48 hidden units. For each size we train on the true targets, the permuted ones,
# the evenly spread ones, and, as the reference the learner should compare with, on the hard labels alone.
#
# Sixteen students per setting (seeds that depend on SEED; each permuted target is drawn with its student's seed),
# all students of one width trained side by side in one batched loop (`distill.landscape.train_stacked`, the same
# numbers as `lab.rank_order_run` one by one). A 6-unit student sometimes loses most of its units early and ends far
# below the others whatever its targets, so one such seed can move a mean by several points. We therefore compare
# **medians** over the sixteen students (of paired differences where two kinds of target share a seed).
#
# **Predict, then run.** 1. Which student loses more from scrambling? 2. Can a scrambled teacher be worse than no
# teacher at all?
#
# <details><summary>Answer</summary>
#
# The 6-unit student loses more, in points and as a share of its accuracy: the notebook asserts more than 2 points
# for it and more than 1 point for the 48-unit student. Yes: the 6-unit student on scrambled targets ends more than
# 2 points *below* the same student trained on the hard labels. All checked below on medians over the sixteen
# students.
#
# </details>

# %%
sizes = {"6 hidden units": (6,), "48 hidden units": (48,)}
kinds = ("true", "permuted", "spread", "hard")
# one student per (kind, seed): targets for the three distilled kinds, alpha = 0 (labels only) for "hard"
targets = torch.stack([s.t_logits] * N_SEEDS + [permute_non_top(s.t_logits, seed=j) for j in seeds]
                      + [spread_non_top(s.t_logits, T)] * N_SEEDS + [s.t_logits] * N_SEEDS)
configs = [(T, 1.0, j) for j in seeds] * 3 + [(1.0, 0.0, j) for j in seeds]
acc = {}
for name, h in tqdm(sizes.items(), desc="student sizes"):
    r = train_stacked(s.X, s.y, targets, h[0], configs, epochs=100, lr=3e-2, eval_sets=[(ds.X_test, ds.y_test)])
    acc[name] = dict(zip(kinds, np.asarray(r["accuracy"][0]).reshape(len(kinds), N_SEEDS)))
for name, h in sizes.items():
    print(f"{name} ({models.count_params(models.mlp(64, h, 10))} parameters): " +
          ", ".join(f"{k} median {np.median(acc[name][k]):.1%} (min {acc[name][k].min():.1%})" for k in kinds))
med = {name: {k: float(np.median(v)) for k, v in acc[name].items()} for name in sizes}


def paired(name, a, b):
    """Median over seeds of (accuracy on targets a) - (accuracy on targets b), same student seeds."""
    return float(np.median(acc[name][a] - acc[name][b]))


drop = {name: paired(name, "true", "permuted") for name in sizes}
share = {name: drop[name] / med[name]["true"] for name in sizes}

# %%
fig, ax = plt.subplots(figsize=(8, 4))
w = 0.2
for i, kind in enumerate(kinds):
    meds = np.array([np.median(acc[n][kind]) * 100 for n in sizes])
    quart = np.array([np.percentile(acc[n][kind] * 100, [25, 75]) for n in sizes]).T
    ax.bar(np.arange(len(sizes)) + (i - 1.5) * w, meds, w, yerr=np.abs(quart - meds), capsize=4,
           label=f"{kind} targets" if kind != "hard" else "hard labels (reference)")
ax.set_xticks(range(len(sizes)), list(sizes))
ax.set_ylim(50, 100)
ax.legend(loc="lower right", fontsize=9)
plots.style(ax, f"Scrambling the wrong classes (T={T:g}, median and quartiles over {N_SEEDS} seeds)", "student",
            "test accuracy (%)")
plt.show()

# %%
small, large = "6 hidden units", "48 hidden units"
claims.check("scrambling the wrong classes costs the 6-unit student more than 2 points and the 48-unit student more "
             "than 1 point of test accuracy (medians over seeds)", drop[small] > 0.02 and drop[large] > 0.01,
             drop_small=drop[small], drop_large=drop[large])
claims.check("the 6-unit student loses more, in points and as a share of its accuracy",
             drop[small] > drop[large] and share[small] > share[large], drop_small=drop[small], drop_large=drop[large],
             share_small=share[small], share_large=share[large])
below = paired(small, "hard", "permuted")
claims.check("on scrambled targets the 6-unit student ends more than 2 points below the same student on hard labels",
             below > 0.02, hard_minus_permuted=below, hard=med[small]["hard"], permuted=med[small]["permuted"])
rank_part = paired(small, "true", "spread")
claims.check("for the 6-unit student the true targets beat the evenly spread ones by more than 1 point: the rank "
             "order itself carries information", rank_part > 0.01, true_minus_spread=rank_part,
             true_minus_spread_48=paired(large, "true", "spread"))
claims.check("for the 48-unit student the spread targets beat the scrambled ones by more than 1.5 points",
             paired(large, "spread", "permuted") > 0.015, spread_minus_permuted=paired(large, "spread", "permuted"))

# %% [markdown]
# Reading the four bars together: the **6-unit student** has room for only a few directions in its hidden layer.
# True dark knowledge tells it which directions matter (the ones separating 3 from 5 and 8, say); without the rank
# order it does worse (the spread targets lose more than a point against the true ones), and with scrambled targets
# it falls below the hard-label student, for whom the labels at least point the right way. The **48-unit student**
# can still fit the top-1 answers and learns some structure from the inputs themselves: what costs it accuracy is
# the random inconsistency of the scrambled targets (spread beats scrambled by more than 1.5 points). Whether the
# rank order on its own helps it (true against spread) is a small difference whose sign changes with the split,
# so the notebook claims nothing about it. The spread over seeds is large for the tiny student, which is why we use
# sixteen and medians.
#
# > **Beside the paper.** Hinton et al. (2015) argue that the relative probabilities of the wrong answers carry the
# > teacher's notion of similarity; they do not scramble them. Our controls test that argument directly on a
# > miniature: keeping the top-1 probability but not the ranking costs a tiny student accuracy, and scrambling the
# > ranking costs it more than having no teacher at all; for a larger student the harm comes mostly from the
# > inconsistency of the scrambled targets.
#
# ## 3. Try it
#
# Pick a temperature and a student width; the dashboard trains three students on the true targets and three on
# scrambled ones (student j starts from the same weights in both groups) and shows the median of each group as a
# bar and every student as a dot. To answer within a fraction of a second it uses a quicker recipe than section 2
# (40 epochs at a higher learning rate instead of 100), so its accuracies sit a little lower; a 6-unit student
# that collapses shows up as a dot far below the others.
#
# **Predict, then run.** At T = 1, does scrambling the wrong classes matter?
#
# <details><summary>Answer</summary>
#
# Hardly: at T = 1 the teacher puts almost no mass on wrong classes (notebook 1.1 measured its mean entropy below
# 0.3 nats), so there is little to scramble. Try it; the notebook asserts nothing about it.
#
# </details>

# %%
dash = lab.dashboard(SEED, T=T, width=6)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("Why add the 'spread evenly' control next to the scrambled targets?", [
    ("To separate the value of the rank order from the harm of random, image-to-image inconsistency.", True,
     "Right: spread targets have no rank order but nothing random either."),
    ("Because spread targets are sharper.", False, "No: they keep the same top-1 probability."),
    ("To give the student more labels.", False, "No: all distilled students use alpha = 1 and no labels."),
])

# %%
quiz("The 6-unit student on scrambled targets did worse than on hard labels. Why can a teacher hurt?", [
    ("Its wrong-class probabilities now point at similarities that do not exist, and a tiny student spends its "
     "few units on them.", True, "Right: a wrong hint is worse than none."),
    ("The scrambled targets change the top-1 class.", False, "No: permute_non_top keeps the top-1 class and probability."),
    ("Because T = 10 is too high for any student.", False, "No: the true targets at T = 10 gave the best students."),
])

# %% [markdown]
# ## What we learned
# - Keeping the teacher's top-1 class and probability but scrambling the other nine cost the 6-unit student more
#   than 2 points and the 48-unit student more than 1 (medians over 16 seeds); the 6-unit student lost more, in
#   points and as a share of its accuracy, and fell more than 2 points below its hard-label reference.
# - The evenly spread control separates two harms. For the tiny student the rank order itself carries information
#   (true beats spread by more than a point); for the 48-unit student the harm is the image-to-image inconsistency
#   (spread beats scrambled by more than 1.5 points), and the rank order alone makes no difference we could claim.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 5/5

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Furlanello, T. et al. (2018). Born-again neural networks. ICML (their "dark knowledge with permuted predictions"
#   control keeps the top-1 and permutes the rest, as we do).
#
# **Next:** [1.4 Hints from a middle layer](ch1_04_hints_fitnets.ipynb): distilling a hidden layer, not the output.
