"""What the dashboard shows, as HTML strings: diagrams (inline SVG), node table, safety light.

The diagrams are inline SVG in ``ipywidgets.HTML`` widgets (``viz.svg.figure_svg``).
One widget's ``value`` is replaced in place: no flicker, no growing output area,
nothing that depends on the kernel's matplotlib backend or on ``IPython.display``
(the same code works in JupyterLab, Voilà and a headless test, which can read
the string back), and a figure is never registered with pyplot. Why SVG and not
PNG: text stays text, sharp at any width and on any pixel ratio; the picture
fills the width it is given (``width="100%"``), so a narrow screen shows it as
wide as it can; its neutral colours are JupyterLab's theme variables, so it
follows a dark theme; and it is smaller and as fast to make as a PNG (no pixels
to encode; the browser lays out text it already has the fonts for). Each diagram
is a ``viz`` view (``PaxosView``, ``TimelineView``, ``RingView``) built once per
run and updated in place (``view.update(at)`` only changes artists), then written
as SVG. A view is rebuilt only when its layout must change (the Paxos diagram when
the roles become known, the timeline when a node appears, a new run).
``benchmarks/bench_viz.py dashboard`` measures a Step click in the kernel and
``benchmarks/bench_browser.py`` the same click in headless Chromium, to the
repainted page (the target is 100 ms at the median).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Hashable, Sequence

import ipywidgets as widgets

from ..labels import fmt_value, node_name, node_state_text
from ..trace import message_counts
from ..viz.counts import PHASE_ORDER, plot_phase_counts
from ..viz.glide import moving_messages
from ..viz.style import PHASE_COLORS, PHASE_NAMES, VIOLATION_COLOR, new_axes, phase_color
from ..viz.svg import figure_svg

GREEN, RED = "#1A9850", VIOLATION_COLOR
COUNTS_SIZE = (6.0, 3.4)  # inches


def picture(width: str = "100%") -> widgets.HTML:
    """The widget a diagram is shown in: an HTML box its SVG fills, as wide as ``width``."""
    return widgets.HTML(layout=widgets.Layout(width=width), _dom_classes=("paxos-diagram",))


class DiagramImage:
    """One diagram view shown as inline SVG; rebuilt only when ``key(events)`` changes.

    ``build(events)`` makes the view (anything with ``fig`` and ``update(at)``).
    ``show`` returns the seconds the redraw took (``last_seconds`` keeps it).
    """

    def __init__(self, build: Callable[[Sequence[dict]], object],
                 key: Callable[[Sequence[dict]], Hashable] = lambda events: None,
                 widget: widgets.HTML | None = None):
        self.build, self.key = build, key
        self.widget = widget or picture()
        self.view = None
        self._key: tuple | None = None
        self.last_seconds = 0.0

    def show(self, events: Sequence[dict], at: int, generation: int = 0) -> float:
        began = time.perf_counter()
        self._view(events, generation).update(at)
        self.widget.value = figure_svg(self.view.fig)
        self.last_seconds = time.perf_counter() - began
        return self.last_seconds

    def show_glide(self, events: Sequence[dict], at: int, moving: Sequence[dict], t: float,
                   generation: int = 0) -> None:
        """The world at ``at`` with ``moving`` (send events) ``t`` of the way along their arrows."""
        view = self._view(events, generation)
        view.update(at)
        view.glide(moving, t)
        self.widget.value = figure_svg(view.fig)

    def can_glide(self, events: Sequence[dict], generation: int = 0) -> bool:
        return hasattr(self._view(events, generation), "glide")

    def _view(self, events: Sequence[dict], generation: int):
        key = (generation, self.key(events))
        if self.view is None or key != self._key:
            self.view = self.build(events)
            self._key = key
        return self.view

    def clear(self) -> None:
        self.view, self._key = None, None
        self.widget.value = ""


class PlayGlide:
    """During Play, the messages a tick delivers glide to their receivers before it is shown.

    A tick moves the cursor from ``since`` to ``at``; instead of one picture, the panel
    shows up to ``MAX_FRAMES`` pictures of the world at ``since`` with the delivered
    messages further and further along their arrows, then the world at ``at``, spread over
    the first ``SHARE`` of the tick's interval, on the kernel's event loop. As many as the
    repaint budget allows: with the panel's last redraw taking ``r`` seconds, frames fill
    at most half the interval, so the kernel keeps time to take the next step and answer
    clicks; at 20 steps/s there is no room, and a tick is one picture as before. Any other
    redraw (Step, Pause, Back, another tab) cancels what is still to come. Outside a
    running event loop (a script, a headless test) nothing glides.
    """

    MAX_FRAMES = 3
    SHARE = 0.8
    BUDGET = 0.5

    def __init__(self):
        self._timers: list = []

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def frames(self, interval: float, redraw: float) -> int:
        """In-between pictures that fit in ``interval`` seconds when one takes ``redraw``."""
        if redraw <= 0:
            return 0
        return max(0, min(self.MAX_FRAMES, int(self.BUDGET * interval / redraw) - 1))

    def play(self, panel: DiagramImage, events: Sequence[dict], since: int, at: int,
             interval: float, generation: int = 0) -> int:
        """Show the tick gliding if it can; returns the in-between pictures scheduled (0: none)."""
        self.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return 0
        moving = moving_messages(events, since, at) if since >= 0 else ()
        g = self.frames(interval, panel.last_seconds)
        if not moving or g < 1 or not panel.can_glide(events, generation):
            return 0
        gap = self.SHARE * interval / (g + 1)
        panel.show_glide(events, since, moving, 1 / (g + 1), generation)
        self._timers = [loop.call_later(j * gap, panel.show_glide, events, since, moving,
                                        (j + 1) / (g + 1), generation) for j in range(1, g)]
        self._timers.append(loop.call_later(g * gap, panel.show, events, at, generation))
        return g


class CountsImage:
    """The per-phase bar chart (``plot_phase_counts``), redrawn for the events up to ``at``."""

    def __init__(self):
        self.widget = picture("70%")
        self.view = None

    def show(self, events: Sequence[dict], at: int, generation: int = 0) -> float:
        began = time.perf_counter()
        # Smaller than the chart's own 8 inches, so that its text reads at 12 px or more.
        fig, ax = new_axes(None, COUNTS_SIZE)
        plot_phase_counts(list(events[:at + 1]), ax=ax)
        fig.tight_layout()
        self.widget.value = figure_svg(fig)
        return time.perf_counter() - began

    def clear(self) -> None:
        self.widget.value = ""


# -- HTML panels ---------------------------------------------------------------------------------

_PAD = " style='padding:1px 6px;text-align:left'"


def _esc(x) -> str:
    return html.escape(str(x))


def node_table_html(world, roles: dict[int, str]) -> str:
    """One row per node: name, role, up or crashed, Chang-Roberts colour, Paxos state in words.

    Rows carry ``data-uid`` and ``data-alive`` attributes (for tests and styling).
    """
    if world is None:
        return "<i>Press Start: the table shows every node's state at the cursor.</i>"
    head = "".join(f"<th{_PAD}>{h}</th>" for h in ("node", "role", "up", "ring", "state"))
    rows = []
    for uid in sorted(roles):
        state = world.nodes.get(uid, {})
        role = state.get("role") or roles.get(uid) or "consensus"
        alive = world.alive.get(uid, True)
        words = node_state_text(state, role, alive).replace("\n", "; ")
        ring = ""
        if state.get("kind") != "client" and state:
            ring = state.get("color", "")
            if state.get("leader") == uid:
                ring += " ★ leader"
        style = "" if alive else (" style='color:var(--jp-ui-font-color3,#888);"
                                     "background:var(--jp-layout-color2,#f0f0f0)'")
        rows.append(
            f"<tr data-uid='{uid}' data-alive='{str(alive).lower()}'{style}>"
            + "".join(f"<td{_PAD}>{cell}</td>" for cell in (
                f"<b>{_esc(node_name(uid, role))}</b>", _esc(role),
                "up" if alive else "crashed", _esc(ring), _esc(words)))
            + "</tr>")
    return ("<table class='paxos-nodes' style='border-collapse:collapse;font-size:12px'>"
            f"<tr>{head}</tr>{''.join(rows)}</table>")


def safety_html(violations: Sequence) -> str:
    """The safety light: green while the checker finds nothing, red with its explanation."""
    if not violations:
        return (f"<div class='paxos-safety' data-safe='true'><span style='color:{GREEN};"
                "font-size:20px'>●</span> <b>safe</b>: no safety invariant broken so far</div>")
    names = []
    for v in violations:
        if v.invariant not in names:
            names.append(v.invariant)
    items = "".join(f"<li><b>{_esc(v.invariant)}</b>: {_esc(v.explanation)}</li>"
                    for v in violations[:3])
    more = f"<li>... and {len(violations) - 3} more</li>" if len(violations) > 3 else ""
    return (f"<div class='paxos-safety' data-safe='false' style='color:{RED}'>"
            f"<span style='font-size:20px'>●</span> <b>SAFETY VIOLATED: "
            f"{_esc(', '.join(names))}</b><ul style='margin:2px 0'>{items}{more}</ul></div>")


def counts_html(events: Sequence[dict], at: int) -> str:
    """Messages sent so far per phase, as a small table of coloured bars."""
    by_phase = message_counts(events[:at + 1])["by_phase"] if at >= 0 else {}
    phases = [p for p in PHASE_ORDER if by_phase.get(p)]
    if not phases:
        return "<i>no messages sent yet</i>"
    most = max(by_phase[p] for p in phases)
    rows = "".join(
        f"<tr data-phase='{_esc(p)}'><td>{_esc(PHASE_NAMES.get(p, p))}</td>"
        f"<td style='text-align:right'>{by_phase[p]}</td><td><div style='background:"
        f"{phase_color(p) if p in PHASE_COLORS else '#999'};height:10px;"
        f"width:{max(2, round(120 * by_phase[p] / most))}px'></div></td></tr>"
        for p in phases)
    total = sum(by_phase[p] for p in phases)
    return (f"<table class='paxos-counts' style='font-size:12px'>{rows}<tr><td><b>total</b></td>"
            f"<td style='text-align:right'><b>{total}</b></td><td></td></tr></table>")


def status_html(session, error: str | None = None) -> str:
    """The status line: where the cursor is, leader, decisions or why none can come, the note.

    ``error`` (what the last click could not do) comes first, in red.
    """
    top = f"<div class='paxos-error' style='color:{RED}'>⚠ {_esc(error)}</div>" if error else ""
    if session is None or not session.marks:
        return top + "<div class='paxos-status'>Configure the system, then press Start.</div>"
    parts = [f"step {session.cursor} of {session.head_index}"]
    if session.free_running:
        parts.append("<b>free-running</b> on real processes")
    if not session.at_head:
        parts.append("<b>the past (read-only)</b>: Forward, or Fork from here" if session.can_fork
                     else "<b>the past (read-only)</b>: Forward or Play to catch up")
    w = session.world()
    names = session.names  # the names of the pending list and the diagrams at the cursor

    def name(uid: int) -> str:
        return names.get(uid, f"N{uid}")

    parts.append(f"leader {name(w.leader)}" if w.leader is not None else "electing")
    decided = session.decided()
    blocked = session.blocked()
    if decided:
        parts.append("decided: " + ", ".join(f"{name(u)} told {_esc(fmt_value(v))}"
                                              for u, v in sorted(decided.items())))
    if blocked:
        parts.append(f"<b>{_esc(blocked)}</b>")
    elif not decided:
        parts.append("no value decided yet")
    groups = session.partition()
    if groups:
        parts.append("partitioned " + " | ".join("{" + ", ".join(map(str, g)) + "}"
                                                 for g in groups))
    if session.script:
        parts.append(f"script {min(session.script_pos, len(session.script))}/"
                     f"{len(session.script)}")
    note = f"<br>{_esc(session.note)}" if session.note else ""
    return f"{top}<div class='paxos-status'>{' · '.join(parts)}{note}</div>"
