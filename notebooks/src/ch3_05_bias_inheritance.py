# %% [header]
# number = "3.5"
# title = "Bias inheritance: a teacher's shortcut reaches the student through its soft targets"
# syllabus = ["B5"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch3_04_imbalance_and_fairness"]
# objectives = [
#     "plant a spurious cue in training data and measure a model's reliance on it with a test set where the cue is reversed",
#     "show that a student distilled from a teacher that learned the cue inherits it, even when the student's own data carry no correlation",
#     "compare with a student trained on the labels alone and one distilled from a cue-free teacher, across cue strengths",
# ]

# %% [markdown]
# A model can be right for the wrong reason. If, in the training data, some irrelevant feature co-occurs with a
# class (a watermark, a hospital's scanner, the background), a network may learn that **shortcut** instead of
# the object, and fail when the correlation breaks. Distillation adds a question: does a student copy its
# teacher's shortcut? It never sees the teacher's training data, only the teacher's outputs on the transfer set.
#
# We plant a cue in the digits: one bright pixel on the image's left or bottom border, whose position names a
# class (ten positions, one per digit; `reliability.bias.cue_pixels`). In the **teacher's** training images the
# pixel names the true digit with probability $\rho$, and a random wrong digit otherwise ($\rho = 0.1$ is
# chance: no correlation). The **students** learn on a transfer set made of the same training images with the
# pixel placed at random, independent of the label. So whatever use a student makes of the pixel, it did not get
# from its own data. Tests: the clean test split, and a **reversed** copy in which the pixel always names a wrong
# digit. A model that ignores the pixel scores the same on both.
#
# Teachers: 64-128-10 MLPs, 150 full-batch Adam epochs (cached on disk). Students: 64-32-10, 80 epochs, and
# three kinds: **labels only** (cross-entropy on the transfer set), **KD from the cued teacher** and **KD from the
# cue-free teacher** ($\rho = 0.1$), both with $T = 4$ and $\alpha = 0.9$.

# %%
# parameters
SEED = 0  # drives the split, the cue draws, the teachers and the students (3 per SEED, disjoint)
N_SEEDS = 3
RHO = 0.95  # the cue's correlation in the main comparison

# %%
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib.claims import Claims
from course_lib.labs.ch3 import spurious as lab
from course_lib.reliability import bias
from course_lib.ui import plots, quiz

claims = Claims("ch3_05_bias_inheritance")
SEEDS = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
s = lab.setup(SEED, student_seed=SEEDS[0])

# %% [markdown]
# ## 1. The cue
#
# Four test digits, each with its pixel reversed (pointing at a wrong digit). The pixel sits where the digits
# data set rarely has ink, so it is easy to see and, for a network, easy to use.

# %%
fig, axes = plt.subplots(1, 4, figsize=(8, 2.4))
for ax, i in zip(axes, range(4)):
    ax.imshow(s.X_reversed[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"digit {int(s.ds.y_test[i])}, cue says {int(s.cue_reversed[i])}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Reversed-cue test images (8 x 8 pixels; the cue is one bright border pixel)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Who inherits the shortcut
#
# At $\rho$ = `RHO` we train the cued teacher and, for each of `N_SEEDS` student seeds, the three students
# (about five seconds the first time, while the teachers for every $\rho$ are trained and cached).
#
# **Predict, then run.** 1. The students' transfer set has no correlation between pixel and label. Will the
# student distilled from the cued teacher still lose accuracy when the cue is reversed? 2. And the student of
# the cue-free teacher?
#
# <details><summary>Answer</summary>
#
# 1. Yes. The claims below: it follows the reversed cue on more than 5% of those digits, scores more than 5
# points below the labels-only student on the reversed test for every student seed, and loses more than 3 points
# compared with its own clean score (SEED=0: 93.6% clean, 84.4% reversed, the cue followed on 10.7%; the
# labels-only student scored 95.6% on both). Over SEED 0-7 the distilled student's loss ranged from 7 to 13 points.
# The teacher's soft targets move with the pixel, and the student is trained to match them.
# 2. It behaves like the labels-only student (within 3 points on the reversed test).
#
# </details>

# %%
lab.precompute(s)
KINDS = {"labels only": None, f"KD from teacher (rho={RHO:g})": RHO, "KD from cue-free teacher": lab.CHANCE}
R = {k: [lab.student(s, rho, seed) for seed in tqdm(SEEDS, desc=k, leave=False)] for k, rho in KINDS.items()}
M = {k: {m: float(np.mean([r[m] for r in v])) for m in ("clean", "reversed", "follows_cue")} for k, v in R.items()}
M[f"teacher (rho={RHO:g})"] = lab.teacher_scores(s, RHO)
M["cue-free teacher"] = lab.teacher_scores(s, lab.CHANCE)

fig, ax = plt.subplots(figsize=(10, 3.6))
names = list(M)
x = np.arange(len(names))
ax.bar(x - 0.2, [M[k]["clean"] for k in names], 0.4, label="clean test", color="tab:gray")
ax.bar(x + 0.2, [M[k]["reversed"] for k in names], 0.4, label="cue reversed", color="tab:red")
ax.set_xticks(x, [n.replace(" (", "\n(").replace("from ", "from\n") for n in names], fontsize=8)
ax.set_ylim(0.5, 1)
ax.legend(loc="lower left")
plots.style(ax, f"Test accuracy (students: mean of {N_SEEDS} seeds)", "", "accuracy")
plt.tight_layout()
plt.show()
for k, v in M.items():
    print(f"{k:>28}: clean {v['clean']:.1%}, reversed {v['reversed']:.1%}, follows a reversed cue {v['follows_cue']:.1%}")

# %%
tb, kb = M[f"teacher (rho={RHO:g})"], M[f"KD from teacher (rho={RHO:g})"]
lo, kf = M["labels only"], M["KD from cue-free teacher"]
claims.check(f"the teacher trained at rho={RHO:g} scores over 90% on clean digits and more than 5 points less when "
             "the cue is reversed", tb["clean"] > 0.90 and tb["clean"] - tb["reversed"] > 0.05,
             clean=tb["clean"], reversed=tb["reversed"])
KB = R[f"KD from teacher (rho={RHO:g})"]
behind = np.array([a["reversed"] - b["reversed"] for a, b in zip(R["labels only"], KB)])  # paired by student seed
claims.check("its distilled student, trained on cue-independent data, follows the reversed cue on more than 5% of "
             "those digits, scores more than 5 points below the labels-only student on the reversed test for every "
             "student seed, and loses more than 3 points compared with its clean score",
             kb["follows_cue"] > 0.05 and behind.min() > 0.05 and kb["clean"] - kb["reversed"] > 0.03,
             follows_cue=kb["follows_cue"], behind_labels_only=behind, clean=kb["clean"], reversed=kb["reversed"])
claims.check("the labels-only student follows the reversed cue on under 2% of those digits and loses under 4 points "
             "when the cue is reversed", lo["follows_cue"] < 0.02 and lo["clean"] - lo["reversed"] < 0.04,
             follows_cue=lo["follows_cue"], clean=lo["clean"], reversed=lo["reversed"])
claims.check("the student of the cue-free teacher is within 3 points of the labels-only student on the reversed test",
             abs(kf["reversed"] - lo["reversed"]) < 0.03, cue_free_kd=kf["reversed"], labels_only=lo["reversed"])

# %% [markdown]
# What the labels-only check could have detected: a loss of 4 points is about 14 of the 360 test digits per
# student, 60% of the smallest loss the distilled student showed over SEED 0-7 (6.7 points, at SEED=4), so a
# labels-only student using the cue even 60% as much as that would fail it. It does not lose exactly nothing: a
# bright pixel where the digits rarely have ink costs a model a point or two on some splits whatever the pixel's
# position means (SEED=4: 2.1 points for the labels-only student, 1.7 for the cue-free teacher's), which is why
# the check is set at 4 points and why following the cue, under 2% against the distilled student's 9-14%, is
# the sharper sign.
#
# The distilled student learned the shortcut from data in which the shortcut predicts nothing. Its teacher,
# shown an image whose pixel says "7", shifts probability towards 7, and $\mathrm{KL}$ at $T = 4$ asks the
# student to shift the same way: the soft targets are a channel for the teacher's reasons, good and bad. The
# hard-label term ($1 - \alpha = 0.1$ of the loss) pulls the other way, too weakly to undo it.
#
# ## 3. How strong must the cue be?
#
# **Predict, then run.** As $\rho$ rises from chance (0.1) to a perfect correlation (1.0), how does the distilled
# student's reversed-cue accuracy change, and how closely does it track its teacher's?
#
# <details><summary>Answer</summary>
#
# It falls, slowly at first and steeply near 1; the claim below asserts it is more than 10 points lower at
# $\rho = 1$ than at $\rho = 0.5$ (SEED=0: 93.8% against 77.6%), and the student stays within a few points of its
# teacher all along.
#
# </details>

# %%
curve_t = np.array([lab.teacher_scores(s, r)["reversed"] for r in lab.RHOS])
curve_s = np.array([[lab.student(s, r, seed)["reversed"] for r in lab.RHOS] for seed in SEEDS]).mean(0)
fig, ax = plt.subplots(figsize=(7, 3.6))
plots.curves(ax, list(lab.RHOS), {"teacher": curve_t, f"distilled student (mean of {N_SEEDS})": curve_s},
             title="Reversed-cue test accuracy against the cue's correlation",
             xlabel="rho (probability the pixel names the true digit in the teacher's data)", ylabel="accuracy")
ax.axhline(lo["reversed"], color="k", ls="--", lw=1)
ax.annotate("labels-only student", (0.12, lo["reversed"] + 0.005), fontsize=8)
plt.tight_layout()
plt.show()
i5, i10 = lab.RHOS.index(0.5), lab.RHOS.index(1.0)
claims.check("the distilled student's reversed-cue accuracy is more than 10 points lower at rho=1 than at rho=0.5",
             curve_s[i5] - curve_s[i10] > 0.10, rho_05=curve_s[i5], rho_1=curve_s[i10])
gap = np.abs(curve_s - curve_t).max()
claims.check("at every rho the distilled student's reversed-cue accuracy is within 5 points of its teacher's",
             gap < 0.05, largest_gap=gap)

# %% [markdown]
# > **Beside the paper.** Arjovsky et al. (2019) built *Colored MNIST*: digits 0-4 against 5-9, labels flipped
# > for a quarter of the images, and each digit coloured so that colour agrees with the label in 80-90% of the
# > training images but only 10% at test. Their Table 1: a network trained the usual way (empirical risk
# > minimisation) scores about 87% in training and about 17% at test, because it learned colour; invariant risk
# > minimisation (IRM), which asks for a predictor that is optimal in every training environment at once, keeps
# > about 67% at test, close to the 75% the shape allows. Our cue is a single pixel rather than a colour and our
# > test reverses it just as theirs does. What we add is the distillation step: a student that never saw the
# > correlation learned the cue anyway (it follows the reversed cue on more than 5% of digits at $\rho = 0.95$).
# > What does not carry over: our cue is weaker than colour (the teacher still reads the digit most of the time),
# > so our drops are about five to twenty points, not seventy.
#
# ## 4. Try it: the cue's correlation
#
# The dashboard trains every teacher (cached on disk) and its student once when built, behind a progress bar,
# so each move only redraws. **What to try:** start at $\rho = 0.1$, then step up to 1.0. **What to look for:**
# the red bars of the teacher and its student sink together, while the labels-only student and the cue-free
# teacher's student stay level; on the right, the student's curve hugs the teacher's.

# %%
dash = lab.dashboard(SEED, student_seed=SEEDS[0])
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("The students' transfer set places the pixel at random. How did the distilled student learn to use it?", [
    ("From the teacher's soft targets, which shift towards the class the pixel names.", True,
     "Right: the KD term asks the student to reproduce that shift on every transfer image."),
    ("From the labels of the transfer set.", False,
     "No: there the pixel is independent of the label, and the labels-only student ignores it."),
    ("From the test set.", False, "No: no model is trained on test images."),
])

# %%
quiz("Which model tells you that the cue is the teacher's doing and not the transfer set's?", [
    ("The student distilled from the cue-free teacher, on the same transfer set.", True,
     "Right: same data, same recipe, a teacher without the shortcut, and the shortcut is gone."),
    ("The labels-only student.", False,
     "It rules out the labels, but not the soft-target channel as such; the cue-free teacher's student tests that."),
    ("The teacher itself.", False, "It shows the teacher has the shortcut, not that it passes it on."),
])

# %% [markdown]
# ## What we learned
# - A teacher whose training pixel names the digit 95% of the time loses more than 5 points when the pixel lies.
# - Its student, trained on data where the pixel means nothing, inherits the shortcut: it follows the lying pixel
#   on more than 5% of digits and scores more than 5 points below a labels-only student when the pixel lies; the
#   labels-only student follows it on under 2% and loses under 4 points (a check that would catch a loss 60% the
#   size of the distilled student's smallest).
# - A cue-free teacher's student stays within 3 points of the labels-only one: the channel is the soft targets.
# - The stronger the correlation the teacher saw, the more the student loses (more than 10 points more at
#   $\rho = 1$ than at 0.5), tracking its teacher within 5 points at every $\rho$. Audit the teacher before you
#   distil it: its biases are part of what is transferred.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 6/6

# %% [markdown]
# ## References
# - Arjovsky, M., Bottou, L., Gulrajani, I., Lopez-Paz, D. (2019). Invariant risk minimization. arXiv:1907.02893.
# - Geirhos, R. et al. (2020). Shortcut learning in deep neural networks. Nature Machine Intelligence.
# - Hinton, G., Vinyals, O., Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [3.6 Data-free and dataset distillation](ch3_06_data_free_and_dataset_distillation.ipynb): what a
# teacher can teach when the data are gone, and how few images can teach a model.
