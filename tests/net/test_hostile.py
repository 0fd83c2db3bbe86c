"""Hostile input: junk, truncated, oversized, ill-typed, unsigned and replayed datagrams.

Sent with a plain socket to live nodes and to the switch. Every one must be dropped
and counted (by the receiver: node or switch), no process may die, and the cluster
must still decide afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.core.codec import Envelope, encode
from paxos_edu.core.messages import Accept, Proposal

KEY = b"k" * 32


def signed_raw(raw: bytes, key: bytes = KEY, magic: bytes = b"PXE/1 ") -> bytes:
    return magic + hmac.new(key, raw, hashlib.sha256).hexdigest().encode() + b" " + raw


def signed(body: dict | list | str, key: bytes = KEY, magic: bytes = b"PXE/1 ") -> bytes:
    return signed_raw(json.dumps(body).encode(), key, magic)


def body(**changes) -> dict:
    base = {"v": 1, "src": 0, "dst": 1, "seq": 99, "msg": {"type": "Proposal", "n": 5, "v": 1}}
    return {**base, **changes}


def hostile(rng: random.Random) -> list[bytes]:
    """One of each kind of bad datagram, then random junk: about 550 in all."""
    good = encode(Envelope(0, 1, Proposal(5, 1), 1), KEY)
    ill_typed = [
        body(src="0"), body(src=-1), body(seq=True), body(v=2), body(extra=1),
        body(msg={"type": "Proposal", "n": "5", "v": 1}),
        body(msg={"type": "Proposal", "n": 5, "v": [1]}),
        body(msg={"type": "Proposal", "n": 2**60, "v": 1}),
        body(msg={"type": "Proposal", "n": 5, "v": "x" * 500}),
        body(msg={"type": "Exec", "cmd": "rm -rf /"}),
        body(msg={"type": "Nack", "n": 1, "promised": 2, "rejects": "Everything"}),
        body(msg={"type": "Roles", "leader": 0, "proposers": "all", "acceptors": [],
                  "learners": [], "clients": []}),
        body(msg=None), [1, 2, 3], "just a string",
    ]
    data = [signed(b) for b in ill_typed]
    data += [
        b"", b"PXE/1 ", b"PXE/1 " + b"0" * 64, good[:40], good[:-5], good + b"x",
        good.replace(b"PXE/1", b"PXE/2"), b"\x80\x04\x95pickle", b"\xff" * 100,
        signed(body(), key=b"another cluster's key!!"),
        b"PXE/1 " + b"0" * 64 + b" " + json.dumps(body()).encode(),  # unsigned
        b"PXC/1 " + b"0" * 64 + b" {}",  # an unsigned control report
        signed({"v": 1, "src": 0, "seq": 1, "ctl": {"type": "hello"}}, magic=b"PXC/1 "),
        encode(Envelope(0, 2, Accept(7, 1), 1), KEY),  # validly signed, but not from the switch
        encode(Envelope(0, 2, Accept(7, 1), 1), KEY),  # ... and replayed
        good, good,
        signed_raw(b'{"v":1,"src":0,"dst":1,"seq":9,"msg":' + b"[" * 3000 + b"]" * 3000 + b"}"),
    ]
    for _ in range(500):
        junk = good if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(200))
        cut = rng.randrange(len(junk))
        data.append(junk[:cut] + bytes([rng.randrange(256)]) + junk[cut + 1:])
    return data


def test_hostile_datagrams_are_counted_and_nobody_dies():
    rng = random.Random(11)
    with Cluster(Config(proposers=1, acceptors=3, learners=1), key=KEY) as c:
        c.propose(210)
        c.start()
        assert c.run(until="elected", timeout=10).ok
        pids = c.pids()
        targets = [*c.addresses().values(), c.switch_address]
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for target in targets:
                batch = hostile(rng)
                for i in range(0, len(batch), 100):  # in bursts the receive buffers can hold
                    for d in batch[i:i + 100]:
                        s.sendto(d, target)
                    sent += len(batch[i:i + 100])
                    assert c.wait_for(lambda c, n=sent: c.stats()["total"] >= n, timeout=5), (
                        f"{c.stats()['total']} of {sent} counted")
                for _ in range(3):  # 64 KB each: a few at a time
                    s.sendto(b"PXE/1 " + b"A" * 65_000, target)
                    sent += 1
                    assert c.wait_for(lambda c, n=sent: c.stats()["total"] >= n, timeout=5)
        stats = c.stats()
        assert stats["total"] == sent > 3000
        assert stats["by_reason"]["oversized"] == 3 * len(targets)
        for reason in ("bad signature", "invalid content", "truncated", "unknown format",
                       "not from the switch", "unknown sender"):
            assert stats["by_reason"].get(reason, 0) > 0, reason
        assert set(stats["nodes"]) == set(c.addresses()) and stats["switch"]
        assert all(c.alive().values()) and c.pids() == pids
        assert c.run(timeout=10).status == "decided"
        assert c.decided() == {5: 210} and c.violations == []


def test_a_datagram_signed_with_another_key_is_refused():
    with Cluster(Config(proposers=1, acceptors=1, learners=1), key="passphrase one") as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        other = Cluster(Config(), key="passphrase two")
        try:
            forged = encode(Envelope(0, 1, Proposal(99, 1), 1), other.key)
        finally:
            other.close()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(forged, c.addresses()[1])
        assert c.wait_for(lambda c: c.stats()["total"] == 1, timeout=5)
        assert c.stats()["nodes"] == {1: {"bad signature": 1}}
        assert c.snapshot()[1]["promised"] == 0
