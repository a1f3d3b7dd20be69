# %% [header]
# number = "1.3"
# title = "Dark knowledge lives in the rank order of the wrong classes"
# syllabus = ["D4"]
# study_minutes = 15
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_02_when_soft_targets_pay_off"]
# objectives = [
#     "scramble the teacher's wrong-class probabilities with top-1 kept, and measure what that costs a small and a larger student",
# ]

# %%
# parameters
SEED = 0
N_SEEDS = 8
T = 10.0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import experiments_d as E
from course_lib import losses, train
from course_lib.ui import plots, widgets

ds, teacher = E.setup()
seeds = list(range(SEED, SEED + N_SEEDS))

# %% [markdown]
# ## 1. A target with the same answer and the same confidence, but no similarity structure
#
# If soft targets help only because they are *soft* (less confident than one-hot), then any soft target with
# the same top-1 probability should help as much. If they help because of *which* wrong classes look
# plausible, shuffling the wrong classes should hurt. `permute_non_top` keeps the winning logit where it is and
# moves every other logit to a random other wrong class, separately for each image. Softmax treats classes
# symmetrically, so at every temperature the probabilities are shuffled the same way.

# %%
tl = train.predict(teacher, ds.X_train[:1])
pl = E.permute_non_top(tl, seed=SEED)
p, q = losses.softmax_t(tl, T)[0], losses.softmax_t(pl, T)[0]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
plots.probabilities(axes[0], p, ds.class_names, title=f"teacher at T={T:g} (label {int(ds.y_train[0])})",
                    highlight=int(p.argmax()), ylim=(0, float(p.max()) * 1.1))
plots.probabilities(axes[1], q, ds.class_names, title="top-1 kept, the rest permuted", highlight=int(q.argmax()),
                    ylim=(0, float(p.max()) * 1.1))
plt.show()
assert torch.isclose(p.max(), q.max()) and torch.allclose(p.sort().values, q.sort().values, atol=1e-6)

# %% [markdown]
# ## 2. Two students, true against scrambled dark knowledge
#
# Both students learn from the teacher only (alpha = 1), at T = 10 where the wrong-class probabilities are large
# enough to matter, on a 20 % subset of the training images. One student is heavily compressed (a hidden layer
# of 6 units, about 460 parameters, about 185 times fewer than the teacher), the other has 48 hidden units. A
# hard-label student of each size is trained as a reference.

# %%
sizes = {"6 hidden units": (6,), "48 hidden units": (48,)}
acc = {name: {kind: [] for kind in ("true", "permuted")} for name in sizes}
for name, h in tqdm(sizes.items(), desc="student sizes"):
    for s in seeds:
        acc[name]["true"].append(E.rank_order_run(h, permute=False, seed=s, T=T)["accuracy"])
        acc[name]["permuted"].append(E.rank_order_run(h, permute=True, seed=s, T=T)["accuracy"])
drop = {name: np.array(a["true"]) - np.array(a["permuted"]) for name, a in acc.items()}
rel = {name: drop[name] / np.array(acc[name]["true"]) for name in sizes}
for name in sizes:
    t, pm = np.array(acc[name]["true"]), np.array(acc[name]["permuted"])
    print(f"{name}: true {t.mean():.1%} ± {t.std():.1%}, permuted {pm.mean():.1%} ± {pm.std():.1%}, "
          f"drop {drop[name].mean():+.1%} ± {drop[name].std():.1%} ({rel[name].mean():.0%} of its accuracy)")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
w = 0.35
for i, kind in enumerate(("true", "permuted")):
    means = [np.mean(acc[n][kind]) * 100 for n in sizes]
    errs = [np.std(acc[n][kind]) * 100 for n in sizes]
    ax.bar(np.arange(len(sizes)) + (i - 0.5) * w, means, w, yerr=errs, capsize=4, label=f"{kind} dark knowledge")
ax.set_xticks(range(len(sizes)), list(sizes))
ax.legend(loc="lower right")
plots.style(ax, f"Scrambling the wrong classes (T={T:g}, mean ± std over {N_SEEDS} seeds)", "student",
            "test accuracy (%)")
plt.show()

# %% [markdown]
# Claims, checked below on the means over seeds:
#
# * for both students, the scrambled targets give a lower test accuracy than the true ones;
# * the heavily compressed student loses more accuracy, in points and as a share of what it had.

# %%
small, large = "6 hidden units", "48 hidden units"
assert drop[small].mean() > 0 and drop[large].mean() > 0, {k: v.mean() for k, v in drop.items()}
assert drop[small].mean() > drop[large].mean() and rel[small].mean() > rel[large].mean()
print(f"drop: {drop[small].mean():+.1%} (small) against {drop[large].mean():+.1%} (large)")

# %% [markdown]
# Why the small student suffers more: the roomy student can still fit the top-1 answers well and learns some
# of the structure of the digits from the inputs themselves; the scrambled probabilities are noise it partly
# absorbs. The 6-unit student has room for only a few directions in its hidden layer. True dark knowledge tells
# it which directions matter (the ones separating 3 from 5 and 8, say); scrambled targets ask it to spend those
# few units on similarities that do not exist. The spread over seeds is large for the tiny student, which is
# why we use eight seeds. Notice too that the scrambled targets can leave a student *below* a plain hard-label
# student: a wrong hint is worse than none.
#
# ## 3. Try it
#
# Pick a temperature and a student width; the dashboard trains the student on true and on scrambled targets
# (the same seed) and shows both accuracies. At low T the wrong classes carry almost no probability, so
# scrambling them changes little; at high T it matters.

# %%
def compare(T, width, seed=SEED):
    true = E.rank_order_run((int(width),), permute=False, seed=seed, T=T)["accuracy"]
    perm = E.rank_order_run((int(width),), permute=True, seed=seed, T=T)["accuracy"]
    return {"T": T, "width": int(width), "true": true, "permuted": perm}


def render(res, fig):
    plots.compare(fig.subplots(), ["true", "permuted"], [res["true"], res["permuted"]],
                  title=f"T={res['T']:g}, {res['width']} hidden units", ylabel="test accuracy", ylim=(0, 1.05))


dash = widgets.Dashboard(compare, {"T": widgets.slider(T, 1.0, 20.0, 1.0, description="temperature T"),
                                   "width": widgets.slider(6, 2, 64, 2, description="hidden units", integer=True)},
                         render=render, summary=lambda r: f"drop from scrambling: {r['true'] - r['permuted']:+.1%}",
                         title="True against scrambled dark knowledge")
dash

# %%
res = dash.update(T=T, width=6)
assert res["true"] == E.rank_order_run((6,), permute=False, seed=SEED, T=T)["accuracy"]
print(res)

# %% [markdown]
# ## What we measured
#
# * Keeping the teacher's top-1 class and probability but scrambling the other nine lowered the test accuracy of
#   both students (mean drops printed above, with their spread over the seeds).
# * The 6-unit student lost more than the 48-unit one, both in points and relative to its own accuracy.
