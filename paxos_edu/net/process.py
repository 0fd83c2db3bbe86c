"""Starting and stopping node processes, always by pid (controller side).

Rules, and why:

- On Linux a cluster starts one ``launcher`` process that has imported what a node needs
  and forks each node from it (a fresh interpreter costs ~70 ms of CPU, a fork ~1 ms);
  the controller watches and kills those nodes through pidfds. Elsewhere a node is
  ``Popen([sys.executable, "-S", "-m", "paxos_edu.net.node_main", ...])``. Either way a
  node ends up in the controller's own process group, never ``setsid``: Jupyter and
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
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paxos_edu

PACKAGE_ROOT = str(Path(paxos_edu.__file__).resolve().parent.parent)


FORK_SERVER = hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")
"""Whether nodes are forked by a launcher (Linux: pidfds) rather than each started afresh."""


def cpu_seconds(pids: list[int]) -> float | None:
    """CPU time the processes ``pids`` have used so far (Linux /proc); None if unknown.

    Waits use it to tell a slow start (a loaded machine: the processes keep computing)
    from a stuck one (no CPU used for a whole wait slice).
    """
    total, known = 0, False
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
            known = True
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK") if known else None


class Progress:
    """Whether processes made progress since the last ``moved()``: more of something
    counted (``count()``: hellos, answers) or more CPU used by ``pids()``."""

    def __init__(self, pids, count=lambda: 0):
        self.pids, self.count = pids, count
        self.last = (count(), cpu_seconds(pids()))

    def moved(self) -> bool:
        now = (self.count(), cpu_seconds(self.pids()))
        moved = now[0] > self.last[0] or (now[1] is not None and self.last[1] is not None
                                          and now[1] > self.last[1])
        self.last = now
        return moved


def _node_env(extra_path: tuple[str, ...]) -> dict[str, str]:
    path = [PACKAGE_ROOT, *extra_path, os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


class Launcher:
    """One cluster's launcher process (see ``launcher``), asked over a socket to fork nodes."""

    def __init__(self, workdir: Path, extra_path: tuple[str, ...] = (), timeout: float = 10.0,
                 remove_workdir: bool = False):
        self.chan, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.timeout = timeout
        self.chan.settimeout(timeout)  # a slice of the wait for an answer (see _answer)
        self._lock = threading.Lock()
        argv = [sys.executable, "-S", "-m", "paxos_edu.net.launcher",
                "--parent", str(os.getpid())]
        if remove_workdir:  # if we die without cleaning up, the launcher does it
            argv += ["--remove", str(workdir)]
        try:
            with open(workdir / "launcher.log", "ab") as log:
                self.popen = _popen(argv, stdin=theirs.fileno(), stdout=log, stderr=log,
                                    cwd=str(workdir), env=_node_env(extra_path), close_fds=True)
        finally:
            theirs.close()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def fork(self, uid: int, log_path: Path, cwd: Path) -> tuple[int, int]:
        """A new node process for ``uid``: its pid and the write end of its command pipe."""
        request = json.dumps({"uid": uid, "log": str(log_path), "cwd": str(cwd)}).encode()
        r, w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self.chan, [request], [r])
                answer = json.loads(self._answer())
        except (OSError, ValueError) as exc:
            os.close(w)
            raise RuntimeError(f"the node launcher (pid {self.pid}) is not answering: {exc}") from None
        finally:
            os.close(r)
        if "pid" not in answer:
            os.close(w)
            raise RuntimeError(f"the node launcher could not start node {uid}: "
                               f"{answer.get('error', 'no answer')}")
        return answer["pid"], w

    def _answer(self) -> bytes:
        """The launcher's next answer. It may be slow (its warm-up rehearsal on a loaded
        machine): keep waiting while it is alive and uses CPU; give up, saying why, only
        when it has died or has used no CPU for a whole ``timeout``."""
        progress = Progress(lambda: [self.pid])
        while True:
            try:
                return self.chan.recv(4096) or b"{}"
            except TimeoutError:
                if not self.alive():
                    raise OSError(f"it exited ({self.popen.poll()}); see launcher.log") from None
                if not progress.moved():
                    raise OSError(f"no answer and no CPU used for {self.timeout:g} s: "
                                  "it is stuck") from None

    def ended(self, pid: int) -> str | None:
        """How node ``pid`` (one it forked, ended) ended: "with exit code 3", "killed by
        signal SIGKILL"; None if the launcher cannot say."""
        try:
            with self._lock:
                self.chan.send(json.dumps({"status": pid}).encode())
                answer = json.loads(self._answer())
        except (OSError, ValueError):
            return None
        return answer.get("ended")

    def stop(self, timeout: float) -> None:
        """Close its socket (it exits on EOF); kill it by pid if it is still there after ``timeout``."""
        with contextlib.suppress(OSError):
            self.chan.close()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)


class NodeProcess:
    """One node's OS process: its pid, its command pipe and its log file.

    Forked by ``launcher`` when given one, and watched through a pidfd (it is the
    launcher's child, not ours); else started afresh with ``subprocess``.
    """

    def __init__(self, uid: int, init: dict[str, Any], workdir: Path,
                 extra_path: tuple[str, ...] = (), launcher: Launcher | None = None):
        self.uid = uid
        self.log_path = workdir / f"node-{uid}.log"
        self._next_cmd = 0
        self._lock = threading.Lock()  # the switch thread writes ``sync`` commands too
        self.popen: subprocess.Popen | None = None
        self._pidfd: int | None = None
        self._launcher = launcher
        if launcher is not None:
            self.pid, w = launcher.fork(uid, self.log_path, workdir)
            self.stdin = os.fdopen(w, "wb")
            with contextlib.suppress(ProcessLookupError):  # died already: alive() says so
                self._pidfd = os.pidfd_open(self.pid)
        else:
            argv = [sys.executable, "-S", "-m", "paxos_edu.net.node_main",
                    "--uid", str(uid), "--parent", str(os.getpid())]
            with open(self.log_path, "ab") as log:
                self.popen = _popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=log,
                                    cwd=str(workdir), env=_node_env(extra_path), close_fds=True)
            self.pid, self.stdin = self.popen.pid, self.popen.stdin
        self.send(init)

    def alive(self) -> bool:
        return not self.wait(0)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the process to end; True if it has."""
        if self.popen is not None:
            try:
                self.popen.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        if self._pidfd is None:
            return True
        ready, _, _ = select.select([self._pidfd], [], [], max(timeout, 0))
        if ready:  # a pidfd turns readable when its process ends
            os.close(self._pidfd)
            self._pidfd = None
        return bool(ready)

    def exit_code(self) -> int | None:
        """How it ended, when known (a forked node is reaped by the kernel, not by us)."""
        return self.popen.poll() if self.popen is not None else None

    def how_ended(self) -> str:
        """How the (ended) process ended, in words: "with exit code 3", "killed by signal
        SIGKILL", or "" when nobody can tell."""
        if self.popen is not None:
            code = self.popen.poll()
            if code is None:
                return ""
            if code < 0:
                with contextlib.suppress(ValueError):
                    return f"killed by signal {signal.Signals(-code).name}"
                return f"killed by signal {-code}"
            return f"with exit code {code}"
        if self._launcher is None or not self._launcher.alive():
            return ""
        return self._launcher.ended(self.pid) or ""

    def command(self, cmd: str, fields: dict[str, Any] | None = None) -> int:
        """Send command ``cmd`` with ``fields``; returns its id (the node's ``done`` names it)."""
        self._next_cmd += 1
        self.send({**(fields or {}), "cmd": cmd, "id": self._next_cmd})
        return self._next_cmd

    def send(self, obj: dict[str, Any]) -> bool:
        try:
            with self._lock:
                self.stdin.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
                self.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False  # the node is gone; whoever waits for it will notice

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL this process (by pid, or by pidfd: never another process that reused the pid)."""
        if self.popen is not None:
            if self.popen.poll() is None:
                self.popen.kill()
        elif self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        self.wait(timeout)
        self.close_stdin()

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessSet:
    """Every process one controller started (nodes, launchers), so all can be stopped by pid."""

    def __init__(self):
        self._procs: list[NodeProcess] = []
        self._launchers: list[Launcher] = []
        self._lock = threading.Lock()

    def add(self, proc: NodeProcess) -> None:
        with self._lock:
            self._procs.append(proc)

    def add_launcher(self, launcher: Launcher) -> None:
        with self._lock:
            self._launchers.append(launcher)

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in [*self._procs, *self._launchers] if p.alive()]

    def stop_all(self, grace: float = 1.0) -> None:
        """Close every stdin (nodes exit on EOF), wait ``grace`` s, then SIGKILL the rest."""
        with self._lock:
            procs, self._procs = self._procs, []
            launchers, self._launchers = self._launchers, []
        for p in procs:
            p.close_stdin()
        deadline = time.monotonic() + grace
        for p in procs:
            if not p.wait(max(0.0, deadline - time.monotonic())):
                p.kill()
        for launcher in launchers:
            launcher.stop(max(0.0, deadline - time.monotonic()))


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
