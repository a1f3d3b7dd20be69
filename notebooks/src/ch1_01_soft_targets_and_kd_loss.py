# %% [header]
# number = "1.1"
# title = "Soft targets, temperature and the distillation loss"
# syllabus = ["D1", "D2", "F1"]
# study_minutes = 30
# prerequisites = ["00_start_here"]
# objectives = [
#     "compute a softmax at temperature T and its entropy",
#     "read the teacher's dark knowledge",
#     "write the KD loss (KL at T, the T² factor, the alpha mix) and measure why T² is needed",
#     "retrain a student live with T and alpha sliders against the same student from scratch",
# ]

# %%
# parameters
SEED = 0       # draws the split, the teacher, the labelled subset and the students
N_SEEDS = 5  # students per setting, from a block of seeds that depends on SEED

# %%
import numpy as np
import torch
import matplotlib.pyplot as plt
from tqdm.auto import tqdm

from course_lib import losses, metrics, models, train
from course_lib.claims import Claims
from course_lib.labs.ch1 import temperature as lab
from course_lib.ui import plots, quiz

claims = Claims("ch1_01_soft_targets_and_kd_loss")
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))
s = lab.setup(SEED)   # split, teacher and the student's labelled subset, all drawn with SEED
ds, teacher = s.ds, s.teacher
print(ds)

# %% [markdown]
# ## 1. The teacher and its logits
#
# Our teacher is a two-hidden-layer perceptron (256 units each) trained on the training split of scikit-learn's 8x8
# digits. Training takes a few seconds the first time; after that it is loaded from a cache on disk, keyed by its
# configuration. For each image the teacher produces ten **logits** $z_i$, one per digit. A softmax at temperature
# $T$ turns them into probabilities:
#
# $$q_i(T) = \frac{e^{z_i/T}}{\sum_{k=0}^{9} e^{z_k/T}}.$$
#
# At $T = 1$ this is the ordinary softmax. Dividing the logits by a larger $T$ shrinks the gaps between them, so the
# distribution flattens; as $T \to \infty$ it tends to uniform.

# %%
t_logits = s.teacher_test_logits
n_teacher = models.count_params(teacher)
print(f"teacher: {n_teacher:,} parameters, trained on {len(ds.y_train):,} images; "
      f"test accuracy {metrics.accuracy(t_logits, ds.y_test):.1%}")
claims.check("the teacher scores above 95% on the test split", metrics.accuracy(t_logits, ds.y_test) > 0.95,
             accuracy=metrics.accuracy(t_logits, ds.y_test))

# %% [markdown]
# A tiny worked example first, with four logits: cat 10.5, dog 2.1, car -5.3 and airplane -8.2. A common
# illustration of temperature suggests that at $T = 10$ the cat might keep about 0.75 of the mass, with 0.03 left
# for the car.
#
# **Predict, then run.** Is the true softmax at $T = 10$ softer or sharper than that sketch?
#
# <details><summary>Answer</summary>
#
# Softer: the cat keeps only between 50% and 60% and the car gets more than 10% (both checked below).
#
# </details>

# %%
toy = torch.tensor([10.5, 2.1, -5.3, -8.2])
for T in (1, 10):
    print(f"T = {T:>2}:", np.round(losses.softmax_t(toy, T).numpy(), 3))
p10 = losses.softmax_t(toy, 10.0)
claims.check("toy logits at T=10: the cat keeps 50-60% of the mass, not 75%", 0.5 < float(p10[0]) < 0.6, cat=p10[0])
claims.check("toy logits at T=10: the car gets over 10%, not 3%", float(p10[2]) > 0.1, car=p10[2])
claims.check("toy logits at T=1: the cat takes more than 99.9%", float(losses.softmax_t(toy, 1.0)[0]) > 0.999,
             cat=losses.softmax_t(toy, 1.0)[0])

# %% [markdown]
# So the qualitative story holds (the order cat > dog > car > airplane never changes, and the small
# probabilities grow), but the particular figures in the illustration are not what a softmax gives. Now the
# same on a real digit: the test image the teacher classifies correctly but with the least confidence.

# %%
x_idx = s.example
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, T in zip(axes, (1, 4, 10)):
    plots.probabilities(ax, losses.softmax_t(t_logits[x_idx], T), ds.class_names,
                        title=f"Teacher on a test '{int(ds.y_test[x_idx])}', T = {T}",
                        highlight=int(ds.y_test[x_idx]))
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Entropy against temperature
#
# The entropy $H = -\sum_i q_i \log q_i$ (in nats) measures how spread out a distribution is: 0 for a one-hot
# vector, $\log 10 \approx 2.30$ for the uniform distribution over ten digits.
#
# **Predict, then run.** Averaged over the test set, is the teacher's entropy at $T = 1$ closer to 0 or to 2.3? Does
# it ever decrease as $T$ grows?
#
# <details><summary>Answer</summary>
#
# Close to 0: below 0.3 nats at $T = 1$ (the teacher is nearly one-hot). It rises at every step of the sweep and
# comes within 2% of $\log 10$ at $T = 100$ (all three are checked below).
#
# </details>

# %%
Ts = np.array([0.5, 1, 2, 3, 4, 6, 8, 12, 20, 50, 100])
H = np.array([float(metrics.entropy(losses.softmax_t(t_logits, T)).mean()) for T in Ts])
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(Ts, H, marker="o", label="teacher, mean over test set")
ax.axhline(np.log(10), ls="--", color="gray", label="uniform: log 10")
ax.set_xscale("log")
ax.legend()
plots.style(ax, "Entropy of the teacher's soft targets", "temperature T (log scale)", "entropy (nats)")
plt.show()

claims.check("the teacher's mean entropy rises with T at every step", bool(np.all(np.diff(H) > 0)), H=H)
claims.check("at T=100 the entropy is within 2% of log 10", H[-1] > 0.98 * np.log(10), H_100=H[-1])
claims.check("at T=1 the teacher is nearly one-hot (entropy below 0.3 nats)", H[1] < 0.3, H_1=H[1])

# %% [markdown]
# ## 3. Dark knowledge: which wrong digits look alike
#
# Take every training image of one digit and average the teacher's probabilities at $T = 4$ over them.
# The right digit takes most of the mass; what is left is spread over the nine wrong digits, and **not evenly**.
# That uneven remainder is the *dark knowledge*: it says which digits the teacher finds similar. A one-hot label
# cannot carry it. Below, each row is a true digit; the diagonal is hidden so the wrong classes are visible.

# %%
T_dark = 4.0
t_train_logits = train.predict(teacher, ds.X_train)
p_train = losses.softmax_t(t_train_logits, T_dark)
M = torch.stack([p_train[ds.y_train == c].mean(0) for c in range(10)]).numpy()
wrong = M.copy()
np.fill_diagonal(wrong, np.nan)
share = wrong / np.nansum(wrong, axis=1, keepdims=True)  # each row: how the wrong-class mass is split
fig, ax = plt.subplots(figsize=(5.5, 4.5))
im = ax.imshow(share, cmap="viridis")
fig.colorbar(im, ax=ax, label="share of the wrong-class probability")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
plots.style(ax, f"Dark knowledge at T = {T_dark:g}", "wrong class (digit)", "true class (digit)")
ax.grid(False)
plt.show()
top = np.nanargmax(share, axis=1)
for c in range(10):
    print(f"digit {c}: favourite wrong digit {top[c]} takes {np.nanmax(share[c]):.0%} of the wrong-class mass")

# %% [markdown]
# If the teacher had no opinion about wrong classes, each would take 1/9, about 11%, of what is left.
# For every digit its favourite wrong class takes at least 1.4 times that share, and averaged over the ten digits
# the favourite takes more than twice it. Which pairs stand out depends a little on the teacher (change `SEED`),
# but the unevenness does not.

# %%
fav = np.nanmax(share, 1)
claims.check("every digit's favourite wrong class gets at least 1.4 times the uniform 1/9 share",
             bool(np.all(fav >= 1.4 / 9)), smallest_favourite_share=fav.min())
claims.check("averaged over the digits, the favourite wrong class gets more than twice the uniform share",
             fav.mean() > 2 / 9, mean_favourite_share=fav.mean())

# %% [markdown]
# ## 4. The distillation loss
#
# The student produces logits $s$, the teacher logits $t$. Soften both at the same $T$ and measure how far the
# student's distribution is from the teacher's with the Kullback-Leibler divergence, **teacher first**:
#
# $$L_{soft} = T^2 \, \mathrm{KL}\big(q^{t}(T) \,\|\, q^{s}(T)\big) = T^2 \sum_i q^t_i(T) \log\frac{q^t_i(T)}{q^s_i(T)}.$$
#
# The full objective mixes it with ordinary cross-entropy on the hard labels, computed at $T = 1$:
#
# $$L = \alpha \, L_{soft} + (1 - \alpha)\, L_{CE}(y, s).$$
#
# In this course $\alpha$ weighs the *teacher* ($\alpha = 1$: teacher only, $\alpha = 0$: labels only). Some texts
# write the same mix with the roles of $\alpha$ and $1 - \alpha$ swapped;
# only the convention differs. After training the student is used at $T = 1$ like any classifier.
#
# In PyTorch the KL term is `F.kl_div(log_softmax(s / T), log_softmax(t / T), reduction="batchmean", log_target=True)`:
# the first argument must be the student's *log*-probabilities, and `batchmean` divides by the batch size so
# the number is the true KL per example. `course_lib.losses.kd_kl` does exactly this.
#
# ### Why $T^2$?
# The gradient of the KL term with respect to a student logit is $\frac{1}{T}(q^s_i - q^t_i)$, and for large $T$
# both probabilities differ by an amount of order $1/T$, so the gradient shrinks like $1/T^2$. Without the factor,
# raising $T$ would silently turn the soft term down against the hard one.
#
# **Predict, then run.** On a log-log plot of the gradient norm against $T$, what slope do you expect without the
# factor, and with it?
#
# <details><summary>Answer</summary>
#
# About $-2$ without it (checked: between $-2.1$ and $-1.9$ for $T \ge 4$) and about 0 with it (within $\pm 0.1$).
#
# </details>

# %%
student0 = lab.student(s, seeds[0])
with torch.no_grad():
    s_logits = student0(ds.X_train)
grad_T = np.array([1, 2, 4, 8, 16, 32, 64], dtype=float)
norms = {True: [], False: []}
for scale in (True, False):
    for T in grad_T:
        z = s_logits.clone().requires_grad_(True)
        losses.kd_kl(z, t_train_logits, T=float(T), scale_t2=scale).backward()
        norms[scale].append(float(z.grad.norm()))
norms = {k: np.array(v) for k, v in norms.items()}
big = grad_T >= 4
slope_without = np.polyfit(np.log(grad_T[big]), np.log(norms[False][big]), 1)[0]
slope_with = np.polyfit(np.log(grad_T[big]), np.log(norms[True][big]), 1)[0]

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(grad_T, norms[False], marker="o", label=f"KL alone (slope {slope_without:.2f})")
ax.loglog(grad_T, norms[True], marker="s", label=f"T^2 x KL (slope {slope_with:.2f})")
ax.legend()
plots.style(ax, "Gradient of the soft loss w.r.t. the student's logits", "temperature T", "gradient norm (a.u.)")
plt.show()

claims.check("without T^2 the gradient falls as 1/T^2 (fitted slope in [-2.1, -1.9] for T >= 4)",
             -2.1 <= slope_without <= -1.9, slope=slope_without)
claims.check("with T^2 the gradient is flat for T >= 4 (slope within +/-0.1)", abs(slope_with) <= 0.1, slope=slope_with)

# %% [markdown]
# ## 5. Distilled student against the same student from scratch
#
# Now the experiment that matters. The student is a perceptron with a single hidden layer of 16 units. It only gets
# **30% of the training labels**, a realistic situation where a big model was trained once on everything and a small
# one must be trained cheaply. We train it three ways, each over `N_SEEDS` student seeds with identical
# initialisations across the three: from scratch on the labels, distilled at $T = 1$, and distilled at $T = 4$ (both
# with $\alpha = 0.9$). Each run is 60 full-batch epochs, a few hundredths of a second.

# %%
n_student = models.count_params(lab.student(s, 0))
print(f"student: {n_student:,} parameters, {n_teacher / n_student:.0f} times fewer than the teacher's {n_teacher:,}; "
      f"labelled budget: {len(s.y)} of {len(ds.y_train)} training images")

# %% [markdown]
# **Predict, then run.** 1. Does distillation at $T = 4$ beat scratch, and by how much? 2. What is left of the gain
# at $T = 1$?
#
# <details><summary>Answer</summary>
#
# At $T = 4$ the distilled student beats scratch by more than one point on average and on at least four of the
# five paired seeds. At $T = 1$ the teacher's targets are nearly one-hot and carry little the labels do not: the
# gain left is less than half of the gain at $T = 4$ (all checked below).
#
# </details>

# %%
def run(T, alpha, seed):
    return lab.run(s, T, alpha, seed=seed)["student_acc"]

acc = {
    "scratch": np.array([lab.scratch_accuracy(s, sd) for sd in seeds]),
    "KD, T=1": np.array([run(1.0, 0.9, sd) for sd in seeds]),
    "KD, T=4": np.array([run(4.0, 0.9, sd) for sd in seeds]),
}
for k, v in acc.items():
    print(f"{k:>8}: {v.mean():.2%} +/- {v.std(ddof=1):.2%}   {np.round(v, 4)}")
fig, ax = plt.subplots(figsize=(6, 3.5))
plots.compare(ax, list(acc), [v.mean() for v in acc.values()], errors=[v.std(ddof=1) for v in acc.values()],
              title=f"16-unit student on 30% of the labels ({N_SEEDS} seeds)", ylabel="test accuracy (fraction)",
              ylim=(0.8, 1.0))
plt.show()

# %%
gain4 = acc["KD, T=4"] - acc["scratch"]
gain1 = acc["KD, T=1"] - acc["scratch"]
claims.check("KD at T=4 beats scratch by more than 1 point on average", gain4.mean() > 0.01, gain=gain4.mean())
claims.check("KD at T=4 beats scratch in at least 4 of 5 paired seeds", int((gain4 > 0).sum()) >= 4,
             seeds_better=int((gain4 > 0).sum()))
claims.check("at T=1 most of the gain is gone: the gain left is less than half the gain at T=4",
             gain1.mean() < 0.5 * gain4.mean(), gain_T1=gain1.mean(), gain_T4=gain4.mean())

# %% [markdown]
# > **Beside the paper.** Hinton et al. (2015, section 3) trained a large MNIST net (two hidden layers of 1,200
# > units, heavily regularised) to 67 test errors; a smaller net (two layers of 800 units) trained on the labels
# > alone made 146 errors, and the same small net trained to match the large one's soft targets at $T = 20$ made
# > 74. Our miniature measured the same direction on 8x8 digits with a student about seventy times smaller than its
# > teacher and only 30% of the labels: the gain at $T = 4$ is printed above. What does not carry over: their student
# > saw every label, they used a much higher temperature, and their errors are counted on 10,000 test images
# > against our 360, where one image is more than a quarter of a point.
#
# ### Temperature and alpha, one at a time
# A coarse sweep (3 seeds each) shows where the gain comes from. With $\alpha = 0$ the loss *is* the hard
# cross-entropy, so the $\alpha = 0$ student is the scratch student (the lab's tests check this identity; here we
# only plot it).
#
# **Predict, then run.** Does any $\alpha > 0$ at $T = 4$ do worse than labels alone?
#
# <details><summary>Answer</summary>
#
# No: every $\alpha$ in the sweep beats $\alpha = 0$ on the mean of three seeds, even $\alpha = 1$, which uses no
# label at all (checked below).
#
# </details>

# %%
sweep_T = [1, 2, 4, 8, 16]
sweep_alpha = [0.0, 0.25, 0.5, 0.9, 1.0]
few = seeds[:3]
by_T = [np.mean([run(T, 0.9, sd) for sd in few]) for T in tqdm(sweep_T, desc="T sweep")]
by_alpha = [np.mean([run(4.0, a, sd) for sd in few]) for a in tqdm(sweep_alpha, desc="alpha sweep")]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
plots.curves(a1, sweep_T, {"KD, alpha = 0.9": by_T}, title="Accuracy against temperature",
             xlabel="temperature T (log scale)", ylabel="test accuracy (fraction)", logx=True)
a1.axhline(acc["scratch"][:3].mean(), ls="--", color="gray", label="scratch")
a1.legend()
plots.curves(a2, sweep_alpha, {"KD, T = 4": by_alpha}, title="Accuracy against alpha",
             xlabel="alpha (weight of the teacher)", ylabel="test accuracy (fraction)")
plt.tight_layout()
plt.show()

claims.check("every alpha > 0 at T=4 beats alpha = 0 (mean of 3 seeds)", all(b > by_alpha[0] for b in by_alpha[1:]),
             by_alpha=by_alpha)

# %% [markdown]
# ## 6. Your turn: the live sliders
#
# **Predict, then run.** Set $\alpha = 1$ (teacher only, no labels at all). Will the student still learn, and will it
# beat scratch?
#
# <details><summary>Answer</summary>
#
# Yes: in the sweep above $\alpha = 1$ beat $\alpha = 0$ on the mean of three seeds. The soft targets alone carry the
# labels (the teacher is right on almost every image) and the dark knowledge on top.
#
# </details>
#
# Run the cell below, then drag **temperature T** or **alpha** and release. Each release retrains the student
# from the same initialisation (a fraction of a second) and redraws: on the left, the teacher's and the student's
# distributions at your $T$ for the uncertain test digit from section 1; on the right, the test accuracy of the
# scratch student, your distilled student and the teacher. Things to try:
# - $T = 1$ against $T = 8$ with $\alpha = 0.9$: how much of the gain is dark knowledge?
# - $\alpha = 1$: does the student still learn?
# - a very large $T$ such as 20: what does the left panel show, and does accuracy suffer?

# %%
dash = lab.dashboard(SEED, T=4.0, alpha=0.9)
dash

# %% [markdown]
# The dashboard is a thin layer over `lab.run(s, T, alpha)`, a plain function. The check below calls that function
# directly (it does not move your sliders): moving T from 1 to 8 must change the trained student, which we compare
# on its test logits rather than on its accuracy (two different students can share an accuracy).

# %%
low, high = lab.run(s, 1.0, 0.9), lab.run(s, 8.0, 0.9)
change = float((low["logits"] - high["logits"]).abs().max())
print(f"student at T=1: {low['student_acc']:.1%}, at T=8: {high['student_acc']:.1%}; "
      f"largest change in a test logit: {change:.2f}")
claims.check("the slider retrains: T=1 and T=8 give students whose test logits differ by more than 0.1", change > 0.1,
             max_logit_change=change)
claims.check("the dashboard still shows the values it was built with (T=4, alpha=0.9)",
             dash.values == {"T": 4.0, "alpha": 0.9} and dash.result["T"] == 4.0, values=dash.values)

# %% [markdown]
# ## Check yourself

# %%
quiz("Why is the soft term multiplied by T^2?", [
    ("To make the soft targets sharper.", False, "No: T^2 does not change the targets, only the size of the loss."),
    ("Because its gradient shrinks like 1/T^2, so without the factor raising T would turn the soft term down.", True,
     "Right: section 4 measured a slope of about -2 without the factor and about 0 with it."),
    ("Because KL divergence is only defined for T >= 1.", False, "No: KL is defined for any two distributions."),
])

# %%
quiz("At T = 1 the distilled student gained much less than at T = 4. Why?", [
    ("At T = 1 the teacher's targets are nearly one-hot, so they add little beyond the labels.", True,
     "Right: the teacher's mean entropy at T = 1 was below 0.3 nats; the dark knowledge only shows at higher T."),
    ("At T = 1 the KD loss is zero.", False, "No: it is the KL between two ordinary softmaxes, not zero."),
    ("The student is evaluated at T = 4.", False, "No: every student is used at T = 1 after training."),
])

# %% [markdown]
# ## What we learned
# - Temperature flattens a softmax; the teacher's mean entropy rises with $T$ from below 0.3 nats at $T = 1$ to
#   within 2% of $\log 10$ at $T = 100$.
# - The remainder of the teacher's probability is uneven: each digit's favourite wrong class takes at least 1.4
#   times the uniform share, and more than twice it on average. That is the dark knowledge.
# - Without $T^2$ the soft gradient falls like $1/T^2$; with it the gradient is flat.
# - On 30% of the labels, distillation at $T = 4$ beat scratch by more than a point on average and on at least 4 of
#   5 seeds; at $T = 1$ less than half of that gain was left.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 17/17

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Kullback, S. and Leibler, R. A. (1951). On information and sufficiency. Annals of Mathematical Statistics 22(1).
#
# **Next:** [1.2 When soft targets pay off](ch1_02_when_soft_targets_pay_off.ipynb): few labels, and a digit the
# student never sees.
