"""The node side: one ``core`` node on an asyncio loop, talking UDP to the controller's switch.

``NodeEndpoint`` is an ``asyncnode.AsyncNode``: an asyncio datagram protocol that is its
node's effect sink, given the node's effects in order. ``Send`` becomes a signed datagram to
the switch (addressed by ``dst`` inside the envelope), ``Persist`` an atomic fsynced file
write that finishes before the next effect, ``SetTimer``/``CancelTimer`` loop timers (in
run mode) and reports, ``Decide`` a report. After every input it reports its new state
(always in step mode, where the controller waits for that ``done`` before going on).

With peer links on (``links`` command: run mode, no faults), a ``Send`` goes straight
to the peer's address, and everything the node reports about one input (the message it
handled, a copy of each message it sent, its new state, ...) goes in one ``batch`` to
the switch, naming the input as its cause (see ``control``). Copy first: once the
handler has returned and every ``Persist`` is on disk (in effect order, so before any
``Send``), the batch leaves for the switch, and only then the messages for the peers.
A sender's datagrams enter the loopback queue in order, so the switch holds the copy
of a message before its receiver can even have it; the switch's ordering
(``causal``) rarely has to wait, and never guesses.

What it accepts: datagrams that verify under the cluster key, are addressed to this
node and come either from the switch's address with a switch counter larger than the
last one seen, or from the address the controller announced for their sender with that
sender's counter larger than the last one seen from it. Everything else is dropped and
counted by reason, and the node keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import traceback
from collections import Counter
from typing import Any

from ..core.codec import BadMessage, Envelope, decode, encode
from ..core.node import make_node
from . import storage
from .asyncnode import AsyncNode
from .control import control_key, encode_control, reason_category
from .spec import config_from_dict, impl_from_spec

STATS_DELAY = 0.02
"""Seconds between the first bad datagram of a burst and the stats report (coalesces floods)."""
RCVBUF = 1 << 20


class NodeEndpoint(AsyncNode):
    """Drive one node from ``init`` (the controller's first stdin line) until told to stop."""

    def __init__(self, init: dict[str, Any], loop: asyncio.AbstractEventLoop):
        super().__init__(loop, init["storage"])
        self.uid: int = init["uid"]
        self.key = bytes.fromhex(init["key"])
        self.ckey = control_key(self.key)
        self.switch = tuple(init["switch"])
        self.mode: str = init["mode"]
        self.nonce: str = init["nonce"]
        self.hop = float(init.get("hop_ms") or 0) / 1000  # slow motion: seconds a send waits
        self.transport: asyncio.DatagramTransport | None = None
        self.out_seq = 0
        self.last_in = 0
        self.links: dict[int, tuple[str, int]] = {}  # peer uid -> its announced address
        self.link_of: dict[tuple[str, int], int] = {}  # and back
        self.link_seq: dict[int, int] = {}  # the last counter accepted from each peer
        self.direct = False  # whether to send over peer links (in run mode)
        self.batch: list[dict] | None = None  # reports held until the input is handled
        self.outbox: list[tuple[bytes, tuple]] | None = None  # peer datagrams, after the batch
        self.bad: Counter = Counter()
        self.stats_due = False
        self.last_snapshot: dict | None = None
        self.finished: dict[str, int] = {}  # the last input of each kind I finished (for sync)
        config = config_from_dict(init["config"])
        # A damaged state file raises StateError naming it (storage.load): never forgotten.
        saved = storage.load(self.path, config, amnesia=bool(init.get("amnesia"))) \
            if init.get("resume") else None
        if saved is not None and init.get("amnesia"):
            saved = {**saved, "paxos": {}}  # keeps the roles, loses the promises
        self.node = make_node(self.uid, config, random.Random(init["rng"]), saved,
                              impl_from_spec(init.get("impl") or {}))

    # -- asyncio callbacks -----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):  # a smaller buffer only matters under a flood
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.last_snapshot = self.node.snapshot()
        self.report({"type": "hello", "nonce": self.nonce, "pid": os.getpid(),
                     "snapshot": self.last_snapshot})

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            env = decode(data, self.key)
        except BadMessage as exc:
            return self.count(reason_category(exc.reason))
        except Exception:  # e.g. RecursionError from deeply nested, signed JSON
            return self.count("invalid content")
        addr = tuple(addr[:2])
        if addr == self.switch:
            kind, last = "msg", self.last_in
        elif self.link_of.get(addr) == env.src:
            kind, last = "link", self.link_seq[env.src]
        else:
            return self.count("not from the switch")
        if env.dst != self.uid:
            return self.count("wrong destination")
        if env.seq <= last:
            return self.count("replayed")
        if kind == "msg":
            self.last_in = env.seq
        else:
            self.link_seq[env.src] = env.seq
        cause = [env.src, env.seq] if kind == "link" else None
        self.run(lambda: self.node.handle(env.src, env.msg), kind, env.seq, cause=cause,
                 recv=data if cause else None)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" from a switch that went away; stdin EOF ends us soon.
        print(f"node {self.uid}: socket error {exc!r}", flush=True)

    # -- commands from the controller (stdin) ----------------------------------------------
    def command(self, cmd: dict[str, Any]) -> None:
        """Act on one controller command; each answers with ``done`` for its ``id``."""
        name, ref = cmd.get("cmd"), cmd.get("id", 0)
        if name == "start":
            self.run(self.node.start, "cmd", ref, force=True)
        elif name == "fire":
            self.disarm(cmd["name"])
            self.run(lambda: self.node.fire(cmd["name"]), "cmd", ref, force=True)
        elif name == "cancel":
            self.disarm(cmd["name"])
            self.finish("cmd", ref, force=True)
        elif name == "add_client":
            self.node.config = config_from_dict(cmd["config"])
            self.run(lambda: self.node.add_client(cmd["client"]), "cmd", ref, force=True)
        elif name == "links":
            self.set_links(cmd["peers"], cmd["direct"])
            self.finish("cmd", ref, force=True)
        elif name == "sync":  # the switch wants proof of what I have sent, and what I did
            synced = {"type": "synced", "out": self.out_seq, "done": dict(self.finished),
                      "snapshot": self.node.snapshot()}
            if not self.report(synced):  # a snapshot too large for one datagram
                self.report({**synced, "snapshot": None})
        elif name == "mode":
            self.set_mode(cmd["mode"], cmd.get("timers", []))
            self.finish("cmd", ref, force=True)
        else:
            print(f"node {self.uid}: unknown command {cmd!r}", flush=True)

    def set_mode(self, mode: str, timers: list) -> None:
        """step: stop running my own timers (the controller fires them); run: arm ``timers``."""
        self.mode = mode
        self.disarm_all()
        if mode == "run":
            for name, delay in timers:
                self.arm(name, delay)

    def set_links(self, peers: list, direct: bool) -> None:
        """Learn each peer's address (``[[uid, host, port], ...]``) and whether to send there.

        A peer whose address changed is a new process: its counter starts again.
        """
        links = {uid: (host, port) for uid, host, port in peers if uid != self.uid}
        for uid, addr in links.items():
            if self.links.get(uid) != addr:
                self.link_seq[uid] = 0
        self.links, self.direct = links, direct
        self.link_of = {addr: uid for uid, addr in links.items()}

    # -- performing effects -----------------------------------------------------------------
    def run(self, handler, kind: str, ref: int, force: bool = False,
            cause: list[int] | None = None, first: dict | None = None,
            recv: bytes | None = None) -> None:
        """Call ``handler`` (a node method), perform its effects, report my state.

        Over peer links, the reports (``recv``, the datagram handled, and ``first``,
        then those the effects make, then ``done``) wait and leave in one batch naming
        ``cause``, before the messages for the peers.
        """
        direct = self.direct and self.mode == "run"
        self.batch, self.outbox = ([], []) if direct else (None, None)
        if recv is not None and direct:
            self.report({"type": "recv", "data": recv.decode("utf-8", "replace")})
        if first is not None:
            self.report(first)
        try:
            self.perform(handler())  # in order: if a Persist raises, no Send after it leaves
        except Exception:  # a bug in a role must not take the node (or the lesson) down
            self.count("handler error")
            traceback.print_exc()
        self.finish(kind, ref, force)
        self.flush(cause)

    def flush(self, cause: list[int] | None) -> None:
        """Send the held reports as one batch (one batch each if together they are too
        large, each with the ``recv`` item), then the messages for the peers."""
        batch, self.batch = self.batch, None
        outbox, self.outbox = self.outbox or [], None
        if batch and len(batch) == 1 and batch[0]["type"] == "recv":
            batch = []  # nothing to report: the message's copy says it all
        if batch and not self.report({"type": "batch", "cause": cause, "items": batch}):
            recv = [item for item in batch[:1] if item["type"] == "recv"]
            for item in batch[len(recv):]:
                if not self.report({"type": "batch", "cause": cause, "items": [*recv, item]}) \
                        and item["type"] == "done":  # the controller must still hear it is done
                    self.report({"type": "batch", "cause": cause,
                                 "items": [*recv, {**item, "snapshot": None}]})
        for data, peer in outbox:
            self.put(data, peer)

    # -- the effect sink (``AsyncNode``; ``send`` is below) -----------------------------------
    def set_timer(self, name: str, delay: float) -> None:
        self.disarm(name)
        if self.mode == "run":
            self.arm(name, delay)
        self.report({"type": "timer_set", "name": name, "delay": delay})

    def cancel_timer(self, name: str) -> None:
        self.disarm(name)
        self.report({"type": "timer_cancel", "name": name})

    def decide(self, v, n: int) -> None:
        self.report({"type": "decide", "v": v, "n": n})

    def send(self, dst: int, msg) -> None:
        try:
            data = encode(Envelope(self.uid, dst, msg, self.next_seq()), self.key)
        except BadMessage as exc:
            print(f"node {self.uid}: cannot send {msg}: {exc.reason}", flush=True)
            return
        peer = self.links.get(dst) if self.outbox is not None else None
        if peer is None:
            self.put(data, self.switch)
        else:  # after the batch with its copy (``flush``)
            self.outbox.append((data, peer))
            self.report({"type": "copy", "data": data.decode()})

    def put(self, data: bytes, addr: tuple) -> None:
        """Send a protocol datagram; in run mode with slow motion, ``hop`` seconds later.

        Only messages wait: reports go at once, so the switch still hears of a message
        (its copy) before anyone can receive it. A node that crashes meanwhile never sends
        what it held, as a real crash loses what was not yet on the wire."""
        if self.hop and self.mode == "run":
            self.loop.call_later(self.hop, self._put_later, data, addr)
        else:
            self.transport.sendto(data, addr)

    def _put_later(self, data: bytes, addr: tuple) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def report(self, ctl: dict[str, Any]) -> bool:
        """Send ``ctl`` to the switch (or hold it for the batch); False if it cannot be sent."""
        if self.batch is not None:
            self.batch.append(ctl)
            return True
        try:
            data = encode_control(self.uid, self.next_seq(), ctl, self.ckey)
        except BadMessage as exc:
            print(f"node {self.uid}: cannot report {ctl.get('type')}: {exc.reason}", flush=True)
            return False
        self.transport.sendto(data, self.switch)
        return True

    def finish(self, kind: str, ref: int, force: bool = False) -> None:
        """Report ``done``: in step mode and for commands always, else only if my state changed."""
        snap = self.node.snapshot()
        changed = snap != self.last_snapshot
        if changed:
            self.last_snapshot = snap
        self.finished[kind] = max(self.finished.get(kind, 0), ref)
        if changed or force or self.mode == "step":
            done = {"type": "done", "input": kind, "ref": ref,
                    "snapshot": snap if changed else None}
            if not self.report(done):  # a snapshot too large to send: the controller still
                self.report({**done, "snapshot": None})  # must hear that the input is done

    def next_seq(self) -> int:
        self.out_seq += 1
        return self.out_seq

    # -- timers -------------------------------------------------------------------------------
    def on_timer(self, name: str) -> None:
        """A timer I run myself (run mode) expired: report it, then let the node act."""
        self.run(lambda: self.node.fire(name), "timer", 0,
                 first={"type": "timer_fired", "name": name})

    # -- counting bad datagrams ---------------------------------------------------------------
    def count(self, reason: str) -> None:
        if not self.bad[reason]:
            print(f"node {self.uid}: dropping bad datagrams ({reason})", flush=True)
        self.bad[reason] += 1
        if not self.stats_due:
            self.stats_due = True
            self.loop.call_later(STATS_DELAY, self.report_stats)

    def report_stats(self) -> None:
        self.stats_due = False
        self.report({"type": "stats", "counts": dict(self.bad)})
