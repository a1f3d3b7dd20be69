# %% [header]
# number = "5.0"
# title = "Hands-on practices: how the graded exercises work"
# syllabus = ["F5"]
# study_minutes = 10
# prerequisites = ["00_start_here"]
# objectives = [
#     "how the exercises, their checks and the one-command grader work",
#     "where each exercise's concept is taught",
# ]

# %% [markdown]
# Chapter 5 turns the course's key formulas into small functions for you to write (H1, H2, ...).
# Each has a stub that raises `NotImplementedError` with a hint, a check that runs your function on cases
# chosen to expose the usual mistakes, and a worked solution.

# %% [markdown]
# ## Where things are
#
# | folder | what it holds |
# |---|---|
# | `exercises/ch5_01_distillation_exercises.ipynb` | H1, H2, H11, H12, H13 (distillation basics) |
# | `exercises/ch5_02_compression_exercises.ipynb` | H3, H4, H5, H6, H7 (compression) |
# | `exercises/ch5_03_reliability_exercises.ipynb` | H8, H9, H10 (calibration, uncertainty, robustness) |
# | `exercises/ch5_04_reliability_and_sharpness_exercises.ipynb` | H14, H15, H16, H23 (temperature scaling, class-weighted distillation, PGD, sharpness) |
# | `exercises/ch5_05_applications_exercises.ipynb` | H17 to H22 (detection, efficient blocks, reading digit strings, continual and meta-learning, layer mapping) |
# | `exercises/ch5_06_capstone.ipynb` | the capstone challenge: compress the digits teacher to a byte budget |
# | `solutions/` | the same notebooks with worked solutions |
#
# The solution notebooks are the single source. Inside each function body the solution sits between two
# marker lines, `### BEGIN SOLUTION H2: <hint>` and `### END SOLUTION`; `make exercises`
# (`tools/make_exercises.py`) replaces every such region by `raise NotImplementedError("H2: <hint>")` and
# writes `exercises/`. A test fails if the committed exercises differ from what the script produces.
#
# ## How a check works
#
# Below each function sits a check cell:
#
# ```python
# # NBVAL_CHECK_OUTPUT
# from course_lib.grading import check  # imported afresh: the checker, not a copy
# check("H2", globals())
# ```
#
# (It imports `check` afresh, so a `check` of your own defined earlier cannot stand in for it.) It finds
# your function(s) by name, runs them on its cases and prints exactly one line: either
# `H2 distillation loss: passed` or the same prefix followed by what to fix, for example that the T² factor
# is missing or that the KL divergence is taken the wrong way round. A check compares *behaviour* (values,
# gradients, invariances), never your code, so any correct implementation passes. It never raises: an
# exception in your code, a missing function or an endless loop (stopped after 30 s) becomes a message, and
# the cells after it still run. Your own `print` calls inside the function are hidden from the verdict.
#
# A fresh exercise notebook shows no verdict under its check cells: only your own run does. The verdict
# to aim for is `... : passed`.
#
# ## Grading yourself
#
# ```
# make grade NB=exercises/ch5_01_distillation_exercises.ipynb
# # or: .venv/bin/python -m course_lib.grade exercises/ch5_01_distillation_exercises.ipynb
# ```
#
# **Save first** (Ctrl+S): the grader reads the saved file, and JupyterLab autosaves only every two
# minutes; the grader prints when the file was last saved. Nothing in your file decides the grade except
# your code:
#
# - the grader recognises the notebook by its metadata (or by its check cells), not by its file name, so a
#   renamed copy (`...-Copy1.ipynb`) is graded as the exercise it came from;
# - it drops every output stored in your file and uses the course's own copy of each check cell and of its
#   expected verdict; a check cell that you changed or deleted is named in the report and earns nothing;
# - it runs the notebook top to bottom in a fresh kernel through **nbval**, which compares each check
#   cell's output with the expected verdict; the point counts only if the verdict also came from the
#   course's checker (each run has a secret your code cannot see; a `check` replaced or patched, a verdict
#   printed by hand, or the course's reference functions passed back in earn nothing).
#
# It prints one line per exercise, `[pass]` or `[fix]` with the check's message, notes for any other cell
# that failed (a syntax error, an endless loop, a cell that killed the kernel), `score: X/Y`, and says
# plainly whether that is full marks. A score below full marks is a result, not a crash: the exit status is
# 0 (add `--strict` for status 1 below full marks, e.g. in CI).
#
# An instructor grades a whole class with
# `python -m course_lib.grade SUBMISSIONS_DIR --csv grades.csv`: one row per learner's file, one column
# per exercise and a total, and one feedback file per learner in `grades_feedback/`.

# %% [markdown]
# ## The exercises and where each concept is taught
#
# | exercise | you write | concept taught in |
# |---|---|---|
# | H1 | `softmax_t`, `entropy` | `ch1_01_soft_targets_and_kd_loss` (D1) |
# | H2 | `distillation_loss`, `soft_loss_grad` (checked against autograd) | `ch1_01_soft_targets_and_kd_loss` (D2) |
# | H3 | `global_magnitude_masks` | `ch2_01` magnitude pruning (C1) |
# | H4 | `movement_scores`, `movement_mask` | `ch2_02` movement pruning (C2) |
# | H5 | `quantize_symmetric`, `dequantize`, `quantization_error` | `ch2_04` quantization (C4) |
# | H6 | `TernarySTE` (forward and backward) | `ch2_05` ternary weights and the STE (C5) |
# | H7 | `low_rank_linear`, `low_rank_flops` | `ch2_06` low-rank factorisation (C6) |
# | H8 | `expected_calibration_error` | `ch3_03_calibration` (B3) |
# | H9 | `bootstrap_ci` | `ch3_02_uncertainty` (B2) |
# | H10 | `fgsm` | `ch3_01_adversarial_robustness` (B1) |
# | H11 | `fit_power_law` | `ch1_10` batch size and temperature (D11) |
# | H12 | `rkd_distance_loss` | `ch1_05` relation-based distillation (D6) |
# | H13 | `lwf_loss` | `ch4_10_continual_learning` (A10); builds on H2 |
# | H14 | `fit_temperature` (NLL) | `ch3_03_calibration` (B3) |
# | H15 | `weighted_distillation_loss` | chapter 3 (class imbalance); builds on H2 |
# | H16 | `pgd` (projection and clamping) | `ch3_01_adversarial_robustness` (B1); builds on H10 |
# | H17 | `box_iou`, `nms` (checked against `torchvision.ops`) | `ch4_02_object_detection` (A2) |
# | H18 | `separable_macs` (checked against `torch.utils.flop_counter`) | `ch4_01_image_recognition` (A1) |
# | H19 | `ctc_greedy_decode` | `ch4_05_reading_digit_strings` (A5) |
# | H20 | `lwf_ci_loss` (class-incremental) | `ch4_10_continual_learning` (A10); builds on H13 |
# | H21 | `reptile_update` | `ch4_11_meta_learning` (A11) |
# | H22 | `layer_mapping` (uniform, first, last) | `ch4_04_language_layer_mapping` (A4) |
# | H23 | `top_hessian_eigenvalue` (checked against `torch.autograd.functional.hessian`) | chapter 1, sharpness (D13) |
#
# Every loss exercise that contains a KL divergence (H2, H13, H15, H20) accepts the same alternative, the
# cross-entropy with the soft targets in place of the KL: the two differ by the teacher's entropy, a
# constant that changes no gradient.
#
# Chapter 1 notebooks are `notebooks/ch1_01_*` to `ch1_12_*` (D1 and D2 in the first, then D3 to D13 one
# per notebook); chapter 2 notebooks are `ch2_01_*` to `ch2_08_*` (C1 to C8); chapter 3 notebooks are
# `ch3_01_*` to `ch3_07_*` (B1 to B7); chapter 4 notebooks are `ch4_01_*` to `ch4_14_*`, numbered after the
# application they teach (A1 to A14). The course map, `notebooks/README.md`, lists them all.

# %%
# parameters
SEED = 0

# %%
import importlib.util
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from course_lib import grading
from course_lib.claims import Claims

claims = Claims("ch5_00_hands_on")

# %% [markdown]
# ## The checks accept correct code...
#
# The grading library keeps a reference implementation of every exercise. Run every check on it: all
# must pass (the test suite also feeds each check alternative correct implementations). While a notebook
# is being graded these references are out of reach: passing one back earns nothing.

# %%
lines, seconds = [], {}
for hid in sorted(grading.EXERCISES, key=lambda h: int(h[1:])):
    t0 = time.perf_counter()
    ok, line = grading.verdict(hid, **grading.reference(hid))
    seconds[hid] = time.perf_counter() - t0
    lines.append(line)
    print(line)
claims.check("Every check accepts its reference implementation.",
             all(line.endswith(": passed") for line in lines) and len(lines) == len(grading.EXERCISES),
             checks=len(lines), passed=sum(line.endswith(": passed") for line in lines))
print(f"all {len(lines)} checks took {sum(seconds.values()):.1f} s in total")

# %% [markdown]
# ## ... and name the mistake in wrong code
#
# Two classic slips in the distillation loss of H2: forgetting the T² factor, and swapping the arguments of
# the KL divergence. The check recognises both and says so.

# %%
def kd_without_t2(student_logits, teacher_logits, labels, *, T=4.0, alpha=0.5):
    soft = F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                    reduction="batchmean", log_target=True)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def kd_reversed(student_logits, teacher_logits, labels, *, T=4.0, alpha=0.5):
    soft = F.kl_div(F.log_softmax(teacher_logits / T, -1), F.log_softmax(student_logits / T, -1),
                    reduction="batchmean", log_target=True) * T * T
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


grad_ref = grading.reference("H2")["soft_loss_grad"]
ok1, msg1 = grading.verdict("H2", distillation_loss=kd_without_t2, soft_loss_grad=grad_ref)
ok2, msg2 = grading.verdict("H2", distillation_loss=kd_reversed, soft_loss_grad=grad_ref)
print(msg1)
print(msg2)
claims.check("The H2 check names both classic mistakes: a missing T² factor and a KL divergence taken the wrong "
             "way round.", not ok1 and "T^2 factor is missing" in msg1 and not ok2 and "wrong way round" in msg2,
             missing_t2=msg1, reversed_kl=msg2)

# %% [markdown]
# ## What a learner's stub looks like
#
# `tools/make_exercises.py` turns a solution region into a stub. Here it is applied to a two-line solution;
# the stub's hint is what the check shows until the function is written.

# %%
spec = importlib.util.spec_from_file_location("make_exercises", Path("..") / "tools" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_exercises)

solution = '''def fit_power_law(x, y):
    ### BEGIN SOLUTION H11: fit a straight line to (log x, log y)
    k, log_c = np.polyfit(np.log(x), np.log(y), 1)
    return k, np.exp(log_c)
    ### END SOLUTION'''
stub = make_exercises.strip_solutions(solution)
print(stub)
namespace = {}
exec(stub, namespace)
ok, line = grading.verdict("H11", namespace)
print(line)
claims.check("A generated stub raises NotImplementedError with its hint, and the check reports that hint.",
             not ok and line.endswith("not done yet - H11: fit a straight line to (log x, log y)"), verdict=line)

# %% [markdown]
# ## What we measured
#
# - Every check accepts its reference implementation (the printed total gives their run time).
# - The H2 check names both classic mistakes: a missing T² factor and a KL divergence taken the wrong way
#   round.
# - A generated stub raises `NotImplementedError` with its hint, and the check reports that hint.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 3/3

# %% [markdown]
# ## Next
#
# Open [`exercises/ch5_01_distillation_exercises.ipynb`](../exercises/ch5_01_distillation_exercises.ipynb) and
# write H1, then check it with the cell below it.
