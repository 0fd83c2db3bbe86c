"""Exhaustive bounded exploration of every schedule, with the shortest counterexample.

The network holds the messages in flight as a multiset. Any of them may be
delivered next (reordering) or never (loss), and up to ``duplicates`` extra
copies may be made (duplication); timers may fire whenever they are set, and
nodes may restart (from stable storage, or without it with ``amnesia=True``)
within a budget. ``network="set"`` switches to Paxos.tla's model, where every
message ever sent stays deliverable forever; it covers unbounded duplication
but its state space is far larger, so it suits only the smallest systems.

The search starts just after the election and role assignment, with every
client's request in flight, and runs breadth-first, so the first violation
found has a shortest schedule. A proposer's back-off is taken as immediate (how
long it waits is timing, which the search leaves free anyway).

Bounds keep it finite: ``numbers`` sequence numbers in all across proposers
(each round uses one), plus ``max_depth`` and ``max_states`` if given. A
counterexample is replayed in a ``Simulation`` so that ``check_safety`` explains
it in words, with event numbers, and the diagrams can draw it.

The model (states, cached steps) is ``explorer_model``; the acceptor symmetry,
which visits states that differ only by a renaming of acceptors once, is
``explorer_symmetry``; replaying a schedule is ``explorer_replay``.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from .core.config import Config
from .core.invariants import Violation
from .explorer_model import Model
from .explorer_replay import describe, replay_schedule
from .explorer_symmetry import AcceptorSymmetry, NotSymmetric
from .sim import Simulation

__all__ = ["DEFAULT", "ExploreResult", "describe", "explore", "replay_schedule"]

DEFAULT = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))
AUTO_SYMMETRY_ACCEPTORS = 5
"""``symmetry=None`` turns the acceptor symmetry on with ``reduce`` up to this many acceptors."""


@dataclass
class ExploreResult:
    """What the search found: state and transition counts, and the shortest counterexample."""

    states: int
    transitions: int
    depth: int
    complete: bool
    """True when every reachable state within the round bound was visited."""
    seconds: float
    violations: list[Violation] = field(default_factory=list)
    schedule: list[str] = field(default_factory=list)
    """The counterexample, one step per line ("deliver 2->4 Accept(n=7, v=220)", ...)."""
    simulation: Simulation | None = None
    """The counterexample replayed in a Simulation (its trace feeds the diagrams)."""
    symmetry: bool = False
    """True when states differing only by a renaming of acceptors were counted once."""

    @property
    def ok(self) -> bool:
        return not self.violations

    def __str__(self) -> str:
        head = (f"{self.states} states{' (up to acceptor renaming)' if self.symmetry else ''}, "
                f"{self.transitions} transitions, depth {self.depth}, "
                f"{'complete' if self.complete else 'bounded'} ({self.seconds:.1f} s)")
        if self.ok:
            return head + ": no invariant violated."
        lines = [head + f": VIOLATION after {len(self.schedule)} steps:"]
        lines += [f"  {i + 1}. {s}" for i, s in enumerate(self.schedule)]
        lines += [f"  -> {v}" for v in self.violations]
        return "\n".join(lines)


def explore(config: Config | None = None, *, impl: Mapping[str, type] | None = None,
            numbers: int = 2, max_round: int = 3, duplicates: int = 0,
            restarts: int = 0, restart_roles: tuple[str, ...] = ("acceptor",),
            amnesia: bool = False, timers: bool = False, deliver_to_learners: bool = False,
            network: str = "bag", max_depth: int | None = None, max_states: int | None = None,
            progress: bool = True, reduce: bool = False,
            symmetry: bool | None = None) -> ExploreResult:
    """Visit every schedule of ``config`` within the bounds; stop at the first violation.

    Bounds: ``numbers`` sequence numbers in all (each proposer's round counts one),
    at most ``max_round`` per proposer, ``duplicates`` extra copies of messages,
    ``restarts`` restarts of nodes whose role is in ``restart_roles`` (with
    ``amnesia`` they lose their stable storage). ``timers=True`` lets proposers
    time out at any moment (retries also follow Nacks without it);
    ``deliver_to_learners=True`` explores the learners' counting too (agreement is
    checked on what acceptors accept either way). ``network="set"`` is Paxos.tla's
    model (every message ever sent stays deliverable forever): far more states.
    ``impl`` swaps role classes (exercises, deliberately broken variants). Without
    clients in ``config``, each proposer gets one client with its own value.

    ``reduce=True`` merges states that differ only in what can never matter: how
    many copies of a never-delivered message were sent, and Acks and Nacks the
    package's proposer will ignore for ever (it is on to a larger number); the
    same schedules are covered in fewer states (the counts then differ from the
    default's).

    ``symmetry=True`` counts states that differ only by a renaming of the acceptors
    once (``explorer_symmetry`` says why that is sound, and checks it on every step:
    roles that treat acceptors differently by uid are searched without it). The
    default, None, is on with ``reduce`` (up to 5 acceptors) and off without it, so
    the default search keeps the counts the lessons quote. The verdict and the length of the shortest
    counterexample are the same either way; the schedule is a real one.
    """
    config = config or DEFAULT
    if not config.clients:
        config = config.with_clients(*((210 + 10 * p, p) for p in range(config.proposers)))
    bounds = dict(max_round=max_round, restarts=restarts, restart_roles=restart_roles,
                  amnesia=amnesia, deliver_to_learners=deliver_to_learners, network=network,
                  duplicates=duplicates, max_numbers=numbers, timers=timers, reduce=reduce)
    # Its tables grow with (acceptors!)^2 per node state: worth it up to 5 acceptors.
    symmetric = (reduce and config.acceptors <= AUTO_SYMMETRY_ACCEPTORS) if symmetry is None \
        else symmetry
    started = time.perf_counter()
    # The search keeps millions of small tuples alive and makes no reference cycles:
    # the cyclic collector would only walk them all, again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if symmetric:
            try:
                return _search(Model(config, dict(impl or {}), **bounds), True, max_depth,
                               max_states, progress, started)
            except NotSymmetric:
                pass  # the roles tell acceptors apart: search every state
        return _search(Model(config, dict(impl or {}), **bounds), False, max_depth,
                       max_states, progress, started)
    finally:
        if collecting:
            gc.enable()


def _search(model: Model, symmetric: bool, max_depth, max_states, progress,
            started: float) -> ExploreResult:
    """Breadth-first from the root; dedupe by the canonical key, keep the real states.

    With symmetry, a state reached again exactly (most repeats: two orders of the same
    steps) is recognised by itself, before its canonical key is worked out.
    """
    key = AcceptorSymmetry(model).key if symmetric else None
    root, root_mon = model.initial()
    seen = {root if key is None else key(root): 0}
    reached = {root}          # (with symmetry) the real states met so far
    parents: list = [None]    # state index -> (parent index, action)
    queue = deque([(root, root_mon, 0, 0)])
    transitions = depth = 0
    complete = True
    bar = _progress(progress)
    monitors = model.monitors
    try:
        while queue:
            s, mon, sdepth, index = queue.popleft()
            if sdepth > depth:
                depth = sdepth
            if max_depth is not None and sdepth >= max_depth:
                complete = False
                continue
            for action, nxt, nmon in model.successors(s, mon):
                transitions += 1
                n = len(seen)
                if key is None:
                    if seen.setdefault(nxt, n) != n:
                        continue
                else:
                    before = len(reached)
                    reached.add(nxt)
                    if len(reached) == before or seen.setdefault(key(nxt), n) != n:
                        continue
                parents.append((index, action))
                if monitors[nmon].violations:
                    return _counterexample(model, symmetric, _path(parents, n), n + 1,
                                           transitions, sdepth + 1,
                                           time.perf_counter() - started,
                                           monitors[nmon].violations)
                queue.append((nxt, nmon, sdepth + 1, n))
                if bar is not None and n % 1000 == 999:
                    bar.update(1000)
            if max_states is not None and len(seen) >= max_states:
                complete = False
                break
    finally:
        if bar is not None:
            bar.close()
    return ExploreResult(len(seen), transitions, depth, complete and not queue,
                         time.perf_counter() - started, symmetry=symmetric)


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc="exploring", unit=" states")


def _path(parents: list, index: int) -> list[tuple]:
    steps = []
    while parents[index] is not None:
        index, action = parents[index]
        steps.append(action)
    return steps[::-1]


def _counterexample(model: Model, symmetric, path, states, transitions, depth, seconds,
                    found) -> ExploreResult:
    schedule = [model.action(a) for a in path]
    sim = replay_schedule(model.config, schedule, impl=model.impl,
                          network="bag" if model.bag else "set")
    violations = (sim.violations if sim is not None and sim.violations else list(found))
    return ExploreResult(states, transitions, depth, False, seconds, violations,
                         [describe(a) for a in schedule], sim, symmetric)
