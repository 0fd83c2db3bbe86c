"""The exercise checker: every right rule passes, every wrong one fails with a reason.

``check`` says PASSED only when its rules were safe in every schedule it tried (the
scripted three-number schedules and a *complete* exploration) and every lossy run
decided: PASSED means safe AND live, within those limits. Each wrong rule below must
get a FAILED report naming why (an invariant, "never decided", or what the rule
returned); each right rule must pass.
"""

from __future__ import annotations

from collections import Counter

import pytest

from paxos_edu.core.effects import Send
from paxos_edu.core.messages import Ack
from paxos_edu.core.paxos import Acceptor
from paxos_edu.exercises import (
    CONFIG,
    SCRIPTS,
    RuleError,
    acceptor_class,
    check,
    proposer_class,
    reference,
    run_script,
)
from paxos_edu.explorer import explore


def _reported(acks):
    return [(n, v) for n, v in acks if n > 0]


def first_reported(acks, mine):
    return next((v for n, v in acks if n > 0), mine)


def last_reported(acks, mine):
    return next((v for n, v in reversed(acks) if n > 0), mine)


def lowest_number(acks, mine):
    reports = _reported(acks)
    return min(reports)[1] if reports else mine


def largest_value(acks, mine):
    return max((v for _n, v in _reported(acks)), default=mine)


def smallest_value(acks, mine):
    return min((v for _n, v in _reported(acks)), default=mine)


def most_common_value(acks, mine):
    common = Counter(v for _n, v in _reported(acks)).most_common(1)
    return common[0][0] if common else mine


def ignore_below_seven(acks, mine):
    """Off-by-one threshold: reports numbered 6 are taken for stale."""
    reports = [(n, v) for n, v in acks if n > 6]
    return max(reports)[1] if reports else mine


def skip_first_ack(acks, mine):
    """Off-by-one index: acks[1:] instead of acks."""
    best_n, best_v = max(acks[1:], key=lambda nv: nv[0])
    return best_v if best_n > 0 else mine


def no_fallback(acks, mine):
    """Forgets the case where nothing was reported: proposes None."""
    return max(acks, key=lambda nv: nv[0])[1]


def raises_when_nothing_reported(acks, mine):
    return max(v for n, v in acks if n > 0)  # ValueError on an empty sequence


def returns_the_pair(acks, mine):
    return max(acks, key=lambda nv: nv[0]) if any(n for n, _ in acks) else mine


def not_written_yet(promised, n):
    raise RuntimeError("not written yet")


class NonUpdatingAcceptor(Acceptor):
    """Promises `n >= promised` with an Ack but never records the promise."""

    def receive_proposal(self, src, msg):
        if msg.n < self.promised:
            return super().receive_proposal(src, msg)
        return [Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))]


# name -> (check keyword arguments, words the report must contain)
WRONG = {
    # phase 2.1, choose_value
    "own value always": (dict(choose_value=lambda acks, mine: mine), "agreement"),
    "first reported value": (dict(choose_value=first_reported), "agreement"),
    "value of the last Ack to arrive": (dict(choose_value=last_reported), "agreement"),
    "lowest reported number": (dict(choose_value=lowest_number), "agreement"),
    "largest value": (dict(choose_value=largest_value), "agreement"),
    "smallest value": (dict(choose_value=smallest_value), "agreement"),
    "most common reported value": (dict(choose_value=most_common_value), "agreement"),
    "ignoring reports numbered below 7": (dict(choose_value=ignore_below_seven), "agreement"),
    "skipping the first Ack": (dict(choose_value=skip_first_ack), "agreement"),
    "None when nothing was reported": (dict(choose_value=no_fallback), "returned None"),
    "raising when nothing was reported": (dict(choose_value=raises_when_nothing_reported),
                                          "raised ValueError"),
    "returning the (n, v) pair": (dict(choose_value=returns_the_pair),
                                  "it must return a value"),
    # phase 2.2, should_accept
    "should_accept ignoring the promise": (dict(should_accept=lambda p, n: True),
                                           "promise kept"),
    "should_accept n > promised (refuses its own round)": (
        dict(should_accept=lambda p, n: n > p), "never decided"),
    "should_accept off by one (n >= promised - 1)": (
        dict(should_accept=lambda p, n: n >= p - 1), "promise kept"),
    "should_accept inverted (n <= promised)": (dict(should_accept=lambda p, n: n <= p),
                                               "promise kept"),
    "should_accept returning a string": (dict(should_accept=lambda p, n: "yes"),
                                         "must return True or False"),
    "should_accept forgetting to return": (dict(should_accept=lambda p, n: None),
                                           "returned None"),
    # phase 1.2, should_promise
    "should_promise once and for all (promised == 0)": (
        dict(should_promise=lambda p, n: p == 0), "never decided"),
    "should_promise inverted (n < promised)": (dict(should_promise=lambda p, n: n < p),
                                               "never decided"),
    "should_promise always False": (dict(should_promise=lambda p, n: False), "never decided"),
    "should_promise raising": (dict(should_promise=not_written_yet),
                               "RuntimeError: not written yet"),
    "should_promise returning an int": (dict(should_promise=lambda p, n: n - p + 1),
                                        "must return True or False"),
    # a whole acceptor: promise n >= promised with an Ack, but never record it
    "promise n >= promised without updating it": (
        dict(impl={"acceptor": NonUpdatingAcceptor}), "agreement"),
}


def highest_by_tuple(acks, mine):
    best = max(acks)  # (n, v) pairs: the largest n first; one number carries one value
    return best[1] if best[0] > 0 else mine


def highest_by_loop(acks, mine):
    best_n, best_v = 0, mine
    for n, v in acks:
        if v is not None and n > best_n:
            best_n, best_v = n, v
    return best_v


def highest_by_sort(acks, mine):
    ranked = sorted(_reported(acks), reverse=True)
    return ranked[0][1] if ranked else mine


RIGHT = {
    "reference rules": {},
    "should_promise n >= promised (the package's)": dict(should_promise=lambda p, n: n >= p),
    "should_promise n > promised (Lamport, MIT 6.824)": dict(should_promise=lambda p, n: n > p),
    "should_promise always True (acks below the promise, keeps the higher one)": dict(
        should_promise=lambda p, n: True),
    "should_promise n >= promised - 1": dict(should_promise=lambda p, n: n >= p - 1),
    "should_accept not n < promised": dict(should_accept=lambda p, n: not n < p),
    "should_accept n == promised (only what it promised)": dict(
        should_accept=lambda p, n: n == p),
    "choose_value by tuple max": dict(choose_value=highest_by_tuple),
    "choose_value by a loop": dict(choose_value=highest_by_loop),
    "choose_value by sorting": dict(choose_value=highest_by_sort),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_every_wrong_rule_fails_with_a_reason(name):
    kwargs, reason = WRONG[name]
    report = check(runs=30, progress=False, **kwargs)
    print(f"\n{name}: FAILED: {report.lines[0][:100]}")
    assert not report.passed, f"{name} passed:\n{report}"
    assert "PASSED" not in str(report)
    assert reason in str(report), str(report)


@pytest.mark.parametrize("name", list(RIGHT))
def test_every_right_rule_passes(name):
    """Right means safe and live; two of these need an argument.

    *Acking below the promise.* Lamport (Paxos Made Simple, phase 1) has an acceptor
    answer a prepare numbered n only if n is greater than any it answered, and
    observes that an acceptor may ignore any request without compromising safety: it
    ignores a smaller prepare because there is "no reason" to answer, as it will not
    accept that proposal anyway. That is an optimization, not a safety rule. Here the
    acceptor keeps ``max(promised, n)``, so an Ack for n < promised promises nothing it
    had not promised already, and the proposer's Accept(n) then meets ``should_accept``,
    which refuses it. Safety still holds: take a value v chosen at m by a majority C,
    and the first-issued proposal (k, w) with k > m. Its Acks came from a majority S,
    and some acceptor a is in both. a cannot have promised (>= k) before accepting m,
    or it would have refused m; so a accepted m first, and its Ack reported a
    proposal numbered h >= m. If the highest report is at m, its value is v; if it is
    above m, it was issued before (k, w), so its value is v too. Hence w = v. The
    report may even be numbered above k (the acceptor's latest), and the same argument
    holds. So ``should_promise = lambda promised, n: True`` is safe and decides.

    *Accepting only n == promised.* Refusing more can never break safety; a proposer's
    Accept(n) reaches the majority that promised n, which accept it unless a larger
    proposal came in between (then the proposer retries), so runs still decide. The
    converse, ``n > promised``, refuses exactly that majority: safe, never decides, and
    listed as wrong.
    """
    report = check(runs=30, progress=False, **RIGHT[name])
    assert report.passed, str(report)
    assert "PASSED" in str(report) and "complete" in str(report)
    assert "NOT" not in str(report)


def test_scripted_schedules_break_first_lowest_largest():
    impl = {"proposer": proposer_class(first_reported)}
    broken = [run_script(impl, values, steps)[0].violations for values, steps in SCRIPTS]
    assert any(broken)
    for rule in (lowest_number, largest_value, smallest_value, last_reported):
        impl = {"proposer": proposer_class(rule)}
        assert any(run_script(impl, v, s)[0].violations for v, s in SCRIPTS), rule.__name__
    reference_impl = {"proposer": proposer_class(reference.choose_value),
                      "acceptor": acceptor_class(reference.should_promise,
                                                 reference.should_accept)}
    for values, steps in SCRIPTS:
        sim, done = run_script(reference_impl, values, steps)
        assert not sim.violations and len(done) == len(steps)  # every step applied, safely


def test_accepting_below_the_promise_is_caught_with_a_schedule():
    report = check(should_accept=lambda promised, n: True, runs=5, progress=False)
    assert not report.passed
    assert "Safety BROKEN" in str(report) and "promise kept" in str(report)
    assert "1. deliver" in str(report)


def test_an_exploration_cut_short_is_never_a_pass():
    report = check(runs=3, numbers=3, max_states=2_000, progress=False)
    assert not report.passed
    text = str(report)
    assert "PASSED" not in text and "NOT complete" in text and "NOT a pass" in text


def test_reference_rules_pass_with_a_complete_exploration():
    """(How long a check takes is measured by benchmarks/bench_explore.py, not here.)"""
    report = check(progress=False)
    assert report.passed
    assert "complete" in str(report) and "all safe" in str(report)
    assert "up to acceptor renaming" in str(report)


def test_progress_bar_can_be_shown(capsys):
    report = check(runs=2, progress=True)
    assert report.passed


def _impl(kwargs: dict) -> dict:
    rules = {"should_promise": kwargs.get("should_promise", reference.should_promise),
             "should_accept": kwargs.get("should_accept", reference.should_accept)}
    return {"acceptor": acceptor_class(**rules),
            "proposer": proposer_class(kwargs.get("choose_value", reference.choose_value)),
            **kwargs.get("impl", {})}


def _outcome(impl: dict, symmetry: bool):
    try:
        result = explore(CONFIG, impl=impl, numbers=2, reduce=True, progress=False,
                         symmetry=symmetry)
    except RuleError as exc:
        return "rule error", str(exc).split(" raised")[0].split(" returned")[0]
    return (result.ok, result.complete, len(result.schedule),
            sorted({v.invariant for v in result.violations}), result.symmetry)


@pytest.mark.parametrize("name", [*WRONG, *RIGHT])
def test_the_acceptor_symmetry_keeps_every_rules_verdict(name):
    """Each wrong and right rule: the same verdict and shortest counterexample length."""
    kwargs = WRONG[name][0] if name in WRONG else RIGHT[name]
    impl = _impl(kwargs)
    plain, sym = _outcome(impl, False), _outcome(impl, True)
    if plain[0] == "rule error":
        assert sym == plain
        return
    assert plain[:4] == sym[:4], (plain, sym)
    assert sym[4] and not plain[4]
