"""Entry point of one node process: ``python -m paxos_edu.net.node_main --uid U --parent PID``.

The controller starts it with stdin a pipe and stdout/stderr a log file. The first
stdin line is the ``init`` command (JSON: key, config, switch address, storage file,
...); the key travels there rather than on the command line, where ``ps`` shows it.
Later lines are commands (see ``control``). A node that cannot start says why in one
line of its log and exits with a status of its own: 2 (no init line), 3 (a damaged state
file, named), 4 (its address cannot be bound).

The process ends by itself when its controller goes away: stdin reaches EOF when the
controller exits or is killed, even by SIGKILL, and on Linux the kernel also sends
SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``). It ignores SIGINT, which
Jupyter sends to the kernel's whole process group on "interrupt kernel".

``--self-check`` prints the modules a node loads, as JSON, and exits (tests use it
to keep matplotlib and friends out of node processes).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from ..core.stored import StateError
from .endpoint import NodeEndpoint

PR_SET_PDEATHSIG = 1
EXIT_BAD_STATE = 3
"""Exit status of a node that refused its damaged state file (its log says which and why)."""
EXIT_NO_SOCKET = 4
"""Exit status of a node that could not bind its address (its log says which)."""


def options(argv: list[str] | None) -> dict[str, str] | None:
    """``--name value`` pairs of a node's (or the launcher's) command line.

    None after ``--self-check``, which prints the modules loaded so far, as JSON.
    """
    argv = sys.argv[1:] if argv is None else argv
    if "--self-check" in argv:
        print(json.dumps(sorted(sys.modules)))
        return None
    return dict(zip(argv[::2], argv[1::2], strict=False))


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    if opts is None:
        return 0
    uid, parent = int(opts.get("--uid", -1)), int(opts.get("--parent", 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    stdin = LineReader(0)
    line = stdin.next_line()
    if line is None:
        print(f"node {uid}: no init line on stdin, exiting", flush=True)
        return 2
    init = json.loads(line)
    loop = asyncio.new_event_loop()
    try:
        endpoint = NodeEndpoint(init, loop)
    except StateError as exc:  # a damaged state file: refused by name, never forgotten
        print(f"node {uid}: refusing to start: {exc}", flush=True)
        return EXIT_BAD_STATE
    host, port = init.get("host", "127.0.0.1"), init.get("port", 0)
    try:
        transport, _ = loop.run_until_complete(loop.create_datagram_endpoint(
            lambda: endpoint, local_addr=(host, port)))
    except OSError as exc:
        print(f"node {uid}: cannot listen on {host} port {port}: {exc.strerror or exc}",
              flush=True)
        return EXIT_NO_SOCKET
    print(f"node {uid} (pid {os.getpid()}) on {transport.get_extra_info('sockname')}",
          flush=True)

    def obey(lines: list[str | None]) -> None:
        for text in lines:
            cmd = None if text is None else json.loads(text)
            if cmd is None or cmd.get("cmd") == "stop":
                loop.stop()  # EOF: the controller is gone (or asked us to go)
                return
            endpoint.command(cmd)

    obey(stdin.buffered_lines())
    loop.add_reader(0, lambda: obey(stdin.available_lines()))
    try:
        loop.run_forever()
    finally:
        transport.close()
        loop.close()
    print(f"node {uid}: controller gone or stop command, exiting", flush=True)
    return 0


def run_from_hosts(hosts, uid: int, key_passphrase: str, client_values: list,
                   state_dir: str | os.PathLike | None = None) -> int:
    """``paxos-edu node``: run node ``uid`` of a hosts file with no controller (see ``direct``).

    Its own address and its peers' come from ``hosts``; the cluster key from
    ``key_passphrase``; ``client_values`` are the ``--client`` arguments; ``state_dir``
    keeps the node's stable storage (None: a temporary directory, removed at exit).
    Returns the exit status.
    """
    from .direct import run_node

    return run_node(hosts, uid, key_passphrase, client_values, state_dir=state_dir)


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # stdin EOF still ends us
    if parent and os.getppid() != parent:
        sys.exit(f"parent {parent} is gone before start-up finished")


class LineReader:
    """JSON-lines reader over a raw pipe fd (no buffered file object hiding bytes from select)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""

    def next_line(self) -> str | None:
        """Block until one whole line has arrived; None at EOF."""
        while b"\n" not in self.buf:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def buffered_lines(self) -> list[str]:
        """Whole lines already read past the first one."""
        *lines, self.buf = self.buf.split(b"\n")
        return [x.decode() for x in lines if x.strip()]

    def available_lines(self) -> list[str | None]:
        """Read what the pipe holds now (it is readable); a final None marks EOF."""
        chunk = os.read(self.fd, 65536)
        if not chunk:
            return [None]
        self.buf += chunk
        return self.buffered_lines()


if __name__ == "__main__":
    sys.exit(main())
