"""The explorer catches every classic Paxos mistake and finds the correct code clean.

Mutation check of the checker and the explorer: each deliberately broken variant
from ``tests/core/broken.py`` is run through ``explore`` on 2 proposers x 3
acceptors; the explorer must report a violation with a short schedule that
replays in a Simulation. The same bounds on the correct roles find nothing.
State counts are printed (run pytest with ``-s`` to see them).
"""

from __future__ import annotations

import pytest
from core.broken import MISTAKES

from paxos_edu import Config, explore

TWO_BY_THREE = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))
ONE_PROPOSER_TWO_CLIENTS = Config(proposers=2, acceptors=3, learners=1,
                                  clients=((210, 0), (220, 0)))

# name -> (explore keyword arguments, the invariant the checker must name)
SEARCH = {
    "proposer not adopting the highest-numbered accepted value": ({}, "agreement"),
    "acceptor accepting below its promise": ({}, "promise kept"),
    "acceptor losing its state on restart": (
        {"restarts": 1, "amnesia": True}, "monotonic promises"),
    "learner counting a duplicated Accepted twice": (
        {"numbers": 1, "duplicates": 1, "deliver_to_learners": True}, "learner soundness"),
    "proposers sharing sequence numbers": ({}, "one value per number"),
    "proposer reusing its number after restart": (
        {"numbers": 3, "restarts": 1, "restart_roles": ("proposer",),
         "config": ONE_PROPOSER_TWO_CLIENTS}, "one value per number"),
    "proposer counting a stale Ack": ({"numbers": 3}, "agreement"),
}


@pytest.mark.parametrize("mistake", list(SEARCH))
def test_explore_catches_the_broken_variant(mistake):
    kwargs, invariant = dict(SEARCH[mistake][0]), SEARCH[mistake][1]
    config = kwargs.pop("config", TWO_BY_THREE)
    impl = MISTAKES[mistake]
    result = explore(config, impl=None if impl == "amnesia" else impl, progress=False, **kwargs)
    print(f"\n{mistake}: {result.states} states, counterexample of {len(result.schedule)} steps")
    assert not result.ok, f"{mistake} was not caught: {result}"
    assert invariant in {v.invariant for v in result.violations}
    assert result.simulation is not None, "the counterexample must replay in a Simulation"
    assert result.simulation.violations, "the replayed schedule must break safety again"
    assert 0 < len(result.schedule) <= 16


@pytest.mark.parametrize("kwargs", [
    {},                                                       # 2 numbers, every interleaving
    {"numbers": 1, "duplicates": 1, "deliver_to_learners": True},  # learners and duplicates
    {"numbers": 2, "restarts": 1},                              # an acceptor restarts (storage kept)
], ids=["two-numbers", "learners-duplicates", "acceptor-restart"])
def test_correct_roles_explore_clean(kwargs):
    result = explore(TWO_BY_THREE, progress=False, **kwargs)
    print(f"\nclean {kwargs}: {result}")
    assert result.ok, str(result)
    assert result.complete
    assert result.states > 500


def test_shortest_counterexample_is_found_breadth_first():
    """The amnesia counterexample is 3 steps: request, promise, forgetful restart."""
    result = explore(TWO_BY_THREE, restarts=1, amnesia=True, progress=False)
    assert len(result.schedule) == 3
    assert result.schedule[-1].startswith("restart node")
    assert "with amnesia" in result.schedule[-1]


def test_result_reads_as_a_report():
    result = explore(TWO_BY_THREE, impl=MISTAKES["acceptor accepting below its promise"],
                     progress=False)
    text = str(result)
    assert "VIOLATION" in text and "promise kept" in text
    assert "1. deliver" in text


def test_package_level_explore_is_the_function_whatever_was_imported_first():
    import paxos_edu
    import paxos_edu.exercises  # noqa: F401  (imports the explorer module)

    assert callable(paxos_edu.explore) and paxos_edu.explore.__name__ == "explore"


def test_the_lessons_counts_are_unchanged_by_the_faster_search():
    """Interning and caching change nothing the lessons print: states, transitions, depth."""
    result = explore(TWO_BY_THREE, progress=False)
    assert (result.states, result.transitions, result.depth, result.complete) == (
        37_495, 138_915, 20, True)
    assert result.seconds < 30  # about 1 s; 14.6 s before the interned states


@pytest.mark.parametrize("mistake", [m for m in SEARCH if MISTAKES[m] != "amnesia"])
def test_reduced_search_still_catches_every_mistake(mistake):
    kwargs, invariant = dict(SEARCH[mistake][0]), SEARCH[mistake][1]
    config = kwargs.pop("config", TWO_BY_THREE)
    result = explore(config, impl=MISTAKES[mistake], progress=False, reduce=True, **kwargs)
    assert not result.ok and invariant in {v.invariant for v in result.violations}
    assert result.simulation is not None and result.simulation.violations


def test_reduced_search_of_correct_roles_is_clean_and_smaller():
    full = explore(TWO_BY_THREE, progress=False)
    reduced = explore(TWO_BY_THREE, progress=False, reduce=True)
    assert reduced.ok and reduced.complete
    assert reduced.states < full.states
