#!/usr/bin/env python3
"""Run notebooks top to bottom at several seeds, as the suite does, and report pass/fail and time.

    .venv/bin/python tools/sweep.py ch3_01 ch3_02 --seeds 0 1 2 3
    .venv/bin/python tools/sweep.py --all --seeds 2 3 -j 2

A claim must hold for any SEED; the suite checks SEED=1 (and the stored
outputs at SEED=0), this tool the others. Outputs go to build/sweep/ (ignored by git).

    .venv/bin/python tools/sweep.py ch2_08 --seeds 0 1 2 3 4 5 6 7 8 9 10 11 --record build/claims

``--record DIR`` runs every notebook to the end whatever its claims do and writes each claim's numbers per seed
to DIR/<notebook>.jsonl, then prints, for every claim that failed at some seed, its numbers at every seed: what a
threshold that holds for any seed has to be set from.
"""
import argparse
import concurrent.futures as cf
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def run_one(path: Path, seed: int):
    from notebook_runner import run_papermill

    out = ROOT / "build" / "sweep" / f"{path.stem}-seed{seed}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        run_papermill(path, out, parameters={"SEED": seed})
        return path.stem, seed, True, time.perf_counter() - t0, ""
    except AssertionError as e:
        return path.stem, seed, False, time.perf_counter() - t0, str(e)[:1500]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook stems or prefixes (ch3_01, ch1_0, ...)")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--record", metavar="DIR", help="record every claim's numbers; failing claims do not stop a run")
    args = ap.parse_args(argv)
    if args.record:
        import os

        record = Path(args.record).resolve()
        record.mkdir(parents=True, exist_ok=True)
        os.environ["COURSE_CLAIMS_RECORD"] = str(record)  # the kernels inherit both
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tools" / "claims_record")] + [
            p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    nbs = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    if not args.all:
        nbs = [p for p in nbs if any(p.stem.startswith(n) for n in args.names)]
    if not nbs:
        ap.error("no notebook matched")
    jobs = [(p, s) for p in nbs for s in args.seeds]
    failed = 0
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for stem, seed, ok, secs, err in ex.map(lambda a: run_one(*a), jobs):
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {stem} SEED={seed} {secs:6.1f} s", flush=True)
            if err:
                print("     " + err.replace("\n", "\n     "), flush=True)
    print(f"{len(jobs) - failed}/{len(jobs)} runs passed")
    if args.record:
        failed += report(Path(args.record), [p.stem for p in nbs])
    return 1 if failed else 0


def report(record: Path, stems) -> int:
    """Print every recorded claim that failed at some seed, with its numbers at each seed; return how many."""
    import json

    bad = 0
    for stem in stems:
        path = record / f"{stem}.jsonl"
        if not path.exists():
            continue
        by_claim = {}
        for line in path.read_text().splitlines():
            r = json.loads(line)
            by_claim.setdefault(r["sentence"], {})[r["seed"]] = r
        for sentence, runs in by_claim.items():
            if all(r["ok"] for r in runs.values()):
                continue
            bad += 1
            print(f"\n{stem}: {sentence}")
            for seed in sorted(runs, key=lambda s: (s is None, s)):
                r = runs[seed]
                print(f"  SEED={seed}: {'held  ' if r['ok'] else 'FAILED'} {json.dumps(r['numbers'])[:400]}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
