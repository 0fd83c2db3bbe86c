"""The explorer catches every classic Paxos mistake and finds the correct code clean.

Mutation check of the checker and the explorer: each deliberately broken variant
from ``tests/core/broken.py`` is run through ``explore`` on 2 proposers x 3
acceptors; the explorer must report a violation with a short schedule that
replays in a Simulation. The same bounds on the correct roles find nothing.
State counts are printed (run pytest with ``-s`` to see them).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from core.broken import MISTAKES, PromiseBreakingAcceptor

from paxos_edu import Config, explore
from paxos_edu.core.paxos import Acceptor

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
    assert not result.symmetry  # the default search counts every state
    reduced = explore(TWO_BY_THREE, progress=False, reduce=True, symmetry=False)
    assert (reduced.states, reduced.complete) == (16_600, True)


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


# -- acceptor symmetry ----------------------------------------------------------------------
@pytest.mark.parametrize("reduce", [False, True], ids=["full", "reduce"])
@pytest.mark.parametrize("mistake", list(SEARCH))
def test_symmetry_keeps_the_verdict_and_the_shortest_counterexample(mistake, reduce):
    """Same invariant broken, same counterexample length, a real replayable schedule."""
    kwargs, invariant = dict(SEARCH[mistake][0]), SEARCH[mistake][1]
    config = kwargs.pop("config", TWO_BY_THREE)
    impl = None if MISTAKES[mistake] == "amnesia" else MISTAKES[mistake]
    plain = explore(config, impl=impl, progress=False, reduce=reduce, symmetry=False, **kwargs)
    sym = explore(config, impl=impl, progress=False, reduce=reduce, symmetry=True, **kwargs)
    assert sym.symmetry and not plain.symmetry
    assert not sym.ok and invariant in {v.invariant for v in sym.violations}
    assert len(sym.schedule) == len(plain.schedule)
    assert sym.simulation is not None and sym.simulation.violations
    assert invariant in {v.invariant for v in sym.simulation.violations}


@pytest.mark.parametrize("kwargs", [
    {},
    {"reduce": True},
    {"numbers": 1, "duplicates": 1, "deliver_to_learners": True},
    {"numbers": 2, "restarts": 1},
], ids=["two-numbers", "reduce", "learners-duplicates", "acceptor-restart"])
def test_symmetry_explores_the_correct_roles_clean_in_far_fewer_states(kwargs):
    plain = explore(TWO_BY_THREE, progress=False, symmetry=False, **kwargs)
    sym = explore(TWO_BY_THREE, progress=False, symmetry=True, **kwargs)
    print(f"\n{kwargs}: {plain.states} states, {sym.states} up to acceptor renaming")
    assert plain.ok and sym.ok and plain.complete and sym.complete and sym.symmetry
    assert sym.depth == plain.depth
    # 3 acceptors have 6 renamings; a state fixed by a renaming has a smaller orbit
    assert plain.states / 6 <= sym.states < plain.states / 4


def _all_states(model):
    root, mon = model.initial()
    found, queue = {root}, [(root, mon)]
    while queue:
        s, mon = queue.pop()
        for _action, nxt, nmon in model.successors(s, mon):
            if nxt not in found:
                found.add(nxt)
                queue.append((nxt, nmon))
    return found


def _renamed(model, sym, s, k):
    umap, nodes = sym.uid_maps[k], [None] * len(s[0])
    for uid, nid in enumerate(s[0]):
        nodes[umap[uid]] = sym.node_tbl[k][nid]
    net = tuple(sorted((sym.msg_tbl[k][m] for m in s[1]), key=model.order_key))
    return (tuple(nodes), net, s[2], s[3], s[4], s[5])


def test_the_canonical_key_names_exactly_the_orbits():
    """Renamed states share a key, and the symmetric search counts one state per orbit."""
    from paxos_edu.explorer_model import Model
    from paxos_edu.explorer_symmetry import AcceptorSymmetry

    model = Model(TWO_BY_THREE, {}, max_round=3, restarts=0, restart_roles=("acceptor",),
                  amnesia=False, deliver_to_learners=False, network="bag", duplicates=0,
                  max_numbers=2, timers=False, reduce=True)
    sym = AcceptorSymmetry(model)
    states = _all_states(model)
    orbits = set()
    for s in states:
        images = {_renamed(model, sym, s, k) for k in range(len(sym.perms))}
        assert images <= states, "a renamed reachable state is reachable"
        assert len({sym.key(t) for t in images}) == 1
        orbits.add(frozenset(images))
    assert len({sym.key(s) for s in states}) == len(orbits)
    assert explore(TWO_BY_THREE, progress=False, reduce=True).states == len(orbits)


@dataclass
class TrustsAcceptorTwo(Acceptor):
    """Breaks its promise, but only as acceptor 2: the acceptors are no longer alike."""

    def receive_accept(self, src, msg):
        if self.uid != 2:
            return super().receive_accept(src, msg)
        return PromiseBreakingAcceptor.receive_accept(self, src, msg)


def test_roles_that_tell_acceptors_apart_are_searched_without_symmetry():
    asymmetric = {"acceptor": TrustsAcceptorTwo}
    result = explore(TWO_BY_THREE, impl=asymmetric, progress=False, reduce=True)
    plain = explore(TWO_BY_THREE, impl=asymmetric, progress=False, reduce=True,
                    symmetry=False)
    assert not result.symmetry, "the step check must notice acceptor 2 is different"
    assert not result.ok and "promise kept" in {v.invariant for v in result.violations}
    assert (result.states, result.schedule) == (plain.states, plain.schedule)
    assert "acceptor 2 accepted" in str(result.violations)
