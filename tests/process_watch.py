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
