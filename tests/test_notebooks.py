"""Every notebook runs top to bottom in a fresh .venv kernel; stored check outputs match."""
import os
from pathlib import Path

import pytest

from notebook_runner import (GRADED_SOLUTIONS, ROOT, all_notebooks, compare_check_outputs, has_check_outputs,
                             record_run_time, run_nbval, run_papermill, start_new_kernel)

NOTEBOOKS = all_notebooks()
# Papermill injects a SEED other than the committed default, so every claim is
# checked on a second seed (tools/sweep.py checks more). Each chapter notebook runs
# once: its stored check outputs (# NBVAL_CHECK_OUTPUT cells) are compared in the same
# run, as nbval --nbval-lax would. nbval itself runs the graded solution notebooks
# (below), whose stored verdicts the grader relies on.
SEED = int(os.environ.get("COURSE_TEST_SEED", "1"))


def _id(p):
    return str(p.relative_to(ROOT))


def test_kernel_is_this_venv():
    """The python3 kernel that papermill and nbval start is this environment's interpreter."""
    import sys

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        out = []
        kc.execute_interactive("import sys; print(sys.prefix)", timeout=60,
                               output_hook=lambda m: out.append(m["content"].get("text", "")))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert "".join(out).strip() == sys.prefix, f"kernel runs in {''.join(out).strip()!r}, tests in {sys.prefix!r}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_executes(path, tmp_path):
    out = tmp_path / path.name
    seconds = run_papermill(path, out, parameters={"SEED": SEED})
    print(f"{_id(path)}: {seconds:.1f} s")
    record_run_time(path, seconds)
    mismatches = compare_check_outputs(path, out)
    assert not mismatches, f"{_id(path)}: stored check outputs differ:\n" + "\n".join(mismatches)


@pytest.mark.notebook
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if has_check_outputs(p) and p.parent.name == "solutions"
                                  and p.stem not in GRADED_SOLUTIONS.values()], ids=_id)
def test_notebook_stored_outputs(path):
    """nbval at the committed SEED, as the grader runs a learner's copy (the graded solutions are run by the grader
    itself in tests/test_grade.py)."""
    proc = run_nbval(path)
    assert proc.returncode == 0, f"nbval failed for {_id(path)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"


def test_papermill_run_starts_a_kernel_that_died_starting_again(monkeypatch, tmp_path):
    """A kernel that dies before it runs a cell (a port taken under it) is started again; a notebook whose kernel
    dies in a cell is not run twice."""
    import papermill as pm

    calls = []

    def execute(*args, **kwargs):
        calls.append(kwargs["parameters"])
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        if len(calls) == 3:
            raise RuntimeError("Kernel died")

    monkeypatch.setattr(pm, "execute_notebook", execute)
    run_papermill(NOTEBOOKS[0], tmp_path / "out.ipynb", parameters={"SEED": 3})
    assert calls == [{"SEED": 3}, {"SEED": 3}]
    with pytest.raises(RuntimeError, match="Kernel died"):
        run_papermill(NOTEBOOKS[0], tmp_path / "out.ipynb")
    assert len(calls) == 3
