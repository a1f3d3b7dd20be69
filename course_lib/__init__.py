"""course_lib: the small library behind the model compression and distillation course.

Modules, one job each: ``data`` (offline data sets), ``models`` (builders and
accounting), ``train`` (fast seeded training, cached teachers), ``losses``
(distillation losses and their registry), ``metrics``, ``plots``, ``widgets``
(live dashboards), ``playground`` (the chapter-1 T/alpha sliders).

Importing course_lib sets PyTorch to one intra-op thread (override with the
environment variable COURSE_LIB_THREADS). The course's models are tiny: one
thread is as fast as two on an idle laptop and many times faster on a busy
one, where spare threads spin while they wait for a core.
"""
import os as _os

import torch as _torch

__version__ = "0.1.0"

_torch.set_num_threads(int(_os.environ.get("COURSE_LIB_THREADS", "1")))
