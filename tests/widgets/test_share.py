"""Sharing a run: the share buttons hand the browser the trace, a player and a run code.

The page's side (saving a download, the clipboard) is tested in the browser; here the
kernel's answers are caught where the widget sends them.
"""

from __future__ import annotations

import json

import pytest

from paxos_edu import read_jsonl
from paxos_edu.runcode import replay
from paxos_edu.widgets import Dashboard
from paxos_edu.widgets.share import ShareButtons

from .conftest import configure


def ask(dash, what: str) -> tuple[dict, list]:
    """Click share button ``what`` as the page does; the message and buffers it gets back."""
    sent = []
    dash.share.send = lambda content, buffers=None: sent.append((content, buffers or []))
    dash.share._handle_custom_msg({"want": what}, [])
    assert len(sent) == 1, sent
    return sent[0]


def started(steps: int = 20) -> Dashboard:
    dash = Dashboard(raise_errors=True)
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    for _ in range(steps):
        dash.controls.step.click()
    return dash


def test_the_trace_downloads_as_json_lines(tmp_path):
    dash = started()
    msg, (data,) = ask(dash, "jsonl")
    assert msg == {"op": "download", "name": "paxos_run.jsonl", "mime": "application/x-ndjson"}
    (tmp_path / "t.jsonl").write_bytes(data)
    assert read_jsonl(tmp_path / "t.jsonl") == dash.session.events
    dash.close()


def test_the_player_downloads_as_one_html_page_that_needs_no_kernel():
    dash = started(8)
    msg, (data,) = ask(dash, "html")
    assert msg["name"] == "paxos_run.html" and msg["mime"] == "text/html"
    page = data.decode()
    assert page.startswith("<!doctype html>") and page.endswith("</html>")
    assert "data:image/" in page and "<script" in page  # the frames are inside the page
    assert "jupyter" not in page.lower()
    dash.close()


def test_the_run_code_replays_the_steps_on_screen():
    dash = started(20)
    msg, buffers = ask(dash, "code")
    assert msg["op"] == "copy" and buffers == []
    again = replay(msg["text"])
    assert again.trace == dash.session.events
    assert "run code of steps 0 to 20" in dash.status.value

    dash.controls.back.click()  # in the past: the code reaches the step on screen
    dash.controls.back.click()
    msg, _ = ask(dash, "code")
    assert replay(msg["text"]).trace == dash.session.events[:dash.session.at + 1]
    dash.close()


def test_before_start_the_page_is_told_why_and_nothing_breaks():
    dash = Dashboard(raise_errors=True)
    msg, _ = ask(dash, "code")
    assert msg["op"] == "error" and "press Start first" in msg["text"]
    dash.close()


@pytest.mark.parametrize("junk", [{"want": "secrets"}, {}, ["code"], "code"])
def test_messages_not_from_the_share_front_end_are_ignored(junk):
    got = []
    widget = ShareButtons(lambda what: got.append(what))
    widget.send = lambda *a, **k: got.append(a)
    widget._handle_custom_msg(junk, [])
    assert got == []


def test_the_buttons_are_declared_for_the_page():
    labels = [label for _, label, _ in ShareButtons(lambda w: None).items]
    assert labels == ["trace (JSON Lines)", "player (HTML)", "copy run code"]
    assert json.dumps(ShareButtons(lambda w: None).items)  # plain data for the front end
