"""Random fault schedules for the simulator, shared by the property tests.

A schedule is a list of ``(op, x)`` pairs; ``x`` is an arbitrary non-negative
integer that picks the pending message, acceptor or partition the op acts on
(modulo what exists at that moment), so any list is a valid schedule and
hypothesis can shrink it freely.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from paxos_edu import Config, Simulation, check_safety

from .helpers import elect_and_assign

OPS = ("step",) * 8 + ("deliver", "deliver", "drop", "duplicate", "delay", "fire", "crash",
                      "restart", "partition", "heal")
"""Operations of a fault schedule; random delivery ("step") is the common case."""


class FaultyRun:
    """Applies a schedule to a Simulation.

    Any proposer or learner may crash; at most a minority of the acceptors is down
    at any time. Crashed nodes restart from their stable storage.
    """

    def __init__(self, cfg: Config, seed: int):
        self.cfg = cfg
        self.sim = Simulation(cfg, seed=seed)
        roles = cfg.roles(leader=cfg.n_consensus - 1)
        self.acceptors = roles.acceptors
        self.crashable = (*roles.proposers, *roles.acceptors, *roles.learners)
        self.max_down = (len(self.acceptors) - 1) // 2
        self.down: set[int] = set()
        self.everyone = list(range(cfg.n_consensus + len(cfg.clients)))

    def setup(self) -> FaultyRun:
        """Election and role assignment over reliable FIFO links (roles are sent only once)."""
        elect_and_assign(self.sim)
        assert self.sim.leader() == self.cfg.n_consensus - 1
        return self

    def begin(self) -> FaultyRun:
        """Only start: the election's tokens are pending, so a schedule's faults reach the
        election and the role setup too (``setup`` runs them over reliable links instead)."""
        self.sim.start()
        return self

    def apply(self, op: str, x: int) -> None:
        sim = self.sim
        messages = [p for p in sim.pending() if p.kind == "Message"]
        if op == "step":
            sim.step(order="random")
        elif op in ("deliver", "drop", "duplicate", "delay") and messages:
            item = messages[x % len(messages)]
            if op == "delay":
                sim.delay(item.id, by=float(x % 120))
            else:
                getattr(sim, op)(item.id)
        elif op == "fire":
            timers = sorted((p for p in sim.pending() if p.kind == "Timer"),
                            key=lambda p: (p.due, p.id))
            if timers and not messages:
                sim.step()  # nothing in flight: the earliest timer fires, the clock jumps
            elif timers:
                sim.deliver(timers[x % len(timers)].id)  # a timer fires early: a slow link
        elif op == "crash":
            uid = self.crashable[x % len(self.crashable)]
            acceptors_down = len(self.down & set(self.acceptors))
            if uid not in self.down and (uid not in self.acceptors
                                         or acceptors_down < self.max_down):
                sim.crash(uid)
                self.down.add(uid)
        elif op == "restart" and self.down:
            uid = sorted(self.down)[x % len(self.down)]
            sim.restart(uid)
            self.down.discard(uid)
        elif op == "partition":
            rng = random.Random(x)
            side = {u for u in self.everyone if rng.random() < 0.5}
            sim.partition(side)
        elif op == "heal":
            sim.heal()

    def apply_all(self, schedule) -> FaultyRun:
        for op, x in schedule:
            self.apply(op, x)
        return self

    def stop_faults(self, max_steps: int = 20_000) -> int:
        """Heal, restart every crashed node, then let the simulator run to quiescence."""
        self.sim.heal()
        for uid in sorted(self.down):
            self.sim.restart(uid)
        self.down.clear()
        return self.sim.run(until=None, max_steps=max_steps, order="random").steps


def random_schedule(rng: random.Random, length: int) -> list[tuple[str, int]]:
    """A schedule of ``length`` ops drawn with ``rng``."""
    return [(rng.choice(OPS), rng.randrange(1 << 16)) for _ in range(length)]


def random_config(rng: random.Random) -> Config:
    """A small configuration: 1-2 proposers, 3 or 5 acceptors, 1-2 learners, 1-3 clients."""
    values = rng.sample([210, 220, 230, "x", "y"], rng.randint(1, 3))
    proposers = rng.randint(1, 2)
    return Config(proposers=proposers, acceptors=rng.choice((3, 3, 5)),
                  learners=rng.randint(1, 2),
                  clients=tuple((v, rng.randrange(3)) for v in values),
                  ring=rng.choice(("ascending", "descending", "random")),
                  ring_seed=rng.randrange(100))


@dataclass(frozen=True)
class HealOutcome:
    """What one seeded schedule from ``Simulation.start()`` left once the faults stopped."""

    seed: int
    config: Config
    length: int
    violations: tuple[str, ...]
    decided: bool
    stuck: str
    """Why not every client decided ("" if all did): where the run stopped."""
    lost: tuple[str, ...]
    """The kinds of message the schedule dropped (``Token``, ``Roles``, ``Proposal``, ...)."""

    @property
    def ok(self) -> bool:
        return self.decided and not self.violations

    @property
    def reproduce(self) -> str:
        return (f"python -c 'import sys; sys.path.insert(0, \"tests\"); "
                f"from core.faults import heal_schedule; print(heal_schedule({self.seed}))'")


def heal_schedule(seed: int, max_length: int = 200, max_steps: int = 20_000,
                  full_check: bool = True) -> HealOutcome:
    """Seeded: a random configuration and schedule applied from ``Simulation.start()``, so
    every fault (loss, duplication, delay, early timers, crashes and restarts, partitions)
    reaches every phase, election tokens and ``Roles`` included; then heal, restart every
    crashed node and run to quiescence (``FaultyRun.stop_faults``).

    ``full_check`` also runs ``check_safety`` over the whole trace and checks that the
    clients agree on a requested value (the live monitor's violations are always kept).
    """
    rng = random.Random(seed)
    cfg = random_config(rng)
    schedule = random_schedule(rng, rng.randint(0, max_length))
    run = FaultyRun(cfg, seed).begin().apply_all(schedule)
    run.stop_faults(max_steps)
    sim = run.sim
    violations = [str(v) for v in sim.violations]
    if full_check:
        violations += [str(v) for v in check_safety(sim.trace) if str(v) not in violations]
        values = set(sim.decided().values())
        if len(values) > 1 or not values <= {v for v, _ in cfg.clients}:
            violations.append(f"clients told {sim.decided()}, requested {cfg.clients}")
    decided = sim.all_decided()
    stuck = ""
    if not decided:
        roleless = sorted(u for u, s in sim.snapshot().items()
                          if s["alive"] and (not s.get("role") or s.get("proposer", 0) < 0))
        if sim.leader() is None:
            stuck = "election stalled: no leader"
        elif roleless:
            stuck = f"setup incomplete: nodes {roleless} have no roles"
        else:
            stuck = f"elected, {len(sim.decided())} of {len(cfg.clients)} clients decided"
    lost = sorted({ev["msg"]["type"] for ev in sim.trace if ev["kind"] == "drop"})
    return HealOutcome(seed, cfg, len(schedule), tuple(violations), decided, stuck,
                       tuple(lost))
