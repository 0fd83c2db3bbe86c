"""Predict, then see: a prediction is committed once and judged with its reason."""

from __future__ import annotations

import pytest

from paxos_edu.quiz import predict


def acks():
    return predict("How many acks does P0 need?", [1, 2, 3], answer=2,
                   why="a majority of 3 acceptors is 2")


def test_a_right_answer_is_right_and_says_why():
    q = acks()
    verdict = q(2)
    assert verdict.correct and str(verdict) == "right: a majority of 3 acceptors is 2"


def test_a_wrong_answer_is_wrong_and_says_why():
    verdict = acks()("3")
    assert not verdict.correct and str(verdict) == "not quite: a majority of 3 acceptors is 2"


def test_the_first_answer_is_the_prediction():
    q = acks()
    q("1")
    assert q("2").guess == "1" and not q.verdict.correct


def test_an_answer_that_is_not_a_choice_is_refused_and_not_committed():
    q = acks()
    with pytest.raises(ValueError, match="'4' is not one of the choices: 1, 2, 3"):
        q(4)
    assert not q.answered


@pytest.mark.parametrize(("choices", "answer", "message"), [
    (["a"], "a", "two or more"), (["a", "a"], "a", "two or more"),
    (["a", "b"], "c", "'c' is not one of the choices")])
def test_a_badly_written_question_is_refused(choices, answer, message):
    with pytest.raises(ValueError, match=message):
        predict("?", choices, answer, "because")


def test_a_stored_lesson_shows_the_question_as_text():
    assert repr(acks()) == ("Predict: How many acks does P0 need?\n  choices: 1 / 2 / 3\n"
                            "  (answer with the buttons, or call this question with your choice)")


def test_clicking_a_button_commits_it_and_locks_the_others():
    q = acks()
    box = q.widget()
    buttons = box.children[1].children
    buttons[2].click()
    assert q.verdict.guess == "3" and not q.verdict.correct
    assert all(b.disabled for b in buttons)
    assert buttons[1].button_style == "success" and buttons[2].button_style == "danger"
    assert "not quite" in box.children[2].value and "majority" in box.children[2].value
    buttons[1].click()  # too late: the prediction was made
    assert q.verdict.guess == "3"


def test_reveal_gives_the_verdict_or_else_the_answer():
    q = acks()
    assert q.reveal() == "Answer: 2. A majority of 3 acceptors is 2"
    q("3")
    assert q.reveal() == "You predicted 3: not quite: a majority of 3 acceptors is 2"
