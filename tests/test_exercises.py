"""The exercise checker: the reference rules pass, and each classic wrong answer is caught."""

from __future__ import annotations

from paxos_edu.exercises import check, reference


def test_reference_rules_pass():
    report = check(reference.should_promise, reference.should_accept, reference.choose_value,
                   runs=10)
    assert report.passed, str(report)
    assert "PASSED" in str(report) and "all safe" in str(report)


def test_accepting_below_the_promise_is_caught_with_a_schedule():
    report = check(should_accept=lambda promised, n: True, runs=5)
    assert not report.passed
    assert "Safety BROKEN" in str(report) and "promise kept" in str(report)
    assert "1. deliver" in str(report)


def test_ignoring_reported_values_breaks_agreement():
    report = check(choose_value=lambda acks, mine: mine, runs=5)
    assert not report.passed and "agreement" in str(report)


def test_refusing_the_promised_number_itself_never_decides():
    report = check(should_accept=lambda promised, n: n > promised, runs=5, max_states=5_000)
    assert not report.passed
    assert "never decided" in str(report)


def test_a_rule_that_raises_is_reported_in_words():
    def broken(promised, n):
        raise RuntimeError("not written yet")

    report = check(should_promise=broken, runs=1)
    assert not report.passed and "RuntimeError: not written yet" in str(report)
