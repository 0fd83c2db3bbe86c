"""The safety checker on hand-written traces: each invariant, caught and explained.

Acceptors are 1, 2, 3 and the learner is 4 (from the Roles event); client 9
requested "a" and "b".
"""

from __future__ import annotations

from paxos_edu import check_safety
from paxos_edu.core.invariants import SafetyMonitor

from .helpers import invariants


class Trace(list):
    """A trace under construction: ``t.send(src, dst, type, **fields)`` and friends."""

    def event(self, kind, src, dst, msg, phase=None):
        self.append({"seq": len(self), "t": float(len(self)), "kind": kind, "src": src,
                     "dst": dst, "msg": msg, "phase": phase})
        return self

    def send(self, src, dst, type, **fields):
        return self.event("send", src, dst, {"type": type, **fields})

    def state(self, uid, **snap):
        return self.event("state", uid, None, {"type": "State", "uid": uid, **snap})

    def decide(self, uid, v, n=None):
        return self.event("decide", uid, uid, {"type": "Decided", "v": v, "n": n}, "3")

    def accepted(self, acceptor, n, v, dst=4):
        return self.send(acceptor, dst, "Accepted", n=n, v=v)


def setup() -> Trace:
    t = Trace()
    for uid in range(5):
        t.state(uid, kind="consensus", leader=4 if uid == 4 else -1)
    t.send(4, 0, "Roles", leader=4, proposers=[0], acceptors=[1, 2, 3], learners=[4],
           clients=[9])
    return t.send(9, 0, "Request", v="a").send(8, 0, "Request", v="b")


def test_a_safe_run_has_no_violation():
    t = setup().accepted(1, 5, "a").accepted(2, 5, "a").decide(4, "a", 5).decide(9, "a", 5)
    t.accepted(2, 10, "a").accepted(3, 10, "a").decide(4, "a", 10)  # same value again: fine
    assert check_safety(t) == []


def test_two_values_chosen_break_agreement_and_the_explanation_says_which_and_by_whom():
    t = setup()
    first = len(t)
    t.accepted(1, 5, "a").accepted(2, 5, "a").accepted(2, 10, "b").accepted(3, 10, "b")
    [v] = check_safety(t)
    assert v.invariant == "agreement"
    assert "'a' at n=5 by acceptors 1, 2" in v.explanation
    assert "'b' at n=10 by acceptors 2, 3" in v.explanation
    assert v.events == tuple(range(first, first + 4))  # the four votes, by seq
    assert str(v).startswith("agreement: two values were chosen")


def test_two_values_decided_break_agreement():
    t = setup().decide(9, "a").decide(8, "b")
    assert [v.invariant for v in check_safety(t)] == ["agreement"]
    assert "node 9 decided 'a'" in check_safety(t)[0].explanation


def test_a_decided_value_nobody_requested_breaks_validity():
    """1 and "1" are different values."""
    t = setup().send(7, 0, "Request", v=1).decide(9, "1")
    [v] = check_safety(t)
    assert v.invariant == "validity" and "'1'" in v.explanation


def test_a_learner_deciding_on_a_minority_breaks_learner_soundness():
    t = setup().accepted(1, 5, "a").accepted(1, 5, "a").decide(4, "a", 5)
    [v] = check_safety(t)
    assert v.invariant == "learner soundness"
    assert "after only 1 distinct acceptor(s)" in v.explanation and "majority is 2" in v.explanation


def test_accepted_from_a_non_acceptor_is_no_vote():
    t = setup().accepted(1, 5, "a").accepted(0, 5, "a").decide(4, "a", 5)
    assert invariants(check_safety(t)) == {"learner soundness"}


def test_accepting_below_the_promise_breaks_promise_kept():
    t = setup().state(2, role="acceptor", promised=7, accepted_n=0)
    t.state(2, role="acceptor", promised=7, accepted_n=5)
    [v] = check_safety(t)
    assert v.invariant == "promise kept"
    assert "acceptor 2 accepted number 5" in v.explanation and "promised 7" in v.explanation


def test_a_promise_going_down_breaks_monotonic_promises():
    t = setup().state(2, role="acceptor", promised=7, accepted_n=0)
    t.state(2, role="acceptor", promised=3, accepted_n=0)
    [v] = check_safety(t)
    assert v.invariant == "monotonic promises" and "from 7" in v.explanation


def test_two_values_for_one_number_break_one_value_per_number():
    t = setup().send(0, 1, "Accept", n=5, v="a").send(0, 2, "Accept", n=5, v="a")
    t.send(0, 3, "Accept", n=5, v="b")
    [v] = check_safety(t)
    assert v.invariant == "one value per number" and "number 5" in v.explanation


def test_two_leaders_or_a_small_leader_break_the_election_invariants():
    t = Trace()
    for uid in range(3):
        t.state(uid, kind="consensus", leader=-1)
    t.state(1, kind="consensus", leader=1).state(2, kind="consensus", leader=2)
    assert sorted(v.invariant for v in check_safety(t)) == ["largest uid leads", "one leader"]


def test_the_monitor_checks_one_event_at_a_time_and_copies_independently():
    events = setup().accepted(1, 5, "a").accepted(2, 5, "a").accepted(2, 10, "b")
    mon = SafetyMonitor()
    for ev in events:
        assert mon.observe(ev) == []
    fork = mon.copy()
    assert [v.invariant for v in fork.observe(
        {"seq": 99, "kind": "send", "src": 3, "dst": 4, "msg": {
            "type": "Accepted", "n": 10, "v": "b"}})] == ["agreement"]
    assert mon.violations == [] and len(fork.violations) == 1


def test_each_violation_is_reported_once():
    t = setup().accepted(1, 5, "a").accepted(2, 5, "a")
    t.accepted(2, 10, "b").accepted(3, 10, "b").accepted(3, 10, "b", dst=0)
    found = check_safety(t)
    assert len(found) == len(set(found)) == 1
