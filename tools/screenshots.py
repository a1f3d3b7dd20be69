#!/usr/bin/env python3
"""Look at what a learner sees: run notebooks in JupyterLab in Chromium and save a screenshot of every output.

    make screenshots                         # every notebook in notebooks/
    .venv/bin/python tools/screenshots.py ch3_01 ch3_02 [--out build/screenshots]

JupyterLab serves a temporary copy of notebooks/ (autosave off: the checkout is never
written). For each notebook: open it, wait for an idle kernel, Run All, wait until every
cell has run, then save one PNG per output (plots, dashboards, tables, quizzes) as
``<out>/<stem>/NN.png`` and a full-page ``<out>/<stem>/page.png``, and list any error
output in ``<out>/report.txt``. Needs Chromium (apt-get install chromium).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(tmp: Path):
    served = tmp / "course"
    shutil.copytree(ROOT / "notebooks", served / "notebooks", ignore=shutil.ignore_patterns("src", ".ipynb_checkpoints"))
    sdir = tmp / "settings" / "@jupyterlab"
    (sdir / "docmanager-extension").mkdir(parents=True)
    (sdir / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    (sdir / "apputils-extension").mkdir(parents=True)
    (sdir / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = free_port(), "course-screens"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'ws'}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=open(tmp / "lab.log", "w"), stderr=subprocess.STDOUT, cwd=served,
                            env=dict(os.environ, JUPYTER_PREFER_ENV_PATH="1"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            return proc, url, token
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-2000:])


def shoot(page, url, token, stem, out: Path, timeout_s: int) -> list[str]:
    problems = []
    # a workspace of its own: only this notebook is open
    page.goto(f"{url}/lab/workspaces/{stem}/tree/notebooks/{stem}.ipynb?token={token}&reset", timeout=120_000)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=300_000)
    started = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].some(e => /\\[\\*\\]/.test(e.textContent))"
    for attempt in range(3):  # Run > Run All Cells, as a learner would
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item = page.locator(".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('Run All Cells'))")
        item.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(300)
        item.click()
        try:
            page.wait_for_function(started, timeout=30_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    else:
        raise RuntimeError("Run All Cells did not start the notebook")
    # finished when nothing is queued or running and the kernel is idle (an error stops Run All early)
    page.wait_for_function(
        "() => !document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"busy\"]') &&"
        " ![...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].some(e => /\\[\\*\\]/.test(e.textContent))",
        timeout=timeout_s * 1000, polling=1000)
    page.wait_for_timeout(2000)  # widgets finish drawing
    not_run = page.evaluate("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
                            ".filter(e => !/\\[\\d+\\]/.test(e.textContent)).length")
    if not_run:
        problems.append(f"{stem}: {not_run} code cell(s) did not run (an error stopped Run All)")
    d = out / stem
    d.mkdir(parents=True, exist_ok=True)
    outputs = page.locator(".jp-OutputArea-child")
    for i in range(outputs.count()):
        o = outputs.nth(i)
        try:
            o.scroll_into_view_if_needed(timeout=5000)
            o.screenshot(path=str(d / f"{i:02d}.png"), timeout=10_000)
        except Exception as e:  # an output too small or detached: note it, go on
            problems.append(f"{stem}: output {i} not captured ({type(e).__name__})")
        if o.locator("[data-mime-type='application/vnd.jupyter.stderr'], .jp-RenderedText[data-mime-type*='error']").count():
            text = o.inner_text()[:300].replace("\n", " ")
            if "Traceback" in text or "Error" in text or "Warning" in text:
                problems.append(f"{stem}: output {i}: {text}")
    page.screenshot(path=str(d / "page.png"), full_page=True)
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook stems or prefixes (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per notebook")
    args = ap.parse_args(argv)
    if not CHROMIUM:
        raise SystemExit("Chromium is needed: apt-get install chromium (or set COURSE_CHROMIUM)")
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    if args.names:
        stems = [s for s in stems if any(s.startswith(n) for n in args.names)]
    from playwright.sync_api import sync_playwright

    problems = []
    with tempfile.TemporaryDirectory(prefix="course-screens-") as tmp:
        proc, url, token = start_lab(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for stem in stems:
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    t0 = time.perf_counter()
                    try:
                        problems += shoot(page, url, token, stem, args.out, args.timeout)
                        print(f"{stem}: {time.perf_counter() - t0:.0f} s", flush=True)
                    except Exception as e:
                        problems.append(f"{stem}: {type(e).__name__}: {str(e)[:300]}")
                        print(f"{stem}: FAILED ({type(e).__name__})", flush=True)
                    finally:
                        page.close()
                browser.close()
        finally:
            proc.terminate()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.txt").write_text("\n".join(problems) + "\n")
    print(f"screenshots in {args.out}; {len(problems)} problem(s)" + ("" if not problems else ":\n" + "\n".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
