# %% [header]
# number = "2.4"
# title = "Quantization: int8 after training, and fewer bits with fake quantization"
# syllabus = ["C4", "F1"]
# study_minutes = 40
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch2_01_magnitude_pruning"]
# objectives = [
#     "int8 post-training quantization with torchao (size, accuracy, honest CPU latency)",
#     "fake quantization from 8 down to 2 bits on a live bit-width slider",
#     "per-tensor against per-channel scales",
#     "a short distilled quantization-aware fine-tune",
# ]

# %% [markdown]
# **You will learn to**
# - quantize a trained network's linear layers to int8 after training with torchao (`quantize_`), for weights only
#   or for weights and activations, and measure size, accuracy and CPU latency honestly;
# - explain why int8 is not automatically faster, and when it is;
# - simulate 2- to 8-bit weights with fake quantization (`torch.fake_quantize_per_tensor_affine` and
#   `..._per_channel_affine` inside a `torch.nn.utils.parametrize` parametrization);
# - compare one scale per tensor with one scale per output channel, and win back low-bit accuracy with a short
#   quantization-aware fine-tune that distils from the float model.
#
# A b-bit quantizer stores a weight w as an integer $q = \mathrm{clamp}(\mathrm{round}(w/s) + z, q_{min}, q_{max})$
# and reads it back as $s\,(q - z)$: the scale s sets the step between neighbouring levels, the zero point z shifts
# the grid. For weights we use symmetric grids (z = 0, levels from $-(2^{b-1}-1)$ to $2^{b-1}-1$) and take s from
# the largest magnitude. An int8 weight takes a quarter of the bytes of a float32 one.

# %%
# parameters
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import cache, data, latency, metrics, models, quantize, train

ds = data.load("digits")
SEEDS = list(range(SEED, SEED + 3))
print(ds)

# %% [markdown]
# ## 1. Int8 post-training quantization with torchao
#
# Latency only means something for layers big enough to keep the CPU busy, so this part uses a wide network,
# 64 -> 1024 -> 1024 -> 10 (about 1.1 million parameters), trained on the digits for 8 epochs of mini-batches and
# cached on disk. We then make two int8 copies with `torchao.quantization.quantize_`:
#
# - `Int8WeightOnlyConfig`: int8 weights (one scale per output row), activations stay float;
# - `Int8DynamicActivationInt8WeightConfig`: int8 weights *and* int8 activations, whose scale is measured on each
#   input as it arrives ("dynamic"), so no calibration set is needed.
#
# `quantize.int8_ptq` wraps both and records which backend it used; it only falls back to the deprecated
# `torch.ao.quantization.quantize_dynamic` if torchao fails, and the cell below checks that it did not.

# %%
WIDE = (1024, 1024)


def build_wide():
    return models.mlp(ds.n_features, WIDE, ds.n_classes, seed=SEED)


def train_wide(m):
    train.train_scratch(m, ds.X_train, ds.y_train, epochs=8, lr=1e-3, batch_size=128, seed=SEED,
                        progress="training the wide model")


wide = cache.cached_model(dict(kind="wide-mlp", hidden=list(WIDE), epochs=8, lr=1e-3, batch_size=128, seed=SEED),
                          build_wide, train_wide, name="wide-mlp-digits")
int8 = {mode: quantize.int8_ptq(wide, mode=mode) for mode in ("weight_only", "dynamic")}
for mode, q in int8.items():
    print(f"{mode:12s} -> {q.ptq_backend}")
    assert q.ptq_backend.startswith("torchao")

with torch.inference_mode():
    logits = {"float32": wide(ds.X_test), **{f"int8 {k}": q(ds.X_test) for k, q in int8.items()}}
acc = {k: metrics.accuracy(v, ds.y_test) for k, v in logits.items()}
agree = {k: metrics.agreement(v, logits["float32"]) for k, v in logits.items()}
size = {"float32": quantize.serialized_bytes(wide), **{f"int8 {k}": quantize.serialized_bytes(q) for k, q in int8.items()}}
for k in logits:
    print(f"{k:18s} size {size[k] / 1e6:5.2f} MB ({size[k] / size['float32']:4.0%}) | test accuracy {float(acc[k]):.1%} "
          f"| predictions equal to float32: {float(agree[k]):.1%}")

# %% [markdown]
# Both int8 copies are about a quarter of the float32 file (the scales and the float biases add a little), and
# their accuracy moves by at most a point: with 255 levels per row the rounding error is tiny next to the
# differences between the logits.

# %%
for k in int8:
    assert size[f"int8 {k}"] < 0.3 * size["float32"]
    assert abs(float(acc[f"int8 {k}"]) - float(acc["float32"])) <= 0.01
    assert float(agree[f"int8 {k}"]) >= 0.98

# %% [markdown]
# ### Is int8 faster?
#
# We time one forward pass for a single example and for a batch of 512, with `course_lib.latency.compare`: a few
# untimed warm-up calls, then repeats interleaved between the models (so a burst of background load hits all of
# them alike), and the median per call. PyTorch runs on one thread for these timings, which makes them steadier on
# a shared machine. For reference we also time the older int8 path, `torch.ao.quantization.quantize_dynamic`
# (deprecated, but it calls dedicated int8 matrix kernels, fbgemm or oneDNN).

# %%
legacy = quantize.legacy_int8_dynamic(wide)
runs = {"float32": wide, "torchao int8 weight-only": int8["weight_only"], "torchao int8 dynamic": int8["dynamic"],
        "legacy int8 dynamic (deprecated)": legacy}
g = torch.Generator().manual_seed(SEED)
timings = {}
with torch.inference_mode():
    for batch, number in ((1, 20), (512, 2)):
        x = ds.X_train[torch.randint(len(ds.X_train), (batch,), generator=g)]
        fns = {k: (lambda m=m: m(x)) for k, m in runs.items()}
        timings[batch] = latency.compare(fns, repeats=15, warmup=3, number=number, n_threads=1)
for batch, t in timings.items():
    print(f"batch {batch}:")
    for k, v in t.items():
        print(f"  {k:34s} median {v.median * 1e3:8.3f} ms  ({v.median / t['float32'].median:4.2f}x float32)")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (batch, t) in zip(axes, timings.items()):
    ax.barh(list(t), [v.median * 1e3 for v in t.values()], color=["tab:gray", "tab:blue", "tab:green", "tab:orange"])
    ax.set(title=f"Latency of one forward pass, batch {batch}", xlabel="median time (ms)", ylabel="")
plt.show()

# %% [markdown]
# What the measurements say:
#
# - **One example at a time, int8 through torchao is slower than float32.** In eager mode every quantized layer
#   dispatches through a Python tensor subclass and, for dynamic quantization, first measures and quantizes the
#   activation; for a single row that fixed overhead dwarfs the arithmetic saved. (Compiling the model with
#   `torch.compile` removes much of that overhead, at the price of a compilation step we skip here.)
# - **With a large batch, dedicated int8 kernels pay off.** The matrix products dominate, and the older
#   `quantize_dynamic` path, which calls fbgemm/oneDNN int8 kernels, is clearly faster than float32.
# - **torchao's eager int8 path is not reliably faster on this CPU.** Across our runs its batch-512 time ranged
#   from somewhat slower than float32 to about twice as fast, so we make no claim about it either way. Its
#   speed-ups are designed to come with `torch.compile`; what it delivers without compiling is the 4x smaller model.
#
# The exact ratios depend on your CPU (its int8 instructions, cache sizes) and on how busy it is, so the
# assertions below check only what held with a wide margin on the machines we tried.

# %%
t1, t512 = timings[1], timings[512]
ratio_small = t1["torchao int8 dynamic"].median / t1["float32"].median
speedup_big = t512["float32"].median / t512["legacy int8 dynamic (deprecated)"].median
speedup_torchao = t512["float32"].median / t512["torchao int8 dynamic"].median
print(f"batch 1: torchao int8 dynamic takes {ratio_small:.1f}x the float32 time")
print(f"batch 512: legacy int8 kernels {speedup_big:.1f}x faster than float32; torchao eager int8 dynamic "
      f"{speedup_torchao:.2f}x (not asserted)")
assert ratio_small > 1.5
assert speedup_big > 1.2

# %% [markdown]
# ## 2. Fewer bits: fake quantization, per tensor against per channel
#
# Below 8 bits PyTorch's CPU kernels have nothing to run, but we can still measure what the rounding does to
# accuracy: *fake quantization* rounds each weight to the b-bit grid and stores the result back as a float.
# `quantize.FakeQuantize` does this as a parametrization, through `torch.fake_quantize_per_tensor_affine` (one scale
# for the whole weight matrix) or `torch.fake_quantize_per_channel_affine` (one scale per output row). Its
# backward pass lets gradients straight through, so the same model can also be fine-tuned with the quantizer in
# the loop (quantization-aware training, QAT).
#
# We use a smaller float32 student (64 -> 64 -> 10, trained once per seed and cached) because the slider below
# fine-tunes it on every move. A row whose weights are all small wastes most of a shared grid; its own scale
# gives it the full range, so per-channel scales should round more finely.

# %%
labs = {seed: quantize.BitwidthLab(quantize.float_student(seed=seed), ds.X_train, ds.y_train, ds.X_test,
                                   ds.y_test, lr=3e-3) for seed in SEEDS}
BITS = list(quantize.ALLOWED_BITS)
mse = {s: np.mean([[np.mean([quantize.quantization_mse(m.weight, b, scheme=s) for m in (lab.model.fc1, lab.model.out)])
                    for b in BITS] for lab in labs.values()], axis=0) for s in quantize.SCHEMES}
mse_wins = all(quantize.quantization_mse(m.weight, b, scheme="per_channel")
               < quantize.quantization_mse(m.weight, b, scheme="per_tensor")
               for lab in labs.values() for m in (lab.model.fc1, lab.model.out) for b in BITS)
curve = {s: np.mean([lab.curve[s] for lab in labs.values()], axis=0) for s in quantize.SCHEMES}
acc_float = np.mean([lab.acc_float for lab in labs.values()])
for s in quantize.SCHEMES:
    print(f"{s:12s} test accuracy (%) by bits", {b: round(100 * float(a), 1) for b, a in zip(BITS, curve[s])},
          f"(float32 {acc_float:.1%})")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
for s in quantize.SCHEMES:
    ax1.semilogy(BITS, mse[s], marker="o", label=s)
    ax2.plot(BITS, 100 * curve[s], marker="o", label=s)
ax2.axhline(100 * acc_float, color="gray", ls=":", label="float32")
ax1.legend()
ax2.legend()
ax1.set(title="Weight rounding error (mean of 3 seeds)", xlabel="bits per weight", ylabel="mean squared error")
ax2.set(title="Test accuracy after rounding, no fine-tune", xlabel="bits per weight", ylabel="test accuracy (%)")
plt.show()

# %% [markdown]
# Per-channel scales give a smaller rounding error at every bit width, in every layer and every seed. At 8 bits
# neither choice costs more than a point of accuracy; at 2 bits (three levels per row) one shared scale wipes the
# network out while per-channel scales keep a usable model, more than 20 points ahead.

# %%
assert mse_wins
assert all(acc_float - curve[s][BITS.index(8)] <= 0.01 for s in quantize.SCHEMES)
assert curve["per_channel"][0] - curve["per_tensor"][0] > 0.20

# %% [markdown]
# ### A short quantization-aware fine-tune
#
# At 2 bits even per-channel rounding costs a lot. Fifteen full-batch Adam steps with the fake quantizer in the loop,
# distilling from the float32 model's own logits (T = 2, alpha = 0.7), move the latent weights so that their
# rounded versions work better.

# %%
qat = [lab(bits=2, scheme="per_channel", steps=15) for lab in labs.values()]
ptq2, qat2 = np.mean([r["acc_ptq"] for r in qat]), np.mean([r["acc_qat"] for r in qat])
print(f"2 bits, per-channel: PTQ {ptq2:.1%} -> QAT {qat2:.1%} (mean of 3 seeds; float32 {acc_float:.1%})")
r4 = labs[SEED](bits=4, scheme="per_channel", steps=0)
print(f"storage at 4 bits per channel: {r4['bytes_float']} -> {r4['bytes_quant']} bytes "
      f"({r4['bytes_float'] / r4['bytes_quant']:.1f}x smaller)")
assert qat2 - ptq2 > 0.05
assert r4["bytes_float"] / r4["bytes_quant"] > 6

# %% [markdown]
# ## 3. Live: the bit-width slider
#
# Choose the bits (2 to 8), the scale (one per tensor or one per channel) and the number of QAT steps. The left
# panel plots a sample of the weights of the output layer `out` after rounding against their float values (a staircase: fewer bits,
# fewer steps); the right one shows the accuracy of plain rounding for both scales, with a star for the fine-tuned
# model. Each move starts again from the cached float model.

# %%
dash = quantize.bitwidth_dashboard(labs[SEED], bits=3, scheme="per_channel", steps=10)
dash

# %% [markdown]
# The same function runs without the widget; the tests move the slider from code like this.

# %%
res = dash.update(bits=2, scheme="per_tensor", steps=0)
print(f"2 bits, per tensor, no fine-tune: {res['acc_ptq']:.1%}")
assert res["acc_ptq"] == labs[SEED].curve["per_tensor"][0]

# %% [markdown]
# ## What we measured
#
# - torchao's int8 copies of the wide network (weight-only, and dynamic weights plus activations) are under 30% of
#   the float32 size, within 1 point of its test accuracy, and agree with at least 98% of its predictions.
# - For one example at a time, torchao's eager int8 dynamic path took more than 1.5x the float32 time; for a batch of
#   512, the int8 kernels behind the older `quantize_dynamic` path were more than 1.2x faster than float32, while
#   torchao's eager int8 path was not reliably faster (single thread, medians of interleaved repeats).
# - Per-channel scales round with less error than per-tensor scales at every bit width from 2 to 8 (every layer,
#   3 seeds); 8 bits cost at most 1 point either way; at 2 bits per-channel is more than 20 points more accurate.
# - Fifteen distilled QAT steps raise 2-bit per-channel accuracy by more than 5 points; 4-bit per-channel storage is
#   more than 6x smaller than float32.
