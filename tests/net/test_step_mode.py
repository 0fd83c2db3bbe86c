"""Step mode: real processes, one move at a time, in lockstep with the Simulation."""

from __future__ import annotations

import os
import signal

from paxos_edu import Config, Simulation
from paxos_edu.cluster import Cluster

CFG = Config(proposers=2, acceptors=3, learners=1)


def script(d) -> list[tuple]:
    """The same moves for a Simulation or a Cluster: oldest message first, with faults.

    Drops every Accept to acceptor 4 and the first Ack, duplicates the first Accepted,
    crashes acceptor 3 after its first Accept and restarts it later; fires the oldest
    timer when no message is pending. Returns what was done, item by item.
    """
    d.propose(210, proposer=0)
    d.propose(220, proposer=1)
    d.start()
    log: list[tuple] = []
    dropped_ack = duplicated = crashed = False
    for _ in range(3000):
        if d.all_decided():
            break
        items = sorted(d.pending(), key=lambda p: p.id)
        msgs = [p for p in items if p.kind == "Message"]
        if not items:
            break
        p = msgs[0] if msgs else items[0]
        kind = p.msg.type
        if kind == "Accept" and p.dst == 4 or kind == "Ack" and not dropped_ack:
            dropped_ack = dropped_ack or kind == "Ack"
            d.drop(p.id)
            log.append(("drop", p.id, p.src, p.dst, p.msg))
            continue
        if kind == "Accepted" and not duplicated:
            duplicated = True
            copy = d.duplicate(p.id)
            log.append(("duplicate", copy.id, p.id))
        d.deliver(p.id)
        log.append(("deliver", p.id, p.src, p.dst, p.msg))
        if kind == "Accept" and p.dst == 3 and not crashed:
            crashed = True
            d.crash(3)
            log.append(("crash", 3))
        if crashed and kind == "Accepted" and d.alive()[3] is False:
            d.restart(3)
            log.append(("restart", 3))
    return log


def comparable(trace) -> list[dict]:
    """The trace without times (real vs virtual clocks)."""
    return [{k: v for k, v in ev.items() if k != "t"} for ev in trace]


def test_step_mode_gives_the_simulations_ids_decisions_and_trace():
    sim = Simulation(CFG, seed=3)
    expected = script(sim)
    with Cluster(CFG, mode="step", seed=3) as c:
        got = script(c)
        assert got == expected
        assert c.decided() == sim.decided() and len(c.decided()) == 2
        assert comparable(c.trace) == comparable(sim.trace)
        assert c.actions == sim.actions
        assert c.violations == sim.violations == []
        cluster_snap = {u: {k: v for k, v in s.items()} for u, s in c.snapshot().items()}
        assert cluster_snap == sim.snapshot()
    delivered = [e[4].type for e in got if e[0] == "deliver"]
    assert {"Token", "Roles", "Request", "Proposal", "Ack", "Accept", "Accepted",
            "Decided", "Timer"} <= set(delivered)


def test_nothing_moves_in_step_mode_until_told():
    """Each call returns once its node has finished, and nodes run no timers of their own:
    so after every call the pending items are exactly a Simulation's, deadlines included
    (a node that moved by itself would add items, or fire a timer, that the simulator's
    lockstep copy does not have)."""
    cfg = Config(proposers=1, acceptors=1, learners=1)
    sim = Simulation(cfg)
    sim.propose(1)
    sim.start()
    with Cluster(cfg, mode="step") as c:
        c.propose(1)
        c.start()
        first = c.pending()
        assert [(p.src, p.dst, p.msg.type) for p in first if p.kind == "Message"] == [
            (0, 1, "Token"), (1, 2, "Token"), (2, 0, "Token")]
        assert sorted((p.dst, p.msg.name) for p in first if p.kind == "Timer") == [
            (0, "election"), (1, "election"), (2, "election"), (3, "roles")]
        assert first == sim.pending()
        assert not [ev for ev in c.trace if ev["kind"] in ("deliver", "timer")]
        while not sim.all_decided():
            assert c.step() == sim.step()
            assert c.pending() == sim.pending()
        assert c.decided() == sim.decided() == {3: 1}
        assert comparable(c.trace) == comparable(sim.trace)


def test_pause_holds_messages_and_resume_lets_them_flow():
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        assert c.run(until="elected", timeout=10).ok
        c.pause()
        assert c.mode == "step"
        c.propose(42)
        assert c.wait_for(lambda c: any(p.kind == "Message" for p in c.pending()), timeout=5)
        assert c.decided() == {}
        c.resume()
        assert c.mode == "run"
        assert c.run(timeout=10).status == "decided"
        assert c.decided() == {5: 42}


def test_a_node_killed_from_outside_is_a_crash_in_step_mode():
    """``kill -9`` by pid, as a student might from a terminal: the node counts as crashed
    (its crash event says how), what is delivered to it is dropped, as in a Simulation,
    and the others decide without it."""
    with Cluster(Config(proposers=1, acceptors=3, learners=1, clients=((7, 0),)),
                 mode="step") as c:
        c.start()
        assert c.run(until="elected", timeout=30).ok
        acceptor = c.config.roles(c.leader()).acceptors[0]
        os.kill(c.pids()[acceptor], signal.SIGKILL)
        assert c.run(timeout=30).status == "decided"
        assert c.alive()[acceptor] is False
        crashes = [ev for ev in c.trace if ev["kind"] == "crash"]
        assert [(ev["src"], ev["msg"].get("how")) for ev in crashes] == [
            (acceptor, "killed by signal SIGKILL")]
        after = c.trace[crashes[0]["seq"]:]
        to_it = [ev for ev in after if ev["kind"] in ("deliver", "drop") and ev["dst"] == acceptor]
        assert to_it and all(ev["kind"] == "drop" and ev["reason"] == "crashed" for ev in to_it)
