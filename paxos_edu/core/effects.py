"""What a node asks its driver to do: handlers return effects, drivers perform them.

Drivers perform a handler's effects in list order; a ``Persist`` always comes
before the ``Send`` it protects, so state reaches stable storage before any
reply that depends on it leaves the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .messages import Message, Value


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``msg`` to node ``dst``."""

    dst: int
    msg: Message


@dataclass(frozen=True, slots=True)
class Persist:
    """Write ``data`` as the node's whole stable storage, atomically, before going on."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Fire timer ``name`` after ``delay`` ms, replacing a pending timer of that name."""

    name: str
    delay: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Forget the pending timer ``name``, if any."""

    name: str


@dataclass(frozen=True, slots=True)
class Decide:
    """This node has learned that ``v`` was chosen at number ``n``."""

    v: Value
    n: int


Effect = Send | Persist | SetTimer | CancelTimer | Decide
