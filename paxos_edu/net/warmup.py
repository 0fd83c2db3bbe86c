"""A rehearsal the launcher runs once before it forks any node: one whole Basic Paxos run.

Nodes forked from a warmed launcher start with every code path of a run already
executed once: modules' lazy set-up done (JSON scanners, HMAC), and the interpreter's
specialised bytecode in place. A node of a fresh cluster handles each message kind only
once or twice, so without this it would run all of them cold, and the first decision
of every cluster would be the slowest. The rehearsal drives real ``NodeEndpoint``\\ s,
with a pretend transport that hands each datagram to its addressee in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from typing import Any

from ..core.codec import new_key
from ..core.config import Config
from .endpoint import NodeEndpoint
from .spec import config_to_dict

SWITCH = ("127.0.0.1", 1)
MAX_DATAGRAMS = 2000


class _Wire:
    """A pretend transport: what an endpoint sends is queued for its addressee."""

    def __init__(self, queue: deque, addr: tuple[str, int]):
        self.queue = queue
        self.addr = addr

    def sendto(self, data: bytes, dst: tuple[str, int]) -> None:
        self.queue.append((data, self.addr, dst))

    def get_extra_info(self, name: str) -> Any:
        return self  # as the "socket" too

    def setsockopt(self, *args) -> None:
        pass


def rehearse(workdir: str) -> Any:
    """Run 1 proposer, 3 acceptors, 1 learner and a client to a decision, peer links on.

    Returns what the client decided (``"warm-up"``); leaves no file in ``workdir``.
    """
    config = Config(proposers=1, acceptors=3, learners=1, clients=(("warm-up", 0),))
    uids = range(config.n_consensus + len(config.clients))
    key, queue = new_key().hex(), deque()
    loop = asyncio.new_event_loop()
    try:
        nodes = {}
        for uid in uids:
            init = {"uid": uid, "key": key, "switch": list(SWITCH), "mode": "run",
                    "nonce": "warm-up", "storage": os.path.join(workdir, f"warm-up-{uid}.json"),
                    "config": config_to_dict(config), "rng": f"warm-up:{uid}"}
            nodes[uid] = NodeEndpoint(init, loop)
            nodes[uid].connection_made(_Wire(queue, ("127.0.0.1", 10 + uid)))
        peers = [[uid, "127.0.0.1", 10 + uid] for uid in uids]
        for node in nodes.values():
            node.set_links(peers, True)
        for uid in config.ring_order:
            nodes[uid].command({"cmd": "start", "id": 1})
        by_addr = {("127.0.0.1", 10 + uid): nodes[uid] for uid in uids}
        for _ in range(MAX_DATAGRAMS):
            if not queue:
                break
            data, src, dst = queue.popleft()
            if dst in by_addr:
                by_addr[dst].datagram_received(data, src)
        for node in nodes.values():
            node.disarm_all()
        return nodes[uids[-1]].node.snapshot().get("decided")
    finally:
        loop.close()
        for uid in uids:
            for suffix in ("", ".tmp"):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(workdir, f"warm-up-{uid}.json{suffix}"))
