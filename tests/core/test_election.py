"""Chang-Roberts leader election and the leader's role assignment.

Message counts are the textbook's: on a ring of n processes, 2n-1 tokens when
the uids ascend along the ring, n(n+1)/2 when they descend, and n*H_n on
average over random rings. ``fifo`` always delivers the oldest pending message.
"""

from __future__ import annotations

import random
import statistics

import pytest

from paxos_edu import Config, Simulation, message_counts
from paxos_edu.core import election
from paxos_edu.core.election import (
    BLACK,
    COMPARISONS,
    LEADER,
    RED,
    STATES,
    TRANSITIONS,
    Election,
    compare,
)
from paxos_edu.core.messages import Token

from .helpers import fifo


def ring(n: int, order="ascending", seed: int = 0, **kw) -> Config:
    """A configuration with n consensus nodes (1 proposer, n-2 acceptors, 1 learner)."""
    return Config(proposers=1, acceptors=n - 2, learners=1, ring=order, ring_seed=seed, **kw)


def elect(cfg: Config, seed: int = 0) -> Simulation:
    sim = Simulation(cfg, seed=seed)
    sim.start()
    fifo(sim)
    return sim


def tokens(sim: Simulation) -> int:
    return message_counts(sim.trace)["by_kind"].get("Token", 0)


def harmonic(n: int) -> float:
    return sum(1 / k for k in range(1, n + 1))


@pytest.mark.parametrize("n", [3, 4, 5, 8, 11, 20])
def test_ascending_ring_with_fifo_links_takes_exactly_2n_minus_1_tokens(n):
    """Uids ascending along the ring: every token but the largest dies after one hop."""
    sim = elect(ring(n, "ascending"))
    assert tokens(sim) == 2 * n - 1
    assert sim.leader() == n - 1


@pytest.mark.parametrize("n", [3, 4, 5, 8, 11, 20])
def test_descending_ring_takes_exactly_n_times_n_plus_1_over_2_tokens(n):
    """Uids descending along the ring: token i travels i+1 hops, the largest n hops."""
    sim = elect(ring(n, "descending"))
    assert tokens(sim) == n * (n + 1) // 2
    assert sim.leader() == n - 1


def test_random_rings_take_n_h_n_tokens_on_average():
    """Over 300 random rings of 11 nodes the mean is within 10% of n*H_n (about 33.2)."""
    n = 11
    counts = [tokens(elect(ring(n, "random", seed=s))) for s in range(300)]
    expected = n * harmonic(n)
    assert abs(statistics.mean(counts) - expected) < 0.1 * expected
    assert 2 * n - 1 <= min(counts) and max(counts) <= n * (n + 1) // 2


@pytest.mark.parametrize("order", ["ascending", "descending", "random", (3, 0, 4, 1, 2)])
def test_the_leader_is_the_largest_uid_whatever_the_delivery_order(order):
    """Delivering tokens in random order, some duplicated, still elects exactly one leader,
    the largest uid, and the safety checker sees no election violation."""
    for seed in range(50):
        cfg = ring(5, order, seed=seed)
        sim = Simulation(cfg, seed=seed)
        sim.start()
        rng = random.Random(seed)
        for _ in range(500):
            msgs = [p for p in sim.pending() if p.kind == "Message"]
            if not msgs:
                break
            pick = rng.choice(msgs)
            if pick.msg.type == "Token" and rng.random() < 0.2:
                sim.duplicate(pick.id)
            sim.deliver(pick.id)
        leaders = {uid for uid, s in sim.snapshot().items() if s.get("leader") == uid}
        assert leaders == {4}
        assert sim.violations == []
        assert {s["leader"] for s in sim.snapshot().values() if s.get("kind") == "consensus"} == {4}


@pytest.mark.parametrize("p,a,lrn", [(1, 1, 1), (2, 3, 1), (3, 5, 2), (1, 7, 3)])
def test_roles_follow_the_rule_and_reach_every_node_and_client(p, a, lrn):
    """The leader gives the first P uids the proposer role, the next A the acceptor role and
    the last L the learner role; every consensus node and every client hears it."""
    cfg = Config(proposers=p, acceptors=a, learners=lrn, clients=(1, 2), ring="random",
                 ring_seed=p + a)
    sim = elect(cfg)
    n = p + a + lrn
    snap = sim.snapshot()
    expected = ["proposer"] * p + ["acceptor"] * a + ["learner"] * lrn
    assert [snap[u]["role"] for u in range(n)] == expected
    assert [snap[u]["leader"] for u in range(n)] == [n - 1] * n
    assert snap[n]["role"] == snap[n + 1]["role"] == "client"
    assert snap[n]["proposer"] == 0
    roles = [ev for ev in sim.trace if ev["kind"] == "deliver" and ev["msg"]["type"] == "Roles"]
    assert sorted(ev["dst"] for ev in roles) == [u for u in range(n + 2) if u != n - 1]
    msg = roles[0]["msg"]
    assert (msg["proposers"], msg["acceptors"], msg["learners"], msg["clients"]) == (
        list(range(p)), list(range(p, p + a)), list(range(p + a, n)), [n, n + 1])


def test_a_client_added_after_the_election_gets_the_roles_from_the_leader():
    """propose() after the election: the leader sends the new client the roles, it asks."""
    sim = elect(ring(4))
    uid = sim.propose(99)
    roles = [p for p in sim.pending() if p.msg.type == "Roles"]
    assert [(p.src, p.dst) for p in roles] == [(3, uid)]
    sim.run()
    assert sim.decided() == {uid: 99}


# -- the transition table ------------------------------------------------------------------

def test_the_table_has_one_entry_for_every_state_and_comparison():
    """No (state, comparison) pair falls outside TRANSITIONS: red, black and the leader,
    each meeting a larger, a smaller and its own uid; every entry names a known action and
    a colour."""
    assert set(TRANSITIONS) == {(s, c) for s in STATES for c in COMPARISONS}
    assert len(TRANSITIONS) == len(STATES) * len(COMPARISONS) == 9
    for action, after in TRANSITIONS.values():
        assert action in ("forward", "drop", "win", "ignore") and after in (RED, BLACK)


@pytest.mark.parametrize("state,relation,action,after", [
    (RED, "larger", "forward", BLACK),
    (RED, "smaller", "drop", RED),
    (RED, "own", "win", RED),
    (BLACK, "larger", "forward", BLACK),
    (BLACK, "smaller", "forward", BLACK),
    (LEADER, "own", "ignore", RED),
    (LEADER, "smaller", "drop", RED),
])
def test_each_reachable_transition_does_what_the_table_says(state, relation, action, after):
    """A process with uid 5 in ``state`` receiving a larger, smaller or its own token."""
    assert TRANSITIONS[(state, relation)] == (action, after)
    e = Election(uid=5, successor=6, color=RED if state == LEADER else state,
                 leader=5 if state == LEADER else None)
    assert e.state == state
    j = {"larger": 9, "smaller": 2, "own": 5}[relation]
    assert compare(j, 5) == relation
    taken, effects = e.receive_token(Token(j))
    assert (taken, e.color) == (action, after)
    assert [(s.dst, s.msg) for s in effects] == ([(6, Token(j))] if action == "forward" else [])
    assert e.is_leader == (action in ("win", "ignore") or state == LEADER)


def test_a_duplicated_winning_token_is_ignored():
    """A winner that sees its own token again stays leader and does nothing."""
    e = Election(uid=5, successor=6)
    assert e.leader is None and e.state == RED
    assert e.receive_token(Token(5)) == ("win", [])
    assert e.state == LEADER
    assert e.receive_token(Token(5)) == ("ignore", [])
    assert e.is_leader and e.tokens_seen == 2 and e.leader == 5


def test_a_process_knows_its_own_uid_as_the_largest_until_a_larger_token_passes():
    """``largest`` (whom a node without roles asks) starts at the process's own uid."""
    e = Election(uid=5, successor=6)
    assert e.largest == 5
    e.receive_token(Token(2))
    assert e.largest == 5
    e.receive_token(Token(9))
    assert e.largest == 9


def test_the_running_code_takes_every_step_from_the_table(monkeypatch):
    """Elections consult TRANSITIONS (transitions are data); over random rings, random
    delivery orders and a duplicated token now and then, every entry is used except
    (black, own) and (leader, larger), which cannot happen."""
    used: set = set()

    class Recording(dict):
        def __getitem__(self, key):
            used.add(key)
            return super().__getitem__(key)

    monkeypatch.setattr(election, "TRANSITIONS", Recording(TRANSITIONS))
    for seed in range(40):
        sim = Simulation(ring(6, "random", seed=seed), seed=seed)
        sim.start()
        rng = random.Random(seed)
        while msgs := [p for p in sim.pending() if p.kind == "Message"]:
            pick = rng.choice(msgs)
            if pick.msg.type == "Token" and rng.random() < 0.1:
                sim.duplicate(pick.id)
            sim.deliver(pick.id)
    assert used == set(TRANSITIONS) - {(BLACK, "own"), (LEADER, "larger")}
