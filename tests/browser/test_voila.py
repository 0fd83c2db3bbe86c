"""Classroom mode in a real browser: ``make classroom`` (Voilà) serves the dashboard, code hidden.

The tests serve copies of ``notebooks/06_classroom_dashboard.ipynb`` (beside a
copy of ``notebooks/img``, which the notebook's figure cell reads) and of the
classroom view ``notebooks/classroom.ipynb`` (what ``make classroom`` serves) with
Voilà, on 127.0.0.1 and a free port, with a random token.
Voilà is started as a plain child process (no new session) and stopped by pid
(SIGTERM, then SIGKILL); every process it started (its kernel) carries a
marker in its environment and must be gone afterwards. Headless Chromium
(Debian's ``/usr/bin/chromium`` via Playwright, never ``playwright install``)
opens the page: no code is shown, the dashboard renders, Start and Step update
the pending list, the node table and the diagram.

Skipped without Chromium or Playwright (or Voilà) unless ``CI`` is set, where
that is a failure (the rule of ``test_dashboard_browser.py``, whose helpers this
reuses). The screenshot goes to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

# The import skips this module as it skips its own (no browser, no CI).
from .test_dashboard_browser import (  # noqa: F401  (browser: a fixture used below)
    ARTIFACTS,
    MARKER,
    NOTEBOOK,
    ROOT,
    _free_port,
    _reap,
    browser,
    button,
    diagram_svg,
    expect,
    screenshotted_page,
    status,
)

VOILA = Path(sys.executable).with_name("voila")
START_SECONDS = 30     # Voilà listening
RENDER_MS = 20_000     # the page: a kernel starts and runs the notebook, the widgets render
CLICK_MS = 10_000      # one click's effect showing in the page
CLASSROOM = "classroom.ipynb"  # the projector page, what make classroom serves

if not VOILA.exists() and not os.environ.get("CI"):
    pytest.skip(f"the classroom test needs {VOILA} (pip install voila)", allow_module_level=True)


@dataclass
class Voila:
    base: str
    token: str
    log: Path

    def url(self, notebook: str = NOTEBOOK) -> str:
        return f"{self.base}/voila/render/{notebook}?token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-n:])


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    if not VOILA.exists():  # only under CI: a missing Voilà must not pass as skipped
        pytest.fail(f"CI is set but {VOILA} is missing", pytrace=False)
    tmp = tmp_path_factory.mktemp("voila")
    # The notebook reads img/dashboard.png beside it: keep that layout.
    (tmp / "notebooks").mkdir()
    for name in (NOTEBOOK, CLASSROOM):
        shutil.copy(ROOT / "notebooks" / name, tmp / "notebooks" / name)
    shutil.copytree(ROOT / "notebooks" / "img", tmp / "notebooks" / "img")
    tag, token, port = secrets.token_hex(8), secrets.token_hex(16), _free_port()
    env = {**os.environ, MARKER: tag,
           "TMPDIR": str(tmp),  # Voilà's kernel connection files
           "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_DATA_DIR": str(tmp / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython")}
    cmd = [str(VOILA), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
           "--Voila.port_retries=0", f"--Voila.token={token}"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = Voila(f"http://127.0.0.1:{port}", token, ARTIFACTS / "voila.log")
    with open(server.log, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp / "notebooks", env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _listening(port):  # not a GET of the page: that would start a kernel
            if proc.poll() is not None:
                pytest.fail(f"Voilà exited ({proc.returncode}):\n{server.log_tail()}",
                            pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"Voilà did not listen in {START_SECONDS} s:\n{server.log_tail()}",
                            pytrace=False)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.1)  # poll again soon, or notice at once that it exited
        yield server
    finally:
        _stop(proc)
        _reap(tag, "Voilà")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (Voilà shuts its kernels down), then SIGKILL, by pid."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
    if proc.poll() is None:
        warnings.warn(f"Voilà (pid {proc.pid}) survived SIGKILL", stacklevel=2)


@pytest.fixture
def page(browser, voila, request):  # noqa: F811  (browser: the imported fixture)
    with screenshotted_page(browser, request, CLICK_MS) as page:
        yield page


def test_classroom_mode_hides_the_code_and_the_dashboard_works(page, voila):
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.goto(voila.url())
    dash = page.locator(".jp-OutputArea-output").filter(
        has=page.get_by_text("Basic Paxos classroom dashboard"))
    expect(button(dash, "Start")).to_be_enabled(timeout=RENDER_MS)
    # Classroom mode: the lesson's prose and outputs, none of its code.
    expect(page.get_by_text("Lesson 6", exact=False).first).to_be_visible()
    shown = page.locator("body").inner_text()  # the text on screen, not the markup
    for code in ("from paxos_edu.widgets import Dashboard", "NBVAL_IGNORE_OUTPUT",
                 'Dashboard(preset="hijack")'):
        assert code not in shown, f"the page shows code: {code!r}"
    expect(page.locator(".jp-InputArea-editor, .cm-editor, .CodeMirror")).to_have_count(0)
    expect(status(dash)).to_contain_text("Configure the system, then press Start.")

    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0", timeout=CLICK_MS)
    pending = dash.locator(".widget-select select:not([multiple])")
    table = dash.locator("table.paxos-nodes")
    expect(pending.locator("option").first).to_contain_text("token")
    before = {"pending": pending.inner_text(), "table": table.inner_text(),
              "svg": diagram_svg(dash)}
    for k in range(1, 7):
        button(dash, "Step").click()
        expect(status(dash)).to_contain_text(f"step {k} of {k}")
    expect(pending).not_to_have_text(before["pending"])
    expect(table).not_to_have_text(before["table"])
    expect(dash.locator(".paxos-safety")).to_have_attribute("data-safe", "true")
    # The picture is sent before the status line (Dashboard.refresh): it is here already.
    assert diagram_svg(dash) != before["svg"], "the diagram did not change after the Steps"


def inside(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width \
        and box["y"] + box["height"] <= height


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
def test_the_classroom_view_puts_step_the_diagram_and_the_safety_light_on_one_screen(
        page, voila, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.goto(voila.url(CLASSROOM))
    dash = page.locator(".paxos-classroom")
    expect(button(dash, "Start")).to_be_enabled(timeout=RENDER_MS)
    assert page.evaluate("window.scrollY") == 0
    expect(dash.locator(".paxos-keys")).to_contain_text("→ step")
    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0", timeout=CLICK_MS)
    expect(button(dash, "Start")).to_be_hidden()  # the setup folded away
    # The keys listen on the whole page: nothing needs focus first.
    for k in range(1, 4):
        page.keyboard.press("PageDown" if k % 2 else "ArrowRight")
        expect(status(dash)).to_contain_text(f"step {k} of {k}")
    page.keyboard.press("PageUp")
    expect(status(dash)).to_contain_text("step 2 of 3")
    page.evaluate("window.scrollTo(0, 0)")
    svg = dash.locator(".paxos-diagram svg").first
    expect(svg).to_be_visible()
    for name, box in (("Step", button(dash, "Step").bounding_box()),
                      ("the safety light", dash.locator(".paxos-safety").bounding_box()),
                      ("the diagram", svg.bounding_box())):
        assert box is not None and inside(box, width, height), \
            f"{name} is not inside the first {width}x{height} screen: {box}"
    page.screenshot(path=str(ARTIFACTS / f"classroom_{width}x{height}.png"))
    page.keyboard.press("r")  # Reset opens the setup again
    expect(button(dash, "Start")).to_be_visible()
