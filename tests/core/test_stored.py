"""The stable-storage schema (``core.stored``) and "nothing accepted" as JSON null.

An acceptor that accepted nothing stores ``"accepted_n": null``; files written when 0 meant
that (and lesson 08's student acceptors, which count from 0) still load, as nothing. Every
wrong type is still refused, naming the file and the field.
"""

from __future__ import annotations

import json

import pytest

from paxos_edu import Config
from paxos_edu.core.messages import Ack, Proposal
from paxos_edu.core.node import Node
from paxos_edu.core.stored import StateError, check_state, parse_state

CFG = Config()
ROLES = CFG.roles(4).to_dict()


def acceptor_after(paxos: dict) -> Node:
    """Node 1 (an acceptor in CFG) restarted from a state file holding ``paxos``."""
    text = json.dumps({"roles": ROLES, "paxos": paxos})
    return Node(1, CFG, storage=parse_state(text, "node-1.json", CFG))


def test_a_fresh_acceptor_stores_null_for_nothing_accepted_and_restarts_from_it():
    node = Node(1, CFG)
    node.handle(4, CFG.roles(4))
    node.handle(0, Proposal(5, 1))
    stored = json.loads(json.dumps(node.storage()))
    assert stored["paxos"] == {"promised": 5, "accepted_n": None, "accepted_v": None}
    again = acceptor_after(stored["paxos"])
    assert (again.role.promised, again.role.accepted_n, again.role.accepted_v) == (5, None, None)
    assert again.snapshot()["accepted_n"] is None


def test_an_older_file_with_0_for_nothing_accepted_loads_as_nothing_accepted():
    node = acceptor_after({"promised": 5, "accepted_n": 0, "accepted_v": None})
    assert node.role.accepted_n is None
    [ack] = [e.msg for e in node.handle(0, Proposal(6, 1)) if hasattr(e, "msg")]
    assert ack == Ack(6, None, None) and not ack.has_accepted


def test_an_accepted_proposal_round_trips():
    node = acceptor_after({"promised": 7, "accepted_n": 7, "accepted_v": "x"})
    assert (node.role.accepted_n, node.role.accepted_v) == (7, "x")


@pytest.mark.parametrize("accepted_n,shown", [("7", '"7"'), (-1, "-1"), (True, "true"),
                                               (1.5, "1.5"), ([7], "[7]")])
def test_an_accepted_number_that_is_not_null_or_whole_is_refused_by_name(accepted_n, shown):
    with pytest.raises(StateError) as err:
        check_state({"roles": ROLES, "paxos": {"promised": 9, "accepted_n": accepted_n}},
                    "node-1.json")
    assert str(err.value) == (f'node-1.json: field "paxos.accepted_n" is {shown}, '
                              "not null or a whole number")


def test_null_is_still_refused_where_a_whole_number_is_required():
    with pytest.raises(StateError, match='"paxos.promised" is null, not a whole number'):
        check_state({"roles": ROLES, "paxos": {"promised": None}}, "node-1.json")


def test_an_accepted_number_above_the_promise_is_refused_and_null_never_is():
    with pytest.raises(StateError, match='"paxos.accepted_n" is 5, above "paxos.promised" 2'):
        check_state({"roles": ROLES, "paxos": {"promised": 2, "accepted_n": 5}}, "node-1.json")
    assert check_state({"roles": ROLES, "paxos": {"promised": 0, "accepted_n": None}}, "n.json")
