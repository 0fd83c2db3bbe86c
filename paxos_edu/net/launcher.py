"""The launcher: one process per cluster that starts node processes by forking itself.

``python -S -m paxos_edu.net.launcher --parent PID`` imports what a node needs once
(about 70 ms of a fresh interpreter's time, most of it asyncio) and then forks a node
in about a millisecond, so a 101-node cluster starts in a fraction of the time it takes
to start 101 interpreters.

The controller talks to it over a Unix ``SOCK_SEQPACKET`` socket on fd 0: each request
is one JSON packet ``{"uid", "log", "cwd"}`` carrying, as ``SCM_RIGHTS``, the read end of
the node's command pipe; the answer is one packet ``{"pid": ...}`` (or ``{"error": ...}``).
The forked node makes that pipe its stdin and the log file its stdout and stderr, then
runs ``node_main.main``: exactly what a node started by ``subprocess`` does. The write
end of the pipe stays with the controller alone, so a node still reads EOF and exits
when its controller dies, even by SIGKILL.

The launcher stays in the controller's process group and session (a kernel shutdown
reaps it and every node), exits when its socket closes or its parent dies, and lets the
kernel reap its children (SIGCHLD ignored): the controller watches each node through a
pidfd, not through ``wait``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback

from . import node_main

MAX_REQUEST = 65536


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--self-check" in argv:
        print(json.dumps(sorted(sys.modules)))
        return 0
    opts = dict(zip(argv[::2], argv[1::2], strict=False))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Jupyter's "interrupt" is not for us
    node_main.die_with_parent(int(opts.get("--parent", 0)))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps nodes; no zombies
    chan = socket.socket(fileno=0)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(chan, MAX_REQUEST, 1)
        except OSError:
            return 0
        if not data:
            return 0  # the controller closed the socket or went away
        try:
            pid = fork_node(json.loads(data), fds[0], chan)
            answer = {"pid": pid}
        except Exception as exc:  # answered, never fatal: the controller raises it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        chan.send(json.dumps(answer).encode())


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
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        chan.close()
        os.dup2(cmd_fd, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(cmd_fd)
        os.close(log)
        os.chdir(request["cwd"])
        code = node_main.main(["--uid", str(request["uid"]), "--parent", str(os.getppid())])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
