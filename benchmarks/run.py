#!/usr/bin/env python3
"""Benchmark the live sliders end to end (retrain, evaluate, redraw).

    make bench            # or: .venv/bin/python benchmarks/run.py [--moves N]

For the temperature slider of notebook ch1_01 it also times the conventional
baseline: the same student trained with a DataLoader mini-batch loop (batch 64,
shuffled, as the usual tutorials do) until it reaches the same test accuracy as
the live full-batch student. Other chapters add cases in benchmarks/cases_*.py
(a ``cases()`` function returning dicts with "case", "dashboard", "moves").

Prints a table and writes benchmarks/results.json: a list of records with
``case``, ``median_s``, ``p95_s`` and ``ratio_vs_baseline``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from course_lib import models, playground, train  # noqa: E402

TARGET_MEDIAN_S, TARGET_P95_S, TARGET_RATIO = 0.30, 0.60, 5.0


def time_moves(dash, moves):
    dash.update(**moves[0])  # warm-up (caches, allocator)
    times = []
    for move in moves:
        t0 = time.perf_counter()
        dash.update(**move)
        times.append(time.perf_counter() - t0)
    return times


def conventional_loop(T: float, alpha: float, target_acc: float, seed: int = 0, max_epochs: int = 300) -> float:
    """Seconds for a DataLoader mini-batch loop (batch 64) to reach ``target_acc`` on the test split."""
    from torch.utils.data import DataLoader, TensorDataset

    from course_lib.losses import distill_step

    s = playground.setup()
    model = models.mlp(s.ds.n_features, (s.hidden,), s.ds.n_classes, seed=seed)
    loader = DataLoader(TensorDataset(s.X, s.y, s.teacher_logits), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # the tutorials' default learning rate
    t0 = time.perf_counter()
    for epoch in range(max_epochs):
        model.train()
        for xb, yb, tb in loader:
            opt.zero_grad()
            distill_step(model(xb), tb, yb, T=T, alpha=alpha)["loss"].backward()
            opt.step()
        if train.evaluate(model, s.ds.X_test, s.ds.y_test) >= target_acc:
            break
    return time.perf_counter() - t0


def record(case, times, baseline=None):
    med = statistics.median(times)
    return {"case": case, "median_s": round(med, 4), "p95_s": round(float(np.percentile(times, 95)), 4),
            "moves": len(times), "ratio_vs_baseline": None if baseline is None else round(baseline / med, 2),
            "baseline_median_s": None if baseline is None else round(baseline, 4)}


def plugin_cases():
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield from mod.cases()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=24)
    ap.add_argument("--baseline-runs", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args(argv)

    records = []
    dash = playground.dashboard(T=4.0, alpha=0.9)
    temps = [1.0 + (i * 7) % 20 for i in range(args.moves)]  # scattered positions, as a learner drags
    times = time_moves(dash, [{"T": t} for t in temps])
    base = []
    for T in temps[: args.baseline_runs]:
        target = playground.train_student(T, 0.9)["student_acc"]
        base.append(conventional_loop(T, 0.9, target))
    records.append(record("temperature_slider", times, statistics.median(base)))
    records.append({"case": "temperature_baseline_dataloader_b64", "median_s": round(statistics.median(base), 4),
                    "p95_s": round(float(np.percentile(base, 95)), 4), "moves": len(base), "ratio_vs_baseline": 1.0})
    for case in plugin_cases():
        records.append(record(case["case"], time_moves(case["dashboard"], case["moves"])))

    meta = {"machine": platform.machine(), "python": platform.python_version(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(args.out).write_text(json.dumps(records, indent=2) + "\n")
    print(f"{'case':<38} {'median s':>9} {'p95 s':>8} {'x faster':>9}  target")
    ok = True
    for r in records:
        if r["case"].endswith("_b64"):
            target = "baseline"
        else:
            hit = r["median_s"] <= TARGET_MEDIAN_S and r["p95_s"] <= TARGET_P95_S and (
                r["ratio_vs_baseline"] is None or r["ratio_vs_baseline"] >= TARGET_RATIO)
            ok &= hit
            target = "met" if hit else "MISSED"
        ratio = "" if r["ratio_vs_baseline"] is None else f"{r['ratio_vs_baseline']:.1f}"
        print(f"{r['case']:<38} {r['median_s']:>9.3f} {r['p95_s']:>8.3f} {ratio:>9}  {target}")
    print(f"(median <= {TARGET_MEDIAN_S} s, p95 <= {TARGET_P95_S} s, >= {TARGET_RATIO}x the baseline; {meta})")
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
