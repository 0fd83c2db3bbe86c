"""Exercises: the student writes three Paxos rules; ``check`` says in words what holds.

The rules, as plain functions a student can write in a notebook cell:

- ``should_promise(promised, n) -> bool``: phase 1.2, does an acceptor that has
  promised ``promised`` answer Proposal(n) with an Ack (True) or a Nack (False)?
- ``should_accept(promised, n) -> bool``: phase 2.2, does it accept Accept(n, v)?
- ``choose_value(acks, my_value)``: phase 2.1, the value a proposer sends in its
  Accept, given the Acks of a majority as ``(accepted_n, accepted_v)`` pairs
  (``(0, None)`` from an acceptor that accepted nothing) and its client's value.

``check(...)`` plugs them into the real roles and tries, in order: scripted
three-number schedules (``SCRIPTS``: a value chosen while another sits accepted at a
lower number, which is where "first", "lowest" or "largest" reported value go
wrong), then every schedule of two proposers and three acceptors with ``numbers``
proposal numbers in all (complete, under a second for 2), then seeded random runs
that lose one message in ten. Its ``Report`` says in words what was covered, and
what broke which rule. PASSED means safe in all of it AND every run decided; an
exploration stopped at ``max_states`` is never a pass. It is evidence within those
limits, not a proof. ``reference`` holds the textbook answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .core.config import Config
from .core.effects import Effect, Send
from .core.messages import Accept, Accepted, Ack, Nack, Proposal, Value
from .core.paxos import Acceptor, Proposer
from .explorer import explore
from .explorer_replay import run_setup
from .sim import Simulation

CONFIG = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))


def acceptor_class(should_promise: Callable, should_accept: Callable) -> type[Acceptor]:
    """An Acceptor whose phase 1.2 and 2.2 decisions are the student's rules.

    Whatever ``should_promise`` answers, the promise never goes down (``max``): an Ack
    for a number below the promise promises nothing new, and the Accept that may follow
    it meets ``should_accept``.
    """
    promise_rule = _yes_or_no(should_promise, "should_promise")
    accept_rule = _yes_or_no(should_accept, "should_accept")

    class StudentAcceptor(Acceptor):
        def receive_proposal(self, src: int, msg: Proposal) -> list[Effect]:
            if not promise_rule(self.promised, msg.n):
                return [Send(src, Nack(msg.n, max(self.promised, msg.n), "Proposal"))]
            persist = self._update(promised=max(self.promised, msg.n))
            return [*persist, Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))]

        def receive_accept(self, src: int, msg: Accept) -> list[Effect]:
            if not accept_rule(self.promised, msg.n):
                return [Send(src, Nack(msg.n, max(self.promised, msg.n), "Accept"))]
            persist = self._update(promised=max(self.promised, msg.n), accepted_n=msg.n,
                                   accepted_v=msg.v)
            note = Accepted(msg.n, msg.v)
            return [*persist, *(Send(lrn, note) for lrn in self.learners), Send(src, note)]

    return StudentAcceptor


def proposer_class(choose_value: Callable) -> type[Proposer]:
    """A Proposer whose phase 2.1 value choice is the student's rule."""
    rule = _a_value(choose_value)

    class StudentProposer(Proposer):
        def choose_value(self) -> Value:
            return rule([(a.accepted_n, a.accepted_v) if a.has_accepted else (0, None)
                         for a in self.acks.values()], self.value)

    return StudentProposer


class RuleError(Exception):
    """A student's rule raised, or answered something that is not an answer."""


def _yes_or_no(rule: Callable, name: str) -> Callable[[int, int], bool]:
    def wrapped(promised: int, n: int) -> bool:
        try:
            answer = rule(promised, n)
        except Exception as exc:
            raise RuleError(f"{name}(promised={promised}, n={n}) raised "
                            f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, bool) and type(answer).__name__ != "bool_":
            raise RuleError(f"{name}(promised={promised}, n={n}) returned {answer!r} "
                            f"({type(answer).__name__}); it must return True or False.")
        return bool(answer)

    return wrapped


def _a_value(rule: Callable) -> Callable:
    def wrapped(acks: list, my_value: Value) -> Value:
        try:
            answer = rule(list(acks), my_value)
        except Exception as exc:
            raise RuleError(f"choose_value(acks={acks}, my_value={my_value!r}) raised "
                            f"{type(exc).__name__}: {exc}") from exc
        if type(answer) not in (int, str):
            raise RuleError(f"choose_value(acks={acks}, my_value={my_value!r}) returned "
                            f"{answer!r} ({type(answer).__name__}); it must return a value "
                            "(an int or a str): a reported one, or my_value.")
        return answer

    return wrapped


@dataclass
class Report:
    """What ``check`` found: ``passed`` and the lines that say why, in words."""

    passed: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the words, not the object
        p.text(str(self))


# -- scripted schedules (DSLabs-style search tests) ---------------------------------------
# Three proposal numbers: P0 gets its value accepted at 6 by acceptor 2 alone; P1 gets
# its own chosen at 7 by acceptors 3 and 4; P0's stale Accept(6) reaches acceptor 3, is
# refused, and P0 retries at 12, where two Acks report (6, P0's value) and (7, the
# chosen value), in either order. Only the highest-numbered report is safe: any other
# choice gets a second value chosen at 12. The same with the clients' values swapped,
# so that "largest value" and "smallest value" rules go wrong too.
_ROUND_ONE = [(6, 0, "Request"), (0, 2, "Proposal"), (0, 3, "Proposal"), (2, 0, "Ack"),
              (3, 0, "Ack"), (0, 2, "Accept"),
              (7, 1, "Request"), (1, 3, "Proposal"), (1, 4, "Proposal"), (3, 1, "Ack"),
              (4, 1, "Ack"), (1, 3, "Accept"), (1, 4, "Accept"),
              (0, 3, "Accept"), (3, 0, "Nack")]


def _retry(acks: tuple[int, int]) -> list[tuple[int, int, str]]:
    return [*((0, a, "Proposal") for a in acks), *((a, 0, "Ack") for a in acks),
            *((0, a, "Accept") for a in acks)]


SCRIPTS = [(values, _ROUND_ONE + _retry(acks))
           for values in ((210, 220), (220, 210))
           for acks in ((2, 3), (3, 2), (2, 4), (4, 2))]
"""(client values, steps): each step delivers the newest pending src->dst message of that kind."""


def run_script(impl: Mapping[str, type], values: tuple[Value, Value],
               steps: list[tuple[int, int, str]]) -> tuple[Simulation, list[str]]:
    """Play one scripted schedule; stops early if a step's message is not there."""
    config = Config(proposers=2, acceptors=3, learners=1,
                    clients=((values[0], 0), (values[1], 1)))
    sim = Simulation(config, impl=impl).start()
    run_setup(sim)
    done = []
    for src, dst, kind in steps:
        match = [p for p in sim.pending() if p.kind == "Message" and p.src == src
                 and p.dst == dst and p.msg.type == kind]
        if not match:
            break  # the rules took another path: this schedule does not apply
        item = max(match, key=lambda p: getattr(p.msg, "n", 0))
        sim.deliver(item.id)
        done.append(f"deliver {src}->{dst} {item.msg}")
        for timer in [p for p in sim.pending() if p.kind == "Timer" and p.msg.name == "retry"]:
            sim.deliver(timer.id)  # a proposer that backed off retries at once
        if sim.violations:
            break
    return sim, done


def _broken(lines: list[str], what: str, steps: list[str], violations) -> None:
    lines.append(f"Safety BROKEN {what}: a {len(steps)}-step schedule breaks it:")
    lines += [f"  {i + 1}. {step}" for i, step in enumerate(steps)]
    lines += [f"  -> {v}" for v in violations[:2]]


def check(should_promise: Callable | None = None, should_accept: Callable | None = None,
          choose_value: Callable | None = None, runs: int = 30,
          max_states: int | None = None, numbers: int = 2, progress: bool | None = None,
          impl: Mapping[str, type] | None = None) -> Report:
    """Run the student's rules (the reference for any left out) through schedules and runs.

    In order, stopping at the first broken one: the scripted three-number schedules
    (``SCRIPTS``, well under a second), every schedule of 2 proposers and 3 acceptors
    with ``numbers`` proposal numbers in all (the explorer, ``reduce=True``, states that
    differ only by a renaming of acceptors counted once; 2 numbers take well under a
    second, 3 some 15 s), and ``runs`` seeded random runs that lose
    one message in ten, which must all decide. ``passed`` is True only if all of it was
    safe, the exploration was complete (not stopped at ``max_states``) and every run
    decided. ``impl`` puts whole role classes in place of the rule-built ones (to test
    the checker itself). A progress bar (tqdm) shows while it works: by default only
    for a search of 3 or more numbers, which takes seconds (2 take well under one);
    ``progress=True`` always, ``progress=False`` never.
    """
    if progress is None:
        progress = numbers > 2
    rules = {"should_promise": should_promise or reference.should_promise,
             "should_accept": should_accept or reference.should_accept,
             "choose_value": choose_value or reference.choose_value}
    impl = {"acceptor": acceptor_class(rules["should_promise"], rules["should_accept"]),
            "proposer": proposer_class(rules["choose_value"]), **(impl or {})}
    bar = _bar(progress, len(SCRIPTS) + 1 + runs)
    try:
        return _check(impl, runs, max_states, numbers, bar)
    except RuleError as exc:
        return Report(False, [f"Your rule failed: {exc}", "Not yet: see above."])
    except Exception as exc:  # a student's rule may break the roles in other ways: say so
        return Report(False, [f"Your rules raised {type(exc).__name__}: {exc}",
                              "Not yet: see above."])
    finally:
        if bar is not None:
            bar.close()


def _check(impl, runs, max_states, numbers, bar) -> Report:
    lines: list[str] = []

    def stage(name: str) -> None:
        if bar is not None:
            bar.set_description(name)

    def tick() -> None:
        if bar is not None:
            bar.update(1)

    stage("scripted schedules")
    for values, steps in SCRIPTS:
        sim, done = run_script(impl, values, steps)
        tick()
        if sim.violations:
            # A breadth-first search of 2 numbers may find a shorter schedule to show.
            shorter = explore(CONFIG, impl=impl, numbers=2, max_states=200_000,
                              progress=False, reduce=True)
            if not shorter.ok and len(shorter.schedule) < len(done):
                _broken(lines, "(the shortest schedule, with 2 proposal numbers)",
                        shorter.schedule, shorter.violations)
            else:
                _broken(lines, f"in a scripted schedule (clients ask for {values[0]} and "
                        f"{values[1]})", done, sim.violations)
            return Report(False, [*lines, "Not yet: see above."])
    lines.append(f"Scripted: {len(SCRIPTS)} three-number schedules where a value is chosen "
                 "while another is accepted at a lower number: all safe.")
    stage(f"every schedule, {numbers} numbers")
    result = explore(CONFIG, impl=impl, numbers=numbers, max_states=max_states,
                     progress=bar is not None and numbers > 2, reduce=True)
    tick()
    scope = (f"2 proposers x 3 acceptors with {numbers} proposal number"
             f"{'s' if numbers != 1 else ''}")
    if not result.ok:
        _broken(lines, f"(searching every schedule of {scope})", result.schedule,
                result.violations)
        return Report(False, [*lines, "Not yet: see above."])
    if result.complete:
        lines.append(f"Safety: every schedule of {scope} explored, complete "
                     f"({result.states:,} states{_renaming(result)}): all safe.")
    else:
        lines.append(f"Safety: stopped at the cap of {result.states:,} states"
                     f"{_renaming(result)} of {scope} "
                     f"(every schedule of up to {result.depth} steps, no more): NOT complete, "
                     "so NOT a pass; raise max_states or lower numbers.")
    undecided = tried = 0
    stage("random lossy runs")
    for seed in range(runs):
        sim = Simulation(CONFIG, seed=seed, impl=impl).start()
        rng = random.Random(seed)
        for _ in range(400):
            item = sim.next_item(order="random")
            if item is None or sim.all_decided():
                break
            if item.kind == "Message" and item.msg.phase not in ("election", "setup") \
                    and rng.random() < 0.1:
                sim.drop(item.id)  # lose one message in ten
            else:
                sim.step(order="random")
        sim.run(until="decided", max_steps=1500, order="random")
        tried += 1
        tick()
        if sim.violations:
            lines.append(f"Safety BROKEN in random run {seed}: {sim.violations[0]}")
            return Report(False, [*lines, "Not yet: see above."])
        if not sim.all_decided():
            undecided += 1
            if undecided == 3:
                break  # enough to say it, no need to wait for every run
    if undecided:
        lines.append(f"Liveness: {undecided} runs with lost messages never decided (in "
                     f"{tried} tried): do your rules refuse something they should allow?")
        return Report(False, [*lines, "Not yet: see above."])
    lines.append(f"Liveness: all {runs} runs with lost messages decided.")
    if not result.complete:
        return Report(False, [*lines, "Not a pass: the exploration was cut short (see above)."])
    lines.append(f"PASSED: safe in the scripted schedules and in every schedule with {numbers} "
                 f"proposal numbers, and every lossy run decided; evidence within these "
                 "limits, not a proof.")
    return Report(True, lines)


def _renaming(result) -> str:
    return " up to acceptor renaming" if result.symmetry else ""


def _bar(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="checking", unit=" step", leave=False)


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
