"""The Driver protocol: the one control surface of ``Simulation`` and ``Cluster``.

A lesson, a test or the dashboard drives either through the same names with the same
meaning, so switching between the simulator and real processes is one line::

    d = Simulation(cfg, seed=3)            # or: Cluster(cfg, mode="step", seed=3)
    d.propose(210); d.start()
    d.run(until="decided", timeout=5)      # RunResult(decided, status, steps, elapsed)

The rules every driver keeps:

- ``pending()`` lists the messages in flight, oldest first, then the timers, soonest
  first; ``in_flight()`` says whether any message is among them (delayed or not).
  ``step(order="oldest")`` delivers the oldest *ready* message (its delay, if any, is
  over), else the item due soonest (a timer or a delayed message); ``order="random"``
  picks among the ready messages with the driver's generator seeded by ``seed``.
  ``order`` is never implied: the default is the same on both.
- ``run(until, timeout, max_steps, order)`` steps (a run-mode Cluster waits instead)
  until ``until`` holds: ``"decided"`` (every client told), ``"elected"`` (see
  ``elected()``), ``None`` (nothing pending; step mode only) or a function of the
  driver. It never hangs: it ends after ``timeout`` seconds of real time, after
  ``max_steps`` steps, or once nothing is pending, or once a decision has become
  impossible and no message is in flight, and its ``RunResult.status`` says which.
- ``wait_for(predicate, timeout)``: True once ``predicate(driver)`` holds, False if it
  does not within ``timeout`` s. In step mode (a Simulation always) it steps, oldest
  first, and gives up at once when nothing is pending; a run-mode Cluster waits for
  its processes.
- ``elected()``: a leader exists and every live node knows its role (a client: its
  proposer).
- ``trace`` is a property returning a new list of the events so far (the dicts are
  shared: do not change them); holding it does not see later events.
- ``set_faults(loss, duplicate, delay, links, phases)``: seeded faults applied to each
  message as it is sent, by both drivers in both modes.
- ``replay(config, actions, seed)`` (a classmethod) gives a new driver with another
  run's ``actions`` applied: the same script, the same run.
- ``pause()``, ``resume()`` and ``close()`` are no-ops on a Simulation (it is always
  in step mode and holds nothing to release, so ``closed`` stays False); both are context
  managers.
- ``realtime`` says whether the nodes run on clocks of their own (a Cluster's processes:
  its past is what its trace recorded) or only when the caller steps them (a Simulation:
  its past can be rebuilt exactly by ``replay``). Code above the drivers (the dashboard)
  asks this, never which class it holds.

Driver-specific extras, not part of ``Driver``: a Cluster's ``pids()``,
``addresses()``, ``stats()``, ``log(uid)``, ``switch_address``, ``closed``; a
Simulation's ``now`` (virtual ms), ``latency`` and ``monitor``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from .core.config import Config
from .core.invariants import Violation
from .core.messages import Value
from .ledger import Pending

ORDERS = ("oldest", "random")
UNTILS = ("decided", "elected")
Until = str | Callable[[Any], bool] | None


@dataclass(frozen=True)
class RunResult:
    """How ``run()`` ended: ``status`` is the ``until`` reached (``"decided"``, ``"elected"``,
    ``"idle"`` for ``until=None``, ``"reached"`` for a function), or why not."""

    decided: dict[int, Value] = field(default_factory=dict)
    status: str = ""
    steps: int = 0
    elapsed: float = 0.0
    """Seconds the call took."""

    @property
    def ok(self) -> bool:
        return self.status in ("decided", "elected", "idle", "reached")


class DriverBase:
    """The code both drivers share, not only the names: the ``with`` block (``close`` on
    leaving it) and the rules that follow from the rest of the surface."""

    config: Config

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def all_decided(self) -> bool:
        """True when every client has heard a decision."""
        return all_decided(self)

    def _all_uids(self) -> list[int]:
        return all_uids(self.config)

    def _check_uid(self, uid: int) -> None:
        check_uid(self.config, uid)


@runtime_checkable
class Driver(Protocol):
    """What ``Simulation`` and ``Cluster`` both offer, with the same meaning (see above)."""

    config: Config
    seed: int
    started: bool
    actions: list[tuple]
    realtime: bool

    @property
    def closed(self) -> bool: ...

    @property
    def mode(self) -> str: ...
    @property
    def trace(self) -> list[dict[str, Any]]: ...
    @property
    def violations(self) -> list[Violation]: ...

    def start(self) -> Driver: ...
    def propose(self, value: Value, proposer: int = 0) -> int: ...
    def pending(self) -> list[Pending]: ...
    def in_flight(self) -> bool: ...
    def deliver(self, mid: int) -> Pending: ...
    def drop(self, mid: int) -> Pending: ...
    def duplicate(self, mid: int) -> Pending: ...
    def delay(self, mid: int, by: float | None = None) -> Pending: ...
    def next_item(self, order: str = "oldest") -> Pending | None: ...
    def step(self, order: str = "oldest") -> Pending | None: ...
    def run(self, until: Until = "decided", timeout: float = 10.0, max_steps: int = 10_000,
            order: str = "oldest") -> RunResult: ...
    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> bool: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...
    def crash(self, uid: int) -> None: ...
    def restart(self, uid: int, amnesia: bool = False) -> None: ...
    def partition(self, *groups: Iterable[int]) -> None: ...
    def heal(self) -> None: ...
    def set_faults(self, loss: float = 0.0, duplicate: float = 0.0,
                   delay: float | tuple[float, float] = 0.0,
                   links: Iterable[tuple[int, int]] | None = None,
                   phases: Iterable[str] | None = None) -> None: ...
    def decided(self) -> dict[int, Value]: ...
    def all_decided(self) -> bool: ...
    def elected(self) -> bool: ...
    def impossible(self) -> str | None: ...
    def alive(self) -> dict[int, bool]: ...
    def snapshot(self) -> dict[int, dict]: ...
    def leader(self) -> int | None: ...


# -- the shared rules ------------------------------------------------------------------------
def check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"order={order!r}: must be 'oldest' or 'random'")


def check_until(until: Until) -> None:
    if until is not None and not callable(until) and until not in UNTILS:
        raise ValueError(f"until={until!r}: must be 'decided', 'elected', None or a function")


def next_item(items: Iterable[Pending], now: float, order: str,
              rng: random.Random) -> Pending | None:
    """The step policy: the oldest ready message (or a random one), else the soonest due item.

    ``items`` lists the messages oldest first (a ledger's order, or ``pending()``'s), so
    that a random choice among them is the same in every driver.
    """
    if order == "oldest":  # one pass, no lists: the simulator's every step comes here
        soonest = None
        for p in items:
            if p.due <= now and p.kind == "Message":
                return p
            if soonest is None or (p.due, p.id) < (soonest.due, soonest.id):
                soonest = p
        return soonest
    check_order(order)
    items = list(items)
    ready = [p for p in items if p.due <= now and p.kind == "Message"]
    if ready:
        return rng.choice(ready)
    return min(items, key=lambda p: (p.due, p.id)) if items else None


def reached(driver: Driver, until: Until) -> bool:
    """Whether ``until`` holds for ``driver`` now."""
    if until == "decided":
        return driver.all_decided()
    if until == "elected":
        return driver.elected()
    if until is None:
        return driver.next_item() is None  # nothing pending (without sorting it all)
    return bool(until(driver))


def reached_name(until: Until) -> str:
    if until is None:
        return "idle"
    return until if isinstance(until, str) else "reached"


def run_steps(driver: Driver, until: Until, timeout: float, max_steps: int,
              order: str) -> RunResult:
    """Step ``driver`` until ``until`` holds, or it cannot go on (the status says why)."""
    check_until(until)
    check_order(order)
    began = time.monotonic()
    if not driver.started:
        return RunResult(driver.decided(), "not started: call start() first")
    status, steps = f"max_steps ({max_steps}) reached", 0
    while steps <= max_steps:
        # until=None is reached when nothing is pending: step() says so below, without a
        # scan of its own on every step.
        if until is not None and reached(driver, until):
            status = reached_name(until)
            break
        problem = None if driver.in_flight() else driver.impossible()
        if problem:
            status = problem
            break
        if steps == max_steps:
            break
        if time.monotonic() - began >= timeout:
            status = timeout_status(driver)
            break
        if driver.step(order) is None:
            status = "idle" if until is None else driver.impossible() or "nothing pending"
            break
        steps += 1
    return RunResult(driver.decided(), status, steps, time.monotonic() - began)


def wait_status(driver: Driver, until: Until, timeout: float,
                wait: Callable[[Callable[[], bool], float], bool]) -> str:
    """A running driver's ``run``: ``wait(predicate, timeout)`` until ``until`` holds; the
    status. It gives up early once a decision has been impossible for a grace period
    (long enough for Decideds in flight to arrive), and then says why."""
    grace = max(0.5, 3 * driver.config.resend / 1000)
    since: list[float] = []

    def finished() -> bool:
        if reached(driver, until):
            return True
        if not driver.impossible():
            since.clear()
            return False
        since[:] = since or [time.monotonic()]
        return time.monotonic() - since[0] >= grace  # in-flight Decideds had their chance

    ended = wait(finished, timeout)
    if ended and reached(driver, until):
        return reached_name(until)
    problem = driver.impossible()
    if ended and problem:
        return problem  # it gave up because of it, before the timeout
    status = timeout_status(driver)
    return f"{status}; {problem}" if problem else status


def timeout_status(driver: Driver) -> str:
    """``"timeout: k of m clients decided"``, with why each undecided client is stuck."""
    told, clients = len(driver.decided()), len(driver.config.client_uids)
    hints = "".join(f"; {h}" for h in client_hints(driver))
    return f"timeout: {told} of {clients} clients decided{hints}"


def client_hints(driver: Driver) -> list[str]:
    """Why each undecided client is stuck, when it is for a reason one can name."""
    decided, alive, snaps = driver.decided(), driver.alive(), driver.snapshot()
    config = driver.config
    proposers = config.roles(0).proposers
    leader = config.n_consensus - 1
    hints = []
    for i, (_, k) in enumerate(config.clients):
        uid, p = config.n_consensus + i, proposers[k % len(proposers)]
        if uid in decided:
            continue
        if not alive.get(p):
            hints.append(f"client {uid}'s proposer {p} is down")
        elif alive.get(uid) and not knows_role(snaps.get(uid, {})):
            hints.append(f"client {uid} has no roles yet: the leader, node {leader}, is down"
                         if not alive.get(leader) else
                         f"client {uid} has no roles yet (it keeps asking node {leader})")
    return hints


def wait_steps(driver: Driver, predicate: Callable[[Any], bool], timeout: float) -> bool:
    """A step-mode ``wait_for``: step (oldest first) until ``predicate`` holds or nothing is
    pending, for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate(driver):
        if time.monotonic() >= deadline or driver.step() is None:
            return bool(predicate(driver))
    return True


def knows_role(snap: dict[str, Any]) -> bool:
    """Whether a node's snapshot shows its role (and, for a client, its proposer)."""
    if snap.get("role") is None:
        return False
    return snap.get("kind") != "client" or snap.get("proposer") is not None


def leader_of(snapshots: Iterable[dict[str, Any]]) -> int | None:
    """The leader some node's snapshot names, if any."""
    for s in snapshots:
        if s.get("leader") is not None:
            return s["leader"]
    return None


def all_decided(driver: Driver) -> bool:
    """Whether every client has heard a decision (and there is a client)."""
    clients = driver.config.client_uids
    return bool(clients) and len(driver.decided()) == len(clients)


def all_uids(config: Config) -> list[int]:
    return list(range(config.n_consensus + len(config.clients)))


def check_uid(config: Config, uid: int) -> None:
    uids = all_uids(config)
    if uid not in uids:
        raise ValueError(f"uid {uid}: no such node (uids are 0..{len(uids) - 1})")


def apply(driver: Driver, actions: Iterable[tuple]) -> None:
    """Call each of ``actions`` (``(name, *args)``, as ``driver.actions`` records) on ``driver``."""
    for name, *args in actions:
        getattr(driver, name)(*args)


def replay_config(config: Config, actions: Sequence[tuple]) -> Config:
    """``config`` without the clients ``actions``' ``propose`` calls added (so they are not
    added twice when the actions are applied again)."""
    proposed = [tuple(a[1:3]) for a in actions if a[0] == "propose"]
    if proposed and list(config.clients[-len(proposed):]) == proposed:
        return replace(config, clients=config.clients[:-len(proposed)])
    return config
