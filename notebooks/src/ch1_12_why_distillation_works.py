# %% [header]
# number = "1.12"
# title = "Why does distillation work? Gradient noise, flat minima and label smoothing"
# syllabus = ["D13"]
# study_minutes = 30
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_10_batch_size_and_temperature"]
# objectives = [
#     "measure the noise-to-signal ratio of per-example gradients under hard labels and under the distillation loss, at initialisation and along training",
#     "measure how sharp a minimum is with filter-normalised random directions and the top Hessian eigenvalue, and say whether the distilled student sits in a flatter one",
#     "compare distillation with label smoothing of the same target entropy, and show why a teacher trained with label smoothing can be more accurate yet a worse teacher",
# ]

# %% [markdown]
# Chapter 1 showed that a distilled student beats the same student trained on labels. This notebook asks
# *why*, and tests three explanations that are often given, each with a measurement:
#
# 1. **Less gradient noise.** Hinton et al. (2015) argue that soft targets carry more information per training
#    case, so the gradient varies much less from one case to the next.
# 2. **Flatter minima.** A popular story: distillation steers the student into a wide, flat valley of the loss,
#    and flat minima generalise.
# 3. **It is only label smoothing.** Yuan et al. (2020) argue that much of what distillation does is the
#    regularisation that label smoothing also gives; Müller, Kornblith and Hinton (2019) found the twist that a
#    teacher *trained* with label smoothing can be more accurate and still teach worse.
#
# Everything uses the digits, a 32-unit student on 30% of the training labels, and the cached 256-256 teacher.
# `SEED` draws the data split, the teacher, the labelled subset and the students; each `SEED` runs `N_RUNS`
# independent repetitions (a different split and teacher each time), from a block of seeds no other `SEED` uses.

# %%
# parameters
SEED = 0     # SEED = k uses the runs k*N_RUNS ... k*N_RUNS + N_RUNS - 1 (split, teacher, subset, students)
N_RUNS = 3

# %%
import numpy as np
import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt
from tqdm.auto import tqdm

from course_lib import cache, data, losses, models, train
from course_lib.claims import Claims
from course_lib.distill import gradvar, sharpness, smoothing
from course_lib.labs.ch1 import flatness
from course_lib.ui import plots, quiz

claims = Claims("ch1_12_why_distillation_works")
runs = list(range(SEED * N_RUNS, SEED * N_RUNS + N_RUNS))
T, ALPHA, HIDDEN, EPOCHS, LR = 4.0, 0.9, 32, 100, 3e-2


def prepare(r):
    ds = data.load("digits", split_seed=r)
    teacher = cache.teacher("digits", seed=r, split_seed=r)
    X, y = data.labelled_subset(ds.X_train, ds.y_train, 0.3, seed=r)
    return ds, teacher, X, y, train.predict(teacher, X)


setups = {r: prepare(r) for r in tqdm(runs, desc="teachers (cached after the first run)")}
print(f"{len(runs)} runs; each student sees {len(setups[runs[0]][2])} labelled images")

# %% [markdown]
# ## 1. Gradient noise: do soft targets make the gradient less noisy?
#
# For every training image $i$ compute its own gradient $g_i$ of the loss with respect to all of the student's
# parameters (with `torch.func`, as in notebook 1.10). A full-batch step follows the mean $\bar g$; how noisy the
# individual cases are is the total variance $\operatorname{tr}\,\mathrm{Cov}(g) = \frac1N\sum_i \|g_i-\bar g\|^2$.
# Comparing that raw number between two losses would be unfair: the distillation loss carries a factor $T^2$, and
# any rescaling of a loss rescales its variance. So we compare the **noise-to-signal ratio**
# $\operatorname{tr}\,\mathrm{Cov}(g)/\|\bar g\|^2$, which no rescaling changes.
#
# Each student is measured on its own training path: the scratch student (hard-label cross-entropy) after 0, 10
# and 30 full-batch epochs of its own training, and the distilled one ($T = 4$, soft term only, $\alpha = 1$)
# after the same numbers of epochs of its own.
#
# **Predict, then run.** 1. At initialisation, before either has learned anything, which loss has the noisier
# gradient? 2. After 10 and 30 epochs?
#
# <details><summary>Answer</summary>
#
# 1. Neither, really: at initialisation the two ratios are within a factor of 2 of each other on every run
#    (checked below). 2. Along training the hard-label ratio climbs far faster: after 10 and 30 epochs it is at
#    least twice the distillation ratio on every run. As the student fits its labels, the mean gradient of the
#    cross-entropy shrinks while individual cases still pull in different directions; the teacher's soft targets
#    keep telling every case something.
#
# </details>

# %%
EPOCH_POINTS = (0, 10, 30)
ce_one = lambda z, t: F.cross_entropy(z, t)                                # noqa: E731
kd_one = lambda z, t: losses.kd_kl(z, t, T=T)                              # noqa: E731
nsr = {"hard labels": np.zeros((len(runs), len(EPOCH_POINTS))), "distillation": np.zeros((len(runs), len(EPOCH_POINTS)))}
for i, r in enumerate(tqdm(runs, desc="per-example gradients")):
    ds, teacher, X, y, t_logits = setups[r]
    for j, ep in enumerate(EPOCH_POINTS):
        a = models.mlp(ds.n_features, (HIDDEN,), ds.n_classes, seed=100 + r)
        b = models.mlp(ds.n_features, (HIDDEN,), ds.n_classes, seed=100 + r)
        if ep:
            train.train_scratch(a, X, y, epochs=ep, lr=LR, seed=r)
            train.train_distilled(b, X, y, t_logits, T=T, alpha=1.0, epochs=ep, lr=LR, seed=r)
        nsr["hard labels"][i, j] = gradvar.noise_to_signal(gradvar.per_example_loss_grads(a, ce_one, X, y))
        nsr["distillation"][i, j] = gradvar.noise_to_signal(gradvar.per_example_loss_grads(b, kd_one, X, t_logits))

fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, colour in (("hard labels", "tab:gray"), ("distillation", "tab:blue")):
    for i in range(len(runs)):
        ax.plot(EPOCH_POINTS, nsr[name][i], marker="o", color=colour, alpha=0.8,
                label=f"{name} (T = {T:g})" if name == "distillation" and i == 0 else (name if i == 0 else None))
plots.log_axis(ax)
ax.legend()
plots.style(ax, "Noise-to-signal ratio of per-example gradients", "epochs of full-batch training",
            "tr Cov(g) / |mean g|^2 (log scale)")
plt.show()
ratio = nsr["hard labels"] / nsr["distillation"]
print("hard-label ratio / distillation ratio, rows = runs, columns = epochs", EPOCH_POINTS)
print(np.round(ratio, 2))

claims.check("at initialisation the two noise-to-signal ratios are within a factor of 2 on every run",
             bool(np.all((ratio[:, 0] > 0.5) & (ratio[:, 0] < 2))), ratio_at_init=ratio[:, 0])
claims.check("after 10 and after 30 epochs the hard-label ratio is at least twice the distillation ratio on every run",
             bool(np.all(ratio[:, 1:] >= 2)), ratio_10=ratio[:, 1], ratio_30=ratio[:, 2])

# %% [markdown]
# So Hinton et al.'s argument shows up, with a twist the sentence alone does not give: it is not true at the
# start, when the student's outputs are nearly uniform and both losses mostly say "move towards the right
# answer"; it becomes true, and strongly, as soon as training has made progress. Why does it matter? With
# mini-batches, a lower noise-to-signal ratio means each step points closer to the full-batch direction; notebook
# 1.10 measured how the variance falls with the batch size.
#
# ## 2. Flat minima: does the distilled student sit in a wider valley?
#
# To compare the shape of two minima we perturb the weights and watch the loss. A random direction must be scaled
# to the network it is applied to, or a network with larger weights looks flatter for free: following Li et al.
# (2018), each neuron's slice of the Gaussian direction is rescaled to the norm of that neuron's weights (biases are
# left alone). Two measures, on every run:
#
# - the **top eigenvalue of the Hessian** of the training cross-entropy, by power iteration on Hessian-vector
#   products (double back-propagation; the Hessian itself is never formed);
# - the **test accuracy lost** when the weights move a distance $r = 0.6$ along four random directions.
#
# **Predict, then run.** Is the distilled student (the more accurate one) in the flatter minimum?
#
# <details><summary>Answer</summary>
#
# Not here. On average over the runs the distilled student has the *larger* top eigenvalue (at least 1.5 times
# the scratch student's) and loses at least 2 points more test accuracy at $r = 0.6$, while it is at least 1 point
# more accurate. The scratch student has driven its training loss almost to zero with very confident outputs,
# and a saturated softmax has almost no curvature: by these measures confidence looks like flatness.
#
# </details>

# %%
flat = {k: [] for k in ("acc_scratch", "acc_kd", "eig_scratch", "eig_kd", "drop_scratch", "drop_kd")}
for r in tqdm(runs, desc="students, Hessians, perturbations"):
    ds, teacher, X, y, t_logits = setups[r]
    students = {}
    for kind in ("scratch", "kd"):
        m = models.mlp(ds.n_features, (HIDDEN,), ds.n_classes, seed=1000 + r)
        if kind == "scratch":
            train.train_scratch(m, X, y, epochs=EPOCHS, lr=LR, seed=r)
        else:
            train.train_distilled(m, X, y, t_logits, T=T, alpha=ALPHA, epochs=EPOCHS, lr=LR, seed=r)
        dirs = [sharpness.random_direction(m, seed=r * 100 + j) for j in range(4)]
        flat[f"acc_{kind}"].append(train.evaluate(m, ds.X_test, ds.y_test))
        flat[f"eig_{kind}"].append(sharpness.top_hessian_eigenvalue(m, lambda mm: F.cross_entropy(mm(X), y),
                                                                    seed=r)["eigenvalue"])
        flat[f"drop_{kind}"].append(sharpness.accuracy_drop(m, dirs, 0.6, ds.X_test, ds.y_test))
flat = {k: np.array(v) for k, v in flat.items()}
for k, v in flat.items():
    print(f"{k:>13}: {np.round(v, 3)}")

gain = flat["acc_kd"] - flat["acc_scratch"]
claims.check("the distilled student is more accurate than the scratch one by at least 1 point on average",
             gain.mean() >= 0.01, gain=gain)
claims.check("its top Hessian eigenvalue is at least 1.5 times the scratch student's, on average",
             flat["eig_kd"].mean() >= 1.5 * flat["eig_scratch"].mean(), eig_kd=flat["eig_kd"],
             eig_scratch=flat["eig_scratch"])
claims.check("at radius 0.6 it loses at least 2 points more test accuracy than the scratch student, on average",
             (flat["drop_kd"] - flat["drop_scratch"]).mean() >= 0.02, drop_kd=flat["drop_kd"],
             drop_scratch=flat["drop_scratch"])

# %% [markdown]
# By both measures the distilled student sits in the *sharper* minimum and still generalises better. Flatness is
# therefore not what explains its advantage in this miniature. That does not refute the flat-minima story in
# general; it shows that "flat" depends on what you measure: a weight perturbation that leaves a very confident
# network's arg-max untouched says more about its confidence than about the geometry of the loss (Dinh et al. 2017
# showed that sharpness can even be changed at will by reparameterising a network without changing its function).
#
# ### Live: the loss slice and the radius
# The dashboard draws the training loss of both students along one filter-normalised direction, and the test
# accuracy each loses (mean over four directions) at the radius you choose. Things to try: $r = 0.1$, where
# nothing moves visibly; $r = 0.5$; $r = 1$, where both break. Which curve rises first?
#
# **Predict, then run.** At $r = 1$, does the scratch student keep more of its accuracy?
#
# <details><summary>Answer</summary>
#
# On the runs checked above, yes on average: the claims say the distilled student loses at least 2 points more at
# $r = 0.6$, and the gap grows with $r$ on the slider. A single direction can disagree; that is why the bars
# average four.
#
# </details>

# %%
dash = flatness.dashboard(SEED)
dash

# %% [markdown]
# ## 3. Is it just label smoothing?
#
# Label smoothing replaces the one-hot target by $(1-\varepsilon)\,\text{one-hot} + \varepsilon/K$: every wrong
# class gets the same small share. A teacher's soft targets also spread mass over the wrong classes, but
# unevenly, according to which digits look alike. Two experiments separate the two.
#
# **(a) The same entropy.** For each run we pick the $\varepsilon$ whose smoothed targets have exactly the mean
# entropy of the teacher's soft targets at $T = 4$, and train the student with it; against the distilled student.
#
# **(b) A smoothed teacher.** We train a second teacher with label smoothing ($\varepsilon = 0.2$), same
# architecture, same data, and distil the same student from it.
#
# **Predict, then run.** 1. Does entropy-matched label smoothing do as well as distillation? 2. Is the smoothed
# teacher more or less accurate than the plain one? 3. Which of the two teaches the better student?
#
# <details><summary>Answer</summary>
#
# 1. No: distillation is ahead of entropy-matched smoothing on average (asserted; by one to three points at most
#    SEEDs, less than half a point at one of the eleven we tried; three runs each). The amount of softness is not
#    the point; where the mass goes is. 2. The smoothed teacher is at least as accurate as the plain one.
# 3. The plain one: the student of the smoothed teacher is worse on average. Its soft targets have lost almost all
#    of the similarity structure: the spread of its wrong-class probabilities is less than a tenth of the plain
#    teacher's on every run (all checked below).
#
# </details>

# %%
LS_TEACHER = 0.2
ls = {k: [] for k in ("eps", "acc_kd", "acc_ls", "acc_teacher", "acc_teacher_ls", "acc_kd_from_ls",
                       "spread", "spread_ls")}
sim = {}
for r in tqdm(runs, desc="label smoothing"):
    ds, teacher, X, y, t_logits = setups[r]
    teacher_ls = cache.trained_mlp("digits", (256, 256), seed=r, split_seed=r, label_smoothing=LS_TEACHER,
                                   name="teacher-ls")
    q = losses.softmax_t(t_logits, T)
    eps = smoothing.smoothing_for_entropy(float(-(q * q.log()).sum(-1).mean()), ds.n_classes)

    def student(kind):
        m = models.mlp(ds.n_features, (HIDDEN,), ds.n_classes, seed=2000 + r)
        if kind == "kd":
            train.train_distilled(m, X, y, t_logits, T=T, alpha=ALPHA, epochs=EPOCHS, lr=LR, seed=r)
        elif kind == "kd_from_ls":
            train.train_distilled(m, X, y, train.predict(teacher_ls, X), T=T, alpha=ALPHA, epochs=EPOCHS, lr=LR,
                                  seed=r)
        else:
            def objective(mm, idx):
                return {"loss": F.cross_entropy(mm(X[idx]), y[idx], label_smoothing=eps)}
            train.fit(m, objective, len(X), epochs=EPOCHS, lr=LR, seed=r)
        return train.evaluate(m, ds.X_test, ds.y_test)

    ls["eps"].append(eps)
    for kind in ("kd", "ls", "kd_from_ls"):
        ls[f"acc_{kind}"].append(student(kind))
    ls["acc_teacher"].append(train.evaluate(teacher, ds.X_test, ds.y_test))
    ls["acc_teacher_ls"].append(train.evaluate(teacher_ls, ds.X_test, ds.y_test))
    for key, t in (("spread", teacher), ("spread_ls", teacher_ls)):
        M = smoothing.class_similarity(losses.softmax_t(train.predict(t, ds.X_train), T), ds.y_train)
        ls[key].append(smoothing.wrong_class_spread(M))
        sim.setdefault(key, M)
ls = {k: np.array(v) for k, v in ls.items()}
for k, v in ls.items():
    print(f"{k:>15}: {np.round(v, 4)}")

# %% [markdown]
# The two teachers' class-similarity matrices at $T = 4$ for the first run (each row: the mean soft target of one
# true digit; the diagonal is hidden so the wrong classes are visible):

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
fig.suptitle(f"Wrong-class shares at T = {T:g} (each row sums to 1 without the diagonal)")
for ax, key, title in zip(axes, ("spread", "spread_ls"), ("plain teacher", f"teacher smoothed with eps = {LS_TEACHER}")):
    M = sim[key].copy()
    np.fill_diagonal(M, np.nan)
    im = ax.imshow(M / np.nansum(M, 1, keepdims=True), cmap="viridis", vmin=0, vmax=0.5)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    plots.style(ax, title, "wrong class (digit)", "true class (digit)")
    ax.grid(False)
fig.colorbar(im, ax=axes, label="share of the wrong-class probability", shrink=0.9)
plt.show()

# %%
claims.check("distillation is ahead of label smoothing of the same target entropy on average",
             (ls["acc_kd"] - ls["acc_ls"]).mean() > 0, acc_kd=ls["acc_kd"], acc_ls=ls["acc_ls"], eps=ls["eps"])
claims.check("the teacher trained with label smoothing is at least as accurate as the plain teacher on average",
             (ls["acc_teacher_ls"] - ls["acc_teacher"]).mean() >= 0, plain=ls["acc_teacher"],
             smoothed=ls["acc_teacher_ls"])
claims.check("its wrong-class spread at T = 4 is less than a tenth of the plain teacher's on every run",
             bool(np.all(ls["spread_ls"] < 0.1 * ls["spread"])), plain=ls["spread"], smoothed=ls["spread_ls"])
claims.check("the student of the smoothed teacher is less accurate than the student of the plain teacher on average",
             (ls["acc_kd"] - ls["acc_kd_from_ls"]).mean() > 0, from_plain=ls["acc_kd"], from_smoothed=ls["acc_kd_from_ls"])

# %% [markdown]
# > **Beside the paper.** Müller, Kornblith and Hinton (2019) trained ResNet teachers on CIFAR-10 and ImageNet with
# > and without label smoothing; the smoothed teachers were at least as accurate, yet their students were worse
# > at every temperature they tried, and they traced it to the same loss of similarity information we measured
# > as a collapsed wrong-class spread. Yuan et al. (2020) reported the converse experiment: a "teacher-free"
# > regulariser that mimics a teacher's soft targets can match distillation on CIFAR. Our miniature agrees with
# > the first finding on average over runs; single runs are noisy (on some runs the smoothed teacher's student is
# > as good or slightly better: count them in the table above), which is why the claim is about the mean. On the second, plain label
# > smoothing with the teacher's entropy falls short of distillation: what the teacher adds is *which* wrong
# > classes get the mass.
#
# ## Check yourself

# %%
quiz("Why compare noise-to-signal ratios rather than the raw variance of the per-example gradients?", [
    ("Because the distillation loss is multiplied by T^2, and any rescaling of a loss rescales its variance.", True,
     "Right: tr Cov(g) / |mean g|^2 is unchanged when the loss is multiplied by a constant, so the T^2 factor drops out."),
    ("Because the raw variance cannot be computed for the cross-entropy.", False,
     "It can (we computed per-example gradients for both); it just is not comparable between differently scaled losses."),
    ("Because the ratio is always smaller.", False, "Smaller than what? The ratio has no units; that is what makes it fair."),
])

# %%
quiz("The distilled student here sits in a sharper minimum yet tests better. What does that tell you?", [
    ("Flatness, as measured here, does not explain distillation's gain in this setting.", True,
     "Right: the measurement contradicts the story here, so something else (the information in the soft targets) must carry the gain."),
    ("Sharp minima always generalise better.", False,
     "One miniature cannot show 'always', and many networks show the opposite; we only learn that flatness is not the explanation here."),
    ("The Hessian computation must be wrong, since distilled students are known to be flatter.", False,
     "The power iteration converges and agrees with the perturbation measure; 'known' results are claims to test, not to assume."),
])

# %%
quiz("A teacher trained with label smoothing is more accurate but teaches worse. Why?", [
    ("Its wrong-class probabilities are almost all equal, so its soft targets carry little about which digits look alike.", True,
     "Right: the spread of its wrong-class shares collapsed to under a tenth of the plain teacher's."),
    ("It is less accurate, so its labels are wrong more often.", False, "It is at least as accurate on average here."),
    ("Label smoothing makes the teacher's logits larger, so the student cannot match them.", False,
     "Smoothing bounds the gap between the right logit and the others; it makes them smaller, not larger."),
])

# %% [markdown]
# ## What we learned
# - Soft targets do make per-example gradients less noisy relative to their mean, as Hinton et al. argued, but
#   not at initialisation: the gap opens as training proceeds (at least 2x after 10 and 30 epochs on every run).
# - In this miniature the distilled student is in the sharper minimum by two measures, yet more accurate:
#   flatness does not explain its advantage here, and a very confident scratch network looks flat for the wrong
#   reason.
# - Softness alone is not the mechanism: label smoothing with the same entropy does worse than distillation, and a
#   teacher trained with label smoothing loses its similarity structure and teaches a worse student on average.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 9/9

# %% [markdown]
# ## References
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Li, H., Xu, Z., Taylor, G., Studer, C. and Goldstein, T. (2018). Visualizing the loss landscape of neural nets. NeurIPS.
# - Keskar, N. S. et al. (2017). On large-batch training for deep learning: generalization gap and sharp minima. ICLR.
# - Dinh, L., Pascanu, R., Bengio, S. and Bengio, Y. (2017). Sharp minima can generalize for deep nets. ICML.
# - Szegedy, C. et al. (2016). Rethinking the Inception architecture for computer vision (label smoothing). CVPR.
# - Müller, R., Kornblith, S. and Hinton, G. (2019). When does label smoothing help? NeurIPS.
# - Yuan, L., Tay, F. E. H., Li, G., Wang, T. and Feng, J. (2020). Revisiting knowledge distillation via label
#   smoothing regularization. CVPR.
# - Stanton, S. et al. (2021). Does knowledge distillation really work? NeurIPS.
#
# **Next:** chapter 2 compresses the student itself: [2.1 Magnitude pruning](ch2_01_magnitude_pruning.ipynb).
