"""Routing at the switch: a sent message's faults, then forward it now, later, or hold it.

``Router`` applies the ledger's seeded link faults (``Ledger.fate``) to every message
the switch accepts: in step mode every copy is held as a pending item; in run mode a
copy is forwarded at once (``transmit``) unless it was delayed, in which case it is
held and forwarded by the switch's thread when it is due (``release_due``). A part of
``switch.Switch``; called under the switch's lock.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from ..ledger import Ledger, Pending


class Router:
    """Held and delayed deliveries over ``ledger``; ``transmit(item, env)`` forwards one."""

    def __init__(self, ledger: Ledger, transmit: Callable[[Pending, Any], Any],
                 wake: Callable[[], None]):
        self.ledger, self.transmit, self.wake = ledger, transmit, wake
        self._due: list[tuple[float, int]] = []

    def route(self, item: Pending, env: Any, mode: str) -> None:
        """A message just sent: apply its link's faults, then hold (step mode) or forward."""
        now = self.ledger.clock()
        for copy in self.ledger.fate(item):
            if mode == "step" or copy.due > now:
                self.hold(copy, env)
            else:
                self.transmit(copy, env)

    def hold(self, item: Pending, env: Any) -> None:
        """Keep ``item`` pending; in run mode the thread forwards it when it is due."""
        self.ledger.hold(item, env)
        if item.due > self.ledger.clock():
            heapq.heappush(self._due, (item.due, item.id))
            self.wake()

    def delay(self, mid: int, by: float) -> Pending:
        later = self.ledger.delay(mid, by)
        if later.kind == "Message":
            heapq.heappush(self._due, (later.due, mid))
            self.wake()
        return later

    def shift(self, by: float) -> None:
        """Move every deadline ``by`` ms (``Ledger.shift``), the held ones' too."""
        self.ledger.shift(by)
        self._due = [(due + by, mid) for due, mid in self._due]
        heapq.heapify(self._due)

    def next_due(self) -> float | None:
        """When (ledger ms) the next held message is due, if one is."""
        return self._due[0][0] if self._due else None

    def release_due(self) -> None:
        """Run mode: forward every held message whose time has come."""
        now, pending = self.ledger.clock(), self.ledger.pending
        while self._due and self._due[0][0] <= now:
            _, mid = heapq.heappop(self._due)
            item = pending.get(mid)
            if item is not None and item.kind == "Message" and item.due <= now:
                self.transmit(*self.ledger.take(mid))

    def release_ready(self) -> None:
        """Forward every held message already due (on going back to run mode)."""
        now = self.ledger.clock()
        for item in [p for p in self.ledger.pending.values() if p.kind == "Message"]:
            if item.due <= now:
                self.transmit(*self.ledger.take(item.id))
