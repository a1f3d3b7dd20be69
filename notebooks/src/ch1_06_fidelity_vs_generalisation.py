# %% [header]
# number = "1.6"
# title = "Fidelity against generalisation: imitating the teacher is not the goal"
# syllabus = ["D10"]
# study_minutes = 15
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "measure fidelity (agreement, KL to the teacher) on train and test against accuracy",
#     "see a more faithful student that is the worse one",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 3  # students per setting, from a block of seeds that depends on SEED
T = 4.0

# %%
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib.claims import Claims
from course_lib.labs.ch1 import fidelity as lab
from course_lib.ui import plots, quiz

claims = Claims("ch1_06_fidelity_vs_generalisation")
s = lab.setup(SEED)  # split, strong teacher and weak teacher, all drawn with SEED
ds = s.ds
seeds = list(range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS))

# %% [markdown]
# ## 1. Two measures that are easy to confuse
#
# *Fidelity* asks "does the student do what the teacher does?": the share of inputs on which both pick the same
# class (**agreement**) and the **KL divergence** from the teacher's distribution to the student's. *Generalisation*
# asks "is the student right on new data?": test accuracy against the true labels. When the teacher is nearly
# always right the two point the same way. When the teacher has systematic errors they pull apart: a perfect
# imitator copies the errors too.
#
# To make this visible we use two teachers with the same architecture: the course's **strong** teacher and a
# **weak** one trained on only 5 % of the labels (cached on disk after its first training). Students
# (64 -> 32 -> 10) are distilled at T = 4 on the full labelled training set, with alpha from 0 (labels only) to
# 1 (teacher only).

# %%
weak_acc = lab.fidelity_run(s, 1.0, teacher="weak", epochs=0)["teacher_accuracy"]
strong_acc = lab.fidelity_run(s, 1.0, teacher="strong", epochs=0)["teacher_accuracy"]
print(f"test accuracy: strong teacher {strong_acc:.1%}, weak teacher {weak_acc:.1%}")

alphas = [0.0, 0.5, 1.0]
runs = {(t, a): [lab.fidelity_run(s, a, T=T, teacher=t, seed=k) for k in seeds]
        for t in tqdm(["strong", "weak"], desc="teachers") for a in alphas}
mean = {k: {m: np.mean([r[m] for r in v]) for m in v[0]} for k, v in runs.items()}
std = {k: {m: np.std([r[m] for r in v]) for m in v[0]} for k, v in runs.items()}
print(f"{'teacher':8s}{'alpha':>6s}{'agree train':>13s}{'agree test':>12s}{'KL train':>10s}{'KL test':>9s}{'test acc':>10s}")
for (t, a), m in mean.items():
    print(f"{t:8s}{a:6.1f}{m['agree_train']:13.1%}{m['agree_test']:12.1%}{m['kl_train']:10.3f}{m['kl_test']:9.3f}"
          f"{m['accuracy']:9.1%} ± {std[t, a]['accuracy']:.1%}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for t, marker in (("strong", "o"), ("weak", "s")):
    xs = [mean[t, a]["agree_test"] * 100 for a in alphas]
    ys = [mean[t, a]["accuracy"] * 100 for a in alphas]
    axes[0].plot(xs, ys, marker=marker, label=f"{t} teacher")
    for a, x, y in zip(alphas, xs, ys):
        axes[0].annotate(f"α={a:g}", (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    axes[1].plot(alphas, [mean[t, a]["kl_train"] for a in alphas], marker=marker, label=f"{t}, train")
    axes[1].plot(alphas, [mean[t, a]["kl_test"] for a in alphas], marker=marker, ls="--", label=f"{t}, test")
axes[0].legend()
axes[1].legend()
axes[1].set_yscale("log")
plots.style(axes[0], "Fidelity against accuracy (test set)", "agreement with the teacher (%)", "test accuracy (%)")
plots.style(axes[1], "KL(teacher || student) at T=1", "alpha (weight of the teacher)", "KL divergence (nats per example)")
plt.show()

# %% [markdown]
# Claims, checked on the means over seeds:
#
# * **The more faithful student is not the better one.** With the weak teacher, the alpha = 1 student agrees with
#   the teacher more often and has a lower test KL than the alpha = 0 student, yet its test accuracy is lower.
# * With the strong teacher, the alpha = 1 student is far more accurate than the weak teacher's alpha = 1
#   student: fidelity is worth having only to a teacher worth copying.
# * Where imitation is hard, fidelity is higher on the data the student was trained on: for the weak teacher's
#   alpha = 1 student, the KL to the teacher is lower on the training split than on the test split. For the strong
#   teacher's alpha = 1 student both KLs are tiny (below 0.03 nats) and the gap between them is not consistent from
#   seed to seed, so we claim no gap there.

# %%
w1, w0 = mean["weak", 1.0], mean["weak", 0.0]
claims.check("with the weak teacher the alpha = 1 student agrees more and has a lower test KL than the alpha = 0 one",
             w1["agree_test"] > w0["agree_test"] and w1["kl_test"] < w0["kl_test"],
             agree_1=w1["agree_test"], agree_0=w0["agree_test"], kl_1=w1["kl_test"], kl_0=w0["kl_test"])
claims.check("...yet its test accuracy is lower", w1["accuracy"] < w0["accuracy"], acc_1=w1["accuracy"], acc_0=w0["accuracy"])
claims.check("the strong teacher's alpha = 1 student is more accurate than the weak teacher's",
             mean["strong", 1.0]["accuracy"] > w1["accuracy"], strong=mean["strong", 1.0]["accuracy"], weak=w1["accuracy"])
claims.check("for the weak teacher's alpha = 1 student the KL to the teacher is lower on the training split than on the test split",
             mean["weak", 1.0]["kl_train"] < mean["weak", 1.0]["kl_test"],
             kl_train=mean["weak", 1.0]["kl_train"], kl_test=mean["weak", 1.0]["kl_test"])
claims.check("for the strong teacher's alpha = 1 student both KLs are below 0.03 nats",
             max(mean["strong", 1.0]["kl_train"], mean["strong", 1.0]["kl_test"]) < 0.03,
             kl_train=mean["strong", 1.0]["kl_train"], kl_test=mean["strong", 1.0]["kl_test"])
print(f"weak teacher: alpha=1 agrees {w1['agree_test']:.1%} / acc {w1['accuracy']:.1%}; "
      f"alpha=0 agrees {w0['agree_test']:.1%} / acc {w0['accuracy']:.1%}")

# %% [markdown]
# The weak teacher's soft targets still carry some useful similarity structure, but also its mistakes. Labels
# (alpha < 1) pull the student back toward the truth and away from the teacher. Published studies found the
# same tension with strong teachers too: students often fail to match their teacher closely even when they could,
# and closer matching does not always give a better student. Our small case shows the mechanism in its simplest
# form. Two habits follow: always report test accuracy next to any fidelity number, and measure fidelity on held-out
# data, where it is lower.
#
# ## 2. Try it
#
# Choose a teacher, alpha and T; the dashboard trains one student (a shorter schedule than the sweep above) and
# shows its test agreement with the teacher next to its test accuracy and the teacher's. With the weak teacher,
# compare alpha = 1 with alpha = 0: which bar moves up, and which down?

# %%
dash = lab.dashboard(SEED)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("A student agrees with its teacher on 99% of test images. Is it a good student?", [
    ("Not necessarily: if the teacher is often wrong, the student copies its errors.", True,
     "Right: always report test accuracy next to any fidelity number."),
    ("Yes: agreement is accuracy.", False, "No: agreement is measured against the teacher, accuracy against the labels."),
])

# %%
quiz("Why is fidelity higher on the training split than on the test split?", [
    ("The student was fitted to the teacher's outputs on exactly those inputs.", True,
     "Right: like any fit, it matches best where it was trained."),
    ("The teacher is more accurate on training data, and agreement follows accuracy.", False,
     "Not the reason here: the KL to the teacher compares two models, not a model and the labels."),
])

# %% [markdown]
# ## What we learned
#
# * With a weak teacher, the alpha = 1 student was the most faithful (highest test agreement, lowest test KL) and
#   the least accurate; the alpha = 0 student was the least faithful and the most accurate (table above).
# * The alpha = 1 student of the strong teacher was more accurate than that of the weak teacher.
# * The weak teacher's alpha = 1 student matched its teacher more closely on the training split than on the test
#   split; the strong teacher's was within 0.03 nats on both.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 5/5

# %% [markdown]
# ## References
# - Stanton, S. et al. (2021). Does knowledge distillation really work? NeurIPS.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [1.7 Training schemes](ch1_07_training_schemes.ipynb): offline, online and self-distillation.
