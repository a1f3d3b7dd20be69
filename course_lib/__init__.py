"""course_lib: the small library behind the model compression and distillation course.

Toolkit modules at the top (``data``, ``models``, ``train``, ``cache``,
``metrics``, ``features``, ``latency``, ``claims``, ``seeding``), the loss
registry in ``losses/``, headless methods in ``distill/``, ``compress/`` and
``reliability/``, what the learner sees in ``ui/``, one module per live
experiment in ``labs/chN/``, and the independent exercise oracle in
``grading/``. ``LAYOUT.md`` beside this file gives the rules (tested).

Importing course_lib sets PyTorch to one intra-op thread (override with the
environment variable COURSE_LIB_THREADS). The course's models are tiny: one
thread is as fast as two on an idle laptop and many times faster on a busy
one, where spare threads spin while they wait for a core.
"""
import os as _os

import torch as _torch

__version__ = "0.1.0"

_torch.set_num_threads(int(_os.environ.get("COURSE_LIB_THREADS", "1")))
