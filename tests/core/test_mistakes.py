"""The classic Paxos mistakes, one scenario each, written as explicit message schedules.

Every test plays one schedule twice: with the correct roles it is safe and
decides the value Paxos must decide; with the one broken role (tests/core/broken.py)
the very same schedule breaks safety and ``check_safety`` names the invariant.

The cast (``CFG``): proposers P0=0 and P1=1, acceptors A=2, B=3, C=4, learner
L=5; client 6 asks P0 for 210, client 7 asks P1 for 220. Proposer numbers are
``uid + k*6``: P0 uses 6, 12, ...; P1 uses 7, 13, ...
"""

from __future__ import annotations

from paxos_edu import Config, Simulation, check_safety

from .broken import (
    MISTAKES,
    DoubleCountingLearner,
    ForgetfulProposer,
    NoAdoptProposer,
    PromiseBreakingAcceptor,
    SharedNumberProposer,
    StaleAckProposer,
)
from .helpers import deliver, deliver_all, elect_and_assign, find, invariants

CFG = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))
P0, P1, A, B, C, L, CLIENT0, CLIENT1 = range(8)
V0, V1 = 210, 220


def simulation(impl=None, cfg=CFG) -> Simulation:
    sim = Simulation(cfg, seed=1, impl=impl)
    elect_and_assign(sim)
    return sim


def phase1(sim: Simulation, proposer: int, acceptors: tuple[int, ...]) -> None:
    """1.1 and 1.2: the proposer's Proposals reach ``acceptors`` and their Acks come back."""
    for a in acceptors:
        deliver(sim, "Proposal", src=proposer, dst=a)
    for a in acceptors:
        deliver(sim, "Ack", src=a, dst=proposer)


def phase2(sim: Simulation, proposer: int, acceptors: tuple[int, ...], v) -> None:
    """2.1 and 2.2: Accept(n, v) reaches ``acceptors`` and their Accepteds reach the learner."""
    for a in acceptors:
        deliver(sim, "Accept", src=proposer, dst=a, v=v)
    for a in acceptors:
        deliver_all(sim, "Accepted", src=a, dst=L)


def finish(sim: Simulation) -> Simulation:
    """No more faults: let the simulator deliver everything that is left."""
    sim.run(until=None, max_steps=5_000, order="random")
    return sim


def assert_safe_and_decided(sim: Simulation, value) -> None:
    assert check_safety(sim.trace) == []
    assert sim.violations == []
    assert sim.decided() == {CLIENT0: value, CLIENT1: value}


def assert_broken(sim: Simulation, *names: str) -> list:
    found = check_safety(sim.trace)
    assert set(names) <= invariants(found), [str(v) for v in found]
    assert invariants(sim.violations) == invariants(found)  # online and offline checks agree
    return found


def test_every_mistake_is_registered_for_the_explorer():
    """MISTAKES maps each mistake to an impl override (or "amnesia"), and the explorer's
    tests search for every one of them (none is registered and then forgotten)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_explore import SEARCH

    assert MISTAKES and set(SEARCH) == set(MISTAKES)
    for name, impl in MISTAKES.items():
        assert impl == "amnesia" or (isinstance(impl, dict) and set(impl) <= {
            "proposer", "acceptor", "learner", "client"}), name


# -- proposer: 2.1 must adopt the highest-numbered accepted value -----------------------------

def no_adopt_schedule(impl) -> Simulation:
    sim = simulation(impl)
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))
    phase2(sim, P0, (A, B), V0)                 # 210 is chosen at n=6 by A and B
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (B, C))                     # B reports (6, 210) in its Ack
    accept = find(sim, "Accept", src=P1, dst=B)
    phase2(sim, P1, (B, C), accept.msg.v)
    return finish(sim)


def test_proposer_not_adopting_highest_numbered_accepted_value():
    """A proposer whose Acks report an accepted (n', v') must propose v', not its own value."""
    sim = no_adopt_schedule(None)
    assert find_first_accept_value(sim, P1) == V0
    assert_safe_and_decided(sim, V0)

    broken = no_adopt_schedule({"proposer": NoAdoptProposer})
    assert find_first_accept_value(broken, P1) == V1
    assert_broken(broken, "agreement")


def find_first_accept_value(sim: Simulation, proposer: int):
    return next(ev["msg"]["v"] for ev in sim.trace
                if ev["kind"] == "send" and ev["src"] == proposer and ev["msg"]["type"] == "Accept")


# -- acceptor: never accept below the promise ----------------------------------------------

def promise_breaking_schedule(impl) -> Simulation:
    sim = simulation(impl)
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))                     # Accept(6, 210) to A, B, C: held back
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (A, B, C))                  # everyone promises 7; nobody accepted anything
    phase2(sim, P1, (B, C), V1)                 # 220 is chosen at n=7 by B and C
    phase2(sim, P0, (A, B), V0)                 # the old Accept(6, 210) finally arrives
    return finish(sim)


def test_acceptor_accepting_below_its_promise():
    """An acceptor that promised n refuses Accept(m, v) for m < n (Nack), as it promised."""
    sim = promise_breaking_schedule(None)
    nacks = [ev for ev in sim.trace if ev["kind"] == "send" and ev["msg"]["type"] == "Nack"
             and ev["msg"]["rejects"] == "Accept"]
    assert {(ev["src"], ev["msg"]["n"], ev["msg"]["promised"]) for ev in nacks} >= {
        (A, 6, 7), (B, 6, 7)}
    assert_safe_and_decided(sim, V1)

    broken = promise_breaking_schedule({"acceptor": PromiseBreakingAcceptor})
    found = assert_broken(broken, "promise kept", "agreement")
    kept = [v for v in found if v.invariant == "promise kept"]
    assert any("acceptor 3 accepted number 6" in v.explanation and "promised 7" in v.explanation
               for v in kept), [str(v) for v in kept]


# -- acceptor: state must survive a restart ------------------------------------------------

def amnesia_schedule(amnesia: bool) -> Simulation:
    sim = simulation()
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))
    phase2(sim, P0, (A, B), V0)                 # 210 is chosen at n=6 by A and B
    sim.crash(B)
    sim.restart(B, amnesia=amnesia)
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (B, C))                     # does B still report (6, 210)?
    accept = find(sim, "Accept", src=P1, dst=B)
    phase2(sim, P1, (B, C), accept.msg.v)
    return finish(sim)


def test_acceptor_losing_its_state_on_restart():
    """An acceptor restarted from stable storage keeps its promise and its accepted value;
    one restarted without it (amnesia) lets a second value be chosen, and the checker says
    which values, which acceptors and which acceptor forgot."""
    assert_safe_and_decided(amnesia_schedule(False), V0)

    broken = amnesia_schedule(True)
    found = assert_broken(broken, "agreement", "monotonic promises")
    chosen = next(v for v in found if v.invariant == "agreement" and "chosen" in v.explanation)
    assert "210 at n=6 by acceptors 2, 3" in chosen.explanation
    assert "220 at n=7 by acceptors 3, 4" in chosen.explanation
    forgot = next(v for v in found if v.invariant == "monotonic promises")
    assert "acceptor 3" in forgot.explanation and "from 6" in forgot.explanation


def test_amnesia_alone_is_reported_as_a_forgotten_promise_not_as_accepting_number_zero():
    """Restarting an acceptor without its storage is a forgotten promise, not an accept."""
    sim = simulation()
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))
    phase2(sim, P0, (A, B), V0)
    sim.restart(B, amnesia=True)
    assert invariants(check_safety(sim.trace)) == {"monotonic promises"}


# -- learner: count distinct acceptors -----------------------------------------------------

def double_counting_schedule(impl) -> Simulation:
    sim = simulation(impl)
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))
    deliver(sim, "Accept", src=P0, dst=A)       # only A accepts (6, 210): not chosen
    vote = find(sim, "Accepted", src=A, dst=L)
    sim.duplicate(vote.id)                      # the network delivers A's vote twice
    deliver_all(sim, "Accepted", src=A, dst=L)
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (B, C))                     # B and C accepted nothing: 220 is free to go
    phase2(sim, P1, (B, C), V1)
    return finish(sim)


def test_learner_counting_a_duplicated_accepted_twice():
    """A learner decides only when a majority of distinct acceptors sent Accepted(n, v);
    one acceptor's vote delivered twice is still one vote."""
    sim = double_counting_schedule(None)
    assert_safe_and_decided(sim, V1)
    learner_decides = [ev["msg"]["v"] for ev in sim.trace
                       if ev["kind"] == "decide" and ev["src"] == L]
    assert set(learner_decides) == {V1}

    broken = double_counting_schedule({"learner": DoubleCountingLearner})
    found = assert_broken(broken, "learner soundness", "agreement")
    unsound = next(v for v in found if v.invariant == "learner soundness")
    assert "after only 1 distinct acceptor(s)" in unsound.explanation


# -- proposers: disjoint numbers -----------------------------------------------------------

def shared_number_schedule(impl) -> Simulation:
    sim = simulation(impl)
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    phase1(sim, P0, (A, B))                     # Accept(n0, 210) held back
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (B, C))
    phase2(sim, P1, (B, C), V1)                 # 220 is chosen by B and C
    phase2(sim, P0, (A, B), V0)                 # the held Accept(n0, 210) arrives
    return finish(sim)


def test_proposers_sharing_sequence_numbers():
    """Proposers draw numbers from disjoint sequences uid + k*N; if two share a number, an
    acceptor takes the second proposal for a repeat of the first and both can be chosen."""
    sim = shared_number_schedule(None)
    assert_safe_and_decided(sim, V1)

    broken = shared_number_schedule({"proposer": SharedNumberProposer})
    found = assert_broken(broken, "one value per number", "agreement")
    same = next(v for v in found if v.invariant == "one value per number")
    assert "number 6" in same.explanation and "210" in same.explanation
    assert "220" in same.explanation


# -- proposer: persist the round -----------------------------------------------------------

FORGETFUL_CFG = Config(proposers=1, acceptors=3, learners=1, clients=((210, 0), (230, 0)))


def forgetful_schedule(impl) -> Simulation:
    # P0=0, acceptors 1, 2, 3, learner 4, clients 5 (210) and 6 (230), both via P0; N = 5.
    p0, a1, a2, a3, lrn = range(5)
    sim = simulation(impl, FORGETFUL_CFG)
    deliver(sim, "Request", src=5, dst=p0)      # P0 proposes 210 with n=5
    sim.drop(find(sim, "Proposal", src=p0, dst=a3).id)
    phase1(sim, p0, (a1, a2))
    deliver(sim, "Accept", src=p0, dst=a1)      # a1 accepts (5, 210); Accepts to a2, a3 held
    sim.crash(p0)
    sim.restart(p0)
    deliver(sim, "Request", src=6, dst=p0)      # the restarted P0 now proposes 230
    phase1(sim, p0, (a2, a3))
    for a in (a2, a3):
        deliver(sim, "Accept", src=p0, dst=a, v=230)
        deliver(sim, "Accepted", src=a, dst=lrn)  # 230 is chosen by a2 and a3
    deliver(sim, "Accept", src=p0, dst=a2, v=210)  # the old incarnation's Accept arrives
    return finish(sim)


def test_proposer_reusing_its_number_after_restart():
    """A proposer persists its round before sending, so after a restart its numbers are new;
    one that forgets reuses n with another value and a stale Accept(n, v) gets accepted."""
    sim = forgetful_schedule(None)
    assert check_safety(sim.trace) == []
    assert sim.decided() == {5: 230, 6: 230}
    numbers = [ev["msg"]["n"] for ev in sim.trace
               if ev["kind"] == "send" and ev["msg"]["type"] == "Proposal" and ev["src"] == 0]
    assert numbers[:6] == [5, 5, 5, 10, 10, 10]

    broken = forgetful_schedule({"proposer": ForgetfulProposer})
    found = assert_broken(broken, "one value per number", "agreement")
    chosen = next(v for v in found if v.invariant == "agreement")
    assert "230" in chosen.explanation and "210 at n=5" in chosen.explanation


# -- proposer: only Acks for the current number count --------------------------------------

def stale_ack_schedule(impl) -> Simulation:
    sim = simulation(impl)
    deliver(sim, "Request", src=CLIENT0, dst=P0)
    deliver(sim, "Proposal", src=P0, dst=A)
    deliver(sim, "Proposal", src=P0, dst=C)     # Acks for n=6 from A and C: held back
    deliver(sim, "Request", src=CLIENT1, dst=P1)
    phase1(sim, P1, (B, C))
    phase2(sim, P1, (B, C), V1)                 # 220 is chosen at n=7 by B and C
    deliver(sim, "Timer", dst=P0, name="timeout")
    deliver(sim, "Timer", dst=P0, name="retry")  # P0 starts round n=12
    deliver(sim, "Ack", src=A, dst=P0)
    deliver(sim, "Ack", src=C, dst=P0)          # ... and now the n=6 Acks arrive
    deliver_all(sim, "Accept", src=P0, dst=A)
    deliver_all(sim, "Accept", src=P0, dst=B)
    deliver_all(sim, "Accepted", dst=L)
    return finish(sim)


def test_proposer_counting_a_stale_ack():
    """An Ack for an older number says nothing about what was accepted since: the proposer
    ignores it, rather than count it toward its current round."""
    sim = stale_ack_schedule(None)
    assert_safe_and_decided(sim, V1)

    broken = stale_ack_schedule({"proposer": StaleAckProposer})
    found = assert_broken(broken, "agreement")
    chosen = next(v for v in found if v.invariant == "agreement")
    assert "220 at n=7" in chosen.explanation and "210 at n=12" in chosen.explanation
