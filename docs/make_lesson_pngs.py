"""docs/img/lesson_NN.png: one representative picture per lesson, for the README's table.

- lesson_00 .. lesson_02: the same figure the lesson draws, rebuilt from a Simulation (a
  step-mode Cluster given the same calls has the same trace apart from times, which no
  diagram here reads).
- lesson_03 .. lesson_05 are figures saved from those lessons' own cells; this script
  does not rebuild them.
- lesson_06: the top of notebooks/img/dashboard.png (controls, Paxos tab, node table, pending
  list), the screenshot tests/browser takes with PAXOS_EDU_SCREENSHOT=1.
- lesson_07: a student's first attempt at exercise 1 (accept everything in phase 2.2),
  the checker's verdict in words, and the explorer's counterexample drawn at the moment
  the promise is broken.
- lesson_08 is the figure lesson 08 stores (a forgetful acceptor's counterexample drawn by
  ``paxos_edu.lab.grade``); this script does not rebuild it.

Run from the repository root: ``.venv/bin/python docs/make_lesson_pngs.py``.
"""
import io
import textwrap
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

from paxos_edu import Config, Simulation, explore
from paxos_edu.exercises import CONFIG, acceptor_class, check, proposer_class, reference
from paxos_edu.viz import draw_paxos, draw_ring

OUT = Path("docs/img")


def oldest_message(sim):
    return next(p for p in sim.pending() if p.kind == "Message")


# Lesson 0, Figure 1: draw_paxos at the end of the seeded simulated run.
cfg = Config(proposers=1, acceptors=3, learners=1)
sim = Simulation(cfg, seed=0)
sim.propose(210)
sim.start()
sim.run(until="decided", order="random")
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

# Lesson 6: the dashboard screenshot, cut below the pending list's buttons (the fault and
# export panels are left out so that the diagram stays readable at the README's size).
with Image.open(Path("notebooks/img/dashboard.png")) as shot:  # the lesson shows it too
    shot.crop((0, 0, shot.width, min(shot.height, 1280))).save(OUT / "lesson_06.png")


# Lesson 7, exercise 1: the first attempt, the check's words, the counterexample.
def should_accept(promised, n):
    return True


def end_of_step(trace, k):
    """The last event of the step that produced ``trace[k]`` (as in lesson 5)."""
    while k + 1 < len(trace) and trace[k + 1]["kind"] in ("send", "state", "decide"):
        k += 1
    return k


report = check(should_accept=should_accept)                   # as in the lesson
impl = {"acceptor": acceptor_class(reference.should_promise, should_accept),
        "proposer": proposer_class(reference.choose_value)}      # what check() explores
result = explore(CONFIG, impl=impl, numbers=2, progress=False)
assert not result.ok and str(report).startswith(f"Safety BROKEN: a {len(result.schedule)}-step")
code = ["def should_accept(promised, n):     # exercise 1, phase 2.2: a first attempt",
        "    return True", "", "check(should_accept=should_accept)", ""]
verdict = [wrapped for line in str(report).splitlines()
           for wrapped in textwrap.wrap(line, 100, subsequent_indent="     ") or [""]]
words = Figure(figsize=(9.8, 0.2 + 0.165 * (len(code) + len(verdict))))
words.text(0.02, 0.96, "\n".join(code), family="monospace", fontsize=9.5, va="top",
           color="#1f4e79")
words.text(0.02, 0.96, "\n" * len(code) + "\n".join(verdict), family="monospace",
           fontsize=9.5, va="top", color="#222222")
trace = result.simulation.trace
picture = draw_paxos(trace, at=end_of_step(trace, max(result.violations[0].events)))
parts = []
for part in (words, picture):           # one PNG each, then stacked: the text above the diagram
    buffer = io.BytesIO()
    part.savefig(buffer, format="png", facecolor="white")
    parts.append(Image.open(buffer).convert("RGB"))
stacked = Image.new("RGB", (max(p.width for p in parts), sum(p.height for p in parts)), "white")
stacked.paste(parts[0], (0, 0))
stacked.paste(parts[1], (0, parts[0].height))
stacked.save(OUT / "lesson_07.png")
print("wrote", *sorted(str(p) for p in OUT.glob("lesson_*.png")))
