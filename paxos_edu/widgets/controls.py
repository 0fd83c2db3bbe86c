"""Time controls: Step, Play at a chosen speed, Pause, Back/Forward, the history slider, Fork.

The panel holds no state of its own: each widget calls one function given by
the dashboard, and ``show(session)`` sets what they display. ``Play`` is
ipywidgets' timer: every tick the browser raises ``play.value`` by one and the
dashboard takes one step (``on_tick`` returns False to stop it). Whatever stops
it (Pause, the player's own stop button, ``on_tick``, ``stop()``) calls
``on_pause`` once: a free-running Cluster is paused there. Headless tests tick
it by setting ``play.value`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from .util import button, enable

SPEEDS = (1, 20)  # steps per second, slowest and fastest


class TimeControls:
    def __init__(self, on_step: Callable, on_tick: Callable, on_back: Callable,
                 on_forward: Callable, on_go_to: Callable, on_fork: Callable,
                 on_run: Callable, on_pause: Callable = lambda: None):
        self._on_tick, self._on_go_to = on_tick, on_go_to
        self._showing = False
        self.step = button("Step", on_step, "deliver the next pending item (or the script's "
                           "next step)", icon="step-forward")
        self.play = widgets.Play(value=0, min=0, max=10**9, step=1, interval=500,
                                 show_repeat=False, description="play")
        self.speed = widgets.IntSlider(2, *SPEEDS, description="steps/s",
                                       layout=widgets.Layout(width="220px"))
        self.pause = button("Pause", self._pause, "stop free-running", icon="pause")
        self._pause_cb = on_pause
        self.back = button("Back", on_back, "one step back in the recorded history",
                           icon="backward")
        self.forward = button("Forward", on_forward, "one step forward in the recorded history",
                              icon="forward")
        self.history = widgets.IntSlider(0, 0, 0, description="history",
                                         continuous_update=False,
                                         layout=widgets.Layout(width="360px"))
        self.fork = button("Fork from here", on_fork, "forget the recorded future and go on "
                           "from this step in a new Simulation", icon="code-fork")
        self.run_all = button("Run to end", on_run, "step until nothing is left to do",
                              icon="fast-forward")
        self.speed.observe(self._speed, "value")
        self.play.observe(self._tick, "value")
        self.play.observe(self._playing, "playing")
        self.history.observe(self._slide, "value")
        self._speed({"new": self.speed.value})
        self.box = widgets.VBox([
            widgets.HBox([self.step, self.play, self.speed, self.pause, self.run_all]),
            widgets.HBox([self.back, self.forward, self.history, self.fork]),
        ])

    def show(self, session) -> None:
        """Reflect the session: slider range and cursor, which buttons make sense now."""
        self._showing = True
        try:
            started = session is not None and bool(session.marks)
            head = session.head_index if started else 0
            self.history.max = max(head, 0)
            self.history.value = session.cursor if started else 0
            past = started and not session.at_head
            unstarted = None if started else "press Start first"
            enable(self.back, unstarted or ("this is the first step" if session.cursor <= 0
                                            else None))
            enable(self.forward, unstarted or (None if past else "this is the latest step"))
            enable(self.fork, unstarted or self._why_no_fork(session, past))
            for w in (self.step, self.play, self.run_all, self.history):
                enable(w, unstarted)
        finally:
            self._showing = False

    @staticmethod
    def _why_no_fork(session, past: bool) -> str | None:
        if not past:
            return "go back in the history first: Fork starts a new future from a past step"
        if not session.can_fork:
            return ("this step came from the processes running by themselves, which the "
                    "simulator cannot replay: fork from a step before Play")
        return None

    def stop(self) -> None:
        self.play.playing = False

    def _pause(self) -> None:
        if self.play.playing:
            self.stop()  # the observer calls on_pause
        else:
            self._pause_cb()

    def _playing(self, change) -> None:
        if change["old"] and not change["new"]:
            self._pause_cb()

    def _speed(self, change) -> None:
        self.play.interval = int(1000 / change["new"])

    def _tick(self, change) -> None:
        if self._showing or change["new"] <= change["old"]:
            return  # the player's stop button rewinds the value: not a tick
        if not self._on_tick():
            self.stop()

    def _slide(self, change) -> None:
        if not self._showing:
            self._on_go_to(change["new"])
