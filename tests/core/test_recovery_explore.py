"""The bounded recovery check: every lossy election/set-up schedule heals; a missing rule is caught."""

from __future__ import annotations

from paxos_edu.core.node import ClientNode, Node, make_node
from paxos_edu.recovery import explore_recovery


class NoResend(Node):
    """Chang-Roberts as on reliable links: the token is sent once and never again."""

    def on_election_timer(self):
        return []


class NeverAsks(ClientNode):
    """A client that waits for the leader's one Roles message and never asks for it."""

    def ask_for_roles(self):
        return []


def without(cls):
    """``make_node``, with ``cls`` (a subclass) instead of its base class."""
    def make(uid, config):
        node = make_node(uid, config)
        if isinstance(node, cls.__mro__[1]):
            node.__class__ = cls
        return node
    return make


def test_every_lossy_election_and_setup_schedule_heals():
    result = explore_recovery(losses=1, max_depth=12)
    assert result.ok and result.complete, str(result)
    assert result.states > 500


def test_without_resent_tokens_a_lost_token_is_never_recovered():
    result = explore_recovery(losses=1, max_depth=12, make=without(NoResend))
    assert not result.ok
    assert result.schedule[-1].startswith("lose") and "Token" in result.schedule[-1]


def test_a_client_that_never_asks_stays_without_roles_when_its_roles_are_lost():
    result = explore_recovery(losses=1, max_depth=12, make=without(NeverAsks))
    assert not result.ok
    assert "Roles" in result.schedule[-1] and result.schedule[-1].endswith(
        "Roles(leader=2, proposers=(0,), acceptors=(1,), learners=(2,), clients=(3,))")
