#!/usr/bin/env python3
"""Check what a learner's laptop (or a workshop room) has, and say what to fix, in plain words.

    make doctor          # or: .venv/bin/python tools/doctor.py [--json]

Checks: the Python version, every package pinned in requirements.txt, which torch build
is installed (CPU-only or the larger CUDA build), CPU cores and the threads torch uses,
free disk, the teacher cache, the course kernel, and Chromium for the browser tests.
Exit status 0 when the course will run (warnings allowed), 1 when something must be fixed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OK, WARN, FAIL = "ok", "warning", "fix"


def pinned(requirements: Path) -> dict:
    pins = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)", line)
        if m:
            pins[m.group(1)] = m.group(2)
        elif re.match(r"^[A-Za-z0-9_.\-]+$", line):
            pins[line] = None
    return pins


def check_python():
    v = sys.version_info
    if v[:2] >= (3, 11):
        return OK, f"Python {v.major}.{v.minor}.{v.micro}"
    return FAIL, f"Python {v.major}.{v.minor} is too old: install Python 3.11 or newer, then run `make clean-venv lab`"


def check_packages(pins: dict):
    from importlib import metadata

    missing, wrong = [], []
    for name, want in pins.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if want and have.split("+")[0] != want:
            wrong.append(f"{name} {have} (course pins {want})")
    if missing:
        return FAIL, (f"{len(missing)} pinned package(s) missing: {', '.join(missing)}. Run `make lab` (or "
                      "`.venv/bin/pip install -r requirements.txt`) with a network or a wheelhouse.")
    if wrong:
        return WARN, f"versions differ from the pins: {'; '.join(wrong)}. The course was tested with the pins."
    return OK, f"all {len(pins)} pinned packages installed at the pinned versions"


def check_torch():
    try:
        import torch
    except ImportError:
        return FAIL, "torch is not installed: run `make lab`", {}
    cuda = torch.version.cuda
    build = f"CUDA {cuda} build" if cuda else "CPU-only build"
    info = {"torch": torch.__version__, "build": "cuda" if cuda else "cpu"}
    if cuda:
        return OK, (f"torch {torch.__version__}, {build} (runs on the CPU here; the CPU-only wheels are several GB "
                    "smaller: see the README)"), info
    return OK, f"torch {torch.__version__}, {build}", info


def check_cpu():
    import torch

    n = os.cpu_count() or 1
    import course_lib  # noqa: F401  (sets torch's thread count)

    t = torch.get_num_threads()
    if n < 2:
        return WARN, f"{n} CPU core: the course runs, but the test suite will take about twice as long", n
    return OK, f"{n} CPU cores; course_lib uses {t} torch thread(s) per process (COURSE_LIB_THREADS to change)", n


def check_disk(path: Path, need_gb: float = 2.0):
    free = shutil.disk_usage(path).free / 1e9
    if free < need_gb:
        return FAIL, f"only {free:.1f} GB free on {path}: free at least {need_gb:.0f} GB (teacher cache, outputs)"
    return OK, f"{free:.0f} GB free on the disk that holds the course"


def check_cache():
    from course_lib import cache

    d = cache.cache_dir()
    files = list(d.glob("*.pt"))
    size = sum(f.stat().st_size for f in files) / 1e6
    if not os.access(d, os.W_OK):
        return FAIL, f"the teacher cache {d} is not writable: set COURSE_LIB_CACHE to a writable folder"
    word = "empty (teachers are trained on first use, a few seconds each)" if not files else \
        f"{len(files)} cached models, {size:.1f} MB"
    return OK, f"teacher cache {d}: {word}"


def check_kernel():
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except Exception:
        return FAIL, "no python3 kernel: run `make lab` (it installs the course kernel into .venv)"
    exe = Path(spec.argv[0])
    here = Path(sys.executable)
    if exe.resolve() != here.resolve() and not str(exe).endswith("python"):
        return WARN, f"the python3 kernel runs {exe}, not this environment's {here}"
    return OK, f"kernel '{spec.display_name}' -> {exe}"


def check_chromium():
    exe = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return OK, f"Chromium for the browser tests: {exe}"
    return WARN, ("no Chromium: only the two browser tests need it (sudo apt-get install chromium); "
                  "the course itself runs in any browser")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    results = []

    def add(name, status, text):
        results.append({"check": name, "status": status, "message": text})

    add("python", *check_python())
    add("packages", *check_packages(pinned(ROOT / "requirements.txt")))
    status, text, _info = check_torch()
    add("torch build", status, text)
    if status != FAIL:
        add("cpu", *check_cpu()[:2])
        add("cache", *check_cache())
    add("disk", *check_disk(ROOT))
    try:
        add("kernel", *check_kernel())
    except ImportError:
        add("kernel", FAIL, "jupyter is not installed: run `make lab`")
    add("chromium", *check_chromium())
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        marks = {OK: "  ok  ", WARN: " warn ", FAIL: " FIX  "}
        for r in results:
            print(f"[{marks[r['status']]}] {r['check']:<12} {r['message']}")
        bad = [r for r in results if r["status"] == FAIL]
        print("\n" + ("Everything the course needs is here." if not bad else
                      f"{len(bad)} thing(s) to fix before the course will run: see the FIX lines above."))
    return 1 if any(r["status"] == FAIL for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
