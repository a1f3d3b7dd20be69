#!/usr/bin/env python3
"""Copy the notebook run times the last test run measured into notebooks/run_times.json, then rebuild.

    .venv/bin/python -m pytest tests/test_notebooks.py      # writes tests/artifacts/run_times/*.json
    .venv/bin/python tools/record_run_times.py               # notebooks/run_times.json, headers, course map

Only notebooks of ``notebooks/`` are recorded; the time is papermill's wall
time for the whole notebook in the suite (SEED=1, parallel workers).
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEASURED = ROOT / "tests" / "artifacts" / "run_times"
TARGET = ROOT / "notebooks" / "run_times.json"


def main():
    times = json.loads(TARGET.read_text()) if TARGET.exists() else {}
    new = 0
    for f in sorted(MEASURED.glob("*.json")):
        rec = json.loads(f.read_text())
        if rec.get("dir") != "notebooks":
            continue
        times[f.stem] = {"seconds": round(rec["seconds"], 1), "date": rec["date"]}
        new += 1
    stems = {p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")}
    times = {k: v for k, v in sorted(times.items()) if k in stems}
    TARGET.write_text(json.dumps(times, indent=1) + "\n")
    print(f"recorded {new} run times into {TARGET.relative_to(ROOT)}")
    return subprocess.call([sys.executable, str(ROOT / "tools" / "build_notebooks.py")])


if __name__ == "__main__":
    sys.exit(main())
