"""docs/img/lesson_00.png .. lesson_02.png: one representative figure per lesson.

Each is the same figure the lesson draws, rebuilt from a Simulation (a step-mode
Cluster given the same calls has the same trace apart from times, which no
diagram here reads). Run from the repository root.
"""
from pathlib import Path

from matplotlib.figure import Figure

from paxos_edu import Config, Simulation
from paxos_edu.viz import draw_paxos, draw_ring

OUT = Path("docs/img")


def oldest_message(sim):
    return next(p for p in sim.pending() if p.kind == "Message")


# Lesson 0, Figure 1: draw_paxos at the end of the seeded simulated run.
cfg = Config(proposers=1, acceptors=3, learners=1)
sim = Simulation(cfg, seed=0)
sim.propose(210)
sim.start()
sim.run(until="decided")
draw_paxos(sim.trace).savefig(OUT / "lesson_00.png", bbox_inches="tight")

# Lesson 1, Figure 4: ascending and descending rings of six after the first round.
fig = Figure(figsize=(13, 7))
for ax, order in zip(fig.subplots(1, 2), ("ascending", "descending"), strict=True):
    s = Simulation(Config(proposers=1, acceptors=4, learners=1, ring=order))
    s.start()
    for _ in range(6):
        s.deliver(s.pending()[0].id)
    draw_ring(list(s.trace), ax=ax)
    ax.set_title(f"{order} ring, after the first round", pad=40)
fig.savefig(OUT / "lesson_01.png", bbox_inches="tight")

# Lesson 2, Figure 5: phase 2.2, the value is chosen but nobody knows it yet.
sim = Simulation(cfg)
sim.propose(210)
sim.start()
while oldest_message(sim).msg.type != "Accepted":
    sim.deliver(oldest_message(sim).id)
draw_paxos(sim.trace).savefig(OUT / "lesson_02.png", bbox_inches="tight")
print("wrote", *sorted(str(p) for p in OUT.glob("lesson_*.png")))
