#!/usr/bin/env python3
"""Workshop mode: every live dashboard of course_lib/labs/ as a web page with no code showing (Voila).

    make workshop                      # builds build/workshop/, warms the teacher cache, serves on 127.0.0.1:8866
    .venv/bin/python tools/workshop.py --build-only [--out DIR]
    .venv/bin/python tools/workshop.py --port 8870 --no-warm

The pages are generated, never written by hand: one tiny notebook per lab module
(``from course_lib.labs.chN import lab; lab.dashboard()``) and a start page that lists
them by chapter with the lab's ``TITLE`` and ``TRY`` lines. A new lab therefore
appears on the start page by itself. Before serving, every dashboard is built once
in this process (``--no-warm`` skips it), so the teachers and pre-trained models
are on disk and a page opens in a few seconds instead of training first.
Offline: Voila serves on 127.0.0.1 only and loads no resource from outside.
"""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "build" / "workshop"
CHAPTERS = {"ch1": "Chapter 1: principles of distillation", "ch2": "Chapter 2: principles of compression",
            "ch3": "Chapter 3: beyond accuracy", "ch4": "Chapter 4: applications"}


def labs():
    """(chapter, module name, module) for every lab that exposes dashboard(), in course order."""
    from course_lib.labs import discover

    yield from discover()


def _first_line(mod) -> str:
    doc = (mod.__doc__ or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else mod.__name__


def page_name(ch: str, name: str) -> str:
    return f"{ch}-{name}.ipynb"


def _nb(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells
    return nb


def build(out: Path = DEFAULT_OUT) -> list[dict]:
    """Write the start page and one page per lab into ``out``; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ipynb"):
        old.unlink()
    entries = []
    for ch, name, mod in labs():
        title = getattr(mod, "TITLE", None) or _first_line(mod)
        try_line = getattr(mod, "TRY", "") or ""
        md = f"## {title}\n\n" + (f"**Try:** {try_line}\n\n" if try_line else "") + \
             "[Back to the start page](index.ipynb)"
        code = (f"from course_lib.labs.{ch} import {name} as lab\n"
                "dash = lab.dashboard()\n"
                "dash")
        nbformat.write(_nb([nbformat.v4.new_markdown_cell(md), nbformat.v4.new_code_cell(code)]),
                       out / page_name(ch, name))
        entries.append({"chapter": ch, "module": f"course_lib.labs.{ch}.{name}", "page": page_name(ch, name),
                        "title": title, "try": try_line})
    lines = ["# Live dashboards of the course", "",
             "Each page retrains a small model when you release a slider (about a tenth of a second on a laptop). "
             "The notebooks in `notebooks/` explain every experiment; these pages are for showing and playing in a "
             "workshop. Open a page, move a slider, watch the numbers change.", ""]
    chapter = None
    for e in entries:
        if e["chapter"] != chapter:
            chapter = e["chapter"]
            lines += ["", f"### {CHAPTERS.get(chapter, chapter)}", ""]
        lines.append(f"- [{e['title']}]({e['page']})" + (f". Try: {e['try']}" if e["try"] else ""))
    nbformat.write(_nb([nbformat.v4.new_markdown_cell("\n".join(lines))]), out / "index.ipynb")
    return entries


def warm(entries, log=print) -> None:
    """Build every dashboard once so cached teachers and models are on disk before learners arrive."""
    for e in entries:
        t0 = time.perf_counter()
        mod = importlib.import_module(e["module"])
        mod.dashboard()
        log(f"  warmed {e['module']} in {time.perf_counter() - t0:.1f} s")


def voila_command(out: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "voila", str(out), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--VoilaConfiguration.show_tracebacks=True", "--ServerApp.open_browser=False"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--port", type=int, default=8866)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--no-warm", action="store_true")
    args = ap.parse_args(argv)
    entries = build(args.out)
    print(f"wrote {len(entries)} dashboard pages and the start page into {args.out}")
    if args.build_only:
        return 0
    if not args.no_warm:
        print("warming the model cache (first time only: a few minutes; later: seconds)...")
        warm(entries)
    url = f"http://127.0.0.1:{args.port}/voila/render/index.ipynb"
    print(f"\nworkshop start page: {url}\n(stop with Ctrl-C)\n", flush=True)
    return subprocess.call(voila_command(args.out, args.port), cwd=args.out)


if __name__ == "__main__":
    sys.exit(main())
