"""Config: how many of each role, the clients, the ring order and the timings.

Uids are assigned in a fixed way (the original project's rule): consensus
nodes are ``0 .. N-1`` where ``N = proposers + acceptors + learners``; the
elected leader gives the first ``proposers`` uids the proposer role, the next
``acceptors`` the acceptor role and the last ``learners`` the learner role.
Clients come after: ``N, N+1, ...``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from .limits import MAX_INT, MAX_NODES, MAX_STR
from .messages import Roles, Value

RING_ORDERS = ("ascending", "descending", "random")


@dataclass(frozen=True)
class Config:
    """A validated system configuration; every bad field raises ValueError naming it.

    ``clients`` holds ``(value, proposer_index)`` pairs (a bare value means index 0);
    the index is taken modulo the number of proposers. ``ring`` is ``"ascending"``
    (the successor of uid i is i+1), ``"descending"``, ``"random"`` (shuffled with
    ``ring_seed``) or an explicit permutation of the consensus uids. Times are
    milliseconds: ``timeout`` is how long a proposer waits in a phase, ``backoff``
    the range of its random wait before retrying, ``resend`` how long a client
    waits for a decision before asking again.
    """

    proposers: int = 1
    acceptors: int = 3
    learners: int = 1
    clients: tuple[tuple[Value, int], ...] = ()
    ring: str | tuple[int, ...] = "ascending"
    ring_seed: int = 0
    timeout: float = 50.0
    backoff: tuple[float, float] = (5.0, 40.0)
    resend: float = 200.0
    _order: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, lo in (("proposers", 1), ("acceptors", 1), ("learners", 1)):
            value = getattr(self, name)
            if type(value) is not int or not lo <= value <= MAX_NODES:
                raise ValueError(f"{name}={value!r}: must be an integer from {lo} to {MAX_NODES}")
        if self.n_consensus > MAX_NODES:
            raise ValueError(f"proposers+acceptors+learners={self.n_consensus}: at most {MAX_NODES}")
        if isinstance(self.clients, (str, bytes)) or not hasattr(self.clients, "__iter__"):
            raise ValueError(f"clients={self.clients!r}: must be a list of (value, proposer_index)")
        object.__setattr__(self, "clients", tuple(_client(i, c) for i, c in enumerate(self.clients)))
        for name in ("timeout", "resend"):
            if not _positive(getattr(self, name)):
                raise ValueError(f"{name}={getattr(self, name)!r}: must be a positive number of ms")
        if type(self.ring_seed) is not int:
            raise ValueError(f"ring_seed={self.ring_seed!r}: must be an integer")
        backoff = self.backoff
        if (not isinstance(backoff, (tuple, list)) or len(backoff) != 2
                or not all(_positive(b) or b == 0 for b in backoff) or backoff[0] > backoff[1]):
            raise ValueError(f"backoff={backoff!r}: must be (low, high) ms with 0 <= low <= high")
        object.__setattr__(self, "backoff", tuple(backoff))
        object.__setattr__(self, "_order", self._ring_order())
        if not isinstance(self.ring, str):
            object.__setattr__(self, "ring", self._order)

    def _ring_order(self) -> tuple[int, ...]:
        n = self.n_consensus
        if self.ring == "ascending":
            return tuple(range(n))
        if self.ring == "descending":
            return tuple(reversed(range(n)))
        if self.ring == "random":
            order = list(range(n))
            random.Random(self.ring_seed).shuffle(order)
            return tuple(order)
        if isinstance(self.ring, str) or not isinstance(self.ring, (tuple, list)):
            raise ValueError(f"ring={self.ring!r}: must be one of {RING_ORDERS} or a permutation")
        order = tuple(self.ring)
        if any(type(u) is not int for u in order) or sorted(order) != list(range(n)):
            raise ValueError(f"ring={order!r}: must be a permutation of the uids 0..{n - 1}")
        return order

    @property
    def n_consensus(self) -> int:
        """Number of consensus nodes (everyone but the clients)."""
        return self.proposers + self.acceptors + self.learners

    @property
    def ring_order(self) -> tuple[int, ...]:
        """Consensus uids in ring order: each node sends tokens to the next one."""
        return self._order

    def successor(self, uid: int) -> int:
        """The ring successor of consensus node ``uid``."""
        order = self._order
        return order[(order.index(uid) + 1) % len(order)]

    @property
    def client_uids(self) -> tuple[int, ...]:
        return tuple(range(self.n_consensus, self.n_consensus + len(self.clients)))

    def roles(self, leader: int, clients: tuple[int, ...] | None = None) -> Roles:
        """The role assignment the leader broadcasts (the original project's rule)."""
        p, a = self.proposers, self.acceptors
        return Roles(
            leader=leader,
            proposers=tuple(range(p)),
            acceptors=tuple(range(p, p + a)),
            learners=tuple(range(p + a, self.n_consensus)),
            clients=self.client_uids if clients is None else tuple(clients),
        )

    def with_clients(self, *clients: tuple[Value, int] | Value) -> Config:
        """A copy of this config with more clients appended."""
        from dataclasses import replace

        return replace(self, clients=self.clients + tuple(clients))


def _client(i: int, spec) -> tuple[Value, int]:
    if isinstance(spec, tuple | list):
        if len(spec) != 2:
            raise ValueError(f"clients[{i}]={spec!r}: must be (value, proposer_index)")
        value, index = spec
    else:
        value, index = spec, 0
    if type(value) not in (int, str):
        raise ValueError(f"clients[{i}] value {value!r}: must be an integer or a string")
    if isinstance(value, str) and len(value) > MAX_STR:
        raise ValueError(f"clients[{i}] value: a string of at most {MAX_STR} characters")
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ValueError(f"clients[{i}] value {value}: must be within ±{MAX_INT}")
    if type(index) is not int or index < 0:
        raise ValueError(
            f"clients[{i}] proposer index {index!r}: must be an integer >= 0 "
            "(taken modulo the number of proposers)"
        )
    return (value, index)


def _positive(x) -> bool:
    return type(x) in (int, float) and math.isfinite(x) and x > 0


def majority(n: int) -> int:
    """Smallest number of acceptors that is more than half of ``n``."""
    return n // 2 + 1


def blocked_reason(config: Config, alive: Mapping[int, bool],
                   elected: bool = True) -> str | None:
    """Why no value can be chosen now, or None: ``"no quorum: acceptors 2, 3 of 3 are down"``
    when a majority of acceptors is down; ``"no proposer: ..."``/``"no learner: ..."`` when
    every one of them is; before a leader is ``elected``, ``"election cannot finish: ..."``
    when a node of the ring is down (the winning token must pass every node).
    """
    ring_down = [u for u in config.ring_order if not alive.get(u, True)]
    if not elected and ring_down:
        nodes = ", ".join(map(str, ring_down))
        return (f"election cannot finish: node{'s' * (len(ring_down) > 1)} {nodes} "
                f"{'are' if len(ring_down) > 1 else 'is'} down, and the winning token "
                "must pass every node of the ring")
    roles = config.roles(0)
    for name, uids, need in (("acceptors", roles.acceptors, majority(len(roles.acceptors))),
                             ("proposers", roles.proposers, 1),
                             ("learners", roles.learners, 1)):
        down = [u for u in uids if not alive.get(u, True)]
        if len(uids) - len(down) < need:
            what = "no quorum" if name == "acceptors" else f"no {name[:-1]}"
            return f"{what}: {name} {', '.join(map(str, down))} of {len(uids)} are down"
    return None
