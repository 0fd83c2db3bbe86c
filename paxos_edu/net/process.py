"""Starting and stopping node processes, always by pid (controller side).

Rules, and why:

- A node is ``Popen([sys.executable, "-S", "-m", "paxos_edu.net.node_main", ...])`` in the
  controller's own process group, never ``setsid``/``start_new_session``: Jupyter and
  nbval stop a kernel by killing its process group, and the nodes must go with it.
- ``-S`` skips ``site`` (about 15 ms a process, and no ``.pth`` start-up hooks);
  ``PYTHONPATH`` names the directory holding ``paxos_edu`` instead.
- stdin is a pipe the controller keeps: when the controller dies, the pipe closes and
  the node exits. stdout and stderr go to the node's log file, never to a notebook.
- Linux sends the parent-death signal when the *thread* that started a child ends, so
  a controller running outside the main thread starts its nodes from one long-lived
  spawner thread instead of the caller's (possibly short-lived) thread.
- Stopping closes every stdin first (nodes exit on EOF, all in parallel), then kills
  what is left by pid after a deadline. Never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paxos_edu

PACKAGE_ROOT = str(Path(paxos_edu.__file__).resolve().parent.parent)


class NodeProcess:
    """One node's OS process: its pid, its command pipe and its log file."""

    def __init__(self, uid: int, init: dict[str, Any], workdir: Path,
                 extra_path: tuple[str, ...] = ()):
        self.uid = uid
        self.log_path = workdir / f"node-{uid}.log"
        self._next_cmd = 0
        argv = [sys.executable, "-S", "-m", "paxos_edu.net.node_main",
                "--uid", str(uid), "--parent", str(os.getpid())]
        path = [PACKAGE_ROOT, *extra_path, os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
        with open(self.log_path, "ab") as log:
            self.popen = _popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=log,
                                cwd=str(workdir), env=env, close_fds=True)
        self.send(init)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def command(self, cmd: str, fields: dict[str, Any] | None = None) -> int:
        """Send command ``cmd`` with ``fields``; returns its id (the node's ``done`` names it)."""
        self._next_cmd += 1
        self.send({**(fields or {}), "cmd": cmd, "id": self._next_cmd})
        return self._next_cmd

    def send(self, obj: dict[str, Any]) -> bool:
        try:
            self.popen.stdin.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
            self.popen.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False  # the node is gone; whoever waits for it will notice

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL this process (by pid) and reap it."""
        if self.popen.poll() is None:
            self.popen.kill()
        self._reap(timeout)

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self.popen.stdin.close()

    def _reap(self, timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)
        self.close_stdin()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessSet:
    """Every process one controller started, so that all of them can be stopped by pid."""

    def __init__(self):
        self._procs: list[NodeProcess] = []
        self._lock = threading.Lock()

    def add(self, proc: NodeProcess) -> None:
        with self._lock:
            self._procs.append(proc)

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._procs if p.alive()]

    def stop_all(self, grace: float = 1.0) -> None:
        """Close every stdin (nodes exit on EOF), wait ``grace`` s, then SIGKILL the rest."""
        with self._lock:
            procs, self._procs = self._procs, []
        for p in procs:
            p.close_stdin()
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


_jobs: queue.SimpleQueue | None = None
_jobs_lock = threading.Lock()


def _popen(argv: list[str], **kwargs) -> subprocess.Popen:
    """Popen from the main thread, or from the spawner thread when called elsewhere."""
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(argv, **kwargs)
    global _jobs
    with _jobs_lock:
        if _jobs is None:
            _jobs = queue.SimpleQueue()
            threading.Thread(target=_spawner, args=(_jobs,), name="paxos-edu-spawner",
                             daemon=True).start()
    done = queue.SimpleQueue()
    _jobs.put((argv, kwargs, done))
    ok, result = done.get()
    if not ok:
        raise result
    return result


def _spawner(jobs: queue.SimpleQueue) -> None:
    while True:
        argv, kwargs, done = jobs.get()
        try:
            done.put((True, subprocess.Popen(argv, **kwargs)))
        except Exception as exc:  # handed back to the caller
            done.put((False, exc))
