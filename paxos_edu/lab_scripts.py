"""The lab's stage 1: scripted schedules, played on the student's roles directly.

Each check plays a short, fixed sequence of messages into one role object and names
the rule a wrong answer breaks, in one sentence:

- acceptor (1.2, 2.2): promise a fresh number, answer a repeat the same, refuse numbers
  below the promise (in 1.2 and in 2.2), accept at the promise, report the
  highest-numbered accepted proposal, persist before every reply, and keep all of it
  across ``durable()``/``restore()`` (through JSON, as storage does);
- learner (3): a majority of distinct acceptors for one ``(n, v)``; a duplicate never
  counts twice; different ``(n, v)`` never count together; tell every client;
- election (Chang-Roberts): a red node swallows a smaller uid, forwards a larger one
  and turns black, wins only on its own token (once); a black node relays everything.
"""

from __future__ import annotations

import json

from .core.effects import Decide, Persist, Send
from .core.election import BLACK, RED
from .core.messages import Accept, Accepted, Ack, Decided, Nack, Proposal, Token


class Failed(Exception):
    """A stage failed: ``reason`` is its sentence; ``found`` what it found (a counterexample)."""

    def __init__(self, reason: str, found=None):
        super().__init__(reason)
        self.reason = reason
        self.found = found


def _effects(obj, method: str, *args) -> list:
    name = f"{type(obj).__name__}.{method}"
    handler = getattr(obj, method, None)
    if handler is None:
        raise Failed(f"{name} is missing: the node calls it")
    out = handler(*args)
    if not isinstance(out, list):
        raise Failed(f"{name}{_args(args)} returned {out!r}; a handler returns a list of effects "
                     "(Send, Persist, Decide, ...), [] for none")
    return out


def _args(args) -> str:
    return "(" + ", ".join(map(str, args)) + ")"


def _sends(effects, dst=None, kind=None) -> list[tuple[int, Send]]:
    return [(i, e) for i, e in enumerate(effects) if isinstance(e, Send)
            and (dst is None or e.dst == dst) and (kind is None or isinstance(e.msg, kind))]


def _said(effects) -> str:
    sends = [f"{e.msg} to {e.dst}" for e in effects if isinstance(e, Send)]
    return ", ".join(sends) if sends else "nothing"


# -- acceptor --------------------------------------------------------------------------------
def _ack(a, src: int, n: int, v, want: tuple[int, object], context: str) -> None:
    eff = _effects(a, "receive_proposal", src, Proposal(n, v))
    acks = _sends(eff, src, Ack)
    if not acks or _sends(eff, src, Nack):
        raise Failed(f"phase 1.2: {context} answered Proposal(n={n}) with {_said(eff)}; an "
                     f"acceptor promises n unless it promised a larger number, so it must send "
                     f"Ack(n={n}) to proposer {src}")
    i, ack = acks[0]
    if ack.msg.n != n:
        raise Failed(f"phase 1.2: the Ack for Proposal(n={n}) says n={ack.msg.n}; it must "
                     "carry the number it answers")
    got = (ack.msg.accepted_n, ack.msg.accepted_v)
    nothing = want[0] == 0 and not ack.msg.has_accepted and ack.msg.accepted_v is None
    if got != want and not nothing:  # nothing accepted may be spelt (None, None) or (0, None)
        had = ("accepted nothing, so it must report (accepted_n=0, accepted_v=None)"
               if want[0] == 0 else f"had accepted {want}, its highest-numbered proposal")
        raise Failed(f"phase 1.2: the Ack for Proposal(n={n}) reported (accepted_n, "
                     f"accepted_v) = {got}, but the acceptor {had}; an Ack must report the "
                     "highest-numbered proposal accepted")
    _persisted_first(eff, i, f"the Ack for Proposal(n={n})", "promise")


def _persisted_first(eff, i: int, what: str, state: str) -> None:
    if not any(isinstance(e, Persist) for e in eff[:i]):
        raise Failed(f"persistence: {what} left without a Persist before it; the {state} must "
                     "reach stable storage before the reply that depends on it (return "
                     "Persist(self.durable()) before the Send)")


def _nack(a, method: str, src: int, msg, promised: int) -> None:
    eff = _effects(a, method, src, msg)
    phase, rule = ("1.2", "promise") if method == "receive_proposal" else ("2.2", "accept")
    if _sends(eff, kind=(Ack, Accepted)):
        raise Failed(f"phase {phase}: after promising {promised}, {msg} got {_said(eff)}; an "
                     f"acceptor must not {rule} a number below its promise (it sends a Nack)")
    nacks = _sends(eff, src, Nack)
    if not nacks:
        raise Failed(f"phase {phase}: after promising {promised}, {msg} got {_said(eff)}; the "
                     f"refusal is Nack(n={msg.n}, promised={promised}) to {src}, so the proposer "
                     "can retry above it")
    if nacks[0][1].msg.promised != promised:
        raise Failed(f"phase {phase}: the Nack for {msg} says promised="
                     f"{nacks[0][1].msg.promised}; it must carry the promise, {promised}")


def _accepted(a, src: int, n: int, v, learners: tuple[int, ...], context: str) -> None:
    msg = Accept(n, v)
    eff = _effects(a, "receive_accept", src, msg)
    notes = _sends(eff, kind=Accepted)
    if not notes or _sends(eff, kind=Nack):
        raise Failed(f"phase 2.2: {context} answered {msg} with {_said(eff)}; an acceptor "
                     "accepts unless it promised a larger number")
    to = sorted(e.dst for _, e in notes if e.msg == Accepted(n, v))
    if to != sorted({*learners, src}):
        raise Failed(f"phase 2.2: Accepted({n}, {v}) went to {to}; it goes to every learner "
                     f"{list(learners)} and to the proposer {src}")
    _persisted_first(eff, notes[0][0], f"Accepted({n}, {v})", "accepted proposal")


def _restarted(cls, a):
    data = a.durable()
    try:
        data = json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise Failed(f"durable() returned {data!r}, which stable storage (JSON) cannot hold: "
                     f"{exc}") from None
    b = cls(a.uid, a.learners)
    b.restore(data)
    return b


def check_acceptor(cls) -> str:
    """Play the acceptor script; raise Failed naming the first rule broken."""
    learners = (5,)
    a = cls(2, learners)
    _ack(a, 0, 7, 210, (0, None), "a fresh acceptor")
    _ack(_restarted(cls, a), 0, 7, 210, (0, None), "a restarted acceptor")
    _ack(a, 0, 7, 210, (0, None), "an acceptor that promised 7 (the same Proposal again)")
    try:
        _nack(_restarted(cls, a), "receive_proposal", 1, Proposal(6, 220), 7)
    except Failed as exc:
        raise Failed("durable()/restore(): an acceptor restarted from its storage after "
                     f"promising 7 forgot it ({exc.reason}); durable() must hold the promise "
                     "and restore() bring it back") from None
    _nack(a, "receive_proposal", 1, Proposal(6, 220), 7)
    _nack(a, "receive_accept", 1, Accept(6, 220), 7)
    _accepted(a, 0, 7, 210, learners, "an acceptor that promised 7")
    try:
        _ack(_restarted(cls, a), 1, 12, 220, (7, 210), "a restarted acceptor")
    except Failed as exc:
        raise Failed("durable()/restore(): an acceptor restarted after accepting (7, 210) "
                     f"lost it ({exc.reason}); durable() must hold the accepted proposal "
                     "too") from None
    _ack(a, 1, 12, 220, (7, 210), "an acceptor that accepted (7, 210)")
    _accepted(a, 1, 12, 220, learners, "an acceptor that promised 12")
    _ack(a, 0, 17, 210, (12, 220), "an acceptor that accepted (7, 210), then (12, 220)")
    _accepted(a, 1, 22, 230, learners, "an acceptor that promised 17 (Accept(22) is larger)")
    _nack(a, "receive_proposal", 0, Proposal(19, 210), 22)
    return ("acceptor: promises, Nacks below the promise (1.2 and 2.2), reports the highest "
            "accepted, persists before replying, survives a restart")


# -- learner ---------------------------------------------------------------------------------
def _decides(eff) -> list:
    return [e for e in eff if isinstance(e, Decide)]


def check_learner(cls) -> str:
    """Play the learner script; raise Failed naming the first rule broken."""
    clients = [6, 7]

    def fresh(acceptors=(2, 3, 4)):
        return cls(5, tuple(acceptors), list(clients))

    def feed(lrn, votes):
        out = []
        for src, n, v in votes:
            out += _effects(lrn, "receive_accepted", src, Accepted(n, v))
        return out

    if _decides(feed(fresh(), [(2, 7, 210), (2, 7, 210)])):
        raise Failed("phase 3: decided on Accepted(7, 210) from acceptor 2 twice and no other; "
                     "a duplicate never counts twice: a majority is 2 of 3 distinct acceptors")
    if _decides(feed(fresh(), [(2, 7, 210), (3, 12, 220)])):
        raise Failed("phase 3: decided on Accepted(7, 210) from acceptor 2 and Accepted(12, 220) "
                     "from 3; only votes for one (n, v) count together")
    if _decides(feed(fresh(), [(2, 7, 210), (3, 12, 210)])):
        raise Failed("phase 3: decided on Accepted(7, 210) and Accepted(12, 210) from two "
                     "acceptors; a majority must accept the same (n, v), not just the same v")
    if _decides(feed(fresh((2, 3, 4, 8, 9)), [(2, 7, 210), (3, 7, 210)])):
        raise Failed("phase 3: with 5 acceptors, decided on Accepted(7, 210) from 2 of them; a "
                     "majority of 5 is 3 (use len(self.acceptors), not a fixed number)")
    eff = feed(fresh(), [(2, 7, 210), (3, 7, 210)])
    told = sorted(e.dst for _, e in _sends(eff, kind=Decided) if e.msg == Decided(210, 7))
    if [(d.v, d.n) for d in _decides(eff)] != [(210, 7)] or told != clients:
        raise Failed(f"phase 3: Accepted(7, 210) from acceptors 2 and 3, a majority of 3, gave "
                     f"{eff}; the learner must return Decide(210, 7) once and send "
                     f"Decided(210, 7) to every client {clients}")
    return "learner: a majority of distinct acceptors for one (n, v), then tells every client"


# -- election --------------------------------------------------------------------------------
def _token(e, j: int) -> tuple[str, list]:
    out = e.receive_token(Token(j))
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], list)):
        raise Failed(f"Election.receive_token(Token({j})) returned {out!r}; it returns "
                     "(action, effects), e.g. ('forward', [Send(self.successor, token)])")
    return out


def check_election(cls) -> str:
    """Play the Chang-Roberts script on node 3 (successor 4); raise Failed on a broken rule."""
    e = cls(3, 4)
    action, eff = _token(e, 1)
    if eff or action == "win" or e.leader == 3:
        raise Failed(f"Chang-Roberts: red node 3 answered Token(1) with {action!r} and "
                     f"{_said(eff)}; a red node swallows a smaller uid (it cannot win)")
    if e.color != RED:
        raise Failed("Chang-Roberts: node 3 turned black on Token(1); only a larger uid makes "
                     "a red node stop competing")
    action, eff = _token(e, 5)
    if action == "win" or e.leader in (3, 5):
        raise Failed("Chang-Roberts: node 3 took Token(5) as a win; a node is elected only "
                     "when its own token comes round while it is still red")
    if [(x.dst, x.msg) for _, x in _sends(eff)] != [(4, Token(5))]:
        raise Failed(f"Chang-Roberts: red node 3 answered Token(5) with {_said(eff)}; a larger "
                     "uid is forwarded to the successor, Send(4, Token(5))")
    if e.color != BLACK:
        raise Failed("Chang-Roberts: node 3 forwarded Token(5) but stayed red; a node that "
                     "sees a larger uid turns black and stops competing")
    if e.largest != 5:
        raise Failed(f"Chang-Roberts: after Token(5), largest is {e.largest}; keep the line "
                     "that updates it (a node without roles asks the largest uid it saw)")
    for j in (1, 3):
        action, eff = _token(e, j)
        if [(x.dst, x.msg) for _, x in _sends(eff)] != [(4, Token(j))]:
            raise Failed(f"Chang-Roberts: black node 3 answered Token({j}) with {_said(eff)}; "
                         "a black node relays every token to its successor")
    e = cls(3, 4)
    action, eff = _token(e, 3)
    if action != "win" or e.leader != 3 or eff:
        raise Failed(f"Chang-Roberts: red node 3 answered its own Token(3) with {action!r}, "
                     f"{_said(eff)}; its token went round the whole ring: it is the leader "
                     "(action 'win', self.leader = self.uid, nothing to send)")
    action, eff = _token(e, 3)
    if action == "win":
        raise Failed("Chang-Roberts: the leader won again on a duplicate of its own token; "
                     "a leader that already won ignores it (action 'ignore')")
    return "election: red drops smaller, forwards larger and turns black, wins on its own once"
