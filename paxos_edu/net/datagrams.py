"""The switch's socket and the thread that reads it (a part of ``switch.Switch``).

``DatagramThread`` binds one UDP socket on ``host`` port 0 and reads it on a daemon
thread: up to ``DRAIN_BATCH`` datagrams per wake-up go to ``receive``, then
``after_batch`` runs (the switch wakes its waiters once a batch, not once a datagram),
then ``tick`` (due deliveries, sync questions). ``wake()`` makes the thread run
``tick`` again at once, e.g. after a delayed message was added; ``next_timeout()``
says how long it may sleep.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
from collections.abc import Callable

RCVBUF = 4 << 20
SO_MEMINFO, SK_MEMINFO_DROPS = getattr(socket, "SO_MEMINFO", 55), 8
"""Linux: a socket's memory counters; the ninth is the datagrams it lost with a full buffer."""
DRAIN_BATCH = 500
"""Datagrams read per wake-up before due deliveries get a turn (a flood cannot starve them)."""


class DatagramThread:
    """A UDP socket on ``host`` port 0 read by its own thread (``start()``; ``close()``)."""

    def __init__(self, host: str, receive: Callable[[bytes, tuple[str, int]], None],
                 bad: Callable[[str], None], after_batch: Callable[[], None],
                 tick: Callable[[], None], next_timeout: Callable[[], float | None]):
        self.receive, self.bad, self.after_batch = receive, bad, after_batch
        self.tick, self.next_timeout = tick, next_timeout
        self._closed = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):  # a smaller buffer only matters under a flood
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)  # a full pipe of wake-ups needs no more: never block on it
        self.thread = threading.Thread(target=self._loop, name="paxos-edu-switch", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # a full buffer loses it, as a network would
            self.sock.sendto(data, addr)

    def wake(self) -> None:
        """Make the thread run ``tick`` again now."""
        with contextlib.suppress(OSError):  # closed, or already full of wake-ups
            self._wake_w.send(b"!")

    def dropped(self) -> int:
        """How many datagrams the socket lost because its buffer was full (0: none, or this
        system cannot tell). Any thread may ask."""
        try:
            raw = self.sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * (SK_MEMINFO_DROPS + 1))
        except OSError:
            return 0
        return int.from_bytes(raw[4 * SK_MEMINFO_DROPS:4 * SK_MEMINFO_DROPS + 4], sys.byteorder)

    def _loop(self) -> None:
        # Not niced: a switch that falls behind the nodes overflows its socket and loses their
        # reports (a node's done, a learner's decision), which no ordering can bring back.
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._closed:
                for key, _ in sel.select(self.next_timeout()):
                    if key.fileobj is self.sock:
                        self._drain()
                    else:
                        self._drain_wake()
                self.tick()
        except OSError:
            if not self._closed:
                raise
        finally:
            sel.close()

    def _drain(self) -> None:
        try:
            for _ in range(DRAIN_BATCH):
                try:
                    data, addr = self.sock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    return
                except ConnectionRefusedError:
                    continue  # ICMP from a node that died; the datagram itself is lost anyway
                try:
                    self.receive(data, addr[:2])
                except Exception:  # e.g. RecursionError from deeply nested, signed JSON
                    self.bad("invalid content")  # the switch thread must survive anything
        finally:
            self.after_batch()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self) -> None:
        """Stop the thread and close the sockets (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.wake()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(2.0)
        for s in (self.sock, self._wake_r, self._wake_w):
            s.close()
