# %% [header]
# number = "1.2"
# title = "When soft targets pay off: few labels, and a digit the student never sees"
# syllabus = ["D3"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "compare soft and hard targets as the labelled subset shrinks (mean and spread over seeds)",
#     "distil through a transfer set with one digit left out and repair that digit with a bias shift, beside Hinton et al.'s MNIST figures",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 5

# %%
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib import experiments_d as E
from course_lib.ui import plots, widgets

ds, teacher = E.setup()
seeds = list(range(SEED, SEED + N_SEEDS))
print(ds)

# %% [markdown]
# ## 1. A handful of labels
#
# A one-hot label says "this is a 7" and nothing more. A teacher's output at temperature T says
# "this is a 7, it looks a bit like a 1 and hardly like a 0". Each training example therefore carries many
# more constraints on the student's function when the targets are soft. That should matter most when the
# examples are scarce: with 20 labelled images, a student that only sees hard labels has too little to go
# on and overfits, while the same 20 images with the teacher's probabilities pin down much more.
#
# Below, the same small student (64 -> 16 -> 10) is trained on a stratified labelled subset of
# 2 %, 5 %, 10 % and 30 % of the 1,077 training images, once with hard labels only and once with the
# teacher's soft targets at T = 4 (alpha = 0.9, so 90 % of the loss is the teacher's). The teacher itself
# was trained on the full training set; only the student is starved. Every point is a mean over
# several seeds (each seed picks a different subset and a different initialisation).

# %%
fractions = [0.02, 0.05, 0.10, 0.30]
runs = {f: [E.subset_run(f, seed=s) for s in seeds] for f in tqdm(fractions, desc="subset sizes")}
hard = np.array([[r["hard"] for r in runs[f]] for f in fractions])
soft = np.array([[r["soft"] for r in runs[f]] for f in fractions])
gain = soft - hard
n_lab = [runs[f][0]["n_labelled"] for f in fractions]
for f, n, h, s, g in zip(fractions, n_lab, hard, soft, gain):
    print(f"{f:4.0%} ({n:3d} labels): hard {h.mean():.1%} ± {h.std():.1%}   soft {s.mean():.1%} ± {s.std():.1%}"
          f"   gain {g.mean():+.1%} ± {g.std():.1%}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
x = [100 * f for f in fractions]
plots.curves(ax, x, {"hard labels only": hard.mean(1) * 100, "soft targets (T=4, alpha=0.9)": soft.mean(1) * 100},
             spread={"hard labels only": hard.std(1) * 100, "soft targets (T=4, alpha=0.9)": soft.std(1) * 100},
             title=f"Student accuracy against labelled subset size (mean ± std, {N_SEEDS} seeds)",
             xlabel="labelled fraction of the training set (%, log scale)", ylabel="test accuracy (%)", logx=True)
plt.show()

# %% [markdown]
# Two claims, both checked on the numbers above:
#
# * at every subset size the soft-target student is more accurate on average than the hard-label one;
# * the benefit is largest when labels are scarcest: the gain at 2 % exceeds the gain at 30 %.

# %%
assert (soft.mean(1) > hard.mean(1)).all(), "soft targets should beat hard labels at every subset size"
assert gain[0].mean() > gain[-1].mean(), "the gain from soft targets should shrink as labels become plentiful"
print(f"gain at 2%: {gain[0].mean():+.1%},  gain at 30%: {gain[-1].mean():+.1%}")

# %% [markdown]
# Hinton et al. (2015) saw the same effect on a speech model: trained on 3 % of the data with hard labels it
# overfitted badly, while soft targets on the same 3 % recovered most of the accuracy of the model trained on
# everything. Our student is far smaller and the data set far simpler, so the numbers differ, but the shape of
# the curve is the point: soft targets act like extra data.
#
# ## 2. A transfer set with no 3s at all
#
# Now a harsher test. The student is distilled on every training image **except** the 3s (soft targets only,
# alpha = 1, no labels). It never sees a single 3. Yet the teacher's outputs on other digits do mention 3: a
# 5 or an 8 written a certain way gets a little probability on "3", and at a raised temperature that small
# mass becomes a visible part of the target. Can the student assemble a notion of "3" from those hints alone?
#
# We count test errors on the 360 test images (37 of them are 3s) at three temperatures.

# %%
temps = [2.0, 4.0, 8.0]
lo = {T: [E.left_out_run(3, T=T, seed=s) for s in seeds] for T in tqdm(temps, desc="temperatures")}

def col(T, key):
    return np.array([r[key] for r in lo[T]], dtype=float)

n3, n_test = lo[4.0][0]["n_digit"], lo[4.0][0]["n_test"]
assert (n3, n_test) == (37, 360)  # the counts the prose quotes
for T in temps:
    print(f"T={T:g}: errors {col(T, 'errors').mean():5.1f} ± {col(T, 'errors').std():.1f} of {n_test}, "
          f"on 3s {col(T, 'errors_digit').mean():5.1f} ± {col(T, 'errors_digit').std():.1f} of {n3};  "
          f"after shift {col(T, 'shift').mean():.2f}: errors {col(T, 'errors_shifted').mean():5.1f}, "
          f"on 3s {col(T, 'errors_digit_shifted').mean():4.1f}")

# %% [markdown]
# ## 3. The bias of the missing class is too low
#
# Why does the student miss 3s at all, if the teacher's targets mention them? The weights feeding the 3 output
# do get trained (the soft targets on 5s and 8s say how 3-like each one is), but nothing ever pushes the *bias*
# of the 3 output up, because "3" is never the most likely answer anywhere in the transfer set. If that is the
# whole story, a single number should repair most of the damage: add a constant to the 3 logit. We choose the shift that
# makes the fewest errors on the **validation** set and then count errors on the test set, so the test set
# never influences the choice. The plot shows the test errors for every candidate shift (one seed).

# %%
r = lo[2.0][0]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(r["shifts"], r["curve"][:, 0], label="all test errors")
ax.plot(r["shifts"], r["curve"][:, 1], label="errors on 3s")
ax.axvline(r["shift"], color="gray", ls="--", label=f"shift chosen on validation ({r['shift']:g})")
ax.legend()
plots.style(ax, f"Raising the bias of the unseen class (T=2, seed {SEED})", "shift added to the 3 logit (logit units)",
            "test errors (count of 360)")
plt.show()

# %% [markdown]
# Claims checked below (means over seeds):
#
# * at T = 4 the student classifies most of the unseen 3s correctly, more of them than at T = 2;
# * the higher the temperature, the more of the 3s it gets right before any shift (T = 8 against T = 2);
# * at T = 2 the bias shift chosen on validation data cuts the errors on 3s and the total errors.

# %%
acc3 = {T: 1 - col(T, "errors_digit") / n3 for T in temps}
assert acc3[4.0].mean() > 0.5 and acc3[4.0].mean() > acc3[2.0].mean(), acc3
assert col(8.0, "errors_digit").mean() < col(2.0, "errors_digit").mean()
assert col(2.0, "errors_digit_shifted").mean() < col(2.0, "errors_digit").mean()
assert col(2.0, "errors_shifted").mean() < col(2.0, "errors").mean()
print({T: f"{a.mean():.1%} of 3s right" for T, a in acc3.items()})

# %% [markdown]
# ### Beside the paper
#
# Hinton et al. (2015) ran this on MNIST with much larger networks (the figures are from the paper; the
# seed documents of this course do not give them). With every 3 removed from the transfer set, their
# distilled net made 206 test errors, 133 of them on the 1,010 test 3s. After raising the bias of the 3 class
# (by 3.5) it made 109 errors, 14 of them on 3s.

# %%
paper = {"errors": 206 / 10000, "3s wrong": 133 / 1010, "errors after shift": 109 / 10000,
         "3s wrong after shift": 14 / 1010}
ours = {T: {"errors": col(T, "errors").mean() / n_test, "3s wrong": col(T, "errors_digit").mean() / n3,
            "errors after shift": col(T, "errors_shifted").mean() / n_test,
            "3s wrong after shift": col(T, "errors_digit_shifted").mean() / n3} for T in temps}
print(f"{'':22s}{'paper (MNIST)':>15s}" + "".join(f"{'ours T=' + format(T, 'g'):>12s}" for T in temps))
for k in paper:
    print(f"{k:22s}{paper[k]:15.1%}" + "".join(f"{ours[T][k]:12.1%}" for T in temps))

# %% [markdown]
# Where we agree and where we differ:
#
# * **Agree:** the student recognises most 3s without seeing one, and most of what it still misses comes back
#   with one bias shift (compare the rows of the table for each T).
# * **Differ:** our error *rates* are higher overall (a 32-unit student on 8x8 images against large nets on
#   28x28 MNIST), and they are noisier: the test set holds only 37 threes, so one image is almost 3 points of
#   accuracy on 3s. Our temperatures are also lower than the paper's. And we pick the shift on validation data;
#   the paper does not say how its 3.5 was chosen.
# * **New here:** the temperature matters a lot. At T = 8 the student already gets far more 3s right than at
#   T = 2, so the shift has less left to repair; at T = 2 the mass on "3" in the targets is too small and the
#   shift does most of the work.
#
# ## 4. Try it
#
# The dashboard retrains the student on the transfer set without the chosen digit at temperature T (the
# students are cached, so moving only the shift is instant) and shows the errors on the missing digit.

# %%
def render(res, fig):
    ax = fig.subplots()
    ax.plot(res["shifts"], res["curve"][:, 0], label="all errors")
    ax.plot(res["shifts"], res["curve"][:, 1], label=f"errors on {res['digit']}s")
    ax.axvline(res["shift"], color="gray", ls="--", label="current shift")
    ax.legend()
    plots.style(ax, f"Digit {res['digit']} left out, T={res['T']:g}", "bias shift (logit units)",
                "test errors (count)")


def summary(res):
    return (f"errors {res['errors']} → {res['errors_shifted']} of {res['n_test']}; "
            f"on {res['digit']}s {res['errors_digit']} → {res['errors_digit_shifted']} of {res['n_digit']}")


dash = widgets.Dashboard(lambda digit, T, shift: E.left_out_run(digit, T=T, shift=shift, seed=SEED),
                         {"digit": widgets.slider(3, 0, 9, 1, description="digit left out", integer=True),
                          "T": widgets.slider(2.0, 1.0, 10.0, 0.5, description="temperature T"),
                          "shift": widgets.slider(0.0, 0.0, 10.0, 0.25, description="bias shift")},
                         render=render, summary=summary, title="A digit the student never saw")
dash

# %%
before = dash.update(digit=3, T=2.0, shift=0.0)["errors_digit"]
after = dash.update(shift=lo[2.0][0]["shift"])["errors_digit_shifted"]
assert after <= before
print(f"dashboard, seed {SEED}: errors on 3s {before} without a shift, {after} with the validated shift")

# %% [markdown]
# ## What we measured
#
# * Soft targets beat hard labels at every subset size; the mean gain was largest at 2 % of the labels and
#   smallest at 30 % (printed above, mean ± std over the seeds).
# * With no 3 in the transfer set, the student still classified most test 3s correctly at T = 4, and more
#   of them at T = 8 than at T = 2.
# * At T = 2 a bias shift on the 3 logit, chosen on validation data, reduced both the errors on 3s and the
#   total errors on the test set, as in Hinton et al. (2015), whose figures are shown beside ours.
