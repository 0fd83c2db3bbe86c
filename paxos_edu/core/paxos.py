"""Basic (single-decree) Paxos roles as pure state machines, in Ghosh's phases.

Each role implements its interface in ``core.roles`` (``Role``): one
``receive_<message>`` handler per message kind it is sent and ``on_timer(name)``;
every handler returns a list of effects, and its docstring says, in one form, which
phase's message triggers it and which phase's message it sends ("on 1.2 Ack from a
majority → 2.1 Accept"). State is plain fields (``durable()`` names what survives a
restart), so a snapshot is exactly what the diagrams draw. Lamport's names for the
acceptor's fields: ``promised`` = maxBal, ``accepted_n`` = maxVBal, ``accepted_v`` = maxVal.

Sequence numbers of proposer ``uid`` are ``uid + k*N`` for rounds k = 1, 2, ...
(N = number of consensus nodes): disjoint between proposers, increasing, and never
below ``FIRST_NUMBER``. So 0 is a true lower bound, not a marker: a promise of 0 (nothing
promised) and a proposer's ``n`` of 0 (no round yet) compare below every proposal.
"Nothing" is None: nothing accepted (``accepted_n``/``accepted_v``, Ghosh's ⊥), no
proposer known yet (``Client.proposer``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .config import majority
from .effects import CancelTimer, Decide, Effect, Persist, Send, SetTimer
from .messages import (
    Accept,
    Accepted,
    Ack,
    Decided,
    Nack,
    Proposal,
    Request,
    Roles,
    Value,
)

IDLE, PHASE1, PHASE2, BACKOFF, DONE = "idle", "phase 1", "phase 2", "backoff", "done"
MAX_TIMEOUT_DOUBLINGS = 4
"""A proposer's phase timeout doubles after each round that timed out, up to 2**4 times."""


@dataclass
class Proposer:
    """Proposer: turns a client's value into a numbered proposal and drives phases 1.1 and 2.1."""

    uid: int
    acceptors: tuple[int, ...]
    n_nodes: int
    timeout: float = 50.0
    backoff: tuple[float, float] = (5.0, 40.0)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    value: Value | None = None
    """The value this proposer was asked to propose (the first client request)."""
    round: int = 0
    n: int = 0
    status: str = IDLE
    proposed_v: Value | None = None
    acks: dict[int, Ack] = field(default_factory=dict)
    """The Acks for my current number, by acceptor."""
    accepted_by: set[int] = field(default_factory=set)
    highest_seen: int = 0
    """The largest number any acceptor told us (in a Nack) it had promised."""
    clients: set[int] = field(default_factory=set)
    """Clients that have asked me; a second request from one means it missed the decision."""
    timeouts: int = 0
    """Rounds in a row that timed out: each one doubles the wait of the next (up to 16x)."""

    role = "proposer"

    @property
    def quorum(self) -> int:
        return majority(len(self.acceptors))

    def durable(self) -> dict:
        """What must survive a restart: the round, so no number is ever used twice."""
        return {"round": self.round, "highest_seen": self.highest_seen}

    def restore(self, data: dict) -> None:
        self.round = data.get("round", 0)
        self.highest_seen = data.get("highest_seen", 0)

    def next_number(self) -> int:
        """The next round's number: my next ``uid + k*N`` above everything seen."""
        k = self.round + 1
        while self.uid + k * self.n_nodes <= self.highest_seen:
            k += 1
        self.round = k
        return self.uid + k * self.n_nodes

    @property
    def wait(self) -> float:
        """How long a phase may take before I give up on the round: ``timeout``, doubled per
        round in a row that timed out (a big or busy system is slow, not dead)."""
        return self.timeout * 2 ** min(self.timeouts, MAX_TIMEOUT_DOUBLINGS)

    def start_round(self) -> list[Effect]:
        """→ 1.1 Proposal(n, v) to every acceptor, with a larger number, persisted first."""
        self.n = self.next_number()
        self.status, self.acks, self.accepted_by, self.proposed_v = PHASE1, {}, set(), None
        return [
            Persist(self.durable()),
            *(Send(a, Proposal(self.n, self.value)) for a in self.acceptors),
            SetTimer("timeout", self.wait),
        ]

    def receive_request(self, src: int, msg: Request) -> list[Effect]:
        """on request Request(v) → 1.1 Proposal to every acceptor, unless a round is running
        (I adopt the client's value if I have none).

        After my value was chosen, a client's first request needs nothing (the
        learners tell every client); asking again means it missed the decision, so
        a new round makes the learners announce the chosen value once more.
        """
        if self.value is None:
            self.value = msg.v
        first = src not in self.clients
        self.clients.add(src)
        if self.status == IDLE or (self.status == DONE and not first):
            return self.start_round()
        return []

    def receive_ack(self, src: int, msg: Ack) -> list[Effect]:
        """on 1.2 Ack for my n from a majority → 2.1 Accept(n, v) to every acceptor."""
        if msg.n != self.n or self.status != PHASE1 or src not in self.acceptors:
            return []  # an Ack for an older number says nothing about this round
        self.acks[src] = msg
        if len(self.acks) < self.quorum:
            return []
        self.proposed_v = self.choose_value()
        self.status = PHASE2
        return [
            *(Send(a, Accept(self.n, self.proposed_v)) for a in self.acceptors),
            SetTimer("timeout", self.wait),
        ]

    def choose_value(self) -> Value:
        """2.1: v is the value of the highest-numbered accepted proposal reported, else my own."""
        reported = [ack for ack in self.acks.values() if ack.has_accepted]
        if not reported:
            return self.value
        return max(reported, key=lambda ack: ack.accepted_n).accepted_v

    def receive_nack(self, src: int, msg: Nack) -> list[Effect]:
        """on 1.2 or 2.2 Nack for my n → 1.1 Proposal above the number promised, after a random
        back-off (timer ``"retry"``)."""
        self.highest_seen = max(self.highest_seen, msg.promised)
        if msg.n != self.n or self.status not in (PHASE1, PHASE2):
            return []
        return self.back_off()

    def receive_accepted(self, src: int, msg: Accepted) -> list[Effect]:
        """on 2.2 Accepted for my n from a majority → nothing sent: my value is chosen, I stop."""
        if msg.n != self.n or self.status != PHASE2 or src not in self.acceptors:
            return []
        self.accepted_by.add(src)
        if len(self.accepted_by) < self.quorum:
            return []
        self.status, self.timeouts = DONE, 0
        return [CancelTimer("timeout")]

    def back_off(self) -> list[Effect]:
        """Wait a random time (liveness with duelling proposers), then start a new round."""
        self.status = BACKOFF
        return [CancelTimer("timeout"), SetTimer("retry", self.rng.uniform(*self.backoff))]

    def on_timer(self, name: str) -> list[Effect]:
        """on timer ``"timeout"`` (no majority answered in time) → back off, and wait longer next
        round; on timer ``"retry"`` → 1.1 Proposal of the next round."""
        if name == "timeout" and self.status in (PHASE1, PHASE2):
            self.timeouts += 1
            return self.back_off()
        if name == "retry" and self.status == BACKOFF:
            return self.start_round()
        return []

    def snapshot(self) -> dict:
        return {"status": self.status, "n": self.n, "round": self.round, "value": self.value,
                "proposed_v": self.proposed_v, "acks": sorted(self.acks),
                "accepted_by": sorted(self.accepted_by)}


@dataclass
class Acceptor:
    """Acceptor: keeps its promise and its accepted proposal in stable storage (1.2, 2.2)."""

    uid: int
    learners: tuple[int, ...]
    promised: int = 0
    accepted_n: int | None = None
    """The number of the proposal I accepted, None (Ghosh's ⊥) until I accept one."""
    accepted_v: Value | None = None

    role = "acceptor"

    def durable(self) -> dict:
        """Everything: an acceptor that forgets a promise can let two values be chosen."""
        return {"promised": self.promised, "accepted_n": self.accepted_n,
                "accepted_v": self.accepted_v}

    def restore(self, data: dict) -> None:
        self.promised = data.get("promised", 0)
        accepted_n = data.get("accepted_n")
        # Files written before None meant "nothing accepted" hold 0 (see core.stored).
        self.accepted_n = None if accepted_n == 0 else accepted_n
        self.accepted_v = data.get("accepted_v")

    def receive_proposal(self, src: int, msg: Proposal) -> list[Effect]:
        """on 1.1 Proposal(n, v) → 1.2 Ack(n, v', n') if n is at least every number I promised
        (persisted first), else 1.2 Nack(n, promised).

        A number equal to the promise can only be the same proposal arriving twice,
        which gets the same answer (and is why proposers must never share a number).
        """
        if msg.n < self.promised:
            return [Send(src, Nack(msg.n, self.promised, "Proposal"))]
        persist = self._update(promised=msg.n)
        return [*persist, Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))]

    def receive_accept(self, src: int, msg: Accept) -> list[Effect]:
        """on 2.1 Accept(n, v) → 2.2 Accepted(n, v) to every learner and the proposer (persisted
        first), unless I promised a larger number: 2.2 Nack(n, promised)."""
        if msg.n < self.promised:
            return [Send(src, Nack(msg.n, self.promised, "Accept"))]
        persist = self._update(promised=msg.n, accepted_n=msg.n, accepted_v=msg.v)
        note = Accepted(msg.n, msg.v)
        return [*persist, *(Send(lrn, note) for lrn in self.learners), Send(src, note)]

    def _update(self, **changes) -> list[Effect]:
        before = self.durable()
        for name, value in changes.items():
            setattr(self, name, value)
        return [Persist(self.durable())] if self.durable() != before else []

    def on_timer(self, name: str) -> list[Effect]:
        return []

    def snapshot(self) -> dict:
        return self.durable()


@dataclass
class Learner:
    """Learner: counts distinct acceptors per (n, v); on a majority, tells every client (3)."""

    uid: int
    acceptors: tuple[int, ...]
    clients: list[int] = field(default_factory=list)
    votes: dict[tuple[int, Value], set[int]] = field(default_factory=dict)
    learned: dict[int, Value] = field(default_factory=dict)
    """Numbers that reached a majority, and their value."""

    role = "learner"

    @property
    def quorum(self) -> int:
        return majority(len(self.acceptors))

    def durable(self) -> dict:
        return {}

    def restore(self, data: dict) -> None:
        pass

    def receive_accepted(self, src: int, msg: Accepted) -> list[Effect]:
        """on 2.2 Accepted(n, v) from a majority of distinct acceptors → 3 Decided(v, n) to every
        client (and Decide: I learned v)."""
        if src not in self.acceptors:
            return []
        voters = self.votes.setdefault((msg.n, msg.v), set())
        voters.add(src)
        if len(voters) < self.quorum or msg.n in self.learned:
            return []
        self.learned[msg.n] = msg.v
        return [Decide(msg.v, msg.n), *(Send(c, Decided(msg.v, msg.n)) for c in self.clients)]

    def add_client(self, uid: int) -> list[Effect]:
        """on a client joining late → 3 Decided(v, n) to it at once if I learned v already."""
        if uid in self.clients:
            return []
        self.clients.append(uid)
        return [Send(uid, Decided(n_v[1], n_v[0])) for n_v in list(self.learned.items())[:1]]

    def on_timer(self, name: str) -> list[Effect]:
        return []

    @property
    def value(self) -> Value | None:
        """The first value this learner learned, if any."""
        return next(iter(self.learned.values()), None)

    def snapshot(self) -> dict:
        return {"value": self.value,
                "learned": [[n, v] for n, v in sorted(self.learned.items(), key=lambda x: x[0])],
                "votes": [{"n": n, "v": v, "acceptors": sorted(a)}
                          for (n, v), a in sorted(self.votes.items(), key=lambda x: x[0][0])]}


@dataclass
class Client:
    """Client: asks proposer ``k mod P`` to set its value, re-asks until it hears a decision."""

    uid: int
    value: Value
    proposer_index: int
    resend: float = 200.0
    proposer: int | None = None
    """The proposer I ask, once the roles name it."""
    decided: Value | None = None
    requests_sent: int = 0

    role = "client"

    def durable(self) -> dict:
        return {}

    def restore(self, data: dict) -> None:
        pass

    def receive_roles(self, src: int, msg: Roles) -> list[Effect]:
        """on setup Roles → request Request(v) to my proposer (index mod P), the first time."""
        first = self.proposer is None
        self.proposer = msg.proposers[self.proposer_index % len(msg.proposers)]
        return self.send_request() if first and self.decided is None else []

    def send_request(self) -> list[Effect]:
        """→ request Request(v) to my proposer, and wait ``resend`` ms for a decision."""
        self.requests_sent += 1
        return [Send(self.proposer, Request(self.value)), SetTimer("resend", self.resend)]

    def receive_decided(self, src: int, msg: Decided) -> list[Effect]:
        """on 3 Decided(v, n) → nothing sent: the first decision I hear is my result (hearing
        another value would break agreement, and is recorded for the checker)."""
        if self.decided is None:
            self.decided = msg.v
            return [CancelTimer("resend"), Decide(msg.v, msg.n)]
        if msg.v != self.decided:
            return [Decide(msg.v, msg.n)]  # recorded so the checker can report it
        return []

    def on_timer(self, name: str) -> list[Effect]:
        """on timer ``"resend"``, no decision heard yet → request Request(v) again."""
        if name == "resend" and self.decided is None and self.proposer is not None:
            return self.send_request()
        return []

    def snapshot(self) -> dict:
        return {"value": self.value, "proposer": self.proposer, "decided": self.decided,
                "requests_sent": self.requests_sent}


ROLE_CLASSES: dict[str, type] = {
    "proposer": Proposer,
    "acceptor": Acceptor,
    "learner": Learner,
    "client": Client,
}
"""The class used for each role; Simulation, Cluster and explore accept overrides."""
