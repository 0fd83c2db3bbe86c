"""Helpers for tests of real processes: watching pids, a stand-in for a parsed hosts.txt."""

from __future__ import annotations

import os
import time


def gone(pid: int) -> bool:
    """True if process ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def still_running(pids, timeout: float = 3.0) -> list[int]:
    """Poll ``os.kill(pid, 0)`` until every pid is gone or ``timeout`` s pass; the survivors."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if not gone(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a process table has no event to wait on
        left = [p for p in left if not gone(p)]
    return left


class Hosts:
    """What Cluster needs of a parsed hosts.txt: ``address(uid)``, ValueError past its lines."""

    def __init__(self, *addresses: tuple[str, int]):
        self.addresses = addresses

    def address(self, uid: int) -> tuple[str, int]:
        if uid >= len(self.addresses):
            raise ValueError(f"no uid {uid}")
        return self.addresses[uid]
