"""Election and set-up heal by the core's own timers: a lost token or Roles costs time, not the run.

Chang-Roberts and the leader's broadcast of the roles assume reliable links; the
core adds three rules (re-send my token until I know the roles, the leader answers
a token or an AskRoles with the roles, a client asks the leader). These tests lose
each kind of message in the simulator and see every client decide.
"""

from __future__ import annotations

import random

import pytest

from paxos_edu import Config, Simulation
from paxos_edu.core.effects import Send, SetTimer
from paxos_edu.core.election import MAX_BACKOFF, resend_delay
from paxos_edu.core.messages import AskRoles, Token
from paxos_edu.core.node import ClientNode, Node

from .helpers import fifo, find


def sends(sim, mtype, **fields):
    return [ev for ev in sim.trace if ev["kind"] == "send" and ev["msg"]["type"] == mtype
            and all(ev["msg"].get(k) == v for k, v in fields.items())]


def test_a_consensus_node_without_roles_resends_its_token_waiting_longer_each_time():
    node = Node(2, Config())
    effects = node.start()
    assert effects == [Send(node.config.successor(2), Token(2)), SetTimer("election", 200.0)]
    waits = [node.fire("election")[1].delay for _ in range(6)]
    assert waits == [400.0, 800.0, 1600.0, 1600.0, 1600.0, 1600.0]
    assert resend_delay(200.0, 99) == 200.0 * MAX_BACKOFF


def test_a_node_that_knows_its_roles_stops_resending():
    cfg = Config()
    node = Node(1, cfg)
    node.start()
    node.handle(cfg.n_consensus - 1, cfg.roles(cfg.n_consensus - 1))
    assert node.fire("election") == []


def test_the_leader_answers_another_nodes_token_with_the_roles():
    cfg = Config()
    top = cfg.n_consensus - 1
    leader = Node(top, cfg)
    leader.start()
    leader.handle(cfg.ring_order[-1], Token(top))  # its own token came round: it wins
    assert leader.election.is_leader
    roles = leader.roles
    assert Send(1, roles) in leader.handle(0, Token(1))


def test_a_client_without_roles_asks_node_n_minus_1():
    cfg = Config(clients=(210,))
    client = ClientNode(cfg.n_consensus, cfg, 210, 0)
    assert client.start() == [SetTimer("roles", cfg.resend)]
    effects = client.fire("roles")
    assert effects[0] == Send(cfg.n_consensus - 1, AskRoles())


def test_losing_the_winning_token_still_elects_and_decides():
    sim = Simulation(Config(clients=(210,)), seed=1).start()
    top = sim.config.n_consensus - 1
    while True:  # FIFO election until the winning token is about to complete the ring
        item = next(p for p in sim.pending() if p.kind == "Message")
        if item.msg == Token(top) and item.dst == top:
            sim.drop(item.id)
            break
        sim.deliver(item.id)
    assert sim.leader() is None and not [p for p in sim.pending() if p.kind == "Message"]
    sim.run(until="decided", max_steps=5_000)
    assert sim.leader() == top and sim.decided() == {sim.config.client_uids[0]: 210}
    assert sim.violations == []
    assert len(sends(sim, "Token", uid=top)) > top + 1  # it was sent round again


def test_losing_a_clients_roles_still_decides():
    sim = Simulation(Config(clients=(210,)), seed=2).start()
    client = sim.config.client_uids[0]
    fifo(sim, ("Token",))
    sim.drop(find(sim, "Roles", dst=client).id)
    sim.run(until="decided", max_steps=5_000)
    assert sim.decided() == {client: 210} and sim.violations == []
    assert [ev["dst"] for ev in sends(sim, "AskRoles") if ev["src"] == client] \
        == [sim.config.n_consensus - 1]


def test_a_client_added_after_the_election_whose_roles_are_lost_still_decides():
    sim = Simulation(Config(), seed=3).start()
    sim.run(until="elected")
    uid = sim.propose(230, proposer=0)
    sim.drop(find(sim, "Roles", dst=uid).id)
    sim.run(until="decided", max_steps=5_000)
    assert sim.decided() == {uid: 230}


@pytest.mark.parametrize("seed", range(40))
def test_losing_any_election_or_setup_messages_heals(seed):
    """Drop each Token, Roles and AskRoles with probability 1/2 until a cut-off, then let
    everything through: every client decides, nothing unsafe happens."""
    rng = random.Random(seed)
    cfg = Config(proposers=2, acceptors=3, learners=2, clients=((210, 0), (220, 1)))
    sim = Simulation(cfg, seed=seed).start()
    for _ in range(rng.randint(5, 120)):
        item = sim.next_item(order="random")
        if item is None:
            break
        if item.kind == "Message" and item.msg.type in ("Token", "Roles", "AskRoles") \
                and rng.random() < 0.5:
            sim.drop(item.id)
        else:
            sim.step(order="random")
    sim.run(until="decided", max_steps=20_000, order="random")
    assert sim.all_decided(), sim.pending()
    assert sim.violations == []
