"""Session: the dashboard's controller, a run plus its recorded history. No widgets here.

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

A scenario's script (``scenarios.py``) is walked by ``step()`` before it falls
back to ``run.step()``; each mark remembers how far the script had got, so a
fork resumes the script from there.

Play (``tick()``, once a tick of the player) steps a Simulation, losing a random
Paxos message now and then. On a Cluster it lets the processes run by themselves
(``resume()``: run mode, the nodes' own timers, the switch losing each message
with the chosen probability through ``set_faults``). The election and the role
setup assume reliable links, and the switch cannot tell a token from a Paxos
message, so with a loss rate Play first steps the setup (one step a tick, as in
a Simulation) and lets the processes go once every node has its role.

Real processes decide in milliseconds, far faster than anyone can watch, so the
session records what they did as it comes, one mark per step (a delivery, loss
or timer and its consequences), and each tick moves the cursor on by one mark:
the diagrams show the real run at the chosen speed, catching up from behind.
Play stops by itself once the cluster has been quiet for ``QUIET_SECONDS`` with
nothing left to wait for (every client told, no quorum left, or no timer set)
and the cursor has caught up; stopping it (``pause_run()``) puts the cluster
back in step mode, faults off. Those marks cannot be replayed in the simulator
(the schedule came from real timing), so Fork is refused from them and from
every later mark.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..cluster import Cluster
from ..core.config import Config, blocked_reason
from ..labels import message_label, role_names
from ..sim import Simulation
from ..viz.state import CAUSES, Replay, World
from .scenarios import ScriptStep, apply_step

SIMULATED, REAL = "simulated", "real UDP processes"
LOSSY_PHASES = ("request", "1.1", "1.2", "2.1", "2.2", "3")
"""What free-running's random loss may lose: Paxos tolerates it, while Chang-Roberts and the
role setup assume reliable links (a lost token or Roles message stalls the run for good)."""
BACKENDS = (SIMULATED, REAL)
QUIET_SECONDS = 0.5
"""How long a free-running Cluster must stay quiet before Play stops by itself (seconds)."""
FREE_RUN = "free-run: "


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


class Session:
    """One run (a ``Simulation`` or a ``Cluster``, kept in step mode but while Play free-runs it)
    and its history of steps.

    Build it from a ``config`` (clients included) and a ``backend`` (``"simulated"``
    or ``"real UDP processes"``), or adopt an existing ``run``. ``script`` is a
    scenario's list of ``ScriptStep``.
    """

    def __init__(self, config: Config | None = None, seed: int = 0, backend: str = SIMULATED,
                 script: Sequence[ScriptStep] = (), run: Simulation | Cluster | None = None,
                 cluster_options: dict | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}: must be one of {', '.join(map(repr, BACKENDS))}")
        self.script = list(script)
        self.rng = random.Random(seed)      # which message a lossy free-run loses
        self.marks: list[Mark] = []
        self.cursor = -1
        self.events: list[dict] = []        # the newest run's trace, one list while it grows
        self.generation = 0                 # bumped whenever ``events`` is a new list
        self.note = ""                      # what the last step did, or why it could not
        self._replay = Replay(self.events)
        self._world: tuple[int, int, World] | None = None
        self._loss: float | None = None     # the loss rate the free-running switch applies
        self._quiet_since = 0.0             # when a free-run last brought new events
        if run is not None:
            self._adopt(run)
        else:
            self.base_config = config or Config()
            self.seed = seed
            self.impl: dict = {}
            self.latency = 1.0
            if backend == REAL:
                self.head: Simulation | Cluster = Cluster(self.base_config, mode="step", seed=seed,
                                                          **(cluster_options or {}))
            else:
                self.head = Simulation(self.base_config, seed=seed)
        self.run = self.head  # the run at the cursor

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return REAL if isinstance(self.head, Cluster) else SIMULATED

    @property
    def started(self) -> bool:
        return bool(self.head.started) and bool(self.marks)

    def start(self) -> Session:
        """Start the run (election tokens pending, or node processes spawned): the first mark."""
        if not self.head.started:
            self.head.start()
        if not self.marks:
            self._record("start: every node sends its election token")
        return self

    def close(self) -> None:
        """Stop a Cluster's processes (a Simulation needs nothing)."""
        for run in (self.head, self.run):
            if isinstance(run, Cluster) and not run.closed:
                run.close()

    @property
    def closed(self) -> bool:
        return isinstance(self.head, Cluster) and self.head.closed

    @property
    def free_running(self) -> bool:
        """True while Play lets a Cluster's processes run by themselves (run mode)."""
        return isinstance(self.head, Cluster) and not self.head.closed and self.head.mode == "run"

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
        if isinstance(self.head, Simulation):
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
        if isinstance(self.head, Cluster):
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

    # -- acting -------------------------------------------------------------------------------
    def act(self, method: str, *args, label: str | None = None) -> Any:
        """Call ``run.<method>(*args)`` on the newest run and record the step."""
        self._require_live()
        if self.free_running:
            self._collect()  # what the processes did so far comes first in the history
            self.cursor = self.head_index
        if label is None:
            label = self._describe(method, args)
        result = getattr(self.head, method)(*args)
        self._record(label)
        return result

    def step(self) -> str | None:
        """One Step click: forward in the past, else the script's next step, else ``run.step()``.

        Returns what happened in words, or None when nothing is left to deliver.
        """
        if not self.marks:
            raise RuntimeError("press Start first")
        if not self.at_head:
            self.forward()
            return self.note
        if self.free_running:
            self.pause_run()  # a Step is a step-mode act
            if not self.at_head:
                self.forward()
                return self.note
        off = ""
        if self.script_left:
            step = self.script[self.script_pos]
            try:
                did = apply_step(self.head, step)
            except LookupError as exc:
                off = f"script stopped ({exc}: the run went elsewhere), stepping at random: "
            else:
                self._record(step.note or did, script=self.script_pos + 1)
                return self.note
        end = len(self.script) if off else None
        item = self.head.step()
        if item is None:
            if off:  # remember that the script is over, although nothing moved
                self._record(off + "nothing pending", script=end, force=True)
            self.note = off + "nothing pending: the run is over"
            return None
        self._record(f"{off}step: {pending_label(item, self.names)} delivered", script=end)
        return self.note

    def finished(self) -> bool:
        """True when free-running can achieve nothing: nothing pending, or blocked with only timers."""
        if not self.marks or self.script_left or not self.at_head:
            return False
        pending = self.head.pending()
        if not pending:
            return True
        return (self.blocked() is not None
                and not any(p.kind == "Message" for p in pending))

    def tick(self, loss: float = 0.0) -> bool:
        """One Play tick: a step, or (with probability ``loss``) a random Paxos message lost.

        On a Cluster whose script is done: the processes run by themselves, losing each
        message with probability ``loss``; the tick records what they did and moves the
        cursor one step on (see the module doc). Returns False when there is nothing left
        to do (Play stops).
        """
        if not self.marks or self.closed:
            return False
        if self.free_running:
            new = self._collect(loss)
            if not self.at_head:
                self.forward()
                return True
            if new or not self._free_run_over():
                return True
            self.pause_run()
            if not self.at_head:  # what came in while pausing is still to be shown
                return True
            self.note = self.blocked() or "the processes went quiet: the run is over"
            return False
        if not self.at_head:
            self.forward()
            return True
        if self.finished():
            self.note = self.blocked() or "nothing pending: the run is over"
            return False
        if isinstance(self.head, Cluster) and not self.script_left:
            if loss > 0 and not self.head.elected():
                # The switch would lose tokens and roles too: the setup goes step by step.
                return self.step() is not None
            self._free_run(loss)
            return True
        messages = [p for p in self.head.pending()
                    if p.kind == "Message" and p.phase in LOSSY_PHASES]
        if loss > 0 and not self.script_left and messages and self.rng.random() < loss:
            victim = self.rng.choice(messages)
            self.act("drop", victim.id, label=f"lost at random: {pending_label(victim, self.names)}")
            return True
        return self.step() is not None

    def run_to_end(self, max_steps: int = 5_000) -> int:
        """Step until ``finished()`` (or ``max_steps``); returns the steps taken."""
        if self.free_running:
            self.pause_run()
            self.cursor = self.head_index
        steps = 0
        while steps < max_steps and not self.finished():
            if self.step() is None:
                break
            steps += 1
        return steps

    # -- free-running a Cluster ----------------------------------------------------------------
    def _free_run(self, loss: float) -> None:
        """Let the Cluster's processes run by themselves (run mode), losing messages at ``loss``."""
        self._loss = None
        self._apply_loss(loss)
        self.head.resume()
        self._quiet_since = time.monotonic()
        self.note = (FREE_RUN + "the processes run by themselves; the diagrams follow one "
                     "step a tick")

    def _apply_loss(self, loss: float) -> None:
        # Tokens and Roles assume reliable links: no loss until every node has its role.
        want = float(loss) if self.head.elected() else 0.0
        if want != self._loss:
            self.head.set_faults(loss=want)
            self._loss = want

    def pause_run(self) -> bool:
        """Stop a free-running Cluster: step mode again, no faults, what it did recorded.

        Returns False if the run was not free-running.
        """
        if not self.free_running:
            return False
        self.head.pause()
        self.head.set_faults()
        self._loss = None
        self._collect()
        self.note = ("paused: the processes wait again; Step delivers what is pending"
                     if self.at_head else self.note)
        return True

    def _collect(self, loss: float | None = None) -> int:
        """Record the events a free-running Cluster produced since the last call: a mark per step.

        A step is a cause (``viz.state.CAUSES``: a delivery, loss, timer ...) and the
        events up to the next one; events before the first new cause belong to the last
        step. Returns how many events were new.
        """
        if loss is not None and self.free_running:
            self._apply_loss(loss)
        base = len(self.events)
        new = self.head.trace[base:]
        if not new:
            return 0
        self._quiet_since = time.monotonic()
        self.events.extend(new)
        last = self.marks[-1]
        actions, script, end = len(self.head.actions), last.script, len(self.events)
        causes = [base + k for k, ev in enumerate(new) if ev["kind"] in CAUSES]
        first = causes[0] if causes else end
        if first > base:
            if last.label.startswith(FREE_RUN):  # a step still collecting its consequences
                self.marks[-1] = replace(last, events=first)
            else:
                self.marks.append(Mark(actions, first, script, FREE_RUN + "what the processes "
                                       "did meanwhile", replayable=False))
        for k, c in enumerate(causes):
            stop = causes[k + 1] if k + 1 < len(causes) else end
            cause = cause_label(self.events[c], self.names)
            self.marks.append(Mark(actions, stop, script, FREE_RUN + cause,
                                   replayable=False))
        return len(new)

    def _free_run_over(self) -> bool:
        """Quiet for ``QUIET_SECONDS`` and nothing to wait for: all told, no quorum, no timer."""
        if time.monotonic() - self._quiet_since < QUIET_SECONDS:
            return False
        items = self.head.pending()
        if any(p.kind == "Message" for p in items):
            return False  # a delayed message is still due
        return not items or self.head.all_decided() or self.head.impossible() is not None

    def _last_replayable(self) -> int:
        return max((k for k, m in enumerate(self.marks) if m.replayable), default=-1)

    # -- reading ------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.head.config

    @property
    def names(self) -> dict[int, str]:
        """Each uid's name, P0, A2, L5, C6, by the configuration's roles (fixed before the election)."""
        config = self.config
        return role_names(config.roles(config.n_consensus - 1).to_dict())

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
        if isinstance(self.run, Simulation) or self.at_head:
            return [(pending_label(p, self.names), p.id) for p in self.run.pending()]
        w = self.world()
        return [(event_label(ev, self.names), mid) for mid, ev in w.in_flight.items()]

    @property
    def violations(self) -> list:
        """The checker's findings at the cursor (``run.violations`` when the run is there)."""
        if not self.marks:
            return []
        if isinstance(self.run, Simulation) or self.at_head:
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

    def _adopt(self, run: Simulation | Cluster) -> None:
        """Take over a run built elsewhere; a started Simulation's past becomes the history."""
        proposed = sum(1 for a in run.actions if a[0] == "propose")
        config = run.config
        self.base_config = replace(config, clients=config.clients[:len(config.clients) - proposed])
        self.seed = run.seed
        self.impl = dict(getattr(run, "impl", {}) or {})
        self.latency = getattr(run, "latency", 1.0)
        self.head = run
        if isinstance(run, Cluster) and run.mode != "step":
            run.pause()
        if not run.started:
            return
        self._new_events()
        if isinstance(run, Cluster):
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
