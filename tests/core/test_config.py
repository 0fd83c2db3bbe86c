"""Config: validation with clear errors, the uid and role rule, the ring orders."""

from __future__ import annotations

import pytest

from paxos_edu import Config, Simulation
from paxos_edu.core.codec import MAX_INT, MAX_STR
from paxos_edu.core.config import MAX_NODES, majority

from .helpers import elect_and_assign, find


@pytest.mark.parametrize("field,value", [
    ("acceptors", 0), ("acceptors", -1), ("learners", 0), ("proposers", 0),
    ("proposers", MAX_NODES + 1),
])
def test_a_count_out_of_range_names_the_field_and_the_range(field, value):
    """Every role needs at least one node and at most MAX_NODES."""
    with pytest.raises(ValueError) as err:
        Config(**{field: value})
    assert f"{field}={value}" in str(err.value)
    assert f"from 1 to {MAX_NODES}" in str(err.value)


@pytest.mark.parametrize("value", [2.0, "3", True, None, [3]])
@pytest.mark.parametrize("field", ["proposers", "acceptors", "learners"])
def test_a_count_that_is_not_an_integer_is_refused(field, value):
    """Counts are plain ints: not floats, strings, bools or None."""
    with pytest.raises(ValueError, match=f"^{field}=.*must be an integer"):
        Config(**{field: value})


def test_too_many_nodes_in_total_is_refused():
    with pytest.raises(ValueError, match="proposers\\+acceptors\\+learners=1001"):
        Config(proposers=1, acceptors=999, learners=1)


@pytest.mark.parametrize("clients,words", [
    (((5, -1),), ["clients[0]", "proposer index -1", ">= 0"]),
    ((1, (5, -2)), ["clients[1]", "proposer index -2"]),
    (((5, 1.0),), ["clients[0]", "proposer index 1.0"]),
    (((5, True),), ["clients[0]", "proposer index True"]),
    (((5, 0, 1),), ["clients[0]", "(value, proposer_index)"]),
    (((1.5, 0),), ["clients[0] value 1.5", "integer or a string"]),
    ((None,), ["clients[0] value None"]),
    ((True,), ["clients[0] value True"]),
])
def test_a_bad_client_names_its_position_and_the_rule(clients, words):
    """A client is (value, proposer_index) or a bare value; the index is an int >= 0."""
    with pytest.raises(ValueError) as err:
        Config(clients=clients)
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("ring,words", [
    ("spiral", ["ring='spiral'", "ascending", "descending", "random"]),
    ((0, 1, 2), ["ring=(0, 1, 2)", "permutation of the uids 0..4"]),
    ((0, 1, 2, 3, 3), ["permutation"]),
    ((0, 1, 2, 3, 5), ["permutation"]),
])
def test_a_bad_ring_names_the_field_and_the_choices(ring, words):
    with pytest.raises(ValueError) as err:
        Config(ring=ring)
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("kw,field", [
    ({"timeout": 0}, "timeout"), ({"timeout": -5}, "timeout"), ({"resend": 0}, "resend"),
    ({"timeout": "50"}, "timeout"), ({"backoff": (5, 1)}, "backoff"),
    ({"backoff": (-1, 3)}, "backoff"),
])
def test_bad_timings_name_the_field(kw, field):
    with pytest.raises(ValueError, match=f"^{field}="):
        Config(**kw)


@pytest.mark.parametrize("ring", [5, None, (0, 1, "a", 3, 4)], ids=["int", "None", "mixed"])
def test_a_ring_of_the_wrong_type_is_a_value_error_naming_ring(ring):
    with pytest.raises(ValueError, match="ring="):
        Config(ring=ring)


@pytest.mark.parametrize("backoff", [5, (1, 2, 3), ("a", "b")], ids=["int", "triple", "strs"])
def test_a_malformed_backoff_is_a_value_error_naming_backoff(backoff):
    with pytest.raises(ValueError, match="backoff="):
        Config(backoff=backoff)


@pytest.mark.parametrize("kw", [{"timeout": True}, {"timeout": float("nan")},
                                {"resend": float("nan")}], ids=["bool", "nan", "nan-resend"])
def test_a_timing_must_be_a_real_positive_number(kw):
    with pytest.raises(ValueError, match=f"^{next(iter(kw))}="):
        Config(**kw)


@pytest.mark.parametrize("value", ["x" * (MAX_STR + 1), MAX_INT + 1], ids=["long-str", "big-int"])
def test_a_client_value_the_wire_cannot_carry_is_refused(value):
    with pytest.raises(ValueError, match="clients\\[0\\]"):
        Config(clients=(value,))


def test_proposer_index_is_taken_modulo_the_number_of_proposers():
    """A client with proposer index 5 on 2 proposers sends its Request to proposer uid 1."""
    sim = Simulation(Config(proposers=2, clients=((7, 5), (8, 4))))
    elect_and_assign(sim)
    first, second = sim.config.client_uids
    assert find(sim, "Request", src=first).dst == 1
    assert find(sim, "Request", src=second).dst == 0
    sim.run()
    assert set(sim.decided()) == {first, second}


def test_uids_follow_the_original_projects_rule():
    """Proposers 0..P-1, acceptors P..P+A-1, learners after them, clients after everyone."""
    cfg = Config(proposers=2, acceptors=3, learners=2, clients=("a", ("b", 1)))
    roles = cfg.roles(leader=6)
    assert roles.proposers == (0, 1)
    assert roles.acceptors == (2, 3, 4)
    assert roles.learners == (5, 6)
    assert roles.clients == cfg.client_uids == (7, 8)
    assert cfg.clients == (("a", 0), ("b", 1))
    assert cfg.n_consensus == 7


@pytest.mark.parametrize("order,expected", [
    ("ascending", (0, 1, 2, 3, 4)), ("descending", (4, 3, 2, 1, 0)), ((2, 0, 4, 1, 3), None),
])
def test_ring_order_and_successors(order, expected):
    """Each node's successor is the next uid in ring order, wrapping around."""
    cfg = Config(ring=order)
    ring = expected or order
    assert cfg.ring_order == ring
    for i, uid in enumerate(ring):
        assert cfg.successor(uid) == ring[(i + 1) % len(ring)]


def test_a_random_ring_is_a_permutation_fixed_by_its_seed():
    rings = {Config(acceptors=7, ring="random", ring_seed=s).ring_order for s in range(20)}
    assert all(sorted(r) == list(range(9)) for r in rings)
    assert len(rings) > 10
    assert Config(ring="random", ring_seed=3).ring_order == Config(
        ring="random", ring_seed=3).ring_order


def test_with_clients_appends_and_validates():
    cfg = Config().with_clients(1, ("x", 2))
    assert cfg.clients == ((1, 0), ("x", 2))
    with pytest.raises(ValueError, match="clients\\[2\\]"):
        cfg.with_clients((3, -1))


@pytest.mark.parametrize("n,q", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_a_majority_is_more_than_half(n, q):
    assert majority(n) == q
