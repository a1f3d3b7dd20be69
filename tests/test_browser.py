"""A real browser: JupyterLab on 127.0.0.1, Playwright driving the system Chromium.

Opens the D1/D2 notebook, runs every cell, drags the temperature slider and
checks that the student's displayed result changes. Keeps a screenshot in
tests/artifacts/. Skipped (with the reason) when Chromium is not installed;
`make test` installs Debian's chromium first when it can.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/ch1_01_soft_targets_and_kd_loss.ipynb"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM, reason="Chromium not installed: apt-get install chromium "
                                                      "(make test does this when run as root)")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), "course-test-token"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'ws'}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.open_browser=False", "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
    if proc.poll() is not None:
        pytest.fail("JupyterLab exited:\n" + (tmp / "lab.log").read_text()[-3000:])
    yield url, token
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_temperature_slider_retrains_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            for attempt in range(3):  # Run > Run All Cells, as a learner would
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=30_000)
                item = page.locator(".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('Run All Cells'))")
                item.wait_for(state="visible", timeout=30_000)
                page.wait_for_timeout(500)
                item.click(timeout=30_000)
                try:
                    page.wait_for_function(
                        "() => [...document.querySelectorAll('.jp-InputArea-prompt')].some(e => /\\[(\\*|\\d+)\\]/.test(e.innerText))",
                        timeout=20_000)
                    break
                except Exception:
                    page.keyboard.press("Escape")
            else:
                raise AssertionError("Run All Cells did not start the notebook")
            summary = page.locator(".course-summary").first
            summary.wait_for(timeout=int(os.environ.get('COURSE_BROWSER_WAIT_MS', 180_000)))
            # Run All finishes when the last cell has printed the claims table
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea-output')].some(e => e.innerText.includes('gradient slope without'))",
                timeout=240_000)
            before = summary.inner_text()
            assert "distilled student" in before

            dashboard = summary.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
            t_slider = dashboard.locator(".widget-slider").first
            assert "temperature" in t_slider.inner_text()
            t_slider.scroll_into_view_if_needed()
            readout_before = t_slider.locator(".widget-readout").inner_text()
            handle = t_slider.locator(".noUi-handle").first
            box = handle.bounding_box()
            track = t_slider.locator(".noUi-target").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] * 0.15, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function(
                "([el, old]) => el.innerText !== old", arg=[summary.element_handle(), before], timeout=60_000)
            after = summary.inner_text()
            readout_after = t_slider.locator(".widget-readout").inner_text()
            page.screenshot(path=str(ARTIFACTS / "browser_temperature_slider.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=False)
            raise
        finally:
            browser.close()
    assert readout_after != readout_before, (readout_before, readout_after)
    assert after != before and "distilled student" in after, (before, after)
