"""On real processes too, a lost winning token or a lost Roles costs time, not the run.

The same core rules as in the simulator (tests/core/test_recovery.py): the node
processes only run the timers the core sets.
"""

from __future__ import annotations

from paxos_edu import Cluster, Config
from paxos_edu.core.messages import Token

CFG = Config(proposers=1, acceptors=3, learners=1, clients=(210,))


def test_a_step_mode_cluster_that_loses_the_winning_token_elects_and_decides():
    with Cluster(CFG, mode="step") as c:
        c.start()
        top = CFG.n_consensus - 1
        while True:  # oldest message first, until the winning token would complete the ring
            item = c.pending()[0]
            assert item.kind == "Message"
            if item.msg == Token(top) and item.dst == top:
                c.drop(item.id)
                break
            c.deliver(item.id)
        assert c.leader() is None and all(p.kind == "Timer" for p in c.pending())
        result = c.run(timeout=30)
        assert result.status == "decided", result.status
        assert c.leader() == top and c.decided() == {CFG.client_uids[0]: 210}
        assert c.violations == []


def test_a_step_mode_cluster_that_loses_a_clients_roles_decides():
    with Cluster(CFG, mode="step") as c:
        c.start()
        client = CFG.client_uids[0]
        while not any(p.msg.type == "Roles" and p.dst == client for p in c.pending()):
            c.step()
        c.drop(next(p for p in c.pending() if p.msg.type == "Roles" and p.dst == client).id)
        result = c.run(timeout=30)
        assert result.status == "decided", result.status
        asked = [ev for ev in c.trace if ev["kind"] == "send" and ev["msg"]["type"] == "AskRoles"]
        assert [(ev["src"], ev["dst"]) for ev in asked] == [(client, CFG.n_consensus - 1)]


def test_run_mode_with_faults_on_every_message_decides_once_they_stop():
    """Loss on every link and every phase from the start (election and set-up too)."""
    with Cluster(CFG, seed=4) as c:
        c.set_faults(loss=0.4, duplicate=0.1, delay=(0, 5))
        c.start(timeout=1)
        c.set_faults()
        result = c.run(timeout=60)
        assert result.status == "decided", result.status
        assert any(ev["kind"] == "drop" and ev.get("reason") == "lost" for ev in c.trace)
        assert c.violations == []


def test_a_lost_done_report_is_recovered_by_asking_the_node():
    """A switch socket that overflows loses reports; a command's lost ``done`` must not stall
    the controller: it asks the node (``sync``), whose answer says what it finished."""
    import json

    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        sw = c._switch
        real, lost = sw.receive, []

        def lossy(data: bytes, addr) -> None:
            if not lost and data.startswith(b"PXC/1 "):
                ctl = json.loads(data.split(b" ", 2)[2])["ctl"]
                items = ctl.get("items", [ctl])
                if any(i.get("type") == "done" and i.get("input") == "cmd" for i in items):
                    lost.append(ctl)
                    return  # the socket overflowed: this report never arrives
            real(data, addr)

        sw.receive = lossy
        uid = c.propose(7)  # add_client commands: one node's done is lost
        assert lost, "no command report passed the switch"
        assert c.run(timeout=20).status == "decided" and c.decided() == {uid: 7}
