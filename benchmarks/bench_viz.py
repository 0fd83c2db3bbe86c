"""Per-frame cost of the animated diagrams: full redraw against in-place update, on Agg.

``python benchmarks/bench_viz.py [frames]`` prints one row per diagram and size
(5, 11 and 51 consensus nodes, plus 3 clients): CPU milliseconds per frame (process
time, so other work on the machine does not count), the best of three passes over
``frames`` cursors (default 30) spread over a seeded run; 51 nodes get one pass
over at most 15 frames, as a full redraw there takes most of a second. A frame
is what an animation pays: move the cursor, then render the canvas at 80 dpi.

- full redraw: clear the axes and call ``draw_ring``/``draw_paxos`` again;
- in place: ``RingView``/``PaxosView.update`` changes colours, texts and arrow
  positions, and unchanging artists come from cached bitmaps (``viz/layer.py``).

Then what a student waits for: a dashboard Step click with the Paxos, space-time
(timeline) or ring tab showing, 11 consensus nodes (3/5/3) and 3 clients, in
CPU ms per click (median, 90th percentile and the slowest click) over every
click from Start to the end of a seeded run. A click updates the status line,
node table, pending list and counts, and redraws the visible diagram as inline SVG
(``widgets/render.py``), in the kernel; ``bench_browser.py`` times the same click in
a browser, to the painted picture (the issue's target: 100 ms). ``python
benchmarks/bench_viz.py dashboard`` runs this part alone.

Last, the lesson animations: the jshtml players lessons 01 and 02 store (the whole
Chang-Roberts election on the lesson's ring, one Paxos request through phases 1.1 to 3),
in wall-clock seconds to build and encode and in MB of HTML, against matplotlib's
``animation.embed_limit`` (20 MB). ``python benchmarks/bench_viz.py lessons`` runs this
part alone; ``LESSON_ANIMATIONS`` is the recipe (messages gliding between steps, SVG
frames), which ``tests/notebooks/test_stored_animations.py`` compares with the stored
players. Below them, the same players without gliding and with PNG frames (``PLAIN``, as
lessons stored them before), and the size each lesson's notebook has with each player.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import statistics  # noqa: E402

from paxos_edu import Config, Simulation  # noqa: E402
from paxos_edu.viz import PaxosView, RingView, draw_paxos, draw_ring  # noqa: E402
from paxos_edu.viz.state import frame_indices  # noqa: E402
from paxos_edu.viz.style import new_axes  # noqa: E402

SIZES = {5: (1, 3, 1), 11: (3, 5, 3), 51: (5, 31, 15)}
DPI = 80  # what animate() uses


def run_trace(n: int) -> list[dict]:
    """A seeded run on ``n`` consensus nodes with three clients on different proposers."""
    p, a, lrn = SIZES[n]
    sim = Simulation(Config(proposers=p, acceptors=a, learners=lrn), seed=1)
    for k, v in enumerate((210, 220, 230)):
        sim.propose(v, proposer=k)
    sim.start()
    sim.run(until=None, max_steps=20_000, order="random")
    return sim.trace


def cursors(trace: list[dict], frames: int) -> list[int]:
    steps = frame_indices(trace, "steps")
    if len(steps) <= frames:
        return steps
    return [steps[round(k * (len(steps) - 1) / (frames - 1))] for k in range(frames)]


def best_ms(fn, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        best = min(best, fn())
    return best


def full_redraw(trace, ats, draw, view_cls) -> float:
    # The figure a view would make for itself, so both columns render the same pixels.
    probe = view_cls(trace)
    fig, ax = new_axes(None, tuple(probe.fig.get_size_inches()), dpi=DPI)
    fig.subplotpars.update(**{k: getattr(probe.fig.subplotpars, k)
                              for k in ("left", "right", "top", "bottom")})
    ax.set_position(probe.ax.get_position())
    start = time.process_time()
    for at in ats:
        ax.clear()
        draw(trace, at=at, ax=ax)
        fig.canvas.draw()
    return (time.process_time() - start) * 1000 / len(ats)


def in_place(trace, ats, view_cls) -> float:
    view = view_cls(trace)
    view.fig.set_dpi(DPI)
    view.update(ats[0])
    view.fig.canvas.draw()  # the first frame builds the cached layers, as in an animation
    start = time.process_time()
    for k, at in enumerate(ats):
        view.update(at, since=ats[k - 1] if k else -1)
        view.fig.canvas.draw()
    return (time.process_time() - start) * 1000 / len(ats)


def main(frames: int = 30) -> list[tuple]:
    rows = []
    for n in SIZES:
        trace = run_trace(n)
        big = n > 20
        ats = cursors(trace, min(frames, 15) if big else frames)
        rounds = 1 if big else 3
        for name, draw, cls in (("ring", draw_ring, RingView), ("paxos", draw_paxos, PaxosView)):
            full = best_ms(lambda: full_redraw(trace, ats, draw, cls), rounds)  # noqa: B023
            fast = best_ms(lambda: in_place(trace, ats, cls), rounds)  # noqa: B023
            rows.append((name, n, len(trace), len(ats), full, fast))
    print(f"{'diagram':8} {'nodes':>5} {'events':>6} {'frames':>6} "
          f"{'full redraw ms':>15} {'in place ms':>12} {'speed-up':>9}")
    for name, n, events, nframes, full, fast in rows:
        print(f"{name:8} {n:5d} {events:6d} {nframes:6d} {full:15.1f} {fast:12.1f} "
              f"{full / fast:8.1f}x")
    return rows


DASHBOARD_TABS = ("Paxos", "space-time", "ring")
DASHBOARD_CLICKS = 400  # a bound: the seeded run ends after about 90 clicks


def dashboard_clicks(tab: str, clicks: int = DASHBOARD_CLICKS) -> tuple[list[float], int]:
    """CPU ms of each Step click from Start to the end of the run, and the events recorded."""
    from paxos_edu.widgets import Dashboard
    from paxos_edu.widgets.dashboard import TABS

    p, a, lrn = SIZES[11]
    dash = Dashboard(config=Config(p, a, lrn, clients=((210, 0), (220, 1), (230, 2))), seed=1,
                     raise_errors=True)
    try:
        dash.tabs.selected_index = TABS.index(tab)
        dash.setup.start.click()
        times = []
        for _ in range(clicks):
            if dash.session.finished():
                break
            start = time.process_time()
            dash.controls.step.click()
            times.append((time.process_time() - start) * 1000)
        return times, len(dash.session.events)
    finally:
        dash.close()


def dashboard(tabs=DASHBOARD_TABS) -> list[tuple]:
    rows = []
    for tab in tabs:
        times, events = dashboard_clicks(tab)
        q = statistics.quantiles(times, n=10)
        rows.append((tab, len(times), events, statistics.median(times), q[-1], max(times)))
    print("dashboard Step click, 11 nodes (3/5/3) + 3 clients, CPU ms per click over a whole run")
    print(f"{'tab':11} {'clicks':>6} {'events':>6} {'median ms':>10} {'p90 ms':>7} {'max ms':>7}")
    for tab, n, events, median, p90, most in rows:
        print(f"{tab:11} {n:6d} {events:6d} {median:10.1f} {p90:7.1f} {most:7.1f}")
    return rows


def fifo(sim: Simulation, done) -> Simulation:
    """Deliver the oldest message in flight until ``done(sim)``, as the lessons' helpers do."""
    while not done(sim):
        sim.deliver(next(p for p in sim.pending() if p.kind == "Message").id)
    return sim


def lesson_election() -> tuple[list[dict], dict]:
    """Lesson 01's player: its six-node ring (seed 1), FIFO until a leader is known."""
    sim = Simulation(Config(proposers=1, acceptors=4, learners=1, ring="random", ring_seed=1))
    sim.start()
    fifo(sim, lambda s: s.leader() is not None)
    return sim.trace, {"kind": "ring", "frames": "steps", "interval": 700, "glide": 4,
                       "frame_format": "svg"}


def lesson_request() -> tuple[list[dict], dict]:
    """Lesson 02's player: 1/3/1 and a client wanting 210, FIFO; frames from the request on."""
    sim = Simulation(Config(proposers=1, acceptors=3, learners=1))
    sim.propose(210)
    sim.start()
    fifo(sim, Simulation.all_decided)
    trace = sim.trace
    request = next(i for i, e in enumerate(trace)
                   if e["kind"] == "deliver" and e["msg"]["type"] == "Request")
    frames = [i for i in frame_indices(trace, "steps") if i >= request - 1]
    return trace, {"kind": "paxos", "frames": frames, "interval": 700, "glide": 2,
                   "frame_format": "svg"}


LESSON_ANIMATIONS = {"01_chang_roberts": lesson_election,
                     "02_paxos_phase_by_phase": lesson_request}
PLAIN = {"glide": 0, "frame_format": "png"}
"""The players as stored before messages glided: one PNG frame a step."""
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_mb_with(lesson: str, player: str) -> float:
    """The lesson's notebook size (MB) with ``player`` in place of its stored jshtml player."""
    path = NOTEBOOKS / f"{lesson}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            if "new Animation(" in ("".join(html) if isinstance(html, list) else html):
                out["data"]["text/html"] = player.splitlines(keepends=True)
    # As nbformat writes it: one space of indent, non-ASCII as is.
    return len((json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()) / 2**20


def lesson_animations() -> list[tuple]:
    """Seconds (wall clock, best of three) to build and encode each lesson player, and its MB."""
    from matplotlib import rcParams

    from paxos_edu.viz import animate, to_html

    rows = []
    for lesson, recipe in LESSON_ANIMATIONS.items():
        trace, kwargs = recipe()
        for extra in ({}, PLAIN):
            both = {**kwargs, **extra}
            html_kwargs = {k: v for k, v in both.items() if k == "frame_format"}
            anim_kwargs = {k: v for k, v in both.items() if k != "frame_format"}
            best, html = float("inf"), ""
            for _ in range(3):
                start = time.perf_counter()
                anim = animate(trace, **anim_kwargs)
                html = to_html(anim, **html_kwargs)
                best = min(best, time.perf_counter() - start)
            how = ", ".join(f"{k}={v!r}" for k, v in extra.items()) or "stored recipe (gliding)"
            rows.append((lesson, how, len(anim.frame_indices), best,
                         len(html.encode()) / 2**20, notebook_mb_with(lesson, html)))
    print(f"lesson animations (jshtml at 80 dpi; embed limit "
          f"{rcParams['animation.embed_limit']:g} MB; notebooks must stay under 3 MB)")
    print(f"{'lesson':24} {'player':34} {'frames':>6} {'seconds':>8} {'MB':>6} {'notebook MB':>12}")
    for lesson, how, nframes, seconds, mb, nb_mb in rows:
        print(f"{lesson:24} {how:34} {nframes:6d} {seconds:8.2f} {mb:6.2f} {nb_mb:12.2f}")
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["dashboard"]:
        dashboard()
    elif sys.argv[1:] == ["lessons"]:
        lesson_animations()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
        print()
        dashboard()
        print()
        lesson_animations()
