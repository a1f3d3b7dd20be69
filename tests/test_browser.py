"""A real browser: JupyterLab on 127.0.0.1, Playwright driving the system Chromium.

Opens the D1/D2 notebook, runs every cell, drags the temperature slider and
checks that the student's displayed result changes. Keeps a screenshot in
tests/artifacts/. Skipped (with the reason) when Chromium is not installed;
`make test` installs Debian's chromium first when it can.

JupyterLab serves a temporary copy of ``notebooks/`` with autosave off, so the
checkout is never written. Before Run All the test waits until the notebook's
kernel is connected and idle (asked through the server's REST API), and fails
with a clear message if it never is. It also measures what a learner feels:
the time from releasing the slider to the new picture in Chromium
(``tests/artifacts/browser_latency.json``), beside ``make bench``'s figure.
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
    served = tmp / "course"
    shutil.copytree(ROOT / "notebooks", served / "notebooks", ignore=shutil.ignore_patterns("src", ".ipynb_checkpoints"))
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    docmanager = tmp / "settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    port, token = _free_port(), "course-test-token"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'ws'}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.open_browser=False", "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=served)
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
    yield url, token, served
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _kernel_state(url, token, notebook):
    """The execution state of ``notebook``'s kernel from the server's REST API, or None if it has none."""
    try:
        with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=5) as r:
            sessions = json.loads(r.read())
    except OSError:
        return None
    for sess in sessions:
        if sess.get("path", "").endswith(Path(notebook).name):
            return (sess.get("kernel") or {}).get("execution_state")
    return None


def wait_for_idle_kernel(url, token, notebook, timeout=120):
    t0, state = time.time(), None
    while time.time() - t0 < timeout:
        state = _kernel_state(url, token, notebook)
        if state == "idle":
            return time.time() - t0
        time.sleep(0.5)
    raise AssertionError(f"the notebook's kernel was not connected and idle after {timeout} s (last state: {state!r}); "
                         "JupyterLab never started it, so Run All would queue cells that never run")


def test_temperature_slider_retrains_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token, served = lab
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
            wait_for_idle_kernel(url, token, NOTEBOOK)
            for attempt in range(3):  # Run > Run All Cells, as a learner would
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=30_000)
                item = page.locator(".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('Run All Cells'))")
                item.wait_for(state="visible", timeout=30_000)
                page.wait_for_timeout(500)
                item.click(timeout=30_000)
                try:
                    page.wait_for_function(
                        "() => [...document.querySelectorAll('.jp-InputArea-prompt')].some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))",
                        timeout=20_000)
                    break
                except Exception:
                    page.keyboard.press("Escape")
            else:
                raise AssertionError(f"Run All Cells did not start the notebook (kernel state: "
                                     f"{_kernel_state(url, token, NOTEBOOK)!r})")
            summary = page.locator(".course-summary").first
            summary.wait_for(timeout=int(os.environ.get('COURSE_BROWSER_WAIT_MS', 180_000)))
            # Run All has finished when every code cell shows an execution count (none queued, none running)
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];"
                " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
                timeout=240_000)
            summary.scroll_into_view_if_needed()  # cells out of view are not laid out: their innerText is empty
            page.wait_for_timeout(500)
            before = summary.inner_text()
            assert "distilled student" in before

            dashboard = summary.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
            t_slider = dashboard.locator(".widget-slider").first
            t_slider.scroll_into_view_if_needed()
            assert "temperature" in t_slider.inner_text()
            readout_before = t_slider.locator(".widget-readout").inner_text()
            handle = t_slider.locator(".noUi-handle").first
            box = handle.bounding_box()
            track = t_slider.locator(".noUi-target").first.bounding_box()
            image = dashboard.locator("img").first
            felt = []
            for frac in (0.6, 0.05, 0.85, 0.3, 0.7):  # release the handle at several places, far apart
                t_slider.scroll_into_view_if_needed()
                page.wait_for_timeout(700)  # cells around it finish laying out, so positions stop moving
                box = handle.bounding_box()
                track = t_slider.locator(".noUi-target").first.bounding_box()
                old_src = image.get_attribute("src")
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.mouse.down()
                page.mouse.move(track["x"] + track["width"] * frac, box["y"] + box["height"] / 2, steps=8)
                t_release = time.perf_counter()
                page.mouse.up()
                if os.environ.get("COURSE_BROWSER_DEBUG"):
                    page.screenshot(path=str(ARTIFACTS / f"debug_{frac}.png"))
                    print("DEBUG", frac, box, track, t_slider.locator(".widget-readout").inner_text())
                page.wait_for_function("([el, old]) => el.getAttribute('src') !== old",
                                       arg=[image.element_handle(), old_src], timeout=60_000, polling=10)
                felt.append(time.perf_counter() - t_release)
                if frac == 0.6:
                    page.wait_for_function("([el, old]) => el.innerText !== old",
                                           arg=[summary.element_handle(), before], timeout=60_000)
                    after = summary.inner_text()
                    readout_after = t_slider.locator(".widget-readout").inner_text()
            felt.sort()
            report = {"moves": len(felt), "median_s": round(felt[len(felt) // 2], 3), "max_s": round(felt[-1], 3),
                      "what": "release of the temperature slider to the new picture in Chromium (ch1_01)"}
            (ARTIFACTS / "browser_latency.json").write_text(json.dumps(report, indent=1))
            print(f"felt latency in Chromium: median {report['median_s']} s, max {report['max_s']} s")
            page.screenshot(path=str(ARTIFACTS / "browser_temperature_slider.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=False)
            raise
        finally:
            browser.close()
    assert readout_after != readout_before, (readout_before, readout_after)
    assert after != before and "distilled student" in after, (before, after)
