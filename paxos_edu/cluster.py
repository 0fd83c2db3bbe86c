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
  trace (apart from times). ``pause()``/``resume()`` switch between the modes.

The processes are stopped, by pid, on ``close()`` (or leaving the ``with`` block), at
interpreter exit and when the Cluster is garbage-collected; they also exit by
themselves within a second or two if this process dies.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .core.codec import key_from_passphrase, new_key
from .core.config import Config, blocked_reason
from .core.invariants import Violation
from .core.messages import PHASES, Value
from .net import storage
from .net.nodes import Nodes
from .net.process import ProcessSet
from .net.spec import config_to_dict, impl_to_spec
from .net.switch import LinkFaults, Switch
from .sim import Pending, pending_order

MODES = ("run", "step")


@dataclass(frozen=True)
class RunResult:
    """How ``run()`` ended: ``status`` is ``"decided"`` (or the ``until`` reached), or why not."""

    decided: dict[int, Value] = field(default_factory=dict)
    status: str = ""
    steps: int = 0
    elapsed: float = 0.0
    """Seconds the call took."""

    @property
    def ok(self) -> bool:
        return self.status in ("decided", "elected", "reached")


class Cluster:
    """A configuration run by real node processes; the same control surface as Simulation.

    ``key`` is the cluster key (bytes, or a passphrase string); a random one if None.
    ``hosts`` (a parsed hosts.txt: ``hosts.address(uid) -> (host, port)``) gives nodes
    their addresses; only 127.x.x.x and localhost for now, port 0 meaning any free port.
    ``impl`` replaces role classes, which must be importable by name. ``seed`` seeds the
    nodes' random generators (as in a Simulation) and the switch's faults. ``workdir``
    holds the nodes' storage files and logs: a fresh temporary directory (on /dev/shm
    when there is one, so an fsync costs microseconds) removed on ``close()``, or a
    directory you name, which is kept. ``reply_timeout`` bounds every wait for a node.
    """

    def __init__(self, config: Config | None = None, mode: str = "run",
                 key: bytes | str | None = None, hosts: Any = None,
                 impl: Mapping[str, type] | None = None, *, seed: int = 0,
                 workdir: str | os.PathLike | None = None, reply_timeout: float = 10.0):
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}: must be 'run' or 'step'")
        self.config = config or Config()
        self.hosts = hosts
        for uid in range(self.config.n_consensus + len(self.config.clients)):
            self._bind_address(uid)  # a host on another machine fails here, before any process
        self.key = _cluster_key(key)
        self.seed = seed
        self.impl_spec = impl_to_spec(dict(impl or {}))
        self.reply_timeout = reply_timeout
        self.actions: list[tuple] = []
        self.started = False
        keep = workdir is not None
        self.workdir = Path(workdir) if keep else Path(tempfile.mkdtemp(
            prefix="paxos-edu-", dir=_fast_tmp()))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._switch = Switch(self.key, mode, seed)
        self._nodes = Nodes(self._switch, self.workdir, self.key, self.impl_spec, reply_timeout,
                            remove_workdir=not keep)
        self._live = self._nodes.live  # uid -> process, for the processes running now
        self._links: tuple = ()  # the last peer-link table every live node was told
        self._finalizer = weakref.finalize(self, _shutdown, self._switch, self._nodes.procs,
                                           self.workdir, not keep)

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every node process (by pid) and the switch; remove the temporary workdir."""
        self._finalizer()
        self._live.clear()

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
        self._switch.t0 = time.monotonic()
        uids = self._all_uids()
        for uid in uids:
            self._spawn(uid)
        self._nodes.wait_hello(uids)
        self._relink()
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
            self._spawn(uid)
            self._nodes.wait_hello([uid])
            self._relink(first=uid)
            config = config_to_dict(self.config)
            for other in list(self._live):
                if other != uid:
                    self._command(other, "add_client", client=uid, config=config)
            self._command(uid, "start")
        return uid

    # -- the network ---------------------------------------------------------------------------
    def pending(self) -> list[Pending]:
        """Messages held at the switch, oldest first, then the nodes' timers, soonest first."""
        with self._switch.cond:
            return pending_order(self._switch.pending.values())

    def deliver(self, mid: int) -> Pending:
        """Deliver message ``mid`` (or fire timer ``mid``); step mode waits till it is handled."""
        self._check_open()
        sw = self._switch
        with sw.cond:
            item, env = sw.take(mid)
            self.actions.append(("deliver", mid))
            if item.kind == "Timer":
                sw.emit("timer", item.dst, item.dst, item.msg, id=item.id)
                self._command(item.dst, "fire", name=item.msg.name)
            else:
                ref = sw.transmit(item, env)
                if ref is not None and self.mode == "step":
                    self._nodes.wait_done(item.dst, "msg", ref)
        return item

    def drop(self, mid: int) -> Pending:
        """Lose message ``mid`` (or cancel timer ``mid``): it never arrives."""
        self._check_open()
        sw = self._switch
        with sw.cond:
            item, _ = sw.take(mid)
            self.actions.append(("drop", mid))
            sw.emit("drop", item.src, item.dst, item.msg, id=item.id, reason="dropped")
            if item.kind == "Timer" and self.mode == "run":
                self._command(item.dst, "cancel", name=item.msg.name)
        return item

    def duplicate(self, mid: int) -> Pending:
        """Put a second copy of message ``mid`` in flight; returns the copy."""
        sw = self._switch
        with sw.cond:
            item = sw.get(mid)
            if item.kind == "Timer":
                raise ValueError(f"#{mid} is a timer; only messages can be duplicated")
            self.actions.append(("duplicate", mid))
            copy = replace(item, id=sw.new_id())
            sw.hold(copy, sw.envelopes[mid])
            sw.emit("duplicate", copy.src, copy.dst, copy.msg, id=copy.id, of=mid)
        return copy

    def delay(self, mid: int, by: float | None = None) -> Pending:
        """Hold message ``mid`` back ``by`` ms (default: one proposer timeout)."""
        sw = self._switch
        with sw.cond:
            item = sw.get(mid)
            if item.kind == "Timer" and self.mode == "run":
                raise ValueError(f"#{mid} is a timer its node runs itself; pause() first")
            self.actions.append(("delay", mid, by))
            return sw.delay(mid, self.config.timeout if by is None else by)

    def next_item(self) -> Pending | None:
        """What ``step()`` would deliver: the oldest ready message, else the earliest due item."""
        sw = self._switch
        with sw.cond:
            items = list(sw.pending.values())
            now = sw.now()
            ready = [p for p in items if p.kind == "Message" and p.due <= now]
            if ready:
                return min(ready, key=lambda p: p.id)
            return min(items, key=lambda p: (p.due, p.id)) if items else None

    def step(self) -> Pending | None:
        """Deliver the oldest pending message, else fire the earliest timer; None if none."""
        item = self.next_item()
        return None if item is None else self.deliver(item.id)

    def run(self, until: str | Callable[[Cluster], bool] = "decided", timeout: float = 10.0,
            max_steps: int = 100_000) -> RunResult:
        """Go on until ``until`` holds: ``"decided"`` (all clients told), ``"elected"``, a function.

        Step mode steps; run mode waits. Never hangs: it ends after ``timeout`` seconds,
        or earlier once a decision has become impossible (a majority of acceptors, every
        proposer or every learner down), with a ``status`` saying so.
        """
        self._check_open()
        began = time.monotonic()
        if not self.started:
            return RunResult(self.decided(), "not started: call start() first")
        if self.mode == "step":
            status, steps = self._run_steps(until, began + timeout, max_steps)
        else:
            status, steps = self._run_wait(until, timeout), 0
        return RunResult(self.decided(), status, steps, time.monotonic() - began)

    def _run_steps(self, until, deadline: float, max_steps: int) -> tuple[str, int]:
        steps = 0
        while steps < max_steps:
            if self._reached(until):
                return _reached_name(until), steps
            if time.monotonic() >= deadline:
                return self._timeout_status(), steps
            problem = self.impossible()
            if problem and not any(p.kind == "Message" for p in self.pending()):
                return problem, steps
            if self.step() is None:
                return self.impossible() or "nothing pending", steps
            steps += 1
        return f"max_steps ({max_steps}) reached", steps

    def _run_wait(self, until, timeout: float) -> str:
        grace = max(0.5, 3 * self.config.resend / 1000)
        since: list[float] = []

        def finished() -> bool:
            if self._reached(until):
                return True
            if not self.impossible():
                since.clear()
                return False
            since[:] = since or [time.monotonic()]
            return time.monotonic() - since[0] >= grace  # in-flight Decideds had their chance

        if self._switch.wait(finished, timeout, self._nodes.notice_deaths) and self._reached(until):
            return _reached_name(until)
        return self.impossible() or self._timeout_status()

    def _reached(self, until) -> bool:
        if until == "decided":
            return self.all_decided()
        if until == "elected":
            return self.elected()
        if callable(until):
            return bool(until(self))
        raise ValueError(f"until={until!r}: must be 'decided', 'elected' or a function")

    def _timeout_status(self) -> str:
        clients = self.config.client_uids
        told = len(self.decided())
        hints = "".join(f"; {h}" for h in self._client_hints())
        return f"timeout: {told} of {len(clients)} clients decided{hints}"

    def _client_hints(self) -> list[str]:
        decided, proposers = self.decided(), self.config.roles(0).proposers
        snaps = self._switch.snapshots
        hints = []
        for i, (_, k) in enumerate(self.config.clients):
            uid, p = self.config.n_consensus + i, proposers[k % len(proposers)]
            if uid in decided:
                continue
            if p not in self._live:
                hints.append(f"client {uid}'s proposer {p} is down")
            elif uid in self._live and snaps.get(uid, {}).get("proposer", 0) is None:
                leader = self.config.n_consensus - 1
                hints.append(f"client {uid} has no roles yet: the leader, node {leader}, is down"
                             if leader not in self._live else
                             f"client {uid} has no roles yet (it keeps asking node {leader})")
        return hints

    def impossible(self) -> str | None:
        """Why no new value can be chosen, e.g. ``"no quorum: acceptors 2, 3 of 3 are down"``."""
        if not self.started:
            return None
        return blocked_reason(self.config, {u: u in self._live for u in self._all_uids()},
                              self.leader() is not None)

    def pause(self) -> None:
        """Stop the flow: from now on messages and timers wait as pending items (step mode)."""
        self._check_open()
        if self.mode == "step":
            return
        with self._switch.cond:
            self._switch.mode = "step"
        for uid in list(self._live):
            self._command(uid, "mode", sync=True, mode="step")

    def resume(self) -> None:
        """Let everything flow again (run mode): held messages go out, nodes rearm their timers."""
        self._check_open()
        sw = self._switch
        if self.mode == "run":
            return
        for uid in list(self._live):
            timers = [[p.msg.name, max(0.0, p.due - sw.now())] for p in sw.timers(uid)]
            self._command(uid, "mode", sync=True, mode="run", timers=timers)
        with sw.cond:
            sw.mode = "run"
            for item in [p for p in sw.pending.values() if p.kind == "Message"]:
                if item.due <= sw.now():
                    sw.transmit(*sw.take(item.id))
            sw.wake()

    # -- faults --------------------------------------------------------------------------------
    def crash(self, uid: int) -> None:
        """Kill node ``uid``'s process (SIGKILL, by pid); its storage file stays, its timers go."""
        self._check_uid(uid)
        self._check_open()
        if uid in self._live:
            self.actions.append(("crash", uid))
            self._nodes.kill(uid)
            self._relink()

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
        self._relink()  # (if it died by itself) nobody may send to its old address
        # A damaged or missing state file is refused by name, before any process starts.
        storage.load(str(self.workdir / f"node-{uid}.json"), self.config, expected=had_role,
                     amnesia=amnesia)
        self.actions.append(("restart", uid, amnesia))
        self._switch.emit("restart", uid, uid, {"type": "Restart", "amnesia": amnesia})
        self._spawn(uid, resume=True, amnesia=amnesia)
        self._nodes.wait_hello([uid])
        self._relink(first=uid)
        self._command(uid, "start")

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut the network into ``groups``; nodes named in no group (later clients too) form one more."""
        sets = [set(g) for g in groups]
        self.actions.append(("partition", *(tuple(sorted(g)) for g in sets)))
        with self._switch.cond:
            self._switch.groups = sets
        self._relink()

    def heal(self) -> None:
        """Join all partitions again."""
        self.actions.append(("heal",))
        with self._switch.cond:
            self._switch.groups = None
        self._relink()

    def set_faults(self, loss: float = 0.0, duplicate: float = 0.0,
                   delay: float | tuple[float, float] = 0.0,
                   links: Iterable[tuple[int, int]] | None = None,
                   phases: Iterable[str] | None = None) -> None:
        """Run-mode faults, seeded by ``seed``: loss and duplication probabilities, delay in ms.

        ``delay`` is a fixed number of ms or a ``(low, high)`` range; ``links`` limits the
        faults to those ``(src, dst)`` pairs (default: every link), ``phases`` to the
        messages of those phases, e.g. ``PAXOS_PHASES`` to spare the election (default:
        every message). A call replaces the faults of the links it names; without ``links``,
        of every link (so ``set_faults()`` ends every fault).
        """
        if phases is not None:
            phases = frozenset(phases)
            unknown = sorted(phases - set(PHASES))
            if unknown:
                raise ValueError(f"phases: {', '.join(map(repr, unknown))} is not a phase "
                                 f"(phases: {', '.join(PHASES)})")
        for name, p in (("loss", loss), ("duplicate", duplicate)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name}={p!r}: must be a probability from 0 to 1")
        lo, hi = (delay, delay) if isinstance(delay, (int, float)) else delay
        if not 0 <= lo <= hi:
            raise ValueError(f"delay={delay!r}: must be ms >= 0 or (low, high) with low <= high")
        spec = LinkFaults(loss, duplicate, (float(lo), float(hi)), phases)
        with self._switch.cond:
            if links is None:
                self._switch.faults.clear()
            for link in (None,) if links is None else links:
                self._switch.faults[None if link is None else tuple(link)] = spec
        self._relink()

    # -- reading the state ---------------------------------------------------------------------
    def decided(self) -> dict[int, Value]:
        """What each live client has been told: ``{client uid: value}``."""
        snaps = self._switch.snapshots
        return {uid: snaps[uid]["decided"] for uid in self.config.client_uids
                if uid in self._live and snaps.get(uid, {}).get("decided") is not None}

    def all_decided(self) -> bool:
        """True when every client has heard a decision."""
        clients = self.config.client_uids
        return bool(clients) and len(self.decided()) == len(clients)

    def elected(self) -> bool:
        """True when every live consensus node has its role and every live client its proposer."""
        snaps = self._switch.snapshots
        for uid in self._live:
            snap = snaps.get(uid, {})
            if snap.get("role") is None or snap.get("proposer", 0) is None:
                return False
        return True

    def alive(self) -> dict[int, bool]:
        """Which nodes run: ``{uid: bool}`` (a process that died by itself counts as crashed)."""
        self._nodes.notice_deaths()  # a process that died by itself is recorded as crashed
        return {uid: uid in self._live for uid in self._all_uids()}

    def snapshot(self) -> dict[int, dict]:
        """Every node's last reported state, with ``alive`` (crashed nodes: last known state)."""
        with self._switch.cond:
            snaps = dict(self._switch.snapshots)
        return {uid: {**snaps.get(uid, {"uid": uid}), "alive": up}
                for uid, up in self.alive().items()}

    def leader(self) -> int | None:
        """The elected leader's uid, once some node has won the election."""
        with self._switch.cond:
            leaders = [s["leader"] for s in self._switch.snapshots.values()
                       if s.get("leader") is not None]
        return leaders[0] if leaders else None

    def addresses(self) -> dict[int, tuple[str, int]]:
        """Each live node's real UDP address."""
        with self._switch.cond:
            peers = dict(self._switch.peers)
        return {uid: peers[uid].addr for uid in self._live if peers[uid].addr is not None}

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
        with self._switch.cond:
            return list(self._switch.trace)

    @property
    def violations(self) -> list[Violation]:
        """Safety violations found so far (checked as every event arrives)."""
        return list(self._switch.monitor.violations)

    def wait_for(self, predicate: Callable[[Cluster], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(cluster)`` holds (True) or ``timeout`` s pass (False)."""
        return self._switch.wait(lambda: predicate(self), timeout, self._nodes.notice_deaths)

    def log(self, uid: int) -> str:
        """Node ``uid``'s log file (what its process printed)."""
        return self._nodes.log(uid)

    # -- internals -----------------------------------------------------------------------------
    def _all_uids(self) -> list[int]:
        return list(range(self.config.n_consensus + len(self.config.clients)))

    def _check_uid(self, uid: int) -> None:
        if uid not in self._all_uids():
            raise ValueError(f"uid {uid}: no such node (uids are 0..{len(self._all_uids()) - 1})")

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this Cluster is closed")

    def _spawn(self, uid: int, resume: bool = False, amnesia: bool = False) -> None:
        rng = f"{self.seed}:{uid}:{len(self.actions)}"  # as a Simulation seeds a node
        self._nodes.spawn(uid, self.config, rng, resume, amnesia, self._bind_address(uid))

    def _bind_address(self, uid: int) -> tuple[str, int]:
        """Where node ``uid`` listens: its ``hosts`` line if there is one, else 127.0.0.1 port 0."""
        if self.hosts is None:
            return ("127.0.0.1", 0)
        try:
            host, port = self.hosts.address(uid)
        except ValueError:
            return ("127.0.0.1", 0)  # a client proposed beyond the hosts file's 'cli' lines
        host = "127.0.0.1" if host == "localhost" else host
        if not host.startswith("127."):
            raise NotImplementedError(
                f"hosts: node {uid} is on {host}; nodes on other machines are not supported "
                "yet (every host must be 127.x.x.x or localhost)")
        return (host, port)

    def _relink(self, first: int | None = None) -> None:
        """Tell every live node its peers' addresses and whether to send to them directly.

        Peer links skip the switch on the way (half the hops, so half the latency) and are
        on only while the switch has nothing to do to a message in run mode: no partition,
        no link faults. ``first``, a node with a new address, hears first, so that it
        knows everyone before anyone sends to it. Waits for every node's ``done``.
        """
        sw = self._switch
        with sw.cond:
            peers = [[uid, *sw.peers[uid].addr] for uid in sorted(self._live)
                     if sw.peers[uid].addr is not None]
            links = (sw.direct_ok(), tuple(map(tuple, peers)))
        if links == self._links:
            return
        self._links = links
        fields = {"direct": links[0], "peers": peers}
        if first is not None:
            self._nodes.command_all([first], "links", fields)
        self._nodes.command_all([u for u in self._live if u != first], "links", fields)

    def _command(self, uid: int, cmd: str, sync: bool | None = None, **fields) -> None:
        """Send ``cmd`` to a live node; wait for its ``done`` in step mode (or if ``sync``)."""
        self._nodes.command(uid, cmd, self.mode == "step" if sync is None else sync, fields)


def _reached_name(until) -> str:
    return until if isinstance(until, str) else "reached"


def _cluster_key(key: bytes | str | None) -> bytes:
    if key is None:
        return new_key()
    if isinstance(key, str):
        return key_from_passphrase(key)
    if isinstance(key, (bytes, bytearray)) and len(key) >= 16:
        return bytes(key)
    raise ValueError("key: must be bytes (16 or more) or a passphrase string")


def _fast_tmp() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _shutdown(switch: Switch, procs: ProcessSet, workdir: Path, remove: bool) -> None:
    # A weakref.finalize callback: it must not refer to the Cluster itself.
    procs.stop_all()
    switch.close()
    if remove:
        shutil.rmtree(workdir, ignore_errors=True)
