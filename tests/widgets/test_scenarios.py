"""Each preset, driven through the dashboard: its script runs without error and it ends as promised."""

from __future__ import annotations

import pytest

from paxos_edu import Simulation
from paxos_edu.widgets import SCENARIOS, Dashboard, Msg, ScriptStep, apply_step

from .test_dashboard import rows


def play_script(key: str, watch=None) -> Dashboard:
    """Start preset ``key``, click Step through its script (``watch(dash, k)`` after step k)."""
    dash = Dashboard(preset=key, raise_errors=True)
    dash.setup.start.click()
    script = SCENARIOS[key].script
    assert dash.session.script == list(script)
    for k, step in enumerate(script):
        dash.controls.step.click()
        assert dash.session.script_pos == k + 1, dash.status.value
        assert dash.session.note == step.note  # the status line tells the story
        if watch:
            watch(dash, k)
    return dash


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_preset_runs_its_script_and_ends_as_promised(key):
    scenario = SCENARIOS[key]
    dash = play_script(key)
    assert (dash.setup.proposers.value, dash.setup.acceptors.value,
            dash.setup.learners.value) == (scenario.config.proposers, scenario.config.acceptors,
                                           scenario.config.learners)
    dash.controls.run_all.click()
    assert dash.session.finished()
    assert scenario.check(dash.session.head) == []
    assert dash.errors == []
    dash.close()


def test_the_election_preset_opens_on_the_ring_and_elects_the_largest_uid():
    colours = []
    dash = play_script("election", lambda d, k: colours.append(
        {u: s.get("color") for u, s in d.session.world().nodes.items() if u < 6}))
    assert dash.tabs.selected_index == 2  # the ring
    assert colours[2][0] == "black" and colours[1][5] == "red"  # P0 lost to token(5); L5 not
    assert all(c == "black" for u, c in colours[11].items() if u != 5)
    assert dash.session.world().leader == 5 and "leader L5" in dash.status.value
    assert dash.session.note.startswith("The leader hands out the roles")
    dash.controls.run_all.click()
    assert dash.session.decided() == {6: 210}
    dash.close()


def test_happy_path_decides_and_stays_green():
    dash = play_script("happy", lambda d, k: (
        "data-safe='true'" in d.safety.value) or pytest.fail(f"red at step {k}"))
    assert dash.session.decided() == {5: 210}
    assert "told 210" in rows(dash.table.value)[5]
    dash.close()


def test_value_hijack_ends_with_both_clients_told_the_first_value():
    dash = play_script("hijack")
    table = rows(dash.table.value)
    assert "told 210" in table[6] and "told 210" in table[7]
    accepts = [ev["msg"]["v"] for ev in dash.session.events
               if ev["kind"] == "send" and ev["src"] == 1 and ev["msg"]["type"] == "Accept"]
    assert accepts and set(accepts) == {210}  # proposer 1 adopted 210, never sent its 220
    assert "data-safe='true'" in dash.safety.value
    dash.close()


def test_amnesia_turns_the_safety_light_red_with_the_checkers_explanation():
    script = SCENARIOS["amnesia"].script
    restart = next(k for k, s in enumerate(script) if s.method == "restart")
    lights = []
    dash = play_script("amnesia", lambda d, k: lights.append(d.safety.value))
    assert all("data-safe='true'" in light for light in lights[:restart])
    red = lights[restart]
    assert "data-safe='false'" in red and "SAFETY VIOLATED" in red
    assert "monotonic promises" in red and "acceptor 3" in red and "forgot a promise" in red
    assert "agreement" in dash.safety.value  # 220 chosen after 210
    table = rows(dash.table.value)
    assert "told 210" in table[6] and "told 220" in table[7]
    # Going back before the restart turns the light green again; forward, red again.
    dash.controls.history.value = dash.session.head_index - (len(script) - restart)
    assert "data-safe='true'" in dash.safety.value
    dash.controls.forward.click()
    assert "data-safe='false'" in dash.safety.value
    assert dash.errors == []
    dash.close()


def test_minority_failure_is_tolerated_majority_failure_blocks():
    script = SCENARIOS["quorum"].script
    statuses = []
    dash = play_script("quorum", lambda d, k: statuses.append((script[k], d.status.value)))
    crashes = [status for step, status in statuses if step.method == "crash"]
    assert "no quorum" not in crashes[1]                                 # 2 of 5 down
    assert "no quorum: acceptors 1, 2, 3 of 5 are down" in crashes[2]    # 3 of 5 down
    learner_step = next(k for k, s in enumerate(script) if s.args and
                        isinstance(s.args[0], Msg) and s.args[0].type == "Accepted")
    assert "decided:" not in statuses[learner_step][1]
    assert "no quorum" not in statuses[-1][1]                            # acceptor 3 is back
    dash.controls.run_all.click()
    assert dash.session.decided() == {7: 210}
    dash.close()


def test_dueling_proposers_preempt_each_other_then_agree():
    dash = play_script("duel")
    nacks = [ev for ev in dash.session.events
             if ev["kind"] == "send" and ev["msg"]["type"] == "Nack"]
    assert {ev["dst"] for ev in nacks} == {0, 1}  # each proposer was preempted once
    dash.controls.run_all.click()
    decided = dash.session.decided()
    assert len(set(decided.values())) == 1 and set(decided) == {6, 7}
    dash.close()


def test_acceptor_crash_in_phase_12_decides_with_the_other_two():
    dash = play_script("crash12")
    dash.controls.run_all.click()
    table = rows(dash.table.value)
    assert "crashed" in table[1] and "told 210" in table[5]
    dash.close()


def test_a_script_that_no_longer_fits_falls_back_to_random_steps():
    dash = Dashboard(preset="happy", raise_errors=True)
    dash.setup.start.click()
    dash.controls.step.click()  # the election
    request = next(mid for label, mid in dash.pending.list.options if "request(" in label)
    dash.pending.select(request)
    dash.pending.buttons["drop"].click()  # the script's next step wanted this request
    dash.controls.step.click()
    assert "script stopped (no pending Request 5→0" in dash.status.value
    assert dash.session.script_left == 0
    dash.controls.run_all.click()  # the client resends; the run still decides
    assert dash.session.decided() == {5: 210}
    # Forking before the drop resumes the script where it was.
    dash.controls.history.value = 1
    dash.controls.fork.click()
    assert dash.session.script_pos == 1 and dash.session.script_left == len(
        SCENARIOS["happy"].script) - 1
    assert dash.errors == []
    dash.close()


def test_apply_step_names_what_it_could_not_find():
    sim = Simulation(SCENARIOS["happy"].config)
    sim.start()
    with pytest.raises(LookupError, match="no pending Accept 0→1"):
        apply_step(sim, ScriptStep("deliver", (Msg("Accept", 0, 1),)))
    with pytest.raises(ValueError, match="script method 'run'"):
        apply_step(sim, ScriptStep("run"))
