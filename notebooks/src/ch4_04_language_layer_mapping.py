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
# the teacher builds it. So we build two tasks that differ in exactly that, look inside the teachers with linear
# probes, and then distil.

# %%
# parameters
SEED = 0  # drives the probe and test data, the students' data and initialisations (3 students per SEED);
# the two teachers are held fixed (trained once with seed 0, see section 1)
N_SEEDS = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from course_lib.claims import Claims
from course_lib.distill import language as LG
from course_lib.distill.layer_mapping import layer_mapping
from course_lib.labs.ch4 import language as lab
from course_lib.ui import quiz

claims = Claims("ch4_04_language_layer_mapping")
SEEDS = range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS)
for kind in ("uniform", "first", "last"):
    print(f"{kind:>8}: student layers 1, 2 learn from teacher layers {layer_mapping(kind, 2, 4)}")

# %% [markdown]
# ## 1. Two tasks and their teachers
#
# Every sequence has 8 tokens drawn uniformly from 8 symbols and belongs to one of four classes:
#
# - **first token**: the class is the first token modulo 4. A model only has to copy one token's identity to where
#   the classifier reads it (the mean over positions);
# - **repeats**: the class is how often the first token occurs again later in the sequence (0, 1, 2, or 3 and more).
#   Every position has to compare itself with the first token, and the comparisons have to be added up.
#
# Each teacher is a 4-layer `torch.nn.TransformerEncoder` (width 32, 2 heads, token and position embeddings, a
# linear classifier on the mean over positions) trained full batch on 1000 labelled sequences of its task (250 Adam
# steps). The teachers are the expensive part, so there is **one teacher per task for every SEED** (trained with
# seed 0 and cached on disk; the first run trains them, about a minute): SEED changes the probe and test sequences
# and the students, which are the question here.

# %%
s = lab.setup(SEED)
for task in lab.TASKS:
    print(f"teacher on '{lab.TASK_NAMES[task]}': test accuracy {s.teacher_acc[task]:.1%}")
x, _ = LG.make_task("match", 3, seed=SEED)
for row in x:
    print("sequence", row.tolist(), "-> first token class", int(LG.labels("first", row[None])[0]),
          "| repeats class", int(LG.labels("match", row[None])[0]))

# %%
claims.check("both teachers are accurate on their task: at least 98% on the first token and at least 70% on "
             "the repeats", s.teacher_acc["first"] >= 0.98 and s.teacher_acc["match"] >= 0.70,
             first=s.teacher_acc["first"], match=s.teacher_acc["match"])

# %% [markdown]
# ## 2. Where does each teacher hold the answer?
#
# A **linear probe** is a logistic regression fitted on a frozen representation. We take the teacher's state after
# each layer, average it over the 8 positions, and fit one probe per layer on 600 sequences; its accuracy on 400
# others says how much of the answer that layer makes *linearly readable* (layer 0 is the embeddings, before any
# attention).
#
# **Predict, then run.** 1. On which task is the answer readable after one layer? 2. On the other task, is it the
# first two layers or the last two that make the answer readable?
#
# <details><summary>Answer</summary>
#
# 1. The first token: its probe is at least 95% right from teacher layer 1 on (against less than 60% on the
# embeddings, the claim below). 2. The last two: the repeats probe at layer 2 (the top of the *first* mapping) reads
# the count at least 5 points worse than at layer 4, and layer 1 at least 15 points worse. The teacher builds this
# answer gradually, all the way up.
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
       ylabel="linear-probe test accuracy", title="Where the teacher holds the answer (ticks: the layers each mapping uses)")
ax.grid(alpha=0.3)
ax.legend(loc="center right", fontsize=8)
plt.tight_layout()
plt.show()
for task in lab.TASKS:
    print(f"{lab.TASK_NAMES[task]:>28}: " + "  ".join(f"L{k} {a:.0%}" for k, a in enumerate(s.curves[task])))

# %%
c1, c2 = s.curves["first"], s.curves["match"]
claims.check("the first-token class is readable after one teacher layer: the probe scores at least 95% at layer 1 "
             "and less than 60% on the embeddings", c1[1] >= 0.95 and c1[0] < 0.60, layer0=c1[0], layer1=c1[1])
claims.check("the repeats count is built late: the probe at layer 2 scores at least 5 points below layer 4, and "
             "layer 1 at least 15 points below", c2[2] <= c2[4] - 0.05 and c2[1] <= c2[4] - 0.15,
             layer1=c2[1], layer2=c2[2], layer4=c2[4])

# %% [markdown]
# ## 3. Distil: three mappings, output distillation, and no teacher
#
# The student is the same transformer with 2 layers. It sees only **64 labelled sequences**: too few to learn either
# task alone, which is the situation where a teacher's signal has to carry the computation. The teacher's signal
# comes on **300 unlabelled sequences**: either its predicted class probabilities (output distillation, the KL
# divergence of chapter 1), or the hidden states of its mapped layers. Following patient KD we match each
# student layer's mean-pooled state, normalised to unit length, to the mapped teacher layer's, with weight 2 beside
# the cross-entropy on the labels. Every student trains for 200 full-batch Adam steps, and we repeat with three
# seeds (new unlabelled and labelled sequences, new initialisation), scoring on 2000 test sequences. Students are
# cached on disk too; the first run takes a few minutes, later runs a few seconds.
#
# **Predict, then run.** 1. Which mapping should help most on the repeats task, and which least? 2. And on the first
# token task?
#
# <details><summary>Answer</summary>
#
# 1. In this miniature, none that we can tell apart: on the repeats task the three mappings' means lie within 5 points
# of each other, and no student comes within 20 points of the teacher (the claims below). 2. The uniform and last
# mappings (and output distillation) get every student to at least 99%, while the students from scratch average below
# 95%; the *first* mapping, which imitates exactly the layers that already hold the answer, averages at least 3 points
# below uniform and last.
#
# </details>

# %%
acc = {task: {m: np.array([lab.student_accuracy(task, m, sd) for sd in SEEDS]) for m in lab.METHODS}
       for task in tqdm(lab.TASKS, desc="tasks")}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, task in zip(axes, lab.TASKS):
    means = [acc[task][m].mean() for m in lab.METHODS]
    ax.bar(lab.METHODS, means, yerr=[acc[task][m].std() for m in lab.METHODS], capsize=4,
           color=["0.6", "0.4", "C0", "C1", "C2"])
    for sd in range(N_SEEDS):
        ax.plot(lab.METHODS, [acc[task][m][sd] for m in lab.METHODS], "k.", alpha=0.5)
    ax.axhline(s.teacher_acc[task], color="C3", ls="--", lw=1, label=f"teacher {s.teacher_acc[task]:.0%}")
    ax.set(ylim=(0, 1.03), xlabel="how the 2-layer student was trained",
           ylabel=f"test accuracy (mean +/- std, dots: {N_SEEDS} seeds)", title=f"Task: {lab.TASK_NAMES[task]}")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
for task in lab.TASKS:
    print(f"{lab.TASK_NAMES[task]:>28}: " + "  ".join(f"{m} {acc[task][m].mean():.1%}" for m in lab.METHODS))

# %%
m = {t: {k: float(acc[t][k].mean()) for k in lab.METHODS} for t in lab.TASKS}
f = acc["first"]
claims.check("on the first-token task, the uniform and last mappings and output distillation get at least 99% right "
             "with every student, and the students from scratch average below 95%",
             min(f["uniform"].min(), f["last"].min(), f["output"].min()) >= 0.99 and m["first"]["scratch"] < 0.95,
             uniform_min=f["uniform"].min(), last_min=f["last"].min(), output_min=f["output"].min(),
             scratch_mean=m["first"]["scratch"])
claims.check("on the first-token task the first mapping averages at least 3 points below both the uniform and the last "
             "mapping", m["first"]["first"] <= min(m["first"]["uniform"], m["first"]["last"]) - 0.03,
             first=m["first"]["first"], uniform=m["first"]["uniform"], last=m["first"]["last"])
best_match = max(m["match"].values())
claims.check("on the repeats task no method brings the students within 20 points of the teacher (mean over seeds)",
             best_match <= s.teacher_acc["match"] - 0.20, best=best_match, teacher=s.teacher_acc["match"])
maps = [m["match"][k] for k in ("uniform", "first", "last")]
claims.check("on the repeats task the three mappings' mean accuracies lie within 5 points of each other",
             max(maps) - min(maps) < 0.05, uniform=maps[0], first=maps[1], last=maps[2])
spread = np.mean([acc["match"][k].std(ddof=1) for k in ("uniform", "first", "last")])
print(f"repeats task: seed-to-seed standard deviation of one student's accuracy {spread:.1%}; a difference of two "
      f"3-seed means has a standard error of about {spread * np.sqrt(2 / N_SEEDS):.1%}")

# %% [markdown]
# The issue this notebook answers asked us to show that **the best mapping depends on the task**. With the pooled
# loss of patient KD this miniature does not show it (section 3b tries TinyBERT's per-token loss). What we measured:

# - On the **first-token** task, the answer is readable from teacher layer 1, yet the mapping that imitates layers 1
#   and 2 is the *worst* of the three: the uniform and last mappings and output distillation all give perfect
#   students, the first mapping averages at least 3 points less. A likely reason (not tested here): the student's
#   classifier reads its own top layer, and what it is asked to imitate there decides how easy the answer is to read
#   with 64 labels. Teacher layer 4 is the state the teacher's own classifier was trained on; teacher layer 2 holds
#   the answer too, but arranged for further layers, not for a classifier.
# - On the **repeats** task, hidden-state distillation barely helps at all: no method brings the 2-layer students
#   within 20 points of the teacher, and the three mappings lie within 5 points of each other, about what three
#   seeds can resolve (the standard error printed above). Whether uniform, first or last is best on this task is a
#   question this experiment is too small to answer.

# So with the pooled loss the mappings that reach the teacher's top layer were never beaten, and what depended on the
# task was *how much* the choice mattered, not which choice won.
#
# ### 3b. The same with TinyBERT's loss on every token
#
# TinyBERT does not pool: it matches the hidden state at **every position** (mean-squared error, here with weight 1,
# and no projection since our student is as wide as the teacher). We train the three mapped students again with
# that loss, same data, seeds and steps (cached like the others).
#
# **Predict, then run.** Can matching every token change which mapping wins on the repeats task?
#
# <details><summary>Answer</summary>
#
# Yes, a little: with the per-token loss the *first* mapping has the highest mean of the three on the repeats task
# and still the lowest on the first-token task (the claim below), so the best mapping depends on the task. The
# margin on the repeats task is only 1 to 3 points, about the seed-to-seed spread: a weak effect.
#
# </details>

# %%
tok = {task: {k: np.array([lab.student_accuracy(task, k, sd, loss="tokens") for sd in SEEDS]) for k in lab.MAPPINGS}
       for task in lab.TASKS}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, task in zip(axes, lab.TASKS):
    ax.bar(lab.MAPPINGS, [tok[task][k].mean() for k in lab.MAPPINGS], yerr=[tok[task][k].std() for k in lab.MAPPINGS],
           capsize=4, color=["C0", "C1", "C2"])
    for sd in range(N_SEEDS):
        ax.plot(lab.MAPPINGS, [tok[task][k][sd] for k in lab.MAPPINGS], "k.", alpha=0.5)
    ax.set(ylim=(0, 1.03), xlabel="mapping (per-token loss)", ylabel="test accuracy (mean +/- std)",
           title=f"Task: {lab.TASK_NAMES[task]}")
    ax.grid(alpha=0.3, axis="y")
plt.tight_layout()
plt.show()
mt = {t: {k: float(tok[t][k].mean()) for k in lab.MAPPINGS} for t in lab.TASKS}
for task in lab.TASKS:
    print(f"{lab.TASK_NAMES[task]:>28}: " + "  ".join(f"{k} {mt[task][k]:.1%}" for k in lab.MAPPINGS))
gap = mt["match"]["first"] - max(mt["match"]["uniform"], mt["match"]["last"])
sd_first = tok["match"]["first"].std(ddof=1)
print(f"repeats task: first mapping ahead of the better other one by {gap:+.1%}; seed-to-seed std of its students "
      f"{sd_first:.1%}")

# %%
claims.check("with TinyBERT's per-token loss the best mapping depends on the task: the first mapping has the lowest "
             "mean accuracy of the three on the first-token task and the highest on the repeats task",
             mt["first"]["first"] < min(mt["first"]["uniform"], mt["first"]["last"])
             and mt["match"]["first"] > max(mt["match"]["uniform"], mt["match"]["last"]),
             first_task=mt["first"], repeats_task=mt["match"])

# %% [markdown]
# This is the reversal the issue asked for, but a weak one: on the repeats task the first mapping leads by 1 to 3
# points at the SEEDs we ran (0 to 3), about as much as one student's accuracy varies between seeds, and every
# student stays far below the teacher. A reading consistent with the probes: with a per-token loss the student's
# two layers must reproduce every position's state, and the teacher's layers 3 and 4 hold a count that took four
# layers to build; layers 1 and 2 (the comparisons with the first token, partly done) are a target two layers can
# actually reach. On the first-token task the answer is complete by layer 1, so the top layers are reachable and
# the first mapping only loses.
#
# > **Beside the paper.** Sun et al. (2019, patient KD) distil BERT-base (12 layers) into 6- and 3-layer students
# > and compare two mappings: *PKD-skip* (every other layer, our uniform) and *PKD-last* (the top layers, our last);
# > skip came out slightly ahead on most GLUE tasks, and they read it as the lower layers holding information the
# > student needs too. Jiao et al. (2020, TinyBERT) map 4 student layers onto every third of BERT-base's 12, match
# > the hidden states of every token (with a learned projection, as their student is narrower) as well as the
# > attention maps and the embeddings, and reach more than 96.8% of BERT-base's GLUE score while being 7.5 times
# > smaller and 9.4 times faster; their ablation tries top, bottom and uniform mappings and finds uniform best on
# > average, with no one strategy best on every task. Our miniature agrees with both papers that mappings reaching the
# > teacher's top layer (uniform, last) are a safe choice: they were never worse than the first mapping, and on the
# > first-token task they were better by at least 3 points. It does not reproduce the task dependence of TinyBERT's
# > ablation with the pooled loss (on our late-building task the mappings lie within 5 points); with their per-token
# > loss it does, weakly: the first mapping is worst on one task and best on the other, by 1 to 3 points. What does
# > not carry over: their students start from pre-trained weights and learn from millions of unlabelled tokens;
# > ours start from scratch with 300 unlabelled sequences.
#
# ## 4. Try it: look inside the teacher, one layer at a time
#
# The slider picks a teacher layer; each move refits the two linear probes on the teacher's cached pooled states at
# that layer (nothing else is retrained). **What to try:** move from 0 to 4. **What to look for:** the first-token
# probe jumps to the top at layer 1 and stays there; the repeats probe climbs layer by layer, and its recall for the
# rare classes (2, and 3 or more) is the last to come. The line under the plot says which mappings use the layer.
#
# **Predict, then run.** At layer 2, the top of the *first* mapping, which task's answer is readable?
#
# <details><summary>Answer</summary>
#
# The first token, completely (its probe is at 100% from layer 1 on); the repeats count only partly: the probe
# at layer 2 is at least 5 points below the one at layer 4 (the claim of section 2), and its recall on the rare
# classes is poor: at layer 2 its recall on class 2 and on "3 or more" is each at least 20 points below its recall on
# class 0 (the claim below).
#
# </details>

# %%
dash = lab.dashboard(SEED)
dash

# %%
r2 = lab.run(lab.setup(SEED), 2)
rec = r2["recall"]["match"]
claims.check("at teacher layer 2, the repeats probe's recall on the classes 2 and '3 or more' is each at least 20 "
             "points below its recall on class 0 (the first token never occurs again)",
             rec[2] <= rec[0] - 0.20 and rec[3] <= rec[0] - 0.20, recall=rec)

# %% [markdown]
# ## Check yourself

# %%
quiz("A 3-layer student learns from a 12-layer teacher with the uniform mapping. Which teacher layers does it imitate?", [
    ("4, 8 and 12", True, "Right: every 12/3 = 4th layer, ending at the teacher's last layer (patient KD's skip)."),
    ("1, 5 and 9", False, "No: that starts at layer 1; the uniform mapping ends at the top, which holds the answer."),
    ("10, 11 and 12", False, "No: that is the 'last' mapping (PKD-last)."),
    ("0, 4 and 8", False, "No: layers are numbered from 1; layer 0 would be the embeddings."),
])

# %%
quiz("Why fit a linear probe on each teacher layer before choosing a mapping?", [
    ("It shows at which depth the teacher makes the answer readable, which is what a mapped student layer is asked to "
     "reproduce.", True, "Right: a mapping that stops below that depth never shows the student the finished answer."),
    ("A probe's accuracy is the accuracy the student will reach with that mapping.", False,
     "No: the student also has to compute the state it imitates, with fewer layers; the probe only says what is there."),
    ("It trains the teacher's layers to be more useful.", False, "No: the teacher is frozen; the probe only reads it."),
])

# %% [markdown]
# ## What we learned
# - A layer mapping sends each student layer to one teacher layer: for 2 of 4 layers, uniform uses 2 and 4, first 1
#   and 2, last 3 and 4.
# - Linear probes show where a teacher holds the answer: the first-token class is readable (at least 95%) after one
#   layer; the repeats count builds up, and layer 2 reads it at least 5 points worse than layer 4.
# - On the first-token task, uniform, last and output distillation give students at least 99% right; the first mapping
#   averages at least 3 points less, even though its layers already hold the answer.
# - On the repeats task no method brings a 2-layer student with 64 labels within 20 points of the teacher, and with
#   the pooled loss the mappings lie within 5 points of each other.
# - With TinyBERT's per-token loss the first mapping is the worst of the three on the first-token task and the best
#   on the repeats task: the best mapping depends on the task, but by only 1 to 3 points here, a weak effect.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 9/9

# %% [markdown]
# ## References
# - Sun, S., Cheng, Y., Gan, Z. and Liu, J. (2019). Patient Knowledge Distillation for BERT Model Compression.
#   EMNLP 2019.
# - Jiao, X. et al. (2020). TinyBERT: Distilling BERT for Natural Language Understanding. Findings of EMNLP 2020.
# - Romero, A. et al. (2015). FitNets: Hints for Thin Deep Nets. ICLR 2015.
# - Alain, G. and Bengio, Y. (2017). Understanding intermediate layers using linear classifier probes. ICLR 2017
#   workshop.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the Knowledge in a Neural Network. arXiv:1503.02531.
#
# **Next:** [4.5 Reading digit strings](ch4_05_reading_digit_strings.ipynb): a quantized convolutional reader
# trained with CTC, with and without its teacher's per-frame soft targets.
