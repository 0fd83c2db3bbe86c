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
"""

from __future__ import annotations

import copy
import functools
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .core.config import Config
from .core.effects import CancelTimer, Decide, Persist, Send, SetTimer
from .core.invariants import SafetyMonitor, Violation
from .core.node import make_node
from .sim import Simulation

DEFAULT = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))


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

    @property
    def ok(self) -> bool:
        return not self.violations

    def __str__(self) -> str:
        head = (f"{self.states} states, {self.transitions} transitions, depth {self.depth}, "
                f"{'complete' if self.complete else 'bounded'} ({self.seconds:.1f} s)")
        if self.ok:
            return head + ": no invariant violated."
        lines = [head + f": VIOLATION after {len(self.schedule)} steps:"]
        lines += [f"  {i + 1}. {s}" for i, s in enumerate(self.schedule)]
        lines += [f"  -> {v}" for v in self.violations]
        return "\n".join(lines)


_SCALARS = (int, str, type(None), float, bool)


def _freeze(x: Any) -> Any:
    if type(x) in _SCALARS:
        return x
    if isinstance(x, dict):
        return tuple(sorted(((k, _freeze(v)) for k, v in x.items()), key=repr))
    if isinstance(x, (set, frozenset)):
        return frozenset(_freeze(v) for v in x)
    if isinstance(x, (list, tuple)):
        return tuple(_freeze(v) for v in x)
    return x


def _node_key(node) -> tuple:
    # Nodes are never changed once in a state (successors work on clones), so
    # the key is computed once per node object.
    key = node.__dict__.get("_key")
    if key is None:
        key = node._key = tuple((k, _freeze(v)) for k, v in vars(node.role).items()
                                if k not in ("rng", "requests_sent", "timeouts"))
    return key


@dataclass
class _State:
    nodes: tuple
    net: frozenset
    timers: frozenset
    storage: tuple
    restarts: int
    duplicates: int
    monitor: SafetyMonitor
    depth: int

    def key(self) -> tuple:
        return (tuple(_node_key(n) for n in self.nodes), self.net, self.timers,
                self.storage, self.restarts, self.duplicates)


class _Explorer:
    def __init__(self, config: Config, impl, max_round, restarts, restart_roles, amnesia,
                 deliver_to_learners, network="set", duplicates=0, max_numbers=None,
                 timers=True):
        self.timers = timers
        self.max_numbers = max_numbers if max_numbers is not None else 10**9
        self.bag = network == "bag"
        self.duplicate_budget = duplicates if self.bag else 0
        self.config = config
        self.impl = impl
        self.max_round = max_round
        self.restart_roles = restart_roles
        self.amnesia = amnesia
        self.deliver_to_learners = deliver_to_learners
        self.restart_budget = restarts
        self.roles = config.roles(config.n_consensus - 1)
        self.learners = set(self.roles.learners)
        self.proposers = set(self.roles.proposers)
        # Clients only hear decisions; the learners' decisions are checked already.
        self.skip = set(config.client_uids)

    def initial(self) -> _State:
        storage = {"roles": self.roles.to_dict(), "paxos": {}}
        uids = list(range(self.config.n_consensus)) + list(self.config.client_uids)
        nodes = [make_node(u, self.config, None, storage, self.impl) for u in uids]
        monitor = SafetyMonitor()
        monitor.observe({"kind": "send", "seq": -1, "src": self.roles.leader, "dst": None,
                         "msg": self.roles.to_dict()})
        for node in nodes:
            monitor.observe({"kind": "state", "seq": -1, "src": node.uid,
                             "msg": {"type": "State", **node.snapshot()}})
        state = _State(tuple(nodes), frozenset(), frozenset(),
                       tuple(node.storage() and _freeze(node.storage()) for node in nodes),
                       self.restart_budget, self.duplicate_budget, monitor, 0)
        for node in nodes:
            state = self._apply(state, node.uid, node, node.start()) or state
        state.depth = 0
        return state

    def successors(self, s: _State):
        for (src, dst, msg), _count in sorted(s.net, key=_order):
            if dst in self.skip or (dst in self.learners and msg.type == "Accepted"
                                    and not self.deliver_to_learners):
                continue
            if msg.type == "Accepted" and dst in self.proposers:
                continue  # a proposer hearing it was chosen only stops; safety never depends on it
            node = self._clone(s.nodes[dst])
            nxt = self._apply(s, dst, node, node.handle(src, msg), consumed=(src, dst, msg))
            if nxt is not None:
                yield ("deliver", src, dst, msg), nxt
            if self.bag and s.duplicates > 0:
                net = dict(s.net)
                net[(src, dst, msg)] += 1
                yield ("duplicate", src, dst, msg), _State(
                    s.nodes, frozenset(net.items()), s.timers, s.storage, s.restarts,
                    s.duplicates - 1, s.monitor, s.depth + 1)
        for uid, name in (sorted(s.timers) if self.timers else ()):
            node = self._clone(s.nodes[uid])
            nxt = self._apply(s, uid, node, node.fire(name), fired=(uid, name))
            if nxt is not None:
                yield ("timer", uid, name), nxt
        if s.restarts > 0:
            for node in s.nodes:
                if getattr(node.role, "role", None) in self.restart_roles:
                    yield ("restart", node.uid, self.amnesia), self._restart(s, node.uid)

    def _clone(self, node):
        # Only the role changes after setup; copy its containers one level deep
        # (a learner's vote sets one more), far cheaper than deepcopy.
        twin = copy.copy(node)
        role = twin.role = copy.copy(node.role)
        for name, value in vars(role).items():
            if isinstance(value, dict):
                setattr(role, name, {k: (set(v) if isinstance(v, set) else v)
                                     for k, v in value.items()})
            elif isinstance(value, (set, list)):
                setattr(role, name, type(value)(value))
        twin.__dict__.pop("_key", None)
        return twin

    def _apply(self, s: _State, uid: int, node, effects, fired=None,
               consumed=None) -> _State | None:
        net, timers, storage = dict(s.net), set(s.timers), list(s.storage)
        if consumed is not None and self.bag:
            net[consumed] -= 1
            if not net[consumed]:
                del net[consumed]
        if fired:
            timers.discard(fired)
        events: list[dict] = []
        self._perform(uid, node, effects, net, timers, storage, events)
        if getattr(node.role, "status", None) == "backoff":
            # How long a proposer backs off is timing, which this search leaves free:
            # retrying at once covers every later moment too.
            timers.discard((uid, "retry"))
            self._perform(uid, node, node.fire("retry"), net, timers, storage, events)
        nodes = list(s.nodes)
        nodes[uid] = node
        if getattr(node.role, "round", 0) > self.max_round or (
                node.role.role == "proposer"
                and sum(getattr(n.role, "round", 0) for n in nodes) > self.max_numbers):
            return None
        if node.role.role == "acceptor":
            events.append({"kind": "state", "seq": -1, "src": uid,
                           "msg": {"type": "State", **node.snapshot()}})
        monitor = s.monitor
        if events:  # the monitor is shared between states until an event changes it
            monitor = monitor.copy()
            for ev in events:
                monitor.observe(ev)
        return _State(tuple(nodes), frozenset(net.items()), frozenset(timers), tuple(storage),
                      s.restarts, s.duplicates, monitor, s.depth + 1)

    def _perform(self, uid, node, effects, net, timers, storage, events) -> None:
        for e in effects:
            if isinstance(e, Send):
                key = (uid, e.dst, e.msg)
                net[key] = net.get(key, 0) + 1 if self.bag else 1
                if e.msg.type in _WATCHED:
                    events.append({"kind": "send", "seq": -1, "src": uid, "dst": e.dst,
                                   "msg": e.msg.to_dict()})
            elif isinstance(e, SetTimer) and node.kind != "client":
                # A client's re-send changes nothing here: its Request stays in the network.
                timers.add((uid, e.name))
            elif isinstance(e, CancelTimer):
                timers.discard((uid, e.name))
            elif isinstance(e, Persist) and self.restart_budget:
                # Storage only matters to a restart; without any, the node's state says it all.
                storage[uid] = _freeze(e.data)
            elif isinstance(e, Decide):
                events.append({"kind": "decide", "seq": -1, "src": uid, "dst": uid,
                               "msg": {"type": "Decided", "v": e.v, "n": e.n}})

    def _restart(self, s: _State, uid: int) -> _State:
        stored = _thaw(s.storage[uid]) or {}
        if self.amnesia:
            stored["paxos"] = {}
        node = make_node(uid, self.config, None, stored, self.impl)
        timers = frozenset(t for t in s.timers if t[0] != uid)
        nxt = _State(s.nodes, s.net, timers, s.storage, s.restarts - 1, s.duplicates, s.monitor,
                     s.depth)
        nxt = self._apply(nxt, uid, node, node.start())
        return nxt


_WATCHED = frozenset({"Request", "Roles", "Accept", "Accepted"})
"""Message kinds the safety monitor reads; other sends need no monitor copy."""


@functools.cache
def _order(item: tuple) -> tuple:
    (src, dst, msg), _count = item
    return (src, dst, msg.type, repr(msg))


def _thaw(x: Any) -> Any:
    # Inverse of _freeze for storage dicts: tuples of (key, value) pairs become dicts.
    if isinstance(x, tuple) and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                                    for p in x) and x:
        return {k: _thaw(v) for k, v in x}
    if isinstance(x, tuple):
        return [_thaw(v) for v in x]
    return x


def explore(config: Config | None = None, *, impl: Mapping[str, type] | None = None,
            numbers: int = 2, max_round: int = 3, duplicates: int = 0,
            restarts: int = 0, restart_roles: tuple[str, ...] = ("acceptor",),
            amnesia: bool = False, timers: bool = False, deliver_to_learners: bool = False,
            network: str = "bag", max_depth: int | None = None, max_states: int | None = None,
            progress: bool = True) -> ExploreResult:
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
    """
    config = config or DEFAULT
    if not config.clients:
        config = config.with_clients(*((210 + 10 * p, p) for p in range(config.proposers)))
    ex = _Explorer(config, dict(impl or {}), max_round, restarts, restart_roles, amnesia,
                   deliver_to_learners, network, duplicates, numbers, timers)
    started = time.perf_counter()
    root = ex.initial()
    seen = {root.key(): None}
    parents: dict = {}
    queue = deque([root])
    transitions = depth = 0
    complete = True
    bar = _progress(progress)
    try:
        while queue:
            s = queue.popleft()
            depth = max(depth, s.depth)
            if max_depth is not None and s.depth >= max_depth:
                complete = False
                continue
            skey = None
            for action, nxt in ex.successors(s):
                transitions += 1
                key = nxt.key()
                if key in seen:
                    continue
                skey = skey or s.key()
                seen[key] = None
                parents[key] = (skey, action)
                if nxt.monitor.violations:
                    schedule = _path(parents, key)
                    return _counterexample(config, ex, schedule, len(seen), transitions,
                                           nxt.depth, time.perf_counter() - started,
                                           nxt.monitor.violations)
                queue.append(nxt)
                if bar is not None and len(seen) % 1000 == 0:
                    bar.update(1000)
            if max_states is not None and len(seen) >= max_states:
                complete = False
                break
    finally:
        if bar is not None:
            bar.close()
    return ExploreResult(len(seen), transitions, depth, complete and not queue,
                         time.perf_counter() - started)


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc="exploring", unit=" states")


def _path(parents: dict, key) -> list[tuple]:
    steps = []
    while key in parents:
        key, action = parents[key]
        steps.append(action)
    return steps[::-1]


def describe(action: tuple) -> str:
    """One schedule step in words."""
    if action[0] == "deliver":
        _, src, dst, msg = action
        return f"deliver {src}->{dst} {msg}"
    if action[0] == "duplicate":
        return f"duplicate {action[1]}->{action[2]} {action[3]}"
    if action[0] == "timer":
        return f"fire timer {action[2]!r} of node {action[1]}"
    return f"restart node {action[1]}" + (" with amnesia" if action[2] else " from storage")


def _counterexample(config, ex: _Explorer, schedule, states, transitions, depth, seconds,
                    found) -> ExploreResult:
    sim = replay_schedule(config, schedule, impl=ex.impl, network="bag" if ex.bag else "set")
    violations = (sim.violations if sim is not None and sim.violations else list(found))
    return ExploreResult(states, transitions, depth, False, seconds, violations,
                         [describe(a) for a in schedule], sim)


def replay_schedule(config: Config, schedule: list[tuple],
                    impl: Mapping[str, type] | None = None,
                    network: str = "bag") -> Simulation | None:
    """Run an explorer schedule in a Simulation: FIFO election and setup, then each step.

    A message the schedule delivers again is duplicated in flight first, so the
    Simulation's trace shows the duplicate. Returns None if a step cannot be matched.
    """
    sim = Simulation(config, impl=impl)
    sim.start()
    while not _setup_done(sim):
        item = next((p for p in sim.pending() if p.kind == "Message"
                     and p.msg.type in ("Token", "Roles")), None)
        if item is None:
            return None
        sim.deliver(item.id)
    remaining = Counter(a for a in schedule if a[0] == "deliver")
    for action in schedule:
        if action[0] == "deliver":
            _, src, dst, msg = action
            copies = [p for p in sim.pending() if p.kind == "Message" and p.src == src
                      and p.dst == dst and p.msg == msg]
            if not copies:
                return None
            remaining[action] -= 1
            if network == "set" and remaining[action] > 0 and len(copies) == 1:
                sim.duplicate(copies[0].id)  # the schedule delivers it again later
            sim.deliver(copies[0].id)
        elif action[0] == "duplicate":
            item = next((p for p in sim.pending() if p.kind == "Message" and p.src == action[1]
                         and p.dst == action[2] and p.msg == action[3]), None)
            if item is None:
                return None
            sim.duplicate(item.id)
        elif action[0] == "timer":
            item = next((p for p in sim.pending() if p.kind == "Timer" and p.dst == action[1]
                         and p.msg.name == action[2]), None)
            if item is None:
                return None
            sim.deliver(item.id)
        else:
            sim.restart(action[1], amnesia=action[2])
        for item in [p for p in sim.pending() if p.kind == "Timer" and p.msg.name == "retry"]:
            sim.deliver(item.id)  # the explorer retries at once after a back-off
    return sim


def _setup_done(sim: Simulation) -> bool:
    snaps = sim.snapshot().values()
    return all(s.get("role") is not None for s in snaps) and not any(
        p.msg.type in ("Token", "Roles") for p in sim.pending())

