"""Seeded traces shared by the diagram tests (each built once per session)."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from paxos_edu import Config, Simulation  # noqa: E402


def _acceptor_promised(trace: list[dict]) -> int | None:
    for ev in trace:
        msg = ev["msg"]
        if ev["kind"] == "state" and msg.get("role") == "acceptor" and msg.get("promised", 0) > 0:
            return ev["src"]
    return None


@pytest.fixture(scope="session")
def paxos_trace() -> list[dict]:
    """Two proposers, three acceptors, one learner, two clients (210 and 220): decides 220."""
    sim = Simulation(Config(proposers=2, acceptors=3, learners=1), seed=7)
    sim.propose(210, proposer=0)
    sim.propose(220, proposer=1)
    sim.start()
    sim.run(until=None, order="random")  # the seeded schedule these tests were drawn on
    return sim.trace


@pytest.fixture(scope="session")
def amnesia_trace() -> list[dict]:
    """An acceptor that had promised restarts without its storage: "monotonic promises"."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1), seed=2)
    sim.propose(210)
    sim.start()
    while _acceptor_promised(sim.trace) is None:
        sim.step(order="random")
    sim.restart(_acceptor_promised(sim.trace), amnesia=True)
    sim.run(until=None, order="random")  # the seeded schedule these tests were drawn on
    return sim.trace


@pytest.fixture(scope="session")
def drop_trace() -> tuple[list[dict], int, int]:
    """A run in which the first Proposal sent is dropped: (trace, message id, drop index)."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1), seed=3)
    sim.propose(42)
    sim.start()
    while not any(p.msg.type == "Proposal" for p in sim.pending()):
        sim.step(order="random")
    mid = next(p.id for p in sim.pending() if p.msg.type == "Proposal")
    sim.drop(mid)
    at = len(sim.trace) - 1
    sim.run(until=None, order="random")  # the seeded schedule these tests were drawn on
    return sim.trace, mid, at


@pytest.fixture(scope="session")
def crash_trace() -> tuple[list[dict], int]:
    """Acceptor 2 crashes once roles are out; the others still decide: (trace, crashed uid)."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1), seed=4)
    sim.propose(7)
    sim.start()
    while not any(ev["kind"] == "send" and ev["msg"]["type"] == "Proposal" for ev in sim.trace):
        sim.step(order="random")
    sim.crash(2)
    sim.run(until=None, order="random")  # the seeded schedule these tests were drawn on
    return sim.trace, 2


@pytest.fixture(scope="session")
def ring_trace() -> list[dict]:
    """An 11-node random ring, the whole election (and the Paxos run after it)."""
    sim = Simulation(Config(proposers=3, acceptors=5, learners=3, ring="random", ring_seed=4),
                     seed=3)
    sim.start()
    sim.run(until=None, order="random")  # the seeded schedule these tests were drawn on
    return sim.trace


def _in_flight(trace: list[dict], at: int) -> dict[int, dict]:
    """Messages sent (or duplicated) by event ``at`` and not yet delivered or dropped."""
    flying: dict[int, dict] = {}
    for ev in trace[: at + 1]:
        if ev["kind"] in ("send", "duplicate"):
            flying[ev["id"]] = ev
        elif ev["kind"] in ("deliver", "drop"):
            flying.pop(ev["id"], None)
    return flying


def _last_state(trace: list[dict], uid: int, at: int) -> dict:
    """Node ``uid``'s latest State message at or before event ``at``."""
    states = [ev["msg"] for ev in trace[: at + 1] if ev["kind"] == "state" and ev["src"] == uid]
    return states[-1] if states else {}


@pytest.fixture(scope="session")
def in_flight_at():
    """An oracle independent of viz.state: ``in_flight_at(trace, at) -> {id: send event}``."""
    return _in_flight


@pytest.fixture(scope="session")
def state_at():
    """An oracle independent of viz.state: ``state_at(trace, uid, at) -> State message``."""
    return _last_state
