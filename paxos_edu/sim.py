"""Simulation: the deterministic in-process driver over the same ``core`` nodes.

The network is a set of pending items (``ledger.Ledger``): messages in flight and
timers. Nothing moves until you say so: ``deliver(id)``, ``drop(id)``,
``duplicate(id)``, ``delay(id)``, or ``step()``/``run()``, which take the oldest ready
message (``order="random"``: a seeded random one). Time is virtual (milliseconds):
each delivery takes one ``latency``; when no message is ready, the earliest timer (or
delayed message) fires and the clock jumps to its deadline. ``set_faults`` loses,
duplicates and delays messages as they are sent, seeded by ``seed``. The same seed and
the same calls give the same trace, event for event.

Every API call is recorded in ``actions`` so a run can be replayed
(``Simulation.replay``) or forked at any point, which is how the dashboard's
time travel works. The surface is ``driver.Driver``'s, shared with ``Cluster``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import driver
from .core.config import Config, blocked_reason
from .core.invariants import SafetyMonitor, Violation
from .core.messages import Message, Value
from .core.node import make_node
from .driver import RunResult, Until
from .ledger import Ledger, Pending, fault_setting, pending_order
from .net.perform import perform

__all__ = ["Pending", "RunResult", "Simulation", "pending_order"]


class Simulation(driver.DriverBase):
    """Run a configuration in-process, deterministically, with every fault at hand.

    ``impl`` replaces role classes (``{"acceptor": MyAcceptor}``) for exercises and
    for the deliberately broken variants the tests use.
    """

    mode = "step"
    """Always step mode: nothing moves until a call says so (``Cluster.mode``'s meaning)."""
    realtime = False
    """Nodes move only when stepped; the past can be rebuilt exactly (``driver.py``)."""
    closed = False
    """Never closed: ``close()`` has nothing to release and the run stays usable."""

    def __init__(self, config: Config | None = None, seed: int = 0,
                 impl: Mapping[str, type] | None = None, latency: float = 1.0):
        self.config = config or Config()
        self.seed = seed
        self.impl = dict(impl or {})
        self.latency = latency
        self.rng = random.Random(seed)  # order="random" steps; the faults have their own
        self.actions: list[tuple] = []
        self.started = False
        self.ledger = Ledger(seed=seed)
        self._nodes: dict[int, Any] = {}
        self._storage: dict[int, dict] = {}
        self._sinks: dict[int, _Sink] = {}

    @property
    def now(self) -> float:
        """The virtual time in ms (the ledger's clock): each delivery takes one ``latency``."""
        return self.ledger.now

    @now.setter
    def now(self, t: float) -> None:
        self.ledger.now = t

    # -- lifecycle (nothing to release: Driver's names, so a lesson can switch drivers) ------
    def close(self) -> None:
        """Nothing to stop: a Simulation holds no process or socket."""

    def pause(self) -> None:
        """Nothing to do: a Simulation is always in step mode."""

    def resume(self) -> None:
        """Nothing to do: a Simulation has no run mode to go back to."""

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
        return pending_order(self.ledger.pending.values())

    def in_flight(self) -> bool:
        """Whether any message is in flight (pending, delayed or not)."""
        return self.ledger.in_flight()

    def deliver(self, mid: int) -> Pending:
        """Deliver message ``mid`` (or fire timer ``mid``) now."""
        item, _ = self.ledger.take(mid)
        self.actions.append(("deliver", mid))
        self.ledger.now += self.latency
        self._arrive(item)
        return item

    def drop(self, mid: int) -> Pending:
        """Lose message ``mid`` (or cancel timer ``mid``): it is never delivered."""
        item, _ = self.ledger.take(mid)
        self.actions.append(("drop", mid))
        self.ledger.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="dropped")
        return item

    def duplicate(self, mid: int) -> Pending:
        """Put a second copy of message ``mid`` in flight; returns the copy."""
        copy = self.ledger.duplicate(mid)
        self.actions.append(("duplicate", mid))
        return copy

    def delay(self, mid: int, by: float | None = None) -> Pending:
        """Hold message ``mid`` back ``by`` ms (default: one proposer timeout)."""
        self.ledger.get(mid)
        self.actions.append(("delay", mid, by))
        return self.ledger.delay(mid, self.config.timeout if by is None else by)

    def next_item(self, order: str = "oldest") -> Pending | None:
        """What ``step(order)`` would deliver next (see ``driver``: the one step policy)."""
        return driver.next_item(self.ledger.pending.values(), self.ledger.now, order, self.rng)

    def step(self, order: str = "oldest") -> Pending | None:
        """Deliver the oldest ready message (or a random one), else the earliest due item."""
        item = self.next_item(order)
        if item is None:
            return None
        if item.due - self.latency > self.ledger.now:
            self._advance_to(item.due - self.latency)
        return self.deliver(item.id)

    def _advance_to(self, t: float) -> None:
        # Recorded so that a replay's clock (and so its timers' deadlines) match.
        self.actions.append(("_advance_to", t))
        self.now = max(self.now, t)

    def run(self, until: Until = "decided", timeout: float = 10.0, max_steps: int = 10_000,
            order: str = "oldest") -> RunResult:
        """Step until ``until`` holds (``"decided"``, ``"elected"``, None: nothing pending, or a
        function of the simulation), for at most ``max_steps`` steps and ``timeout`` s.

        Stops early once nothing is pending, or a decision is impossible and no message
        is in flight; the result's ``status`` says which (``driver.run_steps``).
        """
        return driver.run_steps(self, until, timeout, max_steps, order)

    def wait_for(self, predicate: Callable[[Simulation], bool], timeout: float = 5.0) -> bool:
        """Step (oldest first) until ``predicate(sim)`` holds (True) or nothing is pending."""
        return driver.wait_steps(self, predicate, timeout)

    # -- faults --------------------------------------------------------------------------
    def crash(self, uid: int) -> None:
        """Stop node ``uid``: it loses everything but its stable storage; its timers go."""
        self._check_uid(uid)
        if uid not in self._nodes:
            return
        self.actions.append(("crash", uid))
        del self._nodes[uid]
        self.ledger.cancel_timers(uid)
        self.ledger.emit("crash", uid, uid, {"type": "Crash"})

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
        self.ledger.emit("restart", uid, uid, {"type": "Restart", "amnesia": amnesia})
        self._record_state(uid)
        self._perform(uid, self._nodes[uid].start())

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut the network into ``groups``; nodes named in no group form one more group."""
        sets = [set(g) for g in groups]
        self.actions.append(("partition", *(tuple(sorted(g)) for g in sets)))
        self.ledger.partition(sets)

    def heal(self) -> None:
        """Join all partitions again."""
        self.actions.append(("heal",))
        self.ledger.partition(None)

    def set_faults(self, loss: float = 0.0, duplicate: float = 0.0,
                   delay: float | tuple[float, float] = 0.0,
                   links: Iterable[tuple[int, int]] | None = None,
                   phases: Iterable[str] | None = None) -> None:
        """Faults for the messages sent from now on, seeded by ``seed`` (as ``Cluster``'s).

        Loss and duplication probabilities; ``delay`` in ms, fixed or ``(low, high)``;
        ``links`` limits them to those ``(src, dst)`` pairs (default: every link),
        ``phases`` to the messages of those phases, e.g. ``PAXOS_PHASES`` to spare the
        election. A call replaces the faults of the links it names (without ``links``:
        of every link, so ``set_faults()`` ends every fault).
        """
        spec, links, action = fault_setting(loss, duplicate, delay, links, phases)
        self.actions.append(action)
        self.ledger.set_faults(spec, links)

    # -- reading the state -----------------------------------------------------------------
    def decided(self) -> dict[int, Value]:
        """What each client has been told: ``{client uid: value}``."""
        return {uid: n.role.decided for uid, n in self._nodes.items()
                if n.kind == "client" and n.role.decided is not None}

    def impossible(self) -> str | None:
        """Why no value can be chosen now, e.g. ``"no quorum: acceptors 2, 3 of 3 are down"``."""
        if not self.started:
            return None
        return blocked_reason(self.config, self.alive(), self.leader() is not None)

    def elected(self) -> bool:
        """True once a leader exists and every live node knows its role (a client: its proposer)."""
        snaps = self.ledger.snapshots
        return self.leader() is not None and all(driver.knows_role(snaps.get(u, {}))
                                                 for u in self._nodes)

    def alive(self) -> dict[int, bool]:
        """Which nodes run: ``{uid: bool}``."""
        return {uid: uid in self._nodes for uid in self._all_uids()}

    def snapshot(self) -> dict[int, dict]:
        """Every node's state as plain data, with ``alive`` (crashed nodes: last known state)."""
        snaps = self.ledger.snapshots
        return {uid: {**snaps.get(uid, {"uid": uid}), "alive": uid in self._nodes}
                for uid in self._all_uids()}

    @property
    def trace(self) -> list[dict[str, Any]]:
        """A new list of the trace events so far (the events themselves are shared)."""
        return list(self.ledger.trace)

    @property
    def monitor(self) -> SafetyMonitor:
        """The live safety monitor every event goes through."""
        return self.ledger.monitor

    @property
    def violations(self) -> list[Violation]:
        """Safety violations found so far (checked as every event happens)."""
        return list(self.ledger.monitor.violations)

    def leader(self) -> int | None:
        """The elected leader's uid, once some node has won the election."""
        return driver.leader_of(self.ledger.snapshots.values())

    @classmethod
    def replay(cls, config: Config, actions: Iterable[tuple], seed: int = 0,
               impl: Mapping[str, type] | None = None) -> Simulation:
        """A new Simulation with ``actions`` (another run's ``actions``) applied in order.

        ``config`` may be the other run's current config: clients its ``propose``
        actions added are taken off first, so they are not added twice.
        """
        actions = list(actions)
        sim = cls(driver.replay_config(config, actions), seed=seed, impl=impl)
        driver.apply(sim, actions)
        return sim

    # -- internals -------------------------------------------------------------------------
    def _arrive(self, item: Pending) -> None:
        emit = self.ledger.emit
        if item.kind == "Timer":
            emit("timer", item.dst, item.dst, item.msg, id=item.id)
            node = self._nodes.get(item.dst)
            if node is not None:
                self._perform(item.dst, node.fire(item.msg.name))
            return
        node = self._nodes.get(item.dst)
        reason = "crashed" if node is None else (
            "partition" if self.ledger.blocked(item.src, item.dst) else None)
        if reason:
            emit("drop", item.src, item.dst, item.msg, id=item.id, reason=reason)
            return
        emit("deliver", item.src, item.dst, item.msg, id=item.id)
        self._perform(item.dst, node.handle(item.src, item.msg))

    def _perform(self, uid: int, effects) -> None:
        sink = self._sinks.get(uid)
        if sink is None:
            sink = self._sinks[uid] = _Sink(self.ledger, self._storage, uid)
        perform(effects, sink)
        self._record_state(uid)

    def _record_state(self, uid: int) -> None:
        node = self._nodes.get(uid)
        if node is not None:
            self.ledger.record_state(uid, node.snapshot())


class _Sink:
    """Where node ``uid``'s effects go in a Simulation: the ledger and the storage dict.

    Not the Simulation itself: a sink it keeps must not refer back to it (see ``Ledger``).
    """

    __slots__ = ("ledger", "storage", "uid")

    def __init__(self, ledger: Ledger, storage: dict[int, dict], uid: int):
        self.ledger, self.storage, self.uid = ledger, storage, uid

    def send(self, dst: int, msg: Message) -> None:
        self.ledger.post(self.uid, dst, msg)

    def persist(self, data: dict[str, Any]) -> None:
        self.storage[self.uid] = data

    def set_timer(self, name: str, delay: float) -> None:
        self.ledger.set_timer(self.uid, name, delay)

    def cancel_timer(self, name: str) -> None:
        self.ledger.cancel_timers(self.uid, name)

    def decide(self, v: Value, n: int) -> None:
        self.ledger.emit("decide", self.uid, self.uid, {"type": "Decided", "v": v, "n": n},
                         phase="3")
