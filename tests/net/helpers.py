"""Helpers for tests of real processes: watching pids, a stand-in for a parsed hosts.txt."""

from __future__ import annotations

from process_watch import wait_gone


def still_running(pids, timeout: float = 3.0) -> list[int]:
    """Wait until every pid is gone (a zombie counts) or ``timeout`` s pass; the survivors."""
    return wait_gone(pids, timeout)


class Hosts:
    """What Cluster needs of a parsed hosts.txt: ``address(uid)``, ValueError past its lines."""

    def __init__(self, *addresses: tuple[str, int]):
        self.addresses = addresses

    def address(self, uid: int) -> tuple[str, int]:
        if uid >= len(self.addresses):
            raise ValueError(f"no uid {uid}")
        return self.addresses[uid]
