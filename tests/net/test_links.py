"""Peer links: in run mode without faults, nodes send straight to each other, and the trace loses nothing."""

from __future__ import annotations

from paxos_edu import Config
from paxos_edu.cluster import Cluster

SMALL = Config(proposers=1, acceptors=3, learners=1)


def index_of(trace, **fields) -> int:
    return next(i for i, ev in enumerate(trace)
                if all(ev.get(k) == v if k != "type" else ev["msg"]["type"] == v
                       for k, v in fields.items()))


def test_without_faults_every_message_takes_a_peer_link_and_is_traced_in_causal_order():
    with Cluster(SMALL) as c:
        c.propose(7)
        c.start()
        assert c.run(timeout=10).status == "decided"
        routes = c.stats()["routes"]
        assert routes["switch"] == 0 and routes["peer link"] > 0
        trace = c.trace
        sends = {ev["id"]: i for i, ev in enumerate(trace) if ev["kind"] == "send"}
        delivered = [(i, ev) for i, ev in enumerate(trace) if ev["kind"] == "deliver"]
        assert len(delivered) == routes["peer link"]
        assert all(sends[ev["id"]] < i for i, ev in delivered)
        # every acceptor answers only what reached it: the reply comes after the delivery
        for a in (1, 2, 3):
            if any(ev["kind"] == "send" and ev["src"] == a and ev["msg"]["type"] == "Accepted"
                   for ev in trace):
                assert (index_of(trace, kind="deliver", dst=a, type="Accept")
                        < index_of(trace, kind="send", src=a, type="Accepted"))
            assert (index_of(trace, kind="deliver", dst=a, type="Proposal")
                    < index_of(trace, kind="send", src=a, type="Ack"))


def test_faults_switch_the_links_off_and_healing_switches_them_back_on():
    with Cluster(SMALL, seed=3) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        before = c.stats()["routes"]["peer link"]
        # the switch must see every message to lose the client's Requests (it resends)
        c.set_faults(loss=1.0, links=[(5, 0)])
        c.propose(11)
        assert c.run(timeout=0.5).status.startswith("timeout")
        assert any(ev.get("reason") == "lost" for ev in c.trace)
        assert c.stats()["routes"]["peer link"] == before
        c.set_faults(loss=0.0, links=[(5, 0)])
        assert c.run(timeout=10).status == "decided"
        assert c.stats()["routes"]["peer link"] > before


def test_a_restarted_node_is_reached_at_its_new_address():
    with Cluster(SMALL) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.restart(0)  # the proposer: every Request and Ack must find its new process
        assert c.wait_for(Cluster.elected, timeout=10)
        c.propose(5)
        assert c.run(timeout=10).status == "decided"
        assert c.stats()["routes"]["switch"] == 0
        assert c.stats()["nodes"] == {}  # nobody dropped anything as from an unknown sender
