"""The controller's switch: the one UDP socket every node sends to, the trace, the pending items.

Every node sends each protocol datagram (a signed envelope naming ``dst``) and each
control report to the switch. A background thread receives them, verifies them
(``core.codec.decode`` / ``control.decode_control``), checks the sender's address and
counter, and records a ``send`` trace event. Then:

- in ``"run"`` mode it forwards the message at once, re-signed with the switch's own
  counter, unless a fault (seeded loss, duplication, delay per link) or a partition
  says otherwise, recording ``deliver``, ``drop`` or ``duplicate``;
- in ``"step"`` mode it holds the message as a pending item until the controller
  delivers, drops, duplicates or delays it;
- a peer-link ``copy`` (the sender sent the message straight to its peer, which nodes
  do in run mode while ``direct_ok()``) is recorded as sent and delivered, or dropped
  if the peer is down, and not forwarded.

Causal order: a node's ``batch`` names its ``cause`` (the peer-link message it handled)
and carries that message's envelope (``recv``). ``causal.CausalOrder`` decides when each
accepted datagram is acted on: a batch (and its node's later datagrams) waits until the
cause's copy is recorded, or its sender is dead, or its sender's answer to a ``sync``
question (asked through ``ask_sync``, re-asked every ``SYNC_RESEND`` s until answered)
proves the copy lost; then the cause is recorded from the receiver's envelope, marked
``reported_by: "receiver"`` with the ``reason`` (the handlers: ``reports``). Nothing
is released on a timeout, so the trace's list order is causal whatever the load; ``t``
is for display only. See docs/trace.md, "Causal order of the trace".

Trace events have exactly ``Simulation.trace``'s schema and go through a
``SafetyMonitor`` as they are recorded. Everything here is guarded by ``cond``
(re-entrant), which the controller also uses to wait for conditions.
"""

from __future__ import annotations

import contextlib
import heapq
import random
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.codec import BadMessage, Envelope, decode, encode
from ..core.invariants import SafetyMonitor
from ..core.messages import Message
from ..sim import Pending
from .causal import CausalOrder
from .control import MAGIC as CONTROL_MAGIC
from .control import control_key, decode_control, reason_category
from .reports import Reports

RCVBUF = 4 << 20
DRAIN_BATCH = 500
"""Datagrams read per wake-up before due deliveries get a turn (a flood cannot starve them)."""


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


@dataclass(frozen=True)
class LinkFaults:
    """Run-mode faults on a link: loss and duplication probabilities, delay range in ms,
    for the messages of ``phases`` (None: of every phase)."""

    loss: float = 0.0
    duplicate: float = 0.0
    delay: tuple[float, float] = (0.0, 0.0)
    phases: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.loss or self.duplicate or self.delay[1] > 0)


class Switch(Reports):
    """The controller's UDP switch on ``host`` port 0, with its own receiving thread."""

    def __init__(self, key: bytes, mode: str = "run", seed: int = 0, host: str = "127.0.0.1"):
        self.key = key
        self.ckey = control_key(key)
        self.mode = mode
        self.cond = threading.Condition()
        self.t0 = time.monotonic()
        self.trace: list[dict[str, Any]] = []
        self.monitor = SafetyMonitor()
        self.pending: dict[int, Pending] = {}
        self.envelopes: dict[int, Envelope] = {}
        self.peers: dict[int, Peer] = {}
        self.retired: set[tuple[str, int]] = set()
        self.snapshots: dict[int, dict] = {}
        self.groups: list[set[int]] | None = None
        self.faults: dict[tuple[int, int] | None, LinkFaults] = {}
        self.rng = random.Random(seed)
        self.bad: Counter = Counter()
        self.routes: Counter = Counter()  # how messages travelled: "switch" or "peer link"
        self.node_counts: dict[tuple[int, str], dict[str, int]] = {}
        self._next_id = 1
        self._out_seq = 0
        self._due: list[tuple[float, int]] = []
        self.order = CausalOrder()
        self.ask_sync: Callable[[int], None] | None = None  # asks a node's process to sync
        self._asked: dict[int, float] = {}  # incarnation -> when to ask it again
        self._incs: dict[int, Peer] = {}
        self._closed = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):  # a smaller buffer only matters under a flood
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)  # a full pipe of wake-ups needs no more: never block on it
        self.thread = threading.Thread(target=self._loop, name="paxos-edu-switch", daemon=True)
        self.thread.start()

    # -- the receiving thread ----------------------------------------------------------------
    def _loop(self) -> None:
        # Not niced: a switch that falls behind the nodes overflows its socket and loses their
        # reports (a node's done, a learner's decision), which no ordering can bring back.
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._closed:
                for key, _ in sel.select(self._next_timeout()):
                    if key.fileobj is self.sock:
                        self._drain()
                    else:
                        self._drain_wake()
                self._release_due()
                self._ask()
        except OSError:
            if not self._closed:
                raise
        finally:
            sel.close()

    def _drain(self) -> None:
        try:
            for _ in range(DRAIN_BATCH):
                try:
                    data, addr = self.sock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    return
                except ConnectionRefusedError:
                    continue  # ICMP from a node that died; the datagram itself is lost anyway
                try:
                    self.receive(data, addr[:2])
                except Exception:  # e.g. RecursionError from deeply nested, signed JSON
                    self.count("invalid content")  # the switch thread must survive anything
        finally:
            with self.cond:  # once a batch, not once an event: waiters re-check then
                self.cond.notify_all()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def wake(self) -> None:
        """Make the thread re-check due deliveries (after a delay was added)."""
        with contextlib.suppress(OSError):  # closed, or already full of wake-ups
            self._wake_w.send(b"!")

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

    # -- messages ----------------------------------------------------------------------------
    def _on_send(self, env: Envelope) -> None:
        item = Pending(self.new_id(), env.src, env.dst, env.msg, self.now())
        self.emit("send", env.src, env.dst, env.msg, id=item.id)
        if self.mode == "step":
            self.hold(item, env)
        else:
            self._route(item, env)

    def direct_ok(self) -> bool:
        """Whether nodes may use peer links: no partition and no link faults to apply."""
        with self.cond:
            return self.groups is None and not any(f.active for f in self.faults.values())

    def _route(self, item: Pending, env: Envelope) -> None:
        """Run mode: apply the link's faults, then forward (or hold a delayed copy)."""
        f = self.faults.get((item.src, item.dst), self.faults.get(None, LinkFaults()))
        if f.phases is not None and item.msg.phase not in f.phases:
            f = LinkFaults()
        if f.loss and self.rng.random() < f.loss:
            self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="lost")
            return
        copies = [item]
        if f.duplicate and self.rng.random() < f.duplicate:
            copy = replace(item, id=self.new_id())
            self.emit("duplicate", copy.src, copy.dst, copy.msg, id=copy.id, of=item.id)
            copies.append(copy)
        for c in copies:
            lo, hi = f.delay
            wait = self.rng.uniform(lo, hi) if hi > 0 else 0.0
            if wait > 0:
                self.hold(replace(c, due=self.now() + wait), env)
            else:
                self.transmit(c, env)

    def hold(self, item: Pending, env: Envelope) -> None:
        """Keep ``item`` pending; in run mode the thread forwards it when it is due."""
        with self.cond:
            self.pending[item.id] = item
            self.envelopes[item.id] = env
            if item.due > self.now():
                heapq.heappush(self._due, (item.due, item.id))
                self.wake()

    def transmit(self, item: Pending, env: Envelope) -> int | None:
        """Forward ``item`` now (or drop it: dead node, partition); returns the switch counter.

        The node's ``done`` for this input carries the same counter as its ``ref``.
        """
        with self.cond:
            peer = self.peers.get(item.dst)
            if peer is None or not peer.alive or peer.addr is None:
                self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="crashed")
                return None
            if self.blocked(item.src, item.dst):
                self.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="partition")
                return None
            self.emit("deliver", item.src, item.dst, item.msg, id=item.id)
            self._out_seq += 1
            self.routes["switch"] += 1
            data = encode(Envelope(item.src, item.dst, env.msg, self._out_seq), self.key)
            with contextlib.suppress(OSError):  # a full buffer loses it, as a network would
                self.sock.sendto(data, peer.addr)
            return self._out_seq

    def _next_timeout(self) -> float | None:
        with self.cond:
            waits = [at - time.monotonic() for at in self._asked.values()]
            if self.mode == "run" and self._due:
                waits.append((self._due[0][0] - self.now()) / 1000)
            return max(0.0, min(waits)) if waits else None

    def _release_due(self) -> None:
        with self.cond:
            while self.mode == "run" and self._due and self._due[0][0] <= self.now():
                _, mid = heapq.heappop(self._due)
                item = self.pending.get(mid)
                if item is not None and item.kind == "Message" and item.due <= self.now():
                    self.transmit(*self.take(mid))
            self.cond.notify_all()

    # -- pending items ---------------------------------------------------------------------
    def new_id(self) -> int:
        with self.cond:
            self._next_id += 1
            return self._next_id - 1

    def get(self, mid: int) -> Pending:
        with self.cond:
            try:
                return self.pending[mid]
            except KeyError:
                raise KeyError(f"no pending message or timer #{mid}") from None

    def take(self, mid: int) -> tuple[Pending, Envelope | None]:
        """Remove pending item ``mid``; returns it and (for a message) its envelope."""
        with self.cond:
            item = self.get(mid)
            del self.pending[mid]
            return item, self.envelopes.pop(mid, None)

    def delay(self, mid: int, by: float) -> Pending:
        with self.cond:
            later = replace(self.get(mid), due=self.now() + by)
            self.pending[mid] = later
            if later.kind == "Message":
                heapq.heappush(self._due, (later.due, mid))
                self.wake()
            return later

    def timers(self, uid: int) -> list[Pending]:
        return [p for p in self.pending.values() if p.kind == "Timer" and p.dst == uid]

    def cancel_timers(self, uid: int, name: str | None = None) -> None:
        """Forget ``uid``'s pending timer ``name`` (every one of its timers if None)."""
        with self.cond:
            for p in self.timers(uid):
                if name is None or p.msg.name == name:
                    del self.pending[p.id]

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

    def blocked(self, src: int, dst: int) -> bool:
        """Whether a partition separates ``src`` from ``dst`` (Simulation's rule)."""
        return self.groups is not None and self._group_of(src) != self._group_of(dst)

    def _group_of(self, uid: int) -> int:
        # Nodes named in no group (clients added later too) share one more group.
        return next((i for i, g in enumerate(self.groups) if uid in g), -1)

    # -- the trace -----------------------------------------------------------------------------
    def now(self) -> float:
        """Milliseconds since the cluster started."""
        return (time.monotonic() - self.t0) * 1000

    def emit(self, kind: str, src: int, dst: int | None, msg: Message | dict,
             phase: str | None = "", **extra) -> dict:
        """Record one trace event (Simulation's schema) and check it for safety."""
        with self.cond:
            body = msg.to_dict() if isinstance(msg, Message) else msg
            if phase == "":
                phase = msg.phase if isinstance(msg, Message) else None
            ev = {"seq": len(self.trace), "t": round(self.now(), 3), "kind": kind, "src": src,
                  "dst": dst, "msg": body, "phase": phase, **extra}
            self.trace.append(ev)
            self.monitor.observe(ev)
            return ev

    def record_state(self, uid: int, snapshot: dict) -> None:
        """Record ``uid``'s state, with a ``state`` event if it changed."""
        with self.cond:
            if snapshot != self.snapshots.get(uid):
                self.snapshots[uid] = snapshot
                self.emit("state", uid, None, {"type": "State", **snapshot}, phase=None)

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
                if check:
                    check()
            return True

    def stats(self) -> dict[str, Any]:
        """Bad datagrams dropped, by reason: at the switch, at each node, and in total.

        Also ``routes``: messages delivered through the switch and over peer links.
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
                               "peer link": self.routes["peer link"]}}

    def close(self) -> None:
        """Stop the thread and close the socket (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.wake()
        if self.thread is not threading.current_thread():
            self.thread.join(2.0)
        for s in (self.sock, self._wake_r, self._wake_w):
            s.close()
