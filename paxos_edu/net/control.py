"""Control messages: what a node process reports to its controller, signed like protocol ones.

A node reports over UDP to the switch with datagrams ``PXC/1 <mac> <body>``; ``body``
is compact JSON ``{"v": 1, "src": uid, "seq": k, "ctl": {"type": ..., fields}}`` and
``mac`` the hex HMAC-SHA256 of ``body`` under a key derived from the cluster key, so a
control datagram never verifies as a protocol datagram nor the other way round.
``seq`` shares the node's output counter with its protocol datagrams, which lets the
switch refuse replays of either.

The reports (``CONTROL_KINDS``): ``hello`` (I am up, here is my state), ``timer_set``,
``timer_cancel``, ``timer_fired``, ``decide``, ``done`` (I finished handling an input;
my new state if it changed), ``stats`` (bad datagrams I dropped, by reason), ``copy``
(a protocol datagram I sent over a peer link), ``recv`` (the peer-link datagram I was
handling, as I received it), ``synced`` (my answer to ``sync``: my output counter, the
last input of each kind I finished and my state, so a lost ``done`` is recovered by
asking) and
``batch`` (several of these at once).

Commands go the other way as JSON lines on the node's stdin, a pipe private to the two
processes, so they need no signature: ``init`` (first line), ``start``, ``fire``,
``cancel``, ``add_client``, ``mode``, ``links``, ``sync`` (answer ``synced`` now; the
switch asks when it needs proof that a report of mine was lost), ``stop``.

Peer links (run mode, no faults): a node sends protocol datagrams straight to its peers
and reports each one's envelope to the switch as a ``copy``, which the switch records as
sent and delivered without forwarding it. Everything a node reports while handling one
input travels in one ``batch`` naming the input's ``cause`` (sender uid and counter of
the peer-link message being handled) and carrying it (``recv``); the batch leaves
*before* the messages (copy first), so the switch nearly always has a cause's copy
before its effects' batch. The switch holds a batch until the cause's copy is recorded,
or proven never to come (see ``causal``), so the trace never shows a reply before the
message that caused it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from ..core.codec import MAX_INT, MAX_UID, BadMessage

MAGIC = b"PXC/1 "
MAX_CONTROL = 65_000
"""Largest control datagram, in bytes (a learner's snapshot after many rounds is a few KB)."""
_MAC_LEN = 64

_VALUE = (int, str)
_NUMBER = (int, float)
CONTROL_KINDS: dict[str, dict[str, tuple]] = {
    "hello": {"nonce": (str,), "pid": (int,), "snapshot": (dict,)},
    "timer_set": {"name": (str,), "delay": _NUMBER},
    "timer_cancel": {"name": (str,)},
    "timer_fired": {"name": (str,)},
    "decide": {"v": _VALUE, "n": (int,)},
    "done": {"input": (str,), "ref": (int,), "snapshot": (dict, type(None))},
    "stats": {"counts": (dict,)},
    "copy": {"data": (str,)},
    "recv": {"data": (str,)},
    "synced": {"out": (int,), "done": (dict,), "snapshot": (dict, type(None))},
    "batch": {"cause": (list, type(None)), "items": (list,)},
}
"""Every report a node sends, with the JSON types of its fields."""


def control_key(key: bytes) -> bytes:
    """The key control datagrams are signed with, derived from the cluster key."""
    return hmac.new(key, b"paxos-edu control/1", hashlib.sha256).digest()


def _mac(ckey: bytes, body: bytes) -> bytes:
    return hmac.digest(ckey, body, "sha256").hex().encode()


def encode_control(src: int, seq: int, ctl: dict[str, Any], ckey: bytes) -> bytes:
    """Serialize and sign one report; raises BadMessage if it is too large to send."""
    body = json.dumps({"v": 1, "src": src, "seq": seq, "ctl": ctl},
                      separators=(",", ":")).encode()
    data = MAGIC + _mac(ckey, body) + b" " + body
    if len(data) > MAX_CONTROL:
        raise BadMessage(f"oversized: {len(data)} bytes > {MAX_CONTROL}")
    return data


def decode_control(data: bytes, ckey: bytes) -> tuple[int, int, dict[str, Any]]:
    """Verify and parse one report: ``(src, seq, ctl)``; raises BadMessage saying what is wrong."""
    if len(data) > MAX_CONTROL:
        raise BadMessage(f"oversized: {len(data)} bytes > {MAX_CONTROL}")
    rest = data[len(MAGIC):]
    mac, sep, body = rest[:_MAC_LEN], rest[_MAC_LEN:_MAC_LEN + 1], rest[_MAC_LEN + 1:]
    if not data.startswith(MAGIC) or sep != b" " or len(mac) != _MAC_LEN:
        raise BadMessage("truncated: no signature")
    if not hmac.compare_digest(mac, _mac(ckey, body)):
        raise BadMessage("bad signature (unsigned, tampered, or another cluster's key)")
    try:
        obj = json.loads(body)
    except ValueError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != {"v", "src", "seq", "ctl"} or obj["v"] != 1:
        raise BadMessage("control body is not {v: 1, src, seq, ctl}")
    src, seq, ctl = obj["src"], obj["seq"], obj["ctl"]
    if type(src) is not int or not 0 <= src <= MAX_UID:
        raise BadMessage(f"control src {src!r} is not a uid")
    if type(seq) is not int or not 0 < seq <= MAX_INT:
        raise BadMessage(f"control seq {seq!r} is not a positive integer")
    check_ctl(ctl)
    return src, seq, ctl


def check_ctl(ctl: Any) -> None:
    """Raise BadMessage unless ``ctl`` is a report of a known kind with well-typed fields."""
    if not isinstance(ctl, dict):
        raise BadMessage("ctl is not a JSON object")
    kind = ctl.get("type")
    schema = CONTROL_KINDS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise BadMessage(f"unknown control type {kind!r}")
    if set(ctl) != {"type", *schema}:
        raise BadMessage(f"{kind} fields {sorted(set(ctl) - {'type'})} != {sorted(schema)}")
    for name, types in schema.items():
        # bool is an int to isinstance; no field is a bool
        if not isinstance(ctl[name], types) or isinstance(ctl[name], bool):
            raise BadMessage(f"{kind}.{name} has the wrong type")


_CATEGORIES = (
    ("oversized", "oversized"),
    ("unknown format", "unknown format"),
    ("truncated", "truncated"),
    ("bad signature", "bad signature"),
    ("not JSON", "not JSON"),
    ("not bytes", "unknown format"),
)


def reason_category(reason: str) -> str:
    """A short, stable name for a BadMessage reason, used to count drops in ``stats``.

    Signed datagrams whose content breaks the schema are all ``"invalid content"``.
    """
    for prefix, name in _CATEGORIES:
        if reason.startswith(prefix):
            return name
    return "invalid content"
