"""The node's one dispatch rule, the roles' declared interface, and where the limits live.

``Node.handle`` hands a message of kind K to ``receive_<k>(src, msg)`` of the node (election,
setup) or else of its role (Paxos); a kind neither handles is counted as bad input.
``core.roles`` declares what a role implements; the package's roles and lesson 08's
reference solution satisfy it, and a class that lacks a handler is named.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from paxos_edu import Config, Simulation, lab_scripts
from paxos_edu.core import roles as role_interface
from paxos_edu.core.election import Election
from paxos_edu.core.messages import (
    WIRE_KINDS,
    Accept,
    Accepted,
    AskRoles,
    Decided,
    Proposal,
    Request,
    Token,
)
from paxos_edu.core.node import ClientNode, Node, handler_name, make_node
from paxos_edu.core.paxos import ROLE_CLASSES, Acceptor, Client, Learner, Proposer
from paxos_edu.core.roles import ROLE_PROTOCOLS, missing
from paxos_edu.lab_scripts import check_election, check_learner

ROOT = Path(__file__).resolve().parents[2]
CFG = Config(proposers=1, acceptors=3, learners=1, clients=((210, 0),))


def elected_nodes(cfg: Config = CFG) -> dict[int, Node | ClientNode]:
    """Every node of ``cfg`` after the leader's Roles reached it (no driver needed)."""
    nodes = {u: make_node(u, cfg) for u in range(cfg.n_consensus + len(cfg.clients))}
    leader = cfg.n_consensus - 1
    roles = cfg.roles(leader)
    for node in nodes.values():
        node.handle(leader, roles)
    return nodes


# -- one dispatch rule ------------------------------------------------------------------------

def test_the_handler_of_a_kind_is_receive_and_the_kind_in_snake_case():
    assert handler_name(Proposal(6, 1)) == "receive_proposal"
    assert handler_name(AskRoles()) == "receive_ask_roles"
    assert handler_name(Token(3)) == "receive_token"


def test_every_wire_kind_has_a_handler_on_the_node_or_on_the_role_it_is_sent_to():
    """Normal traffic is never 'unknown': each kind a node can be sent reaches a handler."""
    sent_to = {"Token": "consensus", "Roles": "consensus", "AskRoles": "consensus",
               "Request": "proposer", "Proposal": "acceptor", "Ack": "proposer",
               "Nack": "proposer", "Accept": "acceptor", "Accepted": "learner",
               "Decided": "client"}
    assert set(sent_to) == set(WIRE_KINDS)
    for kind, where in sent_to.items():
        name = "receive_" + "".join("_" + c.lower() if c.isupper() else c for c in kind)[1:]
        owner = Node if where == "consensus" else ROLE_CLASSES[where]
        assert callable(getattr(owner, name, None)), f"{kind} has no {owner.__name__}.{name}"
    assert callable(ClientNode.receive_roles)


def test_a_kind_the_role_does_not_handle_is_counted_and_dropped():
    """A Proposal sent to the learner, an Accept to a client: no effect, one count each,
    and the count is in the snapshot the drivers record."""
    nodes = elected_nodes()
    learner, client = nodes[4], nodes[5]
    assert learner.snapshot()["unknown_kind"] == client.snapshot()["unknown_kind"] == 0
    assert learner.handle(0, Proposal(6, 1)) == []
    assert learner.handle(0, Request(1)) == []
    assert client.handle(0, Accept(6, 1)) == []
    assert learner.snapshot()["unknown_kind"] == 2 and client.snapshot()["unknown_kind"] == 1
    assert learner.role.votes == {} and client.role.decided is None


def test_a_kind_the_role_handles_is_not_counted():
    nodes = elected_nodes()
    nodes[4].handle(1, Accepted(6, 210))
    nodes[5].handle(4, Decided(210, 6))
    assert nodes[4].stats == nodes[5].stats == {"unknown_kind": 0}
    assert nodes[5].role.decided == 210


def test_a_node_without_a_role_asks_for_the_roles_instead_of_counting():
    """Paxos traffic before the roles is not bad input: it shows the roles were handed out."""
    node = Node(1, CFG)
    node.handle(0, Token(4))  # the winner's token passed me: node 4 is the largest I know
    effects = node.handle(0, Proposal(6, 1))
    assert [(e.dst, e.msg) for e in effects] == [(4, AskRoles())]
    assert node.stats["unknown_kind"] == 0


def test_a_node_that_knows_no_uid_above_its_own_has_no_one_to_ask():
    """Only smaller tokens seen (or none): no smaller node can be the leader, so no AskRoles."""
    node = Node(2, CFG)
    assert node.handle(0, Proposal(6, 1)) == []
    node.handle(1, Token(1))
    assert node.handle(0, Proposal(6, 1)) == [] and node.stats["unknown_kind"] == 0


def test_a_whole_run_in_the_simulator_has_no_unknown_kind_anywhere():
    sim = Simulation(Config(proposers=2, acceptors=3, learners=2, clients=((210, 0), (220, 1))),
                     seed=3)
    sim.start().run()
    snaps = sim.snapshot()
    assert len(set(sim.decided().values())) == 1
    assert all(s["unknown_kind"] == 0 for s in snaps.values()), snaps


# -- the Role protocol ------------------------------------------------------------------------

def built(name: str, cls: type):
    """An instance of ``cls`` built the way ``Node`` builds the ``name`` role."""
    return {"proposer": lambda: cls(0, (1, 2, 3), 5, 50.0, (5.0, 40.0), None),
            "acceptor": lambda: cls(1, (4,)),
            "learner": lambda: cls(4, (1, 2, 3), [5]),
            "client": lambda: cls(5, 210, 0, 200.0),
            "election": lambda: cls(3, 4)}[name]()


@pytest.mark.parametrize("name", sorted(ROLE_PROTOCOLS))
def test_the_package_classes_implement_their_role_protocol(name):
    cls = {**ROLE_CLASSES, "election": Election}[name]
    assert missing(cls, name) == []
    instance = built(name, cls)
    assert isinstance(instance, ROLE_PROTOCOLS[name])
    if name != "election":
        assert isinstance(instance, role_interface.Role) and instance.role == name


def lesson_08_reference(tmp_path: Path):
    """Lesson 08's solution module (the text its %%writefile cell writes), imported."""
    nb = json.loads((ROOT / "notebooks/08_lab_write_the_roles_solutions.ipynb").read_text("utf-8"))
    head = "%%writefile my_roles_solved.py\n"
    text = next("".join(c["source"]) for c in nb["cells"] if "".join(c["source"]).startswith(head))
    (tmp_path / "lesson08_reference.py").write_text(text[len(head):], encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import lesson08_reference
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("lesson08_reference", None)
    return lesson08_reference


def test_lesson_08s_reference_classes_implement_the_role_protocols(tmp_path):
    ref = lesson_08_reference(tmp_path)
    for name, cls in (("acceptor", ref.Acceptor), ("learner", ref.Learner),
                      ("election", ref.Election)):
        assert missing(cls, name) == [], name
        assert isinstance(built(name, cls), ROLE_PROTOCOLS[name])


def test_a_class_without_a_handler_or_with_the_wrong_parameters_is_named():
    @dataclass
    class HalfAcceptor:
        uid: int
        learners: tuple
        role = "acceptor"

        def durable(self):
            return {}

        def restore(self, data):
            pass

        def on_timer(self, name):
            return []

        def snapshot(self):
            return {}

        def receive_proposal(self, msg):  # forgot src
            return []

    assert missing(HalfAcceptor, "acceptor") == [
        "receive_accept()", "receive_proposal() taking 2 arguments after self"]
    assert not isinstance(HalfAcceptor(1, (4,)), ROLE_PROTOCOLS["acceptor"])
    assert missing(Learner, "acceptor") == ["receive_accept()", "receive_proposal()"]


def test_lesson_08s_scripts_take_the_package_spelling_of_nothing_accepted():
    """The scripts that grade students' roles (lesson 08) pass the package's learner and
    election, and its acceptor's ack(n, ⊥, ⊥) spelt (None, None) as well as (0, None)."""
    assert check_learner(Learner).startswith("learner:")
    assert check_election(Election).startswith("election:")
    lab_scripts._ack(Acceptor(2, (5,)), 0, 7, 210, (0, None), "a fresh acceptor")
    with pytest.raises(lab_scripts.Failed, match="accepted nothing"):
        lab_scripts._ack(Acceptor(2, (5,), accepted_n=3, accepted_v=9, promised=3), 0, 7,
                         210, (0, None), "an acceptor said to have accepted nothing")


def test_client_and_proposer_start_with_no_proposer_and_no_number_reported():
    assert Client(5, 210, 0).proposer is None
    assert Proposer(0, (1, 2, 3), 5).acks == {}


# -- limits -----------------------------------------------------------------------------------

def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module}


def test_config_and_codec_take_their_limits_from_one_module_and_config_not_from_the_codec():
    core = ROOT / "paxos_edu" / "core"
    config, codec = imported_modules(core / "config.py"), imported_modules(core / "codec.py")
    assert "limits" in config and "limits" in codec
    assert "codec" not in config
    from paxos_edu.core import codec as codec_module
    from paxos_edu.core import config as config_module
    from paxos_edu.core import limits
    assert codec_module.MAX_STR is limits.MAX_STR and config_module.MAX_NODES is limits.MAX_NODES
