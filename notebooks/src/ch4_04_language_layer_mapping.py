# %% [header]
# number = "4.4"
# title = "Language: which teacher layers should a shallow transformer student learn from?"
# syllabus = ["A4"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_04_hints_fitnets"]
# objectives = [
#     "map the layers of a 2-layer transformer student onto a 4-layer teacher (uniform, first, last) and distil hidden states",
#     "find where a teacher holds the answer with one linear probe per layer, on two generated sequence tasks",
#     "compare the three mappings with output distillation and with training from scratch, over seeds",
#     "relate the miniature to patient KD (Sun et al. 2019) and TinyBERT (Jiao et al. 2020)",
# ]

# %% [markdown]
# A language model is a stack of transformer layers, and a distilled language model is usually a *shorter* stack:
# TinyBERT keeps 4 of BERT-base's 12 layers, the students of patient KD keep 3 or 6. Matching only the teacher's
# output throws away what the teacher computed on the way, so both methods also ask each student layer to imitate
# the hidden state of one teacher layer. Which one? A **layer mapping** answers that, one teacher layer per student
# layer. With a 2-layer student and a 4-layer teacher the three usual choices are:
#
# - **uniform**: every second teacher layer, ending at the top, so layers 2 and 4 (patient KD's *skip*, TinyBERT's
#   mapping);
# - **first**: the teacher's bottom layers, 1 and 2;
# - **last**: the teacher's top layers, 3 and 4 (patient KD's *last*).
#
# You will write this mapping yourself in exercise H22 (chapter 5): layers are numbered from 1, the uniform mapping
# takes every (n_teacher / n_student)-th layer and ends at the teacher's last one, and a student deeper than its
# teacher (or an unknown kind) is a ValueError.
#
# Whether the bottom or the top of the teacher is the better lesson should depend on what the task needs and where
# the teacher builds it. So we build a teacher that builds two answers at two different depths, check with linear
# probes where each one lives, and then distil each task with each mapping.

# %%
# parameters
SEED = 0  # drives the teacher, the probe, validation and test data, and the students (4 per SEED)
N_STUDENTS = 4

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from course_lib.claims import Claims
from course_lib.distill import language as LG
from course_lib.distill.layer_mapping import layer_mapping
from course_lib.labs.ch4 import language as lab
from course_lib.ui import quiz

claims = Claims("ch4_04_language_layer_mapping")
STUDENT_SEEDS = range(SEED * N_STUDENTS, SEED * N_STUDENTS + N_STUDENTS)  # disjoint for every SEED
for kind in ("uniform", "first", "last"):
    print(f"{kind:>8}: student layers 1, 2 learn from teacher layers {layer_mapping(kind, 2, 4)}")

# %% [markdown]
# ## 1. One teacher, two answers built at two depths
#
# Every sequence has 8 tokens drawn uniformly from 8 symbols. It carries two labels, each one of four classes:
#
# - **first token**: the first token modulo 4;
# - **last token**: the last token modulo 4.
#
# Each label alone needs one attention step that copies one token's identity to where the classifier reads it (the
# mean over positions). What differs is *where in the teacher* that step is asked for. The teacher is a 4-layer
# `torch.nn.TransformerEncoder` (width 16, 2 heads, token and position embeddings) with two linear classifiers on
# mean-pooled states: an **early exit after layer 2** is trained on the first-token class, the **output head after
# layer 4** on the last-token class. So layers 1 and 2 serve one objective and layers 3 and 4 another, a
# miniature of what probing studies report for BERT (Tenney et al. 2019): surface information is readable low in
# the stack, while the layers near the top are shaped by the objective the model was trained on. Both heads learn
# together for 150 Adam steps, each on 256 fresh sequences.
#
# SEED drives everything: the teacher's initialisation and training sequences, the probe data, the students and
# their data. The teacher is cached on disk by its configuration; the first run trains it (under 10 s of CPU).
# When we distil the first-token task the teacher's signal is the early exit (for output distillation) and its
# hidden states; for the last-token task it is the output head and the same hidden states.

# %%
s = lab.setup(SEED)
for task in lab.TASKS:
    print(f"teacher head for the {lab.TASK_NAMES[task]}: test accuracy {s.teacher_acc[task]:.1%}")
x, _ = LG.make_task("first", 3, seed=SEED)
for row in x:
    print("sequence", row.tolist(), "-> first-token class", int(LG.labels("first", row[None])[0]),
          "| last-token class", int(LG.labels("last", row[None])[0]))

# %%
claims.check("both of the teacher's heads are at least 98% right on their task (early exit: first token; output "
             "head: last token)", min(s.teacher_acc.values()) >= 0.98,
             first=s.teacher_acc["first"], last=s.teacher_acc["last"])

# %% [markdown]
# ## 2. Where does the teacher hold each answer?
#
# A **linear probe** is a logistic regression fitted on a frozen representation. We take the teacher's state after
# each layer, average it over the 8 positions, and fit one probe per layer and task on 600 sequences; its accuracy on
# 400 others says how much of the answer that layer makes *linearly readable* (layer 0 is the embeddings, before
# any attention).
#
# **Predict, then run.** 1. From which layer on is the first-token class readable? 2. And the last-token class: is
# it already there after layers 1 and 2, the ones the *first* mapping will teach from?
#
# <details><summary>Answer</summary>
#
# 1. Almost entirely from layer 1, below the early exit that reads it: the probe is at least 90% right at layer 1
# and at least 95% at layers 2 to 4, against less than 60% on the embeddings. It stays readable to the top, though
# no head asks for it there.
# 2. Only partly: at layers 1 and 2 the last-token probe is at least 5 points below its score at layer 4; it is at
# least 95% right at layers 3 and 4 (the claims below). The teacher spends its first two layers on the exit's task
# and finishes the last token's class above them.
#
# </details>

# %%
x = np.arange(5)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for task, mk in zip(lab.TASKS, "os"):
    ax.plot(x, s.curves[task], marker=mk, label=lab.TASK_NAMES[task])
for kind, y0 in (("first", 0.07), ("uniform", 0.15), ("last", 0.23)):
    ax.plot(layer_mapping(kind, 2, 4), [y0, y0], ls="none", marker="|", ms=7, mew=3, color="0.35")
    ax.text(4.15, y0, kind, va="center", fontsize=8)
ax.set(xticks=x, xlim=(-0.2, 4.6), ylim=(0, 1.03), xlabel="teacher layer (0 = embeddings)",
       ylabel="linear-probe test accuracy")
ax.set_title("Where the teacher holds each answer (ticks: layers each mapping uses)", fontsize=10)
ax.grid(alpha=0.3)
ax.legend(loc="center right", fontsize=8)
plt.tight_layout()
plt.show()
for task in lab.TASKS:
    print(f"{lab.TASK_NAMES[task]:>34}: " + "  ".join(f"L{k} {a:.0%}" for k, a in enumerate(s.curves[task])))

# %%
c1, c2 = s.curves["first"], s.curves["last"]
claims.check("the first-token class is readable from teacher layer 1 on: the probe scores at least 90% at layer 1, "
             "at least 95% at layers 2 to 4, and less than 60% on the embeddings",
             c1[1] >= 0.90 and c1[2:].min() >= 0.95 and c1[0] < 0.60,
             layer0=c1[0], layer1=c1[1], layers2to4_min=c1[2:].min())
claims.check("the last-token class is finished above the early exit: the probe at layers 1 and 2 scores at least "
             "5 points below layer 4, and at least 95% at layers 3 and 4",
             max(c2[1], c2[2]) <= c2[4] - 0.05 and min(c2[3], c2[4]) >= 0.95,
             layer1=c2[1], layer2=c2[2], layer3=c2[3], layer4=c2[4])

# %% [markdown]
# ## 3. Distil: three mappings, output distillation, and no teacher
#
# The student is the same transformer with 2 layers. It sees only **64 labelled sequences** of one task, too few to
# learn it reliably alone, and the teacher's signal on **150 unlabelled sequences**: either the predicted class
# probabilities of the teacher's head for that task (output distillation, the KL divergence of chapter 1), or the
# hidden states of the mapped teacher layers. We use **TinyBERT's hidden loss**: the mean-squared error between
# the student layer's state and its teacher layer's state *at every position* (no projection is needed, the
# student is as wide as the teacher), with weight 1 beside the cross-entropy on the labels. Every student trains for
# 80 full-batch Adam steps. Per SEED we train 4 students per task and method (each student seed draws new labelled
# and unlabelled sequences and a new initialisation; a seed's students of different methods share them, so the
# comparisons are paired). We **choose the best mapping for each task on 1000 validation sequences** and report
# accuracy on 2000 test sequences. The students are cached on disk; the first run trains 40 of them (under a
# minute of CPU), later runs load them.
#
# **Predict, then run.** 1. Which mapping should win on the first-token task, and which on the last-token task?
# 2. Can a mapping be *worse* than no teacher at all?
#
# <details><summary>Answer</summary>
#
# 1. The validation data pick the *first* mapping for the first-token task and a mapping that reaches the top
# (uniform or last) for the last-token task. On the test sequences each task's chosen mapping beats the other
# task's choice by at least 20 points on average and by more than 3 paired standard errors, and the 95% interval of
# the interaction (how much more the first mapping gains over the last one on the first-token task than on the
# last-token task) lies above 40 points (the claims below).
# 2. Yes: on the first-token task the last mapping averages at least 5 points below the students trained on the 64
# labels alone, and the uniform mapping at least 15 points below the first mapping. Both pull the student's top
# layer towards teacher layer 4, which serves the last-token head.
#
# </details>

# %%
acc = {task: {m: np.array([lab.student_accuracy(task, m, sd, SEED) for sd in STUDENT_SEEDS]) for m in lab.METHODS}
       for task in lab.TASKS}  # (student seed, [validation, test])
val = {t: {m: float(acc[t][m][:, 0].mean()) for m in lab.METHODS} for t in lab.TASKS}
test = {t: {m: acc[t][m][:, 1] for m in lab.METHODS} for t in lab.TASKS}
mean = {t: {m: float(test[t][m].mean()) for m in lab.METHODS} for t in lab.TASKS}
chosen = {t: max(lab.MAPPINGS, key=lambda k: val[t][k]) for t in lab.TASKS}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, task in zip(axes, lab.TASKS):
    ax.bar(lab.METHODS, [mean[task][m] for m in lab.METHODS], yerr=[test[task][m].std() for m in lab.METHODS],
           capsize=4, color=["0.6", "0.4", "C0", "C1", "C2"])
    for i in range(N_STUDENTS):
        ax.plot(lab.METHODS, [test[task][m][i] for m in lab.METHODS], "k.", alpha=0.5)
    ax.axhline(s.teacher_acc[task], color="C3", ls="--", lw=1, label=f"teacher's head {s.teacher_acc[task]:.0%}")
    ax.set(ylim=(0, 1.03), xlabel="how the 2-layer student was trained",
           ylabel=f"test accuracy (mean +/- std, dots: {N_STUDENTS} seeds)",
           title=f"{lab.TASK_NAMES[task]}: chosen mapping '{chosen[task]}'")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
for task in lab.TASKS:
    print(f"{lab.TASK_NAMES[task]:>34}: " + "  ".join(f"{m} {mean[task][m]:.1%}" for m in lab.METHODS)
          + f"  | chosen on validation: {chosen[task]}")

# %% [markdown]
# The claim to test is that **the best mapping depends on the task**. Its strongest honest form here: the mapping
# chosen on validation for one task, tried on the other task, loses clearly to that task's own choice. For each
# task we take the paired differences (same student seed, same data) between its chosen mapping and the other
# task's chosen mapping, and ask for a mean of at least 20 points and more than 3 standard errors.

# %%
n = N_STUDENTS
margin = {}
for task, other in (("first", "last"), ("last", "first")):
    d = test[task][chosen[task]] - test[task][chosen[other]]
    margin[task] = (float(d.mean()), float(d.std(ddof=1) / np.sqrt(n)) if chosen[task] != chosen[other] else np.inf)
    print(f"{lab.TASK_NAMES[task]}: {chosen[task]} - {chosen[other]} = {margin[task][0]:+.1%} "
          f"(paired standard error {margin[task][1]:.1%})")
claims.check("the best mapping depends on the task: validation chooses different mappings for the two tasks, and on "
             "the test sequences each task's choice beats the other task's choice by at least 20 points on average "
             "and by more than 3 paired standard errors over the 4 student seeds",
             chosen["first"] != chosen["last"] and all(m >= 0.20 and m > 3 * se for m, se in margin.values()),
             chosen=chosen, first_task=margin["first"], last_task=margin["last"])
inter = (test["first"]["first"] - test["first"]["last"]) - (test["last"]["first"] - test["last"]["last"])
half = stats.t.ppf(0.975, n - 1) * inter.std(ddof=1) / np.sqrt(n)
print(f"interaction (first - last mapping on the first-token task, minus the same on the last-token task): "
      f"{inter.mean():+.1%}, 95% interval {inter.mean() - half:+.1%} to {inter.mean() + half:+.1%}")
claims.check("the 95% interval of the mapping-by-task interaction (first minus last mapping on the first-token task, "
             "minus the same on the last-token task; paired over student seeds) lies above 40 points",
             inter.mean() - half > 0.40, mean=inter.mean(), low=inter.mean() - half, high=inter.mean() + half)

# %%
f, l = mean["first"], mean["last"]
claims.check("on the first-token task the uniform and last mappings each average at least 15 points below the first "
             "mapping, and the last mapping is worse than no teacher: at least 5 points below the students trained "
             "on the labels alone",
             max(f["uniform"], f["last"]) <= f["first"] - 0.15 and f["last"] <= f["scratch"] - 0.05,
             uniform=f["uniform"], last=f["last"], first=f["first"], scratch=f["scratch"])
claims.check("output distillation averages at least 99% on both tasks", min(f["output"], l["output"]) >= 0.99,
             first=f["output"], last=l["output"])

# %% [markdown]
# What the numbers say:
#
# - On the **first-token** task the first mapping is the one to use: it imitates exactly the layers that serve the
#   early exit, and its students are nearly as good as the exit itself, while the uniform and last mappings fall
#   far behind it and the last mapping is worse than no teacher. Teacher layers 3 and 4 still hold the first
#   token's class (the probe of section 2 reads it), so *readable* is not the same as *a good lesson*. A likely
#   reason (not tested here): imitating every position of layer 4 asks the student's top layer to look like a
#   state arranged for the last-token head, and the student's classifier has only 64 labels to find the other
#   answer in it.
# - On the **last-token** task the order turns around: the class is finished above the early exit, a mapping that
#   ends at teacher layer 4 teaches it, and the first mapping asks the student to imitate the two layers that serve
#   the other head.
# - Output distillation, which copies only the right head's predictions, averages at least 99% on both tasks. It
#   needs no choice of layers at all, which is one reason the hidden-state losses are used *beside* an output loss
#   in both papers, not instead of it.
#
# > **Beside the paper.** Sun et al. (2019, patient KD) distil BERT-base (12 layers) into 6- and 3-layer students
# > and compare *PKD-skip* (every other layer, our uniform) with *PKD-last* (the top layers, our last); skip came
# > out slightly ahead on most GLUE tasks, which they read as the lower layers holding information the student
# > needs too. Jiao et al. (2020, TinyBERT) map 4 student layers onto every third of BERT-base's 12, match the
# > hidden states of every token (with a learned projection, as their student is narrower) as well as attention
# > maps and embeddings, and reach more than 96.8% of BERT-base's GLUE score while being 7.5 times smaller and 9.4
# > times faster; their ablation of top, bottom and uniform mappings finds uniform best on average but no one
# > mapping best on every task. Our miniature makes that last observation large and controlled: with TinyBERT's
# > per-token loss the bottom (first) mapping wins the task whose answer the teacher builds low, and the mappings
# > that reach the top win the task it builds high, by margins printed above. Skip against last, the comparison of
# > patient KD, is printed below. What does not carry over: our teacher was *built* to hold its two answers at two
# > depths (an early exit), where BERT's layers arrange themselves; their students start from pre-trained weights
# > and learn from millions of unlabelled tokens, ours from scratch with 150 sequences.

# %%
for task in lab.TASKS:
    d = test[task]["uniform"] - test[task]["last"]
    print(f"{lab.TASK_NAMES[task]:>34}: uniform (PKD-skip) - last (PKD-last) = {d.mean():+.1%} "
          f"(paired standard error {d.std(ddof=1) / np.sqrt(n):.1%})")

# %% [markdown]
# ## 4. Try it: look inside the teacher, one layer at a time
#
# The slider picks a teacher layer and shows the two linear probes fitted on the teacher's cached pooled states at
# that layer (nothing is retrained on a move). **What to try:** move from 0 to 4. **What to look for:** the
# first-token probe jumps above 90% at layer 1 and stays near the top; the last-token probe only gets there at
# layer 3, above the early exit. The line under the plot says which mappings use the layer.
#
# **Predict, then run.** You move from layer 2 (the top of the *first* mapping and the early exit's layer) to layer
# 3. Which probe moves?
#
# <details><summary>Answer</summary>
#
# The last token's: it gains at least 5 points from layer 2 to layer 3, while the first token's probe, already at the
# top, changes by at most 2 points (the claim below).
#
# </details>

# %%
dash = lab.dashboard(SEED)
dash

# %%
r2, r3 = (lab.run(lab.setup(SEED), k)["acc"] for k in (2, 3))
claims.check("from teacher layer 2 to layer 3 the last-token probe gains at least 5 points and the first-token probe "
             "changes by at most 2", r3["last"] >= r2["last"] + 0.05 and abs(r3["first"] - r2["first"]) <= 0.02,
             layer2=r2, layer3=r3)

# %% [markdown]
# ## Check yourself

# %%
quiz("A 3-layer student learns from a 12-layer teacher with the uniform mapping. Which teacher layers does it imitate?", [
    ("4, 8 and 12", True, "Right: every 12/3 = 4th layer, ending at the teacher's last layer (patient KD's skip)."),
    ("1, 5 and 9", False, "No: that starts at layer 1; the uniform mapping ends at the top."),
    ("10, 11 and 12", False, "No: that is the 'last' mapping (PKD-last)."),
    ("0, 4 and 8", False, "No: layers are numbered from 1; layer 0 would be the embeddings."),
])

# %%
quiz("In section 2 the probe reads the first-token class from every teacher layer, yet the last mapping fails on that "
     "task. What does this tell you about choosing a mapping?", [
    ("A probe shows what a layer holds, not whether imitating the whole layer is a good lesson for a smaller student; "
     "check the mapping on validation data.", True,
     "Right: the per-token loss asks the student to reproduce everything at that layer, arranged for another head."),
    ("The probe must be wrong, since the student could not learn the class.", False,
     "No: the probe is scored on held-out sequences; it is the student's lesson, not the probe, that differs."),
    ("Any mapping that reaches a layer where the probe is high gives the same student.", False,
     "No: uniform and last both reach such layers on the first-token task and each lose to the first mapping by at "
     "least 15 points."),
])

# %%
quiz("Why is the mapping chosen on validation sequences and the margin reported on test sequences?", [
    ("Choosing and scoring on the same data would flatter the winner; fresh test data give an honest margin.", True,
     "Right: with 3 mappings to pick from, the best validation score is biased upwards."),
    ("Validation sequences are easier.", False, "No: they are drawn from the same distribution as the test ones."),
    ("The test set is too small to choose on.", False, "No: it is larger (2000 against 1000 sequences)."),
])

# %% [markdown]
# ## What we learned
# - A layer mapping sends each student layer to one teacher layer: for 2 of 4 layers, uniform uses 2 and 4, first 1
#   and 2, last 3 and 4.
# - Linear probes show where a teacher holds each answer: here the first-token class from layer 1 on (at least 90%
#   there, 95% above), the last-token class only above the early exit (at layers 1 and 2 at least 5 points below
#   layer 4).
# - With TinyBERT's per-token hidden loss, the best mapping depends on the task, by a wide margin: the mapping chosen
#   on validation for each task beats the other task's choice by at least 20 points and more than 3 paired standard
#   errors, and the interaction's 95% interval lies above 40 points.
# - A mapping can be worse than no teacher: on the first-token task the last mapping averages at least 5 points below
#   training on the 64 labels alone, though the probe reads the answer at the layers it imitates.
# - Output distillation from the right head is nearly perfect on both tasks here (at least 99% on average) and
#   needs no choice of layers.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 8/8

# %% [markdown]
# ## References
# - Sun, S., Cheng, Y., Gan, Z. and Liu, J. (2019). Patient Knowledge Distillation for BERT Model Compression.
#   EMNLP 2019.
# - Jiao, X. et al. (2020). TinyBERT: Distilling BERT for Natural Language Understanding. Findings of EMNLP 2020.
# - Romero, A. et al. (2015). FitNets: Hints for Thin Deep Nets. ICLR 2015.
# - Tenney, I., Das, D. and Pavlick, E. (2019). BERT Rediscovers the Classical NLP Pipeline. ACL 2019.
# - Alain, G. and Bengio, Y. (2017). Understanding intermediate layers using linear classifier probes. ICLR 2017
#   workshop.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the Knowledge in a Neural Network. arXiv:1503.02531.
#
# **Next:** [4.5 Reading digit strings](ch4_05_reading_digit_strings.ipynb): a quantized convolutional reader
# trained with CTC, with and without its teacher's per-frame soft targets.
