"""The explorer's model of a small system: interned node states, a sorted network, cached steps.

A state is ``(nodes, net, timers, storage, restarts left, duplicates left)``:

- ``nodes`` holds one small int per uid, the id of an interned node object that is never
  changed (two nodes whose role fields are equal share one id);
- ``net`` the ids of the messages in flight, sorted in delivery order (a message twice in
  the bag is there twice);
- ``timers`` the ``(uid, name)`` timers set, a frozenset (empty unless timers may fire);
- ``storage`` one interned stable-storage id per uid.

Roles are deterministic, so a step (a message or a timer at a node state) is worked out
once, by the real role code, and cached as the new node id and what it did; so is feeding
the resulting events to a (likewise interned) safety monitor. Two states are the same
state exactly when the role fields, messages in flight, timers, storage and budgets are.
"""

from __future__ import annotations

import copy
from bisect import insort

from .core.config import Config
from .core.invariants import SafetyMonitor
from .core.node import make_node
from .core.paxos import PHASE1, PHASE2, ROLE_CLASSES, Proposer
from .explorer_nodes import Step, clone, freeze, role_key
from .net.perform import perform

PROPOSER_CORE = ("receive_request", "receive_ack", "receive_nack", "receive_accepted",
                 "start_round", "next_number", "back_off", "on_timer")
"""What the stale-message pruning relies on: the package's own proposer code."""

_MISS = object()

WATCHED = frozenset({"Request", "Roles", "Accept", "Accepted"})
"""Message kinds the safety monitor reads; other sends need no event."""

class Model:
    """The search's model of ``config``: the initial state, its successors, cached steps."""

    def __init__(self, config: Config, impl, *, max_round, restarts, restart_roles, amnesia,
                 deliver_to_learners, network, duplicates, max_numbers, timers, reduce):
        self.config = config
        self.impl = impl
        self.timers = timers
        self.reduce = reduce
        self.max_round = max_round
        self.max_numbers = max_numbers if max_numbers is not None else 10**9
        self.bag = network == "bag"
        self.duplicate_budget = duplicates if self.bag else 0
        self.restart_budget = restarts
        self.restart_roles = restart_roles
        self.amnesia = amnesia
        self.deliver_to_learners = deliver_to_learners
        self.roles = config.roles(config.n_consensus - 1)
        self.learners = set(self.roles.learners)
        self.proposers = tuple(self.roles.proposers)
        # Clients only hear decisions; the learners' decisions are checked already.
        self.skip = set(config.client_uids)
        self.nodes: list = []           # node id -> node object (never changed)
        self.node_ids: dict = {}        # role key -> node id
        self.node_round: list[int] = []
        self.node_restartable: list[bool] = []
        self.trans: list[dict] = []     # node id -> {message id or timer name: Step | None}
        self.msgs: list[tuple] = []     # message id -> (src, dst, msg)
        self.msg_ids: dict = {}
        self.msg_order: list[tuple] = []
        self.msg_live: list[bool] = []  # may the search deliver it?
        self.msg_prunable: list[bool] = []
        self.dead: list = []            # node id -> the stale messages to it (proposers), or None
        self.proposer_nids: dict = {}   # uid -> its proposer node ids
        self.stores: list = []          # storage id -> the stored dict
        self.store_ids: dict = {}
        self.restarted: dict = {}       # (uid, storage id) -> Step | None
        proposer = {**ROLE_CLASSES, **impl}["proposer"]
        # The package's proposer ignores an Ack or Nack for a number it left, for ever;
        # a variant that changes how it counts or numbers may not, and is searched in full.
        self.prune = reduce and all(getattr(proposer, name) is getattr(Proposer, name)
                                    for name in PROPOSER_CORE)
        self.monitors: list[SafetyMonitor] = []
        self.monitor_ids: dict = {}
        self.monitor_next: list[dict] = []  # monitor id -> {events id: monitor id}
        self.events: list[tuple] = []
        self.event_ids: dict = {}
        self.order_key = self.msg_order.__getitem__
        # Hooks for the acceptor symmetry: its renaming tables, and its check of each step.
        self.on_new_node = self.on_new_msg = self.verify = None

    # -- interning -------------------------------------------------------------------
    def node_id(self, node) -> int:
        key = role_key(node)
        nid = self.node_ids.get(key)
        if nid is None:
            nid = self.node_ids[key] = len(self.nodes)
            self.nodes.append(node)
            self.node_round.append(getattr(node.role, "round", 0))
            self.node_restartable.append(getattr(node.role, "role", None) in self.restart_roles)
            self.trans.append({})
            self._new_dead_set(nid)
            if self.on_new_node is not None:
                self.on_new_node(nid)
        return nid

    def msg_id(self, src: int, dst: int, msg) -> int:
        key = (src, dst, msg)
        mid = self.msg_ids.get(key)
        if mid is None:
            mid = self.msg_ids[key] = len(self.msgs)
            self.msgs.append(key)
            self.msg_order.append((src, dst, msg.type, repr(msg)))
            self.msg_live.append(not (
                dst in self.skip
                or (dst in self.learners and msg.type == "Accepted"
                    and not self.deliver_to_learners)
                # a proposer hearing it was chosen only stops; safety never depends on it
                or (msg.type == "Accepted" and dst in self.proposers)))
            self.msg_prunable.append(self.prune and dst in self.proposers
                                     and msg.type in ("Ack", "Nack"))
            if self.msg_prunable[mid]:
                for nid in self.proposer_nids.get(dst, ()):
                    if self.is_stale(mid, nid):
                        self.dead[nid].add(mid)
            if self.on_new_msg is not None:
                self.on_new_msg(mid)
        return mid

    def store_id(self, data: dict) -> int:
        key = freeze(data)
        sid = self.store_ids.get(key)
        if sid is None:
            sid = self.store_ids[key] = len(self.stores)
            self.stores.append(copy.deepcopy(data))
        return sid

    def is_stale(self, mid: int, nid: int) -> bool:
        """Is message ``mid`` one the package's proposer in state ``nid`` will ignore for ever?

        Its number only grows, and it is in phase 1 or 2 only with its current number,
        so an Ack is dead unless it is for the current number in phase 1; a Nack is dead
        when its promise is no news and it is not for the current round in phase 1 or 2.
        """
        src, _dst, msg = self.msgs[mid]
        role = self.nodes[nid].role
        if msg.type == "Ack":
            return not (msg.n == role.n and role.status == PHASE1 and src in role.acceptors)
        return msg.promised <= role.highest_seen and not (
            msg.n == role.n and role.status in (PHASE1, PHASE2))

    def _new_dead_set(self, nid: int) -> None:
        node = self.nodes[nid]
        if not (self.prune and getattr(node.role, "role", None) == "proposer"):
            self.dead.append(None)
            return
        prunable, msgs = self.msg_prunable, self.msgs
        self.dead.append({m for m in range(len(msgs)) if prunable[m]
                          and msgs[m][1] == node.uid and self.is_stale(m, nid)})
        self.proposer_nids.setdefault(node.uid, []).append(nid)

    def monitor_id(self, monitor: SafetyMonitor) -> int:
        key = repr(vars(monitor))
        mon = self.monitor_ids.get(key)
        if mon is None:
            mon = self.monitor_ids[key] = len(self.monitors)
            self.monitors.append(monitor)
            self.monitor_next.append({})
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
        nxt = self.monitor_next[mon].get(eid)
        if nxt is None:
            monitor = self.monitors[mon].copy()
            for ev in self.events[eid]:
                monitor.observe(ev)
            nxt = self.monitor_next[mon][eid] = self.monitor_id(monitor)
        return nxt

    # -- node steps, worked out once ---------------------------------------------------
    def step(self, nid: int, what) -> Step | None:
        """Deliver message id ``what`` (an int) or fire timer ``what`` (a str) at node state nid.

        None when the step takes the node past ``max_round``.
        """
        cache = self.trans[nid]
        if what in cache:
            return cache[what]
        node = clone(self.nodes[nid])
        if type(what) is int:
            src, _dst, msg = self.msgs[what]
            effects = node.handle(src, msg)
        else:
            effects = node.fire(what)
        res = cache[what] = self.compile(node, effects, nid)
        if self.verify is not None:
            self.verify(nid, what, res)
        return res

    def restart_step(self, uid: int, sid: int | None) -> Step | None:
        """Node ``uid`` restarted from storage ``sid`` (with amnesia: its Paxos part lost)."""
        key = (uid, sid)
        if key not in self.restarted:
            stored = copy.deepcopy(self.stores[sid]) if sid is not None else {}
            if self.amnesia:
                stored["paxos"] = {}
            node = make_node(uid, self.config, None, stored, self.impl)
            res = self.restarted[key] = self.compile(node, node.start())
            if self.verify is not None:
                self.verify(None, sid, res, uid)
        return self.restarted[key]

    def compile(self, node, effects, before: int | None = None) -> Step | None:
        """Intern what ``node`` did: perform its effects (and an immediate retry) as a Step.

        ``before`` is the node state it stepped from (None: a start or a restart).
        """
        sends: list[int] = []
        timer_ops: list[tuple] = []
        stored: list[int] = []
        events: list[dict] = []
        self.record_effects(node, effects, sends, timer_ops, stored, events)
        if getattr(node.role, "status", None) == "backoff":
            # How long a proposer backs off is timing, which this search leaves free:
            # retrying at once covers every later moment too.
            if self.timers:
                timer_ops.append(("cancel", (node.uid, "retry")))
            self.record_effects(node, node.fire("retry"), sends, timer_ops, stored, events)
        if getattr(node.role, "round", 0) > self.max_round:
            return None
        if node.role.role == "acceptor":
            # What the monitor reads of an acceptor's state (its role's snapshot).
            events.append({"kind": "state", "seq": -1, "src": node.uid,
                           "msg": {"type": "State", "kind": node.kind, "role": "acceptor",
                                   **node.role.snapshot()}})
        # In a bag every copy counts, except (with reduce) of a message never delivered,
        # which is kept once: it only records that it was sent.
        live, bag, reduce, prunable = self.msg_live, self.bag, self.reduce, self.msg_prunable
        always = [m for m in sends if bag and (live[m] or not reduce)]
        nid = self.node_id(node)
        proposer = node.role.role == "proposer"
        grew = proposer and (before is None or self.node_round[nid] > self.node_round[before])
        return Step(nid, tuple(sends), tuple(m for m in always if not prunable[m]),
                    tuple((m, self.msgs[m][1]) for m in always if prunable[m]),
                    tuple(m for m in sends if m not in always), tuple(timer_ops),
                    stored[-1] if stored else None, self.event_id(events), grew,
                    proposer and self.prune)

    def record_effects(self, node, effects, sends, timer_ops, stored, events) -> None:
        """Apply a node's core effects to the model, through the one effect interpreter
        (``net.perform``) with the model as a sink (``_Recorder``)."""
        perform(effects, _Recorder(self, node, sends, timer_ops, stored, events))

    # -- states ------------------------------------------------------------------------
    def initial(self) -> tuple[tuple, int]:
        """The root state (every client's request in flight) and its monitor id."""
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
                 tuple(self.store_id(node.storage()) for node in nodes),
                 self.restart_budget, self.duplicate_budget)
        mon = self.monitor_id(monitor)
        for node, effects in started:
            res = self.compile(node, effects)
            if res is not None:
                nxt = self.apply(state, mon, node.uid, res)
                if nxt is not None:
                    state, mon = nxt
        return state, mon

    def apply(self, s: tuple, mon: int, uid: int, res: Step, consumed: int = -1,
              fired=None) -> tuple[tuple, int] | None:
        """The state after node ``uid`` took step ``res`` (None past the numbers bound).

        ``consumed`` is the message delivered (a bag loses that copy), ``fired`` the timer.
        """
        nodes = list(s[0])
        nodes[uid] = nid = res.nid
        if res.grew and sum([self.node_round[nodes[p]] for p in self.proposers]) \
                > self.max_numbers:
            return None
        net = s[1]
        # Stored states hold no stale message, so only two kinds can have become stale:
        # those to this node, if it is a proposer (it moved on), and new sends.
        dead = self.dead[nid] if res.prunes else None
        hit = dead and not dead.isdisjoint(net)
        if consumed >= 0 or res.sends or hit:
            net = list(net)
            if consumed >= 0:
                net.remove(consumed)
            order = self.order_key
            for m in res.plain:
                insort(net, m, key=order)
            for m, dst in res.watched:
                if m not in self.dead[nodes[dst]]:
                    insort(net, m, key=order)
            for m in res.once:
                if m not in net:
                    insort(net, m, key=order)
            if hit:
                net = [m for m in net if m not in dead]
            net = tuple(net)
        timers = s[2]
        if fired is not None:
            timers = timers - {fired}
        for kind, timer in res.timer_ops:
            timers = timers | {timer} if kind == "set" else timers - {timer}
        storage = s[3] if res.store is None else (*s[3][:uid], res.store, *s[3][uid + 1:])
        if res.eid is not None:
            nxt = self.monitor_next[mon].get(res.eid)
            mon = self.observe(mon, res.eid) if nxt is None else nxt
        return (tuple(nodes), net, timers, storage, s[4], s[5]), mon

    def successors(self, s: tuple, mon: int):
        """Every (action, state, monitor id) one step from ``s``, in a fixed order.

        A delivery's action is the message id; the others are tuples.
        """
        nodes, net = s[0], s[1]
        live, msgs, trans, apply = self.msg_live, self.msgs, self.trans, self.apply
        bag, duplicate = self.bag, s[5] > 0
        last = -1
        for mid in net:
            if mid == last:
                continue
            last = mid
            if not live[mid]:
                continue
            dst = msgs[mid][1]
            res = trans[nodes[dst]].get(mid, _MISS)
            if res is _MISS:
                res = self.step(nodes[dst], mid)
            if res is not None:
                nxt = apply(s, mon, dst, res, mid if bag else -1)
                if nxt is not None:
                    yield mid, nxt[0], nxt[1]
            if duplicate:
                dup = list(net)
                insort(dup, mid, key=self.order_key)
                yield ("duplicate", mid), (nodes, tuple(dup), s[2], s[3], s[4], s[5] - 1), mon
        if self.timers:
            for uid, name in sorted(s[2]):
                res = self.step(nodes[uid], name)
                if res is not None:
                    nxt = apply(s, mon, uid, res, fired=(uid, name))
                    if nxt is not None:
                        yield ("timer", uid, name), nxt[0], nxt[1]
        if s[4] > 0:
            for uid, nid in enumerate(nodes):
                if self.node_restartable[nid]:
                    nxt = self.restart(s, mon, uid)
                    if nxt is not None:
                        yield ("restart", uid, self.amnesia), nxt[0], nxt[1]

    def restart(self, s: tuple, mon: int, uid: int) -> tuple[tuple, int] | None:
        timers = frozenset(t for t in s[2] if t[0] != uid)
        base = (s[0], s[1], timers, s[3], s[4] - 1, s[5])
        res = self.restart_step(uid, s[3][uid])
        return None if res is None else self.apply(base, mon, uid, res)

    def action(self, step) -> tuple:
        """A search step in the public form: ("deliver", src, dst, msg), ("timer", uid, name)..."""
        if type(step) is int:
            return ("deliver", *self.msgs[step])
        if step[0] == "duplicate":
            return ("duplicate", *self.msgs[step[1]])
        return step


class _Recorder:
    """The explorer's effect sink: what one step of one node did, as the model keeps it.

    Sends become message ids (and monitor events for the kinds it reads); timers are kept
    only if they may fire; storage only if a restart may read it; decisions become
    monitor events.
    """

    __slots__ = ("model", "node", "sends", "timer_ops", "stored", "events")

    def __init__(self, model: Model, node, sends, timer_ops, stored, events):
        self.model, self.node = model, node
        self.sends, self.timer_ops, self.stored, self.events = sends, timer_ops, stored, events

    def send(self, dst: int, msg) -> None:
        uid = self.node.uid
        self.sends.append(self.model.msg_id(uid, dst, msg))
        if msg.type in WATCHED:
            self.events.append({"kind": "send", "seq": -1, "src": uid, "dst": dst,
                                "msg": msg.to_dict()})

    def set_timer(self, name: str, delay: float) -> None:
        # A client's re-send changes nothing here: its Request stays in the network.
        if self.model.timers and self.node.kind != "client":
            self.timer_ops.append(("set", (self.node.uid, name)))

    def cancel_timer(self, name: str) -> None:
        if self.model.timers:
            self.timer_ops.append(("cancel", (self.node.uid, name)))

    def persist(self, data) -> None:
        if self.model.restart_budget:
            self.stored.append(self.model.store_id(data))

    def decide(self, v, n: int) -> None:
        uid = self.node.uid
        self.events.append({"kind": "decide", "seq": -1, "src": uid, "dst": uid,
                            "msg": {"type": "Decided", "v": v, "n": n}})
