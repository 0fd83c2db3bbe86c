"""Simulation: the deterministic in-process driver over the same ``core`` nodes.

The network is a set of pending items: messages in flight and timers. Nothing
moves until you say so: ``deliver(id)``, ``drop(id)``, ``duplicate(id)``,
``delay(id)``, or ``step()``/``run()`` which pick the next item with a seeded
random generator. Time is virtual (milliseconds): each delivery takes one
``latency``; when no message is ready, the earliest timer (or delayed message)
fires and the clock jumps to its deadline. The same seed and the same calls
give the same trace, event for event.

Every API call is recorded in ``actions`` so a run can be replayed
(``Simulation.replay``) or forked at any point, which is how the dashboard's
time travel works.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .core.config import Config, blocked_reason
from .core.effects import CancelTimer, Decide, Effect, Persist, Send, SetTimer
from .core.invariants import SafetyMonitor, Violation
from .core.messages import Message, Timer, Value
from .core.node import make_node


@dataclass(frozen=True)
class Pending:
    """An item in flight: a message (``kind == "Message"``) or a node's timer (``"Timer"``)."""

    id: int
    src: int
    dst: int
    msg: Message
    due: float = 0.0

    @property
    def kind(self) -> str:
        return "Timer" if isinstance(self.msg, Timer) else "Message"

    @property
    def phase(self) -> str:
        return self.msg.phase

    def __str__(self) -> str:
        if self.kind == "Timer":
            return f"#{self.id} timer {self.msg.name!r} of node {self.dst} (due {self.due:g} ms)"
        return f"#{self.id} {self.src}->{self.dst} [{self.phase}] {self.msg}"


def pending_order(items: Iterable[Pending]) -> list[Pending]:
    """Messages by id (oldest first), then timers by deadline: how both drivers list pending items."""
    return sorted(items, key=lambda p: (p.kind == "Timer", p.due if p.kind == "Timer" else 0, p.id))


class Simulation:
    """Run a configuration in-process, deterministically, with every fault at hand.

    ``impl`` replaces role classes (``{"acceptor": MyAcceptor}``) for exercises and
    for the deliberately broken variants the tests use.
    """

    def __init__(self, config: Config | None = None, seed: int = 0,
                 impl: Mapping[str, type] | None = None, latency: float = 1.0):
        self.config = config or Config()
        self.seed = seed
        self.impl = dict(impl or {})
        self.latency = latency
        self.rng = random.Random(seed)
        self.now = 0.0
        self.trace: list[dict[str, Any]] = []
        self.actions: list[tuple] = []
        self.monitor = SafetyMonitor()
        self.started = False
        self._nodes: dict[int, Any] = {}
        self._storage: dict[int, dict] = {}
        self._snapshots: dict[int, dict] = {}
        self._pending: dict[int, Pending] = {}
        self._next_id = 1
        self._groups: list[set[int]] | None = None

    # -- setting up ------------------------------------------------------------------
    def start(self) -> Simulation:
        """Create every node and let each send its election token (pending, not delivered)."""
        if self.started:
            return self
        self.actions.append(("start",))
        self.started = True
        uids = list(range(self.config.n_consensus)) + list(self.config.client_uids)
        for uid in uids:
            self._nodes[uid] = self._make(uid)
            self._record_state(uid)
        for uid in (*self.config.ring_order, *self.config.client_uids):
            self._perform(uid, self._nodes[uid].start())
        return self

    def propose(self, value: Value, proposer: int = 0) -> int:
        """Add a client asking proposer index ``proposer`` (mod P) for ``value``; returns its uid."""
        self.actions.append(("propose", value, proposer))
        self.config = self.config.with_clients((value, proposer))
        uid = self.config.client_uids[-1]
        for node in self._nodes.values():
            node.config = self.config
        if self.started:
            self._nodes[uid] = self._make(uid)
            self._record_state(uid)
            for other in list(self._nodes):
                if other != uid:
                    self._perform(other, self._nodes[other].add_client(uid))
            self._perform(uid, self._nodes[uid].start())
        return uid

    def _make(self, uid: int, storage: dict | None = None):
        rng = random.Random(f"{self.seed}:{uid}:{len(self.actions)}")
        return make_node(uid, self.config, rng, storage, self.impl)

    # -- the network -------------------------------------------------------------------
    def pending(self) -> list[Pending]:
        """Messages in flight, oldest first, then timers, soonest first (``pending()[0]`` is FIFO)."""
        return pending_order(self._pending.values())

    def deliver(self, mid: int) -> Pending:
        """Deliver message ``mid`` (or fire timer ``mid``) now."""
        item = self._take(mid)
        self.actions.append(("deliver", mid))
        self.now += self.latency
        self._arrive(item)
        return item

    def drop(self, mid: int) -> Pending:
        """Lose message ``mid``: it is never delivered."""
        item = self._take(mid)
        self.actions.append(("drop", mid))
        self._emit("drop", item.src, item.dst, item.msg, id=item.id, reason="dropped")
        return item

    def duplicate(self, mid: int) -> Pending:
        """Put a second copy of message ``mid`` in flight; returns the copy."""
        item = self._get(mid)
        if item.kind == "Timer":
            raise ValueError(f"#{mid} is a timer; only messages can be duplicated")
        self.actions.append(("duplicate", mid))
        copy = replace(item, id=self._new_id())
        self._pending[copy.id] = copy
        self._emit("duplicate", copy.src, copy.dst, copy.msg, id=copy.id, of=mid)
        return copy

    def delay(self, mid: int, by: float | None = None) -> Pending:
        """Hold message ``mid`` back ``by`` ms (default: one proposer timeout)."""
        item = self._get(mid)
        self.actions.append(("delay", mid, by))
        later = replace(item, due=self.now + (self.config.timeout if by is None else by))
        self._pending[mid] = later
        return later

    def next_item(self) -> Pending | None:
        """What ``step()`` would deliver next (random among ready messages, else earliest due)."""
        ready = [p for p in self._pending.values() if p.kind == "Message" and p.due <= self.now]
        if ready:
            return self.rng.choice(ready)
        if not self._pending:
            return None
        return min(self._pending.values(), key=lambda p: (p.due, p.id))

    def step(self) -> Pending | None:
        """Deliver one item: a random ready message, else the earliest timer or delayed message."""
        item = self.next_item()
        if item is None:
            return None
        if item.due - self.latency > self.now:
            self._advance_to(item.due - self.latency)
        return self.deliver(item.id)

    def _advance_to(self, t: float) -> None:
        # Recorded so that a replay's clock (and so its timers' deadlines) match.
        self.actions.append(("_advance_to", t))
        self.now = max(self.now, t)

    def run(self, max_steps: int = 10_000,
            until: str | Callable[[Simulation], bool] | None = None) -> int:
        """Step until nothing is pending, or ``until`` holds, or ``max_steps`` steps.

        ``until`` is ``"decided"`` (every client told), ``"elected"`` (a leader and
        every role assigned) or a function of the simulation. Returns the steps taken.
        """
        if isinstance(until, str) and until not in ("decided", "elected"):
            raise ValueError(f"until={until!r}: must be 'decided', 'elected' or a function")
        done = {"decided": Simulation.all_decided, "elected": Simulation.elected}.get(until, until)
        steps = 0
        while steps < max_steps:
            if done is not None and done(self):
                break
            if self.step() is None:
                break
            steps += 1
        return steps

    # -- faults --------------------------------------------------------------------------
    def crash(self, uid: int) -> None:
        """Stop node ``uid``: it loses everything but its stable storage; its timers go."""
        self._check_uid(uid)
        if uid not in self._nodes:
            return
        self.actions.append(("crash", uid))
        del self._nodes[uid]
        for p in [p for p in self._pending.values() if p.kind == "Timer" and p.dst == uid]:
            del self._pending[p.id]
        self._emit("crash", uid, uid, {"type": "Crash"})

    def restart(self, uid: int, amnesia: bool = False) -> None:
        """Start node ``uid`` again from its stable storage (or without it: ``amnesia=True``).

        Amnesia keeps the role assignment (configuration) but loses the Paxos state
        an acceptor promised to remember: the lesson switch that breaks safety.
        """
        self._check_uid(uid)
        if uid in self._nodes:
            self.crash(uid)
        self.actions.append(("restart", uid, amnesia))
        storage = dict(self._storage.get(uid, {}))
        if amnesia:
            storage["paxos"] = {}
        self._nodes[uid] = self._make(uid, storage)
        self._emit("restart", uid, uid, {"type": "Restart", "amnesia": amnesia})
        self._record_state(uid)
        self._perform(uid, self._nodes[uid].start())

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut the network into ``groups``; nodes named in no group form one more group."""
        sets = [set(g) for g in groups]
        self.actions.append(("partition", *(tuple(sorted(g)) for g in sets)))
        self._groups = sets

    def heal(self) -> None:
        """Join all partitions again."""
        self.actions.append(("heal",))
        self._groups = None

    # -- reading the state -----------------------------------------------------------------
    def decided(self) -> dict[int, Value]:
        """What each client has been told: ``{client uid: value}``."""
        return {uid: n.role.decided for uid, n in self._nodes.items()
                if n.kind == "client" and n.role.decided is not None}

    def all_decided(self) -> bool:
        """True when every client has heard a decision."""
        clients = self.config.client_uids
        return bool(clients) and all(u in self.decided() for u in clients)

    def impossible(self) -> str | None:
        """Why no value can be chosen now, e.g. ``"no quorum: acceptors 2, 3 of 3 are down"``."""
        if not self.started:
            return None
        return blocked_reason(self.config, self.alive(), self.leader() is not None)

    def elected(self) -> bool:
        """True once a leader exists and every live node knows its role."""
        snaps = [self._snapshots.get(u, {}) for u in self._nodes]
        return self.leader() is not None and all(s.get("role") for s in snaps)

    def alive(self) -> dict[int, bool]:
        return {uid: uid in self._nodes for uid in self._all_uids()}

    def snapshot(self) -> dict[int, dict]:
        """Every node's state as plain data, with ``alive`` (crashed nodes: last known state)."""
        return {uid: {**self._snapshots.get(uid, {"uid": uid}), "alive": uid in self._nodes}
                for uid in self._all_uids()}

    @property
    def violations(self) -> list[Violation]:
        """Safety violations found so far (checked as every event happens)."""
        return self.monitor.violations

    def leader(self) -> int | None:
        """The elected leader's uid, once some node has won the election."""
        leaders = [s["leader"] for s in self._snapshots.values() if s.get("leader") is not None]
        return leaders[0] if leaders else None

    @classmethod
    def replay(cls, config: Config, actions: Iterable[tuple], seed: int = 0,
               impl: Mapping[str, type] | None = None) -> Simulation:
        """A new Simulation with ``actions`` (another run's ``actions``) applied in order.

        ``config`` may be the other run's current config: clients its ``propose``
        actions added are taken off first, so they are not added twice.
        """
        actions = list(actions)
        proposed = [tuple(a[1:3]) for a in actions if a[0] == "propose"]
        if proposed and list(config.clients[-len(proposed):]) == proposed:
            config = replace(config, clients=config.clients[:-len(proposed)])
        sim = cls(config, seed=seed, impl=impl)
        for name, *args in actions:
            getattr(sim, name)(*args)
        return sim

    # -- internals -------------------------------------------------------------------------
    def _all_uids(self) -> list[int]:
        return list(range(self.config.n_consensus + len(self.config.clients)))

    def _check_uid(self, uid: int) -> None:
        if uid not in self._all_uids():
            raise ValueError(f"uid {uid}: no such node (uids are 0..{len(self._all_uids()) - 1})")

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _get(self, mid: int) -> Pending:
        try:
            return self._pending[mid]
        except KeyError:
            raise KeyError(f"no pending message or timer #{mid}") from None

    def _take(self, mid: int) -> Pending:
        item = self._get(mid)
        del self._pending[mid]
        return item

    def _blocked(self, src: int, dst: int) -> bool:
        if self._groups is None:
            return False
        return self._group_of(src) != self._group_of(dst)

    def _group_of(self, uid: int) -> int:
        # Nodes named in no group (clients added later too) share one more group.
        return next((i for i, g in enumerate(self._groups) if uid in g), -1)

    def _arrive(self, item: Pending) -> None:
        if item.kind == "Timer":
            self._emit("timer", item.dst, item.dst, item.msg, id=item.id)
            node = self._nodes.get(item.dst)
            if node is not None:
                self._perform(item.dst, node.fire(item.msg.name))
            return
        node = self._nodes.get(item.dst)
        reason = "crashed" if node is None else ("partition" if self._blocked(item.src, item.dst)
                                                 else None)
        if reason:
            self._emit("drop", item.src, item.dst, item.msg, id=item.id, reason=reason)
            return
        self._emit("deliver", item.src, item.dst, item.msg, id=item.id)
        self._perform(item.dst, node.handle(item.src, item.msg))

    def _perform(self, uid: int, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, Send):
                item = Pending(self._new_id(), uid, e.dst, e.msg, self.now)
                self._pending[item.id] = item
                self._emit("send", uid, e.dst, e.msg, id=item.id)
            elif isinstance(e, Persist):
                self._storage[uid] = e.data
            elif isinstance(e, SetTimer):
                self._cancel_timer(uid, e.name)
                item = Pending(self._new_id(), uid, uid, Timer(e.name), self.now + e.delay)
                self._pending[item.id] = item
            elif isinstance(e, CancelTimer):
                self._cancel_timer(uid, e.name)
            elif isinstance(e, Decide):
                self._emit("decide", uid, uid, {"type": "Decided", "v": e.v, "n": e.n},
                           phase="3")
        self._record_state(uid)

    def _cancel_timer(self, uid: int, name: str) -> None:
        for p in list(self._pending.values()):
            if p.kind == "Timer" and p.dst == uid and p.msg.name == name:
                del self._pending[p.id]

    def _record_state(self, uid: int) -> None:
        node = self._nodes.get(uid)
        if node is None:
            return
        snap = node.snapshot()
        if snap != self._snapshots.get(uid):
            self._snapshots[uid] = snap
            self._emit("state", uid, None, {"type": "State", **snap}, phase=None)

    def _emit(self, kind: str, src: int, dst: int | None, msg: Message | dict,
              phase: str | None = "", **extra) -> None:
        body = msg.to_dict() if isinstance(msg, Message) else msg
        if phase == "":
            phase = msg.phase if isinstance(msg, Message) else None
        ev = {"seq": len(self.trace), "t": self.now, "kind": kind, "src": src, "dst": dst,
              "msg": body, "phase": phase, **extra}
        self.trace.append(ev)
        self.monitor.observe(ev)
