"""The interface a role implements: what ``Node`` calls, and what ``impl=`` classes provide.

The rule: a node hands each message of kind K to its role's ``receive_<k>(src, msg)``
(``Node.handle``) and each of its timers to ``on_timer(name)``; every one returns a list
of effects. Besides, ``durable()`` names what survives a restart (the node persists it
whole), ``restore(data)`` takes it back, and ``snapshot()`` is the plain data the
diagrams draw. The class attribute ``role`` names the role in snapshots.

``Role`` is what every role has; ``ProposerRole``, ``AcceptorRole``, ``LearnerRole`` and
``ClientRole`` add the handlers of the messages that role is sent, and how ``Node``
builds it. The package's classes (``core.paxos``) satisfy them, and so must a student's
(lesson 08, ``impl={"acceptor": MyAcceptor}``): ``missing(cls, "acceptor")`` lists what a
class lacks. ``ChangRoberts`` is the election's interface (``impl={"election": ...}``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .effects import Effect
from .messages import Accept, Accepted, Ack, Decided, Nack, Proposal, Request, Roles, Token


@runtime_checkable
class Role(Protocol):
    """Every role: its name, its durable state, its timers and its snapshot."""

    role: str

    def durable(self) -> dict[str, Any]:
        """What must survive a restart, as JSON-able plain data."""
        ...

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what ``durable()`` returned before the restart."""
        ...

    def on_timer(self, name: str) -> list[Effect]:
        """A timer this role set (``SetTimer(name, ...)``) has expired."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """Every field of the role's state as plain data."""
        ...


@runtime_checkable
class ProposerRole(Role, Protocol):
    """Built as ``cls(uid, acceptors, n_nodes, timeout, backoff, rng)``."""

    def receive_request(self, src: int, msg: Request) -> list[Effect]: ...

    def receive_ack(self, src: int, msg: Ack) -> list[Effect]: ...

    def receive_nack(self, src: int, msg: Nack) -> list[Effect]: ...

    def receive_accepted(self, src: int, msg: Accepted) -> list[Effect]: ...


@runtime_checkable
class AcceptorRole(Role, Protocol):
    """Built as ``cls(uid, learners)``."""

    def receive_proposal(self, src: int, msg: Proposal) -> list[Effect]: ...

    def receive_accept(self, src: int, msg: Accept) -> list[Effect]: ...


@runtime_checkable
class LearnerRole(Role, Protocol):
    """Built as ``cls(uid, acceptors, clients)``; ``add_client`` for a client that joins late."""

    def receive_accepted(self, src: int, msg: Accepted) -> list[Effect]: ...

    def add_client(self, uid: int) -> list[Effect]: ...


@runtime_checkable
class ClientRole(Role, Protocol):
    """Built as ``cls(uid, value, proposer_index, resend)``; ``proposer`` is None until the
    roles name it."""

    proposer: int | None

    def receive_roles(self, src: int, msg: Roles) -> list[Effect]: ...

    def receive_decided(self, src: int, msg: Decided) -> list[Effect]: ...


@runtime_checkable
class ChangRoberts(Protocol):
    """The election (``core.election.Election`` and its subclasses): unlike a role's
    handlers, ``receive_token`` returns the action taken with the effects."""

    uid: int
    leader: int | None

    def start(self) -> list[Effect]: ...

    def resend(self) -> list[Effect]: ...

    def receive_token(self, token: Token) -> tuple[str, list[Effect]]: ...

    def follow(self, leader: int) -> None: ...


ROLE_PROTOCOLS: dict[str, type] = {
    "proposer": ProposerRole,
    "acceptor": AcceptorRole,
    "learner": LearnerRole,
    "client": ClientRole,
    "election": ChangRoberts,
}
"""The interface each ``impl=`` key must implement."""


def missing(cls: type, name: str) -> list[str]:
    """What ``cls`` lacks to be the ``name`` role (see ``ROLE_PROTOCOLS``): each member it
    does not define, or defines with another number of parameters; empty when it conforms.

    Data members (``role``, ``uid``, ...) may be set in ``__init__`` (dataclass fields), so
    only methods are checked on the class.
    """
    protocol = ROLE_PROTOCOLS[name]
    out = []
    for member in sorted(_methods(protocol)):
        have = getattr(cls, member, None)
        if not callable(have):
            out.append(f"{member}()")
            continue
        want = _arity(getattr(protocol, member))
        if want is not None and _arity(have) not in (None, want):
            out.append(f"{member}() taking {want} argument{'s' * (want != 1)} after self")
    return out


def _methods(protocol: type) -> set[str]:
    return {m for base in protocol.__mro__ if base not in (object, Protocol)
            and getattr(base, "_is_protocol", False)
            for m, v in vars(base).items() if inspect.isfunction(v) and not m.startswith("_")}


def _arity(fn: Any) -> int | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return len([p for p in params if p.name != "self"])
