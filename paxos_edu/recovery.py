"""Bounded exhaustive check that election and set-up always heal: lose anything, then decide.

``explore_recovery`` starts at the very beginning (every node's token and every
timer just set, no roles anywhere) and visits every interleaving of the election
and set-up: any Token, Roles or AskRoles in flight may be delivered next or lost
(within a budget of ``losses``), and when none is in flight any election or roles
timer may fire (as in the simulator: a timer that fires early only adds copies,
which the random heal schedules of ``benchmarks/sim_schedules.py`` cover).
From every state it reaches, it then stops the faults and lets the system run
(oldest message first; when none is in flight, the soonest timer), and requires
every client to decide within ``heal_steps`` steps.

That is a liveness property checked on a bounded model: every state within
``max_depth`` steps and ``losses`` losses, not every state there is. A state
that does not heal is reported with the shortest schedule that reaches it.
"""

from __future__ import annotations

import copy
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .core.config import Config
from .core.effects import Effect
from .core.node import make_node
from .net.perform import perform

SETUP_KINDS = frozenset({"Token", "Roles", "AskRoles"})
SETUP_TIMERS = frozenset({"election", "roles"})
DEFAULT = Config(proposers=1, acceptors=1, learners=1, clients=((210, 0),))


@dataclass
class RecoveryResult:
    """How many states were visited, whether all of them healed, and a counterexample if not."""

    states: int
    complete: bool
    """True when every state within the bounds was visited (``max_states`` not hit)."""
    seconds: float
    schedule: list[str] = field(default_factory=list)
    """Steps to a state that never heals (empty when every state healed)."""

    @property
    def ok(self) -> bool:
        return not self.schedule

    def __str__(self) -> str:
        head = f"{self.states} states, {'complete' if self.complete else 'bounded'} " \
               f"({self.seconds:.1f} s)"
        if self.ok:
            return head + ": every one heals (all clients decide once faults stop)."
        steps = "\n".join(f"  {i + 1}. {s}" for i, s in enumerate(self.schedule))
        return f"{head}: a state that never heals, after:\n{steps}\n  -> no decision"


@dataclass
class _World:
    nodes: dict
    net: list  # (src, dst, msg) in the order sent
    timers: dict  # (uid, name) -> order set
    clock: int = 0

    def key(self) -> tuple:
        nodes = tuple(sorted((u, repr(sorted(n.snapshot().items()))) for u, n in self.nodes.items()))
        return nodes, tuple(sorted(map(repr, self.net))), tuple(sorted(self.timers))

    def clone(self) -> _World:
        return _World(copy.deepcopy(self.nodes), list(self.net), dict(self.timers), self.clock)

    def perform(self, uid: int, effects: list[Effect]) -> None:
        """Node ``uid``'s effects through the one effect interpreter (``net.perform``)."""
        perform(effects, _Sink(self, uid))

    def deliver(self, i: int) -> None:
        src, dst, msg = self.net.pop(i)
        self.perform(dst, self.nodes[dst].handle(src, msg))

    def fire(self, timer: tuple[int, str]) -> None:
        del self.timers[timer]
        self.perform(timer[0], self.nodes[timer[0]].fire(timer[1]))

    def decided(self, clients: tuple[int, ...]) -> bool:
        return all(self.nodes[c].role.decided is not None for c in clients)


class _Sink:
    """Effects on a ``_World``: sends join the network, timers are set or cancelled in
    order; storage and decisions need nothing here (no restarts, decisions are read)."""

    __slots__ = ("world", "uid")

    def __init__(self, world: _World, uid: int):
        self.world, self.uid = world, uid

    def send(self, dst: int, msg) -> None:
        self.world.net.append((self.uid, dst, msg))

    def set_timer(self, name: str, delay: float) -> None:
        self.world.clock += 1
        self.world.timers[(self.uid, name)] = self.world.clock

    def cancel_timer(self, name: str) -> None:
        self.world.timers.pop((self.uid, name), None)

    def persist(self, data) -> None:
        pass

    def decide(self, v, n: int) -> None:
        pass


def _heals(w: _World, clients: tuple[int, ...], steps: int) -> bool:
    w = w.clone()
    for _ in range(steps):
        if w.decided(clients):
            return True
        if w.net:
            w.deliver(0)
        elif w.timers:
            w.fire(min(w.timers, key=w.timers.get))
        else:
            return False
    return w.decided(clients)


def _describe(step: tuple) -> str:
    what, a, b, msg = step
    if what == "fire":
        return f"fire timer {b!r} of node {a}"
    return f"{what} {a}->{b} {msg}"


def explore_recovery(config: Config | None = None, *, losses: int = 2, max_depth: int = 14,
                     heal_steps: int = 2_000, max_states: int | None = 200_000,
                     make: Callable = make_node) -> RecoveryResult:
    """Every election/set-up schedule within the bounds, lossy; each reached state must heal.

    ``make(uid, config)`` builds the nodes (a test passes a broken one to see the check
    fail). Only election and set-up messages and timers are interleaved and lost; the
    Paxos messages they lead to wait in the network for the healing run.
    """
    config = config or DEFAULT
    started = time.perf_counter()
    clients = config.client_uids
    uids = [*range(config.n_consensus), *clients]
    root = _World({u: make(u, config) for u in uids}, [], {})
    for uid in (*config.ring_order, *clients):
        root.perform(uid, root.nodes[uid].start())
    seen = {root.key(): None}
    queue: deque = deque([(root, 0, losses, ())])
    complete = True
    while queue:
        w, depth, budget, path = queue.popleft()
        if not _heals(w, clients, heal_steps):
            return RecoveryResult(len(seen), False, time.perf_counter() - started,
                                  [_describe(s) for s in path])
        if depth >= max_depth:
            continue
        for nxt, step, left in _successors(w, budget):
            key = (nxt.key(), left)
            if key in seen:
                continue
            seen[key] = None
            queue.append((nxt, depth + 1, left, (*path, step)))
        if max_states is not None and len(seen) >= max_states:
            complete = False
            break
    return RecoveryResult(len(seen), complete, time.perf_counter() - started)


def _successors(w: _World, budget: int):
    done: set = set()
    for i, (src, dst, msg) in enumerate(w.net):
        if msg.type not in SETUP_KINDS or (src, dst, msg) in done:
            continue
        done.add((src, dst, msg))
        nxt = w.clone()
        nxt.deliver(i)
        yield nxt, ("deliver", src, dst, msg), budget
        if budget:
            nxt = w.clone()
            nxt.net.pop(i)
            yield nxt, ("lose", src, dst, msg), budget - 1
    if done:
        return  # timers fire when no set-up message is in flight (the simulator's rule)
    for timer in sorted(w.timers):
        if timer[1] in SETUP_TIMERS:
            nxt = w.clone()
            nxt.fire(timer)
            yield nxt, ("fire", timer[0], timer[1], None), budget

