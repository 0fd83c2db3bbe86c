"""The world at a cursor: what every diagram draws, rebuilt from a trace alone.

A cursor ``at`` is an index into the trace: the world *just after* event
``trace[at]`` happened (``None`` means after the last event; negative indices
count from the end as in Python). At that cursor:

- a node's state is its last ``state`` event at or before ``at``;
- a node is dead between its ``crash`` and its next ``restart``;
- a message is in flight from its ``send`` (or ``duplicate``) until the
  ``deliver`` or ``drop`` event with the same ``id``;
- the violations are exactly what ``check_safety(trace[:at + 1])`` reports.

Facts that must not move while a diagram animates (which uid sits where) are
read from the whole trace: ``ring_order``, ``roles_of`` and ``node_uids``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.invariants import SafetyMonitor, Violation

MESSAGE_KINDS = ("send", "deliver", "drop", "duplicate")
CAUSES = ("deliver", "drop", "duplicate", "timer", "crash", "restart")
"""Events that start a step: everything up to the next one is their consequence."""

ROLE_ORDER = ("client", "proposer", "acceptor", "learner")


def resolve(trace: Sequence[dict], at: int | None) -> int:
    """The cursor ``at`` as a non-negative index (``None`` = last event); IndexError if outside."""
    n = len(trace)
    if n == 0:
        raise ValueError("the trace is empty: nothing to draw")
    if at is None:
        return n - 1
    idx = at + n if at < 0 else at
    if not 0 <= idx < n:
        raise IndexError(f"at={at}: the trace has {n} events (indices 0..{n - 1})")
    return idx


def node_uids(trace: Sequence[dict]) -> list[int]:
    """Every node that appears in the trace, sorted."""
    uids: set[int] = set()
    for ev in trace:
        for key in ("src", "dst"):
            if isinstance(ev.get(key), int):
                uids.add(ev[key])
    return sorted(uids)


def roles_of(trace: Sequence[dict]) -> dict[int, str]:
    """Each node's role over the whole run: client, proposer, acceptor, learner or consensus.

    The leader's ``Roles`` message decides; before one is sent (or if the trace
    has none), a node's own state events do; a node with no known role is a
    plain ``consensus`` node.
    """
    roles = {uid: "consensus" for uid in node_uids(trace)}
    for ev in trace:
        msg = ev.get("msg") or {}
        if ev["kind"] == "state":
            if msg.get("kind") == "client":
                roles[ev["src"]] = "client"
            elif msg.get("role"):
                roles[ev["src"]] = msg["role"]
    for ev in trace:
        msg = ev.get("msg") or {}
        if ev["kind"] == "send" and msg.get("type") == "Roles":
            for key, role in (("proposers", "proposer"), ("acceptors", "acceptor"),
                              ("learners", "learner"), ("clients", "client")):
                for uid in msg.get(key, []):
                    roles[uid] = role
            break
    return roles


def consensus_uids(trace: Sequence[dict]) -> list[int]:
    """Nodes that take part in the election (everyone but the clients)."""
    return [u for u, r in roles_of(trace).items() if r != "client"]


def ring_order(trace: Sequence[dict], ring: Sequence[int] | None = None) -> list[int]:
    """The ring in the order tokens travel, starting from the smallest uid.

    ``ring`` (an explicit order, as in ``Config(ring=...)``) wins; otherwise each
    node's successor is where it sent its first Token. Nodes the tokens never
    reached are appended in uid order.
    """
    if ring is not None:
        return list(ring)
    succ: dict[int, int] = {}
    for ev in trace:
        if ev["kind"] == "send" and (ev.get("msg") or {}).get("type") == "Token":
            succ.setdefault(ev["src"], ev["dst"])
    members = sorted(set(consensus_uids(trace)) | set(succ) | set(succ.values()))
    if not members:
        return []
    order, node = [], members[0]
    while node not in order and node is not None:
        order.append(node)
        node = succ.get(node)
    return order + [u for u in members if u not in order]


@dataclass
class World:
    """Everything true at one cursor (see the module docstring for the rules)."""

    at: int
    event: dict | None
    nodes: dict[int, dict]
    """uid -> its latest state snapshot (the ``State`` message's fields)."""
    alive: dict[int, bool]
    in_flight: dict[int, dict]
    """message id -> its send (or duplicate) event, oldest first."""
    dropped: list[dict]
    """drop events in this frame's window (``since`` < index <= ``at``)."""
    decisions: list[dict]
    """every decide event so far."""
    tokens_sent: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def decided_values(self) -> list:
        """Distinct decided values, in the order they were first decided."""
        out: list = []
        for ev in self.decisions:
            v = ev["msg"].get("v")
            if not any(type(v) is type(w) and v == w for w in out):
                out.append(v)
        return out

    @property
    def leader(self) -> int | None:
        """The uid some node knows as leader, if any."""
        for _, s in sorted(self.nodes.items()):
            if s.get("leader") is not None:
                return s["leader"]
        return None


class Replay:
    """Walks a trace forward, event by event, and hands out the ``World`` at any cursor.

    Moving forward costs only the events in between, so an animation's frames
    cost O(trace) in total; moving backward starts again from event 0.
    """

    def __init__(self, trace: Sequence[dict]):
        self.trace = trace
        self._reset()

    def _reset(self) -> None:
        self._pos = 0            # events applied so far
        self._nodes: dict[int, dict] = {}
        self._alive: dict[int, bool] = {}
        self._flight: dict[int, dict] = {}
        self._decisions: list[dict] = []
        self._tokens = 0
        self._monitor = SafetyMonitor()

    def _apply(self, ev: dict) -> None:
        kind, msg = ev["kind"], ev.get("msg") or {}
        if kind in ("send", "duplicate"):
            if "id" in ev:
                self._flight[ev["id"]] = ev
            if msg.get("type") == "Token":
                self._tokens += 1
        elif kind in ("deliver", "drop"):
            self._flight.pop(ev.get("id"), None)
        elif kind == "state":
            self._nodes[ev["src"]] = {k: v for k, v in msg.items() if k != "type"}
            self._alive.setdefault(ev["src"], True)
        elif kind == "decide":
            self._decisions.append(ev)
        elif kind == "crash":
            self._alive[ev["src"]] = False
        elif kind == "restart":
            self._alive[ev["src"]] = True
        self._monitor.observe(ev)

    def world(self, at: int | None = None, since: int | None = None) -> World:
        """The world just after ``trace[at]``; drops after ``since`` (default ``at - 1``) show."""
        idx = resolve(self.trace, at)
        if idx < self._pos - 1:
            self._reset()
        while self._pos <= idx:
            self._apply(self.trace[self._pos])
            self._pos += 1
        lo = idx - 1 if since is None else since
        dropped = [ev for ev in self.trace[max(lo + 1, 0): idx + 1] if ev["kind"] == "drop"]
        return World(
            at=idx, event=self.trace[idx], nodes=dict(self._nodes), alive=dict(self._alive),
            in_flight=dict(self._flight), dropped=dropped, decisions=list(self._decisions),
            tokens_sent=self._tokens, violations=list(self._monitor.violations))


def world_at(trace: Sequence[dict], at: int | None = None, since: int | None = None) -> World:
    """The world just after ``trace[at]`` (a one-off ``Replay``)."""
    return Replay(trace).world(at, since)


def frame_indices(trace: Sequence[dict], frames: str | Sequence[int] = "steps") -> list[int]:
    """Cursor positions for an animation.

    ``"events"``: one frame per event. ``"messages"``: one per send, deliver, drop
    or duplicate. ``"steps"``: one per cause (a delivery, drop, duplicate, timer,
    crash or restart) shown after all its consequences, i.e. just before the next
    cause; the first frame shows the start (every node and its first tokens).
    A sequence of indices is used as given.
    """
    n = len(trace)
    if not isinstance(frames, str):
        return [resolve(trace, i) for i in frames]
    if frames == "events":
        return list(range(n))
    if frames == "messages":
        out = [i for i, ev in enumerate(trace) if ev["kind"] in MESSAGE_KINDS]
        return out or list(range(n))
    if frames == "steps":
        starts = [i for i, ev in enumerate(trace) if ev["kind"] in CAUSES]
        out = [s - 1 for s in starts if s > 0] + [n - 1]
        return sorted(set(out)) if n else []
    raise ValueError(f"frames={frames!r}: must be 'steps', 'messages', 'events' or a list of "
                     "event indices")


def step_end(trace: Sequence[dict], at: int | None) -> int:
    """The last event of the step ``trace[at]`` belongs to (just before the next cause).

    Drawing there shows a delivery together with its consequences: the replies
    sent and the receiver's new state.
    """
    idx = resolve(trace, at)
    while idx + 1 < len(trace) and trace[idx + 1]["kind"] not in CAUSES:
        idx += 1
    return idx


def step_cause(trace: Sequence[dict], at: int | None) -> int | None:
    """The index of the cause (delivery, drop, timer, ...) whose step ``trace[at]`` is in."""
    idx = resolve(trace, at)
    while idx >= 0 and trace[idx]["kind"] not in CAUSES:
        idx -= 1
    return idx if idx >= 0 else None


def step_start(frames: Sequence[int], k: int) -> int:
    """The ``since`` of frame ``k``: the previous frame's cursor (-1 for the first)."""
    return frames[k - 1] if k > 0 else -1
