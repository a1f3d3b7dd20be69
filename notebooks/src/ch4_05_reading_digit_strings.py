# %% [header]
# number = "4.5"
# title = "Reading digit strings: CTC, a quantized student and its insertions, deletions and substitutions"
# syllabus = ["A5"]
# study_minutes = 30
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch2_04_quantization"]
# objectives = [
#     "train a convolutional reader with the CTC loss on strings of real digit glyphs and decode it greedily",
#     "count insertions, deletions and substitutions from an edit alignment and compute the character error rate",
#     "train quantized students at 8 and 2 bits with and without the teacher's per-frame soft targets",
#     "choose the distillation weight on validation strings, then compare with scratch students pair by pair",
#     "contrast quantization-aware training with rounding a float model after training",
# ]

# %% [markdown]
# **You will learn to**
# - build a tiny optical character recogniser: a stack of convolutions slides along an image of a digit string and
#   gives, for each slice of columns (a *frame*), a distribution over the ten digits and a **blank**;
# - train it with the CTC loss, which never needs to know which columns hold which digit, and read it with greedy
#   (best path) decoding;
# - score a reading the way OCR is scored: the insertions, deletions and substitutions of an edit alignment
#   between the true and the read string, and the character error rate (CER);
# - ask whether a quantized student reads better when, besides the labels, it matches the teacher's per-frame
#   distributions.
#
# A classifier answers one question per image. A reader must also say *how many* characters there are, so it can
# go wrong in three ways: read a 3 as an 8 (a substitution), miss a character (a deletion) or see one that is not
# there (an insertion). Compressing a reader may shift the balance between these errors, which is why we count
# them separately.

# %%
# parameters
# SEED drives which digit images go into the training, validation and test strings (data.load's split), the
# strings themselves (lengths, glyphs, gaps), the teacher's initialisation and the students' seeds
# (1000 + 6*SEED .. 1000 + 6*SEED + 5 at 8 bits, the first three of them at 2 bits). The architecture and
# training budget are fixed.
SEED = 0

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib.claims import Claims
from course_lib.distill import ocr
from course_lib.labs.ch4 import ocr as lab
from course_lib.ui import quiz

claims = Claims("ch4_05_reading_digit_strings")
train_strings, test_strings = lab.strings(SEED)
print(f"{len(train_strings)} training strings, {len(test_strings)} test strings; "
      f"{sum(map(len, test_strings.texts))} test characters")

# %% [markdown]
# ## 1. Strings of real digits
#
# The glyphs are scikit-learn's 8x8 handwritten digits (1,797 images). We split the *images* first (train, validation
# and test, by SEED), then build 1,000 training strings from training images only, 300 validation strings from
# validation images only (used once, to choose the distillation weight) and 500 test strings from test images
# only, so every test glyph is one the models have never seen. A string has 3 to 6 digits, with 0 to 3 empty
# columns between neighbours and a random start; each image is 8 pixels high and padded to 64 columns.

# %%
fig, axes = plt.subplots(4, 1, figsize=(8, 3.6), constrained_layout=True)
for i, ax in enumerate(axes):
    ax.imshow(test_strings.images[i].numpy(), cmap="gray_r", interpolation="nearest", aspect="auto")
    ax.set_yticks([])
    ax.set_title(f"test string {i}: '{test_strings.texts[i]}'", fontsize=9, loc="left")
axes[-1].set_xlabel("column (pixels)")
fig.suptitle("Four test strings (8 x 64 pixels each)")
plt.show()

# %% [markdown]
# ## 2. The reader and the CTC loss
#
# The reader is fully convolutional, in the spirit of CRNN (Shi et al. 2015) without its recurrent layer: the 8
# pixel rows of a column are its input channels, four `Conv1d` layers of width 3 (the second with stride 2, each
# followed by batch normalisation and ReLU) slide along the columns, and a 1x1 convolution gives 11 scores per
# frame (blank plus ten digits), turned into log-probabilities. With stride 2, 64 columns give **32 frames**, and each
# frame sees 14 columns, a little less than two glyphs.
#
# The CTC loss (Graves et al. 2006) sums the probability of every frame-by-frame path that collapses to the true
# string: merge runs of the same label, then delete the blanks. A blank between two equal labels is what keeps
# "11" apart from "1", so a string of length L with r adjacent repeats needs at least L + r frames. Our longest
# strings need 6 + 5 = 11 frames, well below 32. Asking for more than the frames allow is a clear error:

# %%
print("frames needed for '1123':", ocr.min_frames(ocr.digits_to_ids("1123")))
try:
    ocr.ctc_loss(torch.zeros(1, 4, 11).log_softmax(-1), torch.tensor([ocr.digits_to_ids("1123")]), torch.tensor([4]))
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# **Greedy decoding** takes the most likely label of each frame, merges runs of the same label, then drops the
# blanks (the order matters: merging first makes `a a blank a` read `a a`). It is the decoding of the graded
# exercise H19. Here is a hand-made 7-frame output (blank written `-`):

# %%
path = [0, 4, 4, 0, 4, 2, 0]  # class ids: 0 is the blank, digit d is d + 1
lp = torch.nn.functional.log_softmax(torch.eye(11)[path] * 5, -1)
ids = ocr.greedy_decode(lp)
print("frames:", " ".join("-" if p == 0 else str(p - 1) for p in path), "->", ocr.ids_to_digits(ids))

# %% [markdown]
# **Scoring.** We align the read string with the true one by the Levenshtein distance (rapidfuzz's
# `Levenshtein.editops` gives one cheapest list of edit operations) and count insertions I, deletions D and
# substitutions S. The character error rate is (I + D + S) divided by the number of true characters, summed over the
# whole test set. It can exceed 100% if a reader inserts a lot.

# %%
for true, read in [("30718", "3078"), ("30718", "39718"), ("307", "3007")]:
    print(f"true {true}, read {read}:", ocr.edit_counts(true, read))

# %% [markdown]
# ## 3. Teacher and students
#
# - **Teacher**: the reader with 48 channels per layer (about 22,000 weights), float, trained with CTC.
# - **Students**: the same reader with 16 channels (about 2,900 weights), so teacher and student emit the same 32
#   frames and the teacher's distribution over frame t is a target for the student's frame t. The student's
#   convolution weights are fake-quantized *during* training (`add_fake_quant(..., kinds=WEIGHTED)`, one scale per
#   output channel; the straight-through estimator passes gradients through the rounding), at 8 or 2 bits. Batch
#   normalisation stays in float (a deployment would fold it into the convolutions first).
#   - **scratch**: CTC on the labels only;
#   - **distilled**: (1 - w) x CTC + w x the per-frame KL divergence to the teacher,
#     `F.kl_div(student, teacher, reduction="batchmean", log_target=True)` over all frames.
#
# Every model gets the same budget: 12 epochs of mini-batches of 50 strings, Adam with a one-cycle learning rate
# peaking at 0.01. **The weight w is chosen on the validation strings:** at 8 bits, each of 6 seeds gives one
# initialisation, trained four times on the same batches: from scratch and distilled at w = 0.25, 0.5 and 0.75. The
# w with the lowest mean CER on the validation strings is kept, and only its students are compared with the scratch
# students on the test strings, seed by seed (same initial weights, same batches: a *paired* comparison). At 2 bits,
# three seeds, scratch and distilled at the w chosen at 8 bits (choosing again at 2 bits would double the cost).
# The temperature stays at 1: the teacher's per-frame distributions are already soft around the characters and
# blank elsewhere. All models are cached on disk by their configuration; a cold first run trains the teacher and
# 30 small students (about a minute of CPU on an idle core).
#
# **Predict, then run.** 1. When the weights have only 2 bits (three levels per output channel), will the scratch
# students rather miss characters or invent them? 2. Will the teacher's soft targets help the student at 8 bits? At 2 bits?
#
# <details><summary>Answer</summary>
#
# 1. Miss them: at 2 bits the scratch students delete at least ten times as many characters as they insert
# (asserted below, summed over the three seeds). A reader that is unsure falls back on the blank, the class CTC
# predicts on most frames, and a character whose frames all go blank is deleted. Substitutions are common too (a
# glyph read as another digit); which of deletions and substitutions comes first changes with SEED.
# 2. At 8 bits, yes: the distilled student reads better than the scratch student from the same initial weights in
# at least half of the 6 seeds, and its mean CER over the six is at least 3 points lower (both asserted; at SEED=0
# it wins all six, 6.0% against 19.5%). Much of the gap comes from scratch runs that stay stuck near their all-blank start; the
# distilled ones did not (see the dots in the figure). The size of the gain varies too much from seed to seed for
# us to claim one. At 2 bits three pairs are too few: a paired t-test on them would detect a difference with 80%
# power only if it were at least 5 points of CER (asserted), so we claim neither a gain nor its absence there.
#
# </details>

# %%
t0, c0 = time.perf_counter(), time.process_time()
s = lab.setup(SEED, progress=True)
print(f"teacher and {lab.N_STUDENTS[8] * (1 + len(lab.WEIGHTS)) + 2 * lab.N_STUDENTS[2]} students: "
      f"{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
print(f"teacher: CER {s.teacher['cer']:.2%} (I {s.teacher['insertions']}, D {s.teacher['deletions']}, "
      f"S {s.teacher['substitutions']} of {s.teacher['ref_len']} characters)")
print("mean validation CER of the 8-bit students by KD weight (0 = scratch):",
      {w: f"{np.mean(v):.2%}" for w, v in s.val_cer.items()}, "-> chosen w =", s.weight)
cer = lab.median_over_seeds(s, "cer")
for b in lab.BITS:
    for k in lab.KINDS:
        runs = ", ".join(f"{r['cer']:.1%}" for r in s.results[b, k])
        print(f"{b} bits, {k}: median CER {cer[b, k]:.2%} (the {lab.N_STUDENTS[b]} seeds: {runs})")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
x = np.arange(len(lab.BITS))
for i, k in enumerate(lab.KINDS):
    vals = [[r["cer"] for r in s.results[b, k]] for b in lab.BITS]
    ax1.bar(x + (i - 0.5) * 0.38, [np.median(v) for v in vals], width=0.38, color=lab.COLOURS[k], alpha=0.6,
            label=f"{k} (bar: median over seeds; dots: each seed)")
    for j, v in enumerate(vals):
        ax1.plot(np.full(len(v), x[j] + (i - 0.5) * 0.38), v, "o", color="black", ms=3)
ax1.axhline(s.teacher["cer"], color=lab.COLOURS["teacher"], ls="--", label="float teacher (48 channels)")
ax1.set_xticks(x, [f"{b} bits" for b in lab.BITS])
ax1.set(title=f"Test CER of the quantized students (SEED={SEED})", xlabel="weight bit-width during training",
        ylabel="character error rate")
ax1.legend(fontsize=8)
ops = ("insertions", "deletions", "substitutions")
labels, bottoms = [], np.zeros(len(lab.BITS) * len(lab.KINDS))
for o, colour in zip(ops, ("#c00000", "#1f5fbf", "#e67e00")):
    h = [np.sum([r[o] for r in s.results[b, k]]) for b in lab.BITS for k in lab.KINDS]
    ax2.bar(np.arange(len(h)), h, bottom=bottoms, color=colour, label=o)
    bottoms += h
ax2.set_xticks(np.arange(len(bottoms)), [f"{b} bits\n{k}" for b in lab.BITS for k in lab.KINDS], fontsize=8)
ax2.set(title=f"Errors by type (summed over the seeds: {lab.N_STUDENTS[8]} at 8 bits, {lab.N_STUDENTS[2]} at 2)",
        ylabel="count (characters)")
ax2.legend(fontsize=8)
plt.show()

# %% [markdown]
# A CTC reader starts by predicting the blank everywhere (the cheapest way to lower the loss at first) and must then
# learn where characters are; with a short budget, a run can stay near that plateau and miss many characters (a high
# CER, mostly deletions). Look at the dots: one far above the others is such a run. The teacher's per-frame targets
# say from the first step which frames hold a character, which is why the distilled runs rarely stall. That is also
# why we count paired wins and compare means, not only medians: a stuck run is a real cost of training from scratch.

# %%
def total(b, k, key):
    return sum(r[key] for r in s.results[b, k])


teacher_cer = s.teacher["cer"]
claims.check("the float teacher reads the test strings with a character error rate below 6%", teacher_cer < 0.06,
             teacher_cer=teacher_cer)
t_ops = {o: s.teacher[o] for o in ("insertions", "deletions", "substitutions")}
claims.check("most of the teacher's errors are substitutions", t_ops["substitutions"] > t_ops["insertions"] +
             t_ops["deletions"], **t_ops)
d8 = np.array([r["cer"] for r in s.results[8, "distilled"]])
s8 = np.array([r["cer"] for r in s.results[8, "scratch"]])
wins8 = int((d8 < s8).sum())
claims.check(f"at 8 bits, with the KD weight chosen on the validation strings, the distilled student reads better "
             f"(lower test CER) than the scratch student from the same initial weights in at least half of the "
             f"{len(d8)} seeds, and its mean CER over the {len(d8)} seeds is at least 3 points lower",
             2 * wins8 >= len(d8) and d8.mean() <= s8.mean() - 0.03,
             wins=wins8, weight=s.weight, distilled=d8, scratch=s8, mean_distilled=d8.mean(), mean_scratch=s8.mean())
for k in lab.KINDS:
    claims.check(f"{k} students trained at 2 bits have a median CER at least 10 points higher than at 8 bits",
                 cer[2, k] > cer[8, k] + 0.10, cer_2=cer[2, k], cer_8=cer[8, k])
D, S, I = (total(2, "scratch", o) for o in ("deletions", "substitutions", "insertions"))
claims.check("at 2 bits, the scratch students delete at least ten times as many characters as they insert (summed "
             "over seeds)", D >= 10 * I, deletions=D, substitutions=S, insertions=I)
from statsmodels.stats.power import TTestPower

diff2 = np.array([c["cer"] - d["cer"] for c, d in zip(s.results[2, "scratch"], s.results[2, "distilled"])])
d_std = TTestPower().solve_power(nobs=len(diff2), alpha=0.05, power=0.8, alternative="two-sided")
mde2 = d_std * diff2.std(ddof=1)  # the smallest mean difference a paired t-test detects with 80% power
print(f"2 bits: paired differences (scratch - distilled) {np.round(diff2 * 100, 1)} points; detectable with 80% "
      f"power: {mde2:.1%}")
claims.check(f"at 2 bits, {len(diff2)} pairs can only detect a large effect: a paired t-test at the 5% level would "
             f"have 80% power only for a mean CER difference of at least 5 points", mde2 >= 0.05,
             paired_differences=diff2, detectable=mde2, standardised=d_std)

# %% [markdown]
# > **Beside the paper.** Graves et al. (2006) introduced CTC to label unsegmented sequences with a recurrent
# > network; on TIMIT phoneme recognition (their Table 1) a bidirectional LSTM trained with CTC reached a label error
# > rate of about 30%, below both an HMM baseline and an HMM-LSTM hybrid that needed frame-level alignments. Shi et
# > al. (2015) put convolutional features under a bidirectional LSTM and trained the whole reader (CRNN) with CTC on
# > word images, with no character segmentation. Our reader is that recipe in miniature and without the recurrent
# > layer: a few thousand weights, 8-pixel-high strings of isolated handwritten digits, 12 epochs on one CPU core.
# > What carries over: CTC learns where the characters are from the string alone, greedy decoding reads it, and
# > errors are counted as insertions, deletions and substitutions. What does not: most of our teacher's errors are
# > substitutions (asserted above), badly written 8x8 digits read as another digit, rather than errors of counting
# > or alignment. And frame-wise distillation is possible here because teacher and student share the same frames;
# > two CTC models with different architectures can place their label spikes at different frames, and then
# > frame-wise targets mislead.
#
# ## 4. Live: rounding the weights after training
#
# The students above were *trained* at their bit-width. What if we take two 8-bit students (of each kind, the one
# that reads the training strings best) and round their weights to fewer bits afterwards, without retraining?
# Nothing is trained during a move: the latent weights of each convolution are rounded per output channel, the 500
# test strings are read again, and the errors counted (a bit-width already visited is remembered, since rounding
# and reading give the same answer every time).
#
# **What to try.** Move the bit-width from 8 down to 2, then move "first string shown" to see other strings.
# **What to look for.** In the text under the sliders: orange digits were substituted, red ones inserted, blue
# struck-out ones deleted. Which error type takes over as the bit-width falls, and at which width do the readings
# collapse?
#
# **Predict, then run.** Rounding the 8-bit students to 2 bits after training: better or worse than the students
# trained at 2 bits?
#
# <details><summary>Answer</summary>
#
# Worse: rounding the 8-bit students to 2 bits after training gives a CER above 60% for both kinds, higher than
# the median of the students trained at 2 bits (asserted below). Rounded to 4 bits, both still read with a CER below
# 25% (asserted).
#
# </details>

# %%
dash = lab.dashboard(seed=SEED, bits=8)
dash

# %% [markdown]
# The same computation, outside the dashboard (a separate instance, so the checks do not move yours), and the
# time of a move:

# %%
check = lab.dashboard(seed=SEED, background=False)
times = []
for b, first in zip([7, 6, 5, 4, 3, 2, 3, 4, 5, 6], range(0, 40, 4)):
    t0 = time.perf_counter()
    check.update(bits=b, first=first)
    times.append(time.perf_counter() - t0)
print(f"slider move (round, read 500 strings, count errors, redraw): median {np.median(times):.3f} s, "
      f"max {max(times):.3f} s over 10 moves")
ptq = {b: lab.run(s, bits=b)["errors"] for b in (8, 4, 3, 2)}
for b, e in ptq.items():
    print(f"rounded to {b} bits: " + ", ".join(f"{k} CER {e[k]['cer']:.1%} (I {e[k]['insertions']}, "
                                               f"D {e[k]['deletions']}, S {e[k]['substitutions']})" for k in lab.KINDS))
for bad in (dict(bits=1), dict(first=-1)):
    try:
        lab.run(s, **bad)
    except ValueError as e:
        print("ValueError:", e)

# %%
qat2 = {k: cer[2, k] for k in lab.KINDS}
for k in lab.KINDS:
    claims.check(f"rounding the 8-bit {k} student to 2 bits after training gives a CER above 60%, higher than the "
                 f"median CER of the {k} students trained at 2 bits", ptq[2][k]["cer"] > max(0.6, qat2[k]),
                 rounded_to_2=ptq[2][k]["cer"], trained_at_2=qat2[k])
worst4 = max(ptq[4][k]["cer"] for k in lab.KINDS)
claims.check("rounded to 4 bits after training, both students still read with a CER below 25%", worst4 < 0.25,
             largest_cer_at_4=worst4)

# %% [markdown]
# ## Check yourself

# %%
quiz("A reader outputs the frames `3 3 - 3 - - 5 5` (`-` is the blank). What does greedy decoding read?", [
    ("335", True, "Right: merge runs first (3 - 3 - 5 after merging), then drop the blanks: 3 3 5. The blank "
     "between the two 3s is what keeps them apart."),
    ("35", False, "No: that drops the blanks before merging, so the two separate 3s fuse into one."),
    ("33355", False, "No: runs of the same label in neighbouring frames are merged into one character."),
])

# %%
quiz("The true string is 4071 and the reader says 471. What are I, D, S and the CER of this one string?", [
    ("I = 0, D = 1, S = 0: one deletion in four characters, CER 25%.", True,
     "Right: deleting the 0 turns 4071 into 471; no cheaper alignment exists."),
    ("I = 0, D = 0, S = 1: CER 25%.", False,
     "No: the strings have different lengths, so at least one insertion or deletion is needed."),
    ("CER 1/3, because the reading has three characters.", False,
     "No: the CER divides by the length of the true (reference) string, 4."),
])

# %%
quiz("Why can the student be taught frame by frame by this teacher?", [
    ("Both readers have the same stride, so both emit 32 frames for a 64-column image and frame t of each looks at "
     "the same columns.", True, "Right: the per-frame KL divergence compares distributions over the same piece of "
     "the image. With another frame rate there would be no frame-to-frame correspondence."),
    ("Because CTC makes every model put its label spikes at the same frames.", False,
     "No: CTC is indifferent to where within the allowed paths a label fires; two models can choose different "
     "frames. Here the shared architecture makes them likely to agree, which is not guaranteed in general."),
    ("Because the KL divergence does not depend on the alignment.", False,
     "No: it is computed per frame, so it depends entirely on the frames lining up."),
])

# %% [markdown]
# ## What we learned
# - CTC trains a reader from whole strings, with no character positions; greedy decoding reads it (most likely label
#   per frame, runs merged, blanks dropped). A string needs at least its length plus its adjacent repeats in frames.
# - A reader's errors are insertions, deletions and substitutions of an edit alignment; the CER sums them over the
#   test set and divides by the number of true characters. Our float teacher stays below 6%.
# - At 8 bits, adding the teacher's per-frame distributions to CTC (weight chosen on validation strings) gave a
#   better reader than CTC alone from the same initial weights in at least half of 6 seeds, with a mean CER at
#   least 3 points lower; beyond that bound, the size of the gain is not stable enough to state.
# - A CTC student can stay stuck near its all-blank start; the teacher's frames tell it early where characters
#   are, which is one way distillation helps here (look at the scratch dots far above the rest in the figure).
# - At 2 bits both kinds read far worse (at least 10 points of median CER more) and the scratch students miss
#   characters far more often than they invent them (deletions at least ten times the insertions). Three pairs could only have detected a difference of 5 points of CER or more, so we make no
#   claim about the soft targets at 2 bits.
# - Quantization-aware training matters: the same students rounded to 2 bits after training misread most characters.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 10/10

# %% [markdown]
# ## References
# - Graves, A., Fernández, S., Gomez, F. & Schmidhuber, J. (2006). Connectionist temporal classification:
#   labelling unsegmented sequence data with recurrent neural networks. ICML.
# - Shi, B., Bai, X. & Yao, C. (2015). An end-to-end trainable neural network for image-based sequence recognition
#   and its application to scene text recognition. arXiv:1507.05717 (IEEE TPAMI 2017).
# - Hinton, G., Vinyals, O. & Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Jacob, B. et al. (2018). Quantization and training of neural networks for efficient integer-arithmetic-only
#   inference. CVPR.
# - Levenshtein, V. I. (1966). Binary codes capable of correcting deletions, insertions, and reversals. Soviet
#   Physics Doklady 10(8).
#
# **Next:** [4.6 Time series](ch4_06_time_series.ipynb): a transformer's quantile forecasts taught to a
# convolutional student.
