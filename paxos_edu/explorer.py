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
from bisect import insort
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .core.config import Config
from .core.effects import CancelTimer, Decide, Persist, Send, SetTimer
from .core.invariants import SafetyMonitor, Violation
from .core.node import make_node
from .core.paxos import PHASE1, PHASE2, ROLE_CLASSES, Proposer
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


_MISS = object()


class _Explorer:
    """The search's model: interned node states, a sorted-tuple network, cached transitions.

    A state is ``(nodes, net, timers, storage, restarts, duplicates)``: ``nodes`` holds
    one small int per node (an interned, never-changed node object, two nodes with the
    same role fields sharing one), ``net`` the ids of the messages in flight sorted in
    delivery order (a message twice in a bag is there twice). Roles are deterministic,
    so delivering a message to a node state is worked out once, by the real role code,
    and cached; so is feeding the resulting events to a (likewise interned) safety
    monitor. Two states are the same state exactly when the role fields, messages in
    flight, timers, storage and budgets are.
    """

    def __init__(self, config: Config, impl, max_round, restarts, restart_roles, amnesia,
                 deliver_to_learners, network="set", duplicates=0, max_numbers=None,
                 timers=True, reduce=False):
        self.timers = timers
        self.reduce = reduce
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
        self.nodes: list = []           # node id -> node object (never changed)
        self.node_ids: dict = {}        # node key -> node id
        self.node_round: list[int] = []
        self.node_restartable: list[bool] = []
        self.msgs: list[tuple] = []     # message id -> (src, dst, msg)
        self.msg_ids: dict = {}
        self.msg_order: list[tuple] = []
        self.msg_live: list[bool] = []  # may the search deliver it?
        self.msg_prunable: list[bool] = []
        self.stale: dict = {}           # (message id, node id) -> delivering it is a no-op forever
        proposer = {**ROLE_CLASSES, **impl}["proposer"]
        # The package's proposer ignores an Ack or Nack for a number it left, for ever;
        # a variant that changes how it counts or numbers may not, and is searched in full.
        self.prune = reduce and all(getattr(proposer, name) is getattr(Proposer, name)
                                    for name in _PROPOSER_CORE)
        self.trans: dict = {}           # (uid, node id, message id or timer) -> step
        self.monitors: list[SafetyMonitor] = []
        self.monitor_ids: dict = {}
        self.monitor_trans: dict = {}   # (monitor id, events id) -> monitor id
        self.events: list[tuple] = []
        self.event_ids: dict = {}
        self.order_key = self.msg_order.__getitem__

    # -- interning -------------------------------------------------------------------
    def node_id(self, node) -> int:
        key = _node_key(node)
        nid = self.node_ids.get(key)
        if nid is None:
            nid = self.node_ids[key] = len(self.nodes)
            self.nodes.append(node)
            self.node_round.append(getattr(node.role, "round", 0))
            self.node_restartable.append(getattr(node.role, "role", None) in self.restart_roles)
        return nid

    def msg_id(self, src: int, dst: int, msg) -> int:
        key = (src, dst, msg)
        mid = self.msg_ids.get(key)
        if mid is None:
            mid = self.msg_ids[key] = len(self.msgs)
            self.msgs.append(key)
            self.msg_order.append(_order((key, 0)))
            self.msg_live.append(not (
                dst in self.skip
                or (dst in self.learners and msg.type == "Accepted"
                    and not self.deliver_to_learners)
                # a proposer hearing it was chosen only stops; safety never depends on it
                or (msg.type == "Accepted" and dst in self.proposers)))
            self.msg_prunable.append(self.prune and dst in self.proposers
                                     and msg.type in ("Ack", "Nack"))
        return mid

    def is_stale(self, mid: int, nid: int) -> bool:
        """Is message ``mid`` one the package's proposer in state ``nid`` will ignore for ever?

        Its number only grows, and it is in phase 1 or 2 only with its current number,
        so an Ack is dead unless it is for the current number in phase 1; a Nack is dead
        when its promise is no news and it is not for the current round in phase 1 or 2.
        """
        key = (mid, nid)
        dead = self.stale.get(key)
        if dead is None:
            src, _dst, msg = self.msgs[mid]
            role = self.nodes[nid].role
            if msg.type == "Ack":
                dead = not (msg.n == role.n and role.status == PHASE1 and src in role.acceptors)
            else:
                dead = msg.promised <= role.highest_seen and not (
                    msg.n == role.n and role.status in (PHASE1, PHASE2))
            self.stale[key] = dead
        return dead

    def monitor_id(self, monitor: SafetyMonitor) -> int:
        key = repr(vars(monitor))
        mon = self.monitor_ids.get(key)
        if mon is None:
            mon = self.monitor_ids[key] = len(self.monitors)
            self.monitors.append(monitor)
        return mon

    def event_id(self, events: list[dict]) -> int | None:
        if not events:
            return None
        key = repr(events)
        eid = self.event_ids.get(key)
        if eid is None:
            eid = self.event_ids[key] = len(self.events)
            self.events.append(tuple(events))
        return eid

    def observe(self, mon: int, eid: int | None) -> int:
        if eid is None:
            return mon
        nxt = self.monitor_trans.get((mon, eid))
        if nxt is None:
            monitor = self.monitors[mon].copy()
            for ev in self.events[eid]:
                monitor.observe(ev)
            nxt = self.monitor_trans[(mon, eid)] = self.monitor_id(monitor)
        return nxt

    # -- node steps, worked out once ---------------------------------------------------
    def step(self, uid: int, nid: int, what) -> tuple | None:
        """Deliver message id ``what`` (an int) or fire timer ``what`` (a str) at node state nid.

        Returns (new node id, effects, events id, is a proposer) or None when the step
        goes past ``max_round``. ``effects`` is a tuple of ("send", message id),
        ("set"/"cancel", timer) and ("persist", storage).
        """
        ck = (uid, nid, what)
        res = self.trans.get(ck, _MISS)
        if res is _MISS:
            node = self._clone(self.nodes[nid])
            if type(what) is int:
                src, _dst, msg = self.msgs[what]
                effects = node.handle(src, msg)
            else:
                effects = node.fire(what)
            res = self.trans[ck] = self.compile(uid, node, effects)
        return res

    def compile(self, uid: int, node, effects) -> tuple | None:
        ops: list[tuple] = []
        events: list[dict] = []
        self._perform(uid, node, effects, ops, events)
        if getattr(node.role, "status", None) == "backoff":
            # How long a proposer backs off is timing, which this search leaves free:
            # retrying at once covers every later moment too.
            ops.append(("cancel", (uid, "retry")))
            self._perform(uid, node, node.fire("retry"), ops, events)
        if getattr(node.role, "round", 0) > self.max_round:
            return None
        if node.role.role == "acceptor":
            events.append({"kind": "state", "seq": -1, "src": uid,
                           "msg": {"type": "State", **node.snapshot()}})
        return (self.node_id(node), tuple(ops), self.event_id(events),
                node.role.role == "proposer")

    def _perform(self, uid, node, effects, ops, events) -> None:
        for e in effects:
            if isinstance(e, Send):
                ops.append(("send", self.msg_id(uid, e.dst, e.msg)))
                if e.msg.type in _WATCHED:
                    events.append({"kind": "send", "seq": -1, "src": uid, "dst": e.dst,
                                   "msg": e.msg.to_dict()})
            elif isinstance(e, SetTimer) and node.kind != "client":
                # A client's re-send changes nothing here: its Request stays in the network.
                ops.append(("set", (uid, e.name)))
            elif isinstance(e, CancelTimer):
                ops.append(("cancel", (uid, e.name)))
            elif isinstance(e, Persist) and self.restart_budget:
                # Storage only matters to a restart; without any, the node's state says it all.
                ops.append(("persist", _freeze(e.data)))
            elif isinstance(e, Decide):
                events.append({"kind": "decide", "seq": -1, "src": uid, "dst": uid,
                               "msg": {"type": "Decided", "v": e.v, "n": e.n}})

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

    # -- states ------------------------------------------------------------------------
    def initial(self) -> tuple[tuple, int]:
        """The root state and its monitor id."""
        storage = {"roles": self.roles.to_dict(), "paxos": {}}
        uids = list(range(self.config.n_consensus)) + list(self.config.client_uids)
        nodes = [make_node(u, self.config, None, storage, self.impl) for u in uids]
        monitor = SafetyMonitor()
        monitor.observe({"kind": "send", "seq": -1, "src": self.roles.leader, "dst": None,
                         "msg": self.roles.to_dict()})
        for node in nodes:
            monitor.observe({"kind": "state", "seq": -1, "src": node.uid,
                             "msg": {"type": "State", **node.snapshot()}})
        started = [(node, node.start()) for node in nodes]
        state = (tuple(self.node_id(n) for n in nodes), (), frozenset(),
                 tuple(node.storage() and _freeze(node.storage()) for node in nodes),
                 self.restart_budget, self.duplicate_budget)
        mon = self.monitor_id(monitor)
        for node, effects in started:
            res = self.compile(node.uid, node, effects)
            if res is not None:
                nxt = self.apply(state, mon, node.uid, res)
                if nxt is not None:
                    state, mon = nxt
        return state, mon

    def apply(self, s: tuple, mon: int, uid: int, res: tuple, consumed: int | None = None,
              fired=None) -> tuple[tuple, int] | None:
        nid, ops, eid, proposer = res
        nodes = list(s[0])
        nodes[uid] = nid
        if proposer and sum(map(self.node_round.__getitem__, nodes)) > self.max_numbers:
            return None
        net, timers, storage = s[1], s[2], s[3]
        if (consumed is not None and self.bag) or ops:
            net = list(net)
            if consumed is not None and self.bag:
                net.remove(consumed)
            if fired is not None:
                timers = timers - {fired}
            for kind, arg in ops:
                if kind == "send":
                    if (self.bag and (self.msg_live[arg] or not self.reduce)) or arg not in net:
                        # (with reduce, a message never delivered is kept once: it only
                        # records that it was sent)
                        insort(net, arg, key=self.order_key)
                elif kind == "set":
                    timers = timers | {arg}
                elif kind == "cancel":
                    if arg in timers:
                        timers = timers - {arg}
                else:
                    storage = (*storage[:uid], arg, *storage[uid + 1:])
            net = tuple(net)
        elif fired is not None:
            timers = timers - {fired}
        if self.prune:
            # Stored states hold no stale message, so only two kinds can have become
            # stale: those to this node, if it is a proposer (it moved on), and new sends.
            prunable, stale, msgs = self.msg_prunable, self.is_stale, self.msgs
            if uid in self.proposers:
                dead = {m for m in net if prunable[m] and msgs[m][1] == uid and stale(m, nid)}
            else:
                dead = set()
            for kind, arg in ops:
                if kind == "send" and prunable[arg] and stale(arg, nodes[msgs[arg][1]]):
                    dead.add(arg)
            if dead:
                net = tuple(m for m in net if m not in dead)
        return (tuple(nodes), net, timers, storage, s[4], s[5]), self.observe(mon, eid)

    def successors(self, s: tuple, mon: int):
        nodes, net = s[0], s[1]
        live = self.msg_live
        last = -1
        for mid in net:
            if mid == last:
                continue
            last = mid
            if not live[mid]:
                continue
            dst = self.msgs[mid][1]
            res = self.step(dst, nodes[dst], mid)
            if res is not None:
                nxt = self.apply(s, mon, dst, res, consumed=mid)
                if nxt is not None:
                    yield ("deliver", mid), nxt
            if self.bag and s[5] > 0:
                dup = list(net)
                insort(dup, mid, key=self.order_key)
                yield ("duplicate", mid), ((nodes, tuple(dup), s[2], s[3], s[4], s[5] - 1), mon)
        if self.timers:
            for uid, name in sorted(s[2]):
                res = self.step(uid, nodes[uid], name)
                if res is not None:
                    nxt = self.apply(s, mon, uid, res, fired=(uid, name))
                    if nxt is not None:
                        yield ("timer", uid, name), nxt
        if s[4] > 0:
            for uid, nid in enumerate(nodes):
                if self.node_restartable[nid]:
                    nxt = self._restart(s, mon, uid)
                    if nxt is not None:
                        yield ("restart", uid, self.amnesia), nxt

    def _restart(self, s: tuple, mon: int, uid: int) -> tuple[tuple, int] | None:
        stored = _thaw(s[3][uid]) or {}
        if self.amnesia:
            stored["paxos"] = {}
        node = make_node(uid, self.config, None, stored, self.impl)
        timers = frozenset(t for t in s[2] if t[0] != uid)
        base = (s[0], s[1], timers, s[3], s[4] - 1, s[5])
        res = self.compile(uid, node, node.start())
        return None if res is None else self.apply(base, mon, uid, res)

    def action(self, step: tuple) -> tuple:
        """A search step in the public form: ("deliver", src, dst, msg), ("timer", uid, name)..."""
        if step[0] in ("deliver", "duplicate"):
            return (step[0], *self.msgs[step[1]])
        return step


_PROPOSER_CORE = ("receive_request", "receive_ack", "receive_nack", "receive_accepted",
                  "start_round", "next_number", "back_off", "on_timer")
"""What the stale-message pruning relies on: the package's own proposer code."""

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
            progress: bool = True, reduce: bool = False) -> ExploreResult:
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
    """
    config = config or DEFAULT
    if not config.clients:
        config = config.with_clients(*((210 + 10 * p, p) for p in range(config.proposers)))
    ex = _Explorer(config, dict(impl or {}), max_round, restarts, restart_roles, amnesia,
                   deliver_to_learners, network, duplicates, numbers, timers, reduce)
    started = time.perf_counter()
    root, root_mon = ex.initial()
    seen = {root: None}
    parents: dict = {}
    queue = deque([(root, root_mon, 0)])
    transitions = depth = 0
    complete = True
    bar = _progress(progress)
    monitors = ex.monitors
    try:
        while queue:
            s, mon, sdepth = queue.popleft()
            if sdepth > depth:
                depth = sdepth
            if max_depth is not None and sdepth >= max_depth:
                complete = False
                continue
            for action, (nxt, nmon) in ex.successors(s, mon):
                transitions += 1
                if nxt in seen:
                    continue
                seen[nxt] = None
                parents[nxt] = (s, action)
                if monitors[nmon].violations:
                    schedule = [ex.action(a) for a in _path(parents, nxt)]
                    return _counterexample(config, ex, schedule, len(seen), transitions,
                                           sdepth + 1, time.perf_counter() - started,
                                           monitors[nmon].violations)
                queue.append((nxt, nmon, sdepth + 1))
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

