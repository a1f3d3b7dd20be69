# %% [header]
# number = "1.11"
# title = "The hyperparameter landscape, and what distillation really costs"
# syllabus = ["D12"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_02_when_soft_targets_pay_off"]
# objectives = [
#     "sweep T, alpha and student width into heat maps",
#     "find which knob matters",
#     "count the cost of distillation, teacher included, against scratch",
#     "live width/alpha/T dashboard",
# ]

# %% [markdown]
# A distilled student has at least three knobs beyond the usual learning rate: the temperature T, the weight
# alpha of the soft term, and its own size. They interact, and the only honest way to see how is to sweep them.
# We train one student for every combination on a grid, draw the results as heat maps, and then do the sums
# that are often left out: what the teacher cost to train, and how the total compares with simply training the
# student from scratch.

# %%
# parameters
SEED = 0
N_SEEDS = 2  # students per cell, from a block of seeds that depends on SEED
TEMPERATURES = [1, 2, 4, 8, 16]
ALPHAS = [0.0, 0.5, 0.9, 1.0]
WIDTHS = [4, 8, 16, 32]
EPOCHS = 100

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from course_lib import models, train
from course_lib.claims import Claims
from course_lib.distill.landscape import training_flops
from course_lib.labs.ch1 import landscape as lab
from course_lib.ui import quiz

claims = Claims("ch1_11_hyperparameter_landscape")
s = lab.setup(SEED)  # split, teacher and the 30% labelled subset, all drawn with SEED
ds, teacher, X, y = s.ds, s.teacher, s.X, s.y
print(f"labelled subset: {len(X)} digits; teacher test accuracy {train.evaluate(teacher, ds.X_test, ds.y_test):.1%}")

# %% [markdown]
# ## 1. The sweep
#
# For every student width (hidden units of `mlp(64, (width,), 10)`), temperature and alpha, and for
# two seeds, we distil from the cached teacher on the same 30% labelled subset (100 full-batch epochs). We also
# train each width from scratch. alpha = 0 means hard labels only, so that column is the same for every T and is
# trained once.

# %%
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
res = lab.sweep(s, TEMPERATURES, ALPHAS, WIDTHS, seeds, epochs=EPOCHS, progress=True)
acc = res["acc"].mean(-1)          # (width, T, alpha)
scratch = res["scratch"].mean(-1)  # (width,)
gain = acc - scratch[:, None, None]
print(f"{res['n_runs']} students trained, {res['seconds_per_student']:.2f} s each on average")

fig, axes = plt.subplots(1, len(WIDTHS), figsize=(4 * len(WIDTHS), 3.8), sharey=True)
lim = np.abs(gain).max()
for wi, (ax, w) in enumerate(zip(axes, WIDTHS)):
    im = ax.imshow(gain[wi] * 100, cmap="RdBu", vmin=-lim * 100, vmax=lim * 100, origin="lower", aspect="auto")
    for ti in range(len(TEMPERATURES)):
        for ai in range(len(ALPHAS)):
            ax.text(ai, ti, f"{acc[wi, ti, ai]:.0%}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(ALPHAS)), [f"{a:g}" for a in ALPHAS])
    ax.set_yticks(range(len(TEMPERATURES)), [f"{t:g}" for t in TEMPERATURES])
    ax.set(title=f"width {w}: scratch {scratch[wi]:.0%}", xlabel="alpha (weight of soft term)")
axes[0].set_ylabel("temperature T")
fig.colorbar(im, ax=axes, label="gain over scratch (percentage points)")
fig.suptitle(f"Student test accuracy (numbers) and gain over scratch (colour), mean of {N_SEEDS} seeds")
plt.show()

# %% [markdown]
# How to read it: each panel is one student size; rows are temperatures, columns are alpha; the number in a cell
# is the test accuracy and the colour its gain over the same-size student trained from scratch (blue: better).
# The alpha = 0 column is scratch training itself, so it shows no gain.
#
# What the maps say, and what we check below:
#
# - for the students with 16 and 32 hidden units, the best cell (chosen on the validation split) beats scratch on
#   the test split by more than half a point;
# - for those students, **T matters more than alpha**: once alpha is at least 0.5, moving T changes accuracy
#   more than moving alpha does, and T = 1 (no softening) wastes most of the benefit;
# - the smallest student (4 hidden units) has the most uneven landscape: its accuracy ranges over the grid more
#   widely than either larger student's. Whether that is seed-to-seed variance (training getting stuck) or a real
#   effect of T and alpha is not separated here: two seeds per cell cannot tell them apart.

# %%
wide = [i for i, w in enumerate(WIDTHS) if w >= 16]
small = [i for i, w in enumerate(WIDTHS) if w < 16]
# the best cell of each width is chosen on the validation split; its gain is then read on the test split
best_cell = res["val"].mean(-1).reshape(len(WIDTHS), -1).argmax(1)
best_gain = np.array([gain[wi].reshape(-1)[best_cell[wi]] for wi in range(len(WIDTHS))])
soft = [ai for ai, a in enumerate(ALPHAS) if a >= 0.5]
for wi in wide:
    g = gain[wi][:, soft]
    range_T = np.ptp(g.mean(1))       # effect of T, averaged over alpha
    range_alpha = np.ptp(g.mean(0))   # effect of alpha, averaged over T
    t1 = acc[wi, 0, soft].mean()
    best_T = acc[wi, 1:, :][:, soft].mean(1).max()
    print(f"width {WIDTHS[wi]:2d}: best gain {best_gain[wi]:+.1%}; spread over T {range_T:.1%}, over alpha "
          f"{range_alpha:.1%}; T=1 {t1:.1%} vs best T {best_T:.1%}")
    claims.check(f"width {WIDTHS[wi]}: the best cell (chosen on validation) beats scratch by more than half a point on test",
                 best_gain[wi] > 0.005, gain=best_gain[wi])
    claims.check(f"width {WIDTHS[wi]}: over alpha >= 0.5, moving T changes accuracy more than moving alpha",
                 range_T > range_alpha, spread_T=range_T, spread_alpha=range_alpha)
    claims.check(f"width {WIDTHS[wi]}: the best T above 1 beats T = 1 by more than half a point", best_T > t1 + 0.005,
                 best_T_acc=best_T, T1_acc=t1)
    claims.check(f"width {WIDTHS[wi]}: at T = 1 less than half of the best T's gain over scratch is left",
                 t1 - scratch[wi] < 0.5 * (best_T - scratch[wi]), gain_T1=t1 - scratch[wi], gain_best_T=best_T - scratch[wi])
spread = {WIDTHS[wi]: np.ptp(acc[wi][:, soft]) for wi in range(len(WIDTHS))}
print("range of accuracy over the grid (alpha >= 0.5):", {w: f"{v:.1%}" for w, v in spread.items()})
claims.check("the 4-unit student's accuracy ranges more widely over the grid than either wider student's",
             spread[WIDTHS[0]] > max(spread[WIDTHS[wi]] for wi in wide),
             ranges={str(w): v for w, v in spread.items()})

# %% [markdown]
# ## 2. What distillation costs
#
# The student's own training is cheap. But a distilled student needs a teacher, and the teacher had to be
# trained first, on more data, with a much larger network, for more epochs. It also has to be run once over the
# transfer set to produce the soft targets. We count all of it in floating-point operations (FLOPs, with
# `models.flops` for one forward pass and a backward pass counted as two more), and in measured seconds.
#
# The cached teacher is `mlp(64, (256, 256), 10)`, trained full batch for 300 epochs on all 1077 training
# digits. To measure its wall time without paying all 300 epochs here, we time 30 epochs of the same
# training on a fresh copy and scale by 10 (every full-batch epoch does the same work).

# %%
TEACHER_EPOCHS, TEACHER_HIDDEN = 300, (256, 256)
fresh = models.mlp(ds.n_features, TEACHER_HIDDEN, ds.n_classes, seed=0)
t0 = time.perf_counter()
train.train_scratch(fresh, ds.X_train, ds.y_train, epochs=30, lr=3e-3, weight_decay=1e-4, seed=0)
teacher_seconds = (time.perf_counter() - t0) * TEACHER_EPOCHS / 30

student = models.mlp(ds.n_features, (16,), ds.n_classes, seed=seeds[0])
t0 = time.perf_counter()
train.train_scratch(student, X, y, epochs=EPOCHS, lr=3e-2, seed=seeds[0])
student_seconds = time.perf_counter() - t0
t0 = time.perf_counter()
train.predict(teacher, X)
soft_target_seconds = time.perf_counter() - t0

teacher_train = training_flops(teacher, ds.n_features, len(ds.X_train), TEACHER_EPOCHS)
soft_targets = models.flops(teacher, (ds.n_features,)) * len(X)
student_train = training_flops(student, ds.n_features, len(X), EPOCHS)
rows = [("teacher training (once)", teacher_train, teacher_seconds),
        ("soft targets (teacher forward on the subset)", soft_targets, soft_target_seconds),
        ("student training, distilled or scratch", student_train, student_seconds)]
for name, f, s in rows:
    print(f"{name:48s} {f:12.3e} FLOPs  {s:7.3f} s")
total = teacher_train + soft_targets + student_train
ratio = total / student_train
sweep_flops = res["n_runs"] * student_train
print(f"\ndistillation from a teacher trained for the purpose: {ratio:.0f}x the FLOPs of training the student from scratch")
print(f"the sweep above ({res['n_runs']} students): {sweep_flops:.3e} FLOPs, "
      f"{sweep_flops / teacher_train:.1%} of one teacher training")
print(f"teacher parameters {models.count_params(teacher)}, student (width 16) {models.count_params(student)}")
claims.check("counting the teacher, one distilled student costs more than 100 times the FLOPs of a scratch student",
             ratio > 100, ratio=ratio)
claims.check("the teacher's measured training time is more than 5 times the student's",
             teacher_seconds > 5 * student_seconds, teacher_s=teacher_seconds, student_s=student_seconds)
claims.check(f"the whole sweep of {res['n_runs']} students costs fewer FLOPs than one teacher training (16-unit cost per "
             "student; wider students cost more)", sweep_flops < teacher_train, sweep=sweep_flops, teacher=teacher_train)

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
names = ["teacher training", "soft targets", "student training"]
ax.barh(names, [r[1] for r in rows], color=["tab:red", "tab:orange", "tab:blue"])
ax.set_xscale("log")
ax.set(title="Where the FLOPs of one distilled student go", xlabel="FLOPs (log scale)", ylabel="")
ax.grid(alpha=0.3, axis="x")
plt.show()

# %% [markdown]
# The teacher dominates by orders of magnitude. Distillation is therefore economical in two situations: when a
# good teacher **already exists** (its cost is sunk, and only the soft targets and the student remain), or when
# the teacher's cost is spread over **many students** or over a long deployment in which the smaller student
# saves inference compute on every request. It is not economical as a way to train one small model once from
# nothing, unless the accuracy gain is worth a few hundred times the compute. A tuning sweep like ours adds its
# own bill: here, well over a hundred student trainings, which together still cost less than one teacher.
#
# ## 3. Live: one point of the landscape
#
# The dashboard trains one distilled student at the chosen width, alpha and T (a fraction of a second) and
# compares it with the scratch student of the same width (trained once per width and cached; the dashboard uses 60
# epochs at a higher learning rate than the sweep, to stay live). Try width 4 against width 32 at the same T and
# alpha, and T = 1 against T = 8.

# %%
dash = lab.dashboard(SEED)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("When is distillation economical, counting the teacher?", [
    ("When a good teacher already exists, or its cost is shared by many students or a long deployment.", True,
     "Right: trained for one student alone, the teacher costs more than 100 times that student."),
    ("Always: the student is small.", False, "No: the teacher's training dominates the bill."),
])

# %%
quiz("Why choose the best (T, alpha) cell on the validation split rather than the test split?", [
    ("Choosing on test and reporting on test flatters the result.", True, "Right: choose on validation, report on test."),
    ("The validation split is larger.", False, "No: it is the same size as the test split here."),
])

# %% [markdown]
# ## What we learned
#
# - For students of 16 and 32 hidden units the best (T, alpha) cell, chosen on validation, beats scratch on test by
#   more than half a point (mean of 2 seeds; the gains are printed below the heat maps).
# - For those students T matters more than alpha once alpha >= 0.5, and the best T above 1 beats T = 1 by more
#   than half a point; at T = 1 less than half of the best T's gain over scratch is left.
# - The 4-unit student's accuracy ranges more widely over the grid than either the 16- or 32-unit student's
#   (ranges printed below the heat maps).
# - Counting the teacher's training, one distilled student costs more than 100 times the FLOPs of a scratch
#   student, and the teacher's measured training time is more than 5 times the student's; the whole sweep
#   (its number of students is printed above) costs fewer FLOPs than one teacher training.

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
# - Stanton, S. et al. (2021). Does knowledge distillation really work? NeurIPS.
#
# **Next:** chapter 2 starts with [2.1 Magnitude pruning](ch2_01_magnitude_pruning.ipynb).
