"""A run's recorded history: marks after every step, a cursor over them, going back and forking.

Every change the dashboard makes goes through one of the run's own calls
(``start``, ``deliver``, ``drop``, ``duplicate``, ``delay``, ``step``, ``crash``,
``restart``, ``partition``, ``heal``) and ends one *step* of the history: a
``Mark`` remembering how many of the run's ``actions`` and trace events there
were at that moment. The cursor moves over the marks (time travel):

- a Simulation going back is rebuilt with ``Simulation.replay(config,
  actions[:k], seed)`` (going forward again re-applies the recorded actions to
  that rebuilt run), so the past has real pending items and state;
- a Cluster's past is only its recorded trace, shown at the cursor; its
  processes are not touched;
- while the cursor is in the past the run is read-only: ``forward`` walks the
  recorded future again, ``fork`` throws it away and carries on from the
  cursor in a new Simulation (a Cluster forks into the simulator: its actions
  are replayed there, as docs/architecture.md promises they can be).

A scenario's script (``scenarios.py``) is walked by ``Session.step()``; each mark
remembers how far the script had got, so a fork resumes the script from there.
Acting and free-running are in ``session.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..cluster import Cluster
from ..core.config import Config, blocked_reason
from ..driver import Driver
from ..labels import message_label
from ..sim import Simulation
from ..viz.labels import trace_names
from ..viz.state import Replay, World
from .scenarios import ScriptStep

SIMULATED, REAL = "simulated", "real UDP processes"
BACKENDS = (SIMULATED, REAL)


def make_driver(backend: str, config: Config, seed: int = 0,
                cluster_options: dict | None = None) -> Driver:
    """The run a backend's name stands for: a Simulation, or a step-mode Cluster.

    The one place the widgets name a driver class; everything else asks the ``Driver``
    surface (``realtime``, ``closed``, ``mode``), never which class it holds.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}: must be one of {', '.join(map(repr, BACKENDS))}")
    if backend == REAL:
        return Cluster(config, mode="step", seed=seed, **(cluster_options or {}))
    return Simulation(config, seed=seed)


@dataclass(frozen=True)
class Mark:
    """The history after one step: the run's action and event counts, the script position.

    ``replayable`` is False for a step a free-running Cluster took by itself, and for
    every step after one: replaying the run's actions cannot reach it.
    """

    actions: int
    events: int
    script: int
    label: str
    replayable: bool = True


def _n(uid, names) -> str:
    return (names or {}).get(uid, str(uid))


def pending_label(item, names: dict[int, str] | None = None) -> str:
    """A pending message or timer as one line: ``#12 P0→A2 [1.1] proposal(6, 210)``.

    ``names`` (``labels.role_names``) names each uid by its role; ``#`` is only ever a
    message or timer id (trace positions are written ``event 83``)."""
    if item.kind == "Timer":
        return f"#{item.id} timer {item.msg.name!r} of {_n(item.dst, names)} (due {item.due:g} ms)"
    return (f"#{item.id} {_n(item.src, names)}→{_n(item.dst, names)} [{item.phase}] "
            f"{message_label(item.msg.to_dict())}")


def event_label(ev: dict, names: dict[int, str] | None = None) -> str:
    """An in-flight message read from the trace (a Cluster's past), like ``pending_label``."""
    return (f"#{ev.get('id')} {_n(ev['src'], names)}→{_n(ev['dst'], names)} [{ev['phase']}] "
            f"{message_label(ev['msg'])}")


def cause_label(ev: dict, names: dict[int, str] | None = None) -> str:
    """What started a step, in words: ``#12 P0→A2 [1.1] proposal(6, 210) delivered``, ``... lost``."""
    kind = ev["kind"]
    if kind == "timer":
        return f"timer {(ev.get('msg') or {}).get('name')!r} of {_n(ev['dst'], names)} fired"
    if kind in ("crash", "restart"):
        return f"{_n(ev['src'], names)} {'crashed' if kind == 'crash' else 'restarted'}"
    what = {"deliver": "delivered", "duplicate": "duplicated"}.get(kind)
    if what is None:
        reason = ev.get("reason")
        what = "lost" if reason == "lost" else f"dropped ({reason})" if reason else "dropped"
    return f"{event_label(ev, names)} {what}"


class History:
    """One run (a ``Simulation`` or a ``Cluster``) and its history of steps, with a cursor.

    Build it from a ``config`` (clients included) and a ``backend`` (``"simulated"``
    or ``"real UDP processes"``), or adopt an existing ``run``. ``script`` is a
    scenario's list of ``ScriptStep``.
    """

    def __init__(self, config: Config | None = None, seed: int = 0, backend: str = SIMULATED,
                 script: Sequence[ScriptStep] = (), run: Driver | None = None,
                 cluster_options: dict | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}: must be one of {', '.join(map(repr, BACKENDS))}")
        self.script = list(script)
        self.marks: list[Mark] = []
        self.cursor = -1
        self.events: list[dict] = []        # the newest run's trace, one list while it grows
        self.generation = 0                 # bumped whenever ``events`` is a new list
        self.note = ""                      # what the last step did, or why it could not
        self._replay = Replay(self.events)
        self._world: tuple[int, int, World] | None = None
        self._names: tuple[tuple[int, int], dict[int, str]] | None = None
        if run is not None:
            self._adopt(run)
        else:
            self.base_config = config or Config()
            self.seed = seed
            self.impl: dict = {}
            self.latency = 1.0
            self.head: Driver = make_driver(backend, self.base_config, seed, cluster_options)
        self.run = self.head  # the run at the cursor

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return REAL if self.head.realtime else SIMULATED

    @property
    def started(self) -> bool:
        return bool(self.head.started) and bool(self.marks)

    @property
    def closed(self) -> bool:
        return self.head.closed

    def why_read_only(self) -> str | None:
        """Why the run cannot be changed at the cursor, in words; None when it can."""
        if not self.marks:
            return "press Start first"
        if self.closed:
            return "the node processes were stopped: press Reset for a new run"
        if not self.at_head:
            return (f"you are looking at step {self.cursor} of {self.head_index}: press Forward "
                    "or move the history slider to the end, or Fork from here")
        return None

    @property
    def can_fork(self) -> bool:
        """Whether Fork works here: in the past, at a step the simulator can replay."""
        return bool(self.marks) and not self.at_head and self.marks[self.cursor].replayable

    # -- history ------------------------------------------------------------------------------
    @property
    def head_index(self) -> int:
        return len(self.marks) - 1

    @property
    def at_head(self) -> bool:
        return self.cursor == self.head_index

    @property
    def at(self) -> int:
        """The trace index the cursor shows (the last event of its step); -1 before start."""
        return self.marks[self.cursor].events - 1 if self.marks else -1

    @property
    def script_pos(self) -> int:
        return self.marks[self.cursor].script if self.marks else 0

    @property
    def script_left(self) -> int:
        return max(0, len(self.script) - self.script_pos)

    def go_to(self, k: int) -> None:
        """Put the cursor on step ``k`` (0 = just started, ``head_index`` = the newest)."""
        if not self.marks:
            return
        k = max(0, min(k, self.head_index))
        if k == self.cursor:
            return
        if not self.head.realtime:  # its past can be rebuilt exactly
            if k == self.head_index:
                self.run = self.head
            elif self.run is not self.head and k > self.cursor:
                actions = self.head.actions[self.marks[self.cursor].actions:self.marks[k].actions]
                for name, *args in actions:
                    getattr(self.run, name)(*args)
            else:
                self.run = self._replay_sim(self.head.actions[:self.marks[k].actions])
        self.cursor = k
        self.note = self.marks[k].label

    def back(self, n: int = 1) -> None:
        self.go_to(self.cursor - n)

    def forward(self, n: int = 1) -> None:
        self.go_to(self.cursor + n)

    def fork(self) -> bool:
        """Drop the recorded future and carry on from the cursor in a Simulation; False at the head."""
        if not self.marks or self.at_head:
            return False
        if not self.marks[self.cursor].replayable:
            raise RuntimeError(
                f"step {self.cursor} came from the processes running by themselves (Play): "
                "the simulator cannot replay it; fork from "
                + (f"step {self._last_replayable()} or earlier" if self._last_replayable() >= 0
                   else "a step before Play"))
        keep = self.marks[:self.cursor + 1]
        if self.head.realtime:  # into the simulator: its calls replay there
            actions = self.head.actions[:keep[-1].actions]
            self.head.close()
            self.head = self.run = self._replay_sim([])
            self.marks = []
            done = 0
            for mark in keep:
                for name, *args in actions[done:mark.actions]:
                    getattr(self.head, name)(*args)
                done = mark.actions
                self.marks.append(replace(mark, events=len(self.head.trace)))
        else:
            self.head = self.run  # the run rebuilt at the cursor
            self.marks = keep
        self._new_events()
        self.cursor = self.head_index
        self.note = f"forked at step {self.cursor}: a new future starts here"
        return True

    # -- reading ------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.head.config

    @property
    def names(self) -> dict[int, str]:
        """Each uid's name at the cursor (``viz.labels.trace_names``): P0, A2, L5, C6 once
        the roles are handed out, N0, N1, ... and C5, ... during the election."""
        key = (self.generation, self.at)
        if self._names is None or self._names[0] != key:
            self._names = (key, trace_names(self.events[:self.at + 1]))
        return self._names[1]

    def world(self) -> World | None:
        """Everything true at the cursor, read from the trace (``viz.state.World``)."""
        if self.at < 0:
            return None
        key = (self.generation, self.at)
        if self._world is None or self._world[:2] != key:
            self._world = (*key, self._replay.world(self.at))
        return self._world[2]

    def pending(self) -> list[tuple[str, int]]:
        """``(label, id)`` for every pending message and timer at the cursor, oldest first.

        A Cluster's past lists the messages in flight according to its trace (no timers).
        """
        if not self.marks:
            return []
        if not self.run.realtime or self.at_head:
            return [(pending_label(p, self.names), p.id) for p in self.run.pending()]
        w = self.world()
        return [(event_label(ev, self.names), mid) for mid, ev in w.in_flight.items()]

    @property
    def violations(self) -> list:
        """The checker's findings at the cursor (``run.violations`` when the run is there)."""
        if not self.marks:
            return []
        if not self.run.realtime or self.at_head:
            return list(self.run.violations)
        return list(self.world().violations)

    def decided(self) -> dict[int, Any]:
        """``{client uid: value}`` at the cursor."""
        w = self.world()
        if w is None:
            return {}
        return {u: s["decided"] for u, s in w.nodes.items()
                if s.get("kind") == "client" and s.get("decided") is not None}

    def alive(self) -> dict[int, bool]:
        w = self.world()
        uids = range(self.config.n_consensus + len(self.config.clients))
        return {u: (w.alive.get(u, True) if w else True) for u in uids}

    def blocked(self) -> str | None:
        """``blocked_reason`` at the cursor."""
        return blocked_reason(self.config, self.alive()) if self.marks else None

    def partition(self) -> list[tuple[int, ...]] | None:
        """The groups of the last partition in force at the cursor (None when healed)."""
        if not self.marks:
            return None
        groups = None
        for name, *args in self.head.actions[:self.marks[self.cursor].actions]:
            if name == "partition":
                groups = [tuple(g) for g in args]
            elif name == "heal":
                groups = None
        return groups

    def run_code(self) -> tuple[str, int]:
        """A code (``runcode``) that replays the run up to the cursor, and the step it reaches.

        A step that free-running processes took by themselves cannot be replayed, so the
        code stops at the last replayable step at or before the cursor. Role classes given
        as ``impl`` are not part of a code (pass them to ``runcode.replay``).
        """
        from .. import runcode

        k = self.cursor
        while k >= 0 and not self.marks[k].replayable:
            k -= 1
        if k < 0:
            raise RuntimeError("press Start first: there is no run to share yet")
        return runcode.encode(self.config, self.seed, self.head.actions[:self.marks[k].actions]), k

    # -- internals ----------------------------------------------------------------------------
    def _require_live(self) -> None:
        if not self.marks:
            raise RuntimeError("press Start first")
        if not self.at_head:
            raise RuntimeError(f"you are looking at step {self.cursor} of {self.head_index}: "
                               "press Forward, or Fork from here to change the past")

    def _describe(self, method: str, args: tuple) -> str:
        if method in ("deliver", "drop", "duplicate", "delay") and args:
            item = next((p for p in self.head.pending() if p.id == args[0]), None)
            if item is not None:
                extra = f" by {args[1]:g} ms" if method == "delay" and len(args) > 1 and \
                    args[1] is not None else ""
                return f"{method}{extra}: {pending_label(item, self.names)}"
        if method == "restart" and len(args) > 1 and args[1]:
            return f"restart node {args[0]} with amnesia (its stable storage lost)"
        if method in ("crash", "restart"):
            return f"{method} node {args[0]}"
        if method == "partition":
            return "partition " + " | ".join("{" + ", ".join(map(str, sorted(g))) + "}"
                                             for g in args)
        return method

    def _record(self, label: str, script: int | None = None, force: bool = False) -> None:
        """End a step: copy the new trace events, add a mark (unless nothing happened)."""
        if not self.at_head:
            raise RuntimeError("internal: recording a step in the past")
        self.events.extend(self.head.trace[len(self.events):])
        n = len(self.head.actions)
        pos = self.script_pos if script is None else script
        if self.marks and not force and n == self.marks[-1].actions:
            self.note = f"{label} (nothing changed)"
            return
        replayable = self.marks[-1].replayable if self.marks else True
        self.marks.append(Mark(n, len(self.events), pos, label, replayable))
        self.cursor = self.head_index
        self.note = label

    def _new_events(self) -> None:
        self.events = list(self.head.trace)
        self.generation += 1
        self._replay = Replay(self.events)
        self._world = None

    def _replay_sim(self, actions: Sequence[tuple]) -> Simulation:
        if self.latency == 1.0:
            return Simulation.replay(self.base_config, actions, self.seed, impl=self.impl or None)
        sim = Simulation(self.base_config, seed=self.seed, impl=self.impl, latency=self.latency)
        for name, *args in actions:
            getattr(sim, name)(*args)
        return sim

    def _adopt(self, run: Driver) -> None:
        """Take over a run built elsewhere; a started Simulation's past becomes the history."""
        proposed = sum(1 for a in run.actions if a[0] == "propose")
        config = run.config
        self.base_config = replace(config, clients=config.clients[:len(config.clients) - proposed])
        self.seed = run.seed
        self.impl = dict(getattr(run, "impl", {}) or {})
        self.latency = getattr(run, "latency", 1.0)
        self.head = run
        if run.mode != "step":
            run.pause()
        if not run.started:
            return
        self._new_events()
        if run.realtime:  # its past is only the trace it recorded
            self.marks = [Mark(len(run.actions), len(self.events), 0, "the cluster as it was")]
        else:
            self.marks = _marks_of(run, self._replay_sim)
        self.cursor = self.head_index
        self.note = self.marks[-1].label


def _marks_of(sim: Simulation, replay: Callable[[Sequence[tuple]], Simulation]) -> list[Mark]:
    """A mark after every recorded call of ``sim`` since ``start`` (replayed to count events)."""
    copy = replay([])
    marks: list[Mark] = []
    for i, (name, *args) in enumerate(sim.actions):
        getattr(copy, name)(*args)
        if copy.started and name != "_advance_to":
            label = name if not args else f"{name} {' '.join(map(str, args))}"
            marks.append(Mark(i + 1, len(copy.trace), 0, label))
    if copy.trace != sim.trace:  # a run that cannot be replayed keeps one mark: now
        return [Mark(len(sim.actions), len(sim.trace), 0, "the run as it was")]
    return marks
