#!/usr/bin/env python3
"""Benchmark every live slider end to end (retrain, evaluate, redraw), found by itself.

    make bench            # or: .venv/bin/python benchmarks/run.py [--moves N] [--only ch2]

Every module of ``course_lib/labs/ch*/`` that exposes ``dashboard`` is built
with its defaults, and every control is moved across its range: each move sets
one control to a value that lab has not computed before (a *cold* move: no
cache can answer it), then a few earlier positions are revisited (*warm*
moves). Targets, per move on this machine: cold median <= 0.15 s and cold p95
<= 0.40 s. For the temperature slider of ch1_01 it also times the conventional
way to train the same student (a DataLoader mini-batch loop, batch 64, Adam at
its default learning rate) to the same test accuracy; target: at least 10x slower
than a live move.

Prints a table and writes benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import course_lib.labs  # noqa: E402
from course_lib import models, train  # noqa: E402

TARGET_MEDIAN_S, TARGET_P95_S, TARGET_RATIO = 0.15, 0.40, 10.0


def lab_modules(only=None):
    """``(dotted name, module)`` of every lab, found by ``course_lib.labs.discover``."""
    for ch, name, mod in course_lib.labs.discover(only):
        yield mod.__name__, mod


def positions(widget, n: int, rng) -> list:
    """Up to ``n`` distinct values a control can take, in a scattered order (as a learner drags)."""
    import ipywidgets as W

    if isinstance(widget, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.Select, W.SelectionSlider)):
        vals = [o[1] if isinstance(o, tuple) else o for o in widget.options]
    elif isinstance(widget, W.Checkbox) or isinstance(widget, W.ToggleButton):
        vals = [False, True]
    elif isinstance(widget, W.FloatLogSlider):
        k = int(round((widget.max - widget.min) / widget.step))
        vals = [float(widget.base ** (widget.min + i * widget.step)) for i in range(k + 1)]
    elif isinstance(widget, (W.IntSlider, W.FloatSlider)):
        k = int(math.floor((widget.max - widget.min) / widget.step + 1e-9))
        vals = [widget.min + i * widget.step for i in range(k + 1)]
        vals = [int(v) if isinstance(widget, W.IntSlider) else round(float(v), 10) for v in vals]
    else:
        return []
    vals = [v for v in vals if v != widget.value]
    rng.shuffle(vals)
    return vals[:n]


def cold_and_warm(dash, n_moves: int, seed: int = 0):
    """Time ``n_moves`` cold moves (values never computed by this dashboard) and a few warm revisits."""
    rng = np.random.default_rng(seed)
    names = list(dash.controls)
    per = {k: positions(w, n_moves, rng) for k, w in dash.controls.items()}
    names = [k for k in names if per[k]]
    cold, seen = [], [dict(dash.values)]
    i = 0
    while len(cold) < n_moves and any(per[k] for k in names):
        k = names[i % len(names)]
        i += 1
        if not per[k]:
            continue
        move = {k: per[k].pop()}
        t0 = time.perf_counter()
        dash.update(**move)
        cold.append(time.perf_counter() - t0)
        seen.append(dict(dash.values))
    warm = []
    for values in seen[:: max(1, len(seen) // 8)][:8]:
        dash.update(**values)  # back to a computed position: a cached lab answers at once
        t0 = time.perf_counter()
        dash.update(**values)
        warm.append(time.perf_counter() - t0)
    return cold, warm


def conventional_loop(s, T: float, alpha: float, target_acc: float, seed: int = 0, max_epochs: int = 300) -> float:
    """Seconds for a DataLoader mini-batch loop (batch 64) to reach ``target_acc`` on the test split."""
    from torch.utils.data import DataLoader, TensorDataset

    from course_lib.losses import distill_step

    model = models.mlp(s.ds.n_features, (s.hidden,), s.ds.n_classes, seed=seed)
    loader = DataLoader(TensorDataset(s.X, s.y, s.teacher_logits), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # the tutorials' default learning rate
    t0 = time.perf_counter()
    for _ in range(max_epochs):
        model.train()
        for xb, yb, tb in loader:
            opt.zero_grad()
            distill_step(model(xb), tb, yb, T=T, alpha=alpha)["loss"].backward()
            opt.step()
        if train.evaluate(model, s.ds.X_test, s.ds.y_test) >= target_acc:
            break
    return time.perf_counter() - t0


def temperature_baseline(runs: int):
    from course_lib.labs.ch1 import temperature as lab

    s = lab.setup()
    out = []
    for T in [1.0 + (i * 7) % 20 for i in range(runs)]:
        target = lab.run(s, T=T, alpha=0.9)["student_acc"]
        out.append(conventional_loop(s, T, 0.9, target))
    return statistics.median(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=16, help="cold moves per lab")
    ap.add_argument("--baseline-runs", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="substrings of lab module names")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args(argv)

    records, ok = [], True
    for name, mod in lab_modules(args.only):
        t0 = time.perf_counter()
        try:
            dash = mod.dashboard()
        except Exception as e:  # a lab that cannot even start is a failure, reported, not a crash
            records.append({"case": name, "error": f"{type(e).__name__}: {e}"})
            ok = False
            continue
        build = time.perf_counter() - t0
        cold, warm = cold_and_warm(dash, args.moves)
        if not cold:
            records.append({"case": name, "error": "no control could be moved"})
            ok = False
            continue
        rec = {"case": name, "controls": list(dash.controls), "build_s": round(build, 2), "moves": len(cold),
               "cold_median_s": round(statistics.median(cold), 4),
               "cold_p95_s": round(float(np.percentile(cold, 95)), 4),
               "warm_median_s": round(statistics.median(warm), 4) if warm else None}
        if name.endswith("labs.ch1.temperature"):
            base = temperature_baseline(args.baseline_runs)
            rec["baseline_dataloader_b64_s"] = round(base, 3)
            rec["x_faster_than_baseline"] = round(base / rec["cold_median_s"], 1)
        rec["met"] = (rec["cold_median_s"] <= TARGET_MEDIAN_S and rec["cold_p95_s"] <= TARGET_P95_S
                      and rec.get("x_faster_than_baseline", TARGET_RATIO) >= TARGET_RATIO)
        ok &= rec["met"]
        records.append(rec)
        print(f"{name:<44} cold {rec['cold_median_s']:.3f} / p95 {rec['cold_p95_s']:.3f}  warm "
              f"{rec['warm_median_s'] if rec['warm_median_s'] is not None else '-'}  "
              f"{'met' if rec['met'] else 'MISSED'}", flush=True)

    load = None
    try:
        import os
        load = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    meta = {"machine": platform.machine(), "python": platform.python_version(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "load_1min_at_end": load, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(args.out).write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    print()
    print(f"| lab | controls | cold median s | cold p95 s | warm median s | vs DataLoader loop | target |")
    print("|---|---|---|---|---|---|---|")
    for r in records:
        if "error" in r:
            print(f"| {r['case']} | | | | | | ERROR: {r['error']} |")
            continue
        ratio = f"{r['x_faster_than_baseline']}x ({r['baseline_dataloader_b64_s']} s)" if "x_faster_than_baseline" in r else ""
        print(f"| {r['case'].replace('course_lib.labs.', '')} | {', '.join(r['controls'])} | {r['cold_median_s']:.3f} | "
              f"{r['cold_p95_s']:.3f} | {r['warm_median_s']} | {ratio} | {'met' if r['met'] else 'MISSED'} |")
    print(f"\n(targets: cold median <= {TARGET_MEDIAN_S} s, cold p95 <= {TARGET_P95_S} s, temperature slider >= "
          f"{TARGET_RATIO}x the DataLoader loop; {meta})")
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
