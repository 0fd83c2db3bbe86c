"""ElectionWidget: Chang-Roberts stepped a token at a time through its buttons."""

from __future__ import annotations

import pytest

from paxos_edu.widgets import ElectionWidget
from paxos_edu.widgets.election import parse_ring


def step_to_leader(e: ElectionWidget) -> int:
    clicks = 0
    while e.leader is None:
        assert not e.step_button.disabled, e.status.value
        e.step_button.click()
        clicks += 1
    return clicks


def test_ascending_ring_of_five_elects_node_4_with_nine_tokens():
    e = ElectionWidget(n=5, order="ascending", raise_errors=True)
    assert e.tokens == 5 and "5 token(s) in flight" in e.status.value  # each node sent its own
    assert step_to_leader(e) == 9
    assert e.leader == 4 and e.tokens == 9
    assert "Token messages sent: <b>9</b>" in e.counts.value
    assert "2n−1 = 9" in e.counts.value and "n(n+1)/2 = 15" in e.counts.value
    assert "leader: node 4" in e.status.value
    assert e.step_button.disabled  # no token left
    assert e.diagram.widget.value.startswith("<svg")
    assert e.errors == []


def test_descending_ring_is_the_worst_case():
    e = ElectionWidget(n=5, order="descending", raise_errors=True)
    e.run_button.click()
    assert e.leader == 4 and e.tokens == 15


def test_changing_the_widgets_builds_a_new_ring():
    e = ElectionWidget(raise_errors=True)
    e.n.value = 6
    e.run_button.click()
    assert e.tokens == 11 and e.leader == 5
    e.order.value = "random"
    e.ring_seed.value = 3
    assert e.tokens == 6 and sorted(e.config.ring_order) == list(range(6))
    e.run_button.click()
    assert e.leader == 5 and 11 <= e.tokens <= 21
    e.uids.value = "2 0 4 1 3"  # typing a ring switches to it
    assert e.order.value == "typed" and e.config.ring_order == (2, 0, 4, 1, 3)
    assert e.n.disabled
    step_to_leader(e)
    assert e.leader == 4
    assert "ring 2 → 0 → 4 → 1 → 3" in e.status.value


def test_a_bad_typed_ring_is_explained():
    e = ElectionWidget(uids=(1, 0, 2))
    assert e.config.ring_order == (1, 0, 2)
    e.uids.value = "0 1 7"
    assert "permutation of the uids 0..2" in e.status.value and e.run is None
    e.uids.value = "a b"
    assert "type the uids" in e.status.value
    e.step_button.click()  # nothing to step: no crash
    assert e.tokens == 0


def test_parse_ring():
    assert parse_ring("3, 1 ;0 2") == (3, 1, 0, 2)
    with pytest.raises(ValueError):
        parse_ring("")
