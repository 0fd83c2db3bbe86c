"""Every message the protocol sends, one frozen dataclass per kind.

Names follow Ghosh (Distributed Systems: An Algorithmic Approach). Each class
knows the phase it belongs to; Lamport's names are given as aliases in the
docstrings. A value proposed by a client is an ``int`` or a ``str``.

| phase    | message                          | Lamport's name |
|----------|----------------------------------|----------------|
| election | Token(uid)                       |                |
| setup    | Roles(leader, proposers, ...)    |                |
| request  | Request(v)                       | client request |
| 1.1      | Proposal(n, v)                   | prepare (1a)   |
| 1.2      | Ack(n, v', n') / Nack(n, promised) | promise (1b) |
| 2.1      | Accept(n, v)                     | accept (2a)    |
| 2.2      | Accepted(n, v)                   | accepted (2b)  |
| 3        | Decided(v, n)                    | learn          |
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import ClassVar

Value = int | str
"""What a client may propose: an integer or a short string."""

PHASES = ("election", "setup", "request", "1.1", "1.2", "2.1", "2.2", "3")
"""Every phase a message can belong to, in protocol order."""

PAXOS_PHASES = ("1.1", "1.2", "2.1", "2.2", "3")
"""Ghosh's five Paxos phases."""

FIRST_NUMBER = 1
"""No proposal number is smaller (a proposer numbers its rounds ``uid + k*N``, k >= 1), so
0 is a lower bound every number is above: the promise of an acceptor that promised nothing."""


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, slots=True)
class Message:
    """Base of all messages; ``type`` is the class name, ``phase`` its Ghosh phase."""

    phase: ClassVar[str] = ""

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict:
        """Plain data: ``{"type": ..., field: value, ...}`` (tuples become lists)."""
        out: dict = {"type": self.type}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True, slots=True)
class Token(Message):
    """Chang-Roberts election token carrying the uid of the node that started it."""

    uid: int
    phase: ClassVar[str] = "election"


@dataclass(frozen=True, slots=True)
class Roles(Message):
    """The leader's role assignment, sent to every consensus node and client."""

    leader: int
    proposers: tuple[int, ...]
    acceptors: tuple[int, ...]
    learners: tuple[int, ...]
    clients: tuple[int, ...]
    phase: ClassVar[str] = "setup"


@dataclass(frozen=True, slots=True)
class AskRoles(Message):
    """setup, again: a node with no role that sees Paxos traffic asks the leader for the roles.

    The traffic shows that roles were given out; the node's Roles message was lost.
    """

    phase: ClassVar[str] = "setup"


@dataclass(frozen=True, slots=True)
class Request(Message):
    """A client asks its proposer to get value ``v`` chosen."""

    v: Value
    phase: ClassVar[str] = "request"


@dataclass(frozen=True, slots=True)
class Proposal(Message):
    """Phase 1.1 (prepare): the proposer asks acceptors to promise number ``n``."""

    n: int
    v: Value
    phase: ClassVar[str] = "1.1"


@dataclass(frozen=True, slots=True)
class Ack(Message):
    """Phase 1.2 (promise): the acceptor promises ``n`` and reports what it accepted.

    ``accepted_v``/``accepted_n`` are Ghosh's v' and n': the value and number of
    the highest-numbered proposal this acceptor accepted, both ``None`` (Ghosh's ⊥)
    if it accepted nothing. ``has_accepted`` is the one test for that; it also reads
    ``accepted_n=0`` as nothing, the spelling of acceptors that start their number
    at 0 (lesson 08's template does), since no proposal carries 0.
    """

    n: int
    accepted_v: Value | None
    accepted_n: int | None
    phase: ClassVar[str] = "1.2"

    @property
    def has_accepted(self) -> bool:
        """Whether this Ack reports an accepted proposal (n', v'), rather than ⊥."""
        return self.accepted_n is not None and self.accepted_n >= FIRST_NUMBER


@dataclass(frozen=True, slots=True)
class Nack(Message):
    """The acceptor refuses number ``n`` because it has promised ``promised`` > n.

    ``rejects`` names what was refused: a ``"Proposal"`` (phase 1.2) or an
    ``"Accept"`` (phase 2.2).
    """

    n: int
    promised: int
    rejects: str = "Proposal"

    def __post_init__(self) -> None:
        if self.rejects not in ("Proposal", "Accept"):
            raise ValueError(f"rejects must be 'Proposal' or 'Accept', not {self.rejects!r}")

    @property
    def phase(self) -> str:  # type: ignore[override]
        return "2.2" if self.rejects == "Accept" else "1.2"


@dataclass(frozen=True, slots=True)
class Accept(Message):
    """Phase 2.1 (accept request): the proposer asks acceptors to accept (n, v)."""

    n: int
    v: Value
    phase: ClassVar[str] = "2.1"


@dataclass(frozen=True, slots=True)
class Accepted(Message):
    """Phase 2.2 (accepted): an acceptor tells learners and the proposer it accepted (n, v)."""

    n: int
    v: Value
    phase: ClassVar[str] = "2.2"


@dataclass(frozen=True, slots=True)
class Decided(Message):
    """Phase 3 (learn): a learner tells clients that ``v`` was chosen at number ``n``."""

    v: Value
    n: int
    phase: ClassVar[str] = "3"


@dataclass(frozen=True, slots=True)
class Timer(Message):
    """A node's timer, never sent on the wire: firing it is delivering it.

    ``name`` is ``"timeout"`` or ``"retry"`` (proposer) or ``"resend"`` (client).
    """

    name: str
    phase: ClassVar[str] = "timer"


WIRE_KINDS: dict[str, type[Message]] = {
    cls.__name__: cls
    for cls in (Token, Roles, AskRoles, Request, Proposal, Ack, Nack, Accept, Accepted, Decided)
}
"""Message classes that may travel in a datagram, by type name."""

