"""The dashboard on real node processes (a step-mode Cluster), and that it never leaks them."""

from __future__ import annotations

import gc
import time
import weakref

from process_watch import wait_gone

from paxos_edu import Cluster, Simulation
from paxos_edu.widgets import REAL, SIMULATED, Dashboard, ElectionWidget
from paxos_edu.widgets.session import FREE_RUN, LOSSY_PHASES

from .conftest import all_decided, configure, step_until
from .test_dashboard import rows


def running(pids) -> list[int]:
    """The pids still running now (a zombie awaiting its reaper counts as gone); no waiting."""
    return wait_gone(pids, 0)


def test_real_udp_start_step_crash_back_fork_run():
    dash = Dashboard(raise_errors=True)
    configure(dash, 2, 3, 1)
    dash.setup.backend.value = REAL
    dash.setup.start.click()
    cluster = dash.session.head
    assert isinstance(cluster, Cluster) and cluster.mode == "step"
    pids = list(cluster.pids().values())
    assert len(pids) == 8
    assert dash.pending.list.options[0][0] == "#1 N0→N1 [election] token(0)"  # no roles yet

    step_until(dash, all_decided)
    value = dash.session.decided()[6]
    table = rows(dash.table.value)
    assert f"told {value}" in table[6] and f"told {value}" in table[7]
    assert "data-safe='true'" in dash.safety.value

    dash.faults.rows[3].crash.click()
    assert "crashed" in rows(dash.table.value)[3]
    assert 3 not in cluster.pids()

    for _ in range(3):
        dash.controls.back.click()
    s = dash.session
    assert s.run is cluster and not s.at_head  # the past of a Cluster is its trace, not rebuilt
    assert "crashed" not in rows(dash.table.value)[3]
    assert "the past: read-only" in dash.pending.title.value
    assert dash.pending.list.options  # what was in flight then, read from the trace

    dash.controls.fork.click()  # carries on in the simulator from the same moment
    assert cluster.closed and running(pids) == []
    assert isinstance(s.head, Simulation) and s.backend == SIMULATED
    assert dash.setup.backend.value == SIMULATED
    dash.controls.run_all.click()
    assert dash.session.decided() == {6: value, 7: value}
    assert "data-safe='true'" in dash.safety.value
    assert dash.errors == []
    dash.close()


def test_reset_and_garbage_collection_close_the_cluster():
    dash = Dashboard(backend=REAL, raise_errors=True)
    dash.setup.start.click()
    first = dash.session.head
    dash.controls.step.click()
    dash.setup.reset.click()
    assert first.closed

    dash.setup.start.click()
    second = dash.session.head
    pids = list(second.pids().values())
    gone = weakref.ref(dash)
    del dash
    gc.collect()
    assert gone() is None
    assert second.closed and running(pids) == []


def test_election_widget_on_real_processes_closes_its_cluster():
    e = ElectionWidget(n=3, backend=REAL, raise_errors=True)
    first = e.run
    assert e.run_all() == 5 and e.leader == 2
    e.n.value = 4  # a new ring: new processes, the old ones stopped
    assert first.closed and e.tokens == 4 and e.leader is None
    second = e.run
    del e
    gc.collect()
    assert second.closed


def test_amnesia_preset_on_real_processes_turns_the_light_red():
    dash = Dashboard(preset="amnesia", backend=REAL, raise_errors=True)
    dash.setup.start.click()
    assert isinstance(dash.session.head, Cluster)
    while dash.session.script_left:
        dash.controls.step.click()
    assert "script stopped" not in dash.status.value
    assert "data-safe='false'" in dash.safety.value
    assert "monotonic promises" in dash.safety.value and "agreement" in dash.safety.value
    table = rows(dash.table.value)
    assert "told 210" in table[6] and "told 220" in table[7]
    dash.controls.run_all.click()
    assert dash.errors == []
    dash.close()
    assert dash.session.closed


def play_until(dash: Dashboard, done, timeout: float = 30.0) -> list[tuple[int, int]]:
    """Tick the player, as the browser does every interval, until ``done(dash)``.

    Returns ``(cursor, newest step)`` after each tick; fails after ``timeout`` seconds.
    """
    play, seen = dash.controls.play, []
    deadline = time.monotonic() + timeout
    while not done(dash):
        assert time.monotonic() < deadline, f"not done after {timeout} s: {dash.status.value}"
        assert play.playing, f"Play stopped early: {dash.status.value}"
        play.value += 1
        seen.append((dash.session.cursor, dash.session.head_index))
    return seen


def test_play_on_real_processes_free_runs_them_with_the_loss_rate():
    dash = Dashboard(backend=REAL, seed=5, raise_errors=True)
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.start.click()
    s, cluster = dash.session, dash.session.head
    pids = list(cluster.pids().values())
    dash.faults.loss.value = 0.4
    dash.controls.speed.value = 20
    dash.controls.play.playing = True

    # With a loss rate the setup goes step by step (tokens and roles assume reliable links) ...
    play_until(dash, lambda d: cluster.mode == "run")
    assert cluster.elected()
    setup = s.head_index
    assert all(m.replayable and not m.label.startswith(FREE_RUN) for m in s.marks)
    # ... then the processes run by themselves; the display follows one step a tick.
    seen = play_until(dash, lambda d: not d.controls.play.playing)
    assert cluster.mode == "step" and not s.free_running  # Play stopped by itself: paused
    assert all(b - a in (0, 1) for (a, _), (b, _) in zip(seen, seen[1:], strict=False))
    assert any(head - cursor > 1 for cursor, head in seen), "the processes never ran ahead"
    assert s.at_head and s.events == cluster.trace  # everything they did is in the history

    free = s.marks[setup + 1:]
    assert free and all(m.label.startswith(FREE_RUN) and not m.replayable for m in free)
    first_free = s.marks[setup].events
    lost = [ev for ev in s.events if ev["kind"] == "drop" and ev.get("reason") == "lost"]
    assert lost, "a 40% loss rate on the switch should lose something"
    assert all(ev["phase"] in LOSSY_PHASES for ev in lost)
    assert all(s.events.index(ev) >= first_free for ev in lost)  # nothing lost during setup
    assert any(m.label.endswith(" lost") for m in free)
    assert s.decided() == {5: 5}
    assert "told 5" in rows(dash.table.value)[5]
    assert "data-safe='true'" in dash.safety.value

    # The free-run's steps can be walked through but not forked: the simulator cannot
    # replay them. A step of the setup can.
    dash.controls.back.click()
    assert dash.controls.fork.disabled and "Play to catch up" in dash.status.value
    dash.controls.history.value = setup
    assert not dash.controls.fork.disabled
    dash.controls.fork.click()
    assert cluster.closed and running(pids) == []
    assert s.backend == SIMULATED and s.head_index == setup
    dash.controls.run_all.click()
    assert s.decided() == {5: 5}
    assert dash.errors == []
    dash.close()


def test_pause_puts_the_free_running_processes_back_in_step_mode():
    dash = Dashboard(backend=REAL, seed=2, raise_errors=True)
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    s, cluster = dash.session, dash.session.head
    dash.controls.play.playing = True  # no loss: the election runs free too
    play_until(dash, lambda d: cluster.mode == "run")
    assert s.free_running and "free-running" in dash.status.value
    dash.controls.pause.click()
    assert not dash.controls.play.playing and cluster.mode == "step" and not s.free_running
    assert s.events == cluster.trace and s.marks[-1].events == len(s.events)
    # Pause lands on the latest step, where the crash buttons work at once.
    assert s.at_head and "paused at the latest step" in dash.status.value
    assert not any(row.crash.disabled for row in dash.faults.rows.values()), \
        "a crash button is still disabled after Pause"
    dash.controls.run_all.click()  # step mode again: the dashboard steps what is pending
    assert s.decided() == {6: 210, 7: 210} or s.decided() == {6: 220, 7: 220}
    assert "data-safe='true'" in dash.safety.value
    assert dash.errors == []
    dash.close()
    assert s.closed


def test_play_in_slow_motion_runs_the_processes_slower_and_still_decides():
    dash = Dashboard(raise_errors=True)
    configure(dash, 1, 3, 1, clients=((5, 0),))
    assert dash.setup.slow.layout.visibility == "hidden"  # a simulated run has no real time
    dash.setup.backend.value = REAL
    assert dash.setup.slow.layout.visibility == "visible"
    dash.setup.slow.value = 100
    dash.setup.start.click()
    s, cluster = dash.session, dash.session.head
    assert cluster.slow == 100
    dash.controls.speed.value = 20
    dash.controls.play.playing = True
    play_until(dash, lambda d: not d.controls.play.playing)
    assert s.decided() == {5: 5} and "data-safe='true'" in dash.safety.value
    ev = s.events
    request = next(e["t"] for e in ev if e["kind"] == "deliver" and e["msg"]["type"] == "Request")
    told = next(e["t"] for e in ev if e["kind"] == "deliver" and e["msg"]["type"] == "Decided")
    # Five hops from the Request's arrival to the Decided's, each held 99 ms. The times are
    # when the switch heard of each event, a few ms late under load: hence the margin.
    assert told - request >= 5 * 99 * 0.9
    assert dash.errors == []
    dash.close()
