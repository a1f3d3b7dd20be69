"""The install paths a workshop room needs: the CPU-index fallback and the offline wheelhouse."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_PY = shutil.which("python3.11") or shutil.which("python3") or sys.executable


def _venv(path):
    subprocess.run([BASE_PY, "-m", "venv", str(path)], check=True, capture_output=True)
    return path


def _env(**kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL", "PIP_FIND_LINKS")}
    env.update(kw)
    return env


def test_unreachable_cpu_index_falls_back_at_once(tmp_path):
    venv = _venv(tmp_path / "v")
    req = tmp_path / "req.txt"
    req.write_text("torch==2.15.0\ntorchvision==0.29.2\n")
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", str(ROOT / "tools" / "install.sh"), BASE_PY, str(venv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env=_env(COURSE_INSTALL_STEP="cpu-torch", COURSE_REQUIREMENTS=str(req),
                                   COURSE_TORCH_INDEX="http://127.0.0.1:9/simple"))
    took = time.perf_counter() - t0
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "out of reach: installing the registry's build instead" in proc.stdout
    assert took < 60, f"the fallback took {took:.0f} s"


def _tiny_wheel(src, name, deps, out):
    pkg = src / name
    (pkg / name).mkdir(parents=True)
    (pkg / name / "__init__.py").write_text(f"VALUE = {name!r}\n")
    dep_list = ", ".join(f'"{d}"' for d in deps)
    (pkg / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\ndependencies = [{dep_list}]\n')
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(pkg)], check=True, capture_output=True)


def test_wheelhouse_installs_with_no_network(tmp_path):
    wh = tmp_path / "wheelhouse"
    _tiny_wheel(tmp_path / "src", "course_tiny_b", [], wh)
    _tiny_wheel(tmp_path / "src", "course_tiny_a", ["course_tiny_b==1.0"], wh)
    req = tmp_path / "req.txt"
    req.write_text("course_tiny_a==1.0\n")
    venv = _venv(tmp_path / "v")
    cmd = ["bash", str(ROOT / "tools" / "install.sh"), BASE_PY, str(venv)]
    # A network namespace with no interface but loopback: any download attempt would fail.
    isolated = shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    if isolated:
        cmd = ["unshare", "-n"] + cmd
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=_env(COURSE_WHEELHOUSE=str(wh), COURSE_REQUIREMENTS=str(req), COURSE_PACKAGES_ONLY="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Installing from the wheelhouse" in proc.stdout
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import course_tiny_a, course_tiny_b; print('ok')"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    if not isolated:
        pytest.skip("installed with --no-index, but unshare -n was not permitted here to prove it had no network")
