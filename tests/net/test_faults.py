"""Run-mode faults on real UDP: seeded loss, duplication and delay, partitions, sudden deaths."""

from __future__ import annotations

import os
import signal

import pytest

from paxos_edu import Config
from paxos_edu.cluster import Cluster

SMALL = Config(proposers=1, acceptors=3, learners=1)


def test_lossy_duplicating_delaying_links_still_decide_safely():
    with Cluster(Config(proposers=2, acceptors=3, learners=1), seed=5) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.set_faults(loss=0.2, duplicate=0.2, delay=(0, 3))
        c.propose(210, proposer=0)
        c.propose(220, proposer=1)
        result = c.run(timeout=20)
        assert result.status == "decided", result
        assert len(set(c.decided().values())) == 1 and c.violations == []
        kinds = {(ev["kind"], ev.get("reason")) for ev in c.trace}
        assert ("drop", "lost") in kinds and ("duplicate", None) in kinds


def test_a_delayed_link_holds_its_messages_as_pending_items():
    with Cluster(SMALL) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.set_faults(delay=60_000, links=[(5, 0)])  # the client's Request waits a minute
        c.propose(7)
        assert c.wait_for(lambda c: any(p.msg.type == "Request" for p in c.pending()), 5)
        request = next(p for p in c.pending() if p.msg.type == "Request")
        assert (request.src, request.dst) == (5, 0)
        c.deliver(request.id)  # ... unless you deliver it by hand
        assert c.run(timeout=10).status == "decided"


def test_a_partition_blocks_the_decision_until_healed():
    with Cluster(SMALL) as c:
        c.pause()  # hold the client's Request until the cut is made
        c.propose(9)
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.partition({0, 5}, {1, 2, 3, 4})  # proposer and client cut off from everyone else
        c.resume()
        result = c.run(timeout=0.6)
        assert result.status.startswith("timeout: 0 of 1 clients decided")
        assert any(ev.get("reason") == "partition" for ev in c.trace)
        c.heal()
        assert c.run(timeout=10).status == "decided"


def test_a_node_killed_from_outside_is_recorded_as_crashed():
    with Cluster(SMALL) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        pid = c.pids()[3]
        os.kill(pid, signal.SIGKILL)
        assert c.wait_for(lambda c: not c.alive()[3], timeout=5)
        assert [ev["src"] for ev in c.trace if ev["kind"] == "crash"] == [3]
        c.propose(1)
        assert c.run(timeout=10).status == "decided"


def test_a_client_whose_roles_are_lost_is_named_in_the_status_and_decides_after_heal():
    with Cluster(SMALL) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.set_faults(loss=1.0, links=[(4, 5)])  # the leader's Roles to the new client, and answers
        c.propose(7)
        status = c.run(timeout=0.5).status
        assert status.startswith("timeout: 0 of 1 clients decided"), status
        assert "client 5 has no roles yet (it keeps asking node 4)" in status
        c.set_faults()
        assert c.run(timeout=10).status == "decided"
        asked = [ev for ev in c.trace if ev["kind"] == "send" and ev["msg"]["type"] == "AskRoles"]
        assert asked and {(ev["src"], ev["dst"]) for ev in asked} == {(5, 4)}


def test_faults_can_spare_all_but_some_phases():
    with Cluster(SMALL, seed=2) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.set_faults(loss=1.0, phases=["1.1"])  # every proposal lost, nothing else
        c.propose(7)
        assert c.run(timeout=0.5).status.startswith("timeout")
        lost = [ev for ev in c.trace if ev["kind"] == "drop" and ev.get("reason") == "lost"]
        assert lost and {ev["msg"]["type"] for ev in lost} == {"Proposal"}
        assert any(ev["kind"] == "deliver" and ev["msg"]["type"] == "Request" for ev in c.trace)
        c.set_faults()
        assert c.run(timeout=10).status == "decided"
        with pytest.raises(ValueError, match="'2.3' is not a phase"):
            c.set_faults(loss=0.5, phases=["1.1", "2.3"])
