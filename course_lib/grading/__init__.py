"""Checks for the chapter 5 hands-on exercises (H1 to H13).

Each exercise has one check that runs the learner's function(s) on cases built
to catch the mistakes learners really make, and answers with one line:
``"H2 distillation loss: passed"`` or ``"H2 distillation loss: <what to fix>"``.
Checks compare behaviour (values, gradients, invariances), never code, so any
correct implementation passes.

In a notebook::

    from course_lib.grading import check, passed
    check("H1", globals())        # prints the verdict line (nbval compares it)
    if passed("H1"): ...          # run a demonstration only once H1 works

Modules: ``_core`` (registry, safe calling, timeouts), ``distill`` (H1, H2,
H11, H12, H13), ``compress`` (H3 to H7), ``reliability`` (H8, H9, H10), ``beyond`` (H14, H15, H16,
H23), ``applications`` (H17 to H22).
"""
from ._core import EXERCISES, Mistake, check, passed, reference, verdict  # noqa: F401
from . import applications, beyond, compress, distill, reliability  # noqa: F401,E402  (they register their checks)

__all__ = ["EXERCISES", "Mistake", "check", "passed", "reference", "verdict"]
