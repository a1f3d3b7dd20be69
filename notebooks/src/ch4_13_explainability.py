# %% [header]
# number = "4.13"
# title = "Explainability: do distilled students look where their teacher looks?"
# syllabus = ["A13"]
# study_minutes = 25
# prerequisites = ["ch1_01_soft_targets_and_kd_loss", "ch1_09_temperature_variants"]
# objectives = [
#     "compute saliency and Integrated Gradients maps with Captum for a teacher and its students",
#     "measure the agreement of two attribution maps (rank correlation, top-k pixel overlap)",
#     "test whether agreement with the teacher peaks at an intermediate temperature",
# ]

# %% [markdown]
# **You will learn to**
# - ask a network which input pixels its decision rests on, with two attribution methods from Captum:
#   *saliency* (the size of the gradient of the class score with respect to each pixel) and *Integrated Gradients*
#   (the gradient averaged along a straight path from a blank image to the digit, times the pixel's value);
# - compare a student's map with its teacher's on the same image: the Spearman rank correlation over the 64 pixels,
#   and the share of the teacher's 8 most important pixels that are also among the student's 8;
# - measure how that agreement depends on the distillation temperature T.
#
# Distillation trains a student to give the teacher's *outputs*. Whether it also reproduces the teacher's *reasons*
# is a separate question, and it matters: a compressed model deployed in place of an audited teacher should not
# base its decisions on different evidence. A plausible guess is a sweet spot: at very low T the student sees little
# more than the teacher's top class, at very high T it matches raw logits, including their noise. We test it.

# %%
# parameters
SEED = 0  # drives the data split, the teacher and the students (student seeds SEED*3 .. SEED*3+2)

# %%
import matplotlib.pyplot as plt
import numpy as np

from course_lib import data
from course_lib.claims import Claims
from course_lib.labs.ch4 import attribution as attr
from course_lib.ui import quiz

claims = Claims("ch4_13_explainability")
SEEDS = list(range(SEED * 3, SEED * 3 + 3))
ds = data.load("digits", split_seed=SEED)
print(ds)

# %% [markdown]
# ## 1. Maps of the teacher and of one student
#
# The teacher is the course's 256-256 perceptron (cached). A student is a 64-32-10 perceptron trained only on the
# teacher's soft targets at temperature T (alpha = 1), 200 full-batch epochs. We explain, on each test digit, the
# class the *teacher* predicts, so both networks are asked about the same decision. The dashboard below draws the
# maps; every map is scaled to its own maximum.
#
# **Predict, then run.** On a perceptron, which pixels will saliency light up: only the strokes, or also the blank
# background?
#
# <details><summary>Answer</summary>
#
# Also the background. Saliency is a gradient, and a perceptron's gradient with respect to a blank pixel is not zero:
# ink appearing there *would* change the score. Integrated Gradients multiplies the gradient by the pixel's value
# (minus the blank baseline), so blank pixels get no attribution and the maps follow the strokes.
#
# </details>

# %%
dash = attr.dashboard(SEED)
dash

# %% [markdown]
# **Try:** move T from 1 to 64 with saliency, then switch to Integrated Gradients. **Look for:** whether the
# brightest pixels of the student (bottom row) sit on the same strokes as the teacher's (middle row), and the
# agreement numbers above the figure.
#
# ## 2. Agreement against T, over three student seeds
#
# For each T in 1, 2, 4, 8, 16 and 64 we distil three students, plus three students trained on the hard labels
# alone for reference, and compare every student's maps with the teacher's on all 360 test digits: 21 small
# trainings behind a progress bar.
#
# **Predict, then run.** 1. Does the top-8 overlap with the teacher peak at an intermediate T? 2. Do the distilled
# students agree with the teacher more than students trained on the labels?
#
# <details><summary>Answer</summary>
#
# 1. Not here. With saliency, the overlap rises from T = 1 and levels off from about T = 8: the best temperature's
#    overlap exceeds that of T = 64 by less than half the rise from T = 1 to T = 16 (asserted below; at most seeds
#    T = 64 itself is the best). A sweet spot is not what this measurement shows; the highest T does about as well
#    as any.
# 2. Yes, at high T: at T = 16 the top-8 saliency overlap beats the label-trained students' by more than 0.03.
#
# </details>

# %%
curve = attr.agreement_curve(SEED, SEEDS, progress=True)
T = np.array(curve["T"])
for m in attr.METHODS:
    o = curve[m]
    print(f"{m}: top-8 overlap {np.round(o['topk'].mean(1), 3)} (labels {o['topk_labels'].mean():.3f}); "
          f"rank correlation {np.round(o['rank'].mean(1), 3)} (labels {o['rank_labels'].mean():.3f})")
print("student accuracy per T", np.round(curve["accuracy"].mean(1), 3), "labels",
      round(curve["accuracy_labels"].mean(), 3), "teacher", round(curve["teacher_accuracy"], 3))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for ax, key, name in zip(axes, ["topk", "rank"], ["top-8 pixel overlap", "Spearman rank correlation"]):
    for m, colour in zip(attr.METHODS, ["tab:blue", "tab:orange"]):
        o = curve[m][key]
        ax.errorbar(T, o.mean(1), yerr=o.std(1), marker="o", capsize=3, color=colour,
                    label=f"{m.replace('_', ' ')}, distilled")
        ax.axhline(curve[m][key + "_labels"].mean(), color=colour, ls=":",
                   label=f"{m.replace('_', ' ')}, hard labels")
    ax.set_xscale("log", base=2)
    ax.set_xticks(T, [f"{t:g}" for t in T])
    ax.set(title=f"Agreement with the teacher's maps: {name}", xlabel="distillation temperature T",
           ylabel=f"{name} (mean +- sd, 3 seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %%
sal = curve["saliency"]["topk"].mean(1)
ig = curve["integrated_gradients"]["topk"].mean(1)
i1, i16, i64 = list(T).index(1), list(T).index(16), list(T).index(64)
claims.check("Saliency top-8 overlap with the teacher is at least 0.03 higher at T = 16 than at T = 1",
             sal[i16] > sal[i1] + 0.03, at_1=sal[i1], at_16=sal[i16])
claims.check("No sweet spot in saliency overlap: the best T's overlap exceeds that at T = 64 by less than half the "
             "rise from T = 1 to T = 16", sal.max() - sal[i64] < 0.5 * (sal[i16] - sal[i1]),
             best=sal.max(), best_T=T[sal.argmax()], at_64=sal[i64], rise_1_to_16=sal[i16] - sal[i1])
lab_sal = curve["saliency"]["topk_labels"].mean()
claims.check("At T = 16, distilled students' saliency overlap beats label-trained students' by more than 0.03",
             sal[i16] > lab_sal + 0.03, distilled=sal[i16], labels=lab_sal)

# %% [markdown]
# > **Beside the paper.** Integrated Gradients (Sundararajan et al. 2017) was introduced with two axioms, sensitivity
# > and implementation invariance, rather than a benchmark number; the paper shows its maps on ImageNet networks.
# > Studies of what distillation transfers (for example Stanton et al. 2021, "Does knowledge distillation really
# > work?") found that students often do not match their teachers closely even when they could. Our miniature
# > agrees in spirit: distillation at high T moves the student's saliency towards the teacher's, but the overlap
# > stays far from 1.
#
# ## Check yourself

# %%
quiz("Why does Integrated Gradients give no attribution to blank pixels, while saliency does?", [
    ("IG multiplies the averaged gradient by the pixel's difference from the blank baseline, which is zero there.",
     True, "Right: the completeness axiom makes attributions sum to the score difference from the baseline."),
    ("Blank pixels have zero gradient.", False,
     "No: a perceptron's gradient with respect to a blank pixel is usually non-zero; saliency shows exactly that."),
    ("Captum masks the background automatically.", False, "No: Captum applies no mask; the zeros come from the formula."),
])
quiz("Two students give identical test accuracy. One has a top-8 overlap of 0.8 with the teacher, the other 0.7. "
     "What does that tell you?", [
    ("The first bases its decisions more on the same pixels as the teacher, which matters if the teacher was audited.",
     True, "Right: agreement of outputs does not imply agreement of evidence; the overlap measures the latter."),
    ("The first will generalise better.", False,
     "No: accuracy is the same; attribution agreement is a different property, not a proxy for accuracy."),
    ("Nothing: attribution maps are random.", False,
     "No: they vary between seeds (the error bars above), but much less than the differences between T."),
])

# %% [markdown]
# ## What we learned
# - Distilled students' saliency maps move towards the teacher's as T rises, and level off: at T = 16 the top-8
#   overlap is at least 0.03 above T = 1 and above label-trained students.
# - There is no sweet spot in between here: the best T's overlap exceeds T = 64's by less than half the rise from
#   T = 1 to T = 16 (and T = 64 is the best at most seeds).
# - Agreement of outputs is not agreement of reasons: even the best students share only part of the teacher's top
#   pixels.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 3/3

# %% [markdown]
# ## References
# - Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside convolutional networks: visualising image
#   classification models and saliency maps. ICLR workshop.
# - Sundararajan, M., Taly, A. and Yan, Q. (2017). Axiomatic attribution for deep networks. ICML.
# - Kokhlikyan, N. et al. (2020). Captum: a unified and generic model interpretability library for PyTorch.
#   arXiv:2009.07896.
# - Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge in a neural network. arXiv:1503.02531.
# - Stanton, S. et al. (2021). Does knowledge distillation really work? NeurIPS.
#
# **Next:** [4.14 Distilling reasoning steps](ch4_14_distilling_reasoning_steps.ipynb): distillation beyond images.
