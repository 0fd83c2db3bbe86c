"""Session: the dashboard's controller, a run's history plus acting and free-running. No widgets.

``History`` (``history.py``) keeps the marks and the cursor; this adds what changes
the run: ``act`` (one recorded call), ``step`` (the script's next step, else
``run.step()``), Play's ``tick`` and ``run_to_end``.

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
and the cursor has caught up. Pausing it (``pause_run()``) puts the cluster back
in step mode, faults off, and the cursor on the latest step, where the buttons
work. Those marks cannot be replayed in the simulator (the schedule came from
real timing), so Fork is refused from them and from every later mark.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

from ..viz.state import CAUSES
from .history import BACKENDS, REAL, SIMULATED, History, Mark, cause_label, pending_label
from .scenarios import apply_step

__all__ = ["BACKENDS", "FREE_RUN", "LOSSY_PHASES", "QUIET_SECONDS", "REAL", "SIMULATED",
           "Session"]

LOSSY_PHASES = ("request", "1.1", "1.2", "2.1", "2.2", "3")
"""What free-running's random loss may lose: Paxos tolerates it, while Chang-Roberts and the
role setup assume reliable links (a lost token or Roles message stalls the run for good)."""
QUIET_SECONDS = 0.5
"""How long a free-running Cluster must stay quiet before Play stops by itself (seconds)."""
FREE_RUN = "free-run: "


class Session(History):
    """A ``History`` that acts: Start, Step, the pending list's buttons, crashes, Play.

    Build it from a ``config`` (clients included) and a ``backend`` (``"simulated"``
    or ``"real UDP processes"``), or adopt an existing ``run``. ``script`` is a
    scenario's list of ``ScriptStep``.
    """

    def __init__(self, *args, **kwargs):  # History's arguments
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.seed)  # which message a lossy free-run loses
        self._loss: float | None = None     # the loss rate the free-running switch applies
        self._quiet_since = 0.0             # when a free-run last brought new events

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Session:
        """Start the run (election tokens pending, or node processes spawned): the first mark."""
        if not self.head.started:
            self.head.start()
        if not self.marks:
            self._record("start: every node sends its election token")
        return self

    def close(self) -> None:
        """Close the run (a Cluster's processes stop; a Simulation has nothing to release)."""
        for run in (self.head, self.run):
            if not run.closed:
                run.close()

    @property
    def free_running(self) -> bool:
        """True while Play lets a Cluster's processes run by themselves (run mode)."""
        return not self.head.closed and self.head.mode == "run"

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
            self.pause_run(latest=False)  # a Step is a step-mode act: show what came next
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
            self.pause_run(latest=False)
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
        if self.head.realtime and not self.script_left:
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

    def pause_run(self, latest: bool = True) -> bool:
        """Stop a free-running Cluster: step mode again, no faults, what it did recorded.

        With ``latest`` (Pause) the cursor goes to the newest step, where every button
        works; without it (Play ending by itself, Step) the display goes on catching up one
        step at a time. Returns False if the run was not free-running.
        """
        if not self.free_running:
            return False
        self.head.pause()
        self.head.set_faults()
        self._loss = None
        self._collect()
        if latest:
            self.cursor = self.head_index
        self.note = (f"paused at the latest step ({self.head_index}): the processes wait "
                     "again; Step delivers what is pending" if self.at_head else self.note)
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

