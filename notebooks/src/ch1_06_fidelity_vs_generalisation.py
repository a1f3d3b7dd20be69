# %% [header]
# number = "1.6"
# title = "Fidelity against generalisation: a more faithful student is not a better one"
# syllabus = ["D10"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "measure fidelity (agreement, KL to the teacher) on train and test next to test accuracy",
#     "find, with a good teacher and a student able to copy it, a more faithful student that is less accurate",
#     "explain why fidelity is higher on the training inputs than on new ones",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 6  # students per recipe, seeds range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS)

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from course_lib import metrics
from course_lib.claims import Claims
from course_lib.labs.ch1 import fidelity as lab
from course_lib.ui import quiz

claims = Claims("ch1_06_fidelity_vs_generalisation")
s = lab.setup(SEED)  # the split and the course teacher, both drawn with SEED
ds = s.ds
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))

# %% [markdown]
# ## 1. Two measures that are easy to confuse
#
# *Fidelity* asks whether the student does what the teacher does: the share of inputs on which both pick the same
# class (**agreement**) and the **KL divergence** from the teacher's predictive distribution to the student's (at
# T = 1). *Generalisation* asks whether the student is right on new data: test accuracy against the true labels.
# The distillation objective is a fidelity objective, and only on the inputs it is given: it asks the student to
# match the teacher on the training split and promises nothing anywhere else.
#
# If the teacher were often wrong, a faithful student would copy its errors; that case is easy and not the one we
# study. Here the teacher is the course's usual one (a 256-256 perceptron, trained on every label), and the student
# (64 -> 64 -> 10) has room to copy it: we check below that it matches the teacher on essentially every training
# input. Four recipes, each run once for 200 full-batch epochs and measured after 10, 25, 50, 100 and 200 of them:
#
# * `labels`: cross-entropy with the labels; the student never sees the teacher;
# * `labels_smooth`: the same with label smoothing 0.2 (each target keeps 0.82 on the right class);
# * `kd_T4`: the KL to the teacher's distribution at T = 4, no labels: pure imitation;
# * `kd_T4_noise`: the same on the training inputs plus one noisy copy of each (Gaussian, sigma 0.1 on pixels in
#   [0, 1]) labelled by the teacher: more places where the student is asked to agree.
#
# That is 4 recipes x 5 lengths x 6 seeds = 120 students from 24 trainings (a few seconds).
#
# **Predict, then run.**
# 1. Which recipe will be closest to the teacher on test images (lowest KL), and which farthest?
# 2. Will the most faithful student also be the most accurate?
# 3. Will fidelity be higher on the training inputs or on the test inputs?
#
# <details><summary>Answer</summary>
#
# 1. The imitation recipes (`kd_T4`, `kd_T4_noise`) are the most faithful and `labels_smooth` the least: the
#    notebook asserts that the `kd_T4` student's test KL is below a tenth of the smoothed student's. Agreement, which
#    counts only the argmax decisions, is usually higher for `kd_T4` too, but not by a margin that holds on every
#    split (at SEED 6 the two were within 0.2 points), so the notebook prints it and claims no order.
# 2. No. The notebook asserts that the smoothed student, the least faithful, has the higher mean test accuracy,
#    and that among the 200-epoch students the rank correlation between test fidelity and test accuracy is below
#    0.2.
# 3. On the training inputs: for every recipe the notebook asserts a lower KL on the training split than on the
#    test split, and at least as much agreement.
#
# </details>

# %%
curves = {r: [lab.fidelity_curve(s, r, seed=k, snapshots=lab.SNAPSHOTS) for k in seeds]
          for r in tqdm(lab.RECIPES, desc="recipes")}
teacher_acc = metrics.accuracy(s.logits["strong"][1], ds.y_test)
L = lab.SNAPSHOTS[-1]
KEYS = ("agree_train", "agree_test", "kl_train", "kl_test", "accuracy")
m = {(r, e): {k: np.mean([c[e][k] for c in curves[r]]) for k in KEYS} for r in lab.RECIPES for e in lab.SNAPSHOTS}
print(f"teacher test accuracy {teacher_acc:.1%}\n")
print(f"{'recipe':14s}{'epochs':>7s}{'agree train':>13s}{'agree test':>12s}{'KL train':>10s}{'KL test':>9s}{'test acc':>10s}")
for r in lab.RECIPES:
    for e in (50, L):
        v = m[r, e]
        print(f"{r:14s}{e:7d}{v['agree_train']:13.2%}{v['agree_test']:12.2%}{v['kl_train']:10.4f}{v['kl_test']:9.4f}"
              f"{v['accuracy']:10.2%}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for r, marker in zip(lab.RECIPES, "osD^"):
    xs = [m[r, e]["agree_test"] * 100 for e in lab.SNAPSHOTS]
    ys = [m[r, e]["accuracy"] * 100 for e in lab.SNAPSHOTS]
    axes[0].plot(xs, ys, marker=marker, label=r)
    axes[0].annotate(f"{L} ep", (xs[-1], ys[-1]), xytext=(4, -10), textcoords="offset points", fontsize=8)
    axes[1].plot(lab.SNAPSHOTS, [m[r, e]["kl_train"] for e in lab.SNAPSHOTS], marker=marker, label=f"{r}, train")
    axes[1].plot(lab.SNAPSHOTS, [m[r, e]["kl_test"] for e in lab.SNAPSHOTS], marker=marker, ls="--", color=axes[1].lines[-1].get_color(),
                 label=f"{r}, test")
axes[0].axhline(teacher_acc * 100, color="gray", ls=":", label="teacher")
axes[0].set(title=f"Fidelity against accuracy on test images ({N_SEEDS} seeds)", xlabel="agreement with the teacher (%)",
            ylabel="test accuracy (%)")
axes[0].legend(fontsize=8)
axes[1].set(title="KL(teacher || student) at T = 1", xlabel="training length (epochs)", ylabel="KL (nats per example)",
            xscale="log", yscale="log")
axes[1].legend(fontsize=7, ncol=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# Claims, checked on the means over seeds (and, for rank correlations, over every student and seed):
#
# * the teacher is good (above 95 % test accuracy) and the student can copy it: every recipe's 200-epoch student
#   agrees with it on at least 99.5 % of the training inputs;
# * **the more faithful student is the less accurate one.** At 200 epochs the `kd_T4` student's test KL is below a
#   tenth of the `labels_smooth` student's, yet the smoothed student has the higher mean test accuracy (test
#   agreement is printed but not claimed: it separates the two by 1-3 points on most splits and by almost nothing on
#   some);
# * over every length, fidelity and accuracy rise together (Spearman rank correlation above 0.5): a short run is
#   both unfaithful and inaccurate. Among the 200-epoch students the rank correlation between test fidelity
#   (minus the test KL) and test accuracy is below 0.2: once training has converged, being closer to the teacher
#   no longer ranks the students by accuracy;
# * fidelity is higher where the objective asked for it: for every recipe at 200 epochs the KL to the teacher is
#   lower on the training split than on the test split, and agreement on train is at least that on test;
# * asking for agreement on one noisy copy of each input (`kd_T4_noise`) is a small remedy: it changes the imitating
#   student's test KL by less than a factor of 2 either way (paired over the six seeds, the 95% interval of the
#   ratio lies inside 0.5-2). Its direction depends on the split: it lowered the KL at some values of SEED and
#   raised it at others, so we do not claim a direction.

# %%
kd, sm = m["kd_T4", L], m["labels_smooth", L]
claims.check("the teacher scores above 95% on the test split", teacher_acc > 0.95, teacher=teacher_acc)
claims.check("every recipe's 200-epoch student agrees with the teacher on at least 99.5% of the training inputs",
             all(m[r, L]["agree_train"] >= 0.995 for r in lab.RECIPES),
             **{f"agree_train_{r}": m[r, L]["agree_train"] for r in lab.RECIPES})
claims.check("at 200 epochs the kd_T4 student's test KL is below a tenth of the label-smoothing student's",
             kd["kl_test"] < 0.1 * sm["kl_test"],
             kl_kd=kd["kl_test"], kl_smooth=sm["kl_test"], agree_kd=kd["agree_test"], agree_smooth=sm["agree_test"])
claims.check("...yet the label-smoothing student has the higher mean test accuracy", sm["accuracy"] > kd["accuracy"],
             acc_smooth=sm["accuracy"], acc_kd=kd["accuracy"], teacher=teacher_acc)

every = [(c[e]["agree_test"], -c[e]["kl_test"], c[e]["accuracy"]) for r in lab.RECIPES for c in curves[r]
         for e in lab.SNAPSHOTS]
last = [(c[L]["agree_test"], -c[L]["kl_test"], c[L]["accuracy"]) for r in lab.RECIPES for c in curves[r]]
rho_all = spearmanr([a for a, _, _ in every], [y for _, _, y in every])[0]
rho_last = spearmanr([f for _, f, _ in last], [y for _, _, y in last])[0]
rho_last_agree = spearmanr([a for a, _, _ in last], [y for _, _, y in last])[0]
print(f"Spearman, all lengths (agreement vs accuracy): {rho_all:+.2f};  200 epochs: -KL vs accuracy {rho_last:+.2f}, "
      f"agreement vs accuracy {rho_last_agree:+.2f}  ({len(last)} students)")
claims.check("over every length, test agreement and test accuracy rank the students alike (Spearman above 0.5)",
             rho_all > 0.5, spearman=rho_all, n=len(every))
claims.check("among the 200-epoch students the rank correlation of test fidelity (minus KL) with test accuracy is "
             "below 0.2", rho_last < 0.2, spearman=rho_last, spearman_agreement=rho_last_agree, n=len(last))
claims.check("for every recipe at 200 epochs the KL to the teacher is lower on train than on test, and agreement on "
             "train is at least that on test",
             all(m[r, L]["kl_train"] < m[r, L]["kl_test"] and m[r, L]["agree_train"] >= m[r, L]["agree_test"]
                 for r in lab.RECIPES),
             **{f"kl_{r}": (m[r, L]["kl_train"], m[r, L]["kl_test"]) for r in lab.RECIPES})
# paired by seed: the same initialisation and the same teacher, with and without the noisy copies
log_ratio = np.log([cn[L]["kl_test"] / cp[L]["kl_test"] for cn, cp in zip(curves["kd_T4_noise"], curves["kd_T4"])])
half = stats.t.ppf(0.975, len(log_ratio) - 1) * log_ratio.std(ddof=1) / np.sqrt(len(log_ratio))
ratio, lo, hi = np.exp(log_ratio.mean()), np.exp(log_ratio.mean() - half), np.exp(log_ratio.mean() + half)
print(f"test KL with the noisy copies / without, geometric mean over {len(log_ratio)} paired seeds: {ratio:.2f} "
      f"(95% interval {lo:.2f} to {hi:.2f}; per seed {np.round(np.exp(log_ratio), 2)})")
claims.check("one noisy copy of each input changes the imitating student's test KL by less than a factor of 2 either "
             "way (paired 95% interval of the ratio inside 0.5-2)", lo > 0.5 and hi < 2, ratio=ratio, low=lo, high=hi)

# %% [markdown]
# Why the less faithful student wins. A student's accuracy is the teacher's accuracy, minus the test images on which
# it leaves the teacher when the teacher was right, plus those on which it leaves the teacher when the teacher was
# wrong and it is right. Fidelity counts both kinds of departure as failures. Label smoothing pulls the student's
# probabilities away from the teacher's near one-hot answers (hence the large KL) and changes a few argmax
# decisions, more often for the better than for the worse here; pure imitation keeps the teacher's decisions, its
# mistakes included, so its accuracy stays at about the teacher's.
#
# Why fidelity is lower on test inputs. The objective asks for agreement only on the training inputs; between and
# beyond them the student is free to interpolate differently. Asking for agreement on more inputs is the remedy
# Stanton et al. studied. One noisy copy of each digit (sigma 0.1) is a small dose of it: the test KL moved by less
# than a factor of 2, in a direction that depends on the split (lower at SEED 0, higher at SEED 4). The printed
# interval is as wide as the effect this experiment could have detected; a larger change would have shown.
#
# > **Beside the paper.** Stanton et al. (2021, "Does knowledge distillation really work?") show on CIFAR-100 that
# > students often fail to match their teachers even with the capacity to do so (their Figure 1, ResNet-56
# > students), that the failure comes largely from optimisation, that enlarging the distillation data with
# > augmentation helps fidelity, and that closer matching does not always give better generalisation (in
# > self-distillation, the less faithful student generalises better). What carries over: in our miniature the
# > less faithful smoothed student is more accurate than the imitator. What does not: on 8x8 digits a small MLP
# > matches its teacher almost perfectly on the training inputs (at least 99.5 % agreement), so the paper's
# > optimisation gap does not appear at this scale, and our one noisy copy per digit, far lighter than the
# > paper's augmentations, changes the test KL by less than a factor of 2 with no direction we can claim.
#
# ## 2. Try it
#
# Pick a recipe and a training length; the dashboard shows that student's agreement with the teacher on train and
# test next to its test accuracy and the teacher's. Every student was trained once when the dashboard was built, so
# every move answers at once. Look for a pair where the agreement bar is higher but the accuracy bar lower: compare
# `kd_T4` with `labels_smooth` at 200 epochs, then move the length down to 10 and watch both bars fall together.
#
# **Predict, then run.** At 10 epochs, is the `kd_T4` student more or less accurate than at 200?
#
# <details><summary>Answer</summary>
#
# Less: short runs are both unfaithful and inaccurate, which is why the rank correlation over every length is
# above 0.5 (asserted above), even though it falls below 0.2 among the 200-epoch students.
#
# </details>

# %%
dash = lab.dashboard(SEED, progress=True)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("A student agrees with its teacher on 99.8% of test images and the teacher is right on 97%. What can you say "
     "about the student's accuracy?", [
         ("It is within about 0.2 points of the teacher's, and no better: it copies nearly every decision, mistakes "
          "included.", True, "Right: departures from the teacher are the only way to beat it, and there are almost none."),
         ("It must be above 97%, because high agreement means it learned well.", False,
          "No: agreement is measured against the teacher, accuracy against the labels."),
         ("Nothing at all.", False, "Too strong: with 99.8% agreement, accuracy can differ from the teacher's by at most 0.2 points."),
     ])

# %%
quiz("Why is the KL to the teacher lower on the training split than on the test split?", [
    ("The objective asked for agreement on exactly those inputs; elsewhere the student may interpolate differently.",
     True, "Right: like any fit, it matches best where it was fitted; the remedy is to ask for agreement on more "
     "inputs (one noisy copy each was too small a dose to move the test KL reliably here)."),
    ("The teacher is more accurate on training data, and the KL follows accuracy.", False,
     "Not the reason: the KL compares two models and never looks at the labels."),
])

# %%
quiz("Over every training length, fidelity and accuracy had a rank correlation above 0.5. Why is that not evidence "
     "that fidelity causes accuracy?", [
         ("Both grow with training length: short runs are unfaithful and inaccurate at once.", True,
          "Right: among students trained to convergence the correlation fell below 0.2."),
         ("Because a rank correlation cannot exceed 0.5.", False, "No: it can reach 1."),
     ])

# %% [markdown]
# ## What we learned
#
# * With a good teacher and a student able to copy it on the training inputs, the most faithful student was not the
#   most accurate: label smoothing cost more than ten times the test KL, and gave the higher test accuracy (numbers
#   in the table above).
# * Fidelity and accuracy rise together over training length, which is a confound; among converged students their
#   rank correlation was below 0.2.
# * Fidelity was higher on the training inputs than on the test inputs for every recipe; asking for agreement on
#   one noisy copy of each input as well changed the test KL by less than a factor of 2, in no consistent direction.
# * Report accuracy next to any fidelity number, and measure fidelity on held-out inputs.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 8/8

# %% [markdown]
# ## References
# - Stanton, S., Izmailov, P., Kirichenko, P., Alemi, A. A. and Wilson, A. G. (2021). Does knowledge distillation
#   really work? NeurIPS.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Müller, R., Kornblith, S. and Hinton, G. (2019). When does label smoothing help? NeurIPS.
#
# **Next:** [1.7 Training schemes](ch1_07_training_schemes.ipynb): offline, online and self-distillation.
