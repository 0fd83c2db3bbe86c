"""Faults on every phase from the very start (election and role setup too), then heal.

Unlike test_properties.py, whose schedules begin after a reliable election, these begin
at ``Simulation.start()`` (``heal_schedule`` in faults.py; ``benchmarks/sim_schedules.py``
runs 10^4 of them). Safety must hold whatever happens. Liveness after heal needs the
core to recover a lost election token or Roles message by itself (re-sent tokens, the
leader answering role-less traffic, a client asking for its roles), and it does.
"""

from __future__ import annotations

import pytest

from .faults import heal_schedule

SCHEDULES = 300


@pytest.fixture(scope="module")
def outcomes():
    return [heal_schedule(seed) for seed in range(SCHEDULES)]


def test_no_schedule_with_faults_on_every_phase_breaks_safety(outcomes):
    unsafe = [(o.seed, o.violations) for o in outcomes if o.violations]
    assert unsafe == []


def test_every_client_decides_once_the_faults_stop(outcomes):
    undecided = [(o.seed, o.stuck) for o in outcomes if not o.decided]
    assert undecided == [], f"{len(undecided)} of {len(outcomes)} undecided: {undecided[:5]}"


def test_schedules_that_spare_the_election_and_setup_all_decide(outcomes):
    """The schedules that lost no Token, Roles or AskRoles decide too (a sanity check of the
    generator: it must produce some of them)."""
    spared = [o for o in outcomes if not {"Token", "Roles", "AskRoles"} & set(o.lost)]
    assert len(spared) >= 5  # about 5 % of the schedules
    assert [(o.seed, o.stuck) for o in spared if not o.decided] == []
