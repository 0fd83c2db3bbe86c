"""The dashboard driven through its widgets, on the simulated backend."""

from __future__ import annotations

import re
import time

from paxos_edu import Config, Simulation, read_jsonl
from paxos_edu.widgets import Dashboard
from paxos_edu.widgets.dashboard import TABS

from .conftest import all_decided, configure, step_until


def rows(table_html: str) -> dict[int, str]:
    """The node table's rows by uid."""
    return {int(uid): row for uid, row in
            re.findall(r"<tr data-uid='(\d+)'.*?>(.*?)</tr>", table_html)}


def roles_known(dash) -> bool:
    """Every consensus node got its role (a node that misses the Roles message never does)."""
    nodes = dash.session.world().nodes
    return all(nodes[u].get("role") for u in range(dash.session.config.n_consensus))


def test_configure_start_step_crash_back_fork_and_run_to_the_end(dash):
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    assert dash.session.config.proposers == 2 and dash.session.config.clients == (
        (210, 0), (220, 1))
    assert dash.setup.proposers.disabled  # no reconfiguring a running system
    # Before anything moves: every node sent its token; the table has one row per node.
    assert [label for label, _ in dash.pending.list.options][:2] == [
        "#1 N0→N1 [election] token(0)", "#3 N1→N2 [election] token(1)"]  # #2: N0's timer
    # (during the election no node has a role yet: N0, N1, ...; the roles name them after)
    assert sorted(rows(dash.table.value)) == list(range(8))
    assert "data-safe='true'" in dash.safety.value

    step_until(dash, all_decided)
    table = rows(dash.table.value)
    assert "leader" in dash.status.value and "decided:" in dash.status.value
    value = dash.session.decided()[6]
    assert dash.session.decided() == {6: value, 7: value}
    assert f"told {value}" in table[6] and f"told {value}" in table[7]
    assert re.search(rf"accepted \(\d+, {value}\)", table[2] + table[3] + table[4])
    assert "★ leader" in table[5]  # the largest uid wins the ring
    assert "data-safe='true'" in dash.safety.value

    head = dash.session.head_index
    dash.faults.rows[2].crash.click()
    assert dash.session.head_index == head + 1
    assert "data-alive='false'" in dash.table.value.split("data-uid='2'")[1].split("</tr>")[0]
    assert "crashed" in rows(dash.table.value)[2]
    assert dash.faults.rows[2].crash.disabled and not dash.faults.rows[2].restart.disabled

    for _ in range(3):
        dash.controls.back.click()
    s = dash.session
    assert s.cursor == s.head_index - 3 and not s.at_head
    assert dash.controls.history.value == s.cursor
    assert "the past (read-only)" in dash.status.value
    assert "crashed" not in rows(dash.table.value)[2]  # before the crash
    assert dash.pending.buttons["deliver"].disabled and dash.faults.rows[2].crash.disabled
    # Back rebuilt a Simulation by replaying the recorded actions: the same trace, event for event.
    assert isinstance(s.run, Simulation) and s.run is not s.head
    assert s.run.trace == s.events[:s.at + 1]
    assert [label for label, _ in dash.pending.list.options] == [
        label for label, _ in s.pending()] != []

    dash.controls.fork.click()
    assert s.at_head and s.head_index == head - 2
    assert "forked" in dash.status.value
    assert not dash.pending.buttons["deliver"].disabled
    dash.controls.run_all.click()
    assert all_decided(dash) and dash.pending.list.options == ()
    assert "data-safe='true'" in dash.safety.value
    assert dash.session.finished()
    assert dash.errors == []


def test_pending_buttons_act_on_the_selected_item_not_just_the_next(dash):
    configure(dash, 1, 3, 1, clients=((7, 0),))
    dash.setup.start.click()
    pending = dash.pending
    ids = [mid for _, mid in pending.list.options]
    trace = dash.session.events

    pending.select(ids[2])
    pending.buttons["duplicate"].click()
    copy = trace[-1]
    assert copy["kind"] == "duplicate" and copy["of"] == ids[2]
    assert copy["id"] in [mid for _, mid in pending.list.options]

    pending.select(ids[3])
    pending.buttons["drop"].click()
    assert trace[-1]["kind"] == "drop" and trace[-1]["id"] == ids[3]
    assert ids[3] not in [mid for _, mid in pending.list.options]

    pending.select(ids[1])
    pending.delay_ms.value = 30
    pending.buttons["delay"].click()
    assert dash.session.head.actions[-1] == ("delay", ids[1], 30.0)

    pending.select(ids[4])
    pending.buttons["deliver"].click()
    delivered = [ev for ev in trace if ev["kind"] == "deliver"]
    assert delivered[-1]["id"] == ids[4]
    assert dash.errors == []


def test_a_timer_cannot_be_duplicated_and_the_status_says_why():
    dash = Dashboard()
    configure(dash, 1, 3, 1, clients=((7, 0),))
    dash.setup.start.click()
    step_until(dash, lambda d: any(label.split()[1] == "timer"
                                   for label, _ in d.pending.list.options))
    timer = next(mid for label, mid in dash.pending.list.options if label.split()[1] == "timer")
    dash.pending.select(timer)
    dash.pending.buttons["duplicate"].click()
    assert "only messages can be duplicated" in dash.status.value
    assert len(dash.errors) == 1
    dash.controls.step.click()  # the next click clears the message
    assert "paxos-error" not in dash.status.value
    dash.close()


def test_history_slider_forward_and_step_in_the_past_walk_the_recorded_run(dash):
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.start.click()
    dash.controls.run_all.click()
    s = dash.session
    head, events = s.head_index, list(s.events)
    dash.controls.history.value = 10
    assert s.cursor == 10 and s.run.trace == events[:s.at + 1]
    dash.controls.forward.click()
    assert s.cursor == 11 and s.run.trace == events[:s.at + 1]
    dash.controls.step.click()  # in the past, Step walks the recorded future
    assert s.cursor == 12 and s.head_index == head
    dash.controls.history.value = head
    assert s.at_head and s.run is s.head
    assert dash.errors == []


def test_partition_and_heal(dash):
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.start.click()
    step_until(dash, lambda d: "proposal(" in str(d.pending.list.options))  # elected: phase 1.1
    dash.faults.group.value = (0, 1)
    dash.faults.partition.click()
    assert dash.session.head.actions[-1] == ("partition", (0, 1), (2, 3, 4, 5))
    assert "partitioned {0, 1} | {2, 3, 4, 5}" in dash.status.value
    assert not dash.faults.heal.disabled
    step_until(dash, lambda d: any(ev["kind"] == "drop" and ev.get("reason") == "partition"
                                   for ev in d.session.events))
    dash.faults.heal.click()
    assert "partitioned" not in dash.status.value
    dash.controls.run_all.click()
    assert dash.session.decided() == {5: 5}
    dash.faults.group.value = ()
    dash.faults.partition.click()  # an empty group A is refused, with a reason
    assert "select some nodes" in dash.status.value
    assert len(dash.errors) == 1


def test_majority_of_acceptors_down_says_no_quorum_and_restart_recovers(dash):
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.start.click()
    step_until(dash, roles_known)
    dash.faults.rows[1].crash.click()
    assert "no quorum" not in dash.status.value
    dash.faults.rows[2].crash.click()
    assert "no quorum: acceptors 1, 2 of 3 are down" in dash.status.value
    dash.controls.run_all.click()  # runs until only timers are left: blocked, not hung
    assert dash.session.finished() and dash.session.decided() == {}
    dash.faults.rows[2].restart.click()
    assert "no quorum" not in dash.status.value
    dash.controls.run_all.click()
    assert dash.session.decided() == {5: 5}
    assert dash.errors == []


def test_play_free_runs_with_random_loss_and_stops_by_itself(dash):
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.seed.value = 4
    dash.setup.start.click()
    dash.faults.loss.value = 0.2
    dash.controls.speed.value = 10
    assert dash.controls.play.interval == 100
    play = dash.controls.play
    play.playing = True
    for _ in range(2000):  # what the browser does every interval
        if not play.playing:
            break
        play.value += 1
    assert not play.playing
    lost = [m.label for m in dash.session.marks if m.label.startswith("lost at random")]
    assert lost, "a 20% loss rate should lose something"
    assert dash.session.decided() == {5: 5}
    assert "data-safe='true'" in dash.safety.value
    play.value = 0  # the player's stop button rewinds: that is not a step
    assert dash.session.at_head
    dash.controls.pause.click()
    assert not play.playing
    assert dash.errors == []


def test_export_trace_and_gif_from_a_script(dash, tmp_path):
    configure(dash, 1, 3, 1, clients=((5, 0),))
    dash.setup.start.click()
    for _ in range(12):
        dash.controls.step.click()
    dash.export_trace(tmp_path / "run.jsonl")
    assert read_jsonl(tmp_path / "run.jsonl") == dash.session.events
    assert "wrote" in dash.status.value
    dash.export_gif(tmp_path / "run.gif")
    assert (tmp_path / "run.gif").read_bytes()[:6] == b"GIF89a"
    assert dash.errors == []


def test_bad_configuration_is_reported_not_raised():
    dash = Dashboard()
    dash.setup.clients[0].value.value = "x" * 10_000
    dash.setup.start.click()
    assert "clients[0] value" in dash.status.value
    assert dash.session is None and not dash.setup.start.disabled
    dash.controls.step.click()
    assert "press Start first" in dash.status.value
    dash.close()


def test_reset_configures_again_and_a_preset_fills_the_panel(dash):
    dash.setup.preset.value = "quorum"
    assert (dash.setup.proposers.value, dash.setup.acceptors.value,
            dash.setup.learners.value) == (1, 5, 1)
    assert "no quorum" in dash.setup.about.value
    dash.setup.start.click()
    assert dash.session.script and dash.setup.preset.disabled
    dash.setup.reset.click()
    assert dash.session is None and not dash.setup.preset.disabled
    assert dash.tabs.children[0].value == ""
    dash.setup.acceptors.value = 3  # changing the configuration leaves the preset
    assert dash.setup.preset.value == ""
    dash.setup.start.click()
    assert dash.session.script == [] and dash.session.config.acceptors == 3
    assert dash.errors == []


def test_every_diagram_tab_renders_an_svg(dash):
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    for _ in range(31):  # the 31st step (oldest first) sends: proposer 1's Accepts
        dash.controls.step.click()
    for k in range(len(dash.tabs.children)):
        dash.tabs.selected_index = k
        assert dash.tabs.children[k].value.startswith("<svg"), k
    before = dash.tabs.children[3].value
    dash.controls.back.click()  # the counts chart follows the cursor too
    assert dash.tabs.children[3].value != before
    assert dash.errors == []


def test_attach_a_simulation_with_history():
    sim = Simulation(Config(1, 3, 1), seed=2)
    sim.propose(42)
    sim.start()
    for _ in range(20):
        sim.step()
    dash = Dashboard(run=sim, raise_errors=True)
    s = dash.session
    assert s.head is sim and s.base_config.clients == () and s.head_index >= 20
    assert (dash.setup.acceptors.value, dash.setup.start.disabled) == (3, True)
    dash.controls.back.click()
    assert s.run.trace == sim.trace[:s.at + 1]
    dash.controls.history.value = s.head_index
    dash.controls.run_all.click()
    assert sim.decided() == {5: 42}
    dash.close()


def test_redraw_after_a_step_click_with_eleven_nodes(dash):
    """The number quoted in the report: one Step click, 3/5/3 nodes, Paxos diagram redrawn."""
    configure(dash, 3, 5, 3)
    dash.setup.start.click()
    step_until(dash, lambda d: d.session.world().leader is not None)
    for _ in range(5):
        dash.controls.step.click()  # warm up: the view is built once the roles are known
    clicks, redraws = [], []
    for _ in range(20):
        began = time.perf_counter()
        dash.controls.step.click()
        clicks.append(time.perf_counter() - began)
        redraws.append(dash.redraw_seconds)
    clicks.sort()
    redraws.sort()
    print(f"\n11 nodes: Step click median {clicks[10] * 1000:.0f} ms, "
          f"diagram redraw median {redraws[10] * 1000:.0f} ms")
    assert clicks[10] < 1.0
    assert dash.errors == []


def test_the_space_time_tab_follows_the_run_in_place(dash):
    """Step adds the new arrows to the view built at Start; Back moves its cursor; Fork rebuilds."""
    configure(dash, 2, 3, 1)
    dash.tabs.selected_index = TABS.index("space-time")
    dash.setup.start.click()
    panel = dash.diagrams[TABS.index("space-time")]
    view = panel.view
    assert view is not None  # built at Start, before any role is known
    assert "P0 proposer" not in [t.get_text() for t in view.ax.get_yticklabels()]
    step_until(dash, roles_known)
    for _ in range(10):
        before = dash.tabs.children[1].value
        dash.controls.step.click()
        assert dash.tabs.children[1].value != before
    assert panel.view is view  # never rebuilt, although the roles became known meanwhile
    assert "P0 proposer" in [t.get_text() for t in view.ax.get_yticklabels()]
    delivered = {ev["id"] for ev in dash.session.events if ev["kind"] == "deliver"}
    assert {int(a.get_gid().removeprefix("msg-")) for a in view.arrows} == delivered
    assert view.cursor.get_xdata()[0] == dash.session.at
    dash.controls.back.click()
    dash.controls.back.click()
    assert panel.view is view and view.cursor.get_xdata()[0] == dash.session.at
    dash.controls.fork.click()  # a new list of events: a new view
    assert panel.view is not view and panel.view.trace is dash.session.events
    assert dash.errors == []


def test_the_paxos_tab_names_the_roles_in_place_when_they_become_known(dash):
    """Placed by the configuration's roles from Start; the names change, the view stays."""
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    panel = dash.diagrams[TABS.index("Paxos")]
    view = panel.view
    names = lambda: sorted(t.get_text() for t in view.labels.values())  # noqa: E731
    assert names() == ["C6", "C7", "N0", "N1", "N2", "N3", "N4", "N5"]
    before = panel.widget.value
    step_until(dash, roles_known)
    assert panel.view is view and panel.widget.value != before
    assert names() == ["A2", "A3", "A4", "C6", "C7", "L5", "P0", "P1"]
    dash.controls.back.click()  # Back moves the cursor on the same view
    assert panel.view is view
    assert dash.errors == []


def test_a_disabled_control_says_why_in_its_tooltip(dash):
    before = dash.faults.heal  # built before Start: nothing to act on yet
    configure(dash, 2, 3, 1)
    assert dash.controls.step.disabled and "press Start first" in dash.controls.step.tooltip
    dash.setup.start.click()
    for _ in range(4):
        dash.controls.step.click()
    assert not dash.controls.step.disabled and "unavailable" not in dash.controls.step.tooltip
    assert dash.controls.forward.disabled and "latest step" in dash.controls.forward.tooltip
    assert before.disabled and "not partitioned" in before.tooltip
    a2 = dash.faults.rows[2]  # still the election: node 2 has no role yet
    assert a2.restart.disabled and "N2 is up" in a2.restart.tooltip
    assert not a2.crash.disabled and a2.crash.tooltip == "crash N2"

    dash.controls.back.click()  # the past is read-only, and every control there says so
    where = f"step {dash.session.cursor} of {dash.session.head_index}"
    assert a2.crash.disabled and where in a2.crash.tooltip
    assert all(where in b.tooltip for b in dash.pending.buttons.values() if b.disabled)
    assert dash.controls.fork.disabled is False
    dash.controls.forward.click()
    assert not a2.crash.disabled and a2.crash.tooltip == "crash N2"  # the reason goes again


def test_the_fault_panel_names_nodes_as_the_rest_of_the_dashboard(dash):
    """N2 during the election (no amnesia box: nobody is an acceptor yet), A2 acceptor once
    the roles are handed out, in the rows, the tooltips and the partition's choices."""
    configure(dash, 2, 3, 1)
    dash.setup.start.click()
    row = dash.faults.rows[2]
    assert dash.session.names[2] == "N2"
    assert row.label.value.startswith("<b>N2</b>") and "acceptor" not in row.label.value
    assert row.amnesia not in row.box.children and row.crash.tooltip == "crash N2"
    assert ("N2", 2) in dash.faults.group.options
    for _ in range(200):
        if dash.session.names[2] == "A2":
            break
        dash.controls.step.click()
    assert dash.session.names[2] == "A2"
    assert row.label.value == "<b>A2</b> acceptor" and row.amnesia in row.box.children
    assert row.crash.tooltip == "crash A2" and ("A2", 2) in dash.faults.group.options
    dash.controls.back.click()  # back to the election: named as the diagram names it there
    for _ in range(200):
        if dash.session.names[2] == "N2":
            break
        dash.controls.back.click()
    assert row.label.value.startswith("<b>N2</b>") and row.amnesia not in row.box.children


def test_the_widgets_never_ask_which_driver_they_hold():
    """Above the drivers only the Driver surface is used (realtime, closed, mode), so a
    third driver would work unchanged; the one factory that names them is make_driver."""
    import ast
    from pathlib import Path

    import paxos_edu.widgets as package

    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                assert not names & {"Simulation", "Cluster"}, f"{path.name}:{node.lineno}"
