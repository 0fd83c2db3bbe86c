"""Cluster: real node processes on 127.0.0.1 talking signed UDP, with Simulation's controls.

::

    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.propose(210)
        c.start()                                  # spawn, wait for addresses, elect
        result = c.run(until="decided", timeout=5)
        result.status, c.decided(), c.violations

One OS process per consensus node and per client; every datagram goes through the
controller's switch (``paxos_edu.net.switch``), which records the trace.

- ``mode="run"``: messages flow at once (seeded loss/duplication/delay with
  ``set_faults``; ``partition``), nodes run their own timers; ``run()`` waits.
- ``mode="step"``: every message and timer waits as a pending item until you
  ``deliver``/``drop``/``duplicate``/``delay`` it or ``step()``. Each call returns
  once the receiving node has finished, so pending ids are handed out in the same
  order as in a Simulation: the same calls on both give the same ids and the same
  trace (apart from times), and ``Cluster.replay`` repeats another run's actions.
  ``pause()``/``resume()`` switch between the modes.

The control surface is ``driver.Driver``'s, shared with ``Simulation``; ``pids()``,
``addresses()``, ``stats()``, ``log(uid)`` and ``switch_address`` are this driver's own.

The processes are stopped, by pid, on ``close()`` (or leaving the ``with`` block), at
interpreter exit and when the Cluster is garbage-collected; they also exit by
themselves within a second or two if this process dies.
"""

from __future__ import annotations

import os
import random
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import driver
from .core.config import Config, blocked_reason
from .core.invariants import Violation
from .core.messages import Value
from .driver import RunResult, Until
from .ledger import Pending, fault_setting
from .net import storage
from .net.nodes import Nodes
from .net.resources import bind_address, cluster_key, make_workdir, shutdown
from .net.spec import HOP_MS, check_slow, config_to_dict, impl_to_spec, slowed
from .net.switch import MODES, Switch

__all__ = ["Cluster", "RunResult"]

LATENCY = 1.0
"""Virtual ms a step-mode delivery takes (a Simulation's default ``latency``)."""


class Cluster(driver.DriverBase):
    """A configuration run by real node processes; the same control surface as Simulation.

    ``key`` is the cluster key (bytes, or a passphrase string); a random one if None.
    ``hosts`` (a parsed hosts.txt: ``hosts.address(uid) -> (host, port)``) gives nodes
    their addresses; only 127.x.x.x and localhost for now, port 0 meaning any free port.
    ``impl`` replaces role classes, which must be importable by name. ``seed`` seeds the
    nodes' random generators (as in a Simulation) and the switch's faults. ``workdir``
    holds the nodes' storage files and logs: a fresh temporary directory (on /dev/shm
    when there is one, so an fsync costs microseconds) removed on ``close()``, or a
    directory you name, which is kept. ``reply_timeout`` bounds every wait for a node.
    ``slow`` (1 to ``MAX_SLOW``) is slow motion for watching a free run as it happens: in run
    mode every hop takes about ``slow`` times as long and the nodes' timeouts are ``slow``
    times longer to match (``slowed``), so the run does what it does at full speed, slower.
    """

    def __init__(self, config: Config | None = None, mode: str = "run",
                 key: bytes | str | None = None, hosts: Any = None,
                 impl: Mapping[str, type] | None = None, *, seed: int = 0,
                 workdir: str | os.PathLike | None = None, reply_timeout: float = 10.0,
                 slow: float = 1.0):
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}: must be 'run' or 'step'")
        self.slow = check_slow(slow)
        self.config = config or Config()
        self.hosts = hosts
        for uid in range(self.config.n_consensus + len(self.config.clients)):
            bind_address(hosts, uid)  # a host on another machine fails here, before any process
        self.key = cluster_key(key)
        self.seed = seed
        self.rng = random.Random(seed)  # order="random" steps; the switch seeds the faults
        self.impl_spec = impl_to_spec(dict(impl or {}))
        self.reply_timeout = reply_timeout
        self.actions: list[tuple] = []
        self.started = False
        self.workdir, keep = make_workdir(workdir)
        self._switch = Switch(self.key, mode, seed)
        self._nodes = Nodes(self._switch, self.workdir, self.key, self.impl_spec, reply_timeout,
                            remove_workdir=not keep)
        self._live = self._nodes.live  # uid -> process, for the processes running now
        self._finalizer = weakref.finalize(self, shutdown, self._switch, self._nodes.procs,
                                           self.workdir, not keep)

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every node process (by pid) and the switch; remove the temporary workdir."""
        self._finalizer()
        self._live.clear()

    realtime = True
    """The nodes are processes with clocks of their own; the past is the trace (``driver.py``)."""

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    @property
    def mode(self) -> str:
        return self._switch.mode

    def __repr__(self) -> str:
        c = self.config
        state = "closed" if self.closed else f"{len(self._live)} processes"
        return (f"<Cluster {c.proposers}/{c.acceptors}/{c.learners} with {len(c.clients)} "
                f"client(s), {self.mode} mode, {state}>")

    # -- setting up ----------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Cluster:
        """Spawn every node, wait for each one's address, then start the election.

        In run mode, also wait (up to ``timeout`` s) until the election is over and every
        node knows its role; in step mode nothing moves until you say so.
        """
        self._check_open()
        if self.started:
            return self
        self.actions.append(("start",))
        self.started = True
        self._switch.start_clock()
        self._bring_up(self._all_uids())
        for uid in (*self.config.ring_order, *self.config.client_uids):
            self._command(uid, "start")
        if self.mode == "run":
            self.wait_for(Cluster.elected, timeout)
        return self

    def propose(self, value: Value, proposer: int = 0) -> int:
        """Add a client (a new process) asking proposer index ``proposer`` for ``value``."""
        self._check_open()
        self.config = self.config.with_clients((value, proposer))
        self.actions.append(("propose", value, proposer))
        uid = self.config.client_uids[-1]
        if self.started:
            self._bring_up([uid], first=uid)
            config = config_to_dict(self.config)
            for other in list(self._live):
                if other != uid:
                    self._command(other, "add_client", client=uid, config=config)
            self._command(uid, "start")
        return uid

    # -- the network ---------------------------------------------------------------------------
    def pending(self) -> list[Pending]:
        """Messages held at the switch, oldest first, then the nodes' timers, soonest first."""
        return self._switch.pending()

    def in_flight(self) -> bool:
        """Whether any message is held at the switch (delayed or not)."""
        return self._switch.in_flight()

    def deliver(self, mid: int) -> Pending:
        """Deliver message ``mid`` (or fire timer ``mid``); step mode waits till it is handled."""
        self._check_open()
        # A node killed from outside is crashed: what is delivered to it now is dropped,
        # as in a Simulation, rather than waited for.
        self._nodes.notice_deaths([self._switch.get(mid).dst])
        item, ref = self._switch.deliver(mid, LATENCY)
        self.actions.append(("deliver", mid))
        if item.kind == "Timer":
            self._command(item.dst, "fire", name=item.msg.name)
        elif ref is not None and self.mode == "step":
            self._nodes.wait_done(item.dst, "msg", ref)
        return item

    def drop(self, mid: int) -> Pending:
        """Lose message ``mid`` (or cancel timer ``mid``): it never arrives."""
        self._check_open()
        item = self._switch.drop(mid)
        self.actions.append(("drop", mid))
        if item.kind == "Timer" and self.mode == "run":
            self._command(item.dst, "cancel", name=item.msg.name)
        return item

    def duplicate(self, mid: int) -> Pending:
        """Put a second copy of message ``mid`` in flight; returns the copy."""
        copy = self._switch.duplicate(mid)
        self.actions.append(("duplicate", mid))
        return copy

    def delay(self, mid: int, by: float | None = None) -> Pending:
        """Hold message ``mid`` back ``by`` ms (default: one proposer timeout)."""
        item = self._switch.get(mid)
        if item.kind == "Timer" and self.mode == "run":
            raise ValueError(f"#{mid} is a timer its node runs itself; pause() first")
        self.actions.append(("delay", mid, by))
        return self._switch.delay(mid, self.config.timeout if by is None else by)

    def next_item(self, order: str = "oldest") -> Pending | None:
        """What ``step(order)`` would deliver (see ``driver``: the one step policy)."""
        return driver.next_item(self._switch.pending(), self._switch.clock(), order, self.rng)

    def step(self, order: str = "oldest") -> Pending | None:
        """Deliver the oldest ready message (or a random one), else the earliest due item.

        In step mode the clock deadlines count in is virtual, as in a Simulation: it
        jumps to the deadline of an item that is not due yet.
        """
        self._check_open()
        item = self.next_item(order)
        if item is None:
            return None
        if self.mode == "step" and item.due - LATENCY > self._switch.clock():
            self._advance_to(item.due - LATENCY)
        return self.deliver(item.id)

    def _advance_to(self, t: float) -> None:
        # Recorded, as a Simulation records it, so that a replay's deadlines match.
        self.actions.append(("_advance_to", t))
        self._switch.advance_to(t)

    def run(self, until: Until = "decided", timeout: float = 10.0, max_steps: int = 10_000,
            order: str = "oldest") -> RunResult:
        """Go on until ``until`` holds: ``"decided"`` (all clients told), ``"elected"``, None
        (nothing pending: step mode only) or a function of the cluster.

        Step mode steps (``driver.run_steps``, as a Simulation does); run mode waits. Never
        hangs: it ends after ``timeout`` seconds, or earlier once a decision has become
        impossible (a majority of acceptors, every proposer or every learner down), with a
        ``status`` saying so.
        """
        self._check_open()
        driver.check_until(until)
        if self.mode == "step":
            return driver.run_steps(self, until, timeout, max_steps, order)
        if until is None:
            raise ValueError("until=None (nothing pending) needs step mode: pause() first")
        began = time.monotonic()
        if not self.started:
            return RunResult(self.decided(), "not started: call start() first")
        status = driver.wait_status(self, until, timeout, self._wait)
        return RunResult(self.decided(), status, 0, time.monotonic() - began)

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        return self._switch.wait(predicate, timeout, self._nodes.notice_deaths)

    def impossible(self) -> str | None:
        """Why no new value can be chosen, e.g. ``"no quorum: acceptors 2, 3 of 3 are down"``."""
        if not self.started:
            return None
        return blocked_reason(self.config, self.alive(), self.leader() is not None)

    def pause(self) -> None:
        """Stop the flow: from now on messages and timers wait as pending items (step mode)."""
        self._check_open()
        if self.mode == "step":
            return
        self._switch.set_mode("step")
        self._nodes.command_all(list(self._live), "mode", {"mode": "step"})

    def resume(self) -> None:
        """Let everything flow again (run mode): held messages go out, nodes rearm their timers."""
        self._check_open()
        sw = self._switch
        if self.mode == "run":
            return
        for uid in list(self._live):
            timers = [[p.msg.name, max(0.0, p.due - sw.clock())] for p in sw.timers(uid)]
            self._command(uid, "mode", sync=True, mode="run", timers=timers)
        sw.set_mode("run")

    # -- faults --------------------------------------------------------------------------------
    def crash(self, uid: int) -> None:
        """Kill node ``uid``'s process (SIGKILL, by pid); its storage file stays, its timers go."""
        self._check_uid(uid)
        self._check_open()
        if uid in self._live:
            self.actions.append(("crash", uid))
            self._nodes.kill(uid)
            self._nodes.relink()

    def restart(self, uid: int, amnesia: bool = False) -> None:
        """Start node ``uid`` again, a new process resuming from its storage file.

        ``amnesia=True`` keeps the role assignment but loses the Paxos state an acceptor
        promised to remember: the lesson switch that breaks safety. A state file that is
        missing (the node had a role, so it had persisted), empty, torn or wrongly typed
        raises StateError naming the file and the field; the node stays down.
        """
        self._check_uid(uid)
        self._check_open()
        if not self.started:
            raise RuntimeError("restart: start() the cluster first")
        self._nodes.notice_deaths()
        had_role = self.snapshot().get(uid, {}).get("role") is not None  # so it had persisted
        if uid in self._live:
            self.crash(uid)
        self._nodes.relink()  # (if it died by itself) nobody may send to its old address
        # A damaged or missing state file is refused by name, before any process starts.
        storage.load(str(self.workdir / f"node-{uid}.json"), self.config, expected=had_role,
                     amnesia=amnesia)
        self.actions.append(("restart", uid, amnesia))
        self._switch.emit("restart", uid, uid, {"type": "Restart", "amnesia": amnesia})
        self._bring_up([uid], first=uid, resume=True, amnesia=amnesia)
        self._command(uid, "start")

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut the network into ``groups``; nodes named in no group (later clients too) form one more."""
        sets = [set(g) for g in groups]
        self.actions.append(("partition", *(tuple(sorted(g)) for g in sets)))
        self._switch.partition(sets)
        self._nodes.relink()

    def heal(self) -> None:
        """Join all partitions again."""
        self.actions.append(("heal",))
        self._switch.partition(None)
        self._nodes.relink()

    def set_faults(self, loss: float = 0.0, duplicate: float = 0.0,
                   delay: float | tuple[float, float] = 0.0,
                   links: Iterable[tuple[int, int]] | None = None,
                   phases: Iterable[str] | None = None) -> None:
        """Faults for the messages sent from now on, seeded by ``seed`` (the rules of
        ``Simulation.set_faults``), applied by the switch in both modes. While any link
        has a fault, the nodes send through the switch (no peer links)."""
        spec, links, action = fault_setting(loss, duplicate, delay, links, phases)
        self.actions.append(action)
        self._switch.set_faults(spec, links)
        self._nodes.relink()

    # -- reading the state ---------------------------------------------------------------------
    def decided(self) -> dict[int, Value]:
        """What each live client has been told: ``{client uid: value}``."""
        snaps = self._switch.snapshots()
        return {uid: snaps[uid]["decided"] for uid in self.config.client_uids
                if uid in self._live and snaps.get(uid, {}).get("decided") is not None}

    def elected(self) -> bool:
        """True once a leader exists and every live node knows its role (a client: its proposer)."""
        snaps = self._switch.snapshots()
        return (driver.leader_of(snaps.values()) is not None
                and all(driver.knows_role(snaps.get(u, {})) for u in list(self._live)))

    def alive(self) -> dict[int, bool]:
        """Which nodes run: ``{uid: bool}`` (a process that died by itself counts as crashed)."""
        self._nodes.notice_deaths()  # a process that died by itself is recorded as crashed
        return {uid: uid in self._live for uid in self._all_uids()}

    def snapshot(self) -> dict[int, dict]:
        """Every node's last reported state, with ``alive`` (crashed nodes: last known state)."""
        snaps = self._switch.snapshots()
        return {uid: {**snaps.get(uid, {"uid": uid}), "alive": up}
                for uid, up in self.alive().items()}

    def leader(self) -> int | None:
        """The elected leader's uid, once some node has won the election."""
        return driver.leader_of(self._switch.snapshots().values())

    def addresses(self) -> dict[int, tuple[str, int]]:
        """Each live node's real UDP address."""
        return {uid: (host, port) for uid, host, port in self._switch.peer_table(self._live)}

    @property
    def switch_address(self) -> tuple[str, int]:
        return self._switch.address

    def pids(self) -> dict[int, int]:
        """Each live node's process id."""
        return {uid: p.pid for uid, p in self._live.items()}

    def stats(self) -> dict[str, Any]:
        """Datagrams dropped as bad, by reason: ``{"switch", "nodes", "by_reason", "total"}``.

        ``routes`` counts the messages delivered through the switch and over peer links.
        """
        return self._switch.stats()

    @property
    def trace(self) -> list[dict[str, Any]]:
        """A copy of the trace so far (Simulation's event schema; ``t`` is real ms)."""
        return self._switch.trace

    @property
    def violations(self) -> list[Violation]:
        """Safety violations found so far (checked as every event arrives)."""
        return self._switch.violations()

    def wait_for(self, predicate: Callable[[Cluster], bool], timeout: float = 5.0) -> bool:
        """True once ``predicate(cluster)`` holds; False after ``timeout`` s.

        Run mode waits for the processes. Step mode, where nothing moves unless told,
        steps (oldest first) as a Simulation does, and gives up once nothing is pending.
        """
        self._check_open()
        if self.mode == "step":
            return driver.wait_steps(self, predicate, timeout)
        return self._wait(lambda: predicate(self), timeout)

    @classmethod
    def replay(cls, config: Config, actions: Iterable[tuple], seed: int = 0,
               impl: Mapping[str, type] | None = None, **options) -> Cluster:
        """A new step-mode Cluster with ``actions`` (another run's ``actions``, a Simulation's
        too) applied in order: the same script, the same run. ``options`` go to Cluster().

        ``config`` may be the other run's current config (as in ``Simulation.replay``).
        """
        actions = list(actions)
        c = cls(driver.replay_config(config, actions), mode="step", impl=impl, seed=seed,
                **options)
        try:
            driver.apply(c, actions)
        except BaseException:
            c.close()
            raise
        return c

    def log(self, uid: int) -> str:
        """Node ``uid``'s log file (what its process printed)."""
        return self._nodes.log(uid)

    # -- internals -----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this Cluster is closed")

    def _bring_up(self, uids: list[int], first: int | None = None, resume: bool = False,
                  amnesia: bool = False) -> None:
        """Start processes for ``uids``, wait for their addresses, tell everyone (``first``
        first: a new address must be known before anyone sends to it)."""
        for uid in uids:
            rng = f"{self.seed}:{uid}:{len(self.actions)}"  # as a Simulation seeds a node
            self._nodes.spawn(uid, slowed(self.config, self.slow), rng, resume, amnesia,
                              bind_address(self.hosts, uid), hop_ms=HOP_MS * (self.slow - 1))
        self._nodes.wait_hello(uids)
        self._nodes.relink(first)

    def _command(self, uid: int, cmd: str, sync: bool | None = None, **fields) -> None:
        """Send ``cmd`` to a live node; wait for its ``done`` in step mode (or if ``sync``)."""
        self._nodes.command(uid, cmd, self.mode == "step" if sync is None else sync, fields)

