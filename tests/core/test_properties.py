"""Properties of Paxos under random schedules: safety always, liveness once faults stop.

A schedule (tests/core/faults.py) mixes random delivery order, drops, duplicates,
delays, timers firing early, crashes and restarts (of any proposer or learner and
of at most a minority of acceptors), and partitions that later heal. Election and
role assignment run first over reliable links: a lost Roles message is recovered only
for consensus nodes (see the test at the end), and a client cannot ask anyone.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxos_edu import Config, Simulation, check_safety

from .broken import MISTAKES
from .faults import OPS, FaultyRun, random_config, random_schedule
from .helpers import elect_and_assign, fifo, find

SEEDED_RUNS = 1000


def check_run(run: FaultyRun, schedule) -> None:
    """Safety during the faults; after them, every client decides one requested value."""
    run.apply_all(schedule)
    assert run.sim.violations == [], [str(v) for v in run.sim.violations]
    run.stop_faults()
    sim = run.sim
    assert sim.violations == [], [str(v) for v in sim.violations]
    assert check_safety(sim.trace) == []
    decided = sim.decided()
    assert sorted(decided) == list(run.cfg.client_uids), "some client never heard a decision"
    assert len(set(decided.values())) == 1, decided
    assert set(decided.values()) <= {v for v, _ in run.cfg.clients}
    learned = {ev["msg"]["v"] for ev in sim.trace if ev["kind"] == "decide"}
    assert learned == set(decided.values())


configs = st.builds(
    lambda p, a, lrn, clients, ring, ring_seed: Config(
        proposers=p, acceptors=a, learners=lrn, clients=tuple(clients), ring=ring,
        ring_seed=ring_seed),
    st.integers(1, 3), st.sampled_from((1, 3, 5)), st.integers(1, 2),
    st.lists(st.tuples(st.sampled_from((210, 220, 230, "x", "")), st.integers(0, 4)),
             min_size=1, max_size=3),
    st.sampled_from(("ascending", "descending", "random")), st.integers(0, 50))

schedules = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 1 << 16)), max_size=200)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs, seed=st.integers(0, 2**32 - 1), schedule=schedules)
def test_no_schedule_of_faults_breaks_safety_and_all_clients_decide_once_faults_stop(
        cfg, seed, schedule):
    """Whatever the network and crashes do, no invariant breaks; once they stop (heal,
    restart every crashed node, run), every client decides, all the same requested value."""
    check_run(FaultyRun(cfg, seed).setup(), schedule)


def test_a_thousand_seeded_fault_schedules_are_safe_and_live():
    """The same property over 1000 seeded small configurations and schedules (reproducible:
    the failing seed is in the message)."""
    for seed in range(SEEDED_RUNS):
        rng = random.Random(seed)
        cfg = random_config(rng)
        try:
            check_run(FaultyRun(cfg, seed).setup(), random_schedule(rng, rng.randint(0, 200)))
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, {cfg}: {exc}") from None


def test_safety_needs_no_majority_alive():
    """Crashing any number of acceptors (even all) can stop progress but never breaks safety."""
    for seed in range(300):
        rng = random.Random(10_000 + seed)
        run = FaultyRun(random_config(rng), seed).setup()
        run.max_down = len(run.acceptors)
        run.apply_all(random_schedule(rng, rng.randint(0, 200)))
        assert run.sim.violations == [], (seed, [str(v) for v in run.sim.violations])


@pytest.mark.parametrize("mistake", [
    "proposer not adopting the highest-numbered accepted value",
    "acceptor accepting below its promise",
    "learner counting a duplicated Accepted twice",
    "proposers sharing sequence numbers",
])
def test_the_random_schedules_are_strong_enough_to_catch_a_classic_mistake(mistake):
    """The property tests are not vacuous: the same random schedules, run with a broken
    role, find a safety violation within a few hundred seeds."""
    for seed in range(400):
        rng = random.Random(seed)
        cfg = random_config(rng)
        run = FaultyRun(cfg, seed)
        run.sim = Simulation(cfg, seed=seed, impl=MISTAKES[mistake])
        run.setup().apply_all(random_schedule(rng, rng.randint(0, 200)))
        run.stop_faults()
        if run.sim.violations:
            return
    pytest.fail(f"no seed out of 400 caught: {mistake}")


def test_decisions_survive_duplicating_every_message():
    """Delivering every message twice (a network that duplicates everything) is still safe
    and still decides."""
    sim = Simulation(Config(proposers=2, acceptors=3, clients=((1, 0), (2, 1))), seed=3)
    elect_and_assign(sim)
    for _ in range(2000):
        messages = [p for p in sim.pending() if p.kind == "Message"]
        if not messages:
            break
        sim.duplicate(messages[0].id)
        sim.deliver(messages[0].id)
    sim.run(until=None, max_steps=20_000, order="random")
    assert sim.violations == []
    assert len(set(sim.decided().values())) == 1 and sim.all_decided()


@pytest.mark.parametrize("lost_at", [0, 2])  # the proposer, an acceptor (the leader learns)
def test_a_lost_roles_message_does_not_stop_a_client_from_deciding(lost_at):
    """A consensus node whose Roles message was lost asks the leader again (an AskRoles when
    Paxos traffic reaches it, or its re-sent token), and its client decides."""
    sim = Simulation(Config(clients=(210,)), seed=0)
    sim.start()
    fifo(sim, ("Token",))
    leader = sim.leader()
    sim.drop(find(sim, "Roles", dst=lost_at).id)
    sim.run(until="decided", max_steps=3_000, order="random")
    assert sim.decided() == {5: 210} and sim.violations == []
    asked = [ev for ev in sim.trace if ev["kind"] == "send" and ev["src"] == lost_at
             and ev["msg"] in ({"type": "AskRoles"}, {"type": "Token", "uid": lost_at})]
    assert len(asked) >= 2  # its token in the election, then asking again
    assert {ev["dst"] for ev in asked if ev["msg"]["type"] == "AskRoles"} <= {leader}
    again = [ev for ev in sim.trace if ev["kind"] == "send" and ev["msg"]["type"] == "Roles"
             and ev["dst"] == lost_at]
    assert len(again) >= 2  # the first one, lost, and the answer
