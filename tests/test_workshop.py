"""Workshop mode: generated Voila pages for every lab, and a real browser that opens one and moves a slider."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import workshop  # noqa: E402

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def test_every_lab_gets_a_page_and_a_link_on_the_start_page(tmp_path):
    entries = workshop.build(tmp_path)
    modules = {f"course_lib.labs.{p.parent.name}.{p.stem}" for p in (ROOT / "course_lib" / "labs").glob("ch*/*.py")
               if p.stem != "__init__"}
    assert {e["module"] for e in entries} == modules
    index = nbformat.read(tmp_path / "index.ipynb", 4).cells[0].source
    for e in entries:
        assert f"]({e['page']})" in index, e
        page = nbformat.read(tmp_path / e["page"], 4)
        assert f"from course_lib.labs.{e['chapter']} import" in page.cells[1].source
        assert e["title"] and e["title"] in page.cells[0].source


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM, reason="Chromium not installed: apt-get install chromium")
def test_start_page_link_opens_a_dashboard_whose_slider_retrains(tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "workshop"
    workshop.build(out)
    port = _free_port()
    log = open(tmp_path / "voila.log", "w")
    proc = subprocess.Popen(workshop.voila_command(out, port), cwd=out, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/voila/render/index.ipynb", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("Voila exited:\n" + (tmp_path / "voila.log").read_text()[-3000:])
                time.sleep(0.5)
        else:
            pytest.fail("Voila did not answer:\n" + (tmp_path / "voila.log").read_text()[-3000:])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync",
                      "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            try:
                page.goto(f"{base}/voila/render/index.ipynb", timeout=120_000)
                link = page.locator("a[href$='ch1-temperature.ipynb']").first
                link.wait_for(timeout=60_000)
                t0 = time.perf_counter()
                link.click()
                summary = page.locator(".course-summary").first
                summary.wait_for(timeout=120_000)
                page.wait_for_function("el => el.innerText.trim().length > 0", arg=summary.element_handle(),
                                       timeout=60_000)
                opened = time.perf_counter() - t0
                before = summary.inner_text()
                slider = page.locator(".widget-slider").first
                handle, track = slider.locator(".noUi-handle").first, slider.locator(".noUi-target").first
                hb, tb = handle.bounding_box(), track.bounding_box()
                page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
                page.mouse.down()
                page.mouse.move(tb["x"] + tb["width"] * 0.1, hb["y"] + hb["height"] / 2, steps=8)
                page.mouse.up()
                page.wait_for_function("([el, old]) => el.innerText !== old", arg=[summary.element_handle(), before],
                                       timeout=60_000)
                after = summary.inner_text()
                page.screenshot(path=str(ARTIFACTS / "workshop_dashboard.png"), full_page=True)
                assert page.locator("pre, .jp-InputArea-editor").count() == 0 or \
                    page.locator(".jp-InputArea-editor:visible").count() == 0, "code is showing"
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "workshop_failure.png"), full_page=True)
                raise
            finally:
                browser.close()
        (ARTIFACTS / "workshop_timing.json").write_text(json.dumps({"page_open_s": round(opened, 2)}))
        print(f"workshop: the temperature dashboard page opened in {opened:.1f} s")
        assert after != before, (before, after)
        assert opened < 60, f"the dashboard page took {opened:.0f} s to open"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
