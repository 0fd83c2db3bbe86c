"""``paxos-edu lab`` and ``paxos-edu classroom``: real servers on the copied lessons.

Each test starts the command as a user would (a process of its own, on 127.0.0.1 and a
free port), waits for the server to answer, checks what it serves, then stops the
command with Ctrl-C (SIGINT) or SIGTERM sent to the command alone, by pid: the server
it started, and the server's kernels, must be gone afterwards. Every process these
tests start carries a marker in its environment, so that is checked without names.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from process_watch import marked, wait_gone

MARKER = "PAXOS_EDU_LESSONS_SERVER_TEST"
START_SECONDS = 120  # the server answering (and, for Voila, lesson 06 executed)
STOP_SECONDS = 60


def _marked(tag: str) -> list[int]:
    """Pids of the live processes whose environment carries ``MARKER=tag``."""
    return marked(MARKER, tag)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ctrl_c_as_at_a_terminal() -> None:
    # A command started from a terminal gets Ctrl-C; one started by a background job of a
    # script inherits SIGINT ignored (POSIX) and rightly keeps ignoring it. The tests send
    # the command SIGINT as Ctrl-C would, whichever way pytest itself was started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Command:
    """``python -m paxos_edu ARGS`` with private Jupyter folders, its log in a file."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None):
        self.tmp, self.tag, self.port = tmp, secrets.token_hex(8), _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        self.env.update({MARKER: self.tag, "TMPDIR": str(tmp),
                         "JUPYTER_CONFIG_DIR": str(tmp / "config"),
                         "JUPYTER_DATA_DIR": str(tmp / "data"),
                         "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
                         "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"),  # empty
                         "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
                         "IPYTHONDIR": str(tmp / "ipython"), **(env or {})})
        self.log = tmp / "server.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "paxos_edu", *args, "--no-browser", "--port", str(self.port)],
                cwd=tmp, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_ctrl_c_as_at_a_terminal)

    def get(self, path: str, timeout: float = 10) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return r.read()

    def wait_answering(self, path: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            with contextlib.suppress(urllib.error.URLError, OSError):
                self.get(path, timeout=2)
                return
            assert self.proc.poll() is None, f"exited {self.proc.returncode}:\n{self.tail()}"
            assert time.monotonic() < deadline, f"no answer in {START_SECONDS} s:\n{self.tail()}"
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(0.2)  # poll again soon, or notice at once that it exited

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def children(self) -> list[int]:
        text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(p) for p in text.split()]

    def stop_by(self, sig: int) -> int:
        """Send ``sig`` to the command alone; its exit status, once every marked process ended."""
        started = _marked(self.tag)
        self.proc.send_signal(sig)
        code = self.proc.wait(STOP_SECONDS)
        assert wait_gone(started, STOP_SECONDS) == [], f"left running:\n{self.tail()}"
        assert _marked(self.tag) == []
        return code

    def clean_up(self) -> None:
        """After a failed test: end what is left, by pid."""
        for pid in [self.proc.pid, *_marked(self.tag)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@pytest.fixture
def command(tmp_path):
    made = []

    def start(*args: str, env: dict[str, str] | None = None) -> Command:
        made.append(Command(tmp_path, *args, env=env))
        return made[-1]

    yield start
    for c in made:
        c.clean_up()


def test_lab_copies_the_lessons_serves_them_without_news_and_stops_on_ctrl_c(tmp_path, command):
    dest, token = tmp_path / "mine", secrets.token_hex(16)
    root = ["--allow-root"] if os.geteuid() == 0 else []
    lab = command("lab", str(dest), *root, env={"JUPYTER_TOKEN": token})
    lab.wait_answering(f"/api/status?token={token}")
    assert (dest / "00_start_here.ipynb").is_file() and (dest / "img" / "dashboard.png").is_file()
    tree = json.loads(lab.get(f"/api/contents?token={token}"))
    assert "06_classroom_dashboard.ipynb" in {item["name"] for item in tree["content"]}
    # The settings JupyterLab's front end gets: overrides.json replaces the schema's defaults
    # ("none", ask, and true) with the news and update checks off; no user setting is set.
    notification = json.loads(lab.get(
        f"/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"))
    defaults = {k: v["default"] for k, v in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    assert notification["settings"] == {}
    (server,) = lab.children()
    (info,) = (tmp_path / "runtime").glob("jpserver-*.json")
    assert json.loads(info.read_text())["pid"] == server  # JupyterLab is the command's child
    assert lab.stop_by(signal.SIGINT) == 130


def test_classroom_serves_the_classroom_view_code_hidden_and_stops_on_sigterm(tmp_path, command):
    dest = tmp_path / "class"
    classroom = command("classroom", str(dest))
    classroom.wait_answering("/voila/static/voila.js")  # up, before anything is executed
    page = classroom.get("/", timeout=START_SECONDS).decode()  # the view, executed by Voila
    assert "Traceback" not in page
    assert "The classroom view" in page and "Fork from here" in page  # its prose and keys
    assert "application/vnd.jupyter.widget-view+json" in page  # the dashboard's widget
    assert "from paxos_edu" not in page  # the code is hidden
    assert (dest / "06_classroom_dashboard.ipynb").is_file()  # the lessons came along
    assert _marked(classroom.tag)  # Voila and the view's kernel run until stopped
    assert classroom.stop_by(signal.SIGTERM) == 130
