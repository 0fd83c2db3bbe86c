"""The wire codec: every valid message round-trips; everything else is a BadMessage.

A datagram is ``PXE/1 <hex HMAC-SHA256 of body> <body>``. To reach the parser
(and not only the signature check), several tests sign junk bodies with the
cluster key themselves, exactly as a node holding the key would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from dataclasses import fields as dataclass_fields

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from paxos_edu import BadMessage
from paxos_edu.core import codec
from paxos_edu.core.codec import Envelope, decode, encode
from paxos_edu.core.limits import MAX_DATAGRAM, MAX_INT, MAX_STR, MAX_UID
from paxos_edu.core.messages import (
    WIRE_KINDS,
    Accept,
    Accepted,
    Ack,
    Decided,
    Nack,
    Proposal,
    Request,
    Roles,
    Timer,
    Token,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sign(body: bytes, key: bytes = KEY) -> bytes:
    """A datagram carrying ``body``, correctly signed: what a key holder can send."""
    return b"PXE/1 " + hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b" " + body


def body_of(data: bytes) -> dict:
    return json.loads(data[len(b"PXE/1 ") + 65:])


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def assert_bad(data, key: bytes = KEY) -> BadMessage:
    """decode refuses ``data`` with BadMessage (nothing else) and says why."""
    try:
        decode(data, key)
    except BadMessage as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip()
        assert str(exc) == exc.reason
        return exc
    except Exception as exc:  # noqa: BLE001 - the point is that nothing else escapes
        pytest.fail(f"decode raised {type(exc).__name__}: {exc} instead of BadMessage")
    pytest.fail(f"decode accepted {data[:120]!r}")


# -- strategies ----------------------------------------------------------------------------

uids = st.integers(0, MAX_UID)
numbers = st.integers(0, MAX_INT)
values = st.one_of(st.integers(-MAX_INT, MAX_INT), st.text(max_size=MAX_STR))
uid_lists = st.lists(uids, max_size=12).map(tuple)
messages = st.one_of(
    st.builds(Token, numbers),
    st.builds(Roles, numbers, uid_lists, uid_lists, uid_lists, uid_lists),
    st.builds(Request, values),
    st.builds(Proposal, numbers, values),
    st.builds(Ack, numbers, st.none(), st.none()),  # accepted nothing: Ghosh's ack(n, ⊥, ⊥)
    st.builds(Ack, numbers, st.one_of(st.none(), values), st.one_of(st.none(), numbers)),
    st.builds(Nack, numbers, numbers, st.sampled_from(("Proposal", "Accept"))),
    st.builds(Accept, numbers, values),
    st.builds(Accepted, numbers, values),
    st.builds(Decided, values, numbers),
)
envelopes = st.builds(Envelope, uids, uids, messages, numbers)

json_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


def mutate(body: dict, how: str, junk, pick: int) -> dict:
    """One structural change to a valid body or to one of its message's fields."""
    body = json.loads(json.dumps(body))
    msg = body["msg"]
    names = sorted(k for k in msg if k != "type")
    name = names[pick % len(names)]  # every kind has at least one field
    if how == "drop field":
        del msg[name]
    elif how == "add field":
        msg["extra"] = junk
    elif how == "junk value":
        assume(not still_valid(msg["type"], name, junk))
        msg[name] = junk
    elif how == "bool for int":
        msg[name] = True
    elif how == "float for int":
        msg[name] = 1.0
    elif how == "huge int":
        msg[name] = 10**30
    elif how == "nested junk":
        msg[name] = [[{"a": [junk]}]]
    elif how == "unknown type":
        msg["type"] = ("Timer", "State", "token", "", "Crash", None)[pick % 6]
    elif how == "bad envelope uid":
        body[("src", "dst", "seq")[pick % 3]] = (-1, 2**63, "0", None, 2.0, True)[pick // 3 % 6]
    elif how == "drop envelope key":
        del body[sorted(body)[pick % len(body)]]
    elif how == "wrong version":
        body["v"] = (0, 2, "1", 1.0, True, None)[pick % 6]
    elif how == "msg not an object":
        body["msg"] = ([msg], "Token", None, 1)[pick % 4]
    return body


def still_valid(kind: str, name: str, x) -> bool:
    """Is ``x`` a valid value for field ``name`` of message ``kind``? (then it is no mutation)"""
    annotation = {f.name: f.type for f in dataclass_fields(WIRE_KINDS[kind])}[name]
    value = (type(x) is int and abs(x) <= MAX_INT) or (type(x) is str and len(x) <= MAX_STR)
    return {
        "int": type(x) is int and 0 <= x <= MAX_INT,
        "int | None": x is None or (type(x) is int and 0 <= x <= MAX_INT),
        "str": x in ("Proposal", "Accept"),
        "Value": value,
        "Value | None": x is None or value,
        "tuple[int, ...]": type(x) is list and all(
            type(u) is int and 0 <= u <= MAX_UID for u in x),
    }[annotation]


MUTATIONS = ("drop field", "add field", "junk value", "bool for int", "float for int",
             "huge int", "nested junk", "unknown type", "bad envelope uid", "drop envelope key",
             "wrong version", "msg not an object")


# -- valid messages ------------------------------------------------------------------------

@FAST
@given(env=envelopes)
def test_every_valid_message_round_trips(env):
    """decode(encode(env)) == env for every kind of message and every valid field value."""
    data = encode(env, KEY)
    assert data.startswith(b"PXE/1 ") and len(data) <= MAX_DATAGRAM
    assert decode(data, KEY) == env
    assert decode(bytearray(data), KEY) == env


def test_each_wire_kind_round_trips_with_extreme_values():
    """The bounds themselves are valid: MAX_UID, MAX_INT, -MAX_INT, MAX_STR characters."""
    for msg in (Token(MAX_INT), Request(-MAX_INT), Request("é" * MAX_STR), Proposal(0, ""),
                Ack(MAX_INT, None, None), Ack(MAX_INT, None, 0), Ack(3, "v", 2),
                Nack(1, 9, "Accept"), Accept(1, 2), Accepted(1, "x"), Decided("x", 4),
                Roles(0, (0,), (1, 2), (MAX_UID,), ())):
        env = Envelope(MAX_UID, 0, msg, MAX_INT)
        assert decode(encode(env, KEY), KEY) == env


def test_an_ack_of_nothing_accepted_travels_as_null_and_keeps_its_meaning():
    """Ghosh's ack(n, ⊥, ⊥) is JSON null for both fields; the older 0 still means nothing."""
    data = encode(Envelope(2, 0, Ack(6, None, None)), KEY)
    assert body_of(data)["msg"] == {"type": "Ack", "n": 6, "accepted_v": None, "accepted_n": None}
    ack = decode(data, KEY).msg
    assert ack == Ack(6, None, None) and not ack.has_accepted
    assert not decode(encode(Envelope(2, 0, Ack(6, None, 0)), KEY), KEY).msg.has_accepted
    assert decode(encode(Envelope(2, 0, Ack(9, "x", 6)), KEY), KEY).msg.has_accepted


@pytest.mark.parametrize("accepted_n", [-1, "6", 6.0, True, [6], 10**30])
def test_an_ack_whose_accepted_number_is_not_null_or_a_whole_number_is_refused(accepted_n):
    body = {"v": 1, "src": 2, "dst": 0, "seq": 1,
            "msg": {"type": "Ack", "n": 6, "accepted_v": None, "accepted_n": accepted_n}}
    assert "Ack.accepted_n" in assert_bad(sign(dumps(body))).reason


def test_encode_refuses_an_oversized_datagram():
    """A message that does not fit in MAX_DATAGRAM bytes is refused when encoding."""
    env = Envelope(0, 1, Roles(0, tuple(range(2000)), (), (), ()))
    with pytest.raises(BadMessage, match="oversized"):
        encode(env, KEY)


# -- anything else -------------------------------------------------------------------------

@FAST
@given(data=st.one_of(st.binary(max_size=300),
                      st.binary(max_size=300).map(lambda b: b"PXE/1 " + b)))
def test_random_bytes_are_a_bad_message(data):
    """Random bytes, with or without the magic prefix, are refused."""
    assert_bad(data)


@FAST
@given(env=envelopes, data=st.data())
def test_any_change_to_a_signed_datagram_is_a_bad_message(env, data):
    """Flipping any byte or truncating anywhere breaks the format or the signature."""
    raw = encode(env, KEY)
    i = data.draw(st.integers(0, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    assert_bad(raw[:i] + bytes([raw[i] ^ flip]) + raw[i + 1:])
    assert_bad(raw[:i])


@FAST
@given(env=envelopes)
def test_a_datagram_signed_with_another_key_is_a_bad_message(env):
    """Another cluster's datagram (or an unsigned one) fails the signature check."""
    assert "signature" in assert_bad(encode(env, OTHER_KEY)).reason


@FAST
@given(env=envelopes, how=st.sampled_from(MUTATIONS), junk=json_junk, pick=st.integers(0, 99))
def test_a_correctly_signed_but_ill_formed_body_is_a_bad_message(env, how, junk, pick):
    """Signed by a key holder, a body with missing, extra or ill-typed fields, bools or
    floats where ints belong, huge ints, nested junk, an unknown kind or a wrong version
    is still refused, by the schema check."""
    body = mutate(body_of(encode(env, KEY)), how, junk, pick)
    data = sign(dumps(body))
    assume(len(data) <= MAX_DATAGRAM)
    assert_bad(data)


@FAST
@given(env=envelopes, data=st.data())
def test_a_re_signed_byte_flip_decodes_validly_or_is_a_bad_message(env, data):
    """A key holder's corrupted body (flipped byte, then signed) gives a valid envelope or a
    BadMessage, never another exception."""
    body = encode(env, KEY)[len(b"PXE/1 ") + 65:]
    i = data.draw(st.integers(0, len(body) - 1))
    corrupted = body[:i] + bytes([data.draw(st.integers(0, 255))]) + body[i + 1:]
    try:
        assert isinstance(decode(sign(corrupted), KEY), Envelope)
    except BadMessage as exc:
        assert exc.reason


@FAST
@given(junk=json_junk)
def test_signed_json_junk_is_a_bad_message(junk):
    """Any signed JSON that is not an envelope is refused."""
    assert_bad(sign(dumps(junk)))


@pytest.mark.parametrize("body,reason", [
    (b"\xff\xfe{}", "not JSON"),
    (b'{"v":1,', "not JSON"),
    (b"1" * 5000, "not JSON"),  # more digits than Python will convert
    (b"NaN", "not a JSON object"),
    (b'{"v":1,"src":0,"dst":1,"seq":0,"msg":{"type":"Token","uid":1e400}}', "integer"),
    (b'{"v":1,"src":0,"dst":1,"seq":0,"msg":{"type":"Token","uid":true}}', "integer"),
    (b'{"v":1,"src":0,"dst":1,"seq":0,"msg":{"type":"Token","uid":99999999999999999999}}',
     "outside"),
    (b'{"v":1,"src":0,"dst":1,"seq":0,"msg":{"type":"Nack","n":1,"promised":2,"rejects":"x"}}',
     "rejects"),
    (b'{"v":true,"src":0,"dst":1,"seq":0,"msg":{"type":"Token","uid":1}}', "version"),
    (b'{"v":1,"src":0,"dst":1,"seq":0,"msg":{"type":["Token"],"uid":1}}', "unknown"),
])
def test_signed_bodies_that_are_not_valid_say_what_is_wrong(body, reason):
    """Each refusal's reason names the problem."""
    assert reason in assert_bad(sign(body)).reason


def test_an_oversized_datagram_is_refused_before_anything_else():
    """More than MAX_DATAGRAM bytes: refused as oversized, even if signed."""
    body = dumps({"v": 1, "src": 0, "dst": 1, "seq": 0, "msg": {"type": "Request", "v": "x"},
                  "pad": "x" * MAX_DATAGRAM})
    assert "oversized" in assert_bad(sign(body)).reason
    assert "oversized" in assert_bad(b"\0" * (MAX_DATAGRAM + 1)).reason


def test_a_non_bytes_argument_is_a_bad_message():
    for data in ("PXE/1 ...", None, 42, memoryview(b"PXE/1 ")):
        assert_bad(data)


class _Marker:
    """Unpickling this creates the file at ``path`` (the probe for an unsafe decoder)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_pickle_payload_is_never_unpickled(tmp_path):
    """A pickle whose loading would create a file is refused, raw, after the magic, or
    correctly signed, and the file is never created."""
    probe = tmp_path / "probe-works"
    pickle.loads(pickle.dumps(_Marker(probe))).close()
    assert probe.exists()  # the probe really would fire if anything unpickled it

    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Marker(marker))
    for data in (payload, b"PXE/1 " + payload, sign(payload), sign(pickle.dumps({"v": 1}))):
        assert_bad(data)
    assert not marker.exists()


def test_deeply_nested_signed_json_is_a_bad_message():
    """Nesting is junk like any other: a key holder's [[[[...]]]] body is a BadMessage."""
    assert_bad(sign(b"[" * 3000 + b"]" * 3000))


@pytest.mark.parametrize("env", [
    Envelope(0, 1, Timer("retry")),
    Envelope(0, 1, Request(True)),
    Envelope(0, 1, Request(1.5)),
    Envelope(0, 1, Request("x" * (MAX_STR + 1))),
    Envelope(-1, 1, Token(0)),
], ids=["timer", "bool", "float", "long-string", "negative-uid"])
def test_encode_refuses_what_decode_would_refuse(env):
    with pytest.raises(BadMessage):
        encode(env, KEY)


def test_the_mac_is_checked_before_the_body_is_parsed(monkeypatch):
    """An unsigned body never reaches the JSON parser."""
    parsed = []
    monkeypatch.setattr(codec.json, "loads", lambda *a, **k: parsed.append(a) or {})
    assert_bad(b"PXE/1 " + b"0" * 64 + b" " + dumps({"v": 1}))
    assert parsed == []
