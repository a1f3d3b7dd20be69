# %% [header]
# number = "4.14"
# title = "Distilling reasoning steps: a student taught the carries adds numbers longer than it has seen"
# syllabus = ["A14"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "train one student on a teacher's intermediate steps (the carries) and one on its answers only, on multi-digit addition",
#     "measure accuracy against the number of training examples and against the number of digits, beyond the trained length",
#     "relate the miniature to distilling step-by-step (Hsieh et al. 2023) and say what does not carry over",
# ]

# %% [markdown]
# Large language models can be asked to show their work, and a small model trained on that work (the
# *rationale*) as well as on the answers learns more from fewer examples than one trained on answers alone
# (Hsieh et al., 2023, *distilling step-by-step*). Why should intermediate steps help? This notebook builds a
# miniature where we can see the reason: adding two numbers.
#
# **The teacher** is the exact schoolbook algorithm, not a trained network. It writes, for each digit position
# from the lowest up, the sum digit and the carry it passes on. An exact teacher is a choice: it never errs, so
# any gap between the students comes from *what* they are taught, not from the teacher's mistakes (with a
# trained teacher you would also be distilling its errors; its steps would be right only as often as it is).
#
# **The students** are perceptrons with one hidden layer of 64 units, trained for 150 full-batch epochs on the
# same problems with 4-digit numbers (Adam, learning rate 0.03):
#
# - **answers only** sees the digit pairs of the last five positions up to position i, and must write answer
#   digit i directly. To get it right it has to work out, inside one forward pass, whether a carry arrives from
#   any lower position;
# - **with steps** sees the digit pair at position i and the carry coming in, and writes the sum digit and the
#   carry going out. It is trained on the teacher's carries; at test time it uses **its own** carries,
#   working from the lowest digit up, so the steps it writes are the steps it reasons with.
#
# The steps make the problem **local**: one position's rule, 200 cases, the same for every position and every
# length. We test on fresh problems with 1 to 10 digits, so from 5 digits on, longer than anything either
# student saw.

# %%
# parameters
SEED = 0  # drives the training problems, the test problems and the students' initialisations (3 seeds per SEED)
N_SEEDS = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib.claims import Claims
from course_lib.distill import reasoning as R
from course_lib.labs.ch4 import reasoning as lab
from course_lib.ui import quiz

claims = Claims("ch4_14_distilling_reasoning_steps")
SEEDS = range(SEED * N_SEEDS, SEED * N_SEEDS + N_SEEDS)

# %% [markdown]
# ## 1. The teacher's steps
#
# Two problems, as the teacher writes them (digits and carries listed from the lowest position up; the last
# position holds the final carry).

# %%
a, b = R.problems(2, 4, seed=SEEDS[0])
t = R.schoolbook(a, b)
for i in range(2):
    x, y, z = R.to_int(a[i:i + 1])[0], R.to_int(b[i:i + 1])[0], R.to_int(t["digits"][i:i + 1])[0]
    print(f"{x:>5} + {y:>5} = {z:>6}   sum digits {t['digits'][i].tolist()}   carries out {t['carry_out'][i].tolist()}")
    assert x + y == z
print("training rows per problem:", lab.TRAIN_DIGITS + 1, "(one per answer position, for either student)")

# %% [markdown]
# ## 2. Accuracy against training examples and against length
#
# For each of three seeds we train both students on 10, 32, 100, 316 and 1000 problems, and test each on 500
# fresh problems of every length from 1 to 10 digits, counting a sum right only if every digit is right (about
# fifteen seconds).
#
# **Predict, then run.** 1. With 1000 training problems, which student gets 4-digit sums right, and how often?
# 2. What happens at 10 digits?
#
# <details><summary>Answer</summary>
#
# 1. The student taught the steps gets practically all right (at least 99% at every length, the claim below);
# the answers-only student gets fewer than 60% of the 4-digit sums right, although it was trained on exactly that
# length. 2. The steps student stays at 99% or more; the answers-only student is right on fewer than 10% of the
# sums from 7 digits up: it never learned a rule that applies beyond the positions it saw.
#
# </details>

# %%
runs = {sd: {n: lab.run(lab.setup(sd), n) for n in lab.N_TRAINS}
        for sd in tqdm(SEEDS, desc="seeds")}
ns = np.array(lab.N_TRAINS)
acc = {k: np.array([[runs[sd][n][k] for n in lab.N_TRAINS] for sd in SEEDS]) for k in ("steps", "answers")}
# acc[kind][seed, n index, digits - 1]
i4, d = lab.TRAIN_DIGITS - 1, np.arange(1, lab.MAX_DIGITS + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for k, name, mk in (("steps", "taught the carries", "o"), ("answers", "answers only", "s")):
    m = acc[k].mean(0)
    axes[0].errorbar(ns, m[:, i4], yerr=acc[k].std(0)[:, i4], marker=mk, capsize=3, label=name)
    axes[1].plot(d, m[-1], marker=mk, label=f"{name}, 1000 problems")
    axes[1].plot(d, m[2], marker=mk, ls="--", alpha=0.6, label=f"{name}, 100 problems")
axes[0].set(xscale="log", title=f"Test on {lab.TRAIN_DIGITS}-digit sums (the trained length)",
            xlabel="training problems (log scale)", ylabel=f"exact-match accuracy (mean +/- std, {N_SEEDS} seeds)")
axes[1].axvspan(lab.TRAIN_DIGITS + 0.5, lab.MAX_DIGITS + 0.5, color="0.92")
axes[1].set(title="Test on longer numbers (grey: longer than trained)", xlabel="digits per number",
            ylabel="exact-match accuracy (mean over seeds)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
for j, n in enumerate(ns):
    print(f"{n:>5} problems: 4 digits steps {acc['steps'].mean(0)[j, i4]:.1%} vs answers {acc['answers'].mean(0)[j, i4]:.1%};"
          f" 10 digits steps {acc['steps'].mean(0)[j, -1]:.1%} vs answers {acc['answers'].mean(0)[j, -1]:.1%}")

# %%
st, an = acc["steps"].mean(0), acc["answers"].mean(0)
j1000, j316 = list(ns).index(1000), list(ns).index(316)
claims.check("with 1000 training problems, the student taught the steps gets at least 99% of the sums right at every "
             "length from 1 to 10 digits", st[j1000].min() >= 0.99, steps_min=st[j1000].min())
claims.check("with 1000 training problems, the answers-only student gets fewer than 60% of the 4-digit sums right",
             an[j1000, i4] < 0.60, answers_4_digits=an[j1000, i4])
claims.check("with 1000 training problems, the answers-only student is right on fewer than 10% of the sums from 7 "
             "digits up", an[j1000, 6:].max() < 0.10, answers_7_to_10=an[j1000, 6:])
claims.check("with 316 problems the steps student beats the answers-only student trained on 1000 at 4 digits, by more "
             "than 20 points", st[j316, i4] > an[j1000, i4] + 0.20, steps_316=st[j316, i4], answers_1000=an[j1000, i4])

# %% [markdown]
# Two things happened. **Fewer examples**: the steps student has one small rule to learn, and every training
# problem shows it five times; the answers-only student has to learn how a carry travels across up to four
# positions, a much larger function, from the same rows. **Longer inputs**: the steps student's rule does not
# know how long the number is, so chaining it ten times is as easy as four. The answers-only student learned a
# function of a five-position window, and in training every window held either "no digit" below the number or
# the zero above it: a window of five real digits, the usual case in a 10-digit number, is outside everything it
# has seen.
#
# Where the steps student has too few examples, its errors are among the 200 cases of its rule that it has not
# seen often enough; a long sum needs every one of its positions right, so those errors compound with length.
#
# > **Beside the paper.** Hsieh et al. (2023) prompt a 540B-parameter PaLM for rationales and train T5 students
# > to output the rationale as a second task beside the label. They report that a 770M-parameter T5 trained this
# > way beats few-shot prompted PaLM on ANLI while using 80% of the training data, and that on e-SNLI their
# > students need an eighth of the data to match standard fine-tuning on all of it. Our miniature shows the same
# > direction, stronger: with 316 problems the steps student beats the answers-only student trained on 1000 by
# > more than twenty points. What does not carry over: their rationales are free text, imperfect, and used only
# > as a training signal (the student does not need them at test time); ours are exact and the student reasons
# > *with* them at test time, as in a scratchpad (Nye et al., 2021). Length generalisation is not a claim of the
# > paper; it is what exact, local steps buy in this task.
#
# ## 3. Try it: the number of training problems
#
# The dashboard trains both students at the five slider positions once (for the first seed of this SEED), then
# each move redraws. **What to try:** slide from 10 problems to 1000. **What to look for:** the blue steps curve
# rises as a whole and goes flat at 100% by 1000 problems; the orange answers-only curve rises only at the left,
# on short sums, and always collapses in the grey region.
#
# **Predict, then run.** At 100 problems, which student is better on 4-digit sums?
#
# <details><summary>Answer</summary>
#
# The steps student, by more than 20 points (the claim below, on the same seed as the dashboard).
#
# </details>

# %%
dash = lab.dashboard(SEEDS[0])
dash

# %%
r100 = lab.run(lab.setup(SEEDS[0]), 100)
claims.check("at 100 training problems the steps student beats the answers-only student on 4-digit sums by more than "
             "20 points (the dashboard's seed)", r100["steps"][i4] > r100["answers"][i4] + 0.20,
             steps=r100["steps"][i4], answers=r100["answers"][i4])

# %% [markdown]
# ## Check yourself

# %%
quiz("Why does the steps student handle 10-digit sums after training on 4-digit ones?", [
    ("Its rule reads one position and the carry coming in, which is the same at every position of every length.", True,
     "Right: chaining a local rule ten times is no harder than four times."),
    ("It memorised more training sums.", False, "No: both students saw the same problems, and none had more than 4 digits."),
    ("Its network is larger.", False, "No: both have one hidden layer of 64 units; the steps student even has fewer inputs."),
])

# %%
quiz("What would change if the teacher were a trained network that gets 2% of carries wrong?", [
    ("Nothing: steps are steps.", False, "No: the student learns from the steps it is shown, wrong ones included."),
    ("The steps student would learn from some wrong carries, so its rule and its long sums would suffer.", True,
     "Right: that is why this notebook uses an exact teacher, to separate the format of the supervision from its errors."),
    ("The answers-only student would get worse too, since the answers come from the same teacher.", False,
     "Only if the answers were wrong as well; a teacher can err in its steps and still get many answers right."),
])

# %% [markdown]
# ## What we learned
# - A student taught the intermediate steps (the carries) learns a small local rule: with 1000 problems it gets
#   at least 99% of sums right at every length from 1 to 10 digits, though trained on 4.
# - The answers-only student of the same size gets fewer than 60% of 4-digit sums right with 1000 problems, and
#   fewer than 10% from 7 digits up; with 316 problems the steps student already beats it by more than 20 points.
# - Distilling steps changes what the student has to learn, not only how much signal it gets.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 5/5

# %% [markdown]
# ## References
# - Hsieh, C.-Y. et al. (2023). Distilling Step-by-Step! Outperforming Larger Language Models with Less Training
#   Data and Smaller Model Sizes. Findings of ACL 2023.
# - Nye, M. et al. (2021). Show Your Work: Scratchpads for Intermediate Computation with Language Models.
#   arXiv:2112.00114.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the Knowledge in a Neural Network. arXiv:1503.02531.
#
# **Next:** chapter 5, [hands-on practices](ch5_00_hands_on.ipynb): the graded exercises, and how to check your
# own answers.
