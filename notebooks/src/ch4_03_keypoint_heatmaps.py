# %% [header]
# number = "4.3"
# title = "Keypoint heatmaps: a self-distilled second generation has softer peaks, not better ones"
# syllabus = ["A3"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_09_temperature_variants"]
# objectives = [
#     "predict landmarks with a fully convolutional network and one softmax heatmap per landmark",
#     "train a second generation on the first one's heatmaps (a born-again network) and compare it, over seeds, with the first generation trained as long",
#     "measure a heatmap's sharpness (entropy in nats) separately from its localisation error (pixels, PCK)",
#     "say how large an effect a handful of networks can detect",
# ]

# %% [markdown]
# **You will learn to**
# - turn landmark detection into one classification per landmark: *which pixel is this corner on?*, answered by a
#   softmax over the pixels of a heatmap;
# - train a network on its own predecessor's heatmaps (Furlanello et al.'s *born-again* scheme) and compare the two
#   generations fairly;
# - keep two questions apart: is a heatmap *sharp* (its entropy), and is its peak in the *right place* (the error in
#   pixels and PCK, the percentage of correct keypoints)?
#
# Pose estimators, face aligners and robot grasp detectors all predict landmarks this way: a fully convolutional
# network outputs one map per landmark at the resolution of the image, and the peak of each map is the answer.
# Distillation fits naturally, because a heatmap *is* a soft target: it says how likely each pixel is. Here we ask
# whether a network of the same size trained on its predecessor's maps (the second generation) localises better than
# the predecessor, and whether its maps are sharper or softer.
#
# The images are generated: 20 x 20 pixels, each holding the noisy outline of one triangle. Landmark k is the corner
# that lies in the k-th third of the circle around the triangle's centre (counted counter-clockwise from "east"), so
# every corner has a fixed identity and the network must tell them apart, not just find corners.

# %%
# parameters
SEED = 0  # drives the images (data seed SEED) and the networks (net seeds 3*SEED .. 3*SEED+2)
N_NETS = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy import stats

from course_lib.claims import Claims
from course_lib.distill import keypoints as kp
from course_lib.labs.ch4 import keypoints as lab
from course_lib.ui import quiz

claims = Claims("ch4_03_keypoint_heatmaps")
NETS = list(range(SEED * N_NETS, SEED * N_NETS + N_NETS))
d = lab.shapes(SEED)
print(f"{len(d.X_train)} training and {len(d.X_test)} test images of {lab.SIZE}x{lab.SIZE} pixels, "
      f"{lab.K} landmarks each, pixel noise sd {lab.NOISE}")

fig, axes = plt.subplots(1, 5, figsize=(11, 2.6), constrained_layout=True)
for i, ax in enumerate(axes):
    ax.imshow(d.X_train[i, 0], cmap="gray", interpolation="nearest")
    for k, c in enumerate(["tab:red", "tab:green", "tab:blue"]):
        ax.plot(*d.P_train[i, k], "o", color=c, ms=6, label=f"landmark {k}")
    ax.set(title=f"training image {i}", xlabel="x (pixels)", ylabel="y (pixels)" if i == 0 else None)
axes[-1].legend(fontsize=7, loc="lower right")
plt.show()

# %% [markdown]
# ## 1. Heatmaps as softmax targets
#
# For each landmark the network outputs a 20 x 20 map of logits; a softmax over its 400 pixels turns it into a
# probability distribution. The target is a Gaussian of width sigma = 1 pixel around the true corner, normalised to
# sum to one, and the loss is the cross-entropy between the target and the softmax (`kp.heatmap_loss`). The answer
# is read off at the peak: the highest pixel, refined to a sub-pixel position by the centre of mass of the 3 x 3
# window around it (`kp.decode(..., "refined")`).
#
# Two kinds of numbers describe a trained network on the test images:
# - **sharpness**: the entropy of each landmark's softmax, in nats. A single pixel scores 0; a uniform map over 400
#   pixels scores log 400 = 5.99. The target itself has an entropy of about 2.8 nats (about 17 pixels' worth of
#   spread, since exp(2.8) is about 17).
# - **localisation**: the distance in pixels between the decoded peak and the true corner, averaged, and PCK at 1.5
#   pixels, the share of corners found within 1.5 pixels.

# %%
t = kp.gaussian_targets(d.P_train[:1], lab.SIZE, lab.SIGMA)
target_entropy = float(kp.heatmap_entropy(t.log()).mean())
print(f"entropy of a sigma={lab.SIGMA:g} target: {target_entropy:.2f} nats "
      f"(uniform: {np.log(lab.SIZE ** 2):.2f}); decoded target peaks {kp.decode(t.log(), 'refined')[0].tolist()}")
net = kp.fcn(lab.K, lab.WIDTH, seed=0)
print(f"weights in the FCN: {sum(p.numel() for p in net.parameters())}; output shape for one image: "
      f"{tuple(net(d.X_train[:1]).shape)}")
try:
    kp.gaussian_targets(d.P_train[:1], lab.SIZE, sigma=0)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# The network (`kp.fcn`) is four 3 x 3 convolutions with 8 channels (dilations 1, 2, 4 and 1, so each output pixel
# sees 17 x 17 input pixels) and a 1 x 1 head with one map per landmark: fewer than 2,000 weights (counted above),
# and the output has the resolution of the input.
#
# ## 2. Two generations, and a fair baseline
#
# At each of three net seeds we train three networks, all of this architecture, with Adam (learning rate 0.003,
# batches of 32) on the same 300 training images:
#
# | name | trained on | epochs |
# |---|---|---|
# | **gen1** | the Gaussian targets, from a random initialisation | 15 |
# | **gen2** | gen1's softmax heatmaps of the training images, from a *new* random initialisation | 15 (30 counting gen1's) |
# | **long** | gen1, trained 15 epochs more on the Gaussian targets | 30 |
#
# gen2 costs 30 epochs of training in all, so "long" (the same student from scratch, given the same budget) is the
# baseline it must beat; gen1 itself is the teacher it must beat. The hyperparameters were fixed before the
# comparison and not tuned; every number below is on the 400 test images. The networks are cached on disk, so a
# second run only evaluates them.
#
# **Predict, then run.** 1. Will gen2's heatmaps be sharper or softer than gen1's? 2. Will gen2 find the corners
# more precisely than gen1 trained as long?
#
# <details><summary>Answer</summary>
#
# 1. Softer. At every net seed gen2's test maps have a higher mean entropy than gen1's (by more than 0.02 nats on
#    average) and clearly higher than those of gen1 trained as long (by more than 0.1 nats on average): all asserted
#    below.
# 2. No. gen2's mean error is larger than that of gen1 trained as long by more than 0.1 pixels at every net seed, and
#    its PCK is lower. It does not beat its own teacher either: the 95% interval of the paired difference rules out
#    any gain larger than 0.1 pixels.
#
# </details>

# %%
rows = lab.experiment(SEED, NETS, progress=True)
df = pd.DataFrame(rows)
table = df.groupby("kind")[["entropy", "error", "pck"]].agg(["mean", "std"]).loc[list(lab.KINDS)]
print(table.round(3).to_string())
wide = df.pivot(index="seed", columns="kind")

# %%
h = wide["entropy"]
softer_than_teacher = (h["gen2"] - h["gen1"]).to_numpy()
softer_than_long = (h["gen2"] - h["long"]).to_numpy()
claims.check("At every net seed gen2's test heatmaps have a higher mean entropy (they are softer) than those of its "
             "own teacher gen1, by more than 0.02 nats on average",
             bool((softer_than_teacher > 0).all()) and softer_than_teacher.mean() > 0.02,
             gen1=h["gen1"].to_numpy(), gen2=h["gen2"].to_numpy(), mean_difference=softer_than_teacher.mean())
claims.check("At every net seed gen2's heatmaps are also softer than those of gen1 trained as long, by more than "
             "0.1 nats on average", bool((softer_than_long > 0).all()) and softer_than_long.mean() > 0.1,
             long=h["long"].to_numpy(), gen2=h["gen2"].to_numpy(), mean_difference=softer_than_long.mean())
print(f"entropy of the sigma=1 target: {target_entropy:.2f} nats; gen1 {h['gen1'].mean():.2f}, "
      f"long {h['long'].mean():.2f}, gen2 {h['gen2'].mean():.2f}")

# %% [markdown]
# Why softer? gen1's softmax maps are already wider than the Gaussian targets (compare their entropies with the
# target's 2.8 nats): where gen1 is unsure, it spreads its probability over several pixels. gen2 is trained to copy
# those wide maps, so it inherits gen1's uncertainty as if it were the truth, and adds its own on top. Training gen1
# longer on the sharp targets does the opposite: its maps narrow (asserted with the errors below). This is the usual finding for self-distilled
# heatmaps (they come out smoother), and it is the opposite of "sharper peaks".
#
# Softer is not necessarily worse, though: what matters for a landmark is where the peak is. So, the errors.

# %%
e = wide["error"]
diff = (e["gen2"] - e["long"]).to_numpy()
half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
lo, hi = diff.mean() - half, diff.mean() + half
print(f"gen2 - long, mean error: {diff.mean():+.3f} px, 95% interval {lo:+.3f} .. {hi:+.3f} px "
      f"({len(diff)} paired networks)")
d1 = (e["gen2"] - e["gen1"]).to_numpy()
half1 = stats.t.ppf(0.975, len(d1) - 1) * d1.std(ddof=1) / np.sqrt(len(d1))
print(f"gen2 - gen1, mean error: {d1.mean():+.3f} px, 95% interval {d1.mean() - half1:+.3f} .. {d1.mean() + half1:+.3f} px")
p = wide["pck"]
claims.check("gen1 finds most corners: its PCK at 1.5 pixels is above 0.7 at every net seed",
             bool((p["gen1"] > 0.7).all()), pck=p["gen1"].to_numpy())
claims.check("Training gen1 15 epochs more lowers its mean error at every net seed, and its mean entropy on "
             "average over the nets", bool((e["long"] < e["gen1"]).all()) and h["long"].mean() < h["gen1"].mean(),
             gen1=e["gen1"].to_numpy(), long=e["long"].to_numpy(), entropy_gen1=h["gen1"].mean(),
             entropy_long=h["long"].mean())
claims.check("gen2's mean error is larger than that of gen1 trained as long by more than 0.1 pixels at every net "
             "seed, and the 95% interval of the paired difference lies above zero",
             bool((diff > 0.1).all()) and lo > 0, differences=diff, lo=lo, hi=hi)
claims.check("gen2's PCK at 1.5 pixels is lower than that of gen1 trained as long, by more than 0.04 on average",
             (p["long"] - p["gen2"]).mean() > 0.04, long=p["long"].to_numpy(), gen2=p["gen2"].to_numpy())
claims.check("gen2 does not localise better than its own teacher: the 95% interval of the paired difference in "
             "mean error (gen2 - gen1, 3 networks) rules out any gain larger than 0.1 pixels",
             d1.mean() - half1 > -0.1, mean=d1.mean(), lo=d1.mean() - half1, hi=d1.mean() + half1)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8), constrained_layout=True)
ax = axes[0]
colours = {"gen1": "tab:gray", "long": "tab:blue", "gen2": "tab:orange"}
th = np.linspace(0.25, 3, 12)
for kind in lab.KINDS:
    curves = np.stack([kp.pck_curve(r["errors"], th).numpy() for r in rows if r["kind"] == kind])
    ax.plot(th, curves.mean(0), marker="o", color=colours[kind], label=kind)
ax.set(title="PCK on the test images (mean over nets)", xlabel="threshold (pixels)",
       ylabel="share of corners within threshold", ylim=(0, 1.02))
ax.legend()
ax.grid(alpha=0.3)
ax = axes[1]
for kind in lab.KINDS:
    sub = df[df["kind"] == kind]
    ax.scatter(sub["entropy"], sub["error"], color=colours[kind], s=50, label=kind)
ax.set(title="Sharpness against localisation (one point per net)", xlabel="mean test entropy (nats)",
       ylabel="mean error (pixels)")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 3. Softness is a temperature away
#
# Dividing the logits by a temperature T below 1 sharpens every map without moving its highest pixel. So a softer
# heatmap is not by itself a worse one: if gen2's peaks are in the right place, one number restores gen1's
# sharpness. The dashboard below moves a test image and a temperature applied to the cached logits of the first
# net seed (nothing is retrained, so a move is quick). The two panels overlay gen1's and gen2's maps in orange (the
# brightest of the three landmarks at each pixel) on the image, with the true corners (cyan circles) and the decoded
# peaks (green crosses); the line above them gives each network's mean test entropy at this temperature, and gen1's
# at T = 1.
#
# **Try:** step through a few test images at T = 1 and compare the blobs; then lower T to 0.5. **Look for:** images
# where gen1 and gen2 put a peak in different places (both usually err on the same faint corners), and the
# temperature at which gen2's mean entropy in the line above drops to gen1's at T = 1.
#
# **Predict, then run.** At what temperature does gen2's mean entropy match gen1's at T = 1: near 0.5, near 0.9,
# or above 1?
#
# <details><summary>Answer</summary>
#
# Near 0.9 to 1: a cooling of less than 10% gives gen2 gen1's sharpness (asserted below). The softness gen2 added
# is a small, uniform widening, which one scalar undoes; its larger error is not undone, because cooling hardly
# moves a peak.
#
# </details>

# %%
dash = lab.dashboard(SEED)
dash

# %%
s = lab.setup(SEED)
h1 = float(kp.heatmap_entropy(s.logits["gen1"]).mean())
grid = np.round(np.arange(0.5, 1.001, 0.01), 2)
h2 = np.array([float(kp.heatmap_entropy(s.logits["gen2"], T).mean()) for T in grid])
T_match = float(grid[np.argmin(np.abs(h2 - h1))])
check = lab.dashboard(SEED, background=False)
r = check.update(temperature=T_match)
print(f"gen1 at T=1: {h1:.3f} nats; gen2 matches it at T={T_match:.2f} ({r['mean_entropy']['gen2']:.3f} nats)")
print(f"gen2's mean error at T=1: {kp.evaluate(s.logits['gen2'], s.data.P_test)['error']:.3f} px; "
      f"cooled to T={T_match:.2f}: {kp.evaluate(s.logits['gen2'] / T_match, s.data.P_test)['error']:.3f} px")
claims.check("Cooling gen2's logits by less than 10% (a temperature between 0.9 and 1) gives it gen1's sharpness "
             "within 0.02 nats", 0.9 <= T_match < 1 and abs(r["mean_entropy"]["gen2"] - h1) < 0.02,
             T=T_match, gen1=h1, gen2_cooled=r["mean_entropy"]["gen2"])

# %% [markdown]
# > **Beside the paper.** Furlanello et al. (2018) trained DenseNets and other networks on the outputs of an
# > identical, previously trained network, generation after generation, and found that the born-again students beat
# > their teachers: their best born-again DenseNets reached 15.5% validation error on CIFAR-100 (3.5% on CIFAR-10).
# > Our miniature keeps the recipe (same architecture, fresh initialisation, the teacher's full output distribution
# > as the target) on a different task: the output is a distribution over pixels, not over classes. What did not
# > carry over is the headline: our second generation did not beat its teacher (any gain larger than 0.1 pixels is ruled out) and lost clearly to the
# > teacher trained as long. Two differences may explain it. In classification, the teacher's probabilities for the
# > wrong classes say which classes look alike; in a heatmap, the teacher's spread mostly says how unsure it was
# > around the peak, which the student copies as blur. And our gen1 is not converged (15 more epochs lower its
# > error at every seed), so gen2 learns from a weaker teacher than the baseline it is compared with. We have not
# > reproduced the pose-estimation literature on self-distilled heatmaps and do not quote numbers from it.
# >
# > We also compare against the teacher trained for as many epochs as both generations together, a baseline the
# > paper's headline comparison does not need; with networks this small, the extra epochs alone matter.
#
# ## Check yourself

# %%
quiz("gen2's heatmaps have a higher entropy than gen1's. What does that tell you about where gen2 puts the corners?",
     [("Nothing by itself: entropy measures how spread the map is, and the error measures where its peak is; "
       "a temperature changes the first without moving the peak.", True,
       "Right: section 3 cools gen2 to gen1's sharpness with one scalar, and the highest pixel stays put."),
      ("gen2 must be less accurate, because a softer map is less certain.", False,
       "No: a map can be soft and centred on the right pixel; compare the errors, not the entropies."),
      ("gen2 must be more accurate, because soft targets carry dark knowledge.", False,
       "No: whether it localises better is a separate measurement, made in section 2.")])
quiz("Why is gen2 compared with gen1 trained for 30 epochs, not only with gen1 after 15?", [
    ("Because gen2's result depends on 30 epochs of training in all (15 for its teacher and 15 for itself); a "
     "network trained as long on the true targets is the fair baseline for that budget.", True,
     "Right: otherwise a gain could come from more training, not from the teacher's maps."),
    ("Because gen1 after 15 epochs has not been evaluated.", False, "No: it has, it is the row 'gen1'."),
    ("Because longer training always makes heatmaps softer.", False,
     "No: here the longer-trained gen1 had the lowest mean entropy of the three kinds, not the highest."),
])

# %% [markdown]
# ## What we learned
# - A landmark detector can be a classifier per landmark: a softmax over pixels, trained with cross-entropy to a
#   Gaussian target, read off at its peak.
# - A second generation trained on the first one's heatmaps had *softer* maps than its teacher at every net seed,
#   and much softer than the teacher trained as long: it copies the teacher's uncertainty as if it were the target.
# - It did not localise better: its error was above the teacher's (any gain above 0.1 pixels ruled out) and clearly
#   above that of the teacher trained for the same total number of epochs, the fair baseline.
# - Sharpness and accuracy are separate: a temperature below 1 restores the sharpness with one scalar and barely
#   moves the peaks. Report the error in pixels and PCK, not only how peaked the maps look.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 8/8

# %% [markdown]
# ## References
# - Furlanello, T., Lipton, Z. C., Tschannen, M., Itti, L. and Anandkumar, A. (2018). Born-again neural networks.
#   ICML.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Tompson, J., Jain, A., LeCun, Y. and Bregler, C. (2014). Joint training of a convolutional network and a
#   graphical model for human pose estimation. NeurIPS (heatmap regression for landmarks).
# - Yu, F. and Koltun, V. (2016). Multi-scale context aggregation by dilated convolutions. ICLR.
#
# **Next:** [4.4 Language](ch4_04_language_layer_mapping.ipynb): which teacher layers a shallower transformer student
# should copy, and whether the answer depends on the task.
