# %% [header]
# number = "2.5"
# title = "Ternary weights and the straight-through estimator"
# syllabus = ["C5"]
# study_minutes = 35
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch2_04_quantization"]
# objectives = [
#     "see the zero gradient through ternary rounding",
#     "write the straight-through estimator as an `autograd.Function`",
#     "measure its bias against a smoothed gradient",
#     "see how T and the T² factor scale what passes through",
# ]

# %% [markdown]
# **You will learn to**
# - see why a network whose weights can only be -a, 0 or +a gets no gradient from autograd at all;
# - train such a network anyway with a *straight-through estimator* (STE), written as a `torch.autograd.Function`;
# - measure how far the STE's gradient is from the gradient of a smoothed version of the true loss (its bias);
# - see how the distillation temperature T scales every gradient the STE lets through, and what the T² factor does
#   about it.
#
# Ternary weights take 2 bits instead of 32, and a multiplication by -a, 0 or +a is a sign flip, a skip or a copy
# followed by one shared scale. The price is paid during training, and this notebook looks at that price closely.

# %%
# parameters
SEED = 0  # drives the data split, the teacher (seed SEED on split SEED), the students (seeds 3*SEED to 3*SEED+2,
#           a disjoint set per SEED) and every random draw below

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from course_lib import cache, data, losses, models, train
from course_lib.claims import Claims
from course_lib.compress import encode, quantize
from course_lib.ui import quiz

claims = Claims("ch2_05_ternary_ste")

ds = data.load("digits", split_seed=SEED)
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)  # 64 -> 256 -> 256 -> 10, cached on disk
teacher_logits = train.predict(teacher, ds.X_train)
SEEDS = list(range(3 * SEED, 3 * SEED + 3))  # the students' seeds, a disjoint set per SEED
print(ds, f"teacher test accuracy {train.evaluate(teacher, ds.X_test, ds.y_test):.1%}")

# %% [markdown]
# ## 1. The ternary quantizer and its zero gradient
#
# Following Ternary Weight Networks (Li and Liu, 2016), a weight tensor w is mapped to
#
# $$q(w) = a\,\mathrm{sign}(w)\,[\,|w| > \Delta\,],\qquad \Delta = 0.7\,\overline{|w|},\qquad
# a = \text{mean of } |w| \text{ over the weights above } \Delta .$$
#
# Within one training step Δ and a are treated as constants. What is left, `sign` and a comparison, is flat
# everywhere except at the jumps, so its derivative is zero almost everywhere: autograd returns a tensor of zeros,
# and gradient descent on the weights never moves them.
#
# **Predict, then run.** We ternarize a random 8 x 16 matrix and backpropagate a random upstream gradient through
# it. 1. How many distinct values does the quantized matrix hold? 2. How many entries of the gradient that autograd
# returns are non-zero?
#
# <details><summary>Answer</summary>
#
# 1. Three: -a, 0 and +a (asserted). 2. None (asserted): the gradient is exactly zero.
#
# </details>

# %%
g = torch.Generator().manual_seed(SEED)
w = torch.randn(8, 16, generator=g, requires_grad=True)
q = quantize.ternarize(w)
upstream = torch.randn(q.shape, generator=g)
(q * upstream).sum().backward()
print("distinct values of q:", sorted({round(v, 4) for v in q.detach().flatten().tolist()}))
print("autograd gradient: all zeros?", bool(torch.all(w.grad == 0)), "| non-zero entries:", int(torch.count_nonzero(w.grad)))
claims.check("autograd's gradient through the ternary quantizer is exactly zero", bool(torch.all(w.grad == 0)),
             nonzero=int(torch.count_nonzero(w.grad)))
claims.check("the quantized weight takes exactly three values", len(torch.unique(q.detach())) == 3,
             values=len(torch.unique(q.detach())))

# %% [markdown]
# The straight-through estimator keeps the ternary forward pass but, in the backward pass, pretends that q was the
# identity: the gradient that arrives at q is handed to the latent float weight w unchanged. In PyTorch that is a
# `torch.autograd.Function` with a custom `backward` (here `quantize.TernarySTE`, used as a
# `torch.nn.utils.parametrize` parametrization by `quantize.add_ternary`).

# %%
w.grad = None
(quantize.ternary_ste(w) * upstream).sum().backward()
print("STE gradient equals the upstream gradient:", torch.equal(w.grad, upstream))
claims.check("the STE passes the upstream gradient through unchanged", torch.equal(w.grad, upstream))

# %% [markdown]
# ## 2. Training a ternary student, with and without the STE
#
# Three students with one hidden layer of 64 units learn from the cached teacher (distillation at T = 4,
# alpha = 0.9, 100 full-batch Adam steps): a float32 one, a ternary one trained through the STE, and a ternary one
# trained with the plain (zero-gradient) quantizer. Only the last one's biases can learn; the weights of both its
# layers stay frozen at their random initial values. We repeat for three seeds (3*SEED to 3*SEED+2); the teacher
# and the split are drawn with SEED.
#
# **Predict, then run.** 1. How far does the student without the STE get? 2. How close does the STE student come
# to the float32 one?
#
# <details><summary>Answer</summary>
#
# 1. Nowhere useful: the latent weights of both its layers move by exactly 0, and with only its biases learning it
#    stays below 50% test accuracy in every seed, where chance is 10% (both asserted). 2. Within 3 points on average
#    over three seeds, in more than 8x less storage (both asserted).
#
# </details>

# %%
def student(kind, seed):
    m = models.mlp(ds.n_features, (64,), ds.n_classes, seed=seed)
    if kind != "float32":
        quantize.add_ternary(m, mode="ste" if kind == "ternary + STE" else "none")
    return m


def latent_weights(m):
    """The latent float weights of every ternary layer, by name."""
    return {n: p.detach().clone() for n, p in m.named_parameters() if n.endswith("parametrizations.weight.original")}


acc, moved, ste_models = {}, [], {}
for seed in SEEDS:
    for kind in ("float32", "ternary + STE", "ternary, no STE"):
        m = student(kind, seed)
        w0 = latent_weights(m)
        train.train_distilled(m, ds.X_train, ds.y_train, teacher_logits, T=4.0, alpha=0.9, epochs=100, lr=1e-2,
                              seed=seed)
        acc.setdefault(kind, []).append(train.evaluate(m, ds.X_test, ds.y_test))
        if kind == "ternary, no STE":  # every layer's latent weights, not just the first
            moved.append(max(float((p - w0[n]).abs().max()) for n, p in latent_weights(m).items()))
            n_latent_layers = len(w0)
        if kind == "ternary + STE":
            ste_models[seed] = m
ternary_model = ste_models[SEEDS[0]]
size_float = 4 * models.count_params(student("float32", SEEDS[0]))
size_tern = encode.ternary_bytes(ternary_model)
for kind, v in acc.items():
    print(f"{kind:16s} test accuracy {np.mean(v):.1%} +- {np.std(v):.1%}")
print(f"largest change of any latent weight ({n_latent_layers} ternary layers) without the STE: {max(moved)}")
print(f"size: float32 {size_float} bytes, ternary {size_tern} bytes ({size_float / size_tern:.1f}x smaller)")

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(list(acc), [100 * np.mean(v) for v in acc.values()], yerr=[100 * np.std(v) for v in acc.values()],
       capsize=4, color=["tab:gray", "tab:green", "tab:red"])
ax.set(title="Ternary students distilled from the teacher (3 seeds)", xlabel="student", ylabel="test accuracy (%)",
       ylim=(0, 100))
plt.show()

# %% [markdown]
# Without the STE no latent weight of either layer moved by a single bit, and the student, left with nothing but its
# biases to learn, stays below 50% test accuracy in every seed (chance is 10%; how far above chance depends on the
# random ternary weights it is stuck with). With it, the ternary student comes
# within 3 points of the float32 one while the whole model takes more than 8 times less space (2 bits per weight
# plus one scale per layer; the biases stay in float32).

# %%
claims.check("without the STE the latent weights of every ternary layer move by exactly 0 (every seed)",
             max(moved) == 0.0 and n_latent_layers == 2, largest_change=max(moved), layers=n_latent_layers)
claims.check("without the STE the student stays below 50% test accuracy in every seed (chance is 10%)",
             max(acc["ternary, no STE"]) < 0.5, per_seed=acc["ternary, no STE"])
claims.check("with the STE the ternary student passes 90% test accuracy (mean of 3 seeds)",
             np.mean(acc["ternary + STE"]) > 0.9, accuracy=np.mean(acc["ternary + STE"]))
claims.check("the STE student is less than 3 points behind the float32 student",
             np.mean(acc["float32"]) - np.mean(acc["ternary + STE"]) < 0.03,
             float32=np.mean(acc["float32"]), ternary=np.mean(acc["ternary + STE"]))
claims.check("ternary storage is more than 8x smaller than float32", size_float / size_tern > 8,
             ratio=size_float / size_tern)

# %% [markdown]
# ## 3. How biased is the STE?
#
# The true loss of a ternary network, as a function of its latent weights, is a staircase: its gradient is zero or
# undefined. A sensible "true gradient" to compare with is that of the *smoothed* loss
# $L_\sigma(w) = \mathbb{E}_{\varepsilon \sim N(0, I)}[L(q(w + \sigma\varepsilon))]$, which is differentiable, and
# whose gradient can be estimated without any derivative of q (Gaussian smoothing, with antithetic pairs):
#
# $$\nabla L_\sigma(w) = \mathbb{E}\Big[\frac{L(q(w+\sigma\varepsilon)) - L(q(w-\sigma\varepsilon))}{2\sigma}\,\varepsilon\Big].$$
#
# The STE's estimate of the same quantity is the average of $\partial L / \partial q$ at the noisy points. The
# difference of the two expectations is the STE's bias. To keep the Monte Carlo error small we smooth only the 64
# latent weights of one row of the output layer (the weights feeding the logit of class 0) of the trained ternary
# student, on 256 training examples, with 16,000 noise draws. The spread over 16 chunks of draws gives the
# standard error of the measured difference. We do this for three smoothing widths, sigma = 0.1, 0.3 and 1 times
# the threshold delta, and for each of the three STE students.
#
# **Predict, then run.** 1. Does the STE's gradient point in the same direction as the smoothed gradient, the
# opposite one, or neither? 2. Does it agree better with a narrow smoothing (close to the real staircase) or a
# wide one?
#
# <details><summary>Answer</summary>
#
# 1. Roughly the same: its cosine with the smoothed gradient is positive at every width and seed, yet at the two
#    narrower widths the gap between them is more than 3 Monte Carlo standard errors in every seed (both asserted).
# 2. A wide one: the cosine rises at every step from sigma = 0.1 to 0.3 to 1 delta in every seed, and the bias
#    relative to the gradient, averaged over the seeds, is smallest at the widest level (both asserted).
#
# </details>

# %%
def ste_bias(model, sigma_rel, *, row=0, n_examples=256, chunks=16, per_chunk=1000, seed=0):
    """Smoothed-loss gradient, mean STE gradient, and the standard error of their difference, for one output row."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.X_train), generator=g)[:n_examples]
    X, y = ds.X_train[idx], ds.y_train[idx]
    with torch.no_grad():
        H = torch.relu(model.fc1(X))  # features entering the output layer
        logits = model(X)
        latent = model.out.parametrizations.weight.original
        delta, a = quantize.ternary_params(latent)
        w_row = latent[row]
        other = logits.clone()
        other[:, row] = -float("inf")
        base_row = logits[:, row] - H @ model.out.weight[row]  # the row's logit without its weights
        lse_other = torch.logsumexp(other, dim=1)
        is_row = (y == row).float()
        y_logit = logits.gather(1, y[:, None]).squeeze(1)

        def loss_and_grad(w_q):  # w_q: (K, 64) ternary rows -> per-draw loss (K,) and dL/dq (K, 64)
            z_row = base_row + w_q @ H.T
            lse = torch.logaddexp(lse_other, z_row)
            z_y = is_row * z_row + (1 - is_row) * y_logit
            p_row = torch.exp(z_row - lse)
            return (lse - z_y).mean(1), (p_row - is_row) @ H / len(y)

        def q(v):
            return a * torch.sign(v) * (v.abs() > delta)

        sigma = sigma_rel * float(delta)
        smooth, ste = [], []
        for _ in range(chunks):
            eps = torch.randn(per_chunk, w_row.numel(), generator=g)
            lp, gp = loss_and_grad(q(w_row + sigma * eps))
            lm, gm = loss_and_grad(q(w_row - sigma * eps))
            smooth.append((((lp - lm) / (2 * sigma))[:, None] * eps).mean(0))
            ste.append(0.5 * (gp + gm).mean(0))
    smooth, ste = torch.stack(smooth), torch.stack(ste)
    se = float(((ste - smooth).std(0) / math.sqrt(chunks)).norm())
    return smooth.mean(0), ste.mean(0), se


SIGMAS = (0.1, 0.3, 1.0)  # noise scale, as a fraction of the threshold delta
rows = []
for seed in SEEDS:
    for s in SIGMAS:
        g_smooth, g_ste, se = ste_bias(ste_models[seed], s, seed=seed)
        bias = float((g_ste - g_smooth).norm())
        rows.append(dict(seed=seed, sigma=s, bias=bias, se=se, rel_bias=bias / float(g_smooth.norm()),
                         cos=float(F.cosine_similarity(g_ste, g_smooth, dim=0))))
for r in rows:
    print(f"seed {r['seed']} sigma {r['sigma']:.1f} delta: |bias| {r['bias']:.4f} (MC s.e. {r['se']:.4f}), "
          f"relative {r['rel_bias']:.2f}, cosine(STE, smoothed) {r['cos']:+.2f}")
cos_by_sigma = {s: np.mean([r["cos"] for r in rows if r["sigma"] == s]) for s in SIGMAS}
rel_by_sigma = {s: np.mean([r["rel_bias"] for r in rows if r["sigma"] == s]) for s in SIGMAS}

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(SIGMAS, [cos_by_sigma[s] for s in SIGMAS], marker="o", label="cosine(STE, smoothed gradient)")
ax.plot(SIGMAS, [rel_by_sigma[s] for s in SIGMAS], marker="s", label="|bias| / |smoothed gradient|")
ax.set_xscale("log")
ax.legend()
ax.set(title="STE against the smoothed-loss gradient (mean of 3 seeds)", xlabel="smoothing sigma / delta",
       ylabel="ratio (unitless)")
plt.show()

# %% [markdown]
# Three things to read off:
#
# - the bias is real: at the two narrower noise levels (sigma = 0.1 and 0.3 delta) it is more than three Monte
#   Carlo standard errors in every seed; at sigma = delta it is smaller relative to the gradient and not always
#   resolvable from the Monte Carlo noise;
# - the STE still points downhill: its cosine with the smoothed gradient is positive everywhere;
# - the narrower the smoothing (the closer to the real staircase), the worse the agreement: over the three widths
#   we tried, the cosine rises at each step in every seed. The relative bias (its length over the smoothed
#   gradient's) is a noisier measure: averaged over seeds it is smallest at the widest level, but between the two
#   narrower levels it goes either way. The STE behaves like the gradient of a loss that has been blurred over about
#   one threshold width.

# %%
narrow = [r for r in rows if r["sigma"] < 1.0]
claims.check("at the two narrower noise levels the STE's bias exceeds 3 Monte Carlo standard errors in every seed",
             all(r["bias"] > 3 * r["se"] for r in narrow), worst=min(r["bias"] / r["se"] for r in narrow))
claims.check("the STE points downhill: positive cosine with the smoothed gradient everywhere",
             all(r["cos"] > 0 for r in rows), smallest_cos=min(r["cos"] for r in rows))
cos_rises = all(np.all(np.diff([r["cos"] for r in rows if r["seed"] == seed]) > 0) for seed in SEEDS)
claims.check("the narrower the smoothing, the worse the agreement: the cosine rises at every step from sigma = 0.1 "
             "to 0.3 to 1 delta in every seed, and the mean relative bias is smallest at sigma = delta",
             cos_rises and all(rel_by_sigma[SIGMAS[-1]] < rel_by_sigma[s] for s in SIGMAS[:-1]),
             cos_by_seed={seed: [r["cos"] for r in rows if r["seed"] == seed] for seed in SEEDS},
             rel_bias_mean=[rel_by_sigma[s] for s in SIGMAS])

# %% [markdown]
# ## 4. The temperature sets the size of what passes through
#
# The STE forwards whatever gradient reaches the ternary weights, so anything that scales the loss scales the
# latent weights' gradient too. In distillation, the soft loss at temperature T has a gradient with respect to the
# student's logits of $(p^T_s - p^T_t)/T$, which for large T behaves like $(z_s - z_t)/(K T^2)$: without the T²
# factor it shrinks as $1/T^2$. "Large" means large compared with the spread of the logits, which for this teacher
# is tens of units. We measure the gradient norm on the latent weights of the trained ternary student for T from 1
# to 256, with and without the T² factor, and fit the slope of log-norm against log T for T >= 32.
#
# **Predict, then run.** 1. Without the T² factor, how fast does the gradient fall once T is large: like 1/T, 1/T²
# or not at all? 2. With it? 3. With plain SGD, do more or fewer ternary weights change state at T = 16 than at
# T = 1 when the factor is left out?
#
# <details><summary>Answer</summary>
#
# 1. Like 1/T²: the fitted log-log slope for T >= 32 lies between -2.2 and -1.75 (asserted). 2. It levels off: the
#    slope is within 0.25 of 0 (asserted). 3. Fewer than half as many (asserted).
#
# </details>

# %%
TS = [1, 2, 4, 8, 16, 32, 64, 128, 256]
spread = float((teacher_logits.max(1).values - teacher_logits.min(1).values).mean())
print(f"mean spread of the teacher's logits (largest minus smallest): {spread:.1f}")


def latent_grad_norm(model, T, scale_t2):
    model.zero_grad(set_to_none=True)
    losses.kd_kl(model(ds.X_train), teacher_logits, T=T, scale_t2=scale_t2).backward()
    return math.sqrt(sum(float(p.grad.pow(2).sum()) for n, p in model.named_parameters() if n.endswith("original")))


norms = {flag: [latent_grad_norm(ternary_model, T, flag) for T in TS] for flag in (True, False)}
big = [i for i, T in enumerate(TS) if T >= 32]
slope = {flag: float(np.polyfit(np.log([TS[i] for i in big]), np.log([norms[flag][i] for i in big]), 1)[0])
         for flag in norms}
print({("with T^2" if k else "without T^2"): f"slope {v:+.2f}" for k, v in slope.items()})

# With plain SGD (no Adam rescaling), the gradient size decides how many ternary weights change state per step.
def flips_after_sgd(T, scale_t2, steps=10, lr=0.5):
    m = student("ternary + STE", SEEDS[0])
    m.load_state_dict(ternary_model.state_dict())
    before = m.fc1.weight.detach().sign()
    opt = torch.optim.SGD(m.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        losses.kd_kl(m(ds.X_train), teacher_logits, T=T, scale_t2=scale_t2).backward()
        opt.step()
    return int((m.fc1.weight.detach().sign() != before).sum())


flips = {flag: [flips_after_sgd(T, flag) for T in (1, 4, 16)] for flag in (True, False)}
print("ternary weights of fc1 that changed state in 10 SGD steps at T = 1, 4, 16:", flips)

fig, ax = plt.subplots(figsize=(6, 3))
ax.loglog(TS, norms[True], marker="o", label="with T^2")
ax.loglog(TS, norms[False], marker="s", label="without T^2")
ax.legend()
ax.set(title="Gradient reaching the latent weights through the STE", xlabel="temperature T",
       ylabel="gradient norm (loss units per weight)")
plt.show()

# %% [markdown]
# Once T is well above the logit spread, the gradient without the T² factor falls as $1/T^2$ (a fitted slope close
# to -2), while with the factor it levels off (a slope near 0). Below that, neither rule holds yet: between T = 1
# and T = 8 the two curves bend. With plain SGD the size of the gradient decides how many ternary weights change
# state: without the T² factor, fewer than half as many flip at T = 16 as at T = 1. An adaptive optimiser such as
# Adam divides the scale out again, which is one reason the STE tolerates being paired with distillation at high T.

# %%
claims.check("the teacher's mean logit spread is above 16", spread > 16, spread=spread)
claims.check("for T >= 32, without T^2 the gradient falls with log-log slope between -2.2 and -1.75",
             -2.2 < slope[False] < -1.75, slope=slope[False])
claims.check("with T^2 the slope stays within 0.25 of 0", abs(slope[True]) < 0.25, slope=slope[True])
claims.check("without T^2, fewer than half as many weights flip under SGD at T = 16 as at T = 1",
             flips[False][2] < 0.5 * flips[False][0], t1=flips[False][0], t16=flips[False][2])

# %% [markdown]
# > **Beside the paper.** Li et al. (2016, *Ternary weight networks*) use the same threshold rule
# > (delta = 0.7 mean|w|) and report ternary LeNet-5 on MNIST within a fraction of a point of float and ternary
# > ResNet-18 on ImageNet a few points below it, with about 16x smaller weights. Our one-hidden-layer student,
# > distilled from the teacher, stays within 3 points of its float twin with over 8x smaller storage (the float
# > biases and per-layer scales weigh more in so small a model). Bengio et al. (2013) introduced the
# > straight-through estimator we measured the bias of.
#
# ## Check yourself

# %%
quiz("Why does a ternary student trained without the STE never learn its weights?", [
    ("The quantizer is piecewise constant, so autograd's gradient through it is exactly zero", True,
     "Right: the latent weights moved by exactly 0 (asserted)."),
    ("The learning rate is too small", False, "No: a zero gradient stays zero at any learning rate."),
    ("Ternary weights cannot represent a classifier", False,
     "No: the STE student, with the same ternary weights, passes 90% (asserted)."),
])

# %%
quiz("Without the T^2 factor, what happens to the gradient reaching the latent weights as T grows past the "
     "logit spread?", [
    ("It falls like 1/T^2", True, "Right: the fitted log-log slope was between -2.2 and -1.75 (asserted)."),
    ("It stays the same", False, "No: that is what the T^2 factor restores."),
    ("It grows like T", False, "No: softened targets and outputs both flatten, so their difference shrinks."),
])

# %% [markdown]
# ## What we learned
# - Autograd's gradient through the ternary quantizer is exactly zero, and without the STE the latent weights
#   of both layers moved by exactly 0 in 100 steps; that student stayed below 50% test accuracy in every seed
#   (chance is 10%).
# - With the STE the ternary student reached over 90% test accuracy (mean of 3 seeds), less than 3 points
#   behind the float32 student, with over 8x smaller storage.
# - Against the gradient of the Gaussian-smoothed loss the STE is biased (bias above 3 Monte Carlo standard
#   errors at the two narrower noise levels, every seed) but still a descent direction (positive cosine); the
#   agreement improves at each step as the smoothing widens from 0.1 to 0.3 to 1 delta.
# - For T >= 32 (above the teacher's logit spread of more than 16), the gradient through the STE without T² falls
#   with a fitted log-log slope between -2.2 and -1.75; with T² the slope stays within 0.25 of 0. Without T², fewer
#   than half as many ternary weights flip under SGD at T = 16 as at T = 1.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 15/15

# %% [markdown]
# ## References
# - Li, F., Zhang, B. and Liu, B. (2016). Ternary weight networks. arXiv:1605.04711.
# - Bengio, Y., Léonard, N. and Courville, A. (2013). Estimating or propagating gradients through stochastic
#   neurons for conditional computation. arXiv:1308.3432.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
#
# **Next:** [2.6 Low-rank factorization with the SVD](ch2_06_low_rank_svd.ipynb): keep every weight at full
# precision, but fewer independent directions.
