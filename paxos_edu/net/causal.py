"""When the switch may record a node's report: causes before effects, by evidence only.

Over peer links a node reports what it did in a ``batch`` naming its ``cause``, the
peer-link message ``(sender, seq)`` it was handling; the sender reports that message
in a batch of its own, as a ``copy``. ``CausalOrder`` decides, for the datagrams the
switch accepts, when each may be acted on (recorded in the trace) so that a cause's
copy is always recorded before its effects. It is pure (no sockets, no clock): the
switch feeds it what happened and acts on what it returns, in that order.

The rules, and the evidence behind each:

- A node's datagrams are acted on in the order of their counters (the switch accepts
  only increasing ones); one waiting for its cause holds that node's later ones too.
- A datagram whose cause ``(X, s)`` is recorded is released.
- While an accepted but held datagram of ``X`` carries the copy of ``s``, we wait for it.
- ``X`` dead (the switch accepts nothing more from a dead process): the copy will never
  come. The cause is released *recovered*: the switch records the message from the
  envelope the receiver carried (``reason`` ``"sender crashed"``), then the effect.
- ``X`` answered a ``sync`` question with a report of counter ``a > s``: a node
  handles one input at a time and numbers a message and the batch reporting it in
  the same handling, so everything ``X`` reported about ``s`` has a counter below
  ``a``, and was accepted before ``a`` or never will be. Not recorded and not held:
  lost; recovered with ``reason`` ``"sender's report lost"``.
- Otherwise we wait, and ``wanted()`` names the nodes to ask for a ``sync``. There is
  no timeout: a report is never released on a guess.

Copies are recorded at most once per ``(node, seq)``: a late copy of a message
already recovered from its receiver is skipped (``Release.skip``).

Nodes are named by any hashable key; the switch uses one per process incarnation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

CRASHED = "sender crashed"
LOST = "sender's report lost"
_READY, _WAIT = "ready", "wait"


@dataclass(frozen=True)
class Release:
    """Act on ``payload`` (a datagram of ``node`` with counter ``seq``) now.

    If ``recover`` is set, first record the cause from the receiver's envelope, for
    that reason. Skip the copies whose counters are in ``skip`` (already recorded).
    """

    payload: Any
    node: Hashable
    seq: int
    cause: tuple | None = None
    recover: str | None = None
    skip: frozenset[int] = frozenset()


@dataclass
class _Held:
    node: Hashable
    seq: int
    payload: Any
    cause: tuple | None
    copies: tuple[int, ...]


@dataclass
class CausalOrder:
    """The ordering state of one switch: held datagrams, recorded copies, evidence."""

    queues: dict[Hashable, deque[_Held]] = field(default_factory=dict)
    recorded: set[tuple] = field(default_factory=set)  # (node, seq) of copies in the trace
    carried: dict[tuple, int] = field(default_factory=dict)  # copies held datagrams carry
    dead: set[Hashable] = field(default_factory=set)
    synced: dict[Hashable, int] = field(default_factory=dict)  # node -> its latest answer's seq

    def arrive(self, node: Hashable, seq: int, payload: Any = None, cause: tuple | None = None,
               copies: Iterable[int] = (), sync: bool = False) -> list[Release]:
        """Datagram ``seq`` of ``node`` was accepted: it carries ``copies``, names ``cause``,
        and (``sync``) is a sync answer. Returns what may be acted on now, in order."""
        if sync:
            self.synced[node] = max(self.synced.get(node, 0), seq)
        if cause is not None:
            cause = tuple(cause)
            if cause[0] == node:
                cause = None  # a node cannot wait for itself (only a buggy report says so)
        held = _Held(node, seq, payload, cause, tuple(copies))
        for s in held.copies:
            self.carried[(node, s)] = self.carried.get((node, s), 0) + 1
        self.queues.setdefault(node, deque()).append(held)
        return self._drain()

    def mark_dead(self, node: Hashable) -> list[Release]:
        """``node`` will send nothing more (its held datagrams stay, and still go in order)."""
        self.dead.add(node)
        return self._drain()

    def held(self, node: Hashable | None = None) -> int:
        """How many datagrams wait (of ``node``, or of everyone)."""
        if node is not None:
            return len(self.queues.get(node, ()))
        return sum(len(q) for q in self.queues.values())

    def wanted(self) -> set[Hashable]:
        """Nodes whose sync answer would release a held datagram (alive, cause unproven)."""
        return {q[0].cause[0] for q in self.queues.values()
                if self._status(q[0].cause) == _WAIT and q[0].cause not in self.carried}

    # -- internals -----------------------------------------------------------------------------
    def _status(self, cause: tuple | None) -> str:
        if cause is None or cause in self.recorded:
            return _READY
        if cause in self.carried:
            return _WAIT  # its sender's report is here, itself waiting
        if cause[0] in self.dead:
            return CRASHED
        if self.synced.get(cause[0], 0) > cause[1]:
            return LOST
        return _WAIT

    def _drain(self) -> list[Release]:
        out: list[Release] = []
        progress = True
        while progress:
            progress = False
            for node in list(self.queues):
                queue = self.queues[node]
                while queue:
                    status = self._status(queue[0].cause)
                    if status == _WAIT:
                        break
                    out.append(self._release(queue.popleft(), status))
                    progress = True
                if not queue:
                    del self.queues[node]
        return out

    def _release(self, held: _Held, status: str) -> Release:
        recover = None if status == _READY else status
        if recover is not None:
            self.recorded.add(held.cause)
        skip = set()
        for s in held.copies:
            key = (held.node, s)
            self.carried[key] -= 1
            if not self.carried[key]:
                del self.carried[key]
            if key in self.recorded:
                skip.add(s)
            self.recorded.add(key)
        return Release(held.payload, held.node, held.seq, held.cause, recover, frozenset(skip))


def learner_causality(trace: Iterable[dict]) -> list[str]:
    """Learner events that come before a vote they count: ``[]`` when the trace is causal.

    A learner's ``decide`` at (n, v), and each of its ``state`` events listing the
    acceptors that voted for (n, v), must come after the delivery to that learner of an
    Accepted(n, v) from each of them (so after its ``send``); a decide needs a majority.
    """
    from ..core.config import majority

    heard: dict[tuple, set[int]] = {}  # (learner, n, repr v) -> acceptors heard from
    acceptors: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()
    problems = []
    for ev in trace:
        msg, kind = ev.get("msg") or {}, ev["kind"]
        if kind == "send" and msg.get("type") == "Roles" and not acceptors:
            acceptors, learners = tuple(msg["acceptors"]), tuple(msg["learners"])
        elif kind == "deliver" and msg.get("type") == "Accepted":
            heard.setdefault((ev["dst"], msg["n"], repr(msg["v"])), set()).add(ev["src"])
        elif kind == "decide" and ev["src"] in learners:
            got = heard.get((ev["src"], msg["n"], repr(msg["v"])), set())
            if len(got) < majority(len(acceptors)):
                problems.append(f"event {ev['seq']}: learner {ev['src']} decided at n={msg['n']} "
                                f"having been delivered {len(got)} Accepted")
        elif kind == "state" and ev["src"] in learners:
            for vote in msg.get("votes", []):
                got = heard.get((ev["src"], vote["n"], repr(vote["v"])), set())
                early = sorted(set(vote["acceptors"]) - got)
                if early:
                    problems.append(f"event {ev['seq']}: learner {ev['src']}'s state counts "
                                    f"acceptors {early} before their Accepted reached it")
    return problems
