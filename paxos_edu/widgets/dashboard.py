"""Dashboard: configure, step, break and watch Basic Paxos in one ipywidgets application.

::

    from paxos_edu.widgets import Dashboard
    dash = Dashboard(preset="hijack")      # or Dashboard(config=Config(...)), Dashboard(run=sim)
    dash                                   # shows it; then press Start, Step, Play ...

Keep a reference (``dash = ...``): the widgets hold the dashboard only weakly, so
a dashboard nobody refers to any more is garbage-collected, and with it a real
UDP cluster's processes are stopped (``close()`` does the same at once).

Every button is a thin call onto the session (``session.py``), which calls the
run's own API; the methods below are the same calls for scripts and tests
(``dash.step()`` is what the Step button does). The panels are in
``setup.py``, ``controls.py``, ``pending.py`` and ``faults.py``; what is drawn
comes from ``render.py`` (the render choice is explained there).
"""

from __future__ import annotations

import functools
import os
import weakref
from pathlib import Path

import ipywidgets as widgets

from ..driver import Driver
from ..trace import to_jsonl
from ..viz import PaxosView, RingView, TimelineView, save_gif
from ..viz.state import node_uids, roles_of
from ..viz.style import scale_factor
from .controls import TimeControls
from .faults import FaultPanel
from .keys import PresenterKeys
from .layout import RING_WIDTH, SIDE, WIDE, fit_controls
from .pending import PendingPanel
from .presenter import Presenter
from .render import (
    CountsImage,
    DiagramImage,
    PlayGlide,
    counts_html,
    node_table_html,
    safety_html,
    status_html,
)
from .scenarios import SCENARIOS
from .session import SIMULATED, Session
from .setup import SetupPanel
from .share import ShareButtons
from .util import close_tree, node_roles, weak

TABS = ("Paxos", "space-time", "ring", "counts")
TIMELINE_ROOM = 0.5
"""Spare room on the space-time diagram's time axis, as a fraction of the run so far."""
TIMELINE_WIDTH = 9.5
"""Inches: narrower than a lesson's 13, so its text is as large as the other diagrams'."""
def _action(fn):
    """Run a click's work; show what went wrong in the status line instead of raising."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        self.error = None
        try:
            return fn(self, *args, **kwargs)
        except Exception as exc:  # a click must never die silently in the kernel log
            self.error = f"{fn.__name__}: {exc}"
            self.errors.append(exc)
            if self.raise_errors:
                raise
            return None
        finally:
            self.refresh()

    return wrapper


class _Owned:
    """What the dashboard must release when it goes away (no reference back to it)."""

    def __init__(self):
        self.session: Session | None = None
        self.root = None

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if self.root is not None:
            close_tree(self.root)


class Dashboard(Presenter):
    """The classroom dashboard over a Simulation or a real UDP Cluster (see the module doc).

    ``run``: adopt this Simulation or Cluster (a started Simulation's past becomes the
    history). ``config``: the configuration the panel starts with. ``preset``: a key of
    ``SCENARIOS`` (election, happy, duel, crash12, quorum, hijack, amnesia). ``backend``:
    ``"simulated"`` or ``"real UDP processes"``. ``view``: ``"lesson"`` (in a notebook)
    or ``"classroom"`` (the projector page: see ``presenter.py``). ``keys``: where the
    presenter keys (``keys.py``) listen: ``"dashboard"`` (while it has the focus; the
    lesson view's default), ``"page"`` (anywhere; the classroom view's) or None (no keys).
    ``raise_errors``: let a click's exception propagate (for debugging) instead of showing
    it in the status line.
    ``scale``: the diagrams' text and node sizes, ``"laptop"`` (text of 12 px or more on a
    1366-pixel screen), ``"projector"`` (larger), ``"compact"`` (the lessons' sizes) or a
    number (see ``viz.style.SCALES``).
    """

    def __init__(self, run: Driver | None = None, config=None, *,
                 preset: str | None = None, seed: int = 0, backend: str = SIMULATED,
                 cluster_options: dict | None = None, scale: float | str = "laptop",
                 keys: str | None = "default", view: str = "lesson",
                 raise_errors: bool = False):
        self.session: Session | None = None
        self.error: str | None = None
        self.errors: list[Exception] = []
        self.raise_errors = raise_errors
        self.cluster_options = cluster_options
        self.scale = scale_factor(scale)
        self.redraw_seconds = 0.0
        self.glide = PlayGlide()
        self._tick_from: int | None = None   # the cursor a Play tick leaves from
        self._owned = _Owned()
        self._attached: Driver | None = None
        self.setup = SetupPanel(config, seed, backend, on_start=weak(self.start),
                                on_reset=weak(self.reset))
        self.controls = TimeControls(
            on_step=weak(self.step), on_tick=weak(self.tick), on_back=weak(self.back),
            on_forward=weak(self.forward), on_go_to=weak(self.go_to), on_fork=weak(self.fork),
            on_run=weak(self.run_to_end), on_pause=weak(self.pause))
        self.pending = PendingPanel(weak(self._pending_action))
        self.faults = FaultPanel(weak(self.crash), weak(self.restart), weak(self.partition),
                                 weak(self.heal))
        self.status = widgets.HTML()
        self.safety = widgets.HTML()
        self.table = widgets.HTML()
        self.counts = widgets.HTML()
        self.diagrams = [
            # Placed by the roles the configuration will give (known before the election),
            # so the roles becoming known renames nodes in place instead of a rebuild.
            DiagramImage(lambda ev: PaxosView(ev, layout=self._layout(), scale=self.scale,
                                              themed=True),
                         lambda ev: (tuple(sorted(self._layout().items())),
                                     tuple(node_uids(ev)))),
            # The timeline follows the growing list of events itself (new arrows only, roles
            # relabelled in place); a new node needs a taller figure. Its spare room saves
            # rescaling the time axis on every Step.
            DiagramImage(self._timeline_view, lambda ev: tuple(node_uids(ev))),
            DiagramImage(self._ring_view, lambda ev: None),
            CountsImage(),
        ]
        self.diagrams[2].widget.layout.max_width = RING_WIDTH  # a circle needs no more
        self.tabs = widgets.Tab(children=[d.widget for d in self.diagrams], titles=TABS)
        self.tabs.observe(weak(self._tab_changed), "selected_index")
        self.share = ShareButtons(weak(self.shared))
        right = widgets.VBox([
            widgets.HTML("<b>nodes</b>"), self.table,
            widgets.HTML("<b>messages sent per phase</b>"), self.counts,
            self.pending.box,
        ], layout=widgets.Layout(flex=f"1 1 {SIDE}", min_width="0", padding="0 0 0 8px"))
        more = widgets.Accordion(children=[
            self.faults.box,
            self.share,
        ], titles=("faults: crash, restart, partition, loss", "share this run"))
        more.selected_index = 0
        if keys == "default":
            keys = "page" if view == "classroom" else "dashboard"
        self.keys = None if keys is None else PresenterKeys(weak(self.key), scope=keys)
        self.root = widgets.VBox([
            *self._header(view), self.controls.box, self.status, self.safety,
            widgets.Box([widgets.VBox([self.tabs], layout=widgets.Layout(flex=f"3 1 {WIDE}",
                                                                          min_width="0")),
                         right], layout=widgets.Layout(flex_flow="row wrap", width="100%")),
            more,
        ])
        self.root.add_class("paxos-dashboard")  # where the presenter keys listen
        self.root.add_class(f"paxos-{view}")
        fit_controls(self.root)
        self._owned.root = self.root
        weakref.finalize(self, self._owned.close)
        if preset is not None:
            if preset not in SCENARIOS:
                raise ValueError(f"preset={preset!r}: must be one of {', '.join(SCENARIOS)}")
            self.setup.preset.value = preset
        if run is not None:
            self.attach(run)
        self.refresh()

    # -- display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        # The root VBox's own text/plain would spell out every child widget.
        bundle = self.root._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/plain": repr(self)}

    def __repr__(self) -> str:
        s = self.session
        where = "not started" if s is None or not s.marks else \
            f"step {s.cursor} of {s.head_index}"
        backend = self.setup.backend.value if s is None else s.backend
        return f"<Dashboard: {backend}, {where}>"

    def close(self) -> None:
        """Stop playing, close the run (a Cluster's processes) and the widgets."""
        self.controls.stop()
        self.glide.cancel()
        self._owned.close()

    # -- configuring ---------------------------------------------------------------------------
    def attach(self, run: Driver) -> None:
        """Drive ``run`` (built elsewhere) from this dashboard; Start starts it if needed."""
        self._set_session(Session(run=run))
        self._attached = run
        self.setup.show_config(self.session.base_config, self.session.seed)
        self.setup.backend.value = self.session.backend
        self._after_start()

    @_action
    def start(self) -> None:
        """Start: build the run from the panel (or start the attached run)."""
        if self.session is not None and self.session.marks:
            raise RuntimeError("already started: press Reset to configure a new run")
        if self.session is None or self._attached is None:
            if self.session is not None:
                self.session.close()
            self._set_session(Session(self.setup.config(), seed=self.setup.seed.value,
                                      backend=self.setup.backend.value,
                                      script=self.setup.script(),
                                      cluster_options=self.setup.cluster_options(
                                          self.cluster_options)))
        self.session.start()
        scenario = SCENARIOS.get(self.setup.preset.value)
        if scenario is not None:  # the election preset opens on the ring
            self.tabs.selected_index = TABS.index(scenario.tab)
        self._after_start()

    @_action
    def reset(self) -> None:
        """Reset: close the run (stopping a Cluster's processes) and configure again."""
        self.controls.stop()
        if self.session is not None:
            self.session.close()
        self._set_session(None)
        self._attached = None
        for d in self.diagrams:
            d.clear()
        self.faults.build({})
        self.setup.set_enabled(True)
        self._fold_setup(False)

    # -- time ----------------------------------------------------------------------------------
    @_action
    def step(self) -> str | None:
        """Step: forward in the past, else the script's next step, else ``run.step()``.

        At the newest step of a free-running Cluster, Step stops Play first (step mode).
        """
        s = self._session()
        if s.free_running and s.at_head:
            self.controls.stop()
        return s.step()

    @_action
    def tick(self) -> bool:
        """One Play tick (with the loss rate); False stops the player.

        On real processes, Play lets them run by themselves (see ``Session.tick``).
        """
        s = self._session()
        self._tick_from = s.at
        return s.tick(self.faults.loss.value)

    @_action
    def pause(self) -> None:
        """Pause: a free-running Cluster goes back to step mode (the player is stopped)."""
        if self.session is not None and self.session.marks:
            self.session.pause_run()

    @_action
    def run_to_end(self, max_steps: int = 5_000) -> int:
        """Run to end: step until nothing is pending (or only timers while blocked)."""
        self.controls.stop()
        return self._session().run_to_end(max_steps)

    @_action
    def back(self, n: int = 1) -> None:
        self.controls.stop()
        self._session().back(n)

    @_action
    def forward(self, n: int = 1) -> None:
        self._session().forward(n)

    @_action
    def go_to(self, k: int) -> None:
        self._session().go_to(k)

    @_action
    def fork(self) -> None:
        """Fork from here: forget the recorded future, go on from the cursor."""
        s = self._session()
        s.fork()
        self.setup.backend.value = s.backend
        self._owned.session = s

    # -- the network and faults (each one call on the run) ---------------------------------------
    @_action
    def deliver(self, mid: int):
        return self._session().act("deliver", mid)

    @_action
    def drop(self, mid: int):
        return self._session().act("drop", mid)

    @_action
    def duplicate(self, mid: int):
        return self._session().act("duplicate", mid)

    @_action
    def delay(self, mid: int, by: float | None = None):
        return self._session().act("delay", mid, by)

    def _pending_action(self, method: str, mid: int, *args) -> None:
        getattr(self, method)(mid, *args)

    @_action
    def crash(self, uid: int) -> None:
        self._session().act("crash", uid)

    @_action
    def restart(self, uid: int, amnesia: bool = False) -> None:
        self._session().act("restart", uid, amnesia)

    @_action
    def partition(self, *groups) -> None:
        groups = [set(g) for g in groups]
        if len(groups) < 2 or not all(groups):
            raise ValueError("select some nodes for group A, not all of them")
        self._session().act("partition", *groups)

    @_action
    def heal(self) -> None:
        self._session().act("heal")

    # -- sharing and export --------------------------------------------------------------------
    @_action
    def export_trace(self, path: str | os.PathLike) -> Path:
        """Write the recorded trace (the whole history) as JSON Lines to ``path`` (scripts)."""
        s = self._session()
        out = to_jsonl(s.events, path)
        s.note = f"wrote {len(s.events)} events to {out}"
        return out

    @_action
    def export_gif(self, path: str | os.PathLike, fps: float = 3, dpi: float = 60) -> Path:
        """Write the Paxos diagram of the whole history, a frame per step, as a GIF (scripts)."""
        s = self._session()
        out = save_gif(s.events, path, fps=fps, dpi=dpi, kind="paxos")
        s.note = f"wrote an animation of {len(s.events)} events to {out}"
        return out

    # -- showing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the session at its cursor in every panel; redraw the visible diagram.

        The picture goes first: it is what a click is watched for, and each panel's
        update is one more message the page handles before it would paint.
        """
        try:
            self._draw()
        finally:
            self._panels()

    def _panels(self) -> None:
        s = self.session
        started = s is not None and bool(s.marks)
        why_not = s.why_read_only() if s is not None else "press Start first"
        self.status.value = status_html(s, self.error)
        self.safety.value = safety_html(s.violations if started else [])
        if started:
            roles = {u: ("client" if r == "client" else "consensus")
                     for u, r in node_roles(s.config).items()}
            self.table.value = node_table_html(s.world(), roles)
            self.counts.value = counts_html(s.events, s.at)
        else:
            self.table.value = node_table_html(None, {})
            self.counts.value = ""
        self.pending.show(s.pending() if started else [], why_not)
        self.faults.show(s.alive() if started else {}, why_not,
                         bool(s.partition()) if started else False, s.names if started else None)
        self.controls.show(s)

    def _layout(self) -> dict[int, str]:
        return node_roles(self.session.config) if self.session is not None else {}

    def _draw(self) -> None:
        s = self.session
        if s is None or not s.marks:
            return
        panel = self.diagrams[self.tabs.selected_index or 0]
        since, self._tick_from = self._tick_from, None
        self.glide.cancel()
        if (since is not None and since != s.at and isinstance(panel, DiagramImage)
                and self.glide.play(panel, s.events, since, s.at,
                                    self.controls.play.interval / 1000, s.generation)):
            return  # the tick's picture comes at the end of the glide (render.PlayGlide)
        self.redraw_seconds = panel.show(s.events, s.at, s.generation)

    def _tab_changed(self, change) -> None:
        self._draw()

    def _ring_view(self, events):
        return RingView(events, ring=self.session.config.ring_order, scale=self.scale,
                        themed=True)

    def _timeline_view(self, events):
        rows = len(roles_of(events))
        return TimelineView(events, room=TIMELINE_ROOM, scale=self.scale,
                            figsize=(TIMELINE_WIDTH, max(3.5, 0.42 * rows + 1.6 * self.scale)))

    # -- internals -----------------------------------------------------------------------------
    def _session(self) -> Session:
        if self.session is None or not self.session.marks:
            raise RuntimeError("press Start first")
        return self.session

    def _set_session(self, session: Session | None) -> None:
        self.session = session
        self._owned.session = session

    def _after_start(self) -> None:
        s = self.session
        self._fold_setup(bool(s.marks))
        self.setup.set_enabled(False)
        self.setup.reset.disabled = False
        if not s.marks:  # an attached run that is not started yet
            self.setup.start.disabled = False
        self.faults.build(node_roles(s.config))
        for row in self.faults.rows.values():  # "A10 acceptor down" on one line
            row.label.layout.width, row.label.layout.min_width = "auto", "170px"
        fit_controls(self.faults.box)
