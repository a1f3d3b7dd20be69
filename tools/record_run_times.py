#!/usr/bin/env python3
"""Copy what the last test run measured into the repository, then rebuild what depends on it.

    .venv/bin/python -m pytest tests/test_notebooks.py      # writes tests/artifacts/run_times/ and claims/
    .venv/bin/python tools/record_run_times.py               # run times -> notebooks/run_times.json, headers,
                                                             # course map; claims -> instructor/claims/, the kit

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
    claims_in, claims_out = ROOT / "tests" / "artifacts" / "claims", ROOT / "instructor" / "claims"
    claims_out.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted(claims_in.glob("*.json")):
        if f.stem in stems:
            (claims_out / f.name).write_text(json.dumps(json.loads(f.read_text()), indent=1) + "\n")
            n += 1
    print(f"recorded the claims of {n} notebooks into {claims_out.relative_to(ROOT)}")
    rc = subprocess.call([sys.executable, str(ROOT / "tools" / "build_notebooks.py")])
    return rc or subprocess.call([sys.executable, str(ROOT / "tools" / "instructor_kit.py")])


if __name__ == "__main__":
    sys.exit(main())
