"""Waiting for processes that are not our children to end: pidfds, not polling.

A pidfd turns readable when its process ends (a zombie counts), so a test can wait on
the event itself even for grandchildren it cannot ``wait()`` for (Linux 5.3+).
"""

from __future__ import annotations

import contextlib
import os
import select
import time


def wait_gone(pids, timeout: float) -> list[int]:
    """Wait until every process in ``pids`` has ended, or ``timeout`` s; the survivors."""
    fds: dict[int, int] = {}
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # gone already
                fds[os.pidfd_open(pid)] = pid
        deadline = time.monotonic() + timeout
        while fds:
            ready, _, _ = select.select(list(fds), [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            for fd in ready:
                os.close(fd)
                del fds[fd]
        return sorted(fds.values())
    finally:
        for fd in fds:
            os.close(fd)


def marked(variable: str, tag: str) -> list[int]:
    """Pids of the live (not zombie) processes whose environment carries ``variable=tag``:
    every process a test started, and whatever those started, by the marker it gave them."""
    from pathlib import Path

    needle = f"{variable}={tag}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z" and needle in env.split(b"\0"):
            pids.append(int(entry.name))
    return pids
