# %% [header]
# number = "3.1"
# title = "A short title that says what the learner finds out"
# syllabus = ["B1"]
# study_minutes = 20
# prerequisites = ["ch1_01_soft_targets_and_kd_loss"]
# objectives = [
#     "measure ... against ...",
#     "explain why ...",
# ]

# %% [markdown]
# One or two paragraphs: the question, why it matters, what we will build. Copy this file to
# notebooks/src/<stem>.py, then `python tools/build_notebooks.py <stem>`.

# %%
# parameters
SEED = 0  # drives the split, the teacher, the subsets and the students (say here what is held fixed, and why)

# %%
import numpy as np
import torch

from course_lib import cache, data, train
from course_lib.claims import Claims
from course_lib.ui import plots, quiz

claims = Claims("ch3_01_example")
ds = data.load("digits", split_seed=SEED)

# %% [markdown]
# ## 1. The experiment
#
# Prose before code: what is about to run, and how long it takes.
#
# **Predict, then run.** 1. Which student do you expect to ...? 2. By roughly how much?
#
# <details><summary>Answer</summary>
#
# The notebook asserts that ... by at least ... points (the claim below); at SEED=0 it measured ...
#
# </details>

# %%
teacher = cache.teacher("digits", seed=SEED, split_seed=SEED)
acc = train.evaluate(teacher, ds.X_test, ds.y_test)
claims.check("the teacher scores above 90% on the test split", acc > 0.9, accuracy=acc)

# %% [markdown]
# > **Beside the paper.** Author et al. (year), Table N: the headline number. Our miniature measured ...;
# > what carries over and what does not.
#
# ## Check yourself

# %%
quiz("Why ...?", [
    ("Because ...", True, "Right: ..."),
    ("Because ...", False, "No: ..."),
])

# %% [markdown]
# ## What we learned
# - one line per finding, with the number.

# %%
claims.table()

# %%
# NBVAL_CHECK_OUTPUT
claims.verify()
# %% [output]
# claims checked: 1/1

# %% [markdown]
# ## References
# - Author, A. et al. (year). Title. Venue.
#
# **Next:** [3.2 The next notebook](ch3_02_next.ipynb): one line on what it adds.
