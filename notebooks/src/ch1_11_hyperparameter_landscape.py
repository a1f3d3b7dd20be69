# %% [header]
# number = "1.11"
# title = "The hyperparameter landscape, and what distillation really costs"
# syllabus = ["D12"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_02_when_soft_targets_pay_off"]
# objectives = [
#     "sweep T, alpha and student width into heat maps, choosing the best cell on validation",
#     "decide which knob matters more with a fair design: equal numbers of levels, the other knob averaged out, seed noise measured",
#     "count the cost of distillation per student width, teacher included, against scratch",
#     "live width/alpha/T dashboard",
# ]

# %% [markdown]
# A distilled student has at least three knobs beyond the usual learning rate: the temperature T, the weight
# alpha of the soft term, and its own size. They interact, and the only honest way to see how is to sweep them.
# We train one student for every combination on a grid, several seeds per cell, draw the results as heat maps,
# ask which knob matters more in a way that gives both knobs the same chance, and then do the sums that are often
# left out: what the teacher cost to train, and how the total compares with training the student from scratch.

# %%
# parameters
SEED = 0  # drives the split, the teacher, the 30% labelled subset and the students (seeds SEED*N_SEEDS ...)
N_SEEDS = 4  # students per cell, from a block of seeds that depends on SEED
TEMPERATURES = [1, 2, 4, 8]     # four levels: from no softening to strong softening
ALPHAS = [0.25, 0.5, 0.75, 1.0]  # four levels: from mostly hard labels to the teacher alone
WIDTHS = [4, 16, 32]

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from course_lib import cache, latency, models, train
from course_lib.claims import Claims
from course_lib.distill.landscape import training_flops
from course_lib.labs.ch1 import landscape as lab
from course_lib.ui import quiz

claims = Claims("ch1_11_hyperparameter_landscape")
s = lab.setup(SEED)  # split, teacher and the 30% labelled subset, all drawn with SEED
ds, teacher, X, y = s.ds, s.teacher, s.X, s.y
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
print(f"labelled subset: {len(X)} digits; teacher test accuracy {train.evaluate(teacher, ds.X_test, ds.y_test):.1%}")

# %% [markdown]
# ## 1. The grid
#
# For every student width (hidden units of `mlp(64, (width,), 10)`), every temperature and every alpha, and for
# four seeds, we distil from the cached teacher on the same 30% labelled subset (60 full-batch Adam epochs at
# learning rate 0.05, the recipe the dashboard below uses too). Each width also gets four scratch students
# (alpha = 0, hard labels only). That is 68 students per width; `lab.grid` trains all students of one width in one
# batched loop (`distill.landscape.train_stacked`: their weights are stacked into batched matrices, and since
# their losses and parameters are disjoint and Adam works element by element, each learns exactly as it would
# alone).
#
# The design is chosen so that "which knob matters more" has a fair answer: **T and alpha get the same number of
# levels (four)**, each spanning its practical range, and each knob's effect is measured with the other one
# averaged out, against the seed-to-seed noise measured in the same grid.
#
# **Predict, then run.** 1. For the 16- and 32-unit students, which knob moves accuracy more across its range, T
# or alpha? 2. Which student width will be the least repeatable from seed to seed?
#
# <details><summary>Answer</summary>
#
# 1. T: the notebook asserts that for both widths the range of T's means (alpha averaged out) is larger than
#    alpha's (usually several times larger; twice at SEED=12), and more than 4 standard errors; at SEED=0 T moved the 16-unit student's mean accuracy by
#    about 2 points and alpha by about 0.2. Most of T's effect is T = 1 against the rest, but even among T >= 2 it
#    beats alpha (checked below, also with three levels each).
# 2. The 4-unit student: its seed-to-seed standard deviation is asserted to be more than 5 times the wider
#    students' (at SEED=0 about 23 points against under 1).
#
# </details>

# %%
res = lab.grid(s, TEMPERATURES, ALPHAS, WIDTHS, seeds, progress=True)
acc, val = res["acc"].mean(-1), res["val"].mean(-1)  # (width, T, alpha), mean over seeds
scratch = res["scratch"].mean(-1)                    # (width,)
gain = acc - scratch[:, None, None]
n_students = res["n_students"] * len(WIDTHS)
print(f"{n_students} students trained in {sum(res['seconds']):.1f} s "
      f"({', '.join(f'width {w}: {t:.1f} s' for w, t in zip(WIDTHS, res['seconds']))})")

fig, axes = plt.subplots(1, len(WIDTHS), figsize=(4.2 * len(WIDTHS), 3.8), sharey=True)
lim = max(np.abs(gain).max(), 1e-3)
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
# is the mean test accuracy and the colour its gain over the same-size student trained from scratch (blue: better).
#
# ## 2. Which knob matters more?
#
# For each width we compute each knob's **main effect**: average the grid over the other knob and the seeds,
# which leaves four means per knob, and take their range (largest minus smallest). With four levels each and the
# other knob averaged out, neither knob is favoured by having more or more extreme levels than the other, as far as
# "extreme" can be compared between a temperature and a weight. The seed noise sets the scale: the standard error
# of one of those means is $\sqrt{\mathrm{MS}_\text{within}/(4 \cdot n_\text{seeds})}$, where
# $\mathrm{MS}_\text{within}$ is the variance between seeds inside a cell, pooled over the 16 cells (the residual
# of a two-way analysis of variance). The best cell of each width is chosen on the **validation** split and its
# gain read on the **test** split.

# %%
wide = [i for i, w in enumerate(WIDTHS) if w >= 16]
best_T_idx = {}
for wi in range(len(WIDTHS)):
    a = res["acc"][wi]                                   # (T, alpha, seed)
    ms_within = a.var(-1, ddof=1).mean()                 # pooled within-cell variance over seeds
    se = np.sqrt(ms_within / (len(ALPHAS) * N_SEEDS))    # standard error of a main-effect mean (4 cells x seeds)
    mT, mA = a.mean((1, 2)), a.mean((0, 2))
    rT, rA = np.ptp(mT), np.ptp(mA)
    rT3, rA3 = np.ptp(mT[1:]), np.ptp(a[1:, 1:].mean((0, 2)))  # three levels each: T >= 2, alpha >= 0.5
    best = np.unravel_index(val[wi].argmax(), val[wi].shape)
    bT = int(res["val"][wi].mean((1, 2))[1:].argmax()) + 1  # best T above 1, chosen on validation
    best_T_idx[WIDTHS[wi]] = bT
    print(f"width {WIDTHS[wi]:2d}: T means {np.round(mT * 100, 1)}, alpha means {np.round(mA * 100, 1)} (%)\n"
          f"          range over T {rT:.2%}, over alpha {rA:.2%} (3 levels each: {rT3:.2%} vs {rA3:.2%}); "
          f"SE of a mean {se:.2%}\n          best cell on validation: T={TEMPERATURES[best[0]]}, "
          f"alpha={ALPHAS[best[1]]}: test {acc[wi][best]:.1%} vs scratch {scratch[wi]:.1%} ({gain[wi][best]:+.1%})")
    if wi not in wide:
        continue
    w = WIDTHS[wi]
    paired = res["acc"][wi][best] - res["scratch"][wi]  # the best cell's students against scratch, seed by seed
    claims.check(f"width {w}: the best cell, chosen on validation, beats scratch on test (mean of the seeds)",
                 gain[wi][best] > 0, gain=gain[wi][best], per_seed=paired, T=TEMPERATURES[best[0]],
                 alpha=ALPHAS[best[1]])
    claims.check(f"width {w}: with four levels each and the other knob averaged out, T's range of means is larger "
                 "than alpha's", rT > rA, range_T=rT, range_alpha=rA)
    claims.check(f"width {w}: T's range of means is more than 4 standard errors (not seed noise)", rT > 4 * se,
                 range_T=rT, standard_error=se)
    claims.check(f"width {w}: without T = 1 (three levels each: T >= 2 against alpha >= 0.5) T's range is still "
                 "larger than alpha's", rT3 > rA3, range_T=rT3, range_alpha=rA3)
    t1, tb = a[0].mean(), a[bT].mean()
    claims.check(f"width {w}: at T = 1 less than a third of the gain of the best T (chosen on validation) is left",
                 t1 - scratch[wi] < (tb - scratch[wi]) / 3, gain_T1=t1 - scratch[wi], gain_best_T=tb - scratch[wi],
                 best_T=TEMPERATURES[bT])

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for wi in wide:
    a = res["acc"][wi]
    se = np.sqrt(a.var(-1, ddof=1).mean() / (len(ALPHAS) * N_SEEDS))
    axes[0].errorbar(range(len(TEMPERATURES)), a.mean((1, 2)) * 100, yerr=se * 100, marker="o", capsize=3,
                     label=f"width {WIDTHS[wi]}")
    axes[1].errorbar(range(len(ALPHAS)), a.mean((0, 2)) * 100, yerr=se * 100, marker="o", capsize=3,
                     label=f"width {WIDTHS[wi]}")
axes[0].set_xticks(range(len(TEMPERATURES)), [f"{t:g}" for t in TEMPERATURES])
axes[1].set_xticks(range(len(ALPHAS)), [f"{a:g}" for a in ALPHAS])
axes[0].set(title="Main effect of T (alpha averaged out)", xlabel="temperature T", ylabel="test accuracy (%)")
axes[1].set(title="Main effect of alpha (T averaged out)", xlabel="alpha (weight of soft term)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle(f"Four levels per knob, {N_SEEDS} seeds per cell; error bars: one standard error from the seed noise")
plt.show()

# %% [markdown]
# Over the ranges tried, T is the knob that matters for these students and alpha hardly does: with the other
# knob averaged out, T's four means spread more widely than alpha's (usually several times), and T's spread is many
# standard errors wide. Much of it is T = 1 (no softening) against the rest, which keeps less than a third of the
# gain of the best T; but even with T = 1 and alpha = 0.25 both left out, T still moves accuracy more than alpha.
# "Matters more" is always relative to the ranges swept: an alpha near 0 would of course matter (it is scratch
# training), so the statement is about the practical ranges, T from 1 to 8 and alpha from 0.25 to 1.
#
# ## 3. How erratic is the smallest student?
#
# The 4-unit panel looks rough. Is that T and alpha, or the seed? The grid answers it directly: the spread
# between the seeds of one cell, pooled over the 16 cells.

# %%
seed_sd = {w: float(np.sqrt(res["acc"][wi].var(-1, ddof=1).mean())) for wi, w in enumerate(WIDTHS)}
print("seed-to-seed standard deviation of one student's test accuracy:", {w: f"{v:.1%}" for w, v in seed_sd.items()})
claims.check("the 4-unit student is erratic: its seed-to-seed standard deviation is more than 5 times that of "
             "the 16- and of the 32-unit students", seed_sd[4] > 5 * max(seed_sd[16], seed_sd[32]),
             seed_sd={str(w): v for w, v in seed_sd.items()})

# %% [markdown]
# With 4 hidden ReLU units a student can lose a unit or two early in training and never recover; which units
# survive depends on the seed. Its landscape is mostly seed noise, so no (T, alpha) cell of a 4-unit student can
# be trusted from one run. The wider students are repeatable to within about a point.
#
# > **Beside the paper.** Hinton, Vinyals and Dean (2015, section 3) distilled on MNIST: a 2 x 800 network
# > trained alone made 146 test errors, and 74 when distilled from a large regularised teacher (67 errors) at
# > T = 20. They report that with 300 or more units per layer all temperatures above 8 gave fairly similar results,
# > while with 30 units per layer temperatures between 2.5 and 4 worked clearly better than higher or lower ones,
# > and that a weight on the hard-label term considerably lower than on the soft term worked best. Our
# > miniature (8 x 8 digits, one hidden layer of 16 or 32 units, 30% of the labels) agrees that T matters and
# > that T = 1 wastes the soft targets; its best T sits at the top of our small range rather than at 2.5-4, and
# > alpha hardly matters over 0.25-1 here, so the paper's advice on the weight neither shows nor is contradicted.
# > What does not carry over: their students were far larger, trained on all labels with jittered inputs.
#
# ## 4. What distillation costs, per width
#
# The student's own training is cheap. But a distilled student needs a teacher, and the teacher had to be
# trained first, on more data, with a much larger network, for more epochs. It also has to be run once over the
# transfer set to produce the soft targets. We count all of it in FLOPs (`models.flops` for one forward pass; a
# backward pass counted as two more), for every width of the grid, with every setting read from the models and
# from `cache.teacher`'s own defaults. Then we time one training epoch of the teacher and of each student,
# interleaved (`latency.compare`), and scale by their numbers of epochs.
#
# **Predict, then run.** Counting the teacher's training, how many times the compute of a scratch student does one
# distilled 32-unit student cost: about 2, about 20, or several hundred?
#
# <details><summary>Answer</summary>
#
# Several hundred: the notebook asserts more than 100 times for every width (at SEED=0 the printout below gives
# the ratio per width), and that the teacher's measured training time is more than 20 times the widest student's.
#
# </details>

# %%
defaults = {k: p.default for k, p in inspect.signature(cache.teacher).parameters.items()}
TEACHER_EPOCHS = defaults["epochs"]
teacher_hidden = tuple(m.out_features for m in teacher if isinstance(m, torch.nn.Linear))[:-1]
teacher_train = training_flops(teacher, ds.n_features, len(ds.X_train), TEACHER_EPOCHS)
soft_targets = models.flops(teacher, (ds.n_features,)) * len(X)
students = {w: models.mlp(ds.n_features, (w,), ds.n_classes, seed=0) for w in WIDTHS}
student_train = {w: training_flops(m, ds.n_features, len(X), res["epochs"]) for w, m in students.items()}
grid_flops = sum(res["n_students"] * f for f in student_train.values())
print(f"teacher mlp(64, {teacher_hidden}, 10): {models.count_params(teacher)} parameters, {TEACHER_EPOCHS} epochs on "
      f"{len(ds.X_train)} digits: {teacher_train:.3e} FLOPs; soft targets on {len(X)} digits: {soft_targets:.3e}")
ratios = {}
for w in WIDTHS:
    ratios[w] = (teacher_train + soft_targets + student_train[w]) / student_train[w]
    print(f"width {w:2d}: {models.count_params(students[w]):5d} parameters, training {student_train[w]:.3e} FLOPs; "
          f"distilled with its own teacher = {ratios[w]:.0f}x scratch")
print(f"the grid ({n_students} students): {grid_flops:.3e} FLOPs = {grid_flops / teacher_train:.1%} of one teacher training")
claims.check("counting the teacher, one distilled student costs more than 100 times the FLOPs of a scratch student, "
             "at every width", min(ratios.values()) > 100, ratios={str(w): r for w, r in ratios.items()})
claims.check(f"the whole grid of {n_students} students, each width at its own cost, costs fewer FLOPs than one "
             "teacher training", grid_flops < teacher_train, grid=grid_flops, teacher=teacher_train)


def epoch_step(model, Xb, yb):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(Xb), yb).backward()
        opt.step()
    return step


steps = {"teacher": epoch_step(models.mlp(ds.n_features, teacher_hidden, ds.n_classes, seed=0), ds.X_train, ds.y_train)}
steps.update({f"width {w}": epoch_step(models.mlp(ds.n_features, (w,), ds.n_classes, seed=0), X, y) for w in WIDTHS})
timing = latency.compare(steps, repeats=15, warmup=2, n_threads=1)
for name, t in timing.items():
    print(f"one epoch, {name:9s}: {t}")
widest = f"width {max(WIDTHS)}"
time_ratio = latency.paired_ratio(timing["teacher"], timing[widest]) * TEACHER_EPOCHS / res["epochs"]
print(f"teacher training ({TEACHER_EPOCHS} epochs) / {widest} student training ({res['epochs']} epochs): {time_ratio:.0f}x")
claims.check("the teacher's measured training time (paired per-epoch timing) is more than 20 times the widest "
             "student's", time_ratio > 20, ratio=time_ratio)

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
names = ["teacher training", "soft targets"] + [f"student training, width {w}" for w in WIDTHS]
vals = [teacher_train, soft_targets] + [student_train[w] for w in WIDTHS]
ax.barh(names, vals, color=["tab:red", "tab:orange"] + ["tab:blue"] * len(WIDTHS))
ax.set_xscale("log")
ax.set(title="Where the FLOPs of one distilled student go", xlabel="FLOPs (log scale)", ylabel="")
ax.grid(alpha=0.3, axis="x")
fig.tight_layout()
plt.show()

# %% [markdown]
# The teacher dominates by orders of magnitude at every width. Distillation is therefore economical in two
# situations: when a good teacher **already exists** (its cost is sunk, and only the soft targets and the student
# remain), or when the teacher's cost is spread over **many students** or over a long deployment in which the
# smaller student saves inference compute on every request. It is not economical as a way to train one small model
# once from nothing, unless the accuracy gain is worth a few hundred times the compute. A tuning grid like ours
# adds its own bill: here a couple of hundred student trainings, which together still cost less than one teacher.
#
# ## 5. Live: one point of the landscape
#
# The dashboard trains one distilled student at the chosen width, alpha and T with the grid's recipe (60
# full-batch epochs) and compares it with the scratch student of the same width (trained once per width and
# cached). Both use the seed SEED, so each position is one run, not a mean. Try width 4 against width 32 at the
# same T and alpha, and T = 1 against T = 8; look at the gain in the summary line.
#
# **Predict, then run.** Set width 4 and move T between 2 and 8 and back: will the gain over scratch move
# smoothly with T?
#
# <details><summary>Answer</summary>
#
# No: the notebook asserts that the 4-unit student's seed-to-seed spread is more than 5 times the wider students'
# (section 3), so one 4-unit run jumps by many points from setting to setting. At width 32 the changes with T are
# small and steady, and T = 1 gives back most of the gain (section 2).
#
# </details>

# %%
dash = lab.dashboard(SEED)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("When is distillation economical, counting the teacher?", [
    ("When a good teacher already exists, or its cost is shared by many students or a long deployment.", True,
     "Right: trained for one student alone, the teacher costs more than 100 times that student at every width."),
    ("Always: the student is small.", False, "No: the teacher's training dominates the bill."),
])

# %%
quiz("Why give T and alpha four levels each and average the other knob out before comparing them?", [
    ("With more (or more extreme) levels, a knob's range of means grows by itself; equal designs compare like "
     "with like.", True, "Right: the old version of this grid had five temperatures against three alphas."),
    ("Because four is the number of seeds.", False, "No: the number of seeds sets the noise, not the design."),
    ("So that the best cell can be read on the test split.", False,
     "No: the best cell is chosen on validation and only reported on test."),
])

# %%
quiz("The 4-unit heat map looks rough. What does the grid say that roughness is?", [
    ("Mostly seed noise: its seed-to-seed spread is more than 5 times the wider students'.", True,
     "Right: a single 4-unit run per cell cannot rank the cells."),
    ("A real, sharp dependence on T and alpha.", False, "No: the cells differ by less than the seeds of one cell do."),
])

# %% [markdown]
# ## What we learned
#
# - For students of 16 and 32 hidden units the best (T, alpha) cell, chosen on validation, beats scratch on test
#   (mean of 4 seeds). How much depends on the split and its teacher: over SEED 0-7 the gain went from under a
#   point (SEED 4) to nearly 4 points, so "distillation gains N points" is a statement about one teacher.
# - With four levels each and the other knob averaged out, T's range of means is larger than alpha's and more
#   than 4 standard errors of the seed noise; without T = 1 it is still larger. At T = 1 less than a third of the
#   best T's gain is left.
# - The 4-unit student is erratic: its seed-to-seed standard deviation is more than 5 times the wider students'.
# - Counting the teacher's training, one distilled student costs more than 100 times the FLOPs of a scratch
#   student at every width, the teacher's measured training time is more than 20 times the widest student's, and
#   the whole grid costs fewer FLOPs than one teacher training.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 14/14

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Stanton, S. et al. (2021). Does knowledge distillation really work? NeurIPS.
#
# **Next:** chapter 2 starts with [2.1 Magnitude pruning](ch2_01_magnitude_pruning.ipynb).
