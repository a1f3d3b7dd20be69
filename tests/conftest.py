"""Test-suite set-up: offline guard, the .venv kernel, shared fixtures."""
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARD_DIR = Path(__file__).resolve().parent / "offline_guard"

# Every process the suite starts (notebook kernels, nbval, JupyterLab) inherits these.
os.environ["COURSE_OFFLINE_GUARD"] = "1"
os.environ.setdefault("COURSE_OFFLINE_LOG", str(Path(tempfile.mkdtemp(prefix="course-offline-")) / "attempts.log"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(GUARD_DIR), str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"  # the .venv kernelspec wins over any user-wide one
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

# The guard in this very process too.
_spec = importlib.util.spec_from_file_location("course_offline_guard", GUARD_DIR / "sitecustomize.py")
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))


def _git_status():
    import subprocess

    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")  # pytest-xdist workers carry workerinput


def pytest_sessionstart(session):
    if _is_controller(session.config):
        session.config._course_git_before = _git_status()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_course_git_before", None)
    if _is_controller(session.config) and before is not None:
        after = _git_status() or set()
        changed = sorted(after - before)
        if changed:
            sys.stderr.write("\nTESTS MODIFIED THE CHECKOUT (git status changed during the run; tests must work on "
                             "copies):\n  " + "\n  ".join(changed[:30]) + "\n")
            session.exitstatus = 1
    log = Path(os.environ["COURSE_OFFLINE_LOG"])
    if log.exists() and log.read_text().strip():
        lines = log.read_text().strip().splitlines()
        sys.stderr.write("\nOFFLINE GUARD: the suite tried to reach the network:\n" + "\n".join(lines[:20]) + "\n")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def root():
    return ROOT
