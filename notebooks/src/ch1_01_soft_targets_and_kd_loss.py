# %% [header]
# number = "1.1"
# title = "Soft targets, temperature and the distillation loss"
# syllabus = ["D1", "D2", "F1"]
# study_minutes = 25
# prerequisites = ["00_start_here"]
# objectives = [
#     "compute a softmax at temperature T and its entropy",
#     "read the teacher's dark knowledge",
#     "write the KD loss (KL at T, the T² factor, the alpha mix) and measure why T² is needed",
#     "retrain a student live with T and alpha sliders against the same student from scratch",
# ]

# %%
# parameters
SEED = 0       # any seed: every claim below is averaged over N_SEEDS seeds starting here
N_SEEDS = 5

# %%
import numpy as np
import torch
import matplotlib.pyplot as plt

from course_lib import cache, data, losses, metrics, models, playground, train
from course_lib.ui import plots

torch.manual_seed(SEED)
seeds = list(range(SEED, SEED + N_SEEDS))
claims = {}  # claim -> bool, checked by asserts and summarised at the end
ds = data.load("digits")
print(ds)

# %% [markdown]
# ## 1. The teacher and its logits
#
# Our teacher is a two-hidden-layer perceptron (256 units each) trained on the 1,077 training images of
# scikit-learn's 8x8 digits. Training takes a few seconds the first time; after that it is loaded from a cache
# on disk, keyed by its configuration. For each image the teacher produces ten **logits** $z_i$, one per digit.
# A softmax at temperature $T$ turns them into probabilities:
#
# $$q_i(T) = \frac{e^{z_i/T}}{\sum_{k=0}^{9} e^{z_k/T}}.$$
#
# At $T = 1$ this is the ordinary softmax. Dividing the logits by a larger $T$ shrinks the gaps between them, so the
# distribution flattens; as $T \to \infty$ it tends to uniform.

# %%
teacher = cache.teacher("digits")
t_logits = train.predict(teacher, ds.X_test)
print(f"teacher test accuracy: {metrics.accuracy(t_logits, ds.y_test):.1%}")

# %% [markdown]
# A tiny worked example first. One of the seed texts illustrates temperature with four logits,
# cat 10.5, dog 2.1, car -5.3 and airplane -8.2, and suggests that at $T = 10$ the cat might keep about 0.75 of
# the mass, with 0.03 left for the car. The exact numbers are easy to compute, and they soften far more than that sketch
# suggests: the cat keeps only a little over half, and the car gets more than a tenth.

# %%
toy = torch.tensor([10.5, 2.1, -5.3, -8.2])
for T in (1, 10):
    print(f"T = {T:>2}:", np.round(losses.softmax_t(toy, T).numpy(), 3))
p10 = losses.softmax_t(toy, 10.0)
claims["toy logits at T=10: cat keeps 50-60% of the mass, not 75%"] = 0.5 < float(p10[0]) < 0.6
claims["toy logits at T=10: car gets over 10%, not 3%"] = float(p10[2]) > 0.1
assert claims["toy logits at T=10: cat keeps 50-60% of the mass, not 75%"], p10
assert claims["toy logits at T=10: car gets over 10%, not 3%"], p10
claims["toy logits at T=1: cat takes more than 99.9%"] = float(losses.softmax_t(toy, 1.0)[0]) > 0.999
assert claims["toy logits at T=1: cat takes more than 99.9%"]

# %% [markdown]
# So the qualitative story holds (the order cat > dog > car > airplane never changes, and the small
# probabilities grow), but the particular figures in the illustration are not what a softmax gives. Now the
# same on a real digit: the test image the teacher classifies correctly but with the least confidence.

# %%
s = playground.setup()
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
# vector, $\log 10 \approx 2.30$ for the uniform distribution over ten digits. Averaged over the test set, the
# teacher's entropy rises steadily with $T$ and creeps towards that ceiling.

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

claims["entropy rises with T"] = bool(np.all(np.diff(H) > 0))
claims["at T=100 the entropy is within 2% of log 10"] = H[-1] > 0.98 * np.log(10)
claims["at T=1 the teacher is nearly one-hot (entropy below 0.3 nats)"] = H[1] < 0.3
for c in ("entropy rises with T", "at T=100 the entropy is within 2% of log 10",
          "at T=1 the teacher is nearly one-hot (entropy below 0.3 nats)"):
    assert claims[c], (c, H)

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
# For every digit, its favourite wrong class takes at least twice that share.

# %%
claims["every digit's favourite wrong class gets at least twice the uniform 1/9 share"] = bool(np.all(np.nanmax(share, 1) >= 2 / 9))
assert claims["every digit's favourite wrong class gets at least twice the uniform 1/9 share"], np.nanmax(share, 1)

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
# In this course $\alpha$ weighs the *teacher* ($\alpha = 1$: teacher only, $\alpha = 0$: labels only). Some texts,
# one of our seed documents among them, write the same mix with the roles of $\alpha$ and $1 - \alpha$ swapped;
# only the convention differs. After training the student is used at $T = 1$ like any classifier.
#
# In PyTorch the KL term is `F.kl_div(log_softmax(s / T), log_softmax(t / T), reduction="batchmean", log_target=True)`:
# the first argument must be the student's *log*-probabilities, and `batchmean` divides by the batch size so
# the number is the true KL per example. `course_lib.losses.kd_kl` does exactly this.
#
# ### Why $T^2$?
# The gradient of the KL term with respect to a student logit is $\frac{1}{T}(q^s_i - q^t_i)$, and for large $T$
# both probabilities differ by an amount of order $1/T$, so the gradient shrinks like $1/T^2$. Without the factor,
# raising $T$ would silently turn the soft term down against the hard one. Let us measure it.

# %%
student0 = models.mlp(64, (16,), 10, seed=SEED)
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

claims["without T^2 the gradient falls as 1/T^2 (fitted slope in [-2.1, -1.9] for T >= 4)"] = -2.1 <= slope_without <= -1.9
claims["with T^2 the gradient is flat for T >= 4 (slope within +/-0.1)"] = abs(slope_with) <= 0.1
for c in list(claims)[-2:]:
    assert claims[c], (c, slope_without, slope_with)

# %% [markdown]
# ## 5. Distilled student against the same student from scratch
#
# Now the experiment that matters. The student is a perceptron with a single hidden layer of 16 units
# (1,210 parameters against the teacher's 83,722). It only gets **30% of the training labels** (323 images), a
# realistic situation where a big model was trained once on everything and a small one must be trained cheaply.
# We train it three ways, each over `N_SEEDS` seeds with identical initialisations: from scratch on the labels,
# distilled at $T = 1$, and distilled at $T = 4$ (both with $\alpha = 0.9$). Each run is 100 full-batch epochs,
# about a tenth of a second.

# %%
def run(T, alpha, seed):
    return playground.train_student(T, alpha, seed=seed)["student_acc"]

acc = {
    "scratch": np.array([playground.scratch_accuracy(sd) for sd in seeds]),
    "KD, T=1": np.array([run(1.0, 0.9, sd) for sd in seeds]),
    "KD, T=4": np.array([run(4.0, 0.9, sd) for sd in seeds]),
}
for k, v in acc.items():
    print(f"{k:>8}: {v.mean():.2%} +/- {v.std(ddof=1):.2%}   {np.round(v, 4)}")
fig, ax = plt.subplots(figsize=(6, 3.5))
plots.compare(ax, list(acc), [v.mean() for v in acc.values()], errors=[v.std(ddof=1) for v in acc.values()],
              title=f"16-unit student on 30% of the labels ({N_SEEDS} seeds)", ylabel="test accuracy (fraction)",
              ylim=(0.85, 1.0))
plt.show()

# %% [markdown]
# Distilling at $T = 4$ gains more than one percentage point over scratch on average, and it beats scratch in at least
# four of the five paired runs. At $T = 1$ the teacher's targets are nearly one-hot, so they carry little that
# the labels do not: most of the gain is gone.

# %%
gain4 = acc["KD, T=4"] - acc["scratch"]
claims["KD at T=4 beats scratch by more than 1 point on average"] = gain4.mean() > 0.01
claims["KD at T=4 beats scratch in at least 4 of 5 paired seeds"] = int((gain4 > 0).sum()) >= 4
claims["T=4 beats T=1 by more than half a point on average"] = (acc["KD, T=4"] - acc["KD, T=1"]).mean() > 0.005
for c in list(claims)[-3:]:
    assert claims[c], (c, acc)

# %% [markdown]
# ### Temperature and alpha, one at a time
# A coarse sweep (3 seeds each) shows where the gain comes from. With $\alpha = 0$ the loss *is* the hard
# cross-entropy, so the result must equal the scratch run exactly: a useful sanity check of the mix.

# %%
from tqdm.auto import tqdm

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

claims["alpha=0 reproduces the scratch student exactly"] = abs(by_alpha[0] - acc["scratch"][:3].mean()) < 1e-9
claims["every alpha > 0 at T=4 beats alpha = 0"] = all(b > by_alpha[0] for b in by_alpha[1:])
for c in list(claims)[-2:]:
    assert claims[c], (c, by_alpha)

# %% [markdown]
# ## 6. Your turn: the live sliders
#
# Run the cell below, then drag **temperature T** or **alpha** and release. Each release retrains the student
# from the same initialisation (about a tenth of a second) and redraws: on the left, the teacher's and the student's
# distributions at your $T$ for the uncertain test digit from section 1; on the right, the test accuracy of the
# scratch student, your distilled student and the teacher. Things to try:
# - $T = 1$ against $T = 8$ with $\alpha = 0.9$: how much of the gain is dark knowledge?
# - $\alpha = 1$ (teacher only, no labels at all): does the student still learn?
# - a very large $T$ such as 20: what does the left panel show, and does accuracy suffer?

# %%
dash = playground.dashboard(T=4.0, alpha=0.9, seed=SEED)
dash

# %% [markdown]
# The dashboard is a thin layer over `playground.train_student(T, alpha, seed)`, a plain function. Setting the
# sliders from code runs exactly what a release runs:

# %%
low, high = dash.update(T=1.0)["student_acc"], dash.update(T=8.0)["student_acc"]
print(f"student at T=1: {low:.1%}, at T=8: {high:.1%} (last update took {dash.last_seconds:.2f} s)")
claims["the slider retrains: T=1 and T=8 give different students"] = low != high
assert claims["the slider retrains: T=1 and T=8 give different students"]

# %% [markdown]
# ## What we measured
# Each line is a claim made above and whether the numbers just computed support it. The cell below is also
# the notebook's stored check: it must print the same thing on every run and every seed.

# %%
# NBVAL_CHECK_OUTPUT
assert all(claims.values()), [c for c, ok in claims.items() if not ok]
print(f"claims checked: {sum(claims.values())}/{len(claims)}")
# %% [output]
# claims checked: 15/15

# %%
for c, ok in claims.items():
    print(("OK  " if ok else "FAIL"), c)
print()
print("mean test accuracy over", N_SEEDS, "seeds:", {k: round(float(v.mean()), 4) for k, v in acc.items()})
print(f"gradient slope without T^2: {slope_without:.3f}; with T^2: {slope_with:.3f}")
