"""The launcher: one process per cluster that starts node processes by forking itself.

``python -S -m paxos_edu.net.launcher --parent PID`` imports what a node needs once
(about 70 ms of a fresh interpreter's time, most of it asyncio), rehearses a whole run
in-process (``warmup``), and then forks a node in about a millisecond: a 101-node
cluster starts in a fraction of the time it takes to start 101 interpreters, and its
nodes handle their first messages as fast as their hundredth.

The controller talks to it over a Unix ``SOCK_SEQPACKET`` socket on fd 0: each request
is one JSON packet ``{"uid", "log", "cwd"}`` carrying, as ``SCM_RIGHTS``, the read end of
the node's command pipe; the answer is one packet ``{"pid": ...}`` (or ``{"error": ...}``).
The forked node makes that pipe its stdin and the log file its stdout and stderr, then
runs ``node_main.main``: exactly what a node started by ``subprocess`` does. The write
end of the pipe stays with the controller alone, so a node still reads EOF and exits
when its controller dies, even by SIGKILL.

The launcher stays in the controller's process group and session (a kernel shutdown
reaps it and every node), exits when its socket closes or its parent dies, and reaps its
children as they end, keeping how each ended: the controller watches each node through
a pidfd, and asks ``{"status": pid}`` (no fd) to hear ``{"ended": "killed by signal
SIGKILL"}`` when a node died without a word in its log. Given ``--remove DIR`` (the
cluster's temporary folder), it removes that folder once its nodes are gone, so a
controller killed without a chance to clean up (a notebook kernel killed with SIGKILL)
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
import traceback

from . import node_main, warmup

MAX_REQUEST = 65536
GRACE = 2.0
"""Seconds nodes get to exit on their own (stdin EOF) before the launcher kills them."""


def main(argv: list[str] | None = None) -> int:
    opts = node_main.options(argv)
    if opts is None:
        return 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Jupyter's "interrupt" is not for us
    # SIGTERM (the parent-death signal, perhaps more than once) only wakes serve() up:
    # an exception raised by a handler could cut the clean-up below short.
    wake, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, lambda *_: None)
    children: list[int] = []  # pidfds of the nodes I forked
    try:
        node_main.die_with_parent(int(opts.get("--parent", 0)))
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes serve() up to reap the node
        warmup.rehearse(os.getcwd())
        gc.freeze()  # what the rehearsal left is shared with every node: keep the collector off it
        serve(socket.socket(fileno=0), wake, children)
    finally:
        if "--remove" in opts:
            end_children(children)
            shutil.rmtree(opts["--remove"], ignore_errors=True)
    return 0


def serve(chan: socket.socket, wake: int, children: list[int]) -> None:
    """Fork a node for each request until the controller closes the socket or goes away.

    ``wake`` turns readable when a SIGTERM arrives.
    """
    ended: dict[int, str] = {}  # pid -> how it ended, for the controller's "status" question
    while True:
        if wake in select.select([chan, wake], [], [])[0]:
            signals = os.read(wake, 4096)
            reap(ended)
            if signal.SIGTERM in signals:
                return
            continue
        try:
            data, fds, _, _ = socket.recv_fds(chan, MAX_REQUEST, 1)
        except OSError:
            return
        if not data:
            return
        try:
            request = json.loads(data)
            if "status" in request:  # how did node process P end? (it has ended: asked after)
                reap(ended, request["status"])
                chan.send(json.dumps({"ended": ended.get(request["status"])}).encode())
                continue
            pid = fork_node(request, fds[0], chan)
            children[:] = running(children)
            with contextlib.suppress(ProcessLookupError):  # gone already: nothing to end
                children.append(os.pidfd_open(pid))
            answer = {"pid": pid}
        except Exception as exc:  # answered, never fatal: the controller raises it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        chan.send(json.dumps(answer).encode())


def reap(ended: dict[int, str], pid: int | None = None) -> None:
    """Collect every ended node (no zombies) into ``ended``: pid -> "with exit code 3",
    "killed by signal SIGKILL". ``pid``, a node known to have ended, is waited for."""
    if pid is not None and pid not in ended:
        with contextlib.suppress(ChildProcessError):
            _, status = os.waitpid(pid, 0)
            ended[pid] = describe(status)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not pid:
            break
        ended[pid] = describe(status)
    while len(ended) > 10000:  # the oldest first
        del ended[next(iter(ended))]


def describe(status: int) -> str:
    """A wait status in words."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(sig).name}"
        return f"killed by signal {sig}"
    return f"with exit code {os.waitstatus_to_exitcode(status)}"


def running(children: list[int], timeout: float = 0.0) -> list[int]:
    """The pidfds of ``children`` whose process still runs after up to ``timeout`` s.

    A pidfd turns readable when its process ends; ended ones are closed here.
    """
    deadline = time.monotonic() + timeout
    left = list(children)
    while left:
        ended, _, _ = select.select(left, [], [], max(0.0, deadline - time.monotonic()))
        for fd in ended:
            os.close(fd)
        left = [fd for fd in left if fd not in ended]
        if not ended:
            break
    return left


def end_children(children: list[int]) -> None:
    """Give my nodes ``GRACE`` s to exit on their own (they read EOF too); SIGKILL the rest."""
    for fd in running(children, GRACE):
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)  # that very process, never a reused pid
        os.close(fd)


def fork_node(request: dict, cmd_fd: int, chan: socket.socket) -> int:
    """Fork one node whose stdin is ``cmd_fd``; returns its pid (in the launcher)."""
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except BaseException:
        os.close(log)
        raise
    if pid:
        os.close(log)
        return pid
    code = 1
    try:  # the child: become an ordinary node process, then never return into the loop
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        chan.close()
        os.dup2(cmd_fd, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the launcher's, and other nodes' pidfds
        os.chdir(request["cwd"])
        code = node_main.main(["--uid", str(request["uid"]), "--parent", str(os.getppid())])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)  # as the interpreter would: the log says why
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
