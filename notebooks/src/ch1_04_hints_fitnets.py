# %% [header]
# number = "1.4"
# title = "Hints from a middle layer (FitNets): when they help and when they hurt"
# syllabus = ["D5"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_02_when_soft_targets_pay_off"]
# objectives = [
#     "read intermediate layers with forward hooks",
#     "distil a hint through a learned regressor",
#     "find with a slider where a noisy or misaligned hint stops helping and starts hurting",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 4
BETA = 3.0  # weight of the hint term

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import experiments_d as E
from course_lib import features
from course_lib.ui import plots, widgets

ds, teacher = E.setup()
seeds = list(range(SEED, SEED + N_SEEDS))

# %% [markdown]
# ## 1. Reading a hidden layer with a hook
#
# The teacher is an MLP 64 -> 256 -> 256 -> 10 whose layers have names. `features.capture` registers a forward
# hook on the named layers for the duration of a `with` block; every forward pass then drops their outputs into
# a dictionary. Nothing about the model changes, and the hooks are gone when the block ends. For the student, the
# captured tensor keeps its autograd graph, so a loss on it trains the layers below it.

# %%
print(features.layer_names(teacher))
with features.capture(teacher, ["act1", "act2"], detach=True) as store:
    logits = teacher(ds.X_train[:5])
print({k: tuple(v.shape) for k, v in store.items()}, "hooks left:", len(teacher.act2._forward_hooks))
assert store["act2"].shape == (5, 256) and len(teacher.act2._forward_hooks) == 0

# %% [markdown]
# ## 2. The hint and its regressor
#
# The student is a thin MLP 64 -> 32 -> 16 -> 10. Its second hidden layer (16 units) is the **guided** layer; the
# teacher's second hidden layer (256 units) is the **hint**. The widths differ, so a small linear regressor
# (16 -> 256), trained together with the student and discarded afterwards, maps one to the other. The loss is
#
# $$ \mathcal{L} = \text{CE}(\text{student}(x_{\text{labelled}}), y) + \beta\,\lVert r(h_s(x)) - h_t(x) \rVert^2 , $$
#
# with cross-entropy on a 10 % labelled subset and the hint on all 1,077 training inputs (labels are not needed
# for the hint; each step uses a fresh random batch of 256 of them, which keeps a retraining fast enough for a
# slider). With $\beta = 0$ it is plain supervised training on the subset: our baseline.
#
# To corrupt the hint we have two knobs:
#
# * **noise**: fixed Gaussian noise added once to every hint, in units of each feature's own spread;
# * **misaligned**: a fraction of the training inputs receive the hint computed for a *different* input.

# %%
base = np.array([E.hint_run(beta=0.0, seed=s)["accuracy"] for s in seeds])
clean = np.array([E.hint_run(beta=BETA, seed=s)["accuracy"] for s in seeds])
print(f"no hint {base.mean():.1%} ± {base.std():.1%};  clean hint {clean.mean():.1%} ± {clean.std():.1%}")

# %%
mis_levels = [0.0, 0.25, 0.5, 0.75, 1.0]
noise_levels = [0.0, 1.0, 3.0, 10.0]
# level 0 of either knob is the clean hint we already trained
mis = np.array([clean] + [[E.hint_run(beta=BETA, misaligned=m, seed=s)["accuracy"] for s in seeds]
                          for m in tqdm(mis_levels[1:], desc="misalignment")])
noi = np.array([clean] + [[E.hint_run(beta=BETA, noise=n, seed=s)["accuracy"] for s in seeds]
                          for n in tqdm(noise_levels[1:], desc="noise")])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, x, acc, name, unit in ((axes[0], mis_levels, mis, "misaligned fraction", "fraction of rows"),
                               (axes[1], noise_levels, noi, "hint noise", "noise std / feature std")):
    plots.curves(ax, x, {"with hint": acc.mean(1) * 100}, spread={"with hint": acc.std(1) * 100},
                 title=f"{name} (beta={BETA:g}, {N_SEEDS} seeds)", xlabel=f"{name} ({unit})", ylabel="test accuracy (%)")
    ax.axhline(base.mean() * 100, color="gray", ls="--", label="no hint")
    ax.legend()
plt.show()

# %% [markdown]
# Claims, checked on the means over seeds:
#
# * a clean hint beats no hint;
# * a fully misaligned hint is worse than no hint at all: the student spends its few units on features that
#   belong to other images;
# * somewhere along the misalignment axis the benefit turns into a cost (we report the first level below the
#   baseline);
# * strong noise (10 times the features' spread) also removes the benefit, while mild noise keeps most of it:
#   the regressor averages independent noise away, but not a wrong target that looks like a real feature.

# %%
assert clean.mean() > base.mean()
assert mis[-1].mean() < base.mean()
crossing = next(m for m, a in zip(mis_levels, mis) if a.mean() < base.mean())
assert 0 < crossing <= 0.75
assert noi[1].mean() > base.mean() and noi[-1].mean() < base.mean()
print(f"hint gain {clean.mean() - base.mean():+.1%}; first misalignment level below baseline: {crossing:g}; "
      f"noise 10: {noi[-1].mean() - base.mean():+.1%}")

# %% [markdown]
# This is the picture an analytical model of intermediate supervision predicts: the hint helps when the
# teacher's layer is aligned with the task and clean, and the same term becomes harmful once it is mostly
# wrong. Two practical lessons follow. Guide a layer whose counterpart in the teacher is task-related (here the
# last hidden layer), and keep $\beta$ modest: the larger it is, the
# harder a bad hint pulls the student away from the labels.
#
# ## 3. Try it
#
# Move the noise, the misalignment and $\beta$; each release retrains the student with its hint and compares it
# with the no-hint baseline of the same seed.

# %%
baseline = E.hint_run(beta=0.0, seed=SEED)["accuracy"]


def hint_demo(noise, misaligned, beta):
    res = E.hint_run(noise=noise, misaligned=misaligned, beta=beta, seed=SEED)
    return {**res, "baseline": baseline, "noise": noise, "misaligned": misaligned}


def render(res, fig):
    plots.compare(fig.subplots(), ["no hint", "with hint"], [res["baseline"], res["accuracy"]],
                  title=f"noise {res['noise']:g}, misaligned {res['misaligned']:.0%}", ylabel="test accuracy",
                  ylim=(0.5, 1.0))


dash = widgets.Dashboard(hint_demo, {"noise": widgets.slider(0.0, 0.0, 10.0, 0.5, description="hint noise"),
                                     "misaligned": widgets.slider(0.0, 0.0, 1.0, 0.05, description="misaligned"),
                                     "beta": widgets.slider(BETA, 0.0, 10.0, 0.5, description="hint weight beta")},
                         render=render, summary=lambda r: f"hint changes accuracy by {r['accuracy'] - r['baseline']:+.1%}",
                         title="Hint quality")
dash

# %%
good = dash.update(noise=0.0, misaligned=0.0, beta=BETA)["accuracy"]
bad = dash.update(misaligned=1.0)["accuracy"]
assert good > bad
print(f"seed {SEED}: clean hint {good:.1%}, fully misaligned {bad:.1%}, no hint {baseline:.1%}")

# %% [markdown]
# ## What we measured
#
# * A clean hint from the teacher's last hidden layer raised the student's test accuracy over the no-hint
#   baseline (both printed above with their spread over seeds).
# * A fully misaligned hint fell below the baseline; the first misalignment level below it is printed above.
# * Noise of 10 times the features' spread also fell below the baseline, while noise of 1 kept a gain.
