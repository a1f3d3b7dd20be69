# %% [header]
# number = "4.11"
# title = "Meta-learning: distilling an initialisation that learns fast"
# syllabus = ["A11"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "explain what a meta-learned initialisation is and write the Reptile update",
#     "measure post-adaptation error after 1, 5 and 10 gradient steps on new sine tasks, for a meta-learned teacher and four students of one smaller size",
#     "distil the teacher into the student through its adapted predictions, and compare it with the same student meta-trained directly on the same budget",
# ]

# %% [markdown]
# Most of this course distils a model that solves *one* task. Here the teacher solves no task at all: it is an
# **initialisation**, a set of weights from which a few plain gradient steps on a handful of labelled points fit
# any new task of a family. Finn et al. (2017, MAML) and Nichol et al. (2018, Reptile) showed it on a toy family
# that we reuse: sine waves $y = A \sin(x - \varphi)$ with amplitude $A \in [0.1, 5]$, phase
# $\varphi \in [0, \pi]$ and inputs $x \in [-5, 5]$. A task gives you $K = 10$ points of one such curve; after
# $k$ SGD steps from the initialisation, how well does the network know the *whole* curve?
#
# **Reptile** (exercise H21 in `exercises/ch5_05_applications_exercises.ipynb` asks you to write its update) repeats
# three moves: take a copy of the initialisation $\theta$, adapt the copy with a few SGD steps on one sampled
# task's $K$ points (giving $\theta_\text{adapted}$), and move the original part of the way towards it:
#
# $$\theta \leftarrow \theta + \epsilon\,(\theta_\text{adapted} - \theta).$$
#
# (In H21 the step size $\epsilon$ is `outer_lr`, the inner SGD step size is `inner_lr`, and the adapted copy is
# made with `copy.deepcopy`.)
#
# Averaged over many tasks, $\theta$ settles where every task's solution is a few steps away. We treat
# $\theta - \theta_\text{adapted}$ as a gradient and hand it to Adam, which the Reptile paper allows and which
# converges in far fewer iterations than a fixed $\epsilon$ at our tiny budget.
#
# **The question of this notebook.** Can a meta-learned initialisation be *distilled*: can a smaller network be
# taught to adapt as fast, using the bigger one? And does the teacher add anything over meta-training the small
# network directly with the same budget?

# %%
# parameters
SEED = 0  # drives the 4 initialisation seeds of every network (range(4*SEED, 4*SEED + 4), disjoint across SEEDs),
# the tasks and shots each one is meta-trained on, and the held-out validation and test tasks

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib.claims import Claims
from course_lib.distill import meta
from course_lib.labs.ch4 import meta as lab
from course_lib.ui import quiz

claims = Claims("ch4_11_meta_learning")
print(f"initialisation seeds at SEED={SEED}: {list(range(SEED * lab.N_SEEDS, SEED * lab.N_SEEDS + lab.N_SEEDS))}")

# %% [markdown]
# ## 1. The Reptile step on numbers you can check
#
# One weight at $\theta = 0$; two tasks adapted it to 2 and to 4; with $\epsilon = 0.5$ the step moves it half way
# towards their mean, 3, so to 1.5. `meta.reptile_update` does this for every weight of a batch of networks at once.

# %%
theta = {"W": [torch.zeros(1, 1, 1)], "b": [torch.zeros(1, 1, 1)], "act": "tanh"}
adapted = {"W": [torch.tensor([2.0, 4.0]).reshape(1, 2, 1, 1)], "b": [torch.zeros(1, 2, 1, 1)], "act": "tanh"}
print("theta after one Reptile step:", float(meta.reptile_update(theta, adapted, 0.5)["W"][0]))

# %% [markdown]
# ## 2. Teacher, students, and what "the same budget" means
#
# All networks are perceptrons with tanh units, 1 input and 1 output.
#
# - **Teacher**: 40-40 hidden units (1,761 weights), meta-trained with Reptile for 1,000 meta-iterations of 10
#   tasks each, 5 inner SGD steps at step size 0.05 on each task's $K = 10$ points.
# - Four **students** of one smaller size, 16-16 (321 weights, a fifth of the teacher):
#   - **random**: a fresh initialisation (no training at all);
#   - **pretrained**: trained by plain regression on the same stream of tasks pooled together, the baseline of
#     Finn et al.; it learns the family's *average* curve, which for phases in $[0, \pi]$ is not zero;
#   - **Reptile (direct)**: meta-trained exactly like the teacher, with 500 meta-iterations;
#   - **distilled**: the same 500 meta-iterations, on the *same* tasks and the *same* $K$ labelled points, with the
#     same inner loop. What changes is the outer update. The student adapts on the $K$ shots, as it will at test
#     time; the teacher adapts on the same shots and labels 50 further random inputs of the task with its adapted
#     curve; the student's initialisation is then moved along the first-order MAML direction (Finn et al. 2017)
#     that brings its adapted curve closer to the teacher's on those 50 inputs, mixed with weight $w$ with its
#     own Reptile direction.
#
# **Same budget, precisely**: both students get 500 meta-iterations of 10 tasks, 5 inner steps, the same draws of
# tasks and shots and the same outer optimiser. The distilled student *additionally* consumes, per task, the
# teacher's 5 adaptation steps and its forward pass on 50 query points, and one more backward pass of its own:
# more compute per iteration, and no additional true labels. That is the point: with $K$-shot tasks, $K$ labels are
# all a learner ever gets; the teacher turns them into a dense curve.
#
# **Chosen on validation.** The weight $w$ of the teacher's direction is picked from {0.5, 1} by the mean error
# after 5 adaptation steps on 200 *validation* tasks per network, disjoint from the test tasks. Everything is
# reported on 200 *test* tasks per network. All trained networks are cached on disk by their full configuration
# and seed; a cold run meta-trains them in about half a minute.

# %%
t0 = time.perf_counter()
w_best, val = lab.choose_weight(SEED)
print("validation MSE after 1, 5, 10 steps (mean over the 4 seeds), by distillation weight:")
for w, e in val.items():
    print(f"  w = {w:g}: " + ", ".join(f"{v:.3f}" for v in e.mean(1)))
print(f"chosen on validation: w = {w_best:g}")
R = lab.study(SEED, part="test", progress=True)
print(f"meta-training or loading and evaluating all networks: {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# **Predict, then run.** 1. After 5 steps on a new task, how does the directly meta-trained 16-16 student compare
# with the random and the pretrained students of the same size? 2. Does distillation beat direct meta-training at
# the same budget, and at which numbers of steps? 3. Does the distilled student catch up with its teacher?
#
# <details><summary>Answer</summary>
#
# 1. Far better: after 5 steps its test error is less than half the random student's and below the pretrained
# student's at each of the 4 seeds (asserted below). 2. Yes after 5 steps, the number it was meta-trained for: at
# least 15% lower error than direct meta-training on average and lower at every seed (asserted). After 10 steps
# the gain is smaller than after 5 (asserted); whether it is still there depends on the SEED (printed below with
# the difference 4 seeds can detect), so we make no claim about it. 3. No: after 5 steps it still has more than
# twice the teacher's error (asserted); a fifth of the weights cannot follow every curve as closely.
#
# </details>

# %%
KS = np.array(lab.KS)
names = ["teacher", "random", "pretrained", "direct", "distilled"]
labels = {"teacher": "teacher 40-40 (Reptile)", "random": "student, random init", "pretrained":
          "student, pretrained on all tasks", "direct": "student, Reptile (direct)",
          "distilled": f"student, distilled (w = {w_best:g})"}
fig, ax = plt.subplots(figsize=(7.5, 4))
for n in names:
    col, ls = lab.STYLE[n]
    ax.errorbar(KS, R[n].mean(1), yerr=R[n].std(1), color=col, ls=ls, marker="o", ms=4, capsize=3, label=labels[n])
ax.set_yscale("log")
ax.set_xticks(KS)
ax.set(title=f"Error on new sine tasks after k SGD steps on 10 points (SEED={SEED}, 4 seeds)",
       xlabel="adaptation steps k", ylabel="test MSE on the whole curve (mean +/- std)")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8, loc="upper right")
plt.tight_layout()
plt.show()
for n in names:
    print(f"{labels[n]:36s}" + "  ".join(f"k={k}: {v:.3f}" for k, v in zip(KS, R[n].mean(1))))

# %%
k5, k10 = lab.KS.index(5), lab.KS.index(10)
T, RND, PRE, DIR, DIS = (R[n] for n in names)
claims.check("after 5 steps, the directly meta-trained student's test error is less than half the random "
             "student's on average, and below the pretrained student's at each of the 4 seeds",
             DIR[k5].mean() < 0.5 * RND[k5].mean() and bool((DIR[k5] < PRE[k5]).all()),
             direct=DIR[k5].mean(), random=RND[k5].mean(), pretrained=PRE[k5].mean())
gain5 = DIR[k5] - DIS[k5]
claims.check("after 5 steps, the distilled student's test error is at least 15% below the directly meta-trained "
             "student's on average, and below it at each of the 4 seeds",
             gain5.mean() > 0.15 * DIR[k5].mean() and bool((gain5 > 0).all()),
             distilled=DIS[k5].mean(), direct=DIR[k5].mean(), relative_gain=gain5.mean() / DIR[k5].mean(),
             smallest_gain=gain5.min())
claims.check("after 5 steps, the distilled student keeps more than twice the teacher's test error",
             DIS[k5].mean() > 2 * T[k5].mean(), distilled=DIS[k5].mean(), teacher=T[k5].mean())
gain10 = DIR[k10] - DIS[k10]
se10 = gain10.std(ddof=1) / np.sqrt(lab.N_SEEDS)
claims.check("after 10 steps, distillation's gain over direct meta-training is smaller than after 5 steps",
             gain10.mean() < gain5.mean(), gain_5=gain5.mean(), gain_10=gain10.mean())
print(f"gain after 10 steps: {gain10.mean():.3f} (SE {se10:.3f} over 4 seeds; a difference of about "
      f"{2.8 * se10:.3f}, i.e. 2.8 standard errors, is what 4 seeds would detect reliably)")

# %% [markdown]
# Meta-learning does what it promises: the directly meta-trained 16-16 student adapts to a new curve in a few steps,
# where the random student barely moves and the pretrained one only shifts its average curve. The teacher's
# dense labels make the small student's meta-training more effective at the number of steps it was trained for: it
# learns, from each task's 10 points, a whole curve's worth of signal. With more steps the advantage shrinks (the
# test-time adaptation itself starts fitting the 10 points, and both students end near the limit of what 16-16 tanh
# units fit in 10 steps), and the gap to the teacher stays large: capacity, not teaching, is then the limit.
#
# > **Beside the paper.** Finn et al. (2017, Figures 2 and 3) fit the same sine family with a 40-40 ReLU network
# > and $K$ = 5 or 10 points: the MAML initialisation matches the curve after one step and keeps improving with more
# > steps, while a network pretrained on all tasks (the average curve) hardly adapts. Nichol et al. (2018, Figure 1)
# > show the same picture for Reptile, with a 64-64 tanh network and tens of thousands of meta-iterations. Our
# > miniature reproduces the ordering (meta-learned far ahead of pretrained and random), at larger errors after
# > our 500 to 1,000 iterations. Neither paper distils; what this notebook adds is that a teacher's adapted curves
# > are a useful outer-loop target for a fifth-size student, measured at the same number of meta-iterations.
#
# ## 3. Try it: adapt all five on one task
#
# The dashboard shows one task (its amplitude and phase are sliders) and its 10 points. A new amplitude or
# phase re-adapts the five cached initialisations of the first seed live, 10 SGD steps each, keeping the curves and
# errors after every step; the steps slider then picks one of them. Nothing is meta-trained live.
# **What to try:** set $k$ = 0, then 1, 2, 5, 10; then change the amplitude at $k$ = 5. **What to look for:** at $k$ = 0 the meta-learned curves sit near zero or near an average
# shape; one or two steps bend them onto the task; the random student hardly moves.
#
# **Predict, then run.** On the default task (amplitude 3, phase 1), does the distilled student's error fall
# between 0 and 5 steps? How do the teacher and the distilled student compare with the random student after 5 steps?
#
# <details><summary>Answer</summary>
#
# It falls, by more than a quarter (asserted below with the lab's `run`, so your dashboard is not moved), and after 5
# steps both the teacher and the distilled student are below half of the random student's error (asserted). On a
# single task the size of the drop, and the ranking between teacher and student, vary with SEED (at some seeds the
# error halves, at others it falls by less); the averages over many tasks in section 2 are the reliable ones.
#
# </details>

# %%
dash = lab.dashboard(SEED)
dash

# %%
s = lab.setup(SEED)
r0, r5 = lab.run(s, steps=0), lab.run(s, steps=5)
m0, m5 = r0["mse"], r5["mse"]
claims.check("on the shown task at this SEED, 5 steps lower the distilled student's error by more than a quarter, "
             "and both the teacher and the distilled student end below half of the random student's error",
             m5["distilled"] < 0.75 * m0["distilled"] and max(m5["teacher"], m5["distilled"]) < m5["random"] / 2,
             distilled_0=m0["distilled"], distilled_5=m5["distilled"], teacher_5=m5["teacher"], random_5=m5["random"])
check = lab.dashboard(SEED, background=False)
for control, values in (("steps", range(1, 11)), ("amplitude", np.arange(0.5, 5.0, 0.45))):
    times = []
    for v in values:
        t0 = time.perf_counter()
        check.update(**{control: float(v) if control == "amplitude" else int(v)})
        times.append(time.perf_counter() - t0)
    print(f"slider '{control}': median {np.median(times):.3f} s, max {max(times):.3f} s over 10 moves")

# %% [markdown]
# ## Check yourself

# %%
quiz("In the Reptile update theta <- theta + eps (theta_adapted - theta), what is adapted, and what moves?", [
    ("A copy of theta is adapted by a few SGD steps on one task; theta itself moves a fraction eps towards it.", True,
     "Right: adapting theta in place would train the initialisation on one task, not make it quick to adapt."),
    ("theta is adapted in place and then moved back by eps.", False,
     "No: the inner steps work on a copy; the original only takes the outer step."),
    ("theta moves away from theta_adapted, so that it does not overfit the task.", False,
     "No: the step goes towards the adapted weights; averaged over tasks that lands near all their solutions."),
])

# %%
quiz("What did the distilled student get that the directly meta-trained one did not?", [
    ("The teacher's adapted curve on 50 extra inputs per task: dense targets built from the same 10 true points.",
     True, "Right: no extra true labels; the teacher, adapted on the same shots, supplies the rest of the curve."),
    ("More meta-iterations.", False, "No: both had 500 meta-iterations of 10 tasks and 5 inner steps."),
    ("The teacher's weights as its initialisation.", False,
     "No: the student is a fifth of the teacher's size; it starts from its own random initialisation."),
])

# %% [markdown]
# ## What we learned
# - A meta-learned initialisation adapts to a new sine task in a few SGD steps on 10 points; at the same small
#   size, a random or pretrained initialisation does not (after 5 steps the directly meta-trained student's error is
#   under half the random student's and below the pretrained one's at every seed).
# - A meta-learned teacher can be distilled into a fifth-size student through its *adapted* predictions: at the
#   same number of meta-iterations, tasks and shots, the distilled student's error after 5 steps is at least 15%
#   lower than direct meta-training's at every seed. It pays in teacher compute, not in labels.
# - The gain shrinks with more adaptation steps, and the student stays well behind its teacher: capacity limits how
#   closely a small network can follow a curve in a few steps.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 5/5

# %% [markdown]
# ## References
# - Finn, C., Abbeel, P. and Levine, S. (2017). Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks.
#   ICML 2017. arXiv:1703.03400.
# - Nichol, A., Achiam, J. and Schulman, J. (2018). On First-Order Meta-Learning Algorithms. arXiv:1803.02999.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the Knowledge in a Neural Network. arXiv:1503.02531.
# - Kingma, D. P. and Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR 2015.
#
# **Next:** [4.12 Medical diagnosis](ch4_12_medical_diagnosis.ipynb): sensitivity kept under a memory budget.
