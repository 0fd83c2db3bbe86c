"""Node: a consensus node (election, then role assignment, then one Paxos role) or a client.

Drivers talk to a node through five methods, each returning effects:
``start()``, ``handle(src, msg)``, ``fire(timer_name)``, ``add_client(uid)``
and, for the diagrams, ``snapshot()``. A node rebuilt from its stable storage
(``Node(..., storage=...)``) resumes as it was, minus what was never persisted.

One dispatch rule: ``handle`` gives a message of kind K to ``receive_<k>(src, msg)``
(``handler_name``) of the node itself (election and setup: Token, Roles, AskRoles),
else of its role (Paxos, see ``core.roles``). A kind neither handles is bad input:
dropped, and counted in ``stats["unknown_kind"]``, which every snapshot shows.

Chang-Roberts and the leader's one broadcast of the roles assume reliable
links. On lossy ones three rules, all here as timers and handlers, make every
lost message harmless once messages get through again:

1. election, again: a consensus node that does not know the roles re-sends its
   own token every so often (timer ``"election"``, waits doubling from
   ``config.resend``), so a lost token, even the winning one, is sent again;
2. setup, again: the leader answers a token from another node (only a node
   without roles re-sends one after the election) and an ``AskRoles`` with the
   roles; a node without roles that receives Paxos traffic asks for them;
3. a client that does not know the roles asks the leader for them (timer
   ``"roles"``). Chang-Roberts elects the largest uid, and consensus uids are
   0..N-1, so the client knows whom to ask: node N-1.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping
from typing import Any

from .codec import message_from_dict
from .config import Config
from .effects import CancelTimer, Effect, Persist, Send, SetTimer
from .election import Election, resend_delay
from .messages import AskRoles, Message, Roles, Token, Value
from .paxos import ROLE_CLASSES
from .roles import Role

ELECTION_TIMER = "election"
"""A consensus node's timer for re-sending its token until it knows the roles."""
ROLES_TIMER = "roles"
"""A client's timer for asking the leader for the roles until it has them."""


def handler_name(msg: Message) -> str:
    """``receive_<kind>``, the kind in snake case: Proposal -> receive_proposal, AskRoles ->
    receive_ask_roles."""
    return _handler_name(msg.type)


@functools.lru_cache(maxsize=256)  # a handful of kinds, looked up for every message
def _handler_name(kind: str) -> str:
    return "receive_" + re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


class Node:
    """One consensus node: Chang-Roberts, then the role the leader assigned.

    ``storage`` is what the node last persisted (``{"roles": ..., "paxos": ...}``);
    ``impl`` overrides role classes, e.g. ``{"acceptor": MyAcceptor}``, each implementing
    its protocol in ``core.roles``, and, under ``"election"``, the Chang-Roberts class (a
    subclass of ``Election``, whose ``receive_token`` it may replace; default ``Election``).
    """

    kind = "consensus"

    def __init__(self, uid: int, config: Config, rng: random.Random | None = None,
                 storage: Mapping[str, Any] | None = None,
                 impl: Mapping[str, type] | None = None):
        self.uid = uid
        self.config = config
        self.rng = rng or random.Random(uid)
        self.impl = {**ROLE_CLASSES, **(impl or {})}
        self.election = self.impl.get("election", Election)(uid, config.successor(uid))
        self.roles: Roles | None = None
        self.role: Role | None = None
        self.stats = {"unknown_kind": 0}
        """Bad input this node dropped: ``unknown_kind`` counts messages no handler takes."""
        storage = storage or {}
        if storage.get("roles"):
            self._assign(message_from_dict(storage["roles"]))
            self.election.follow(self.roles.leader)
            self.role.restore(storage.get("paxos", {}))

    # -- driver interface ------------------------------------------------------
    def start(self) -> list[Effect]:
        """→ election Token(uid) to my successor, and the re-send timer (a restarted node that
        knows its role sends nothing)."""
        if self.roles:
            return []
        return [*self.election.start(), SetTimer(ELECTION_TIMER, self.config.resend)]

    def handle(self, src: int, msg: Message) -> list[Effect]:
        """``receive_<kind>(src, msg)`` of the node (election, setup), else of its role (Paxos).

        A node without a role that gets Paxos traffic asks for the roles (the message itself
        is lost on it: no role to act). A kind that neither handles is bad input: counted in
        ``stats["unknown_kind"]`` (shown in the snapshot) and dropped.
        """
        name = handler_name(msg)
        own = getattr(self, name, None)
        if own is not None:
            return own(src, msg)
        if self.role is None:
            return self._ask_for_roles()
        handler = getattr(self.role, name, None)
        if handler is None:
            self.stats["unknown_kind"] += 1
            return []
        return self._persisting(handler(src, msg))

    def fire(self, name: str) -> list[Effect]:
        """A timer this node set has expired."""
        if name == ELECTION_TIMER:
            return self.on_election_timer()
        return self._persisting(self.role.on_timer(name)) if self.role else []

    def on_election_timer(self) -> list[Effect]:
        """on timer ``"election"``, still no roles (a token or my Roles was lost) → election
        Token(uid) again, the wait doubled."""
        if self.roles is not None:
            return []
        delay = resend_delay(self.config.resend, self.election.resends + 1)
        return [*self.election.resend(), SetTimer(ELECTION_TIMER, delay)]

    def add_client(self, uid: int) -> list[Effect]:
        """on a client joining after the election, as the leader → setup Roles to it; a learner
        notes it (and tells it a value it learned)."""
        if self.roles is None:
            return []
        if uid not in self.roles.clients:
            self.roles = Roles(self.roles.leader, self.roles.proposers, self.roles.acceptors,
                               self.roles.learners, (*self.roles.clients, uid))
        effects = self.role.add_client(uid) if hasattr(self.role, "add_client") else []
        return ([Send(uid, self.roles)] if self.election.is_leader else []) + effects

    # -- election and setup ----------------------------------------------------
    def receive_token(self, src: int, msg: Token) -> list[Effect]:
        """on election Token(j) → election Token(j) onwards by Chang-Roberts (``Election``); on
        my own, as the winner → setup Roles to everyone.

        setup, again: on another node's Token, as the leader → setup Roles to that node.
        """
        action, effects = self.election.receive_token(msg)
        if action == "win":
            roles = self.config.roles(self.uid)
            everyone = [u for u in range(self.config.n_consensus) if u != self.uid]
            return [*self._assign(roles), CancelTimer(ELECTION_TIMER),
                    *(Send(u, roles) for u in [*everyone, *roles.clients])]
        if self.election.is_leader and self.roles and msg.uid != self.uid \
                and 0 <= msg.uid < self.config.n_consensus:
            return [*effects, Send(msg.uid, self.roles)]
        return effects

    def receive_roles(self, src: int, msg: Roles) -> list[Effect]:
        """on setup Roles → nothing sent: I take the role the leader gave me (a repeated Roles
        changes nothing)."""
        if self.roles is not None:
            return []
        self.election.follow(msg.leader)
        return [*self._assign(msg), CancelTimer(ELECTION_TIMER)]

    def receive_ask_roles(self, src: int, msg: AskRoles) -> list[Effect]:
        """on setup AskRoles, as the leader → setup Roles once more to the node or client that
        lacks them."""
        return [Send(src, self.roles)] if self.election.is_leader and self.roles else []

    def _ask_for_roles(self) -> list[Effect]:
        # The leader is the largest token I relayed (the winner's went round the whole ring);
        # a node that was down during the election may know no uid above its own, and then
        # cannot ask (a smaller node is never the leader).
        leader = self.election.largest
        return [Send(leader, AskRoles())] if leader != self.uid else []

    def _assign(self, roles: Roles) -> list[Effect]:
        self.roles = roles
        if self.uid in roles.proposers:
            self.role = self.impl["proposer"](
                self.uid, roles.acceptors, self.config.n_consensus, self.config.timeout,
                self.config.backoff, self.rng)
        elif self.uid in roles.acceptors:
            self.role = self.impl["acceptor"](self.uid, roles.learners)
        elif self.uid in roles.learners:
            clients = list(dict.fromkeys((*roles.clients, *self.config.client_uids)))
            self.role = self.impl["learner"](self.uid, roles.acceptors, clients)
        return [Persist(self.storage())]

    def _persisting(self, effects: list[Effect]) -> list[Effect]:
        # Roles persist only their own fields; the driver stores the whole node.
        return [Persist(self.storage()) if isinstance(e, Persist) else e for e in effects]

    def storage(self) -> dict[str, Any]:
        """The node's whole stable storage: its roles and its role's durable fields."""
        return {"roles": self.roles.to_dict() if self.roles else None,
                "paxos": self.role.durable() if self.role else {}}

    def snapshot(self) -> dict[str, Any]:
        """Every field of this node's state as plain data."""
        return {"uid": self.uid, "kind": self.kind,
                "role": self.role.role if self.role else None,
                "color": self.election.color, "leader": self.election.leader,
                "tokens_seen": self.election.tokens_seen, "resends": self.election.resends,
                **self.stats, **(self.role.snapshot() if self.role else {})}


class ClientNode:
    """A client process: waits for the roles, then asks its proposer until it hears a decision."""

    kind = "client"

    def __init__(self, uid: int, config: Config, value: Value, proposer_index: int,
                 rng: random.Random | None = None, storage: Mapping[str, Any] | None = None,
                 impl: Mapping[str, type] | None = None):
        self.uid = uid
        self.config = config
        self.impl = {**ROLE_CLASSES, **(impl or {})}
        self.role = self.impl["client"](uid, value, proposer_index, config.resend)
        self.roles: Roles | None = None
        self.asks = 0
        """How many times this client asked the leader for the roles."""
        self.stats = {"unknown_kind": 0}
        """As ``Node.stats``: messages no handler takes, counted and dropped."""
        storage = storage or {}
        if storage.get("roles"):
            self.roles = message_from_dict(storage["roles"])

    @property
    def leader(self) -> int:
        """Whom to ask for the roles: Chang-Roberts elects the largest uid, N-1."""
        return self.config.n_consensus - 1

    def start(self) -> list[Effect]:
        """A client that knows the roles (restarted) asks its proposer at once; else it waits
        for them, asking the leader every so often (timer ``"roles"``)."""
        if self.roles:
            return self._roles(self.roles.leader, self.roles)
        return [SetTimer(ROLES_TIMER, self.config.resend)]

    def handle(self, src: int, msg: Message) -> list[Effect]:
        """The rule of ``Node.handle``: ``receive_<kind>(src, msg)`` of this client node (setup),
        else of its role (phase 3); a kind neither handles is counted and dropped."""
        name = handler_name(msg)
        if hasattr(self, name):
            return getattr(self, name)(src, msg)
        handler = getattr(self.role, name, None)
        if handler is None:
            self.stats["unknown_kind"] += 1
            return []
        return handler(src, msg)

    def receive_roles(self, src: int, msg: Roles) -> list[Effect]:
        """on setup Roles → request Request(v) to my proposer (a repeated Roles, once I have
        one, changes nothing)."""
        if self.roles is not None and self.role.proposer is not None:
            return []
        return self._roles(src, msg)

    def _roles(self, src: int, msg: Roles) -> list[Effect]:
        self.roles = msg
        return [Persist({"roles": msg.to_dict(), "paxos": {}}), CancelTimer(ROLES_TIMER),
                *self.role.receive_roles(src, msg)]

    def fire(self, name: str) -> list[Effect]:
        """A timer this client set has expired: ``"roles"`` (still none: ask) or its role's."""
        if name == ROLES_TIMER:
            return self.ask_for_roles()
        return self.role.on_timer(name)

    def ask_for_roles(self) -> list[Effect]:
        """on timer ``"roles"``, no roles yet (the leader's Roles was lost, or is still to come)
        → setup AskRoles to the leader, the wait doubled."""
        if self.roles is not None:
            return []
        self.asks += 1
        return [Send(self.leader, AskRoles()),
                SetTimer(ROLES_TIMER, resend_delay(self.config.resend, self.asks))]

    def add_client(self, uid: int) -> list[Effect]:
        return []

    def storage(self) -> dict[str, Any]:
        return {"roles": self.roles.to_dict() if self.roles else None, "paxos": {}}

    def snapshot(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "role": "client", "asks": self.asks,
                **self.stats, **self.role.snapshot()}


def make_node(uid: int, config: Config, rng: random.Random | None = None,
              storage: Mapping[str, Any] | None = None,
              impl: Mapping[str, type] | None = None) -> Node | ClientNode:
    """The node with ``uid`` in ``config``: consensus nodes first, then clients."""
    if uid < config.n_consensus:
        return Node(uid, config, rng, storage, impl)
    value, index = config.clients[uid - config.n_consensus]
    return ClientNode(uid, config, value, index, rng, storage, impl)

