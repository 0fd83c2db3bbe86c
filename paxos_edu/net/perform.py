"""The one effect interpreter: a node's effects, performed in list order on a sink.

A ``core`` handler returns effects; every driver (the Simulation, a switched node
process, a peer-to-peer node process) performs them by calling ``perform(effects,
sink)`` with its own ``EffectSink``. In order, so "persist before the reply leaves"
holds everywhere: a ``Persist`` precedes the ``Send`` that depends on it, and if
``sink.persist`` raises, the effects after it are never performed.

Here in ``net`` (not beside the Simulation) because node processes import only
``core`` and ``net``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from ..core.effects import CancelTimer, Decide, Effect, Persist, Send, SetTimer
from ..core.messages import Message, Value


class EffectSink(Protocol):
    """Where one node's effects go."""

    def send(self, dst: int, msg: Message) -> None: ...
    def persist(self, data: dict[str, Any]) -> None: ...
    def set_timer(self, name: str, delay: float) -> None: ...
    def cancel_timer(self, name: str) -> None: ...
    def decide(self, v: Value, n: int) -> None: ...


def perform(effects: Iterable[Effect], sink: EffectSink) -> None:
    """Perform ``effects`` on ``sink``, one after another, in order."""
    for e in effects:
        if isinstance(e, Send):
            sink.send(e.dst, e.msg)
        elif isinstance(e, Persist):
            sink.persist(e.data)
        elif isinstance(e, SetTimer):
            sink.set_timer(e.name, e.delay)
        elif isinstance(e, CancelTimer):
            sink.cancel_timer(e.name)
        elif isinstance(e, Decide):
            sink.decide(e.v, e.n)
        else:
            raise TypeError(f"{e!r} is not an effect")
