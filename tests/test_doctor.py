"""make doctor: every check reports in plain words, and a missing package is named with what to do."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import doctor  # noqa: E402


def test_doctor_reports_every_check_on_this_machine():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "doctor.py"), "--json"], capture_output=True,
                          text=True, timeout=120)
    results = json.loads(proc.stdout)
    names = [r["check"] for r in results]
    assert names == ["python", "packages", "torch build", "cpu", "cache", "disk", "kernel", "chromium"]
    assert all(r["status"] in ("ok", "warning", "fix") and r["message"] for r in results)
    torch_line = next(r["message"] for r in results if r["check"] == "torch build")
    assert "CPU-only build" in torch_line or "CUDA" in torch_line
    assert proc.returncode == (1 if any(r["status"] == "fix" for r in results) else 0)


def test_missing_and_mismatched_packages_are_named(tmp_path):
    req = tmp_path / "req.txt"
    req.write_text("pytest==0.0.1  # wrong on purpose\nno-such-package-xyz==1.0\n")
    pins = doctor.pinned(req)
    assert pins == {"pytest": "0.0.1", "no-such-package-xyz": "1.0"}
    status, text = doctor.check_packages(pins)
    assert status == "fix" and "no-such-package-xyz" in text and "make lab" in text
    status, text = doctor.check_packages({"pytest": "0.0.1"})
    assert status == "warning" and "course pins 0.0.1" in text


def test_too_little_disk_is_a_fix(tmp_path):
    status, text = doctor.check_disk(tmp_path, need_gb=1e9)
    assert status == "fix" and "free at least" in text
