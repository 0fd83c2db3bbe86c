"""The Driver surface, specified once and run on both drivers.

Every test here runs twice: on a ``Simulation`` and on a step-mode ``Cluster`` of real
node processes talking UDP. Where a test compares, it compares with a reference
``Simulation`` given the same script and seed: the same script gives the same pending
ids, decisions, statuses and message sequence on both drivers.
"""

from __future__ import annotations

import pytest

from paxos_edu import Config, Simulation
from paxos_edu.cluster import Cluster
from paxos_edu.core.messages import PAXOS_PHASES
from paxos_edu.driver import Driver, RunResult

CFG = Config(proposers=2, acceptors=3, learners=1)
TINY = Config(proposers=1, acceptors=1, learners=1)
SEED = 3


@pytest.fixture(params=["Simulation", "Cluster"])
def make(request):
    """``make(config)``: a fresh driver of this run's kind (a Cluster is in step mode)."""
    made: list = []

    def make(config: Config = CFG, seed: int = SEED):
        if request.param == "Simulation":
            d = Simulation(config, seed=seed)
        else:
            d = Cluster(config, mode="step", seed=seed)
        made.append(d)
        return d

    make.kind = request.param
    make.made = made
    yield make
    for d in made:
        d.close()


def comparable(trace) -> list[dict]:
    """A trace without its times (virtual ms in one driver, real ms in the other)."""
    return [{k: v for k, v in ev.items() if k != "t"} for ev in trace]


def described(pending) -> list[tuple]:
    return [(p.id, p.kind, p.src, p.dst, p.msg) for p in pending]


def contended(d):
    """Two clients asking two proposers for different values; the election's tokens pending."""
    d.propose(210, proposer=0)
    d.propose(220, proposer=1)
    d.start()
    return d


def every_call(d) -> list:
    """A script using every control call; returns what each call returned."""
    out = [d.propose(210, proposer=0)]
    d.start()
    out.append(d.run(until="elected").status)
    out.append(d.propose(220, proposer=1))
    for _ in range(6):
        out.append(d.step())
    messages = [p for p in d.pending() if p.kind == "Message"]
    out.append(d.drop(messages[0].id))
    out.append(d.duplicate(messages[1].id))
    out.append(d.delay(messages[2].id, by=60_000).id)
    d.crash(3)
    d.partition({0, 1, 2}, {4})
    for _ in range(8):
        out.append(d.step())
    d.heal()
    d.restart(3)
    d.deliver(messages[2].id)  # the delayed one, by hand
    out.append(d.run(until="decided").status)
    out += [d.decided(), d.alive(), d.leader(), d.impossible(), d.violations]
    return out


def test_both_drivers_implement_the_driver_protocol(make):
    d = make()
    assert isinstance(d, Driver)
    assert d.mode == "step"


def test_the_same_script_gives_the_same_run_on_both(make):
    """Ids, returned items, decisions, states and the message sequence all match."""
    d, reference = make(), Simulation(CFG, seed=SEED)
    assert every_call(d) == every_call(reference)
    assert comparable(d.trace) == comparable(reference.trace)
    assert d.snapshot() == reference.snapshot()
    assert d.actions == reference.actions
    assert len(d.decided()) == 2 and d.violations == []
    kinds = {ev["kind"] for ev in d.trace}
    assert {"send", "deliver", "drop", "duplicate", "crash", "restart", "state",
            "decide"} <= kinds
    assert any(ev.get("reason") == "partition" for ev in d.trace)


def test_pending_lists_messages_oldest_first_then_timers_soonest_first(make):
    d = contended(make())
    items = d.pending()
    kinds = [p.kind for p in items]
    assert kinds == sorted(kinds, key=lambda k: k == "Timer") and "Timer" in kinds
    messages = [p.id for p in items if p.kind == "Message"]
    assert messages == sorted(messages)
    timers = [p.due for p in items if p.kind == "Timer"]
    assert timers == sorted(timers)
    assert described(items) == described(contended(Simulation(CFG, seed=SEED)).pending())
    assert d.in_flight()  # the election's tokens
    for p in [p for p in items if p.kind == "Message"]:
        d.drop(p.id)
    assert not d.in_flight() and d.pending()  # only timers left


def test_step_delivers_the_oldest_ready_message_and_says_what_it_delivered(make):
    d = contended(make())
    for _ in range(20):
        oldest = min((p for p in d.pending() if p.kind == "Message"), key=lambda p: p.id)
        assert d.next_item() == oldest
        assert d.step() == oldest
        assert oldest.id not in [p.id for p in d.pending()]


def test_step_order_random_is_seeded_and_the_same_on_both(make):
    d, reference = contended(make()), contended(Simulation(CFG, seed=SEED))
    picked = [d.step(order="random") for _ in range(25)]
    assert picked == [reference.step(order="random") for _ in range(25)]
    ids = [p.id for p in picked]
    assert ids != sorted(ids)  # not oldest first
    with pytest.raises(ValueError, match="order='newest'"):
        d.step(order="newest")


def test_run_returns_a_run_result_whose_status_says_how_it_ended(make):
    d = make()
    d.propose(7)
    assert d.run() == RunResult({}, "not started: call start() first")
    d.start()
    first = d.run(until="elected")
    assert isinstance(first, RunResult) and first.status == "elected" and first.ok
    assert d.elected() and first.steps > 0 and first.decided == {}
    assert d.run(until="decided", max_steps=2).status == "max_steps (2) reached"
    told = d.run(until=lambda d: any(ev["kind"] == "decide" for ev in d.trace))
    assert told.status == "reached"
    done = d.run(until="decided")
    assert (done.status, done.decided) == ("decided", {6: 7}) and d.decided() == {6: 7}
    assert d.run(until="decided").steps == 0  # already there
    idle = d.run(until=None)
    assert idle.status == "idle" and d.pending() == []
    with pytest.raises(ValueError, match="until='soon'"):
        d.run(until="soon")


def test_run_stops_with_the_reason_once_a_decision_is_impossible(make):
    d = make(Config(proposers=1, acceptors=3, learners=1))
    d.start()
    assert d.run(until="elected").ok
    d.crash(2)
    d.crash(3)
    d.propose(7)
    result = d.run()
    assert result.status == "no quorum: acceptors 2, 3 of 3 are down" == d.impossible()
    assert not result.ok and d.decided() == {}


def test_runs_are_the_same_on_both(make):
    d, reference = contended(make()), contended(Simulation(CFG, seed=SEED))
    result, expected = d.run(), reference.run()
    assert (result.status, result.steps, result.decided) == (
        expected.status, expected.steps, expected.decided)
    assert comparable(d.trace) == comparable(reference.trace)


def test_seeded_faults_lose_and_duplicate_the_same_messages_on_both(make):
    d, reference = make(), Simulation(CFG, seed=SEED)
    for x in (d, reference):
        contended(x)
        assert x.run(until="elected").ok
        x.set_faults(loss=0.2, duplicate=0.3, phases=PAXOS_PHASES)
    result, expected = d.run(until="decided", timeout=60), reference.run(until="decided")
    assert result.status == expected.status == "decided"
    assert comparable(d.trace) == comparable(reference.trace)
    lost = [ev for ev in d.trace if ev["kind"] == "drop" and ev["reason"] == "lost"]
    copies = [ev for ev in d.trace if ev["kind"] == "duplicate"]
    assert lost and copies
    assert {ev["phase"] for ev in lost + copies} <= set(PAXOS_PHASES)
    again = type(d).replay(d.config, d.actions, seed=SEED)  # set_faults is an action too
    make.made.append(again)
    assert comparable(again.trace) == comparable(d.trace)
    with pytest.raises(ValueError, match="probability"):
        d.set_faults(loss=2)


def test_a_delayed_link_holds_its_messages_until_they_are_due(make):
    d = make(TINY)
    d.start()
    assert d.run(until="elected").ok
    d.set_faults(delay=60_000, links=[(3, 0)])  # the client's Request waits a minute
    d.propose(7)
    assert d.run(until=lambda d: any(p.msg.type == "Request" for p in d.pending())).ok
    request = next(p for p in d.pending() if p.msg.type == "Request")
    assert (request.src, request.dst) == (3, 0)
    assert d.next_item() != request  # another message, or a timer, is due sooner
    d.set_faults()
    d.deliver(request.id)  # ... unless you deliver it by hand
    assert d.run().status == "decided"


def test_replay_repeats_a_run_and_a_step_mode_cluster_replays_a_simulation(make):
    d = make()
    every_call(d)
    again = type(d).replay(d.config, d.actions, seed=SEED)
    make.made.append(again)
    assert comparable(again.trace) == comparable(d.trace)
    assert again.decided() == d.decided() and again.actions == d.actions
    reference = Simulation(CFG, seed=SEED)
    contended(reference).run(order="random")  # its actions: the ids it delivered, clock moves
    on_d = type(d).replay(reference.config, reference.actions, seed=SEED)
    make.made.append(on_d)
    assert comparable(on_d.trace) == comparable(reference.trace)


def test_wait_for_steps_until_the_predicate_holds_and_gives_up_when_nothing_is_pending(make):
    d = make(TINY)
    d.propose(7)
    d.start()
    assert not d.elected()
    assert d.wait_for(lambda d: d.elected(), timeout=30) is True
    assert d.elected() and d.decided() == {}  # stepped no further than needed
    assert d.wait_for(lambda d: False, timeout=30) is False
    assert d.pending() == [] and d.decided() == {3: 7}  # gave up: nothing left to step


def test_elected_means_a_leader_and_every_live_node_knowing_its_role(make):
    d = make()
    d.propose(7)
    d.start()
    while not d.elected():
        assert d.step() is not None
        snaps = [s for s in d.snapshot().values() if s["alive"]]
        everyone_knows = all(s["role"] is not None for s in snaps) and all(
            s["proposer"] is not None and s["proposer"] >= 0
            for s in snaps if s["kind"] == "client")
        assert d.elected() == (d.leader() is not None and everyone_knows)
    assert d.leader() == CFG.n_consensus - 1
    snaps = d.snapshot().values()
    assert all(s["role"] is not None for s in snaps)
    assert [s["proposer"] for s in snaps if s["kind"] == "client"] == [0]


def test_trace_is_a_new_list_of_the_events_so_far(make):
    d = contended(make())
    before = d.trace
    assert isinstance(before, list) and before is not d.trace and before == d.trace
    d.step()
    assert len(d.trace) > len(before) and d.trace[:len(before)] == before


def test_pause_resume_and_close_in_step_mode(make):
    with make(TINY) as d:
        d.propose(7)
        d.start()
        d.pause()  # already in step mode: nothing changes
        assert d.mode == "step"
        pending = described(d.pending())
        d.pause()
        assert described(d.pending()) == pending
        assert d.run().status == "decided"
    if make.kind == "Cluster":
        assert d.closed
        with pytest.raises(RuntimeError, match="closed"):
            d.step()
