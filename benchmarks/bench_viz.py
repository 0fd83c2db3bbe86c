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
node table, pending list and counts, and redraws the visible diagram as a PNG
(``widgets/render.py``). The issue's target is 100 ms. ``python
benchmarks/bench_viz.py dashboard`` runs this part alone.
"""

from __future__ import annotations

import sys
import time

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
    sim.run(max_steps=20_000)
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


if __name__ == "__main__":
    if sys.argv[1:] == ["dashboard"]:
        dashboard()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
        print()
        dashboard()
