"""The deterministic simulator: same seed and calls, same trace; every fault; the trace file."""

from __future__ import annotations

import json

import pytest

from paxos_edu import Config, Simulation, check_safety, message_counts, read_jsonl, to_jsonl
from paxos_edu.trace import EVENT_KINDS, validate_event

from .helpers import deliver, elect_and_assign, fifo, find, find_all

CFG = Config(proposers=2, acceptors=3, learners=1)


def contended(seed: int = 7) -> Simulation:
    """The README example: two clients asking two proposers for different values."""
    sim = Simulation(CFG, seed=seed)
    sim.propose(210, proposer=0)
    sim.propose(220, proposer=1)
    sim.start()
    return sim


def without_time(trace):
    return [{k: v for k, v in ev.items() if k != "t"} for ev in trace]


def test_same_seed_and_same_calls_give_the_same_trace():
    a, b = contended(7), contended(7)
    a.run(until=None, order="random")
    b.run(until=None, order="random")
    assert a.trace == b.trace and a.decided() == b.decided()
    assert len(a.trace) > 50


def test_the_seed_picks_the_schedule():
    """With order="random", different seeds reorder deliveries (over a few seeds, more than
    one trace appears); the default order, oldest first, gives one trace whatever the seed."""
    traces, fifo_traces = set(), set()
    for seed in range(5):
        sim = contended(seed)
        sim.run(order="random")
        assert sim.violations == [] and sim.all_decided()
        traces.add(json.dumps(sim.trace))
        oldest = contended(seed)
        oldest.run()
        fifo_traces.add(json.dumps(without_time(oldest.trace)))
    assert len(traces) > 1
    assert len(fifo_traces) == 1


def test_run_until_nothing_is_pending_decides_and_the_trace_is_safe():
    sim = contended()
    result = sim.run(until=None)
    assert result.status == "idle" and result.ok and sim.pending() == []
    assert 0 < result.steps < 10_000 and result.decided == sim.decided()
    assert sim.all_decided() and len(set(sim.decided().values())) == 1
    assert sim.violations == [] == check_safety(sim.trace)


def test_run_until_decided_stops_as_soon_as_every_client_has_heard():
    sim = contended()
    assert sim.run(until="decided").status == "decided"
    assert sim.all_decided()
    last_decide = max(i for i, ev in enumerate(sim.trace)
                      if ev["kind"] == "decide" and ev["src"] in sim.config.client_uids)
    assert all(ev["kind"] in ("state", "decide") for ev in sim.trace[last_decide:])


def explicit_schedule(sim: Simulation, partition: bool = False) -> Simulation:
    """Every kind of call: propose, deliver, drop, duplicate, delay, crash, restart,
    (partition,) heal, then FIFO delivery (step() is the other test's business)."""
    sim.propose(210, proposer=0)
    elect_and_assign(sim)
    sim.propose(220, proposer=1)
    deliver(sim, "Roles", dst=7)
    deliver(sim, "Request", dst=0)
    sim.drop(find(sim, "Proposal", dst=2).id)
    sim.duplicate(find(sim, "Proposal", dst=3).id)
    sim.delay(find(sim, "Proposal", dst=4).id, by=3.0)
    sim.crash(3)
    sim.restart(3)
    if partition:
        sim.partition({0, 3}, {1, 2, 4})
    for p in find_all(sim, "Proposal"):
        sim.deliver(p.id)
    sim.heal()
    fifo(sim, max_steps=40)
    return sim


def test_replay_of_the_actions_reproduces_the_trace():
    """Simulation.replay(cfg, sim.actions) gives the same trace, event for event."""
    sim = explicit_schedule(Simulation(CFG, seed=4))
    kinds = {a[0] for a in sim.actions}
    assert kinds >= {"propose", "start", "deliver", "drop", "duplicate", "delay", "crash",
                     "restart", "heal"}
    again = Simulation.replay(CFG, sim.actions, seed=4)
    assert again.trace == sim.trace
    assert again.decided() == sim.decided()


def test_replay_reproduces_a_run_with_a_partition():
    sim = explicit_schedule(Simulation(CFG, seed=4), partition=True)
    assert any(ev.get("reason") == "partition" for ev in sim.trace)
    assert Simulation.replay(CFG, sim.actions, seed=4).trace == sim.trace


def test_replay_of_a_free_run_reproduces_every_event_in_order():
    """Replaying a run() gives the same events in the same order (times aside, see below)."""
    sim = contended()
    sim.run(until=None)
    again = Simulation.replay(CFG, sim.actions, seed=7)
    assert without_time(again.trace) == without_time(sim.trace)


def test_replay_of_a_free_run_reproduces_the_times_too():
    sim = contended()
    sim.run(until=None)
    assert any(ev["kind"] == "timer" for ev in sim.trace)
    assert Simulation.replay(CFG, sim.actions, seed=7).trace == sim.trace


def test_timers_are_pending_items_of_kind_timer():
    """A proposer's timeout and a client's resend wait in pending() like messages."""
    sim = Simulation(Config(clients=(210,)), seed=0)
    elect_and_assign(sim)
    deliver(sim, "Request", dst=0)
    timers = {(p.dst, p.msg.name): p for p in sim.pending() if p.kind == "Timer"}
    assert set(timers) == {(0, "timeout"), (5, "resend")}
    timeout = timers[(0, "timeout")]
    assert timeout.msg.type == "Timer" and timeout.phase == "timer"
    assert timeout.due == sim.now + sim.config.timeout
    assert "timer 'timeout' of node 0" in str(timeout)
    with pytest.raises(ValueError, match="timer"):
        sim.duplicate(timeout.id)


def test_timers_fire_in_deadline_order_when_no_message_is_ready():
    """With every message lost, step() fires the earliest timer and jumps the clock to it;
    a ready message always goes before any timer."""
    sim = Simulation(Config(proposers=2, clients=((1, 0), (2, 1))), seed=5)
    elect_and_assign(sim)
    for p in find_all(sim, "Request"):
        sim.deliver(p.id)
    fired = []
    for _ in range(30):
        for p in [p for p in sim.pending() if p.kind == "Message"]:
            sim.drop(p.id)
        timers = [p for p in sim.pending() if p.kind == "Timer"]
        earliest = min(timers, key=lambda p: (p.due, p.id))
        before = sim.now
        item = sim.step()
        assert item == earliest
        # the clock jumps to the deadline; an overdue timer still takes one latency
        assert sim.now == max(item.due, before + sim.latency)
        fired.append(item.due)
        if find_all(sim, "Proposal"):
            assert sim.next_item().kind == "Message"
    assert fired == sorted(fired)
    assert {ev["msg"]["name"] for ev in sim.trace if ev["kind"] == "timer"} >= {
        "timeout", "retry", "resend"}


def test_a_partition_drops_cross_group_messages_with_reason_partition():
    sim = Simulation(Config(clients=(210,)), seed=0)
    elect_and_assign(sim)
    deliver(sim, "Request", dst=0)
    sim.partition({0, 1}, {2, 3})  # 4 and the client 5 form a third group
    for p in find_all(sim, "Proposal"):
        sim.deliver(p.id)
    delivered = {ev["dst"] for ev in sim.trace if ev["kind"] == "deliver"
                 and ev["msg"]["type"] == "Proposal"}
    dropped = {ev["dst"]: ev["reason"] for ev in sim.trace if ev["kind"] == "drop"}
    assert delivered == {1}
    assert dropped == {2: "partition", 3: "partition"}
    sim.heal()
    sim.run(until=None)
    assert sim.decided() == {5: 210}


def test_a_crashed_node_loses_messages_sent_to_it_and_its_timers():
    sim = Simulation(Config(clients=(210,)), seed=0)
    elect_and_assign(sim)
    deliver(sim, "Request", dst=0)
    sim.crash(0)
    assert not [p for p in sim.pending() if p.kind == "Timer" and p.dst == 0]
    assert sim.alive()[0] is False
    sim.crash(0)  # crashing a crashed node changes nothing
    deliver(sim, "Timer", dst=5)  # the client asks again; its proposer is down
    deliver(sim, "Request", dst=0)
    drop = sim.trace[-1]
    assert (drop["kind"], drop["dst"], drop["reason"]) == ("drop", 0, "crashed")
    sim.restart(0)
    sim.run(until=None)
    assert sim.decided() == {5: 210}
    assert [ev["kind"] for ev in sim.trace if ev["src"] == 0 and ev["kind"] in (
        "crash", "restart")] == ["crash", "restart"]


def test_messages_from_a_crashed_node_are_still_in_flight():
    """A crash stops the node, not the datagrams it already sent."""
    sim = Simulation(Config(clients=(210,)), seed=0)
    elect_and_assign(sim)
    deliver(sim, "Request", dst=0)
    sim.crash(0)
    assert len(find_all(sim, "Proposal", src=0)) == 3


def test_decided_maps_client_uids_to_the_value_they_heard():
    sim = contended()
    assert sim.decided() == {}
    sim.run(until=None)
    assert set(sim.decided()) == {6, 7}
    value = sim.decided()[6]
    assert value in (210, 220) and sim.decided()[7] == value


def test_snapshot_has_every_node_and_whether_it_is_alive():
    sim = contended()
    elect_and_assign(sim)
    sim.crash(3)
    snap = sim.snapshot()
    assert sorted(snap) == list(range(8))
    assert [snap[u]["alive"] for u in range(8)] == [True, True, True, False, True, True, True,
                                                    True]
    assert snap[3]["role"] == "acceptor" and "promised" in snap[3]
    assert [snap[u]["role"] for u in (0, 2, 5, 6)] == ["proposer", "acceptor", "learner",
                                                        "client"]


def test_restart_resumes_from_stable_storage_and_amnesia_forgets_the_paxos_state():
    sim = contended()
    elect_and_assign(sim)
    deliver(sim, "Request", dst=0)
    deliver(sim, "Proposal", dst=2)
    sim.restart(2)
    assert sim.snapshot()[2]["promised"] == 6 and sim.snapshot()[2]["role"] == "acceptor"
    sim.restart(2, amnesia=True)
    assert sim.snapshot()[2]["promised"] == 0 and sim.snapshot()[2]["role"] == "acceptor"
    restarts = [ev["msg"] for ev in sim.trace if ev["kind"] == "restart"]
    assert restarts == [{"type": "Restart", "amnesia": False}, {"type": "Restart", "amnesia": True}]


def test_unknown_ids_and_uids_are_refused_clearly():
    sim = contended()
    with pytest.raises(KeyError, match="#999"):
        sim.deliver(999)
    with pytest.raises(ValueError, match="uid 42"):
        sim.crash(42)


def test_every_event_follows_the_trace_schema():
    """seq counts from 0, t never goes back in a free run, kinds and fields as in docs/architecture.md."""
    sim = contended()
    sim.run(until=None)
    assert [ev["seq"] for ev in sim.trace] == list(range(len(sim.trace)))
    assert all(validate_event(ev) is None for ev in sim.trace)
    assert {ev["kind"] for ev in sim.trace} <= set(EVENT_KINDS)
    times = [ev["t"] for ev in sim.trace]
    assert times == sorted(times)
    sends = {ev["id"]: ev for ev in sim.trace if ev["kind"] == "send"}
    for ev in sim.trace:
        if ev["kind"] in ("deliver", "drop"):
            assert sends[ev["id"]]["msg"] == ev["msg"]


def test_message_counts_count_sends_by_kind_and_phase():
    sim = contended()
    sim.run(until=None)
    counts = message_counts(sim.trace)
    assert counts["by_kind"]["Token"] >= 2 * 6 - 1
    assert counts["by_kind"]["Proposal"] % 3 == 0
    assert sum(counts["by_kind"].values()) == sum(counts["by_phase"].values())
    assert "Timer" not in counts["by_kind"]


def test_the_online_monitor_and_the_offline_checker_agree():
    from .broken import NoAdoptProposer
    from .test_mistakes import no_adopt_schedule

    sim = no_adopt_schedule({"proposer": NoAdoptProposer})
    assert sim.violations and sim.violations == check_safety(sim.trace)


def test_jsonl_export_and_import_round_trip(tmp_path):
    sim = contended()
    sim.run(until=None)
    path = to_jsonl(sim.trace, tmp_path / "run.jsonl")
    assert path.read_text().count("\n") == len(sim.trace)
    assert read_jsonl(path) == sim.trace
    assert read_jsonl(str(path)) == sim.trace


def test_check_safety_reads_a_trace_file(tmp_path):
    """check_safety(path) gives the same answer as check_safety(events)."""
    from .broken import NoAdoptProposer
    from .test_mistakes import no_adopt_schedule

    safe = contended()
    safe.run(until=None)
    assert check_safety(to_jsonl(safe.trace, tmp_path / "safe.jsonl")) == []
    broken = no_adopt_schedule({"proposer": NoAdoptProposer})
    path = to_jsonl(broken.trace, tmp_path / "broken.jsonl")
    assert check_safety(str(path)) == check_safety(path) == check_safety(broken.trace) != []


def test_a_malformed_trace_file_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"seq": 0, "t": 0, "kind": "send", "src": 0, "dst": 1,
                       "msg": {"type": "Token", "uid": 0}, "phase": "election"})
    path.write_text(good + "\n\n" + "{nope\n")
    with pytest.raises(ValueError, match=":3: not JSON"):
        read_jsonl(path)
    path.write_text(good + "\n" + json.dumps({"seq": 1, "kind": "send"}) + "\n")
    with pytest.raises(ValueError, match=":2: missing field"):
        read_jsonl(path)
    path.write_text(good.replace('"send"', '"teleport"') + "\n")
    with pytest.raises(ValueError, match=":1: kind 'teleport'"):
        read_jsonl(path)


def test_a_ring_node_down_before_the_election_ends_is_named_in_the_status():
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1, clients=((7, 0),)),
                     seed=1).start()
    sim.crash(4)  # the largest uid: its own token, the winner, dies with it
    result = sim.run(until=None)
    assert result.status == sim.impossible() and not result.ok
    assert sim.leader() is None and sim.decided() == {}
    assert sim.impossible() == ("election cannot finish: node 4 is down, and the winning "
                                "token must pass every node of the ring")
    sim.restart(4)  # back on the ring: its token goes round again
    sim.run(until="decided")
    assert sim.leader() == 4 and sim.impossible() is None and sim.decided() == {5: 7}


def test_a_finished_run_is_freed_without_the_garbage_collector():
    """No reference cycle through the Simulation: property tests run thousands, each with
    its whole trace, and a cycle leaves them all for the cyclic collector to find."""
    import gc
    import weakref

    gc.disable()
    try:
        sim = contended()
        sim.set_faults(loss=0.2, duplicate=0.2, delay=(0, 5))
        sim.run(max_steps=300, order="random")
        sim.crash(0)
        sim.restart(0)
        gone = weakref.ref(sim)
        del sim
        assert gone() is None
    finally:
        gc.enable()
