"""Each Paxos role on its own: handlers in, effects out, no simulator and no network."""

from __future__ import annotations

import random

import pytest

from paxos_edu import Config
from paxos_edu.core.effects import CancelTimer, Decide, Persist, Send, SetTimer
from paxos_edu.core.messages import (
    Accept,
    Accepted,
    Ack,
    Decided,
    Nack,
    Proposal,
    Request,
    Roles,
)
from paxos_edu.core.node import Node
from paxos_edu.core.paxos import Acceptor, Client, Learner, Proposer

ACCEPTORS = (2, 3, 4)
LEARNERS = (5,)
N = 6


def sends(effects) -> list[tuple[int, object]]:
    return [(e.dst, e.msg) for e in effects if isinstance(e, Send)]


def proposer(uid: int = 0, seed: int = 0, **kw) -> Proposer:
    return Proposer(uid, ACCEPTORS, N, rng=random.Random(seed), **kw)


def proposer_in_phase1(value=210) -> Proposer:
    p = proposer()
    p.receive_request(9, Request(value))
    return p


# -- acceptor --------------------------------------------------------------------------------

def test_acceptor_persists_its_promise_before_the_ack_leaves():
    """1.2: the Persist effect comes first, with the new promise, then the Ack."""
    a = Acceptor(2, LEARNERS)
    effects = a.receive_proposal(0, Proposal(6, 210))
    assert [type(e) for e in effects] == [Persist, Send]
    assert effects[0].data == {"promised": 6, "accepted_n": None, "accepted_v": None}
    assert sends(effects) == [(0, Ack(6, None, None))]


def test_acceptor_persists_what_it_accepted_before_any_accepted_leaves():
    """2.2: Persist, then Accepted(n, v) to every learner and to the proposer."""
    a = Acceptor(2, (5, 6))
    a.receive_proposal(0, Proposal(6, 210))
    effects = a.receive_accept(0, Accept(6, 210))
    assert isinstance(effects[0], Persist)
    assert effects[0].data == {"promised": 6, "accepted_n": 6, "accepted_v": 210}
    assert sends(effects[1:]) == [(5, Accepted(6, 210)), (6, Accepted(6, 210)),
                                  (0, Accepted(6, 210))]


def test_acceptor_reports_its_highest_accepted_proposal_in_the_ack():
    """1.2: Ack(n, v', n') carries the accepted value and number (Ghosh's v', n')."""
    a = Acceptor(2, LEARNERS)
    a.receive_accept(0, Accept(6, 210))
    assert sends(a.receive_proposal(1, Proposal(7, 220))) == [(1, Ack(7, 210, 6))]


@pytest.mark.parametrize("kind", ["Proposal", "Accept"])
def test_acceptor_nacks_below_its_promise_with_the_promised_number(kind):
    """A number below the promise gets Nack(n, promised), and nothing changes or is persisted."""
    a = Acceptor(2, LEARNERS, promised=13)
    msg = Proposal(7, 220) if kind == "Proposal" else Accept(7, 220)
    handler = a.receive_proposal if kind == "Proposal" else a.receive_accept
    effects = handler(1, msg)
    assert effects == [Send(1, Nack(7, 13, kind))]
    assert a.durable() == {"promised": 13, "accepted_n": None, "accepted_v": None}


def test_acceptor_repeats_its_ack_for_a_duplicated_proposal():
    """The same Proposal twice gets the same Ack twice, and is persisted only once."""
    a = Acceptor(2, LEARNERS)
    first = a.receive_proposal(0, Proposal(6, 210))
    second = a.receive_proposal(0, Proposal(6, 210))
    assert sends(first) == sends(second) == [(0, Ack(6, None, None))]
    assert not any(isinstance(e, Persist) for e in second)


def test_acceptor_accepts_a_larger_number_without_a_promise_and_raises_its_promise():
    """2.2: Accept(n) with n >= promise is accepted even if Proposal(n) never arrived."""
    a = Acceptor(2, LEARNERS, promised=6)
    a.receive_accept(1, Accept(13, 220))
    assert (a.promised, a.accepted_n, a.accepted_v) == (13, 13, 220)
    assert sends(a.receive_proposal(0, Proposal(12, 210))) == [(0, Nack(12, 13, "Proposal"))]


def test_acceptor_state_survives_a_restart_through_durable_and_restore():
    a = Acceptor(2, LEARNERS)
    a.receive_accept(1, Accept(7, "x"))
    b = Acceptor(2, LEARNERS)
    b.restore(a.durable())
    assert b.durable() == a.durable() == {"promised": 7, "accepted_n": 7, "accepted_v": "x"}


# -- proposer --------------------------------------------------------------------------------

def test_proposer_numbers_are_uid_plus_k_times_n_disjoint_and_increasing():
    """Round k of proposer uid uses uid + k*N: no two proposers ever share a number."""
    seqs = {}
    for uid in range(3):
        p = proposer(uid)
        seqs[uid] = [p.next_number() for _ in range(50)]
        assert seqs[uid] == [uid + k * N for k in range(1, 51)]
        assert seqs[uid] == sorted(set(seqs[uid]))
    assert not set(seqs[0]) & set(seqs[1]) and not set(seqs[1]) & set(seqs[2])


def test_proposer_persists_its_round_before_sending_proposals():
    """1.1: Persist(round) first, then Proposal(n, v) to every acceptor, then the timeout."""
    effects = proposer().receive_request(9, Request(210))
    assert effects[0] == Persist({"round": 1, "highest_seen": 0})
    assert sends(effects[1:4]) == [(a, Proposal(6, 210)) for a in ACCEPTORS]
    assert effects[4:] == [SetTimer("timeout", 50.0)]


def test_proposer_goes_to_phase_2_on_a_majority_of_acks_for_its_number():
    """2.1: two Acks of three for n=6 -> Accept(6, own value) to every acceptor."""
    p = proposer_in_phase1()
    assert p.receive_ack(2, Ack(6, None, None)) == []
    effects = p.receive_ack(3, Ack(6, None, None))
    assert sends(effects) == [(a, Accept(6, 210)) for a in ACCEPTORS]
    assert p.status == "phase 2"


def test_proposer_adopts_the_value_of_the_highest_numbered_accepted_proposal():
    """2.1: of the reported (n', v'), the value with the largest n' wins over its own."""
    p = proposer_in_phase1()
    p.n = 19
    p.receive_ack(2, Ack(19, "old", 7))
    effects = p.receive_ack(4, Ack(19, "newer", 13))
    assert {msg.v for _, msg in sends(effects)} == {"newer"}


@pytest.mark.parametrize("nothing", [Ack(19, None, None), Ack(19, None, 0)],
                         ids=["null", "older-0"])
def test_proposer_reads_an_ack_of_nothing_accepted_in_either_spelling(nothing):
    """2.1: ack(n, ⊥, ⊥) (null, or 0 from an acceptor counting from 0) reports nothing: with
    another Ack reporting (7, "old") the proposer adopts "old"; with two of them, its own."""
    p = proposer_in_phase1()
    p.n = 19
    p.receive_ack(2, nothing)
    assert {msg.v for _, msg in sends(p.receive_ack(4, Ack(19, "old", 7)))} == {"old"}
    q = proposer_in_phase1(210)
    q.n = 19
    q.receive_ack(2, nothing)
    assert {msg.v for _, msg in sends(q.receive_ack(3, nothing))} == {210}


def test_acceptor_restores_the_older_0_of_nothing_accepted_as_none():
    """A state file written when 0 meant nothing accepted restores as None (Ghosh's ⊥)."""
    a = Acceptor(2, LEARNERS)
    a.restore({"promised": 7, "accepted_n": 0, "accepted_v": None})
    assert (a.promised, a.accepted_n, a.accepted_v) == (7, None, None)
    assert sends(a.receive_proposal(0, Proposal(8, 1))) == [(0, Ack(8, None, None))]


def test_proposer_ignores_acks_for_other_numbers_and_counts_each_acceptor_once():
    p = proposer_in_phase1()
    assert p.receive_ack(2, Ack(5, None, 0)) == []
    assert p.receive_ack(2, Ack(6, None, 0)) == []
    assert p.receive_ack(2, Ack(6, None, 0)) == []  # duplicate: still one Ack
    assert p.status == "phase 1" and sorted(p.acks) == [2]


def test_proposer_skips_above_a_nacked_promise():
    """After Nack(n, promised=40) the next number is the first uid + k*N above 40."""
    p = proposer_in_phase1()
    effects = p.receive_nack(3, Nack(6, 40))
    assert p.status == "backoff"
    assert CancelTimer("timeout") in effects
    retry = next(e for e in effects if isinstance(e, SetTimer))
    assert retry.name == "retry" and 5.0 <= retry.delay <= 40.0
    restart = p.on_timer("retry")
    assert sends(restart)[0][1] == Proposal(42, 210)  # 0 + 7*6 = 42 > 40
    assert p.n == 42 and p.round == 7


def test_proposer_backoff_is_drawn_from_the_injected_random():
    """Same seed, same delays; another seed, other delays."""
    def delays(seed):
        p = proposer(seed=seed)
        p.receive_request(9, Request(1))
        out = []
        for _ in range(10):
            out += [e.delay for e in p.on_timer("timeout") if isinstance(e, SetTimer)]
            p.on_timer("retry")
        return out

    assert delays(1) == delays(1)
    assert delays(1) != delays(2)
    assert delays(1)[0] == random.Random(1).uniform(5.0, 40.0)


def test_proposer_is_done_on_a_majority_of_accepted_for_its_number():
    p = proposer_in_phase1()
    p.receive_ack(2, Ack(6, None, 0))
    p.receive_ack(3, Ack(6, None, 0))
    assert p.receive_accepted(2, Accepted(6, 210)) == []
    assert p.receive_accepted(2, Accepted(6, 210)) == []  # the same acceptor again
    assert p.receive_accepted(4, Accepted(6, 210)) == [CancelTimer("timeout")]
    assert p.status == "done"


def test_proposer_keeps_the_first_requested_value_and_ignores_requests_mid_round():
    p = proposer_in_phase1(210)
    assert p.receive_request(8, Request(220)) == []
    assert p.value == 210


def test_proposer_resumes_its_round_after_a_restart():
    """Restored from durable(), the next number is above every number used before."""
    p = proposer_in_phase1()
    p.on_timer("timeout")
    p.on_timer("retry")  # n = 12
    q = proposer()
    q.restore(p.durable())
    assert q.next_number() == 18


# -- learner ---------------------------------------------------------------------------------

def test_learner_decides_on_a_majority_of_distinct_acceptors_and_tells_clients():
    lrn = Learner(5, ACCEPTORS, [7, 8])
    assert lrn.receive_accepted(2, Accepted(6, 210)) == []
    effects = lrn.receive_accepted(3, Accepted(6, 210))
    assert effects == [Decide(210, 6), Send(7, Decided(210, 6)), Send(8, Decided(210, 6))]
    assert lrn.value == 210


def test_learner_never_counts_a_duplicate_twice():
    """The same acceptor's Accepted, delivered any number of times, is one vote."""
    lrn = Learner(5, ACCEPTORS, [7])
    for _ in range(5):
        assert lrn.receive_accepted(2, Accepted(6, 210)) == []
    assert lrn.votes == {(6, 210): {2}} and lrn.value is None


def test_learner_counts_votes_per_number_and_value():
    """Votes for (6, 210) and (7, 210) are different ballots: no majority for either."""
    lrn = Learner(5, ACCEPTORS, [7])
    assert lrn.receive_accepted(2, Accepted(6, 210)) == []
    assert lrn.receive_accepted(3, Accepted(7, 210)) == []
    assert lrn.receive_accepted(4, Accepted(6, 220)) == []


def test_learner_ignores_accepted_from_a_non_acceptor():
    lrn = Learner(5, ACCEPTORS, [7])
    assert lrn.receive_accepted(0, Accepted(6, 210)) == []
    assert lrn.receive_accepted(9, Accepted(6, 210)) == []
    assert lrn.receive_accepted(2, Accepted(6, 210)) == []


def test_learner_decides_each_number_once():
    lrn = Learner(5, ACCEPTORS, [7])
    lrn.receive_accepted(2, Accepted(6, 210))
    lrn.receive_accepted(3, Accepted(6, 210))
    assert lrn.receive_accepted(4, Accepted(6, 210)) == []


# -- client ----------------------------------------------------------------------------------

ROLES = Roles(5, (0, 1), (2, 3, 4), (5,), (6,))


def test_client_picks_its_proposer_modulo_and_sends_its_request():
    c = Client(6, 210, proposer_index=3, resend=100.0)
    effects = c.receive_roles(5, ROLES)
    assert effects == [Send(1, Request(210)), SetTimer("resend", 100.0)]


def test_client_resends_after_its_timer_until_decided():
    """resend: no decision yet -> the Request again (and the timer again); then silence."""
    c = Client(6, 210, proposer_index=0)
    c.receive_roles(5, ROLES)
    for _ in range(3):
        assert c.on_timer("resend") == [Send(0, Request(210)), SetTimer("resend", 200.0)]
    assert c.requests_sent == 4
    assert c.receive_decided(5, Decided(210, 6)) == [CancelTimer("resend"), Decide(210, 6)]
    assert c.on_timer("resend") == []


def test_client_keeps_its_first_decision_and_reports_a_different_one():
    c = Client(6, 210, proposer_index=0)
    c.receive_roles(5, ROLES)
    c.receive_decided(5, Decided(220, 7))
    assert c.receive_decided(5, Decided(220, 13)) == []
    assert c.receive_decided(5, Decided(210, 19)) == [Decide(210, 19)]
    assert c.decided == 220


def test_client_without_roles_does_not_resend():
    assert Client(6, 210, proposer_index=0).on_timer("resend") == []


# -- node: the harness that wires a role to its election ------------------------------------

def test_a_node_ignores_paxos_traffic_before_it_knows_its_role():
    node = Node(2, Config())
    assert node.handle(0, Proposal(6, 1)) == []
    assert node.role is None


def test_a_node_persists_its_roles_and_resumes_from_storage():
    cfg = Config()
    node = Node(1, cfg)
    effects = node.handle(4, cfg.roles(4))
    assert effects == [Persist(node.storage()), CancelTimer("election")]  # roles on disk first
    node.handle(0, Proposal(5, 1))
    restarted = Node(1, cfg, storage=node.storage())
    assert restarted.role.role == "acceptor" and restarted.role.promised == 5
    assert restarted.start() == []
