"""What both kinds of node process share: an asyncio datagram protocol that is its node's
effect sink, with the node's timers on the loop and its stable storage in one file.

``AsyncNode`` is the base of ``endpoint.NodeEndpoint`` (a node behind the controller's
switch) and ``direct.DirectNode`` (a node talking straight to its peers, across
machines). A subclass says what ``send`` and ``on_timer`` do, and may add to
``set_timer``, ``cancel_timer`` and ``decide``; ``perform`` runs a handler's effects on
it in order (``perform.perform``), so a ``Persist`` is on disk before any later effect.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.messages import Message, Value
from . import storage
from .perform import perform


class AsyncNode(asyncio.DatagramProtocol):
    """A node's effect sink on ``loop``, persisting to ``path``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: str):
        self.loop = loop
        self.path = path
        self.handles: dict[str, asyncio.TimerHandle] = {}

    def perform(self, effects) -> None:
        """Perform a handler's ``effects`` in order (raises if a ``Persist`` fails)."""
        perform(effects, self)

    # -- the effect sink --------------------------------------------------------------------
    def send(self, dst: int, msg: Message) -> None:
        raise NotImplementedError

    def persist(self, data: dict[str, Any]) -> None:
        storage.write(self.path, data)  # temp file, fsync, os.replace: done before what follows

    def set_timer(self, name: str, delay: float) -> None:
        self.arm(name, delay)

    def cancel_timer(self, name: str) -> None:
        self.disarm(name)

    def decide(self, v: Value, n: int) -> None:
        """A decision learned; nothing to do unless the subclass reports or tells it."""

    # -- timers on the loop -----------------------------------------------------------------
    def arm(self, name: str, delay_ms: float) -> None:
        """Run ``on_timer(name)`` in ``delay_ms`` ms, replacing a pending timer ``name``."""
        self.disarm(name)
        self.handles[name] = self.loop.call_later(max(delay_ms, 0) / 1000, self._expired, name)

    def disarm(self, name: str) -> None:
        handle = self.handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def disarm_all(self) -> None:
        for name in list(self.handles):
            self.disarm(name)

    def _expired(self, name: str) -> None:
        self.handles.pop(name, None)
        self.on_timer(name)

    def on_timer(self, name: str) -> None:
        raise NotImplementedError
