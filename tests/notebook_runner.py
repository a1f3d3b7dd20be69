"""Run notebooks as a learner would: papermill in a fresh kernel of this environment."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("notebooks", "solutions")
# Solutions that tests/test_grade.py grades through the grader (nbval at the committed SEED, every check cell
# against its stored verdict) and requires full marks for: their stored outputs need no second nbval run.
GRADED_SOLUTIONS = {"solved": "ch5_01_distillation_exercises", "capstone_entry": "ch5_06_capstone"}


def all_notebooks():
    out = []
    for d in NOTEBOOK_DIRS:
        out += sorted(p for p in (ROOT / d).glob("*.ipynb"))
    return out


def has_check_outputs(path: Path) -> bool:
    nb = json.loads(path.read_text())
    return any("NBVAL_CHECK_OUTPUT" in "".join(c.get("source", "")) for c in nb["cells"] if c["cell_type"] == "code")


def compare_check_outputs(source: Path, executed: Path) -> list[str]:
    """Stored stdout of every ``# NBVAL_CHECK_OUTPUT`` cell in ``source`` against the same cell in ``executed``."""
    def checks(nb):
        out = []
        for c in nb["cells"]:
            if c["cell_type"] == "code" and "NBVAL_CHECK_OUTPUT" in "".join(c.get("source", "")):
                text = "".join("".join(o.get("text", "")) for o in c.get("outputs", []) if o.get("output_type") == "stream")
                out.append(("".join(c["source"])[:60], text.strip()))
        return out
    want, got = checks(json.loads(source.read_text())), checks(json.loads(executed.read_text()))
    problems = []
    if len(want) != len(got):
        problems.append(f"{len(want)} check cells stored, {len(got)} in the run")
    for (src, w), (_, g) in zip(want, got):
        if w != g:
            problems.append(f"cell {src!r}: stored {w!r}, got {g!r}")
    return problems


def record_run_time(path: Path, seconds: float) -> None:
    """Keep the measured time for tools/record_run_times.py (untracked: tests/artifacts/)."""
    out = ROOT / "tests" / "artifacts" / "run_times"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{path.stem}.json").write_text(json.dumps(
        {"seconds": seconds, "date": time.strftime("%Y-%m-%d"), "dir": path.parent.name}))


def start_new_kernel(**kwargs):
    """``jupyter_client``'s ``start_new_kernel``, started again on new ports if the kernel dies starting."""
    from jupyter_client.manager import start_new_kernel as start

    from course_lib.grade import retry_kernel_start

    return retry_kernel_start(start)(**kwargs)


def run_papermill(path: Path, out_path: Path, parameters: dict | None = None, timeout: int = 600):
    """Execute ``path`` with papermill; returns seconds taken. Raises AssertionError naming the cell.

    A kernel that dies while starting is started again (``course_lib.grade.retry_kernel_start``); the time returned
    is that of the run that executed the notebook."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from course_lib.grade import retry_kernel_start

    import os

    claims_dir = ROOT / "tests" / "artifacts" / "claims"  # each notebook's claims with their numbers (untracked)
    old = os.environ.get("COURSE_CLAIMS_DIR")
    os.environ["COURSE_CLAIMS_DIR"] = str(claims_dir)  # the kernel started below inherits it
    started = []

    def execute():
        started.append(time.perf_counter())  # the time returned is the last attempt's
        pm.execute_notebook(str(path), str(out_path), parameters=parameters or {}, kernel_name="python3",
                            cwd=str(path.parent), progress_bar=False, execution_timeout=timeout, log_output=False)

    try:
        retry_kernel_start(execute)()
    except PapermillExecutionError as e:
        nb = json.loads(Path(out_path).read_text())
        code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        src = ""
        for c in code_cells:
            if c.get("execution_count") == e.exec_count:
                src = "".join(c["source"])[:400]
        raise AssertionError(
            f"{path.relative_to(ROOT)}: cell {e.cell_index} (execution count {e.exec_count}) raised "
            f"{e.ename}: {e.evalue}\n--- cell source ---\n{src}") from None
    finally:
        if old is None:
            os.environ.pop("COURSE_CLAIMS_DIR", None)
        else:
            os.environ["COURSE_CLAIMS_DIR"] = old
    return time.perf_counter() - started[-1]


def run_nbval(path: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run nbval (lax) on one notebook in this environment's kernel (through the grader's runner, which starts a
    kernel that died while starting again and reports a kernel that dies in a cell at once)."""
    from course_lib.grade import _RUNNER

    return subprocess.run(
        [sys.executable, "-c", _RUNNER, "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         f"--nbval-cell-timeout={timeout}", "--rootdir", str(path.parent), "-c", "/dev/null", str(path)],
        cwd=path.parent, capture_output=True, text=True)
