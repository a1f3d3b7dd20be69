# %% [header]
# number = "3.2"
# title = "Uncertainty: bootstrap intervals and whether the student's match the teacher's"
# syllabus = ["B2"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "put a bootstrap confidence interval on a test metric with scipy.stats.bootstrap, paired and unpaired",
#     "build per-example prediction intervals from a bootstrap ensemble (one model per resample)",
#     "measure uncertainty fidelity: coverage, width ratio and rank correlation of the widths (Spearman)",
#     "compare a scratch and a distilled student's intervals with the teacher's",
# ]

# %% [markdown]
# Every number in this course comes from a finite test set and a finite training set, so every number is
# uncertain. This notebook measures that uncertainty with the **bootstrap** (Efron 1979): resample what
# you have, with replacement, and watch how much the answer moves. First for a metric (how sure are we of
# the teacher's 97% test accuracy?), then for predictions (train one model per resample of the training set:
# how much does one digit's predicted probability move?). Then the distillation question: a student is meant
# to copy its teacher, but does it copy the teacher's **uncertainty** too, being unsure on the same digits
# and by the same amount? We call that **uncertainty fidelity** and compare a student trained from scratch
# with a distilled one.

# %%
# parameters
SEED = 0  # drives the split, the teacher, the bootstrap resamples and every ensemble member

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from course_lib import cache, data, train
from course_lib.claims import Claims
from course_lib.labs.ch3 import attack
from course_lib.labs.ch3 import bootstrap as lab_boot
from course_lib.reliability import uncertainty as unc
from course_lib.ui import plots, quiz

claims = Claims("ch3_02_uncertainty")
ds = data.load("digits", split_seed=SEED)
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)
print(ds)

# %% [markdown]
# ## 1. A confidence interval for a metric
#
# The teacher's test accuracy is the mean of 360 zeros and ones (right or wrong per digit). The bootstrap
# draws 360 digits with replacement from those 360, recomputes the accuracy, and repeats; the middle 95% of
# the recomputed values is a **percentile interval**. `scipy.stats.bootstrap` does this (Exercise H9 in
# `exercises/ch5_03_reliability_exercises.ipynb` asks you to write it by hand). For a proportion there is
# also a textbook formula, $\hat p \pm 1.96\sqrt{\hat p(1-\hat p)/n}$, a useful cross-check.
#
# Comparing two models on the **same** test digits, resample the digits once and recompute both accuracies on
# the same resample (a **paired** bootstrap of the difference). Resampling each model's results independently
# (unpaired) ignores that both models find the same digits hard.
#
# **Predict, then run.** 1. Roughly how wide is a 95% interval for an accuracy near 97% on 360 digits?
# 2. Is the paired interval for "teacher minus distilled student" narrower or wider than the unpaired one?
#
# <details><summary>Answer</summary>
#
# 1. A few points: the formula gives $2 \times 1.96\sqrt{0.97 \times 0.03/360} \approx 3.5$ points for 97%,
# and the notebook asserts that the bootstrap width is within 30% of the formula's. 2. Narrower (asserted): the two models' mistakes overlap, so their difference varies less than
# two independent accuracies would.
#
# </details>

# %%
student = attack.model_zoo(SEED)["distilled"]  # the 64-unit distilled student of notebook 3.1 (cached)
right_t = (train.predict(teacher, ds.X_test).argmax(1) == ds.y_test).numpy().astype(float)
right_s = (train.predict(student, ds.X_test).argmax(1) == ds.y_test).numpy().astype(float)
rng = np.random.default_rng(SEED)
ci_t = stats.bootstrap((right_t,), np.mean, n_resamples=2000, method="percentile", rng=rng).confidence_interval
n, p = len(right_t), right_t.mean()
wald = 2 * 1.96 * np.sqrt(p * (1 - p) / n)
paired = stats.bootstrap((right_t, right_s), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), paired=True,
                         n_resamples=2000, method="percentile", rng=rng).confidence_interval
unpaired = stats.bootstrap((right_t, right_s), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), paired=False,
                           n_resamples=2000, method="percentile", rng=rng).confidence_interval
print(f"teacher test accuracy {p:.1%}: bootstrap 95% interval [{ci_t.low:.1%}, {ci_t.high:.1%}] "
      f"(width {100 * (ci_t.high - ci_t.low):.2f} points; formula width {100 * wald:.2f})")
print(f"teacher minus distilled student ({right_s.mean():.1%}): "
      f"paired [{100 * paired.low:+.2f}, {100 * paired.high:+.2f}] points, "
      f"unpaired [{100 * unpaired.low:+.2f}, {100 * unpaired.high:+.2f}] points")

# %%
w_boot = ci_t.high - ci_t.low
claims.check("the bootstrap 95% interval for the teacher's test accuracy is within 30% of the normal-formula width",
             abs(w_boot / wald - 1) < 0.3, bootstrap_width=w_boot, formula_width=wald)
claims.check("the paired bootstrap interval for the teacher-minus-student accuracy is narrower than the unpaired one",
             paired.high - paired.low < unpaired.high - unpaired.low, paired=paired.high - paired.low,
             unpaired=unpaired.high - unpaired.low)

# %% [markdown]
# ## 2. Intervals for predictions: bootstrap ensembles
#
# A metric's interval says how well we know one number. A **prediction interval** says how much one
# digit's predicted probability depends on the particular training set. Draw 10 bootstrap resamples of the
# 1,077 training digits (`uncertainty.bootstrap_indices`) and train on each:
#
# - a **teacher ensemble**: the teacher's architecture (256-256) on each resample (150 epochs, half the
#   full teacher's, to keep the cold run short);
# - a **scratch ensemble**: 32-unit students on each resample, hard labels only;
# - a **distilled ensemble**: 32-unit students on each resample, distilled from the full-data teacher
#   (T = 4, alpha = 0.9), as a student normally would be.
#
# For each test digit, each member gives the probability of the true class; the central 90% of the 10 values
# is that digit's interval (`uncertainty.percentile_intervals`). With 10 members the 90% interval is close to
# the range of the values; more members would give smoother intervals at a higher cost.
#
# Fidelity of the student's intervals to the teacher's, per digit (`uncertainty.interval_fidelity`):
# **coverage**, the share of digits whose teacher-ensemble median lies inside the student's interval;
# **width ratio**, the mean student width over the mean teacher width; and the **rank correlation** of the
# widths (Spearman's rho, `scipy.stats.spearmanr`): are the students unsure about the same digits?
#
# **Predict, then run.** 1. Which student's intervals will contain the teacher's median more often?
# 2. The distilled students all learn from one teacher. Will their intervals be wider or narrower than the
# teacher ensemble's?
#
# <details><summary>Answer</summary>
#
# 1. The distilled student's, by more than 30 points of coverage (asserted); the scratch students are
# systematically less sure of the true class, so their intervals sit below the teacher's. 2. Narrower: the
# notebook asserts a width ratio below 0.8 for the distilled students and above 1 for the scratch ones. Every
# distilled member copies the same full-data teacher, so the members agree with each other more than
# independently trained teachers do; the student inherits the teacher's answers, not the teacher's
# sampling uncertainty. Both students still rank the uncertain digits much like the teacher does
# (Spearman above 0.8, asserted).
#
# </details>

# %%
ens = lab_boot.ensemble(SEED, progress=True)  # 10 teachers, 10 scratch and 10 distilled students (cached)
S = ens["samples"]
fid = {k: unc.interval_fidelity(S[k], S["teacher"], level=0.9) for k in ("scratch", "distilled")}
for k, f in fid.items():
    print(f"{k:>9} students: coverage {f['coverage']:.0%}, width ratio {f['width_ratio']:.2f}, "
          f"Spearman {f['spearman']:.2f}")
print(f"mean 90% interval width: teacher ensemble {fid['scratch']['teacher_width'].mean():.3f}, "
      f"scratch {fid['scratch']['student_width'].mean():.3f}, distilled {fid['distilled']['student_width'].mean():.3f}")

lab = lab_boot.setup(SEED)
fig = plt.figure(figsize=(11, 3.6))
lab_boot.render(lab_boot.run(lab, 0.9, "scratch"), fig)
plt.show()
fig = plt.figure(figsize=(11, 3.6))
lab_boot.render(lab_boot.run(lab, 0.9, "distilled"), fig)
plt.show()

# %%
claims.check("the distilled students' intervals contain the teacher-ensemble median on more than 30 points more "
             "test digits than the scratch students' do", fid["distilled"]["coverage"] > fid["scratch"]["coverage"] + 0.3,
             distilled=fid["distilled"]["coverage"], scratch=fid["scratch"]["coverage"])
claims.check("the distilled students' intervals are narrower than the teacher ensemble's (width ratio below 0.8), "
             "the scratch students' wider (ratio above 1)",
             fid["distilled"]["width_ratio"] < 0.8 and fid["scratch"]["width_ratio"] > 1.0,
             distilled=fid["distilled"]["width_ratio"], scratch=fid["scratch"]["width_ratio"])
claims.check("both students' interval widths rank the test digits like the teacher ensemble's (Spearman above 0.8)",
             min(fid["distilled"]["spearman"], fid["scratch"]["spearman"]) > 0.8,
             distilled=fid["distilled"]["spearman"], scratch=fid["scratch"]["spearman"])

# %% [markdown]
# The distilled student is the more **faithful** one in where its intervals sit, but it is over-sure: its
# intervals are clearly narrower than the teacher ensemble's (width ratio below 0.8), because distilling from one fixed teacher
# removes the variation that a different training set would have put into the teacher. If a deployed student
# is to say "I am not sure", distilling from an ensemble of teachers, or a bootstrap of the teacher, is the
# fix that this experiment suggests; the high rank correlation says the student already knows *which* digits
# are hard.
#
# > **Beside the paper.** Efron (1979) introduced the bootstrap; Lakshminarayanan et al. (2017) showed that a
# > small ensemble of independently trained networks gives useful predictive uncertainty, and Malinin et al.
# > (2020) distilled a whole ensemble into one student precisely to keep that uncertainty, because a student
# > distilled from the ensemble's average alone loses it. Our miniature shows the loss directly: the
# > distilled students' intervals are narrower than the teacher ensemble's (width ratio below 0.8). What does not carry over: 10 members and 32-unit students are
# > tiny, and our teacher ensemble trains for half the epochs of the full teacher.
#
# ## 3. Live: the interval level
#
# **Try** the interval level from 0.5 to 0.99 and switch between the scratch and distilled students. **Look
# for** the scratch intervals (orange) sitting below the teacher's (grey) on the hard digits, and the
# distilled intervals (green) sitting on them but shorter; in the scatter, points below the diagonal are
# digits where the student is surer than the teacher ensemble.

# %%
dash = lab_boot.dashboard(SEED)
dash

# %% [markdown]
# The check below times ten moves of a separate dashboard (`background=False`).

# %%
probe = lab_boot.dashboard(SEED, background=False)
moves = []
for lvl in np.linspace(0.5, 0.99, 10):
    t0 = time.perf_counter()
    probe.update(level=float(lvl))
    moves.append(time.perf_counter() - t0)
print(f"level slider: median {np.median(moves):.3f} s, slowest {max(moves):.3f} s per move")

# %% [markdown]
# ## Check yourself

# %%
quiz("A bootstrap resample of 360 test digits draws 360 digits with replacement. About what share of the "
     "original digits appears in a given resample?", [
         ("About 63%", True, "Right: each digit is missed with probability (1 - 1/360)^360, about e^-1 = 37%."),
         ("100%", False, "No: drawing with replacement repeats some digits and leaves others out."),
         ("About 50%", False, "No: the share left out tends to e^-1, about 37%, so about 63% appear."),
     ])

# %%
quiz("A distilled student's prediction intervals are half as wide as its teacher ensemble's, but their widths "
     "correlate strongly with the teacher's. What does the student get right and wrong?", [
         ("It knows which digits are uncertain but understates by how much.", True,
          "Right: the ranking of widths matches (high Spearman), their size does not (width ratio about 0.5)."),
         ("It is more accurate, so it should be less uncertain.", False,
          "No: interval width here is sensitivity to the training set, not accuracy."),
         ("It has learned nothing about uncertainty.", False,
          "No: the high rank correlation shows it is unsure on the same digits as the teacher."),
     ])

# %% [markdown]
# ## What we learned
# - A 95% bootstrap interval for an accuracy near 97% on 360 digits is a few points wide and agrees with the
#   normal formula within 30%; comparing two models, the paired interval is the narrower, correct one.
# - Bootstrap ensembles give per-digit intervals. Distilled students' intervals contain the teacher
#   ensemble's median far more often than scratch students' (by more than 30 points of coverage)...
# - ...but they are narrower than the teacher's (width ratio below 0.8), while scratch students' are wider;
#   both rank the uncertain digits like the teacher (Spearman above 0.8).

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 5/5

# %% [markdown]
# ## References
# - Efron, B. (1979). Bootstrap methods: another look at the jackknife. Annals of Statistics 7(1).
# - Efron, B. and Tibshirani, R. (1993). An Introduction to the Bootstrap. Chapman & Hall.
# - Lakshminarayanan, B., Pritzel, A. and Blundell, C. (2017). Simple and scalable predictive uncertainty
#   estimation using deep ensembles. NeurIPS.
# - Malinin, A., Mlodozeniec, B. and Gales, M. (2020). Ensemble distribution distillation. ICLR.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [3.3 Calibration](ch3_03_calibration.ipynb): are the probabilities themselves honest, and does the
# distillation temperature change that?
