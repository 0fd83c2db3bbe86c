"""The ledger: what is in flight and what happened, the same for every driver.

``Ledger`` holds the pending items (messages in flight and nodes' timers, each with an
id handed out in order), the partition groups, the seeded link faults, the nodes'
last states and the trace, which every event enters through ``emit`` and the live
``SafetyMonitor``. ``Simulation`` keeps one; so does the controller's switch
(``net.switch``), which adds only what a socket needs (an item's envelope rides along
as its ``payload``). Because both drivers hand out ids, apply faults and record
events through this one class, the same script gives the same ids and trace on both.

Not thread-safe by itself: the switch calls it under its condition's lock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .core.invariants import SafetyMonitor
from .core.messages import PHASES, Message, Timer


@dataclass(frozen=True)
class Pending:
    """An item in flight: a message (``kind == "Message"``) or a node's timer (``"Timer"``)."""

    id: int
    src: int
    dst: int
    msg: Message
    due: float = 0.0
    kind: str = field(init=False, repr=False, compare=False)
    """``"Timer"`` or ``"Message"``, set once: every step sorts and filters pending items by it
    (a plain attribute: ``functools.cached_property`` takes a lock on every read in 3.11)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", "Timer" if isinstance(self.msg, Timer) else "Message")

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


@dataclass(frozen=True)
class LinkFaults:
    """Faults on a link: loss and duplication probabilities, delay range in ms, for the
    messages of ``phases`` (None: of every phase)."""

    loss: float = 0.0
    duplicate: float = 0.0
    delay: tuple[float, float] = (0.0, 0.0)
    phases: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.loss or self.duplicate or self.delay[1] > 0)


NO_FAULTS = LinkFaults()


def fault_setting(loss: float = 0.0, duplicate: float = 0.0,
                  delay: float | tuple[float, float] = 0.0,
                  links: Iterable[tuple[int, int]] | None = None,
                  phases: Iterable[str] | None = None) -> tuple[LinkFaults, list | None, tuple]:
    """``set_faults``' arguments checked: the LinkFaults, the links it is for (None: every
    link) and the action to record (a replay calls ``set_faults`` with its arguments)."""
    links = None if links is None else [tuple(link) for link in links]
    phases = None if phases is None else sorted(set(phases))
    spec = link_faults(loss, duplicate, delay, phases)
    return spec, links, ("set_faults", loss, duplicate, delay, links, phases)


def link_faults(loss: float = 0.0, duplicate: float = 0.0,
                delay: float | tuple[float, float] = 0.0,
                phases: Iterable[str] | None = None) -> LinkFaults:
    """The faults of one link, checked (a ValueError in one sentence)."""
    if phases is not None:
        phases = frozenset(phases)
        unknown = sorted(phases - set(PHASES))
        if unknown:
            raise ValueError(f"phases: {', '.join(map(repr, unknown))} is not a phase "
                             f"(phases: {', '.join(PHASES)})")
    for name, p in (("loss", loss), ("duplicate", duplicate)):
        if not 0 <= p <= 1:
            raise ValueError(f"{name}={p!r}: must be a probability from 0 to 1")
    lo, hi = (delay, delay) if isinstance(delay, (int, float)) else delay
    if not 0 <= lo <= hi:
        raise ValueError(f"delay={delay!r}: must be ms >= 0 or (low, high) with low <= high")
    return LinkFaults(loss, duplicate, (float(lo), float(hi)), phases)


class Ledger:
    """Pending items, partitions, faults, states and the trace of one run.

    ``clock()`` gives the time in ms that deadlines count in: without a ``clock``
    function, the virtual time ``now`` that its driver moves (a Simulation's); the
    switch passes its own (virtual in step mode, real in run mode). ``stamp()`` gives
    the trace's ``t`` (default: ``clock()``). ``seed`` seeds the link faults.
    """

    def __init__(self, clock: Callable[[], float] | None = None, seed: int = 0,
                 stamp: Callable[[], float] | None = None):
        # No function that refers back to the Simulation: a cycle would leave every
        # finished run (and its whole trace) to the garbage collector, which then
        # costs a property test's thousand runs a fifth of their time.
        self.now = 0.0
        self._clock = clock
        self._stamp = stamp or clock
        self.pending: dict[int, Pending] = {}
        self.payloads: dict[int, Any] = {}
        self.trace: list[dict[str, Any]] = []
        self.monitor = SafetyMonitor()
        self.snapshots: dict[int, dict] = {}
        self.groups: list[set[int]] | None = None
        self.faults: dict[tuple[int, int] | None, LinkFaults] = {}
        self.rng = random.Random(seed)
        self._next_id = 1
        self._messages = 0  # how many pending items are messages: in_flight() on every step

    def clock(self) -> float:
        return self.now if self._clock is None else self._clock()

    def stamp(self) -> float:
        return self.now if self._stamp is None else self._stamp()

    # -- pending items ------------------------------------------------------------------------
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def get(self, mid: int) -> Pending:
        try:
            return self.pending[mid]
        except KeyError:
            raise KeyError(f"no pending message or timer #{mid}") from None

    def take(self, mid: int) -> tuple[Pending, Any]:
        """Remove pending item ``mid``; returns it and its payload (None if it has none)."""
        item = self.get(mid)
        del self.pending[mid]
        if item.kind == "Message":
            self._messages -= 1
        return item, self.payloads.pop(mid, None)

    def hold(self, item: Pending, payload: Any = None) -> None:
        """Keep message ``item`` pending (with ``payload``, e.g. its envelope)."""
        self.pending[item.id] = item
        self._messages += 1
        if payload is not None:
            self.payloads[item.id] = payload

    def delay(self, mid: int, by: float) -> Pending:
        """Make item ``mid`` due ``by`` ms from now."""
        later = replace(self.get(mid), due=self.clock() + by)
        self.pending[mid] = later
        return later

    def duplicate(self, mid: int) -> Pending:
        """A second copy of message ``mid``, pending under a new id (with the same payload)."""
        item = self.get(mid)
        if item.kind == "Timer":
            raise ValueError(f"#{mid} is a timer; only messages can be duplicated")
        copy = replace(item, id=self.new_id())
        self.hold(copy, self.payloads.get(mid))
        self.emit("duplicate", copy.src, copy.dst, copy.msg, id=copy.id, of=mid)
        return copy

    def send(self, src: int, dst: int, msg: Message) -> Pending:
        """A message just sent: a new id and a ``send`` event (not yet pending: see ``fate``)."""
        item = Pending(self.new_id(), src, dst, msg, self.clock())
        self.emit("send", src, dst, msg, id=item.id)
        return item

    def post(self, src: int, dst: int, msg: Message) -> None:
        """``send``, then hold every copy its ``fate`` leaves (a Simulation's every send)."""
        for copy in self.fate(self.send(src, dst, msg)):
            self.hold(copy)

    def shift(self, by: float) -> None:
        """Move every deadline ``by`` ms (when the clock deadlines count in changes)."""
        self.pending = {mid: replace(p, due=p.due + by) for mid, p in self.pending.items()}

    def in_flight(self) -> bool:
        """Whether any pending item is a message."""
        return self._messages > 0

    def timers(self, uid: int) -> list[Pending]:
        return [p for p in self.pending.values() if p.kind == "Timer" and p.dst == uid]

    def set_timer(self, uid: int, name: str, delay: float) -> Pending:
        """Node ``uid`` (re)arms timer ``name``, due ``delay`` ms from now."""
        self.cancel_timers(uid, name)
        item = Pending(self.new_id(), uid, uid, Timer(name), self.clock() + delay)
        self.pending[item.id] = item
        return item

    def cancel_timers(self, uid: int, name: str | None = None) -> None:
        """Forget ``uid``'s pending timer ``name`` (every one of its timers if None)."""
        for p in self.timers(uid):
            if name is None or p.msg.name == name:
                del self.pending[p.id]

    # -- partitions and faults ----------------------------------------------------------------
    def partition(self, groups: Iterable[Iterable[int]] | None) -> None:
        """Cut the network into ``groups`` (None heals); nodes in no group form one more."""
        self.groups = None if groups is None else [set(g) for g in groups]

    def blocked(self, src: int, dst: int) -> bool:
        """Whether a partition separates ``src`` from ``dst``."""
        return self.groups is not None and self._group_of(src) != self._group_of(dst)

    def _group_of(self, uid: int) -> int:
        # Nodes named in no group (clients added later too) share one more group.
        return next((i for i, g in enumerate(self.groups) if uid in g), -1)

    def set_faults(self, spec: LinkFaults, links: Iterable[tuple[int, int]] | None) -> None:
        """Replace the faults of ``links`` (of every link if None) by ``spec``."""
        if links is None:
            self.faults.clear()  # and none kept if inactive: fate's no-fault path is one test
        for link in (None,) if links is None else links:
            if link is not None or spec.active:
                self.faults[None if link is None else tuple(link)] = spec

    def faulty(self) -> bool:
        """Whether any link has a fault to apply."""
        return any(f.active for f in self.faults.values())

    def fate(self, item: Pending) -> list[Pending]:
        """Apply the link's seeded faults to a message just sent: the copies to hold or send.

        Lost: a ``drop`` event and no copy. Duplicated: a ``duplicate`` event and a second
        copy. Delayed: a copy's ``due`` is later than now.
        """
        if not self.faults:
            return [item]
        f = self.faults.get((item.src, item.dst), self.faults.get(None, NO_FAULTS))
        if f.phases is not None and item.msg.phase not in f.phases:
            f = NO_FAULTS
        if f.loss and self.rng.random() < f.loss:
            self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="lost")
            return []
        copies = [item]
        if f.duplicate and self.rng.random() < f.duplicate:
            copy = replace(item, id=self.new_id())
            self.emit("duplicate", copy.src, copy.dst, copy.msg, id=copy.id, of=item.id)
            copies.append(copy)
        lo, hi = f.delay
        if hi > 0:
            copies = [replace(c, due=self.clock() + self.rng.uniform(lo, hi)) for c in copies]
        return copies

    # -- the trace and states -----------------------------------------------------------------
    def emit(self, kind: str, src: int, dst: int | None, msg: Message | dict,
             phase: str | None = "", **extra) -> dict:
        """Record one trace event and check it for safety."""
        if isinstance(msg, Message):
            body, phase = msg.to_dict(), msg.phase if phase == "" else phase
        else:
            body, phase = msg, None if phase == "" else phase
        ev = {"seq": len(self.trace), "t": self.stamp(), "kind": kind, "src": src, "dst": dst,
              "msg": body, "phase": phase}
        if extra:
            ev.update(extra)
        self.trace.append(ev)
        self.monitor.observe(ev)
        return ev

    def record_state(self, uid: int, snapshot: dict) -> None:
        """Record ``uid``'s state, with a ``state`` event if it changed."""
        if snapshot != self.snapshots.get(uid):
            self.snapshots[uid] = snapshot
            self.emit("state", uid, None, {"type": "State", **snapshot}, phase=None)
