"""The wire format: signed, versioned JSON, strictly validated, never pickle.

A datagram is ASCII ``PXE/1 <mac> <body>``: ``body`` is compact JSON
``{"v": 1, "src": uid, "dst": uid, "seq": k, "msg": {"type": ..., fields}}``
and ``mac`` is the hex HMAC-SHA256 of ``body`` under the cluster key. The MAC
is checked before the body is parsed, so nothing unsigned is ever parsed.

Every way a datagram can be wrong raises the one exception ``BadMessage``
whose ``reason`` says what was wrong; receivers drop and count it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, fields
from typing import Any

from .limits import MAX_DATAGRAM, MAX_INT, MAX_STR, MAX_UID
from .messages import WIRE_KINDS, Message

VERSION = 1
MAGIC = b"PXE/1 "
_MAC_LEN = 64


class BadMessage(ValueError):
    """A datagram that is malformed, unsigned, oversized or ill-typed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Envelope:
    """One datagram's content: who sent ``msg`` to whom, and the sender's counter."""

    src: int
    dst: int
    msg: Message
    seq: int = 0


def new_key() -> bytes:
    """A random 32-byte cluster key."""
    return secrets.token_bytes(32)


def key_from_passphrase(passphrase: str) -> bytes:
    """The cluster key shared by every machine that knows ``passphrase``."""
    if not passphrase:
        raise ValueError("key: the passphrase must not be empty")
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), b"paxos-edu/1", 50_000)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, body, "sha256").hex().encode()


def encode(env: Envelope, key: bytes) -> bytes:
    """Serialize and sign ``env``; raises BadMessage if it would be invalid on arrival."""
    body_obj = {"v": VERSION, "src": env.src, "dst": env.dst, "seq": env.seq,
                "msg": env.msg.to_dict()}
    envelope_from_dict(body_obj)  # refuse to sign what every receiver would refuse
    body = json.dumps(body_obj, separators=(",", ":"), sort_keys=True).encode()
    data = MAGIC + _mac(key, body) + b" " + body
    if len(data) > MAX_DATAGRAM:
        raise BadMessage(f"oversized: {len(data)} bytes > {MAX_DATAGRAM}")
    return data


def decode(data: bytes, key: bytes) -> Envelope:
    """Verify and parse one datagram; raises BadMessage saying what was wrong."""
    if not isinstance(data, (bytes, bytearray)):
        raise BadMessage("not bytes")
    if len(data) > MAX_DATAGRAM:
        raise BadMessage(f"oversized: {len(data)} bytes > {MAX_DATAGRAM}")
    if not data.startswith(MAGIC):
        raise BadMessage("unknown format or version (expected 'PXE/1 ')")
    rest = bytes(data[len(MAGIC):])
    mac, sep, body = rest[:_MAC_LEN], rest[_MAC_LEN:_MAC_LEN + 1], rest[_MAC_LEN + 1:]
    if sep != b" " or len(mac) != _MAC_LEN:
        raise BadMessage("truncated: no signature")
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise BadMessage("bad signature (unsigned, tampered, or another cluster's key)")
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    except RecursionError:
        raise BadMessage("not JSON: nested too deeply") from None
    return envelope_from_dict(obj)


def envelope_from_dict(obj: Any) -> Envelope:
    """Validate a parsed body; raises BadMessage on any deviation from the schema."""
    if not isinstance(obj, dict):
        raise BadMessage("body is not a JSON object")
    expected = {"v", "src", "dst", "seq", "msg"}
    if set(obj) != expected:
        raise BadMessage(f"body keys {sorted(obj)} != {sorted(expected)}")
    if obj["v"] != VERSION or type(obj["v"]) is not int:
        raise BadMessage(f"unsupported version {obj['v']!r}")
    src = _int(obj["src"], "src", 0, MAX_UID)
    dst = _int(obj["dst"], "dst", 0, MAX_UID)
    seq = _int(obj["seq"], "seq", 0, MAX_INT)
    return Envelope(src, dst, message_from_dict(obj["msg"]), seq)


def message_from_dict(obj: Any) -> Message:
    """Build the message ``obj`` describes, checking every field's type."""
    if not isinstance(obj, dict):
        raise BadMessage("msg is not a JSON object")
    kind = obj.get("type")
    cls = WIRE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadMessage(f"unknown message type {kind!r}")
    keys, schema = _SCHEMAS[kind]
    if obj.keys() != keys:
        raise BadMessage(f"{kind} fields {sorted(set(obj) - {'type'})} != "
                         f"{sorted(keys - {'type'})}")
    args = {name: _field(obj[name], annotation, f"{kind}.{name}") for name, annotation in schema}
    try:
        return cls(**args)
    except (TypeError, ValueError) as exc:
        raise BadMessage(f"{kind}: {exc}") from None


_SCHEMAS = {kind: (frozenset({"type", *(f.name for f in fields(cls))}),
                   tuple((f.name, f.type) for f in fields(cls)))
            for kind, cls in WIRE_KINDS.items()}
"""Each wire kind's keys and (field, annotation) pairs, computed once (every datagram needs them)."""


def _int(x: Any, where: str, lo: int, hi: int) -> int:
    if type(x) is not int:
        raise BadMessage(f"{where} must be an integer, not {type(x).__name__}")
    if not lo <= x <= hi:
        raise BadMessage(f"{where}={x} outside {lo}..{hi}")
    return x


def _value(x: Any, where: str) -> int | str:
    if type(x) is int:
        return _int(x, where, -MAX_INT, MAX_INT)
    if isinstance(x, str):
        if len(x) > MAX_STR:
            raise BadMessage(f"{where} longer than {MAX_STR} characters")
        return x
    raise BadMessage(f"{where} must be an integer or a string, not {type(x).__name__}")


def _field(x: Any, annotation: str, where: str) -> Any:
    # Field annotations are strings (postponed evaluation); these are all the
    # kinds messages.py uses.
    if annotation == "int":
        return _int(x, where, 0, MAX_INT)
    if annotation == "int | None":
        return None if x is None else _int(x, where, 0, MAX_INT)
    if annotation == "str":
        if not isinstance(x, str) or len(x) > MAX_STR:
            raise BadMessage(f"{where} must be a short string")
        return x
    if annotation == "Value":
        return _value(x, where)
    if annotation == "Value | None":
        return None if x is None else _value(x, where)
    if annotation == "tuple[int, ...]":
        if not isinstance(x, list):
            raise BadMessage(f"{where} must be a list of uids")
        return tuple(_int(u, where, 0, MAX_UID) for u in x)
    raise BadMessage(f"{where}: unsupported field type {annotation}")  # pragma: no cover
