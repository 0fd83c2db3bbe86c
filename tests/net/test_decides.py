"""Real clusters decide: the original project's configurations, crashes, restarts from storage."""

from __future__ import annotations

import socket

import pytest

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.trace import validate_event

from .helpers import Hosts


def assert_one_value(cluster: Cluster, values) -> object:
    """Every client was told the same value, one that some client asked for; no violation."""
    decided = cluster.decided()
    assert set(decided) == set(cluster.config.client_uids)
    assert len(set(decided.values())) == 1, decided
    value = next(iter(decided.values()))
    assert value in values
    assert cluster.violations == []
    return value


def test_one_proposer_one_acceptor_one_learner_decides():
    with Cluster(Config(proposers=1, acceptors=1, learners=1)) as c:
        c.propose(210)
        c.start()
        result = c.run(until="decided", timeout=10)
        assert result.status == "decided" and result.ok
        assert result.decided == {3: 210}
        assert_one_value(c, {210})
        assert c.leader() == 2


def test_three_proposers_five_learners_eight_clients_spread_by_index():
    values = [100 + i for i in range(8)]
    cfg = Config(proposers=3, acceptors=3, learners=5, clients=[(v, i) for i, v in
                                                                enumerate(values)])
    with Cluster(cfg) as c:
        c.start()
        assert c.run(timeout=20).status == "decided"
        assert_one_value(c, set(values))
        # a client may hear from one learner before the last Accepted reaches another
        assert c.wait_for(lambda c: all(c.snapshot()[u]["value"] is not None
                                        for u in range(6, 11)), timeout=5)
        snap = c.snapshot()
        assert [snap[u]["proposer"] for u in cfg.client_uids] == [i % 3 for i in range(8)]
        learned = {snap[u]["value"] for u in range(6, 11)}
        assert learned == set(c.decided().values())


def test_one_three_one_with_four_clients_added_after_the_election():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        assert c.run(until="elected", timeout=10).status == "elected"
        for v in ("a", "b", "c", "d"):
            c.propose(v)
        assert c.run(timeout=10).status == "decided"
        assert_one_value(c, {"a", "b", "c", "d"})


def test_trace_has_the_simulation_schema():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.propose(7)
        c.start()
        c.run(timeout=10)
        trace = c.trace
    assert [ev["seq"] for ev in trace] == list(range(len(trace)))
    assert all(validate_event(ev) is None for ev in trace)
    assert [ev["t"] for ev in trace] == sorted(ev["t"] for ev in trace)
    sent = {ev["id"] for ev in trace if ev["kind"] in ("send", "duplicate")}
    for ev in trace:
        if ev["kind"] in ("deliver", "drop") and ev["msg"]["type"] != "Timer":
            assert ev["id"] in sent
        if ev["kind"] == "drop":
            assert ev["reason"]
    phases = {ev["phase"] for ev in trace if ev["kind"] == "deliver"}
    assert phases == {"election", "setup", "request", "1.1", "1.2", "2.1", "2.2", "3"}


def test_a_minority_of_acceptors_down_still_decides():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        c.run(until="elected", timeout=10)
        c.crash(3)
        assert c.alive()[3] is False
        c.propose(210)
        result = c.run(timeout=10)
        assert result.status == "decided", result
        assert_one_value(c, {210})
        assert any(ev["kind"] == "drop" and ev["reason"] == "crashed" for ev in c.trace)


def test_a_majority_of_acceptors_down_ends_with_no_quorum_not_a_hang():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        c.run(until="elected", timeout=10)
        c.crash(2)
        c.crash(3)
        c.propose(210)
        result = c.run(timeout=120)
        # Not "timeout: ...": the run gave up because of the lost quorum, not the clock.
        assert result.status == "no quorum: acceptors 2, 3 of 3 are down"
        assert result.decided == {} and not result.ok


def test_restarted_acceptor_resumes_its_promise_from_storage():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.propose(210)
        c.start()
        assert c.wait_for(lambda c: c.snapshot()[2].get("promised", 0) > 0, timeout=10)
        old_pid = c.pids()[2]
        c.crash(2)
        c.restart(2)
        assert c.pids()[2] != old_pid
        assert c.run(timeout=10).status == "decided"
        snap = c.snapshot()
        acc = next(u for u in (1, 2, 3) if snap[u]["accepted_v"] == 210)
        before = snap[acc]
        assert before["promised"] > 0
        c.crash(acc)
        assert c.snapshot()[acc]["alive"] is False
        c.restart(acc)
        after = c.snapshot()[acc]
        assert after["alive"] is True
        assert (after["promised"], after["accepted_n"], after["accepted_v"]) == (
            before["promised"], before["accepted_n"], 210)
        c.propose(220)
        assert c.run(timeout=10).status == "decided"
        assert_one_value(c, {210})
        kinds = [ev["kind"] for ev in c.trace]
        assert kinds.count("crash") == 2 and kinds.count("restart") == 2


def test_amnesia_restart_loses_the_promise_and_the_monitor_says_so():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.propose(210)
        c.start()
        assert c.run(timeout=10).status == "decided"
        c.restart(2, amnesia=True)
        snap = c.snapshot()[2]
        assert snap["role"] == "acceptor" and snap["promised"] == 0
        assert "monotonic promises" in [v.invariant for v in c.violations]


def test_role_overrides_run_inside_the_node_processes():
    from .roles import LoudAcceptor

    with Cluster(Config(proposers=1, acceptors=1, learners=1),
                 impl={"acceptor": LoudAcceptor}) as c:
        c.propose(5)
        c.start()
        assert c.run(timeout=10).status == "decided"
        assert c.snapshot()[1]["seen"] == 1


def test_classes_a_node_cannot_import_are_refused_before_any_process_starts():
    class Local:
        pass

    with pytest.raises(ValueError, match="cannot import a class defined in __main__"):
        Cluster(Config(), impl={"acceptor": Local})


def test_hosts_lines_on_this_machine_give_the_nodes_their_addresses():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free a moment ago; the node takes it next
    hosts = Hosts(("127.0.0.1", port), ("localhost", 0), ("127.0.0.1", 0))
    with Cluster(Config(proposers=1, acceptors=1, learners=1), hosts=hosts) as c:
        c.propose(4)  # a client beyond the hosts lines gets any free port
        c.start()
        assert c.leader() == 2  # run mode: start() returns once the roles are known
        assert c.addresses()[0] == ("127.0.0.1", port)
        assert c.run(timeout=10).status == "decided"
