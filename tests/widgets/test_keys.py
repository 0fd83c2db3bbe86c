"""Presenter keys: what the front end sends is what the buttons do (the browser test presses them)."""

from __future__ import annotations

import html

import pytest

from paxos_edu.widgets import Dashboard
from paxos_edu.widgets.keys import KEYS, PresenterKeys

from .conftest import configure


def press(dash, action: str) -> None:
    """What the widget's front end sends for a key: a custom message on its comm."""
    dash.keys._handle_custom_msg({"action": action}, [])


def test_each_key_does_what_its_button_does(dash):
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    for _ in range(3):
        press(dash, "step")
    s = dash.session
    assert s.head_index == 3 and s.at_head
    press(dash, "back")
    assert s.cursor == 2 and not s.at_head
    press(dash, "step")  # in the past, Step walks forward, as the button does
    assert s.cursor == 3 and s.head_index == 3
    press(dash, "back")
    press(dash, "back")
    press(dash, "fork")
    assert s.head_index == 1 and s.at_head and "forked" in dash.status.value
    press(dash, "play")
    assert dash.controls.play.playing
    press(dash, "play")
    assert not dash.controls.play.playing
    press(dash, "reset")
    assert dash.session is None and not dash.setup.proposers.disabled


def status(dash) -> str:
    return html.unescape(dash.status.value)


def test_a_key_that_cannot_act_says_why_and_changes_nothing(dash):
    configure(dash, 2, 3, 1)
    press(dash, "step")
    assert dash.session is None and "key 'step': press Start first" in status(dash)
    dash.setup.start.click()
    press(dash, "fork")  # at the newest step there is nothing to fork from
    assert dash.session.head_index == 0
    assert "key 'fork': go back in the history first" in status(dash)
    press(dash, "step")
    assert dash.session.head_index == 1 and "key '" not in status(dash)


def test_messages_not_from_the_keys_front_end_are_ignored(dash):
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    for junk in ({"action": "crash"}, {"action": None}, {}, ["step"], "step"):
        dash.keys._handle_custom_msg(junk, [])
    assert dash.session.head_index == 0 and dash.errors == []


def test_key_table_and_scopes():
    assert set(KEYS) == {"step", "back", "play", "fork", "reset"}
    assert {"ArrowRight", " ", "PageDown"} <= set(KEYS["step"])  # a clicker sends PageDown
    assert {"ArrowLeft", "PageUp"} <= set(KEYS["back"])
    with pytest.raises(ValueError, match="scope='everywhere'"):
        PresenterKeys(lambda action: None, scope="everywhere")
    assert Dashboard(keys=None).keys is None
    assert Dashboard(keys="page").keys.scope == "page"
