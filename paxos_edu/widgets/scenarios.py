"""Scenario presets: a configuration and a script of steps that tells one Paxos story.

A script is a list of ``ScriptStep(method, args, note)``: ``method`` names a call
on the run (``deliver``, ``drop``, ``duplicate``, ``delay``, ``crash``,
``restart``, ``partition``, ``heal``, ``step``) and ``args`` its arguments, where
a ``Msg(type, src, dst, **fields)`` stands for "the oldest pending item that
matches", so a script reads like a message sequence chart instead of a list of
ids. Two more methods are shorthands for several deliveries in one click:
``deliver_all`` (every pending item matching ``Msg`` right now, oldest first) and
``fifo`` (the oldest pending message of the given types, again and again until
none is left: the election runs this way). The note is what the dashboard
shows while the step is on screen.

``apply_step(run, step)`` performs one step on a Simulation or a Cluster alike;
it raises ``LookupError`` when the run has no matching message (the student
took the run somewhere else), and the dashboard then falls back to
``run.step()``. Nothing here knows the protocol's rules: the scripts only choose
which message arrives when.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..core.config import Config

METHODS = ("deliver", "drop", "duplicate", "delay", "crash", "restart", "partition", "heal",
           "step", "deliver_all", "fifo")
MAX_FIFO = 100_000


class Msg:
    """The oldest pending item of ``type`` (a message class name or ``"Timer"``) that matches.

    ``src``/``dst`` are uids (None: any); ``fields`` are message fields that must be
    equal, e.g. ``Msg("Accept", src=1, v=210)`` or ``Msg("Timer", dst=0, name="retry")``.
    """

    def __init__(self, type: str, src: int | None = None, dst: int | None = None, **fields):
        self.type, self.src, self.dst, self.fields = type, src, dst, fields

    def matches(self, item) -> bool:
        msg = item.msg
        return (msg.type == self.type and (self.src is None or item.src == self.src)
                and (self.dst is None or item.dst == self.dst)
                and all(getattr(msg, k, None) == v for k, v in self.fields.items()))

    def find_all(self, run) -> list:
        return [p for p in run.pending() if self.matches(p)]

    def find(self, run):
        items = self.find_all(run)
        if not items:
            raise LookupError(f"no pending {self}")
        return min(items, key=lambda p: p.id)

    def __repr__(self) -> str:
        ends = "" if self.src is None and self.dst is None else (
            f" {'*' if self.src is None else self.src}→{'*' if self.dst is None else self.dst}")
        extra = "".join(f" {k}={v!r}" for k, v in self.fields.items())
        return f"{self.type}{ends}{extra}"


class ScriptStep(NamedTuple):
    """One click of a scenario: ``getattr(run, method)(*args)``, ``Msg`` args resolved first."""

    method: str
    args: tuple = ()
    note: str = ""


def apply_step(run, step: ScriptStep | tuple) -> str:
    """Perform ``step`` on ``run``; returns what was done, in words. LookupError if impossible."""
    method, args = step[0], tuple(step[1]) if len(step) > 1 else ()
    if method not in METHODS:
        raise ValueError(f"script method {method!r}: must be one of {', '.join(METHODS)}")
    if method == "fifo":
        types = set(args)
        count = 0
        while count < MAX_FIFO:
            items = [p for p in run.pending() if p.kind == "Message" and p.msg.type in types]
            if not items:
                break
            run.deliver(min(items, key=lambda p: p.id).id)
            count += 1
        return f"delivered {count} {'/'.join(args)} message(s) oldest first"
    if method == "deliver_all":
        (match,) = args
        items = sorted(match.find_all(run), key=lambda p: p.id)
        if not items:
            raise LookupError(f"no pending {match}")
        for p in items:
            run.deliver(p.id)
        return f"delivered {len(items)} × {match}"
    resolved = tuple(a.find(run).id if isinstance(a, Msg) else a for a in args)
    getattr(run, method)(*resolved)
    return f"{method} {', '.join(map(str, args))}".strip()


@dataclass(frozen=True)
class Scenario:
    """A preset: ``config`` and ``seed`` to start from, the ``script`` the Step button walks.

    ``promise`` says in words how it ends; ``check(run)`` lists what is not so
    (empty when the run ends as promised), for the tests and the status line.
    """

    key: str
    title: str
    config: Config
    script: Sequence[ScriptStep]
    promise: str
    check: Callable[[Any], list[str]] = field(repr=False, default=lambda run: [])
    seed: int = 0
    tab: str = "Paxos"
    """The diagram the dashboard shows first (``dashboard.TABS``)."""


def _decided(run) -> dict:
    return run.decided()


def _expect(decided: dict | None = None, safe: bool = True, broken: Sequence[str] = (),
            down: Sequence[int] = (), sent: dict[str, int] | None = None):
    """A ``check``: the clients' decisions, safety (or the invariants broken), crashed nodes."""

    def check(run) -> list[str]:
        problems = []
        got = _decided(run)
        if decided is not None and got != decided:
            problems.append(f"decided {got}, expected {decided}")
        if decided is None and len(set(map(repr, got.values()))) != 1:
            problems.append(f"the clients were told {got}: expected one value for all")
        names = {v.invariant for v in run.violations}
        if safe and names:
            problems.append(f"safety violated: {sorted(names)}")
        if not set(broken) <= names:
            problems.append(f"expected {sorted(broken)} broken, the checker found {sorted(names)}")
        alive = run.alive()
        for uid in down:
            if alive.get(uid):
                problems.append(f"node {uid} should be down")
        for kind, least in (sent or {}).items():
            count = sum(1 for ev in run.trace if ev["kind"] == "send"
                        and ev["msg"]["type"] == kind)
            if count < least:
                problems.append(f"{count} {kind} message(s) sent, expected at least {least}")
        return problems

    return check


ELECT = ScriptStep("fifo", ("Token", "Roles"),
                   "Election: Chang-Roberts tokens travel the ring (oldest first); the leader "
                   "sends the roles and each client sends its request.")


def _election() -> Scenario:
    # P0, A1-A4, L5, client 6; the ring of lesson 1: 2 -> 3 -> 5 -> 0 -> 4 -> 1 -> 2
    def tok(uid: int, src: int, dst: int, note: str) -> ScriptStep:
        return ScriptStep("deliver", (Msg("Token", src, dst, uid=uid),), note)

    return Scenario(
        "election", "Chang-Roberts election",
        Config(1, 4, 1, clients=((210, 0),), ring="random", ring_seed=1),
        [tok(2, 2, 3, "Every node sent token(own uid) to its successor. A3 gets token(2): A3 is "
             "red and 2 < 3, so it swallows the token (a smaller uid cannot win)."),
         tok(3, 3, 5, "L5 gets token(3): red, 3 < 5: swallowed."),
         tok(5, 5, 0, "P0 gets token(5): 5 > 0, so P0 forwards it and turns black: it has "
             "lost and will relay every token from now on."),
         tok(0, 0, 4, "A4 gets token(0): red, 0 < 4: swallowed."),
         tok(4, 4, 1, "A1 gets token(4): 4 > 1: A1 forwards it and turns black."),
         tok(1, 1, 2, "A2 gets token(1): red, 1 < 2: swallowed."),
         tok(5, 0, 4, "A4 gets token(5): 5 > 4: A4 forwards it and turns black."),
         tok(4, 1, 2, "A2 gets token(4): 4 > 2: A2 forwards it and turns black."),
         tok(5, 4, 1, "A1 is black: it relays token(5) without comparing."),
         tok(4, 2, 3, "A3 gets token(4): 4 > 3: A3 forwards it and turns black."),
         tok(5, 1, 2, "Black A2 relays token(5)."),
         tok(4, 3, 5, "L5 gets token(4): L5 is still red and 4 < 5: swallowed. Every other "
             "node is black now."),
         tok(5, 2, 3, "Black A3 relays token(5) on to L5."),
         tok(5, 3, 5, "L5 gets its own token back while red: L5 is the leader, the largest uid. "
             "14 token messages (for 6 nodes: at best 2n-1 = 11, at worst n(n+1)/2 = 21)."),
         ScriptStep("fifo", ("Roles",),
                    "The leader hands out the roles (this package's set-up, not part of "
                    "Paxos); the client then sends its request. Step or Play runs Basic Paxos."),
         ],
        "L5 is elected after 14 token messages; then C6 is told 210.",
        _expect({6: 210}, sent={"Token": 14}), tab="ring")


def _happy() -> Scenario:
    # P=0, A1, A2, A3, L4, C5
    return Scenario(
        "happy", "happy path", Config(1, 3, 1, clients=((210, 0),)),
        [ELECT,
         ScriptStep("deliver", (Msg("Request", 5, 0),), "request: C5 asks P0 for 210."),
         ScriptStep("deliver_all", (Msg("Proposal", 0),),
                    "1.1: proposal(n, 210) reaches every acceptor; each promises n."),
         ScriptStep("deliver_all", (Msg("Ack", dst=0),),
                    "1.2: the acks come back; a majority (2 of 3) is enough, the proposer "
                    "sends accept(n, 210)."),
         ScriptStep("deliver_all", (Msg("Accept", 0),),
                    "2.1: accept(n, 210) reaches the acceptors; each accepts (it promised n)."),
         ScriptStep("deliver_all", (Msg("Accepted", dst=4),),
                    "2.2: the learner counts a majority of accepted(n, 210): 210 is chosen."),
         ScriptStep("deliver_all", (Msg("Decided", 4),), "3: the learner tells the client."),
         ],
        "C5 is told 210; the safety light stays green.",
        _expect({5: 210}))


def _duel() -> Scenario:
    # proposers 0, 1; A2, A3, A4; L5; C6 -> P0 (210), C7 -> P1 (220)
    return Scenario(
        "duel", "dueling proposers", Config(2, 3, 1, clients=((210, 0), (220, 1))),
        [ELECT,
         ScriptStep("deliver", (Msg("Request", 6, 0),), "C6 asks P0 for 210."),
         ScriptStep("deliver", (Msg("Request", 7, 1),), "C7 asks P1 for 220."),
         ScriptStep("deliver_all", (Msg("Proposal", 0),),
                    "1.1: P0's proposal(6, 210) reaches all acceptors: they promise 6."),
         ScriptStep("deliver_all", (Msg("Ack", dst=0),),
                    "1.2: P0 has its majority and sends accept(6, 210)..."),
         ScriptStep("deliver_all", (Msg("Proposal", 1),),
                    "...but P1's proposal(7, 220) gets there first: everyone now "
                    "promises 7."),
         ScriptStep("deliver_all", (Msg("Accept", 0),),
                    "2.1: accept(6, 210) arrives too late: every acceptor answers nack(6, 7)."),
         ScriptStep("deliver_all", (Msg("Nack", dst=0),),
                    "P0 backs off for a random time before it retries above 7."),
         ScriptStep("deliver", (Msg("Timer", dst=0, name="retry"),),
                    "P0 retries at once with proposal(12, 210)..."),
         ScriptStep("deliver_all", (Msg("Proposal", 0),),
                    "...and the acceptors promise 12 before P1's acks are in."),
         ScriptStep("deliver_all", (Msg("Ack", dst=1),),
                    "P1 got its acks for 7 and sends accept(7, 220)..."),
         ScriptStep("deliver_all", (Msg("Accept", 1),),
                    "...rejected: nack(7, 12). Each proposer keeps preempting the other: Paxos "
                    "stays safe but may never finish. Random backoff breaks the tie: press Step "
                    "or Play."),
         ],
        "both clients are told the same value, after nacks on both sides; safe.",
        _expect(None, sent={"Nack": 4}))


def _crash_12() -> Scenario:
    # P=0, A1, A2, A3, L4, C5
    return Scenario(
        "crash12", "acceptor crash in phase 1.2", Config(1, 3, 1, clients=((210, 0),)),
        [ELECT,
         ScriptStep("deliver", (Msg("Request", 5, 0),), "C5 asks P0 for 210."),
         ScriptStep("deliver", (Msg("Proposal", 0, 2),), "1.1: A2 promises."),
         ScriptStep("deliver", (Msg("Proposal", 0, 3),), "1.1: A3 promises."),
         ScriptStep("crash", (1,), "A1 crashes before the proposal reaches it: it will "
                    "never answer."),
         ScriptStep("deliver", (Msg("Proposal", 0, 1),),
                    "The proposal to A1 arrives at a dead node and is lost."),
         ScriptStep("deliver_all", (Msg("Ack", dst=0),),
                    "1.2: two acks of three acceptors are a majority: the proposer goes on to "
                    "2.1 without A1."),
         ],
        "C5 is told 210 although A1 stays down; safe.",
        _expect({5: 210}, down=(1,)))


def _minority_majority() -> Scenario:
    # P=0, A1..5, L6, C7
    return Scenario(
        "quorum", "minority vs majority failure", Config(1, 5, 1, clients=((210, 0),)),
        [ELECT,
         ScriptStep("crash", (1,), "A1 crashes."),
         ScriptStep("crash", (2,), "A2 crashes: 2 of 5 are down, a minority. The other "
                    "three still form a majority."),
         ScriptStep("deliver", (Msg("Request", 7, 0),), "C7 asks P0 for 210."),
         ScriptStep("deliver_all", (Msg("Proposal", 0),),
                    "1.1: the proposals to A1 and A2 are lost; A3, A4, A5 promise."),
         ScriptStep("crash", (3,), "A3 crashes too: 3 of 5 are down, a majority. No "
                    "quorum can answer any more."),
         ScriptStep("deliver_all", (Msg("Ack", dst=0),),
                    "1.2: the acks were already on their way; the proposer sends accept."),
         ScriptStep("deliver_all", (Msg("Accept", 0),),
                    "2.1: only A4 and A5 are alive to accept."),
         ScriptStep("deliver_all", (Msg("Accepted", dst=6),),
                    "2.2: two votes of five: the learner decides nothing. Paxos blocks, but it "
                    "never decides wrongly."),
         ScriptStep("restart", (3,), "A3 restarts from its stable storage: a majority is "
                    "back. Press Step or Play: the proposer times out and retries."),
         ],
        "blocked (no quorum) while 3 of 5 acceptors are down; C7 is told 210 once "
        "A3 is back; safe.",
        _expect({7: 210}, down=(1, 2)))


def _two_rounds(second_note: str, amnesia: bool, second_v) -> list[ScriptStep]:
    # proposers 0, 1; A2, A3, A4; L5; clients 6 -> P0 (210), 7 -> P1 (220)
    steps = [
        ELECT,
        ScriptStep("deliver", (Msg("Request", 6, 0),), "C6 asks P0 for 210."),
        ScriptStep("deliver", (Msg("Proposal", 0, 2),), "1.1: A2 promises 6."),
        ScriptStep("deliver", (Msg("Proposal", 0, 3),), "1.1: A3 promises 6."),
        ScriptStep("deliver_all", (Msg("Ack", 2, 0),), "1.2: A2's ack reaches P0."),
        ScriptStep("deliver_all", (Msg("Ack", 3, 0),),
                   "1.2: a majority: P0 sends accept(6, 210)."),
        ScriptStep("deliver", (Msg("Accept", 0, 2),), "2.1: A2 accepts (6, 210)."),
        ScriptStep("deliver", (Msg("Accept", 0, 3),), "2.1: A3 accepts (6, 210)."),
        ScriptStep("deliver_all", (Msg("Accepted", dst=5),),
                   "2.2: A2 and A3 are a majority: 210 is chosen; the learner sends "
                   "decided(210) to every client."),
        ScriptStep("deliver", (Msg("Decided", 5, 6),), "3: C6 is told 210."),
    ]
    if amnesia:
        steps += [
            ScriptStep("crash", (3,), "A3 crashes."),
            ScriptStep("restart", (3, True), "A3 restarts WITHOUT its stable storage "
                       "(amnesia): it forgot its promise and its accepted (6, 210)."),
        ]
    steps += [
        ScriptStep("deliver", (Msg("Request", 7, 1),), "C7 asks P1 for 220."),
        ScriptStep("deliver", (Msg("Proposal", 1, 3),), "1.1: proposal(7, 220) reaches A3."),
        ScriptStep("deliver", (Msg("Proposal", 1, 4),), "1.1: and A4."),
        ScriptStep("deliver", (Msg("Ack", 3, 1),), second_note),
        ScriptStep("deliver", (Msg("Ack", 4, 1),),
                   "1.2: a majority of acks: P1 picks the value of the highest-numbered "
                   "accepted proposal reported, else its own."),
        ScriptStep("deliver", (Msg("Accept", 1, 3),), "2.1: A3 accepts."),
        ScriptStep("deliver", (Msg("Accept", 1, 4),), "2.1: A4 accepts."),
        ScriptStep("deliver_all", (Msg("Accepted", dst=5),),
                   "2.2: the learner hears a majority for n = 7."),
        ScriptStep("deliver", (Msg("Decided", 5, 7, v=second_v),),
                   f"3: C7 is told {second_v}."),
    ]
    return steps


def _hijack() -> Scenario:
    return Scenario(
        "hijack", "value hijack", Config(2, 3, 1, clients=((210, 0), (220, 1))),
        _two_rounds("1.2: A3's ack reports its accepted (6, 210): P1 must adopt "
                    "210 and give up its own 220.", amnesia=False, second_v=210),
        "both clients are told 210, the first value; P1 proposes 210, not 220.",
        _expect({6: 210, 7: 210}))


def _amnesia() -> Scenario:
    return Scenario(
        "amnesia", "acceptor amnesia", Config(2, 3, 1, clients=((210, 0), (220, 1))),
        _two_rounds("1.2: A3's ack reports nothing accepted: it forgot. P1 "
                    "is free to propose 220.", amnesia=True, second_v=220),
        "the safety light turns red when A3 forgets its promise (monotonic promises); "
        "then 220 is chosen after 210 (agreement): C6 is told 210, C7 220.",
        _expect({6: 210, 7: 220}, safe=False, broken=("agreement", "monotonic promises")))


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    _election(), _happy(), _duel(), _crash_12(), _minority_majority(), _hijack(), _amnesia())}
"""The presets, by key: election, happy, duel, crash12, quorum, hijack, amnesia."""
