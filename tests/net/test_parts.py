"""The parts of ``paxos_edu.net`` that need no process: control codec, storage, spec, API checks."""

from __future__ import annotations

import json
import os

import pytest

from paxos_edu import BadMessage, Config
from paxos_edu.cluster import Cluster
from paxos_edu.core.codec import Envelope, encode, new_key
from paxos_edu.core.messages import Proposal
from paxos_edu.net import storage, warmup
from paxos_edu.net.control import (
    control_key,
    decode_control,
    encode_control,
    reason_category,
)
from paxos_edu.net.spec import config_from_dict, config_to_dict, impl_to_spec

from .helpers import Hosts

KEY = new_key()
CKEY = control_key(KEY)


def test_control_reports_round_trip_and_are_strictly_checked():
    data = encode_control(3, 7, {"type": "decide", "v": "x", "n": 5}, CKEY)
    assert decode_control(data, CKEY) == (3, 7, {"type": "decide", "v": "x", "n": 5})
    bad = [
        {"type": "decide", "v": True, "n": 5},
        {"type": "decide", "v": 1},
        {"type": "decide", "v": 1, "n": 5, "more": 0},
        {"type": "exec", "cmd": "ls"},
        {"type": "done", "input": "msg", "ref": "1", "snapshot": None},
    ]
    for ctl in bad:
        with pytest.raises(BadMessage):
            decode_control(encode_control(3, 7, ctl, CKEY), CKEY)
    with pytest.raises(BadMessage, match="bad signature"):
        decode_control(data, control_key(new_key()))
    with pytest.raises(BadMessage, match="seq"):
        decode_control(encode_control(3, 0, {"type": "timer_fired", "name": "t"}, CKEY), CKEY)


def test_control_and_protocol_datagrams_never_pass_for_each_other():
    proto = encode(Envelope(0, 1, Proposal(1, 1), 1), KEY)
    with pytest.raises(BadMessage):
        decode_control(b"PXC/1 " + proto[len(b"PXE/1 "):], CKEY)
    ctl = encode_control(0, 1, {"type": "timer_fired", "name": "t"}, CKEY)
    from paxos_edu.core.codec import decode

    with pytest.raises(BadMessage, match="bad signature"):
        decode(b"PXE/1 " + ctl[len(b"PXC/1 "):], KEY)


def test_reasons_are_counted_under_short_stable_names():
    assert reason_category("oversized: 65006 bytes > 8192") == "oversized"
    assert reason_category("bad signature (unsigned, tampered, ...)") == "bad signature"
    assert reason_category("Proposal fields ['n'] != ['n', 'v']") == "invalid content"


def test_storage_is_replaced_whole_and_refuses_damage(tmp_path):
    path = str(tmp_path / "node-1.json")
    assert storage.read(path) is None
    storage.write(path, {"paxos": {"promised": 3}})
    storage.write(path, {"paxos": {"promised": 8}})
    assert storage.read(path) == {"paxos": {"promised": 8}}
    assert os.listdir(tmp_path) == ["node-1.json"]
    (tmp_path / "node-1.json").write_text('{"paxos": {"prom')
    with pytest.raises(ValueError, match="not JSON"):
        storage.read(path)


def test_a_config_survives_the_trip_to_a_node_as_json():
    cfg = Config(proposers=2, acceptors=3, learners=2, clients=[(1, 0), ("x", 3)],
                 ring=(6, 5, 4, 3, 2, 1, 0), timeout=30, backoff=(1, 2))
    assert config_from_dict(json.loads(json.dumps(config_to_dict(cfg)))) == cfg


def test_role_overrides_travel_as_import_names():
    from .roles import LoudAcceptor

    spec = impl_to_spec({"acceptor": LoudAcceptor})
    assert spec == {"acceptor": f"{LoudAcceptor.__module__}:LoudAcceptor"}
    assert spec["acceptor"].endswith("roles:LoudAcceptor")
    with pytest.raises(ValueError, match="must be a class"):
        impl_to_spec({"acceptor": "Acceptor"})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "fast"}, "mode='fast'"),
    ({"key": b"short"}, "key"),
    ({"hosts": Hosts(("127.0.0.1", 0), ("10.0.0.1", 7000))}, "node 1 is on 10.0.0.1"),
])
def test_bad_arguments_are_refused_before_any_process_starts(kwargs, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        Cluster(Config(), **kwargs)


def test_misuse_gets_clear_errors():
    with Cluster(Config(proposers=1, acceptors=1, learners=1)) as c:
        assert c.run().status == "not started: call start() first"
        with pytest.raises(ValueError, match="uid 9: no such node"):
            c.crash(9)
        with pytest.raises(RuntimeError, match="start"):
            c.restart(0)
        with pytest.raises(KeyError, match="#42"):
            c.deliver(42)
        with pytest.raises(ValueError, match="probability"):
            c.set_faults(loss=2)


def test_a_new_process_on_a_dead_process_port_is_heard():
    # The kernel reuses ephemeral ports: a restarted node may get a crashed one's port.
    from paxos_edu.net.switch import Switch

    sw = Switch(KEY, "step")
    try:
        addr = ("127.0.0.1", 40000)

        def hello(nonce: str, seq: int) -> None:
            sw.receive(encode_control(5, seq, {"type": "hello", "nonce": nonce, "pid": 1,
                                               "snapshot": {}}, CKEY), addr)

        sw.expect(5, "first")
        hello("first", 1)
        sw.mark_dead(5)
        sw.expect(5, "second")
        hello("second", 1)
        sw.receive(encode(Envelope(5, 0, Proposal(1, 1), 2), KEY), addr)
        assert [p.msg for p in sw.pending()] == [Proposal(1, 1)]
        assert sw.stats()["total"] == 0
    finally:
        sw.close()


def test_the_launchers_rehearsal_decides_and_leaves_nothing_behind(tmp_path):
    assert warmup.rehearse(str(tmp_path)) == "warm-up"
    assert list(tmp_path.iterdir()) == []


def test_the_switch_records_a_reply_only_after_the_message_that_caused_it():
    # Over peer links a reply's report can overtake the report of the message it answers.
    from paxos_edu.core.messages import Ack
    from paxos_edu.net.switch import Switch

    sw = Switch(KEY, "run")
    asked = []
    sw.ask_sync = asked.append
    try:
        addrs = {0: ("127.0.0.1", 40000), 1: ("127.0.0.1", 40001)}
        for uid, addr in addrs.items():
            sw.expect(uid, f"n{uid}")
            sw.receive(encode_control(uid, 1, {"type": "hello", "nonce": f"n{uid}", "pid": 1,
                                               "snapshot": {}}, CKEY), addr)

        def batch(uid: int, seq: int, cause, env: Envelope, recv: Envelope | None = None):
            items = [{"type": "copy", "data": encode(env, KEY).decode()}]
            if recv is not None:
                items.insert(0, {"type": "recv", "data": encode(recv, KEY).decode()})
            sw.receive(encode_control(uid, seq, {"type": "batch", "cause": cause,
                                                 "items": items}, CKEY), addrs[uid])

        proposal = Envelope(0, 1, Proposal(1, 7), 2)
        batch(1, 3, [0, 2], Envelope(1, 0, Ack(1, None, 0), 2), proposal)  # the reply, first
        assert sw.trace == [] and sw.order.held() == 1
        batch(0, 3, None, proposal)  # then the Proposal it answers
        kinds = [(ev["kind"], ev["msg"]["type"]) for ev in sw.trace]
        assert kinds == [("send", "Proposal"), ("deliver", "Proposal"),
                         ("send", "Ack"), ("deliver", "Ack")]
        # A cause whose report never comes waits, however long, until its sender proves it
        # lost: the switch asks node 0 to sync, and 0's answer (counter 10 > 9) is the proof.
        second = Envelope(0, 1, Proposal(2, 7), 9)
        batch(1, 11, [0, 9], Envelope(1, 0, Ack(2, None, 0), 10), second)
        assert sw.wait(lambda: 0 in asked, timeout=5) and len(sw.trace) == 4
        synced = {"type": "synced", "out": 9, "done": {}, "snapshot": None}
        sw.receive(encode_control(0, 10, synced, CKEY), addrs[0])
        assert [(ev["kind"], ev["msg"]["type"], ev.get("reported_by")) for ev in sw.trace[4:]] \
            == [("send", "Proposal", "receiver"), ("deliver", "Proposal", "receiver"),
                ("send", "Ack", None), ("deliver", "Ack", None)]
        assert sw.trace[4]["reason"] == "sender's report lost"
        batch(0, 12, None, second)  # the late copy is not recorded twice
        assert len(sw.trace) == 8
    finally:
        sw.close()
