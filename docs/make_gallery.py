"""Write the gallery of diagrams to docs/img/ (``python docs/make_gallery.py``).

Every picture comes from a seeded Simulation, so the files only change when the
protocol or the drawing code does:

- ring_mid_election.png: Chang-Roberts on a random ring of 11 nodes, halfway;
- paxos_phase_2_1.png: 11 consensus nodes and 3 clients, a proposer has just
  sent accept(n, v) to every acceptor while a rival's messages are in flight;
- timeline.png: the space-time diagram of a small run in which one Accept is lost,
  the cursor a little after the loss;
- timeline_11_nodes.png: the whole run of paxos_phase_2_1.png;
- paxos_amnesia_violation.png: the red banner after an acceptor forgot its promise;
- message_counts.png, phase_counts.png: the counting plots.
"""

from __future__ import annotations

import sys
from pathlib import Path

from paxos_edu import Config, Simulation
from paxos_edu.viz import (
    draw_paxos,
    draw_ring,
    draw_timeline,
    plot_message_counts,
    plot_phase_counts,
)
from paxos_edu.viz.state import step_end

OUT = Path(__file__).parent / "img"
ELEVEN = dict(proposers=3, acceptors=5, learners=3)


def ring_trace() -> list[dict]:
    """An 11-node random ring, stepped until about half of its Token messages were sent."""
    sim = Simulation(Config(**ELEVEN, ring="random", ring_seed=4), seed=3)
    sim.start()
    sim.run(until=None, max_steps=400, order="random")
    return sim.trace


def mid_election(trace: list[dict]) -> int:
    """The event after which half of the run's Token messages have been sent."""
    tokens = [i for i, ev in enumerate(trace)
              if ev["kind"] == "send" and ev["msg"]["type"] == "Token"]
    return step_end(trace, tokens[len(tokens) // 2])


def paxos_trace() -> list[dict]:
    """Two clients on rival proposers and one more on the third: duelling proposals."""
    sim = Simulation(Config(**ELEVEN), seed=5)
    sim.propose(210, proposer=0)
    sim.propose(220, proposer=1)
    sim.propose(230, proposer=2)
    sim.start()
    sim.run(until=None, order="random")
    return sim.trace


def at_phase_2_1(trace: list[dict]) -> int:
    """The end of the step in which the first proposer reached phase 2.1 (sent its Accepts)."""
    first = next(i for i, ev in enumerate(trace)
                 if ev["kind"] == "send" and ev["msg"]["type"] == "Accept")
    return step_end(trace, first)


def timeline_trace() -> list[dict]:
    """One proposer, three acceptors, one learner; the first Accept sent is lost."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1), seed=1)
    sim.propose(42)
    sim.start()
    while True:
        accept = next((p for p in sim.pending() if p.msg.type == "Accept"), None)
        if accept is not None:
            sim.drop(accept.id)
            break
        sim.step(order="random")
    sim.run(until=None, order="random")
    return sim.trace


def amnesia_trace() -> list[dict]:
    """An acceptor that had promised restarts without its stable storage."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1), seed=2)
    sim.propose(210)
    sim.start()

    def promised() -> int | None:
        return next((ev["src"] for ev in sim.trace if ev["kind"] == "state"
                     and ev["msg"].get("role") == "acceptor" and ev["msg"].get("promised")), None)

    while promised() is None:
        sim.step(order="random")
    sim.restart(promised(), amnesia=True)
    sim.run(until=None, order="random")
    return sim.trace


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        path = out / name
        fig.savefig(path, dpi=100)
        written.append(path)

    ring = ring_trace()
    save(draw_ring(ring, at=mid_election(ring)), "ring_mid_election.png")
    paxos = paxos_trace()
    save(draw_paxos(paxos, at=at_phase_2_1(paxos)), "paxos_phase_2_1.png")
    small = timeline_trace()
    drop = next(i for i, ev in enumerate(small) if ev["kind"] == "drop")
    save(draw_timeline(small, at=step_end(small, drop + 12)), "timeline.png")
    save(draw_timeline(paxos), "timeline_11_nodes.png")
    amnesia = amnesia_trace()
    save(draw_paxos(amnesia, at=70), "paxos_amnesia_violation.png")
    save(plot_message_counts(range(3, 21), seeds=range(10)), "message_counts.png")
    save(plot_phase_counts(paxos), "phase_counts.png")
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
