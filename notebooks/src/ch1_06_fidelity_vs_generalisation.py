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
N_SEEDS = 3
T = 4.0

# %%
import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib import experiments_d as E
from course_lib.ui import plots, widgets

ds, strong = E.setup()
seeds = list(range(SEED, SEED + N_SEEDS))

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
weak_acc = E.fidelity_run(1.0, teacher="weak", seed=SEED)["teacher_accuracy"]
strong_acc = E.fidelity_run(1.0, teacher="strong", seed=SEED)["teacher_accuracy"]
print(f"test accuracy: strong teacher {strong_acc:.1%}, weak teacher {weak_acc:.1%}")

alphas = [0.0, 0.5, 1.0]
runs = {(t, a): [E.fidelity_run(a, T=T, teacher=t, seed=s) for s in seeds]
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
# * Fidelity is higher on the data the student was trained on: for the alpha = 1 students, the KL to the teacher
#   is lower on the training set than on the test set.

# %%
w1, w0 = mean["weak", 1.0], mean["weak", 0.0]
assert w1["agree_test"] > w0["agree_test"] and w1["kl_test"] < w0["kl_test"]
assert w1["accuracy"] < w0["accuracy"]
assert mean["strong", 1.0]["accuracy"] > w1["accuracy"]
for t in ("strong", "weak"):
    assert mean[t, 1.0]["kl_train"] < mean[t, 1.0]["kl_test"]
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
# Choose a teacher, alpha and T; the dashboard trains one student and places it in the fidelity-accuracy plane,
# on top of the mean curves above.

# %%
def render(r, fig):
    ax = fig.subplots()
    for t in ("strong", "weak"):
        ax.plot([mean[t, a]["agree_test"] * 100 for a in alphas], [mean[t, a]["accuracy"] * 100 for a in alphas],
                marker="o", alpha=0.4, label=f"{t} teacher (mean)")
    ax.plot([r["agree_test"] * 100], [r["accuracy"] * 100], "r*", markersize=14, label="this student")
    ax.legend(fontsize=8)
    plots.style(ax, "Where this student lands", "test agreement with the teacher (%)", "test accuracy (%)")


teacher_choice = W.Dropdown(options=["weak", "strong"], value="weak", description="teacher")
dash = widgets.Dashboard(lambda teacher, alpha, T: E.fidelity_run(alpha, T=T, teacher=teacher, seed=SEED),
                         {"teacher": teacher_choice, "alpha": widgets.slider(1.0, 0.0, 1.0, 0.1, description="alpha"),
                          "T": widgets.slider(T, 1.0, 10.0, 0.5, description="temperature T")},
                         render=render, title="Fidelity against accuracy",
                         summary=lambda r: (f"agreement train {r['agree_train']:.1%} / test {r['agree_test']:.1%}; "
                                            f"KL test {r['kl_test']:.3f}; test accuracy {r['accuracy']:.1%}"))
dash

# %%
faithful = dash.update(teacher="weak", alpha=1.0, T=T)
accurate = dash.update(alpha=0.0)
assert faithful["agree_test"] > accurate["agree_test"] and faithful["accuracy"] < accurate["accuracy"]
print(f"seed {SEED}: faithful {faithful['agree_test']:.1%} agreement / {faithful['accuracy']:.1%} accuracy; "
      f"label-trained {accurate['agree_test']:.1%} / {accurate['accuracy']:.1%}")

# %% [markdown]
# ## What we measured
#
# * With a weak teacher, the alpha = 1 student was the most faithful (highest test agreement, lowest test KL) and
#   the least accurate; the alpha = 0 student was the least faithful and the most accurate (table above).
# * The alpha = 1 student of the strong teacher was more accurate than that of the weak teacher.
# * KL to the teacher was lower on the training set than on the test set for the alpha = 1 students.
