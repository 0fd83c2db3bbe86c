"""The controller's switch: the one UDP socket every node sends to, and what it knows.

Every node sends each protocol datagram (a signed envelope naming ``dst``) and each
control report to the switch. Its parts, one job each:

- ``datagrams.DatagramThread``: the socket and the thread reading it;
- ``ledger.Ledger`` (driver-neutral, shared with ``Simulation``): pending items and
  their ids, partitions, seeded link faults, the nodes' states, the trace and its live
  ``SafetyMonitor``;
- ``routing.Router``: a sent message's faults, then hold it (step mode, or delayed) or
  forward it (run mode), re-signed with the switch's own counter;
- ``reports.Reports`` (mixed in) and ``causal.CausalOrder``: node reports acted on in
  causal order (peer-link copies, timers, decisions, ``done``);
- this module: who the node processes are (``Peer``: address, counter, incarnation),
  accepting a datagram, forwarding one, and the public methods ``Cluster`` uses.

A peer-link ``copy`` (the sender sent the message straight to its peer, which nodes do
in run mode while ``direct_ok()``) is recorded as sent and delivered, or dropped if the
peer is down, and not forwarded. Nothing is released on a timeout, so the trace's list
order is causal whatever the load; ``t`` is for display only (docs/trace.md, "Causal
order of the trace"). Everything is guarded by ``cond`` (re-entrant), which the
controller also uses to wait for conditions.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.codec import BadMessage, Envelope, decode, encode
from ..core.invariants import Violation
from ..core.messages import Message
from ..ledger import Ledger, LinkFaults, Pending, pending_order
from .causal import CausalOrder
from .control import MAGIC as CONTROL_MAGIC
from .control import control_key, decode_control, reason_category
from .datagrams import DatagramThread
from .reports import SYNC_RESEND, Reports
from .routing import Router

MODES = ("run", "step")


@dataclass
class Peer:
    """What the switch knows about one node process (one incarnation of a uid)."""

    uid: int
    nonce: str
    addr: tuple[str, int] | None = None
    last_seq: int = 0
    inc: int = 0  # which incarnation of the uid: causal order names processes by it
    alive: bool = True
    pid: int = 0
    hello: dict | None = None
    done: dict[str, int] = field(default_factory=lambda: {"msg": 0, "cmd": 0, "timer": 0})


class Switch(Reports):
    """The controller's UDP switch on ``host`` port 0, with its own receiving thread."""

    def __init__(self, key: bytes, mode: str = "run", seed: int = 0, host: str = "127.0.0.1"):
        self.key = key
        self.ckey = control_key(key)
        self._mode = mode
        self.cond = threading.Condition()
        self._t0 = time.monotonic()
        self._virtual = 0.0  # step mode's clock (ms), as a Simulation's ``now``
        self.ledger = Ledger(self.clock, seed, stamp=lambda: round(self.now(), 3))
        self.peers: dict[int, Peer] = {}
        self.retired: set[tuple[str, int]] = set()
        self.bad: Counter = Counter()
        self.routes: Counter = Counter()  # how messages travelled: "switch" or "peer link"
        self.node_counts: dict[tuple[int, str], dict[str, int]] = {}
        self._out_seq = 0
        self.order = CausalOrder()
        self.ask_sync: Callable[[int], None] | None = None  # asks a node's process to sync
        self._healed, self._heal_after = 0, 0.0  # overflow losses answered by a sync round
        self._asked: dict[int, float] = {}  # incarnation -> when to ask it again
        self._incs: dict[int, Peer] = {}
        # Looked up per datagram: a test stands in for a lossy socket by replacing ``receive``.
        self.io = DatagramThread(host, lambda data, addr: self.receive(data, addr), self.count,
                                 self._notify, self._tick, self._next_timeout)
        self.address = self.io.address
        self.router = Router(self.ledger, self.transmit, self.io.wake)
        self.io.start()

    # -- the thread's callbacks --------------------------------------------------------------
    def _notify(self) -> None:
        with self.cond:  # once a batch, not once an event: waiters re-check then
            self.cond.notify_all()

    def _tick(self) -> None:
        with self.cond:
            if self._mode == "run":
                self.router.release_due()
            self.cond.notify_all()
        self._ask()
        self._heal_overflow()

    def _heal_overflow(self) -> None:
        """After the socket's full buffer lost datagrams, ask every node for a ``sync``.

        What was lost may be reports nothing else brings back: a node's last state, a
        client's decision, a ``done``. Each answer carries the node's state and what it
        finished, so the controller's view heals. Asked again (at most every
        ``SYNC_RESEND`` s) while the losses go on, once more after the last.
        """
        lost, now = self.io.dropped(), time.monotonic()
        if lost == self._healed or now < self._heal_after:
            return
        self._healed, self._heal_after = lost, now + SYNC_RESEND
        with self.cond:
            uids = [uid for uid, p in self.peers.items() if p.alive and p.addr is not None]
        for uid in uids:  # outside the lock: it writes to pipes
            if self.ask_sync is not None:
                self.ask_sync(uid)

    def _next_timeout(self) -> float | None:
        with self.cond:
            waits = [at - time.monotonic() for at in self._asked.values()]
            if self.io.dropped() != self._healed:  # a heal round is owed
                waits.append(self._heal_after - time.monotonic())
            due = self.router.next_due()
            if self._mode == "run" and due is not None:
                waits.append((due - self.clock()) / 1000)
            return max(0.0, min(waits)) if waits else None

    def wake(self) -> None:
        """Make the thread re-check due deliveries and the sync questions it owes."""
        self.io.wake()

    # -- accepting datagrams -----------------------------------------------------------------
    def receive(self, data: bytes, addr: tuple[str, int]) -> None:
        """Handle one datagram from a node (or from anyone else: then drop and count it)."""
        if data.startswith(CONTROL_MAGIC):
            try:
                src, seq, ctl = decode_control(data, self.ckey)
            except BadMessage as exc:
                return self.count(reason_category(exc.reason))
            with self.cond:
                self._on_control(src, seq, ctl, addr)
            return
        try:
            env = decode(data, self.key)
        except BadMessage as exc:
            return self.count(reason_category(exc.reason))
        with self.cond:
            if self._accept(env.src, env.seq, addr):
                self._in_order(env.src, env.seq, lambda skip: self._on_send(env))

    def count(self, reason: str) -> None:
        with self.cond:
            self.bad[reason] += 1

    def _accept(self, src: int, seq: int, addr: tuple[str, int]) -> bool:
        peer = self.peers.get(src)
        if addr in self.retired:
            return False  # a crashed process's last datagrams, still in the socket buffer
        if peer is None or peer.addr != addr:
            self.count("unknown sender")
            return False
        if seq <= peer.last_seq:
            self.count("replayed")
            return False
        peer.last_seq = seq
        return True

    def _on_send(self, env: Envelope) -> None:
        self.router.route(self.ledger.send(env.src, env.dst, env.msg), env, self._mode)

    def transmit(self, item: Pending, env: Envelope) -> int | None:
        """Forward ``item`` now (or drop it: dead node, partition); returns the switch counter.

        The node's ``done`` for this input carries the same counter as its ``ref``.
        """
        with self.cond:
            peer = self.peers.get(item.dst)
            if peer is None or not peer.alive or peer.addr is None:
                self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="crashed")
                return None
            if self.ledger.blocked(item.src, item.dst):
                self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="partition")
                return None
            self.emit("deliver", item.src, item.dst, item.msg, id=item.id)
            self._out_seq += 1
            self.routes["switch"] += 1
            self.io.sendto(encode(Envelope(item.src, item.dst, env.msg, self._out_seq), self.key),
                           peer.addr)
            return self._out_seq

    # -- the controller's operations (Cluster uses these, and nothing else) ------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """``"step"``: hold every message from now on; ``"run"``: forward held ready ones too.

        Deadlines count in virtual ms in step mode (``clock``); going back to run mode
        moves them onto the real clock, keeping how far away each one is.
        """
        with self.cond:
            if mode == self._mode:
                return
            if mode == "step":
                self._virtual = self.now()
            else:
                self.router.shift(self.now() - self._virtual)
            self._mode = mode
            if mode == "run":
                self.router.release_ready()
        self.wake()

    def start_clock(self) -> None:
        """Count the trace's ``t`` (and deadlines) from now: the cluster starts."""
        with self.cond:
            self._t0 = time.monotonic()
            self._virtual = 0.0

    def now(self) -> float:
        """Real milliseconds since the cluster started (the trace's ``t``)."""
        return (time.monotonic() - self._t0) * 1000

    def clock(self) -> float:
        """The ms deadlines count in: real in run mode; in step mode virtual, moved on only
        by ``advance_to`` (as a Simulation's clock), so the same steps give the same
        deadlines, and ``step()`` the same choices, as in a Simulation."""
        return self.now() if self._mode == "run" else self._virtual

    def advance_to(self, t: float) -> None:
        """Step mode: move the virtual clock on to ``t`` ms (never back)."""
        with self.cond:
            self._virtual = max(self._virtual, t)

    def pending(self) -> list[Pending]:
        """The held messages, oldest first, then the nodes' timers, soonest first."""
        with self.cond:
            return pending_order(self.ledger.pending.values())

    def in_flight(self) -> bool:
        with self.cond:
            return self.ledger.in_flight()

    def get(self, mid: int) -> Pending:
        with self.cond:
            return self.ledger.get(mid)

    def deliver(self, mid: int, latency: float = 1.0) -> tuple[Pending, int | None]:
        """Take pending item ``mid`` and forward it (a timer: record that it fires); in step
        mode the virtual clock moves on ``latency`` ms first, as a Simulation's does.

        Returns the item and the switch counter its ``done`` will carry (None for a timer,
        or for a message dropped because its node is down or cut off).
        """
        with self.cond:
            item, env = self.ledger.take(mid)
            if self._mode == "step":
                self._virtual += latency
            if item.kind == "Timer":
                self.emit("timer", item.dst, item.dst, item.msg, id=item.id)
                return item, None
            return item, self.transmit(item, env)

    def drop(self, mid: int) -> Pending:
        """Take pending item ``mid`` and record it as dropped."""
        with self.cond:
            item, _ = self.ledger.take(mid)
            self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="dropped")
            return item

    def duplicate(self, mid: int) -> Pending:
        with self.cond:
            return self.ledger.duplicate(mid)

    def delay(self, mid: int, by: float) -> Pending:
        with self.cond:
            return self.router.delay(mid, by)

    def timers(self, uid: int) -> list[Pending]:
        with self.cond:
            return self.ledger.timers(uid)

    def cancel_timers(self, uid: int, name: str | None = None) -> None:
        """Forget ``uid``'s pending timer ``name`` (every one of its timers if None)."""
        with self.cond:
            self.ledger.cancel_timers(uid, name)

    def partition(self, groups: Iterable[Iterable[int]] | None) -> None:
        with self.cond:
            self.ledger.partition(groups)

    def set_faults(self, spec: LinkFaults, links: Iterable[tuple[int, int]] | None) -> None:
        with self.cond:
            self.ledger.set_faults(spec, links)

    def direct_ok(self) -> bool:
        """Whether nodes may use peer links: no partition and no link faults to apply."""
        with self.cond:
            return self.ledger.groups is None and not self.ledger.faulty()

    def snapshots(self) -> dict[int, dict]:
        """Each node's last reported state."""
        with self.cond:
            return dict(self.ledger.snapshots)

    @property
    def trace(self) -> list[dict[str, Any]]:
        """A new list of the trace events so far."""
        with self.cond:
            return list(self.ledger.trace)

    def violations(self) -> list[Violation]:
        with self.cond:
            return list(self.ledger.monitor.violations)

    def peer_table(self, uids: Iterable[int]) -> list[list]:
        """``[[uid, host, port], ...]`` for those of ``uids`` whose address is known."""
        with self.cond:
            return [[uid, *self.peers[uid].addr] for uid in sorted(uids)
                    if uid in self.peers and self.peers[uid].addr is not None]

    # -- peers -------------------------------------------------------------------------------
    def expect(self, uid: int, nonce: str) -> Peer:
        """A process for ``uid`` is starting; only a hello with ``nonce`` may claim the uid."""
        with self.cond:
            old = self.peers.get(uid)
            if old is not None and old.addr is not None:
                self.retired.add(old.addr)
            if old is not None and old.alive:
                self._act(self.order.mark_dead(old.inc))  # replaced: nothing more comes from it
            peer = self.peers[uid] = Peer(uid, nonce, inc=len(self._incs) + 1)
            self._incs[peer.inc] = peer
            return peer

    def mark_dead(self, uid: int) -> None:
        with self.cond:
            peer = self.peers.get(uid)
            if peer is not None:
                peer.alive = False
                if peer.addr is not None:
                    self.retired.add(peer.addr)
                self._act(self.order.mark_dead(peer.inc))  # what waited for it goes on
            self.wake()  # the batches released may wait for other causes: ask for those

    # -- the trace -----------------------------------------------------------------------------
    def emit(self, kind: str, src: int, dst: int | None, msg: Message | dict,
             phase: str | None = "", **extra) -> dict:
        """Record one trace event (Simulation's schema) and check it for safety."""
        with self.cond:
            return self.ledger.emit(kind, src, dst, msg, phase, **extra)

    def record_state(self, uid: int, snapshot: dict) -> None:
        """Record ``uid``'s state, with a ``state`` event if it changed."""
        with self.cond:
            self.ledger.record_state(uid, snapshot)

    # -- waiting and stats -------------------------------------------------------------------
    def wait(self, predicate: Callable[[], bool], timeout: float,
             check: Callable[[], None] | None = None) -> bool:
        """Wait until ``predicate()`` holds (True) or ``timeout`` s pass (False).

        The thread wakes the waiters after each batch of datagrams; the wait also
        re-checks every 0.1 s, running ``check`` (which may raise) to notice what sends
        no datagram, such as a process that died, or a change made by another thread.
        """
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.1))
                if self.io.dropped() != self._healed:
                    self.io.wake()  # lost reports: the thread asks for a sync round
                if check:
                    check()
            return True

    def stats(self) -> dict[str, Any]:
        """Bad datagrams dropped, by reason: at the switch, at each node, and in total.

        Also ``routes``: messages delivered through the switch and over peer links; and
        ``overflow``: datagrams to the switch its full socket buffer lost (healed by a
        ``sync`` round, ``_heal_overflow``).
        """
        with self.cond:
            nodes: dict[int, Counter] = {}
            for (uid, _), counts in sorted(self.node_counts.items()):
                nodes.setdefault(uid, Counter()).update(counts)
            total = Counter(self.bad)
            for c in nodes.values():
                total.update(c)
            return {"switch": dict(self.bad), "nodes": {u: dict(c) for u, c in nodes.items()},
                    "by_reason": dict(total), "total": sum(total.values()),
                    "routes": {"switch": self.routes["switch"],
                               "peer link": self.routes["peer link"]},
                    "overflow": self.io.dropped()}

    def close(self) -> None:
        """Stop the thread and close the socket (idempotent)."""
        self.io.close()
