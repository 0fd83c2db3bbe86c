"""The world at a cursor is rebuilt from the trace alone, by the rules in viz/state.py."""

from __future__ import annotations

import pytest

from paxos_edu import Config, check_safety
from paxos_edu.viz.state import (
    CAUSES,
    Replay,
    frame_indices,
    resolve,
    ring_order,
    roles_of,
    step_end,
    world_at,
)


def test_in_flight_messages_are_sent_and_neither_delivered_nor_dropped(paxos_trace, in_flight_at):
    replay = Replay(paxos_trace)
    for at in range(0, len(paxos_trace), 7):
        assert replay.world(at).in_flight.keys() == in_flight_at(paxos_trace, at).keys()


def test_a_node_shows_its_last_state_event(paxos_trace, state_at):
    for at in (20, 60, 97, len(paxos_trace) - 1):
        world = world_at(paxos_trace, at)
        for uid in range(8):
            expected = {k: v for k, v in state_at(paxos_trace, uid, at).items() if k != "type"}
            assert world.nodes.get(uid, {}) == expected


def test_violations_at_a_cursor_are_what_check_safety_finds_in_the_prefix(amnesia_trace):
    replay = Replay(amnesia_trace)
    for at in range(len(amnesia_trace)):
        found = [str(v) for v in replay.world(at).violations]
        assert found == [str(v) for v in check_safety(amnesia_trace[: at + 1])]


def test_moving_the_cursor_back_gives_the_same_world_as_a_fresh_replay(paxos_trace):
    replay = Replay(paxos_trace)
    replay.world(120)
    again = replay.world(30)
    fresh = world_at(paxos_trace, 30)
    assert (again.nodes, again.in_flight, again.tokens_sent) == (
        fresh.nodes, fresh.in_flight, fresh.tokens_sent)


def test_cursor_none_is_the_end_and_negative_counts_from_the_end(paxos_trace):
    assert resolve(paxos_trace, None) == len(paxos_trace) - 1
    assert resolve(paxos_trace, -2) == len(paxos_trace) - 2
    with pytest.raises(IndexError, match="events"):
        resolve(paxos_trace, len(paxos_trace))


def test_crashed_nodes_are_dead_until_they_restart(crash_trace):
    trace, uid = crash_trace
    crash = next(i for i, ev in enumerate(trace) if ev["kind"] == "crash")
    assert world_at(trace, crash - 1).alive[uid] is True
    assert world_at(trace, crash).alive[uid] is False


def test_ring_order_follows_the_token_sends():
    from paxos_edu import Simulation

    cfg = Config(proposers=3, acceptors=5, learners=3, ring="random", ring_seed=9)
    sim = Simulation(cfg)
    sim.start()
    order = list(cfg.ring_order)
    start = order.index(0)
    assert ring_order(sim.trace) == order[start:] + order[:start]
    assert ring_order(sim.trace, ring=[2, 1, 0]) == [2, 1, 0]


def test_roles_come_from_the_leaders_roles_message(paxos_trace):
    roles = roles_of(paxos_trace)
    assert roles == {0: "proposer", 1: "proposer", 2: "acceptor", 3: "acceptor",
                     4: "acceptor", 5: "learner", 6: "client", 7: "client"}


def test_roles_before_the_election_ends_are_plain_consensus_nodes(paxos_trace):
    assert set(roles_of(paxos_trace[:20]).values()) == {"consensus", "client"}


def test_step_frames_end_just_before_the_next_cause(paxos_trace):
    frames = frame_indices(paxos_trace, "steps")
    assert frames[-1] == len(paxos_trace) - 1
    for at in frames[:-1]:
        assert paxos_trace[at + 1]["kind"] in CAUSES
        assert step_end(paxos_trace, at) == at
    assert frame_indices(paxos_trace, "events") == list(range(len(paxos_trace)))
    messages = frame_indices(paxos_trace, "messages")
    assert all(paxos_trace[i]["kind"] in ("send", "deliver", "drop", "duplicate")
               for i in messages)
    with pytest.raises(ValueError, match="frames"):
        frame_indices(paxos_trace, "sometimes")


def test_drops_show_in_the_frame_where_they_happen(drop_trace):
    trace, mid, at = drop_trace
    assert [ev["id"] for ev in world_at(trace, at).dropped] == [mid]
    assert world_at(trace, at + 1).dropped == []
    assert [ev["id"] for ev in world_at(trace, at + 1, since=at - 1).dropped] == [mid]
