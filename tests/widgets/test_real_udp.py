"""The dashboard on real node processes (a step-mode Cluster), and that it never leaks them."""

from __future__ import annotations

import gc
import os
import weakref

from paxos_edu import Cluster, Simulation
from paxos_edu.widgets import REAL, SIMULATED, Dashboard, ElectionWidget

from .conftest import all_decided, configure, step_until
from .test_dashboard import rows


def running(pids) -> list[int]:
    """The pids still running now (a zombie awaiting its reaper counts as gone); no waiting."""
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    alive.append(pid)
        except (ProcessLookupError, FileNotFoundError):
            pass
    return alive


def test_real_udp_start_step_crash_back_fork_run():
    dash = Dashboard(raise_errors=True)
    configure(dash, 2, 3, 1)
    dash.setup.backend.value = REAL
    dash.setup.start.click()
    cluster = dash.session.head
    assert isinstance(cluster, Cluster) and cluster.mode == "step"
    pids = list(cluster.pids().values())
    assert len(pids) == 8
    assert dash.pending.list.options[0][0] == "#1 0→1 [election] token(0)"

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
