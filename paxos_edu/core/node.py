"""Node: a consensus node (election, then role assignment, then one Paxos role) or a client.

Drivers talk to a node through five methods, each returning effects:
``start()``, ``handle(src, msg)``, ``fire(timer_name)``, ``add_client(uid)``
and, for the diagrams, ``snapshot()``. A node rebuilt from its stable storage
(``Node(..., storage=...)``) resumes as it was, minus what was never persisted.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from .codec import message_from_dict
from .config import Config
from .effects import Effect, Persist, Send
from .election import Election
from .messages import AskRoles, Message, Roles, Token, Value
from .paxos import ROLE_CLASSES


def handler_name(msg: Message) -> str:
    """``receive_<type>`` in snake case: Proposal -> receive_proposal."""
    return "receive_" + msg.type.lower()


class Node:
    """One consensus node: Chang-Roberts, then the role the leader assigned.

    ``storage`` is what the node last persisted (``{"roles": ..., "paxos": ...}``);
    ``impl`` overrides role classes, e.g. ``{"acceptor": MyAcceptor}``.
    """

    kind = "consensus"

    def __init__(self, uid: int, config: Config, rng: random.Random | None = None,
                 storage: Mapping[str, Any] | None = None,
                 impl: Mapping[str, type] | None = None):
        self.uid = uid
        self.config = config
        self.rng = rng or random.Random(uid)
        self.impl = {**ROLE_CLASSES, **(impl or {})}
        self.election = Election(uid, config.successor(uid))
        self.roles: Roles | None = None
        self.role: Any = None
        storage = storage or {}
        if storage.get("roles"):
            self._assign(message_from_dict(storage["roles"]))
            self.election.color = "black" if self.roles.leader != uid else "red"
            self.election.leader = self.roles.leader
            self.role.restore(storage.get("paxos", {}))

    # -- driver interface ------------------------------------------------------
    def start(self) -> list[Effect]:
        """Begin the election (a restarted node that knows its role does nothing)."""
        return [] if self.roles else self.election.start()

    def handle(self, src: int, msg: Message) -> list[Effect]:
        """Dispatch ``msg`` from ``src`` to the handler for its kind; unknown kinds are ignored."""
        if isinstance(msg, Token):
            return self.receive_token(msg)
        if isinstance(msg, Roles):
            return self.receive_roles(src, msg)
        if isinstance(msg, AskRoles):
            return self.receive_ask_roles(src, msg)
        if self.role is None:
            return self._ask_for_roles()  # the traffic itself is lost on me: no role to act
        handler = getattr(self.role, handler_name(msg), None)
        return self._persisting(handler(src, msg)) if handler else []

    def fire(self, name: str) -> list[Effect]:
        """A timer this node set has expired."""
        return self._persisting(self.role.on_timer(name)) if self.role else []

    def add_client(self, uid: int) -> list[Effect]:
        """A client joined after the election: the leader tells it the roles, learners note it."""
        if self.roles is None:
            return []
        if uid not in self.roles.clients:
            self.roles = Roles(self.roles.leader, self.roles.proposers, self.roles.acceptors,
                               self.roles.learners, (*self.roles.clients, uid))
        effects = self.role.add_client(uid) if hasattr(self.role, "add_client") else []
        return ([Send(uid, self.roles)] if self.election.is_leader else []) + effects

    # -- election and setup ----------------------------------------------------
    def receive_token(self, msg: Token) -> list[Effect]:
        """Election: Chang-Roberts; the winner assigns roles and tells everyone (setup)."""
        action, effects = self.election.receive_token(msg)
        if action != "win":
            return effects
        roles = self.config.roles(self.uid)
        everyone = [u for u in range(self.config.n_consensus) if u != self.uid] + list(roles.clients)
        return [*self._assign(roles), *(Send(u, roles) for u in everyone)]

    def receive_roles(self, src: int, msg: Roles) -> list[Effect]:
        """setup: take the role the leader gave me (a repeated Roles changes nothing)."""
        if self.roles is not None:
            return []
        self.election.leader = msg.leader
        return self._assign(msg)

    def receive_ask_roles(self, src: int, msg: AskRoles) -> list[Effect]:
        """setup, again: the leader sends the roles once more to a node that lost them."""
        return [Send(src, self.roles)] if self.election.is_leader and self.roles else []

    def _ask_for_roles(self) -> list[Effect]:
        # The leader is the largest token I relayed (the winner's went round the whole ring);
        # a node that was down during the election may not know it, and then cannot ask.
        leader = self.election.largest
        return [Send(leader, AskRoles())] if leader >= 0 and leader != self.uid else []

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
                "tokens_seen": self.election.tokens_seen,
                **(self.role.snapshot() if self.role else {})}


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
        storage = storage or {}
        if storage.get("roles"):
            self.roles = message_from_dict(storage["roles"])

    def start(self) -> list[Effect]:
        """A client that already knows the roles (restarted) asks at once; else it waits."""
        return self._roles(self.roles) if self.roles else []

    def handle(self, src: int, msg: Message) -> list[Effect]:
        if isinstance(msg, Roles):
            if self.roles is not None and self.role.proposer >= 0:
                return []
            return self._roles(msg)
        handler = getattr(self.role, handler_name(msg), None)
        return handler(src, msg) if handler else []

    def _roles(self, msg: Roles) -> list[Effect]:
        self.roles = msg
        return [Persist({"roles": msg.to_dict(), "paxos": {}}), *self.role.receive_roles(-1, msg)]

    def fire(self, name: str) -> list[Effect]:
        return self.role.on_timer(name)

    def add_client(self, uid: int) -> list[Effect]:
        return []

    def storage(self) -> dict[str, Any]:
        return {"roles": self.roles.to_dict() if self.roles else None, "paxos": {}}

    def snapshot(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "role": "client", **self.role.snapshot()}


def make_node(uid: int, config: Config, rng: random.Random | None = None,
              storage: Mapping[str, Any] | None = None,
              impl: Mapping[str, type] | None = None) -> Node | ClientNode:
    """The node with ``uid`` in ``config``: consensus nodes first, then clients."""
    if uid < config.n_consensus:
        return Node(uid, config, rng, storage, impl)
    value, index = config.clients[uid - config.n_consensus]
    return ClientNode(uid, config, value, index, rng, storage, impl)

