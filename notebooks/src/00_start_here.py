# %% [header]
# number = "0"
# title = "Start here: model compression and knowledge distillation on a laptop CPU"
# syllabus = ["F2", "F4"]
# study_minutes = 10
# prerequisites = ["Python, and a first course in deep learning (softmax, loss, training loop)"]
# objectives = [
#     "find your way round the course, use a slider, check your environment works offline",
# ]

# %% [markdown]
# Big neural networks are accurate but slow, large and power-hungry; phones, cameras and microcontrollers need
# small ones. This course teaches the two families of tools that close the gap:
#
# - **knowledge distillation**: a large *teacher* trains a small *student*, passing on not only its answers but
#   how sure it is of every alternative;
# - **compression**: pruning weights or whole neurons, quantizing numbers to fewer bits, and factorising weight
#   matrices into thinner ones.
#
# Every experiment is small enough to rerun in seconds on a CPU, with data that ships inside installed packages
# (scikit-learn's 8x8 handwritten digits by default), so nothing is ever downloaded. Every quantitative claim in the
# prose is checked by an `assert` in the same notebook, on the numbers that notebook has just computed.
#
# ## How to use the notebooks
# 1. Run the cells from top to bottom (*Run > Run All Cells* in JupyterLab).
# 2. Each notebook opens with a `parameters` cell. `SEED` changes every random choice; the claims hold for any
#    seed because they are averaged over several.
# 3. Sliders retrain a model when you **release** them, usually in a fraction of a second. If you move a slider
#    again while a model is still training, only your latest position is computed. Errors appear under the
#    sliders in red.
# 4. Anything that takes more than a couple of seconds shows a progress bar.
#
# The course map, `notebooks/README.md`, lists every notebook with its objectives, prerequisites, running time
# and the syllabus items it covers.

# %%
# parameters
SEED = 0

# %% [markdown]
# ## Environment check
# The cell below reports the versions in use, the CPU threads PyTorch will use, and whether every data set the
# course needs is available offline.

# %%
import os
import platform
import socket

import matplotlib
import sklearn
import torch
import torchvision

import course_lib
from course_lib import cache, data, playground, train

print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPU cores")
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, scikit-learn {sklearn.__version__}, "
      f"matplotlib {matplotlib.__version__}, course_lib {course_lib.__version__}")
print(f"PyTorch intra-op threads: {torch.get_num_threads()} (course_lib's default; set COURSE_LIB_THREADS to change)")
print(f"GPU available: {torch.cuda.is_available()} (never required)")
print(f"teacher cache: {cache.cache_dir()}")

datasets = {name: data.load(name) for name in data.DATASETS}
for name, d in datasets.items():
    print(f"  {d}")
assert all(len(d.y_train) > 0 for d in datasets.values())
assert torch.get_num_threads() >= 1

# %% [markdown]
# ## Your first slider
# A softmax turns a model's raw scores (*logits*) into probabilities. Divide the logits by a *temperature* $T$
# first and the distribution gets softer as $T$ grows. Drag the slider and release it.

# %%
demo = playground.softmax_demo_dashboard(T=1.0)
demo

# %% [markdown]
# The same function runs when the slider is set from code, which is how the notebooks check what the sliders
# show. At $T = 1$ the "cat" takes almost everything; at $T = 10$ it keeps only about half and the other three
# classes become visible.

# %%
p1 = demo.update(T=1.0)["probs"]
p10 = demo.update(T=10.0)["probs"]
print("T = 1: ", p1.round(3), "\nT = 10:", p10.round(3))
assert p1[0] > 0.999 and 0.5 < p10[0] < 0.6
assert demo.update(T=10.0)["entropy"] > demo.update(T=1.0)["entropy"]

# %% [markdown]
# ## Where to go next
# - **Chapter 1, principles of distillation** starts with `ch1_01_soft_targets_and_kd_loss.ipynb`: soft targets,
#   temperature, the distillation loss, and live T and alpha sliders.
# - **Chapter 2, principles of compression** (`ch2_*`): pruning, quantization, low-rank factorisation.
# - **Chapter 5, hands-on practices** (`ch5_00_hands_on.ipynb`): graded exercises with a one-command grader.
#
# The full course map is shown below; it is the file `notebooks/README.md`.
#
# The check after it confirms that the first teacher is ready (it is trained and cached on the first run).

# %%
from pathlib import Path
from IPython.display import Markdown

Markdown(Path("README.md").read_text())

# %%
teacher = cache.teacher("digits", progress=True)
acc = train.evaluate(teacher, datasets["digits"].X_test, datasets["digits"].y_test)
print(f"digits teacher: test accuracy {acc:.1%}")
assert acc > 0.95
