"""The trace of a peer-link cluster stays causal with the CPUs busy (issue 12).

Busy-loop processes (started here, killed here by pid) compete with the nodes and the
switch for the CPUs; many correct runs must show no violation and every learner's
decide or state after the Accepted it counted, and a real violation must still be caught.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.core.invariants import check_safety
from paxos_edu.net.causal import learner_causality

HOGS = 2
RUNS = 12


@pytest.fixture(scope="module")
def busy_cpus():
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]
    try:
        yield [h.pid for h in hogs]
    finally:
        for h in hogs:
            with contextlib.suppress(OSError):
                h.kill()
        for h in hogs:
            h.wait(10)


def test_correct_runs_under_load_are_traced_causally(busy_cpus):
    configs = [Config(proposers=3, acceptors=3, learners=5)] * (RUNS - 2) + [
        Config(proposers=5, acceptors=45, learners=51)] * 2
    for i, cfg in enumerate(configs):
        with Cluster(cfg, seed=i, reply_timeout=30) as c:
            c.propose(100 + i)
            c.propose(200 + i, proposer=1 if cfg.acceptors < 9 else 0)  # 101 nodes: no duel
            c.start(timeout=60)
            assert c.run(timeout=60).status == "decided"
            trace = c.trace
            assert c.stats()["routes"]["switch"] == 0  # every message took a peer link
        assert check_safety(trace) == [], f"run {i}"
        assert learner_causality(trace) == [], f"run {i}"
        decides = [ev for ev in trace if ev["kind"] == "decide" and ev["src"] in
                   cfg.roles(0).learners]
        assert decides, f"run {i}: no learner decided"
        recovered = [ev for ev in trace if "reported_by" in ev]  # lost reports: rare, named
        assert all(ev["reason"] in ("sender's report lost", "sender crashed") for ev in recovered)


def test_a_real_violation_is_still_caught_under_load(busy_cpus):
    with Cluster(Config(proposers=3, acceptors=3, learners=5)) as c:
        c.propose(210)
        c.start(timeout=60)
        assert c.run(timeout=60).status == "decided"
        c.restart(3, amnesia=True)
        assert "monotonic promises" in [v.invariant for v in check_safety(c.trace)]
        assert c.violations  # the live monitor too


def test_a_learner_that_decides_on_one_vote_is_caught_under_load(busy_cpus):
    """The reverse of the false alarm: a learner that decides on one acceptor's Accepted is
    reported, by the live monitor and by check_safety. The Accepts to A2 and A3 are lost,
    so only A1 ever votes and the early decision is certain (with all three voting, the
    others' votes may already be sent when it decides, and deciding then is not unsafe)."""
    from .roles import EagerLearner

    with Cluster(Config(proposers=1, acceptors=3, learners=1),
                 impl={"learner": EagerLearner}) as c:
        c.set_faults(loss=1.0, links=[(0, 2), (0, 3)], phases=["2.1"])
        c.propose(210)
        c.start(timeout=60)
        assert c.run(timeout=60).status == "decided"
        trace = c.trace
        assert "learner soundness" in {v.invariant for v in c.violations}
    assert "learner soundness" in {v.invariant for v in check_safety(trace)}


def test_a_learner_that_decides_early_is_caught_by_the_causality_check():
    trace = [
        {"seq": 0, "kind": "send", "src": 0, "dst": 1, "phase": None,
         "msg": {"type": "Roles", "acceptors": [1, 2, 3], "learners": [4]}},
        {"seq": 1, "kind": "deliver", "src": 1, "dst": 4, "msg": {"type": "Accepted",
                                                                   "n": 5, "v": 7}},
        {"seq": 2, "kind": "decide", "src": 4, "dst": 4, "msg": {"type": "Decided",
                                                                  "n": 5, "v": 7}},
        {"seq": 3, "kind": "deliver", "src": 2, "dst": 4, "msg": {"type": "Accepted",
                                                                   "n": 5, "v": 7}},
    ]
    assert len(learner_causality(trace)) == 1
    trace[2], trace[3] = trace[3], trace[2]
    assert learner_causality(trace) == []


def lose_the_first_accept_report(c: Cluster) -> list[int]:
    """Make the switch's socket lose proposer 0's first batch reporting Accept copies."""
    from paxos_edu.net.control import MAGIC, decode_control

    sw, lost = c._switch, []
    receive = sw.receive

    def lossy(data: bytes, addr) -> None:
        if not lost and data.startswith(MAGIC):
            src, _, ctl = decode_control(data, sw.ckey)
            if src == 0 and ctl["type"] == "batch" and any(
                    item["type"] == "copy" and '"Accept"' in item["data"]
                    for item in ctl["items"]):
                lost.append(src)
                return
        receive(data, addr)

    sw.receive = lossy
    return lost


def assert_causal(trace) -> None:
    assert check_safety(trace) == [] and learner_causality(trace) == []
    for a in (1, 2, 3):  # each acceptor's Accepted comes after the Accept it answers
        accept = [i for i, ev in enumerate(trace) if ev["kind"] == "deliver" and ev["dst"] == a
                  and ev["msg"]["type"] == "Accept"]
        accepted = [i for i, ev in enumerate(trace) if ev["kind"] == "send" and ev["src"] == a
                    and ev["msg"]["type"] == "Accepted"]
        assert accept and accepted and accept[0] < accepted[0]


def test_a_lost_report_is_proven_by_the_senders_sync_answer_and_recorded_from_the_receiver():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start(timeout=30)
        assert c.run(until="elected", timeout=30).ok
        lost = lose_the_first_accept_report(c)
        c.propose(42)
        assert c.run(timeout=30).status == "decided"
        trace = c.trace
    assert lost == [0]
    recovered = [ev for ev in trace if ev.get("reported_by") == "receiver"]
    assert recovered and all(ev["msg"]["type"] == "Accept" for ev in recovered)
    assert {ev["reason"] for ev in recovered} == {"sender's report lost"}
    assert_causal(trace)


def test_reports_waiting_for_a_crashed_senders_lost_report_are_recorded_once_it_is_dead():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start(timeout=30)
        assert c.run(until="elected", timeout=30).ok
        lost = lose_the_first_accept_report(c)
        c._switch.ask_sync = None  # no proof of the loss from the proposer: they must wait
        c.propose(42)
        assert c.wait_for(lambda c: c._switch.order.held() >= 3, timeout=30)
        assert not any(ev["kind"] == "decide" for ev in c.trace)  # held, not guessed
        c.crash(0)
        assert c.wait_for(lambda c: any(ev["kind"] == "decide" for ev in c.trace), timeout=30)
        trace = c.trace
    assert lost == [0]
    assert {ev["reason"] for ev in trace if ev.get("reported_by")} == {"sender crashed"}
    assert_causal(trace)
