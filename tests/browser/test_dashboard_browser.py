"""The classroom dashboard in a real browser: JupyterLab served here, Debian's chromium, Playwright.

The widget tests (``tests/widgets``) click the Python side of the widgets; these
tests check that the same clicks work through JupyterLab's front end: the
ipywidgets extension renders the dashboard, a click travels over the kernel's
comm channel, and the updated pending list, node table, status line and SVG
diagram come back into the page.

The module fixture starts its own JupyterLab (a free port, a random token, a
temporary copy of ``notebooks/`` and temporary settings in which the news
pop-up is turned off) and stops it by pid at the end, checking that every
process it started (kernels, and anything they started) is gone. Chromium is
Debian's ``/usr/bin/chromium`` (never ``playwright install``). Without it, or
without Playwright, the module is skipped, except under CI (``CI`` set), where
that is a failure.

Screenshots go to ``test-artifacts/browser/``; with ``PAXOS_EDU_SCREENSHOT=1``
the first test also writes the dashboard's picture to ``notebooks/img/dashboard.png``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from process_watch import marked, wait_gone

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # checked below: skipped locally, a failure under CI
    expect = sync_playwright = None

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DOC_SCREENSHOT = ROOT / "notebooks" / "img" / "dashboard.png"  # lesson 06 shows it
NOTEBOOK = "06_classroom_dashboard.ipynb"
QUORUM_NOTEBOOK = "browser_no_quorum.ipynb"
MARKER = "PAXOS_EDU_BROWSER_TEST"  # in the environment of every process these tests start
START_SECONDS = 90                 # JupyterLab answering, a kernel starting, widgets rendering
TIMEOUT_MS = 30_000                # one click's effect showing in the page

_MISSING = [what for what, gone in (
    (f"{CHROMIUM} (apt-get install chromium)", not CHROMIUM.exists()),
    ("playwright (pip install playwright)", sync_playwright is None),
) if gone]
if _MISSING and not os.environ.get("CI"):
    pytest.skip(f"browser tests need {' and '.join(_MISSING)}", allow_module_level=True)


def _require() -> None:
    if _MISSING:  # only under CI: a missing browser must not pass as skipped
        pytest.fail(f"CI is set but the browser tests cannot run: missing {' and '.join(_MISSING)}",
                    pytrace=False)


# -- processes -----------------------------------------------------------------------------------

def _marked(tag: str) -> list[int]:
    """Pids of the live processes whose environment carries ``MARKER=tag``."""
    return marked(MARKER, tag)


def _reap(tag: str, what: str, grace: float = 15.0) -> None:
    """Wait for every process marked ``tag`` to end; kill (by pid) and report any that linger."""
    left = _wait_unmarked(tag, grace)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    warnings.warn(f"{what} left processes behind after stopping; killed {left}", stacklevel=2)
    still = _wait_unmarked(tag, 5)
    assert not still, f"{what}: processes {still} survive SIGKILL"


def _wait_unmarked(tag: str, timeout: float) -> list[int]:
    """Wait up to ``timeout`` s for every process marked ``tag`` to end; those left."""
    deadline = time.monotonic() + timeout
    left = _marked(tag)
    while left and time.monotonic() < deadline:
        wait_gone(left, deadline - time.monotonic())
        left = _marked(tag)  # and any started meanwhile
    return left


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- JupyterLab ----------------------------------------------------------------------------------

@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def open_url(self, notebook: str) -> str:
        # reset: a fresh workspace, so no tab of an earlier test is restored beside it
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def api(self, path: str, method: str = "GET") -> urllib.request.Request:
        return urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                      headers={"Authorization": f"token {self.token}"})

    def log_tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-n:])


def _quorum_notebook(path: Path) -> None:
    """A one-cell notebook: a dashboard with 1 proposer, 3 acceptors, 1 learner, 1 client."""
    source = ("from paxos_edu import Config\n"
              "from paxos_edu.widgets import Dashboard\n\n"
              "dash = Dashboard(config=Config(1, 3, 1, clients=((5, 0),)))\n"
              "dash")
    one_cell_notebook(path, source)


def one_cell_notebook(path: Path, source: str) -> None:
    """Write a notebook of one code cell, ``source`` (not yet run)."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "dash", "metadata": {},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}, indent=1))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require()
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.gif", "*.jsonl"))
    _quorum_notebook(root / QUORUM_NOTEBOOK)
    # User settings in a temporary folder: no news / update pop-up, nothing of the developer's own.
    settings = tmp / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    tag = secrets.token_hex(8)
    env = {**os.environ, MARKER: tag,
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_DATA_DIR": str(tmp / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython")}
    token, port = secrets.token_hex(16), _free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter) if jupyter.exists() else "jupyter", "lab", "--no-browser",
           "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "jupyterlab.log"
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log_path)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(lab.api("status"), timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{lab.log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in {START_SECONDS} s:\n{lab.log_tail()}",
                            pytrace=False)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.2)  # poll again soon, or notice at once that it exited
        yield lab
    finally:
        _stop_lab(proc, lab)
        _reap(tag, "JupyterLab")


def _stop_lab(proc: subprocess.Popen, lab: Lab) -> None:
    """Ask the server to shut down (it stops its kernels); then SIGTERM, then SIGKILL, by pid."""
    if proc.poll() is None:
        with contextlib.suppress(urllib.error.URLError, OSError):
            urllib.request.urlopen(lab.api("shutdown", "POST"), timeout=5).close()
    for sig, wait in ((None, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if sig is not None and proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- Chromium ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require()
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user data dir
    tag = secrets.token_hex(8)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                env={**os.environ, MARKER: tag}, viewport={"width": 1400, "height": 1800},
                timeout=60_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        _reap(tag, "Chromium")


@contextlib.contextmanager
def screenshotted_page(browser, request, timeout_ms: float):
    """A new page, saved as ``test-artifacts/browser/<test>.png`` when the test ends."""
    page = browser.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:  # also after a failure: what the page showed is the best clue
            page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
        except Exception as exc:  # a broken page must not hide the test's own outcome
            warnings.warn(f"no screenshot of {request.node.name}: {exc}", stacklevel=1)
        finally:
            page.close()


@pytest.fixture
def page(browser, lab, request):
    with screenshotted_page(browser, request, TIMEOUT_MS) as page:
        yield page


# -- driving the dashboard -----------------------------------------------------------------------

def run_notebook(page, lab: Lab, notebook: str):
    """Open ``notebook``, Kernel → Restart Kernel and Run All Cells…, and wait for the dashboard.

    Returns the locator of the dashboard's output area.
    """
    page.goto(lab.open_url(notebook))
    panel = notebook_panel(page)
    expect(panel).to_have_count(1, timeout=START_SECONDS * 1000)
    current_tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current")
    expect(current_tab).to_contain_text(notebook.removesuffix(".ipynb"))
    # Restarting while the page is still connecting to the kernel it started loses the Run
    # All request now and then (the page opens its kernel websocket twice on load).
    kernel_idle(page, timeout=START_SECONDS * 1000)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Kernel$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)",
                 has_text="Restart Kernel and Run All Cells").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Restart Kernel")
    dialog.locator(".jp-mod-accept").click()
    dash = panel.locator(".jp-OutputArea-output").filter(
        has=page.get_by_text("Basic Paxos classroom dashboard"))
    expect(button(dash, "Start")).to_be_enabled(timeout=START_SECONDS * 1000)
    return dash


def notebook_panel(page):
    """The notebook shown in the main area (hidden tabs' panels stay in the page)."""
    return page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)")


def kernel_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait for the shown notebook's kernel to be connected and idle.

    The status bar says "<kernel> | Idle" only once the kernel's websocket is up
    (before that: Initializing, Connecting, Unknown), unlike the toolbar's execution
    indicator, which reads "idle" while the page is still loading. After a click,
    Idle means every message the kernel sent while handling it has arrived.
    """
    expect(page.locator("#jp-main-statusbar")).to_contain_text(" | Idle", timeout=timeout)


def button(scope, label: str):
    """The widget button labelled ``label`` (its name may start with an icon's glyph)."""
    return scope.get_by_role("button", name=re.compile(rf"^\W*{re.escape(label)}$"))


def status(dash):
    return dash.locator(".paxos-status")


def diagram_svg(dash) -> str:
    """The visible diagram as the page has it: an inline ``<svg>`` (``widgets/render.py``)."""
    svg = dash.locator(".widget-tab .paxos-diagram:visible svg").first
    expect(svg).to_be_visible()
    return svg.evaluate("(s) => s.outerHTML")


def click_and_wait(dash, name: str, expected_status: str | re.Pattern) -> None:
    button(dash, name).click()
    expect(status(dash)).to_contain_text(expected_status)


# -- the tests -----------------------------------------------------------------------------------

def test_start_and_step_update_pending_list_node_table_and_diagram(page, lab):
    page.set_viewport_size({"width": 1400, "height": 2300})  # the whole dashboard on screen
    dash = run_notebook(page, lab, NOTEBOOK)
    # Fold the file browser away (click its open tab): the diagram is then shown at about
    # its own size in the screenshots.
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    expect(page.locator("#jp-left-stack")).to_be_hidden()
    expect(status(dash)).to_contain_text("Configure the system, then press Start.")
    click_and_wait(dash, "Start", "step 0 of 0")
    pending = dash.locator(".widget-select select:not([multiple])")
    table = dash.locator("table.paxos-nodes")
    before = {"pending": pending.inner_text(), "table": table.inner_text(),
              "svg": hashlib.sha256(diagram_svg(dash).encode()).hexdigest()}
    steps = 14  # the hijack scenario's key moment: proposer 1 must adopt 210
    for k in range(1, steps + 1):
        click_and_wait(dash, "Step", f"step {k} of {k}")
    expect(pending).not_to_have_text(before["pending"])
    expect(table).not_to_have_text(before["table"])
    kernel_idle(page)  # the last Step's redraw has arrived too
    assert hashlib.sha256(diagram_svg(dash).encode()).hexdigest() != before["svg"], \
        "the diagram did not change after the Steps"
    expect(dash.locator(".paxos-safety")).to_have_attribute("data-safe", "true")
    if os.environ.get("PAXOS_EDU_SCREENSHOT") == "1":
        DOC_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        dash.screenshot(path=DOC_SCREENSHOT)


def test_crashing_a_majority_of_acceptors_shows_no_quorum(page, lab):
    dash = run_notebook(page, lab, QUORUM_NOTEBOOK)
    click_and_wait(dash, "Start", "step 0 of 0")
    expect(dash.locator("table.paxos-nodes tr[data-uid]")).to_have_count(6)  # P0 A1-A3 L4 C5
    acceptors = dash.locator("table.paxos-nodes tr[data-uid]", has_text="acceptor")
    for k in range(1, 41):  # the election, then the leader's roles reach every node
        click_and_wait(dash, "Step", f"step {k} of {k}")
        if acceptors.count() == 3:
            break
    expect(acceptors).to_have_count(3)
    expect(status(dash)).not_to_contain_text("no quorum")
    rows = dash.locator(".widget-hbox").filter(has_text=re.compile(r"A\d+ acceptor")).filter(
        has=button(page, "crash"))
    expect(rows).to_have_count(3)
    for i in range(2):
        button(rows.nth(i), "crash").click()
        expect(rows.nth(i)).to_contain_text("down")
    expect(status(dash)).to_contain_text(re.compile(r"no quorum: acceptors \d+, \d+ of 3 are down"))
    before = re.search(r"step (\d+) of", status(dash).inner_text()).group(1)
    button(dash, "Run to end").click()
    expect(status(dash)).not_to_contain_text(f"step {before} of")  # it ran on ...
    pending = dash.locator(".widget-select select:not([multiple]) option")
    expect(pending.filter(has_not_text="timer")).to_have_count(0)  # ... until only timers are left
    expect(pending.first).to_contain_text("timer")                  # (the proposer's retry)
    expect(status(dash)).to_contain_text(re.compile(r"no quorum: acceptors \d+, \d+ of 3 are down"))
    expect(dash.locator("table.paxos-nodes tr[data-alive='false']")).to_have_count(2)
    expect(status(dash)).not_to_contain_text("decided:")
