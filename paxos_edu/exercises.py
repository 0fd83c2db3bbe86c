"""Exercises: the student writes three Paxos rules; ``check`` says in words what holds.

The rules, as plain functions a student can write in a notebook cell:

- ``should_promise(promised, n) -> bool``: phase 1.2, does an acceptor that has
  promised ``promised`` answer Proposal(n) with an Ack (True) or a Nack (False)?
- ``should_accept(promised, n) -> bool``: phase 2.2, does it accept Accept(n, v)?
- ``choose_value(acks, my_value)``: phase 2.1, the value a proposer sends in its
  Accept, given the Acks of a majority as ``(accepted_n, accepted_v)`` pairs
  (``(0, None)`` from an acceptor that accepted nothing) and its client's value.

``check(...)`` plugs them into the real roles, explores every schedule of two
proposers and three acceptors with ``numbers`` proposal numbers in all, runs seeded
random runs that lose one message in ten, and returns a ``Report`` whose lines say
what passed or which schedule broke which rule. Passing is evidence within those
limits, not a proof: some wrong rules need three numbers to go wrong
(``numbers=3`` looks that far, in a minute or two). ``reference`` holds the textbook
answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .core.config import Config
from .core.effects import Effect, Send
from .core.messages import Accept, Accepted, Ack, Nack, Proposal, Value
from .core.paxos import Acceptor, Proposer
from .explorer import explore
from .sim import Simulation

CONFIG = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))


def acceptor_class(should_promise: Callable, should_accept: Callable) -> type[Acceptor]:
    """An Acceptor whose phase 1.2 and 2.2 decisions are the student's rules."""

    class StudentAcceptor(Acceptor):
        def receive_proposal(self, src: int, msg: Proposal) -> list[Effect]:
            if not should_promise(self.promised, msg.n):
                return [Send(src, Nack(msg.n, max(self.promised, msg.n), "Proposal"))]
            persist = self._update(promised=max(self.promised, msg.n))
            return [*persist, Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))]

        def receive_accept(self, src: int, msg: Accept) -> list[Effect]:
            if not should_accept(self.promised, msg.n):
                return [Send(src, Nack(msg.n, max(self.promised, msg.n), "Accept"))]
            persist = self._update(promised=max(self.promised, msg.n), accepted_n=msg.n,
                                   accepted_v=msg.v)
            note = Accepted(msg.n, msg.v)
            return [*persist, *(Send(lrn, note) for lrn in self.learners), Send(src, note)]

    return StudentAcceptor


def proposer_class(choose_value: Callable) -> type[Proposer]:
    """A Proposer whose phase 2.1 value choice is the student's rule."""

    class StudentProposer(Proposer):
        def choose_value(self) -> Value:
            return choose_value(list(self.acks.values()), self.value)

    return StudentProposer


@dataclass
class Report:
    """What ``check`` found: ``passed`` and the lines that say why, in words."""

    passed: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the words, not the object
        p.text(str(self))


def check(should_promise: Callable | None = None, should_accept: Callable | None = None,
          choose_value: Callable | None = None, runs: int = 30,
          max_states: int | None = 60_000, numbers: int = 2) -> Report:
    """Run the student's rules (the reference for any left out) through explorer and simulator."""
    rules = {"should_promise": should_promise or reference.should_promise,
             "should_accept": should_accept or reference.should_accept,
             "choose_value": choose_value or reference.choose_value}
    impl = {"acceptor": acceptor_class(rules["should_promise"], rules["should_accept"]),
            "proposer": proposer_class(rules["choose_value"])}
    lines, passed = [], True
    try:
        result = explore(CONFIG, impl=impl, numbers=numbers, max_states=max_states,
                         progress=False)
    except Exception as exc:  # a student's rule may raise: say so, in words
        return Report(False, [f"Your rules raised {type(exc).__name__}: {exc}"])
    if result.ok:
        scope = "every schedule" if result.complete else f"the first {result.states:,} states"
        lines.append(f"Safety: {scope} of 2 proposers and 3 acceptors with {numbers} proposal "
                     f"numbers explored, all safe"
                     + (f" ({result.states:,} states)." if result.complete else "."))
    else:
        passed = False
        lines.append(f"Safety BROKEN: a {len(result.schedule)}-step schedule breaks it:")
        lines += [f"  {i + 1}. {step}" for i, step in enumerate(result.schedule)]
        lines += [f"  -> {v}" for v in result.violations[:2]]
    undecided = 0
    for seed in range(runs):
        sim = Simulation(CONFIG, seed=seed, impl=impl).start()
        rng = random.Random(seed)
        for _ in range(400):
            item = sim.next_item()
            if item is None or sim.all_decided():
                break
            if item.kind == "Message" and item.msg.phase not in ("election", "setup") \
                    and rng.random() < 0.1:
                sim.drop(item.id)  # lose one message in ten
            else:
                sim.step()
        sim.run(max_steps=1500, until="decided")
        if sim.violations and passed:
            passed = False
            lines.append(f"Safety BROKEN in random run {seed}: {sim.violations[0]}")
        if not sim.all_decided():
            undecided += 1
            if undecided == 3:
                break  # enough to say it, no need to wait for every run
    if undecided:
        passed = False
        lines.append(f"Liveness: {undecided} runs with lost messages never decided (in "
                     f"{seed + 1} tried): do your rules refuse something they should allow?")
    else:
        lines.append(f"Liveness: all {runs} runs with lost messages decided.")
    lines.append(f"PASSED: nothing broke these rules within these limits (numbers={numbers}); "
                 "evidence, not a proof." if passed else "Not yet: see above.")
    return Report(passed, lines)


class reference:  # noqa: N801 (a namespace of functions, read as `reference.should_accept`)
    """The textbook rules (Ghosh), to compare with or to fill in what a student skipped."""

    @staticmethod
    def should_promise(promised: int, n: int) -> bool:
        """1.2: promise n unless a larger number was promised (an equal n is a repeat)."""
        return n >= promised

    @staticmethod
    def should_accept(promised: int, n: int) -> bool:
        """2.2: accept unless promised a larger number."""
        return n >= promised

    @staticmethod
    def choose_value(acks: list[tuple[int, Value | None]], my_value: Value) -> Value:
        """2.1: the value of the highest-numbered accepted proposal reported, else my own."""
        best_n, best_v = max(acks, key=lambda nv: nv[0])
        return best_v if best_n > 0 else my_value
