# %% [header]
# number = "4.8"
# title = "Policy distillation: the temperature trades entropy for return"
# syllabus = ["A8"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "distil a CartPole controller into a small perceptron with the temperature-tau KL loss of policy distillation",
#     "measure a stochastic policy's return and entropy over episodes and seeds",
#     "explain why a high distillation temperature raises entropy and ruins the return",
#     "compare the distilled student with the same student cloned from hard actions",
# ]

# %% [markdown]
# **You will learn to**
# - turn an expert's action preferences into soft targets and distil them into a smaller policy (Rusu et al. 2016);
# - measure what a policy *does*, not only what it predicts: its return over episodes of gymnasium's CartPole-v1,
#   with actions sampled from its softmax, and its entropy over the states it visits;
# - see the distillation temperature act as an exploration dial: soft targets make a random-looking policy, sharp
#   targets a decisive one.
#
# Chapter 1 softened a classifier's outputs to pass on its dark knowledge. A policy is a classifier over actions,
# so the same loss applies. The difference: the student's output is *acted on*, so a softer output is not free.
# Every sampled wrong push moves the pole.

# %%
# parameters
# SEED=k uses seeds 3k..3k+2; each drives the expert's data-collection episodes, the students' initialisation and
# the evaluation episodes. The expert itself is a fixed hand-written controller.
SEED = 0

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib.claims import Claims
from course_lib.distill import policy as P
from course_lib.labs.ch4 import policy as lab
from course_lib.ui import quiz

claims = Claims("ch4_08_policy_distillation")

# %% [markdown]
# ## 1. The expert and the data
#
# The expert is four numbers: it pushes the cart right when $0.05x + 0.2\dot x + \theta + 0.3\dot\theta > 0$
# (cart position and velocity, pole angle and angular velocity). We make it a stochastic policy by giving it the
# logits $[0,\ 20\,(w\cdot s)]$: far from upright it is certain, near upright it hesitates. The student is a
# 4-16-2 perceptron (114 parameters). It learns from about 2,500 states per seed that the expert visits in five
# episodes, with one action in five replaced by a random one so that the data also show how to recover.
#
# The loss is policy distillation's: the KL divergence from the teacher's tempered policy
# $\mathrm{softmax}(z_t/\tau)$ to the student's $\mathrm{softmax}(z_s)$. Note that the student is *not* divided
# by $\tau$ at play time: it learns the tempered policy itself, as in Rusu et al. So $\tau < 1$ distils a sharper
# policy than the expert's and $\tau > 1$ a softer one.
#
# Setup trains one student per temperature in a nine-point grid from 0.25 to 8, for three seeds, and plays eight
# sampled episodes with each (about 10 s on one core, behind a progress bar). Playing episodes on every slider
# move would be too slow, so the slider in section 3 looks this grid up.
#
# **Predict, then run.** 1. As $\tau$ rises from 0.25 to 8, what happens to the student's entropy and to its
# return? 2. A student cloned from the expert's hard (argmax) actions: is its entropy above or below the expert's?
#
# <details><summary>Answer</summary>
#
# 1. The mean entropy rises at every step of the grid while the return stays at the 500-step maximum (mean at
# least 490) up to $\tau = 1$ and collapses to under 100 steps at $\tau = 8$ (all asserted below); at SEED=0 the
# means were 500 and 35 steps. 2. Below: hard labels teach certainty, so the clone's entropy sits more than 0.15
# nats under the expert's, while the student distilled at $\tau = 1$ matches it within 0.02 nats (asserted).
#
# </details>

# %%
t0 = time.perf_counter()
s = lab.setup(SEED, progress=True)
print(f"trained and played {len(lab.TAUS) * len(s.seeds) + len(s.seeds)} students on seeds {list(s.seeds)} "
      f"({s.n_states} states each) in {time.perf_counter() - t0:.1f} s")
ret = s.returns.mean((1, 2))
ent = s.entropy.mean(1)
for tau, r, h in zip(lab.TAUS, ret, ent):
    print(f"tau = {tau:<4g}  mean return {r:5.0f}  entropy {h:.3f} nats")
print(f"expert (sampled): return {s.expert_return.mean():.0f}, entropy {s.expert_entropy.mean():.3f}; "
      f"clone of hard actions: return {s.clone_return.mean():.0f}, entropy {s.clone_entropy.mean():.3f}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
x = np.arange(len(lab.TAUS))
per_seed = s.returns.mean(2)
for j, sd in enumerate(s.seeds):
    ax1.plot(x, per_seed[:, j], "o-", alpha=0.6, label=f"seed {sd}")
    ax2.plot(x, s.entropy[:, j], "o-", alpha=0.6, label=f"seed {sd}")
ax2.axhline(s.expert_entropy.mean(), color="k", ls="--", lw=1, label="expert")
ax2.axhline(s.clone_entropy.mean(), color="tab:gray", ls=":", lw=1.5, label="clone (hard actions)")
for ax, title, ylabel in ((ax1, "Return of the distilled student", "mean return over 8 episodes (steps)"),
                          (ax2, "Entropy of the distilled student", "policy entropy (nats)")):
    ax.set_xticks(x, [f"{t:g}" for t in lab.TAUS])
    ax.set(title=title, xlabel="distillation temperature tau", ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %%
claims.check("the students' mean entropy rises at every step of the temperature grid from 0.25 to 8",
             bool(np.all(np.diff(ent) > 0)), entropy=ent)
low = [float(s.returns[lab.TAUS.index(t)].mean()) for t in (0.25, 0.5, 1.0)]
claims.check("students distilled at tau = 0.25, 0.5 and 1 keep a mean return of at least 490 of 500 steps",
             min(low) >= 490, returns=low)
hi = float(s.returns[lab.TAUS.index(8.0)].mean())
claims.check("at tau = 8 the mean return falls under 100 steps", hi < 100, return_tau8=hi)
h1 = float(s.entropy[lab.TAUS.index(1.0)].mean())
claims.check("the student distilled at tau = 1 matches the expert's policy entropy within 0.02 nats",
             abs(h1 - s.expert_entropy.mean()) < 0.02, student=h1, expert=s.expert_entropy.mean())
claims.check("the student cloned from hard actions has an entropy more than 0.15 nats below the expert's",
             s.expert_entropy.mean() - s.clone_entropy.mean() > 0.15, clone=s.clone_entropy.mean(),
             expert=s.expert_entropy.mean())
claims.check("the clone still keeps a mean return of at least 490 steps", s.clone_return.mean() >= 490,
             clone_return=s.clone_return.mean())

# %% [markdown]
# Read the two panels together. Up to $\tau = 1$ the students are as good as the expert; from $\tau = 1.5$ on,
# each step up the grid buys a little entropy and costs a lot of return, because in CartPole a random push at the
# wrong moment is not undone. The clone from hard actions also balances the pole, but with a policy that is more
# certain than the expert's: it learned *what* the expert does, not *how sure* the expert is. Where certainty
# matters (a student that must keep exploring, or a later fine-tune by reinforcement learning that needs some
# entropy) that is the difference between the two.
#
# > **Beside the paper.** Rusu et al. (2016) distilled DQN agents on Atari games. Their targets were Q-values, not
# > probabilities, so they divided them by a small temperature, $\tau = 0.01$, to turn near-tied values into a
# > decisive policy, and found this KL loss better than regressing the Q-values with mean-squared error. Our
# > expert already gives logits, so $\tau = 1$ reproduces it and $\tau < 1$ sharpens it; what carries over is the
# > direction of their choice: a *sharp* target made the best player, and a soft one (our $\tau \ge 2$) cost
# > return. What does not carry over: their students were up to 15 times smaller convolutional networks on
# > pixels; ours is a 114-parameter perceptron on a four-number state.
#
# ## 2. Check the input checks
#
# A temperature must be positive, and the slider only takes grid values:

# %%
for bad in (lambda: P.distill(torch.zeros(4, 4), torch.zeros(4, 2), tau=0),
            lambda: lab.run(s, tau=0.7)):
    try:
        bad()
    except ValueError as e:
        print("ValueError:", e)

# %% [markdown]
# ## 3. Live: the distillation temperature
#
# The slider picks a temperature from the grid; the two panels show return and entropy along the whole grid with
# the current point circled, and the summary line gives the numbers (mean over the three seeds' 24 episodes).
#
# **Try:** step from 1 to 1.5 to 2 and compare how much entropy each step adds with how much return it costs.
# **Look for** the point where the entropy curve crosses the expert's dashed line.
#
# **Predict, then run.** At which grid temperature does the student's entropy come closest to the expert's?
#
# <details><summary>Answer</summary>
#
# At $\tau = 1$, within 0.02 nats (asserted above): distilling at the expert's own temperature copies its
# uncertainty.
#
# </details>

# %%
dash = lab.dashboard(seed=SEED, tau=1.0)
dash

# %%
check = lab.dashboard(seed=SEED, tau=1.0, background=False)
times = []
for tau in (0.25, 0.5, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 1.0, 0.5):
    t0 = time.perf_counter()
    r = check.update(tau=tau)
    times.append(time.perf_counter() - t0)
print(f"slider move: median {np.median(times):.3f} s, max {max(times):.3f} s over {len(times)} moves")
assert r["tau"] == 0.5

# %% [markdown]
# ## Check yourself

# %%
quiz("Why does a student distilled at tau = 8 lose the pole even though it was trained on the expert's states?", [
    ("Its policy is close to 50/50 everywhere, so sampled actions are nearly random and the pole falls within "
     "a few dozen steps.", True, "Right: the KL loss made it copy a softened policy faithfully."),
    ("It did not train long enough to fit the targets.", False,
     "No: its entropy is close to the target's; it fitted them well. The targets themselves are too soft."),
    ("The expert's states are not enough to learn from.", False,
     "No: the same states give a perfect student at tau = 1."),
])

# %%
quiz("A student cloned from the expert's argmax actions balances as well as the tau = 1 student. What does it "
     "not inherit?", [
    ("The expert's uncertainty: its entropy is well below the expert's.", True,
     "Right: hard labels carry the decision, soft targets also carry how close the call was."),
    ("The expert's return.", False, "No: its mean return is at least 490 steps too (asserted)."),
    ("The ability to act in states the expert never visited.", False,
     "No: both students saw the same states; that is not what separates them."),
])

# %% [markdown]
# ## What we learned
# - Policy distillation is chapter 1's KD loss over actions; the student's output is then acted on.
# - The temperature is an exploration dial: the entropy rises at every step from 0.25 to 8 while the return holds
#   500 steps up to tau = 1 and drops under 100 steps at tau = 8.
# - Distilling at tau = 1 copies the expert's entropy within 0.02 nats; cloning hard actions balances just as well
#   but is more than 0.15 nats more certain than the expert.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 6/6

# %% [markdown]
# ## References
# - Rusu, A. A. et al. (2016). Policy distillation. ICLR.
# - Hinton, G., Vinyals, O. & Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Barto, A. G., Sutton, R. S. & Anderson, C. W. (1983). Neuronlike adaptive elements that can solve difficult
#   learning control problems. IEEE Trans. SMC 13(5) (the cart-pole task).
# - Towers, M. et al. (2024). Gymnasium: a standard interface for reinforcement learning environments. arXiv:2407.17032.
#
# **Next:** [4.9 Cross-lingual transfer](ch4_09_cross_lingual_transfer.ipynb): a teacher that knows two input
# "languages" teaches a student that sees only one.
