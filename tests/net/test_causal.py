"""CausalOrder, the switch's ordering decisions, without sockets: adversarial interleavings."""

from __future__ import annotations

import random

from paxos_edu.net.causal import CRASHED, LOST, CausalOrder


def acted(releases) -> list:
    return [r.payload for r in releases]


def test_a_datagram_without_cause_or_with_a_recorded_cause_is_released_at_once():
    o = CausalOrder()
    assert acted(o.arrive("A", 3, "A3", copies=(1, 2))) == ["A3"]
    assert acted(o.arrive("B", 5, "B5", cause=("A", 2))) == ["B5"]
    assert o.held() == 0 and o.wanted() == set()


def test_a_batch_before_its_cause_waits_and_so_do_its_nodes_later_datagrams():
    o = CausalOrder()
    assert o.arrive("B", 5, "B5", cause=("A", 2)) == []
    assert o.arrive("B", 6, "B6") == []  # no cause, but behind B5
    assert o.wanted() == {"A"}
    assert acted(o.arrive("A", 3, "A3", copies=(1, 2))) == ["A3", "B5", "B6"]
    assert o.held() == 0


def test_a_cause_held_at_its_sender_is_waited_for_without_asking():
    o = CausalOrder()
    o.arrive("A", 3, "A3", cause=("C", 1), copies=(2,))  # A's copy of 2 waits for C
    o.arrive("B", 5, "B5", cause=("A", 2))
    assert o.wanted() == {"C"}  # not A: its report is here
    assert acted(o.arrive("C", 2, "C2", copies=(1,))) == ["C2", "A3", "B5"]


def test_a_lost_report_is_proven_by_the_senders_sync_answer():
    o = CausalOrder()
    o.arrive("B", 5, "B5", cause=("A", 2))
    assert acted(o.arrive("A", 1, "A1", sync=True)) == ["A1"]  # an older answer
    assert o.held("B") == 1 and o.wanted() == {"A"}  # counter 1 proves nothing about 2
    releases = o.arrive("A", 4, "A4", sync=True)
    assert {r.payload: r.recover for r in releases} == {"A4": None, "B5": LOST}
    # the late copy (reordered, or resent) is skipped, the rest of its batch is not
    late = o.arrive("A", 9, "A9", copies=(2, 7))
    assert late[0].skip == frozenset({2})


def test_a_lost_sync_answer_changes_nothing_until_one_arrives():
    o = CausalOrder()
    o.arrive("B", 5, "B5", cause=("A", 2))
    for _ in range(3):  # questions asked again and again, answers lost: still held
        assert o.wanted() == {"A"} and o.held() == 1
    assert sorted(acted(o.arrive("A", 8, "A8", sync=True))) == ["A8", "B5"]


def test_a_crashed_sender_releases_what_waited_for_it_recovered_from_the_receiver():
    o = CausalOrder()
    o.arrive("B", 5, "B5", cause=("A", 2))
    o.arrive("B", 6, "B6", cause=("C", 1))
    releases = o.mark_dead("A")
    assert [(r.payload, r.recover) for r in releases] == [("B5", CRASHED)]
    assert o.wanted() == {"C"}
    assert acted(o.arrive("C", 2, "C2", copies=(1,))) == ["C2", "B6"]


def test_a_dead_senders_held_report_still_comes_first():
    o = CausalOrder()
    o.arrive("A", 3, "A3", cause=("C", 1), copies=(2,))
    o.arrive("B", 5, "B5", cause=("A", 2))
    assert o.mark_dead("A") == []  # A's copy of 2 is here, waiting for C: wait for it
    assert [(r.payload, r.recover) for r in o.arrive("C", 2, "C2", copies=(1,))] == [
        ("C2", None), ("A3", None), ("B5", None)]


def test_a_chain_of_causes_across_three_nodes_arriving_backwards():
    o = CausalOrder()
    assert o.arrive("C", 7, "C7", cause=("B", 4)) == []
    assert o.arrive("B", 5, "B5", cause=("A", 2), copies=(4,)) == []
    assert o.wanted() == {"A"}
    assert acted(o.arrive("A", 3, "A3", copies=(2,))) == ["A3", "B5", "C7"]


def test_many_nodes_held_at_once_in_any_arrival_order_keep_every_cause_first():
    rng = random.Random(12)
    for _ in range(200):
        # a random causal history: each node's input i is caused by an earlier send
        nodes, sent, events = [f"n{i}" for i in range(8)], [], []
        counters = dict.fromkeys(nodes, 0)
        for _ in range(30):
            node = rng.choice(nodes)
            cause = rng.choice(sent) if sent and rng.random() < 0.8 else None
            if cause and cause[0] == node:
                cause = None
            counters[node] += 1
            msg = (node, counters[node])  # the message this input sends
            counters[node] += 1
            events.append((node, counters[node], cause, msg))
            sent.append(msg)
        # each node's datagrams arrive in their own order, interleaved at random
        per_node = {n: [e for e in events if e[0] == n] for n in nodes}
        o, recorded, order = CausalOrder(), set(), []
        while any(per_node.values()):
            node = rng.choice([n for n in nodes if per_node[n]])
            ev = per_node[node].pop(0)
            for r in o.arrive(node, ev[1], ev, cause=ev[2], copies=(ev[3][1],)):
                assert r.recover is None
                assert r.payload[2] is None or r.payload[2] in recorded
                recorded.add(r.payload[3])
                order.append(r.payload)
        assert len(order) == len(events) and o.held() == 0


def test_a_cause_lost_for_good_is_recovered_once_even_if_many_wait_for_it():
    o = CausalOrder()
    o.arrive("B", 5, "B5", cause=("A", 2))
    o.arrive("C", 3, "C3", cause=("A", 2))
    releases = o.arrive("A", 6, "A6", sync=True)
    recovered = [r.payload for r in releases if r.recover]
    assert recovered == ["B5", "C3"][:len(recovered)] and len(recovered) == 1
    assert sorted(acted(releases)) == ["A6", "B5", "C3"]
