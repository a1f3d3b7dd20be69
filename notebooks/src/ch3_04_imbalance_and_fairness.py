# %% [header]
# number = "3.4"
# title = "A long tail: what distillation does for the rare classes, and what weighting it towards them buys"
# syllabus = ["B4"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch3_03_calibration"]
# objectives = [
#     "build a long-tailed training set with an exponential profile and measure recall and calibration class by class",
#     "show that plain distillation from a teacher that saw the same long tail hands its neglect of the rare classes to the student",
#     "weight the distillation term towards rare classes and measure what it gives the tail and what it costs the head, over seeds",
# ]

# %% [markdown]
# Real data are rarely balanced: a few classes are common, many are rare. Accuracy averaged over all test
# examples then hides what happens to the rare classes, and a model can look good while failing them. This
# notebook looks at each class separately, with two measures: **recall** (of the test digits of class c, the
# fraction called c) and **class-wise calibration error** (does the probability a model gives class c match how
# often c is the answer? Kull et al. 2019).
#
# We cut the digits training split to a **long tail**: the most common digit keeps 100 examples, each next one
# $50^{-1/9}$ times fewer, down to 2 examples of the rarest (an exponential profile with imbalance ratio 50, as in
# Cui et al.'s long-tailed CIFAR benchmarks). Which digit is common and which is rare is drawn from SEED. The
# validation and test splits stay balanced, so every class counts alike when we measure.
#
# Everybody sees only the long tail: the teacher (a 256-256 MLP) and three kinds of student (64-32-10):
#
# - **scratch**: cross-entropy with the labels;
# - **plain KD**: $0.9\,T^2\,\mathrm{KL}(p^T_{\text{teacher}}\,\|\,p^T_{\text{student}}) + 0.1\,\mathrm{CE}$ at
#   $T = 4$, the usual recipe of chapter 1;
# - **weighted KD**: the same, with each example's KL term multiplied by $w_c \propto n_c^{-\beta}$, where $n_c$
#   is the number of training examples of its class. $\beta = 0$ is plain KD; $\beta = 1$ gives every class the
#   same total weight. The weights are scaled so that their mean over the training set is 1, so the loss keeps
#   its overall size.
#
# Every student gets 100 full-batch Adam epochs at learning rate 0.01.

# %%
# parameters
SEED = 0  # drives the split, which digits are rare, the teacher and the students (3 per SEED, disjoint)
N_SEEDS = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib.claims import Claims
from course_lib.labs.ch3 import imbalance as lab
from course_lib.reliability import fairness
from course_lib.ui import plots, quiz

claims = Claims("ch3_04_imbalance_and_fairness")
SEEDS = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
s = lab.setup(SEED, student_seed=SEEDS[0])
print("training examples per rank:", s.counts, f"(total {sum(s.counts)}, from {len(s.ds.y_train)} in the full split)")
print("digits from most to least common:", s.order)

# %% [markdown]
# ## 1. The long tail and its teacher
#
# `fairness.long_tail_counts(100, 50, 10)` gives the profile; `fairness.long_tail_indices` draws it from the
# training split. First we look at the teacher, trained on the long tail alone (cached on disk after the first
# run), recall per digit on the balanced test split.
#
# **Predict, then run.** How does the teacher's recall on the three rarest digits compare with the three
# commonest?
#
# <details><summary>Answer</summary>
#
# Much lower: the claim below asserts a gap of more than 20 points; at SEED=0 it measured about 98% on the head
# against about 54% on the tail. Two to five examples are not enough to learn a digit, even for the big model.
#
# </details>

# %%
head_t, tail_t = s.teacher_recall[:3].mean(), s.teacher_recall[-3:].mean()
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.bar(range(10), s.counts, color="tab:gray")
ax2 = ax.twinx()
ax2.plot(range(10), s.teacher_recall, "o-", color="tab:red", label="teacher's test recall")
ax2.set_ylim(0, 1.05)
ax2.set_ylabel("test recall", color="tab:red")
ax.set_xticks(range(10), [str(d) for d in s.order])
plots.style(ax, "Training examples per digit (bars) and the long-tailed teacher's recall (line)",
            "digit, most common first", "training examples")
plt.tight_layout()
plt.show()
print(f"teacher: head recall {head_t:.1%}, tail recall {tail_t:.1%}")
claims.check("the long-tailed teacher's recall on the three rarest digits is more than 20 points below its recall "
             "on the three commonest", head_t - tail_t > 0.20, head=head_t, tail=tail_t)

# %% [markdown]
# ## 2. Scratch, plain KD and weighted KD, over seeds
#
# For each of the `N_SEEDS` student seeds we train a scratch student and KD students at $\beta$ = 0, 0.5 and 1,
# and measure recall and class-wise calibration error per digit on the test split (about five seconds).
# "Head" means the three commonest digits, "tail" the three rarest.
#
# **Predict, then run.** 1. Will plain KD help the tail compared with scratch, or hurt it? 2. What will weighting
# ($\beta = 1$) do for the tail, and what will it cost the head?
#
# <details><summary>Answer</summary>
#
# 1. It hurts: the claim below asserts that plain KD's tail recall is below scratch's for every student seed, by
# more than 5 points on average (SEED=0: about 51% for scratch, 21% for plain KD; over SEED 0-7 the drop ranged
# from 12 to 45 points, so 5 points leaves margin for a split we have not tried).
# 2. Weighting lifts the tail above plain KD for every student seed, by more than 5 points on average (SEED=0:
# 55%; over SEED 0-12 the lift ranged from 8 to 54 points: at SEED 11 plain KD already kept half the tail), and
# costs the head at most 2 points; the tail's class-wise calibration error falls too, for every student seed
# (claims below; the mean fall ranged from 0.004 to 0.044 over SEED 0-12, so we claim no size). Whether it ends above or below scratch depends on the
# split: the difference is printed, not claimed.
#
# </details>

# %%
VARIANTS = {"scratch": None, "plain KD": 0.0, "weighted, beta=0.5": 0.5, "weighted, beta=1": 1.0}
R = {k: [] for k in VARIANTS}
for seed in tqdm(SEEDS, desc="student seeds"):
    for name, beta in VARIANTS.items():
        R[name].append(lab.baseline(s, "scratch", seed) if beta is None else lab.weighted(s, beta, seed))
rec = {k: np.array([r["recall"] for r in v]).mean(0) for k, v in R.items()}
ece = {k: np.array([r["ece"] for r in v]).mean(0) for k, v in R.items()}
head = {k: np.mean([r["head"] for r in v]) for k, v in R.items()}
tail = {k: np.mean([r["tail"] for r in v]) for k, v in R.items()}
ece_tail = {k: np.mean([r["ece_tail"] for r in v]) for k, v in R.items()}
acc = {k: np.mean([r["accuracy"] for r in v]) for k, v in R.items()}

fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.8))
x = np.arange(10)
for k in VARIANTS:
    a1.plot(x, rec[k], "o-", ms=4, label=k)
    a2.plot(x, ece[k], "o-", ms=4, label=k)
a1.plot(x, s.teacher_recall, "k--", lw=1, label="teacher")
for a in (a1, a2):
    a.set_xticks(x, [str(d) for d in s.order])
plots.style(a1, f"Test recall per digit (mean of {N_SEEDS} students)", "digit, most common first", "recall")
plots.style(a2, "Class-wise calibration error per digit", "digit, most common first", "class-wise ECE")
a1.legend(fontsize=8)
plt.tight_layout()
plt.show()
for k in VARIANTS:
    print(f"{k:>20}: head recall {head[k]:.1%}, tail recall {tail[k]:.1%}, balanced accuracy {acc[k]:.1%}, "
          f"tail class-wise ECE {ece_tail[k]:.3f}")

# %% [markdown]
# Plain distillation makes the tail *worse* than learning from the labels. The teacher's soft targets on the
# few rare examples are themselves unsure (it learned those digits badly), and at $\alpha = 0.9$ the student
# gets only a tenth of the clear signal the labels give; meanwhile the hundreds of head examples dominate the
# loss. Weighting each rare example's KL term up restores the tail, with no visible cost to the head: the head
# was learned from a hundred examples each, and scaling their weight down a little does not undo that.

# %%
def per_seed(a, b, key="tail"):
    """Paired differences a - b, one per student seed (same seed, same initial weights)."""
    return np.array([ra[key] - rb[key] for ra, rb in zip(R[a], R[b])])


d_kd = per_seed("scratch", "plain KD")
claims.check("plain KD from the long-tailed teacher lowers tail recall compared with scratch for every student "
             "seed, by more than 5 points on average", d_kd.min() > 0 and d_kd.mean() > 0.05,
             per_seed_drop=d_kd, mean_drop=d_kd.mean(), scratch=tail["scratch"], plain_kd=tail["plain KD"])
d_w = per_seed("weighted, beta=1", "plain KD")
claims.check("weighted KD at beta=1 raises tail recall above plain KD for every student seed, by more than 5 "
             "points on average", d_w.min() > 0 and d_w.mean() > 0.05, per_seed_gain=d_w, mean_gain=d_w.mean(),
             weighted=tail["weighted, beta=1"], plain_kd=tail["plain KD"])
claims.check("weighted KD at beta=1 costs the head at most 2 points of recall compared with plain KD",
             head["weighted, beta=1"] >= head["plain KD"] - 0.02, weighted=head["weighted, beta=1"],
             plain_kd=head["plain KD"])
d_ece = per_seed("plain KD", "weighted, beta=1", "ece_tail")
claims.check("weighted KD at beta=1 lowers the tail's class-wise calibration error below plain KD's for every "
             "student seed", d_ece.min() > 0,
             per_seed_fall=d_ece, weighted=ece_tail["weighted, beta=1"], plain_kd=ece_tail["plain KD"])
print(f"weighted (beta=1) minus scratch on the tail: {tail['weighted, beta=1'] - tail['scratch']:+.1%} "
      "(printed, not claimed: its size varies widely from seed to seed)")

# %% [markdown]
# ## 3. What the teacher knows bounds what weighting can hand on
#
# Weighting can only pass on what the teacher has. Suppose a teacher trained on the *whole, balanced* training
# split is available (say a provider's model), and only the student is stuck with the long tail. Same students,
# same weights, different teacher.
#
# **Predict, then run.** With the balanced teacher, will weighted KD's tail recall rise far above what the
# long-tailed teacher gave?
#
# <details><summary>Answer</summary>
#
# Yes: the claim below asserts more than 10 points higher for every student seed (SEED=0: 83% against 55%; over
# SEED 0-7 the mean gain ranged from 17 to 40 points, and the tail recall itself from 65% to 90%, so we do not
# claim a fixed level). Plain KD from the same good teacher still fails the tail (below weighted KD for every
# student seed, by more than 15 points on average; SEED=0: 46% against 83%): the weighting is what carries the
# teacher's knowledge of rare digits across.
#
# </details>

# %%
sb = lab.setup(SEED, teacher="balanced", student_seed=SEEDS[0])
Rb = {k: [lab.weighted(sb, b, seed) for seed in SEEDS] for k, b in (("plain KD", 0.0), ("weighted, beta=1", 1.0))}
tail_b = {k: np.mean([r["tail"] for r in v]) for k, v in Rb.items()}
print(f"balanced teacher: tail recall {sb.teacher_recall[-3:].mean():.1%}; students: plain KD {tail_b['plain KD']:.1%}, "
      f"weighted beta=1 {tail_b['weighted, beta=1']:.1%} (long-tailed teacher gave {tail['weighted, beta=1']:.1%})")
d_b = np.array([rb["tail"] - r["tail"] for rb, r in zip(Rb["weighted, beta=1"], R["weighted, beta=1"])])
claims.check("with a teacher trained on balanced data, weighted KD (beta=1) reaches a tail recall more than 10 points "
             "above weighted KD from the long-tailed teacher, for every student seed", d_b.min() > 0.10,
             per_seed_gain=d_b, balanced_teacher=tail_b["weighted, beta=1"],
             long_tailed_teacher=tail["weighted, beta=1"])
d_bw = np.array([a["tail"] - b["tail"] for a, b in zip(Rb["weighted, beta=1"], Rb["plain KD"])])
claims.check("with the balanced teacher, weighted KD beats plain KD on the tail for every student seed, by more than "
             "15 points on average", d_bw.min() > 0 and d_bw.mean() > 0.15, per_seed_gain=d_bw,
             weighted=tail_b["weighted, beta=1"], plain_kd=tail_b["plain KD"])

# %% [markdown]
# > **Beside the paper.** Re-weighting the loss by inverse class frequency is an old idea; Cui et al. (2019)
# > replace $1/n_c$ with the "effective number" $(1-\gamma^{n_c})/(1-\gamma)$, and their Table 2 reports lower
# > top-1 error than the unweighted softmax baseline on long-tailed CIFAR-10 at every imbalance ratio they tried
# > (10 to 200), by several points at ratio 50. Our miniature weights the *distillation* term instead of the label
# > term, with the simpler power $n_c^{-\beta}$; it measured the tail of a ten-digit problem recovering by more
# > than 5 points (8 to 54 points over SEED 0-12). What carries over: the weights move a model's attention back
# > to rare classes at little cost to common ones. What does not: our test set is tiny (36 digits per class), so
# > a single digit's recall moves in steps of three points, and we therefore claim
# > only means over three digits, compared student seed by student seed and averaged over three students.
#
# ## 4. Try it: the weighting exponent
#
# The dashboard trains the students for all nine slider positions once when it is built (a couple of seconds,
# behind a progress bar), so each move only redraws. **What to try:** start at $\beta = 0$ (plain KD), step up to 1,
# then go past it to 2. **What to look for:** on the left, the tail (right end) climbs as $\beta$ rises while the
# head (left end) stays near the top; on the right, the tail's calibration error drops. Past 1 the rare classes
# outweigh the common ones: watch whether the head starts to pay.
#
# **Predict, then run.** At $\beta = 2$, each rare example weighs hundreds of times more than a common one. Does
# the tail keep improving?
#
# <details><summary>Answer</summary>
#
# Not much: the notebook does not claim a further gain, and at SEED=0 the tail recall at $\beta = 2$ is printed
# below the dashboard beside $\beta = 1$. The teacher's own knowledge of the tail, not the weight, is the limit.
#
# </details>

# %%
dash = lab.dashboard(SEED, student_seed=SEEDS[0])
dash

# %%
check = lab.run(s, 2.0)  # the lab's function directly, so your dashboard does not move
print(f"this student seed, beta=2: tail {check['weighted']['tail']:.1%}, head {check['weighted']['head']:.1%}; "
      f"beta=1: tail {lab.weighted(s, 1.0, SEEDS[0])['tail']:.1%}")

# %% [markdown]
# ## Check yourself

# %%
quiz("Why can plain KD be worse than scratch on the rarest classes here?", [
    ("The teacher's soft targets on rare examples are unsure, and with alpha = 0.9 they replace most of the clear "
     "label signal, while head examples dominate the loss.", True,
     "Right: the teacher saw the same two to five examples and learned them poorly; the student inherits that."),
    ("The temperature T = 4 is too high for ten classes.", False,
     "No: with the balanced teacher the same T and weighting hand on the tail well; the teacher's knowledge is what differs."),
    ("KD always lowers recall.", False,
     "No: the weighted students are distilled too, and their tail recall is more than 5 points above plain KD's."),
])

# %%
quiz("With counts n_c, beta = 1 gives each class what?", [
    ("The same total weight in the distillation term, however many examples it has.", True,
     "Right: n_c examples times weight proportional to 1/n_c is the same for every class."),
    ("The same weight per example.", False, "That is beta = 0, plain KD."),
    ("A weight proportional to its test recall.", False, "No: the weights use only training counts, never the test set."),
])

# %% [markdown]
# ## What we learned
# - Cut to a 50:1 exponential long tail, a 256-256 teacher's recall on the three rarest digits falls more than
#   20 points below the three commonest.
# - Distilling from that teacher with the usual recipe lowers the student's tail recall compared with scratch,
#   for every student seed and by more than 5 points on average: the student inherits the teacher's neglect.
# - Weighting the KD term by $n_c^{-1}$ lifts the tail above plain KD for every student seed, by more than 5
#   points on average, costs the head at most 2 points and lowers the tail's class-wise calibration error for
#   every student seed.
# - A teacher that knows the tail (trained on balanced data) lets weighted KD reach more than 10 points higher
#   tail recall than the long-tailed teacher did: the weights carry knowledge across, they cannot create it.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 7/7

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O., Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Cui, Y., Jia, M., Lin, T.-Y., Song, Y., Belongie, S. (2019). Class-balanced loss based on effective number of
#   samples. CVPR.
# - Kull, M. et al. (2019). Beyond temperature scaling: obtaining well-calibrated multi-class probabilities with
#   Dirichlet calibration. NeurIPS (class-wise ECE).
#
# **Next:** [3.5 Bias inheritance](ch3_05_bias_inheritance.ipynb): a teacher that learned a shortcut hands it to
# its student.
