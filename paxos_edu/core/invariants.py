"""Safety invariants, checked over a trace (the event schema of docs/architecture.md).

``check_safety(trace)`` returns a list of ``Violation``s, empty when the run
was safe. ``SafetyMonitor`` checks the same rules one event at a time, which
is how the simulator's safety light and the explorer use it. Each violation
explains itself in one sentence and names the trace events involved by position
(``event 83`` is ``trace[83]``; ``#12`` is only ever a message id).

The rules (from Lamport's Paxos.tla and Ghosh):

- agreement: at most one value is ever chosen (accepted by a majority at one
  number) and at most one value is ever decided, by anyone;
- validity: a decided value was requested by a client;
- promise kept: no acceptor accepts a number below its promise;
- one value per number: no two Accept messages carry the same n and different v;
- learner soundness: a learner decides (n, v) only after a majority of
  acceptors sent Accepted(n, v);
- monotonic promises: an acceptor's promise never goes down, across restarts too;
- Chang-Roberts: at most one leader, and it holds the largest uid.

Checking never raises: an event the rules cannot read (not an object, a field missing
or wrongly typed) is reported as a "malformed event" naming it, and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .config import majority


@dataclass(frozen=True)
class Violation:
    """A broken invariant: its ``name``, a sentence ``explanation``, the event seqs."""

    invariant: str
    explanation: str
    events: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"{self.invariant}: {self.explanation}"


def _fmt(v) -> str:
    return repr(v) if isinstance(v, str) else str(v)


@dataclass
class SafetyMonitor:
    """Checks every invariant incrementally; ``observe(event)`` returns new violations."""

    violations: list[Violation] = field(default_factory=list)
    requested: set = field(default_factory=set)
    accept_values: dict[int, tuple] = field(default_factory=dict)      # n -> (v, seq)
    voters: dict[tuple, dict[int, int]] = field(default_factory=dict)   # (n, v) -> {acceptor: seq}
    chosen: tuple | None = None                                         # (n, v, seqs)
    decided: tuple | None = None                                        # (node, v, seq)
    acceptor_state: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    acceptors: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()
    consensus_uids: set[int] = field(default_factory=set)
    leader: tuple | None = None                                         # (uid, seq)
    restarted: set[int] = field(default_factory=set)
    reported: set = field(default_factory=set)

    def copy(self) -> SafetyMonitor:
        """An independent copy (the explorer forks one per state)."""
        return SafetyMonitor(
            list(self.violations), set(self.requested), dict(self.accept_values),
            {k: dict(v) for k, v in self.voters.items()}, self.chosen, self.decided,
            dict(self.acceptor_state), self.acceptors, self.learners,
            set(self.consensus_uids), self.leader, set(self.restarted), set(self.reported))

    def observe(self, ev: dict) -> list[Violation]:
        """Check one trace event; returns (and records) the violations it reveals.

        Never raises: an event without the fields a rule reads, or with wrongly typed
        ones, is itself a finding ("malformed event") and is not checked further.
        """
        found: list[Violation] = []
        problem = malformed(ev)
        if problem is None:
            kind, msg = ev.get("kind"), ev.get("msg") or {}
            mtype = msg.get("type")
            try:
                if kind == "send":
                    self._on_send(ev, mtype, msg, found)
                elif kind == "state":
                    self._on_state(ev, msg, found)
                elif kind == "decide":
                    self._on_decide(ev, msg, found)
                elif kind == "restart":
                    self.restarted.add(ev["src"])
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problem = f"it could not be checked ({type(exc).__name__}: {exc})"
        if problem is not None:
            seq = ev.get("seq") if isinstance(ev, dict) else None
            seq = seq if type(seq) is int else -1
            which = f"event {seq}" if seq >= 0 else f"an event ({_brief(ev)})"
            found.append(Violation("malformed event", f"{which}: {problem}; the rules were not "
                                   "checked against it.", (seq,) if seq >= 0 else ()))
        self.violations.extend(found)
        return found

    # -- sends: requests, accept requests, accepted votes, roles -----------------------
    def _on_send(self, ev, mtype, msg, found) -> None:
        seq = ev.get("seq", -1)
        if mtype == "Request":
            self.requested.add(_key(msg["v"]))
        elif mtype == "Roles":
            self.acceptors, self.learners = tuple(msg["acceptors"]), tuple(msg["learners"])
        elif mtype == "Accept":
            n, v = msg["n"], msg["v"]
            first = self.accept_values.setdefault(n, (v, seq))
            if first[0] != v and (n, _key(v)) not in self.reported:
                self.reported.add((n, _key(v)))
                found.append(Violation(
                    "one value per number",
                    f"number {n} was proposed with two values: {_fmt(first[0])} (event {first[1]}) "
                    f"and {_fmt(v)} (event {seq}); two proposers shared a number or one reused it.",
                    (first[1], seq)))
        elif mtype == "Accepted" and ev["src"] in self.acceptors:
            n, v = msg["n"], msg["v"]
            votes = self.voters.setdefault((n, _key(v)), {})
            if ev["src"] in votes:
                return  # the same vote sent to another learner: counted once
            votes[ev["src"]] = seq
            if len(votes) == majority(len(self.acceptors)):
                self._on_chosen(n, v, votes, found)

    def _on_chosen(self, n, v, votes, found) -> None:
        seqs = tuple(sorted(votes.values()))
        who = ", ".join(str(a) for a in sorted(votes))
        if self.chosen is None:
            self.chosen = (n, v, seqs, who)
        elif self.chosen[1] != v:
            n0, v0, seqs0, who0 = self.chosen
            found.append(Violation(
                "agreement",
                f"two values were chosen: {_fmt(v0)} at n={n0} by acceptors {who0} "
                f"(events {_seqs(seqs0)}) and {_fmt(v)} at n={n} by acceptors {who} "
                f"(events {_seqs(seqs)}).",
                seqs0 + seqs))

    # -- state: acceptor promises, election leaders ------------------------------------
    def _on_state(self, ev, msg, found) -> None:
        uid, seq = ev["src"], ev.get("seq", -1)
        if msg.get("kind") == "consensus":
            self.consensus_uids.add(uid)
        if msg.get("role") == "acceptor":
            self._on_acceptor(uid, seq, msg, found)
        if msg.get("leader") == uid and (self.leader is None or self.leader[0] != uid):
            self._on_leader(uid, seq, found)

    def _on_acceptor(self, uid, seq, msg, found) -> None:
        promised, accepted_n = msg["promised"], msg["accepted_n"]
        before = self.acceptor_state.get(uid)
        self.acceptor_state[uid] = (promised, accepted_n, seq)
        if before is None:
            return
        p0, a0, seq0 = before
        # Right after a restart the state is whatever storage held: only a lost
        # promise (below) can be wrong then, not an acceptance.
        fresh = uid in self.restarted
        self.restarted.discard(uid)
        if not fresh and accepted_n is not None and accepted_n != a0 and accepted_n < p0:
            found.append(Violation(
                "promise kept",
                f"acceptor {uid} accepted number {accepted_n} (event {seq}) although it had "
                f"promised {p0} (event {seq0}); it must refuse numbers below its promise.",
                (seq0, seq)))
        if promised < p0:
            found.append(Violation(
                "monotonic promises",
                f"acceptor {uid}'s promise went down from {p0} (event {seq0}) to {promised} "
                f"(event {seq}): it forgot a promise, as an acceptor without stable storage does.",
                (seq0, seq)))

    def _on_leader(self, uid, seq, found) -> None:
        if self.leader is not None:
            found.append(Violation(
                "one leader",
                f"node {uid} became leader (event {seq}) but node {self.leader[0]} already was "
                f"(event {self.leader[1]}).", (self.leader[1], seq)))
        else:
            self.leader = (uid, seq)
        top = max(self.consensus_uids | {uid})
        if uid != top:
            found.append(Violation(
                "largest uid leads",
                f"node {uid} became leader (event {seq}) but node {top} has a larger uid; "
                "Chang-Roberts must elect the largest.", (seq,)))

    # -- decisions ----------------------------------------------------------------------
    def _on_decide(self, ev, msg, found) -> None:
        uid, seq, v, n = ev["src"], ev.get("seq", -1), msg["v"], msg.get("n")
        if _key(v) not in self.requested:
            found.append(Violation(
                "validity", f"node {uid} decided {_fmt(v)} (event {seq}) but no client "
                "requested that value.", (seq,)))
        if self.decided is None:
            self.decided = (uid, v, seq)
        elif self.decided[1] != v:
            u0, v0, s0 = self.decided
            found.append(Violation(
                "agreement", f"node {u0} decided {_fmt(v0)} (event {s0}) but node {uid} decided "
                f"{_fmt(v)} (event {seq}); Paxos must never decide two values.", (s0, seq)))
        if uid in self.learners and n is not None:
            votes = self.voters.get((n, _key(v)), {})
            need = majority(len(self.acceptors))
            if len(votes) < need:
                found.append(Violation(
                    "learner soundness",
                    f"learner {uid} decided {_fmt(v)} at n={n} (event {seq}) after only "
                    f"{len(votes)} distinct acceptor(s) sent Accepted; a majority is {need}.",
                    (seq,)))


def _brief(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_uid(x) -> bool:
    return type(x) is int and x >= 0


def _is_number(x) -> bool:
    return type(x) is int


def _is_number_or_none(x) -> bool:
    return x is None or _is_number(x)


def _is_value(x) -> bool:
    return x is None or type(x) in (int, str)


def _field(where: dict, name: str, ok, what: str, path: str) -> str | None:
    if name not in where:
        return f"field '{path}{name}' is missing"
    if not ok(where[name]):
        return f"field '{path}{name}' is {_brief(where[name])}, not {what}"
    return None


# Fields each rule reads, by event kind and message type: (field, test, what it must be).
_SEND_FIELDS = {
    "Request": (("v", _is_value, "a value (a whole number or a string)"),),
    "Roles": (("acceptors", lambda x: isinstance(x, list | tuple) and all(map(_is_uid, x)),
               "a list of uids"),
              ("learners", lambda x: isinstance(x, list | tuple) and all(map(_is_uid, x)),
               "a list of uids")),
    "Accept": (("n", _is_number, "a whole number"), ("v", _is_value, "a value")),
    "Accepted": (("n", _is_number, "a whole number"), ("v", _is_value, "a value")),
}


def malformed(ev) -> str | None:
    """What is wrong with trace event ``ev`` for the rules to read it, or None if nothing."""
    if not isinstance(ev, dict):
        return f"it is {type(ev).__name__} {_brief(ev)}, not an event object"
    kind = ev.get("kind")
    if "seq" in ev and type(ev["seq"]) is not int:
        return f"field 'seq' is {_brief(ev['seq'])}, not a whole number"
    if kind not in ("send", "state", "decide", "restart"):
        return None  # the rules do not read it
    if kind in ("state", "decide", "restart") or (
            isinstance(ev.get("msg"), dict) and ev["msg"].get("type") == "Accepted"):
        problem = _field(ev, "src", _is_uid, "a uid (a whole number >= 0)", "")
        if problem:
            return problem
    if kind == "restart":
        return None
    msg = ev.get("msg")
    if msg is None:
        return None  # read as {} (no message, nothing the rules check)
    if not isinstance(msg, dict):
        return f"field 'msg' is {_brief(msg)}, not an object"
    if kind == "send":
        checks = _SEND_FIELDS.get(msg.get("type"), ())
    elif kind == "decide":
        checks = (("v", _is_value, "a value"),)
        if msg.get("n") is not None and not _is_number(msg["n"]):
            return f"field 'msg.n' is {_brief(msg['n'])}, not a whole number"
    elif msg.get("role") == "acceptor":
        checks = (("promised", _is_number, "a whole number"),
                  ("accepted_n", _is_number_or_none, "null or a whole number"))
    else:
        checks = ()
    for name, ok, what in checks:
        problem = _field(msg, name, ok, what, "msg.")
        if problem:
            return problem
    return None


def _key(v):
    # 1 and "1" are different values; True never occurs (the codec refuses bools).
    return (type(v).__name__, v)


def _seqs(seqs: Iterable[int]) -> str:
    return ", ".join(str(s) for s in seqs)


def check_safety(trace: Iterable[dict]) -> list[Violation]:
    """Every invariant violation in ``trace``, a sequence of events in seq order."""
    monitor = SafetyMonitor()
    for ev in trace:
        monitor.observe(ev)
    return monitor.violations
