"""The switch's handling of node reports, in causal order (a part of ``switch.Switch``).

Every report datagram a node sends (``control``) is accepted by the switch in counter
order and handed to ``_in_order``, which feeds ``causal.CausalOrder`` and acts on what
it releases: a ``batch`` is checked when it arrives (its copies, the ``recv`` envelope
of its cause) and recorded when its cause is. The proof that a cause's report was lost
comes from its sender's ``synced`` answer, asked for by ``_ask`` through the
controller's ``ask_sync`` (the node's stdin pipe), again every ``SYNC_RESEND`` s until
answered: a retransmission of the question, never a timed release.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..core.codec import BadMessage, Envelope, decode
from ..core.messages import Timer
from .control import check_ctl, reason_category

SYNC_RESEND = 0.5
"""Seconds before a ``sync`` question that got no answer is asked again (a retransmission)."""


class Reports:
    """Mixed into ``Switch``: the ``_on_<report>`` handlers and their causal ordering."""

    def _on_control(self, src: int, seq: int, ctl: dict, addr: tuple[str, int]) -> None:
        kind = ctl["type"]
        if kind == "hello":
            peer = self.peers.get(src)
            if peer is None or peer.nonce != ctl["nonce"] or peer.addr is not None:
                return self.count("unknown sender")
            peer.addr, peer.last_seq, peer.pid, peer.hello = addr, seq, ctl["pid"], ctl["snapshot"]
            self.retired.discard(addr)  # the port of a dead process, reused by the kernel
        elif not self._accept(src, seq, addr):
            return
        elif kind == "batch":
            self._on_batch(src, seq, ctl)
        elif kind == "synced":
            self._asked.pop(self.peers[src].inc, None)  # answered: ask again at once if need be
            self._in_order(src, seq, lambda skip: self._on_synced(src, ctl), sync=True)
        else:
            self._in_order(src, seq, lambda skip: getattr(self, f"_on_{kind}")(src, ctl))

    def _on_synced(self, uid: int, ctl: dict) -> None:
        """A sync answer, acted on in order: every input it says I finished is done (its own
        ``done`` report may have been lost), and its state is my latest."""
        peer = self.peers[uid]
        for kind, ref in ctl["done"].items():
            if kind in peer.done and type(ref) is int:
                peer.done[kind] = max(peer.done[kind], ref)
        if ctl["snapshot"] is not None:
            self.record_state(uid, ctl["snapshot"])

    def _in_order(self, uid: int, seq: int, act: Callable, cause=None, copies=(), recv=None,
                  sync: bool = False) -> None:
        """Act on datagram ``seq`` of ``uid`` when ``order`` says (see ``causal``)."""
        inc, key = self.peers[uid].inc, None
        if (isinstance(cause, list) and len(cause) == 2 and all(type(x) is int for x in cause)
                and cause[0] in self.peers and cause[0] != uid):
            key = (self.peers[cause[0]].inc, cause[1])  # the process it heard from is current
        self._act(self.order.arrive(inc, seq, (act, recv), key, copies, sync))
        if self.order.held(inc):
            self.wake()  # the thread asks for the proof it waits for (``_ask``)

    def _act(self, releases) -> None:
        for r in releases:
            act, recv = r.payload
            if r.recover is not None and recv is not None:
                self._record_copy(recv, reported_by="receiver", reason=r.recover)
            act(r.skip)

    def _ask(self) -> None:
        """Ask for a ``sync`` every node whose answer would release a held batch."""
        now, ask = time.monotonic(), []
        with self.cond:
            wanted = self.order.wanted()
            for inc in [i for i in self._asked if i not in wanted]:
                del self._asked[inc]
            for inc in wanted:
                if self._asked.get(inc, 0) <= now:
                    self._asked[inc] = now + SYNC_RESEND
                    ask.append(self._incs[inc].uid)
        for uid in ask:  # outside the lock: it writes to a pipe
            if self.ask_sync is not None:
                self.ask_sync(uid)

    def _on_batch(self, uid: int, seq: int, ctl: dict) -> None:
        """A node's reports about one input, in the order it made them (checked now)."""
        items, copies, recv = [], [], None
        for item in ctl["items"]:
            try:
                check_ctl(item)
                if item["type"] in ("hello", "batch", "synced"):
                    raise BadMessage(f"{item['type']} inside a batch")
                if item["type"] in ("copy", "recv"):
                    env = decode(item["data"].encode(), self.key)
                    ok = env.src == uid if item["type"] == "copy" else (
                        env.dst == uid and [env.src, env.seq] == ctl["cause"])
                    if not ok:
                        raise BadMessage(f"{item['type']} of another node's message")
                    if item["type"] == "recv":
                        recv = env
                        continue
                    copies.append(env.seq)
                    item = env
            except BadMessage as exc:
                self.count(reason_category(exc.reason))
                continue
            items.append(item)

        def act(skip) -> None:
            for item in items:
                if isinstance(item, Envelope):
                    if item.seq not in skip:
                        self._record_copy(item)
                else:
                    getattr(self, f"_on_{item['type']}")(uid, item)

        self._in_order(uid, seq, act, ctl["cause"], copies, recv)

    def _record_copy(self, env: Envelope, **extra) -> None:
        """A message sent over a peer link: record it as sent and delivered (or dropped)."""
        mid = self.ledger.new_id()
        self.emit("send", env.src, env.dst, env.msg, id=mid, **extra)
        peer = self.peers.get(env.dst)
        if peer is None or not peer.alive:
            self.emit("drop", env.src, env.dst, env.msg, id=mid, reason="crashed")
        else:
            self.emit("deliver", env.src, env.dst, env.msg, id=mid, **extra)
            self.routes["peer link"] += 1

    def _on_timer_set(self, uid: int, ctl: dict) -> None:
        self.ledger.set_timer(uid, ctl["name"], ctl["delay"])

    def _on_timer_cancel(self, uid: int, ctl: dict) -> None:
        self.cancel_timers(uid, ctl["name"])

    def _on_timer_fired(self, uid: int, ctl: dict) -> None:
        """Run mode: the node ran its own timer; record it under the id it was pending as."""
        mine = [p for p in self.ledger.timers(uid) if p.msg.name == ctl["name"]]
        mid = mine[0].id if mine else self.ledger.new_id()
        self.ledger.pending.pop(mid, None)
        self.emit("timer", uid, uid, Timer(ctl["name"]), id=mid)

    def _on_decide(self, uid: int, ctl: dict) -> None:
        self.emit("decide", uid, uid, {"type": "Decided", "v": ctl["v"], "n": ctl["n"]},
                  phase="3")

    def _on_done(self, uid: int, ctl: dict) -> None:
        if ctl["snapshot"] is not None:
            self.record_state(uid, ctl["snapshot"])
        peer = self.peers[uid]
        if ctl["input"] in peer.done:
            peer.done[ctl["input"]] = max(peer.done[ctl["input"]], ctl["ref"])

    def _on_stats(self, uid: int, ctl: dict) -> None:
        counts = {str(k): v for k, v in ctl["counts"].items() if type(v) is int}
        self.node_counts[(uid, self.peers[uid].nonce)] = counts

