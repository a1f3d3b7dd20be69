# %% [header]
# number = "3.7"
# title = "Size, speed, accuracy: every student reported the way DistilBERT was"
# syllabus = ["B7"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch2_03_structured_pruning", "ch2_04_quantization", "ch2_06_low_rank_svd"]
# objectives = [
#     "report a compressed model as x% smaller, y% faster and z% of the teacher's score kept, with latency from paired, interleaved timing",
#     "draw the size-accuracy and speed-accuracy trade-off for distilled, pruned, quantized, low-rank and structured-pruned students",
#     "explain which parts of DistilBERT's 40% / 60% / 97% carry over to small MLPs on a CPU and which do not",
# ]

# %% [markdown]
# Sanh et al. (2019) summed up DistilBERT in one line: **40% smaller, 60% faster, 97% of BERT's language
# understanding kept**. Three numbers, each against the teacher: parameters, CPU inference time, and the GLUE
# score. It is a good habit for any compressed model, because each number alone misleads: a model can be small
# but no faster (sparse weights on a dense kernel), fast but worse, or small on paper but slow in practice.
#
# Here every kind of student this course builds is measured against the same teacher, the 256-256 MLP on the
# digits (cached):
#
# - **distilled MLPs** 64-w-w-10 for w = 16, 32, 64, 128 (KD at T = 4, alpha = 0.9, 150 full-batch epochs;
#   cached on disk);
# - the teacher **pruned** to 90% global sparsity (magnitude, `torch.nn.utils.prune`, notebook 2.1), its size
#   counted in the CSR format;
# - the teacher **quantized** to int8 after training (torchao's dynamic int8, notebook 2.4), its size counted as
#   packed int8 weights;
# - its 256 x 256 layer replaced by a **rank-16 factorization** (SVD, notebook 2.6);
# - **75% of its hidden units removed** (structured pruning, notebook 2.3), a 64-64-64-10 network.
#
# The last three compressed models that can be trained get 30 epochs of KD fine-tuning. Size is stored bytes
# (float32 = 4 bytes a number). Speed is measured with `latency.compare`: each model's forward pass runs
# interleaved with all the others (a, b, c, ..., then reversed), 31 times, on one thread, and each speed-up is the
# median over those 31 back-to-back pairs of teacher time divided by student time. A burst of background load
# slows both members of a pair, so the ratio survives a busy laptop better than a ratio of two separate runs. We
# report the spread too: the 25th percentile of the 31 paired speed-ups.

# %%
# parameters
SEED = 0  # drives the split, the teacher and every student

# %%
import matplotlib.pyplot as plt
import numpy as np

from course_lib import models
from course_lib.claims import Claims
from course_lib.labs.ch3 import tradeoff as lab
from course_lib.reliability import report
from course_lib.ui import plots, quiz

claims = Claims("ch3_07_size_speed_accuracy")

# %% [markdown]
# ## 1. Build and time every student
#
# Training the distilled students takes about five seconds the first time (then they come from the disk
# cache); compressing, fine-tuning and timing take a few seconds more.
#
# **Predict, then run.** 1. The 32-32 distilled student has about 24 times fewer FLOPs than the teacher. How much
# faster will it be with a batch of 256 inputs, and with a single input? 2. Which compressed model will be the
# slowest?
#
# <details><summary>Answer</summary>
#
# 1. With 256 inputs, more than 3x faster (claim below; at SEED=0 our runs measured 5.6x to 6x); with one input,
# under 3x (1.3x to 1.7x in our runs): a forward pass of a few thousand multiply-adds is dominated by the fixed cost of calling each
# layer, which the student pays just as the teacher does.
# 2. The int8 model: it is slower than the float teacher at batch 1 (claim below), because dynamic quantization
# measures and converts every input at run time, a cost that only pays off on large matrices.
#
# </details>

# %%
s = lab.build(SEED, progress=True)
lab.time_all(s)
tab = lab.table(s)
teacher_flops = models.flops(s.models["teacher"], (64,))
flop_ratio = teacher_flops / models.flops(s.models["KD 32-32"], (64,))
print(f"{'':>22}  accuracy   KiB    speed-up b=1 [q25]   speed-up b=256 [q25]")
for k, r in tab.items():
    print(f"{k:>22}  {r['accuracy']:7.1%}  {r['bytes'] / 1024:6.1f}   {r['speedup_b1']:6.2f}x [{r['speedup_b1_q25']:.2f}]"
          f"       {r['speedup_b256']:6.2f}x [{r['speedup_b256_q25']:.2f}]")
print(f"\nFLOPs: teacher {teacher_flops}, KD 32-32 {teacher_flops / flop_ratio:.0f} ({flop_ratio:.0f}x fewer)")

# %% [markdown]
# ## 2. The DistilBERT line for each student
#
# `report.distilbert_style` computes the three numbers: *smaller* is one minus the size ratio, *faster* is the
# speed-up minus one (DistilBERT's "60% faster" is BERT's 668 s against its 410 s, a speed-up of 1.63), and
# *kept* is the ratio of test accuracies. `report.describe` writes the line.

# %%
for k, r in tab.items():
    if k != "teacher":
        print(f"{k:>22}: batch 1: {r['line_b1']}\n{'':>22}  batch 256: {r['line_b256']}")
db = report.DISTILBERT
db_rep = report.distilbert_style(db["teacher_params"], db["student_params"], db["teacher_seconds"],
                                 db["student_seconds"], db["teacher_score"], db["student_score"])
print(f"\n{'DistilBERT (paper)':>22}: {report.describe(db_rep)}")

# %% [markdown]
# ## 3. The trade-off
#
# Left: stored size against test accuracy, with the distilled students joined by a line; a circle marks a model
# no other model beats on both axes at once (the Pareto front), a cross one that is beaten. Right: speed-up at
# batch 256 against accuracy.

# %%
names = list(tab)
kb = np.array([tab[k]["bytes"] / 1024 for k in names])
acc = np.array([tab[k]["accuracy"] for k in names])
front = report.pareto_mask(kb, acc)
colours = {"teacher": "k", "distilled": "tab:blue", "compressed": "tab:orange"}
fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
d = [i for i, k in enumerate(names) if tab[k]["kind"] == "distilled"]
a1.plot(kb[d], acc[d], "-", color="tab:blue", lw=1)
for i, k in enumerate(names):
    c = colours[tab[k]["kind"]]
    a1.scatter(kb[i], acc[i], color=c, marker="o" if front[i] else "x", s=40)
    a1.annotate(k, (kb[i], acc[i]), fontsize=7, xytext=(4, -10 if i % 2 else 4), textcoords="offset points")
    a2.errorbar(tab[k]["speedup_b256"], acc[i], xerr=[[tab[k]["speedup_b256"] - tab[k]["speedup_b256_q25"]],
                                                      [tab[k]["speedup_b256_q75"] - tab[k]["speedup_b256"]]],
                fmt="o", color=c, capsize=3)
    a2.annotate(k, (tab[k]["speedup_b256"], acc[i]), fontsize=7, xytext=(4, 4), textcoords="offset points")
a1.set_xscale("log")
a2.set_xscale("log")
plots.style(a1, "Size against accuracy (o: on the Pareto front)", "stored size (KiB, log scale)", "test accuracy")
plots.style(a2, "Speed-up at batch 256 (bars: 25th-75th percentile of paired runs)",
            "speed-up over the teacher (x, log scale)", "test accuracy")
plt.tight_layout()
plt.show()
print("on the size-accuracy front:", [k for k, f in zip(names, front) if f])

# %%
k32 = tab["KD 32-32"]
claims.check("the 32-32 distilled student is over 90% smaller than the teacher and keeps over 96% of its test accuracy",
             k32["smaller"] > 0.90 and k32["kept"] > 0.96, smaller=k32["smaller"], kept=k32["kept"])
claims.check("at batch 256 the 32-32 student is more than 3x faster than the teacher (median of paired runs), and its "
             "25th-percentile paired speed-up is above 2x", k32["speedup_b256"] > 3 and k32["speedup_b256_q25"] > 2,
             median=k32["speedup_b256"], q25=k32["speedup_b256_q25"])
claims.check("at batch 1 the same student is less than 3x faster, although it needs over 20x fewer FLOPs",
             k32["speedup_b1"] < 3 and flop_ratio > 20, speedup_b1=k32["speedup_b1"], flop_ratio=flop_ratio)
pr = tab["pruned 90%"]
claims.check("the 90%-pruned teacher is no faster at batch 256: its paired speed-up lies between 0.5x and 1.5x",
             0.5 < pr["speedup_b256"] < 1.5, speedup=pr["speedup_b256"])
q8 = tab["int8 (torchao)"]
claims.check("the int8 model is slower than the float teacher at batch 1 (paired speed-up below 1)",
             q8["speedup_b1"] < 1, speedup=q8["speedup_b1"])
k64 = tab["KD 64-64"]
claims.check("at batch 256 the 64-64 student beats DistilBERT's three numbers: more than 40% smaller, more than 60% "
             "faster, more than 97% kept", k64["smaller"] > 0.40 and k64["speedup_b256"] > 1.60 and k64["kept"] > 0.97,
             smaller=k64["smaller"], faster=k64["speedup_b256"] - 1, kept=k64["kept"])

# %% [markdown]
# What the numbers say. Distillation into a narrower network wins on all three axes at large batches: the
# matrices shrink, and so does the time. At batch 1 the same student is barely faster: each of its three layers
# costs a fixed few microseconds to call, whatever its width. Unstructured pruning saves bytes only in a sparse
# format and no time on a dense kernel; removing whole units (structured) buys real speed (compare its accuracy
# in the table with the 64-64 distilled student, the same shape trained another way). int8 saves about three
# quarters of the bytes, but torchao's dynamic int8 path, built for large matrices, costs far more per call
# than it saves on ours.
#
# > **Beside the paper.** Sanh et al. (2019), Table 1 and Table 3: DistilBERT keeps 97% of BERT-base's GLUE
# > score (77.0 against 79.5) with 40% fewer parameters (66M against 110M), and runs 60% faster: 410 s against
# > 668 s for a full pass over STS-B on CPU at batch size 1, a speed-up of 1.63. Our 32-32 student
# > measured over 90% smaller and over 96% kept; its speed-up is over 3x at batch 256 but under 3x at batch 1.
# > The 64-64 student beats all three of DistilBERT's numbers at batch 256 (over 40% smaller, over 60% faster,
# > over 97% kept).
# > What carries over: the report itself, and the fact that a smaller dense network is faster in proportion to
# > its compute once the compute dominates. What does not: DistilBERT removed half of BERT's *layers* and kept
# > their width, so even at batch 1 its time fell with its depth, since each transformer layer is heavy. We
# > narrowed the layers and kept their number, and at batch 1 our layers are so light that the cost of calling
# > them dominates. And DistilBERT's score is a mean over nine language tasks; ours is one digit test set.
#
# ## 4. Try it: one student at a time
#
# **What to try:** step through the students. **What to look for:** the red circle moves on both plots, and the
# line under the slider gives the student's DistilBERT-style report at batch 1 and its speed at batch 256. Compare
# the 75%-units-removed model with the 64-64 distilled one: the same shape and the same work per input.

# %%
dash = lab.dashboard(SEED)
dash

# %% [markdown]
# ## Check yourself

# %%
quiz("The 90%-pruned teacher is 68% smaller in CSR format yet no faster. Why?", [
    ("Its matrices keep their shapes and the dense kernel multiplies the zeros too.", True,
     "Right: speed needs a change of shape (structured pruning, a narrower student) or a sparse kernel that pays off."),
    ("Pruning always slows a model down.", False, "No: removing whole units made the teacher several times faster."),
    ("The fine-tuning added parameters back.", False, "No: the masks are folded in; the zeros stay zeros."),
])

# %%
quiz("Why is the 32-32 student several times faster at batch 256 but well under 3x faster at batch 1?", [
    ("At batch 1 the fixed cost of calling each layer dominates, and both models have three layers.", True,
     "Right: the work shrank 24x, the overhead did not; DistilBERT cut the number of layers, which cuts the overhead too."),
    ("The student's accuracy is lower at batch 1.", False, "No: accuracy does not depend on the batch size."),
    ("The timing is too noisy at batch 1.", False,
     "No: the paired, interleaved ratios are stable; the 25th percentile is printed beside each median."),
])

# %% [markdown]
# ## What we learned
# - A 32-32 distilled MLP is over 90% smaller than its 256-256 teacher and keeps over 96% of its accuracy; at
#   batch 256 it is more than 3x faster (paired medians, with the 25th percentile above 2x). The 64-64 student
#   beats DistilBERT's 40% / 60% / 97% on all three at batch 256.
# - At batch 1 it is under 3x faster despite over 20x fewer FLOPs: per-layer overhead dominates tiny models.
# - 90% unstructured pruning gives no speed-up on a dense kernel (0.5x to 1.5x); int8 dynamic quantization is
#   slower than float at batch 1 on these small matrices.
# - Report all three numbers, at the batch size you will deploy with, from paired timings.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 6/6

# %% [markdown]
# ## References
# - Sanh, V., Debut, L., Chaumond, J., Wolf, T. (2019). DistilBERT, a distilled version of BERT: smaller, faster,
#   cheaper and lighter. arXiv:1910.01108.
# - Hinton, G., Vinyals, O., Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Han, S., Mao, H., Dally, W. J. (2016). Deep compression. ICLR.
# - Jacob, B. et al. (2018). Quantization and training of neural networks for efficient integer-arithmetic-only
#   inference. CVPR.
#
# **Next:** chapter 4 applies distillation to applications, starting with
# [4.1 Image recognition](ch4_01_image_recognition.ipynb).
