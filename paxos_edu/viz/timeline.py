"""A space-time (Lamport) diagram of a run: one line per node, one arrow per message.

Time runs left to right, as the trace's event index (``x="index"``, evenly spaced,
the same cursor as the other diagrams) or its clock (``x="time"``, ms). Nodes are
stacked as in the Paxos diagram: clients, proposers, acceptors, learners. A
delivered message is an arrow from its send to its delivery in its phase's
colour; a dropped one ends in a vermillion cross; one never delivered trails
off dashed. Stars mark decisions, an X a crash (the node's line is dotted while
it is down), a circle a restart (vermillion with amnesia), small ticks timers,
and a red dashed line each safety violation, where the checker finds it. The
cursor is a vertical line; what happens after it is faded.

A view follows a growing trace (the dashboard's list of events, appended to on
every Step): ``update`` first draws the events added since the last call, adding
artists and never redrawing old ones. What has happened never changes, so each
arrow, cross or star is rendered once into a cached bitmap (``_GrowingLayer``)
and only the new ones are rendered on later frames; the frame (node lines, axes,
legend) is cached the same way. Only the cursor, the fade, the title and what is
still open (messages in flight, nodes still down) are drawn afresh each frame.
With ``room`` > 0 the time axis leaves that much spare room on the right, so a
growing run rescales the axis (re-rendering the axis and the arrows once) only
now and then.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from ..core.invariants import SafetyMonitor
from .labels import node_name
from .layer import SvgFragment, svg_renderer
from .state import ROLE_ORDER, resolve, roles_of
from .style import (
    DROP_COLOR,
    TEXT_COLOR,
    VIOLATION_COLOR,
    fmt_value,
    line_style,
    new_axes,
    phase_color,
    phase_handles,
    scale_factor,
    title_text,
)


def _skip(renderer) -> None:
    # A member's own draw does nothing: its layer draws it.
    return None


class _Band:
    """The members of a ``_GrowingLayer`` at one zorder, and the bitmap they are drawn in."""

    def __init__(self):
        self.members: list[tuple[Artist, object]] = []  # (artist, its own draw)
        self.renderer: RendererAgg | None = None
        self.drawn = 0
        self.crop: tuple[int, int, np.ndarray] | None = None
        self.svg: SvgFragment | None = None
        self.svg_drawn = 0

    def write_svg(self, svg: RendererSVG, renderer) -> None:
        """Replay the members already written into ``svg``, then write the new ones onto the end."""
        if self.svg is None:
            self.svg, self.svg_drawn = SvgFragment(), 0
        else:
            self.svg.replay(svg)
        new = self.members[self.svg_drawn:]
        self.svg_drawn = len(self.members)

        def draw() -> None:
            for artist, own_draw in new:
                if artist.get_visible():
                    own_draw(renderer)

        self.svg.extend(svg, draw)

    def render(self, width: int, height: int, dpi: float) -> None:
        """Draw the members not yet in the bitmap into it (all of them into a new one)."""
        if self.renderer is None:
            self.renderer, self.drawn, self.crop = RendererAgg(width, height, dpi), 0, None
        if self.drawn == len(self.members):
            return
        for artist, draw in self.members[self.drawn:]:
            if artist.get_visible():
                draw(self.renderer)
        self.drawn = len(self.members)
        # Agg buffers are top row first; draw_image wants the bottom row first.
        image = np.asarray(self.renderer.buffer_rgba())[::-1]
        rows = np.flatnonzero(image[:, :, 3].any(axis=1))
        cols = np.flatnonzero(image[:, :, 3].any(axis=0))
        if rows.size:  # paste only the painted rectangle: that is what keeps it cheap
            y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            self.crop = (int(x0), int(y0), image[y0:y1, x0:x1].copy())


class _GrowingLayer(Artist):
    """Artists that never change once added, drawn from bitmaps that are only ever added to.

    Each zorder has its own bitmap, pasted in zorder order, so a new arrow still
    goes under an older star as if everything were drawn at once. The bitmaps
    are remade from scratch when the canvas size, dpi, axes position or y-limits
    change, and the x-limits too if ``follows_x``. Vector backends (PDF, SVG) get
    the artists themselves.
    """

    def __init__(self, ax: Axes, zorder: float, follows_x: bool = True):
        super().__init__()
        self._ax = ax
        self._bands: dict[float, _Band] = {}
        self._key = None
        self._svg_key = None
        self.follows_x = follows_x
        self.set_zorder(zorder)
        ax.add_artist(self)

    def add(self, artist: Artist) -> Artist:
        """Draw ``artist`` (already in the axes, and final) through this layer from now on."""
        band = self._bands.get(artist.get_zorder())
        if band is None:
            band = self._bands[artist.get_zorder()] = _Band()
        if artist.__dict__.get("draw") is _skip:
            del artist.draw  # an axis or spine kept by ax.clear(): it was in an earlier layer
        band.members.append((artist, artist.draw))
        artist.draw = _skip
        self.stale = True
        return artist

    def invalidate(self) -> None:
        """Forget the bitmaps and SVG (call after changing a member)."""
        self._key = None
        self._svg_key = None
        self.stale = True

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        bands = [self._bands[z] for z in sorted(self._bands)]
        key = (renderer.width, renderer.height, renderer.dpi, tuple(self._ax.bbox.bounds),
               tuple(self._ax.get_ylim()), tuple(self._ax.get_xlim()) if self.follows_x else ())
        svg = svg_renderer(renderer)
        if svg is not None:
            if key != self._svg_key:
                for band in bands:
                    band.svg = None
                self._svg_key = key
            for band in bands:
                band.write_svg(svg, renderer)
            self.stale = False
            return
        if type(renderer) is not RendererAgg:
            for band in bands:
                for artist, draw in band.members:
                    if artist.get_visible():
                        draw(renderer)
            return
        if key != self._key:
            for band in bands:
                band.renderer = None
            self._key = key
        for band in bands:
            band.render(int(renderer.width), int(renderer.height), renderer.dpi)
            if band.crop is not None:
                x0, y0, crop = band.crop
                gc = renderer.new_gc()
                renderer.draw_image(gc, x0, y0, crop)
                gc.restore()
        self.stale = False


def row_order(roles: dict[int, str]) -> list[int]:
    """The nodes top to bottom: clients, proposers, acceptors, learners, then plain nodes."""
    rank = {r: k for k, r in enumerate((*ROLE_ORDER, "consensus"))}
    return sorted(roles, key=lambda u: (rank[roles[u]], u))


class TimelineView:
    """A space-time diagram of a trace; ``update(at)`` draws new events and moves the cursor.

    ``rows`` maps uid -> y; ``arrows`` holds one patch per delivered message (gid
    ``msg-<id>``), ``drops`` one cross per dropped message. ``room`` is the spare
    room on the right of the time axis, as a fraction of the span drawn (0: the
    axis ends just after the last event, as a finished run is drawn). The trace
    may grow between updates, by appending only. When the roles become known the
    rows are relabelled in place (the leader's assignment keeps them in uid order);
    if the rows themselves change, the view is drawn again from scratch (in the same
    figure, whose size was chosen for the nodes known when it was built).
    """

    def __init__(self, trace: Sequence[dict], ax: Axes | None = None, x: str = "index",
                 figsize: tuple[float, float] | None = None, room: float = 0.0,
                 scale: float | str = 1.0):
        if x not in ("index", "time"):
            raise ValueError(f"x={x!r}: must be 'index' or 'time'")
        if room < 0:
            raise ValueError(f"room={room!r}: must be >= 0")
        self.trace = trace
        self.x_mode = x
        self.room = room
        self.k = scale_factor(scale)  # text and marks (style.SCALES)
        own = ax is None
        if figsize is None:
            figsize = (13.0, max(3.5, 0.42 * len(roles_of(trace)) + 1.6))
        self.fig, self.ax = new_axes(ax, figsize)
        if own:
            # Room on the right for the legend, on the left for the node names: on the
            # lessons' 13 inches a tenth and a seventh; larger text needs more inches.
            left, right = 0.1, 0.86
            if self.k != 1.0:
                left, right = 1.3 * self.k / figsize[0], 1 - 1.82 * self.k / figsize[0]
            self.fig.subplots_adjust(left=left, right=right, top=0.9,
                                     bottom=max(0.1, 0.55 / figsize[1]))
        self._start()

    def _start(self) -> None:
        """Draw the frame for the trace's nodes, then every event (again, after ``ax.clear()``)."""
        self.roles = roles_of(self.trace)
        self.rows = {u: -k for k, u in enumerate(row_order(self.roles))}
        self.xs: list[float] = []
        self.arrows: list[FancyArrowPatch] = []
        self.drops: list[Line2D] = []
        self._sends: dict[int, int] = {}        # message id -> index of its send
        self._ends: set[int] = set()            # ids delivered or dropped
        self._trails: dict[int, Line2D] = {}    # id -> dashed line of a message in flight
        self._down: dict[int, tuple[float, list[Line2D]]] = {}  # uid -> (crash x, its lines)
        self._monitor = SafetyMonitor()
        self._index_of: dict[int, int] = {}     # seq -> index
        self._x_start, self._x_end = -1.0, 1.0
        self._x_limit: float | None = None
        self._draw_frame()
        self.ax.set_xlim(-1.0, 1.0)  # until there is an event to draw
        self._sync()

    # -- drawing ---------------------------------------------------------------------------------
    def _line(self, x, y, **kwargs) -> Line2D:
        # Line2D + add_artist: the limits are set by hand, so no autoscaling bookkeeping.
        return self.ax.add_artist(Line2D(x, y, **kwargs))

    def _row_labels(self) -> list[str]:
        return [f"{node_name(u, self.roles[u])} {self.roles[u]}" for u in self.rows]

    def _draw_frame(self) -> None:
        ax, rows = self.ax, self.rows
        # Node lines span the axes whatever the limits (axes coordinates in x).
        for y in rows.values():
            ax.axhline(y, color="#BBBBBB", lw=1, zorder=0)
        ax.set_yticks(list(rows.values()))
        ax.set_yticklabels(self._row_labels(), fontsize=8.5 * self.k)
        ax.set_ylim(min(rows.values(), default=0) - 0.7, 0.7)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("event index" if self.x_mode == "index" else "time (ms)", fontsize=9 * self.k)
        ax.legend(handles=phase_handles(), loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  fontsize=8 * self.k, frameon=False, title="messages by phase",
                  title_fontsize=8 * self.k)
        # Cached bitmaps (see the module doc): the legend never changes, the node lines and
        # names only when the roles become known; the time axis and what has happened only
        # when the axis is rescaled, and are otherwise only added to as events come.
        self.legend_layer = _GrowingLayer(ax, zorder=0, follows_x=False)
        self.legend_layer.add(ax.get_legend())
        self.frame = _GrowingLayer(ax, zorder=0, follows_x=False)
        for artist in (*ax.lines, ax.yaxis, *ax.spines.values()):
            self.frame.add(artist)
        self.layer = _GrowingLayer(ax, zorder=1)
        self.layer.add(ax.xaxis)
        self.cursor = ax.axvline(0.0, color=TEXT_COLOR, lw=1.5, zorder=6, gid="cursor")
        self.future = ax.axvspan(0.0, 0.0, color="white", alpha=0.65, lw=0, zorder=5.5)
        self.title = title_text(ax, fontsize=11 * self.k)

    def _sync(self) -> None:
        """Draw the events appended to the trace since the last call."""
        trace, done = self.trace, len(self.xs)
        if len(trace) < done:
            raise ValueError(f"the trace shrank from {done} to {len(trace)} events: "
                             "build a new view")
        if len(trace) == done:
            return
        roles = roles_of(trace)
        if roles != self.roles:
            if row_order(roles) != list(self.rows):
                self.ax.clear()
                self._start()
                return
            self.roles = roles
            self.ax.set_yticklabels(self._row_labels(), fontsize=8.5 * self.k)
            self.frame.invalidate()
        self.xs += [float(i) if self.x_mode == "index" else float(trace[i]["t"])
                    for i in range(done, len(trace))]
        self._x_start = self.xs[0] - 1.0
        self._x_end = self.xs[-1] + 1.0
        if self._x_limit is None or self._x_end > self._x_limit:
            self._x_limit = self._x_start + (self._x_end - self._x_start) * (1.0 + self.room)
            self.ax.set_xlim(self._x_start, self._x_limit)
        for i in range(done, len(trace)):
            self._add_event(i, trace[i])
        # What is still open reaches to now.
        for mid, trail in self._trails.items():
            trail.set_xdata([self.xs[self._sends[mid]], self._x_end])
        for x0, lines in self._down.values():
            for line in lines:
                line.set_xdata([x0, self._x_end])

    def _add_event(self, i: int, ev: dict) -> None:
        ax, xs, rows, layer = self.ax, self.xs, self.rows, self.layer
        kind, mid = ev["kind"], ev.get("id")
        self._index_of[ev.get("seq", i)] = i
        if kind in ("send", "duplicate") and mid is not None:
            self._sends[mid] = i
            src, dst = rows.get(ev["src"]), rows.get(ev["dst"])
            if src is not None and dst is not None:
                self._trails[mid] = self._line(
                    [xs[i], xs[i] + 1.0], [src, src + (dst - src) * 0.5],
                    color=phase_color(ev.get("phase")), lw=1, ls="--", alpha=0.6, zorder=2)
        elif kind in ("deliver", "drop") and mid in self._sends:
            j = self._sends[mid]
            self._ends.add(mid)
            trail = self._trails.pop(mid, None)
            if trail is not None:
                trail.remove()
            src, dst = rows.get(ev["src"]), rows.get(ev["dst"])
            if src is not None and dst is not None:
                color = phase_color(ev.get("phase"))
                if kind == "deliver":
                    arrow = FancyArrowPatch((xs[j], src), (xs[i], dst), arrowstyle="-|>",
                                            mutation_scale=8, color=color, lw=1.1, shrinkA=0,
                                            shrinkB=0, zorder=2, gid=f"msg-{mid}",
                                            linestyle=line_style(ev.get("msg")))
                    layer.add(ax.add_artist(arrow))
                    self.arrows.append(arrow)
                else:
                    layer.add(self._line([xs[j], xs[i]], [src, dst], color=color, lw=1.1,
                                         zorder=2))
                    cross = self._line([xs[i]], [dst], marker="X", ms=8, color=DROP_COLOR,
                                       mec="white", mew=0.6, ls="", zorder=4, gid=f"drop-{mid}")
                    self.drops.append(layer.add(cross))
        elif kind == "decide":
            y = rows.get(ev["src"])
            if y is not None:
                layer.add(self._line([xs[i]], [y], marker="*", ms=13, color=phase_color("3"),
                                     mec="#333333", mew=0.6, ls="", zorder=5, gid=f"decide-{i}"))
                layer.add(ax.annotate(fmt_value(ev["msg"].get("v")), (xs[i], y), xytext=(0, 7),
                                      textcoords="offset points", ha="center", fontsize=7.5 * self.k,
                                      color=TEXT_COLOR, zorder=5))
        elif kind == "crash" and ev["src"] in rows:
            y = rows[ev["src"]]
            if ev["src"] not in self._down:
                # Dotted while down: open (redrawn each frame, reaching to now) until a restart.
                self._down[ev["src"]] = (xs[i], [
                    self._line([xs[i], xs[i]], [y, y], color="white", lw=2.5, zorder=0.5),
                    self._line([xs[i], xs[i]], [y, y], color="#999999", lw=1, ls=":",
                               zorder=0.6)])
            layer.add(self._line([xs[i]], [y], marker="X", ms=10, color="#333333", ls="",
                                 zorder=5))
        elif kind == "restart" and ev["src"] in rows:
            y = rows[ev["src"]]
            if ev["src"] in self._down:
                x0, lines = self._down.pop(ev["src"])
                for line in lines:
                    line.set_xdata([x0, xs[i]])
                    layer.add(line)
            amnesia = (ev.get("msg") or {}).get("amnesia")
            layer.add(self._line([xs[i]], [y], marker="o", ms=6, mfc="white",
                                 mec=DROP_COLOR if amnesia else "#333333", mew=1.5, ls="",
                                 zorder=5))
            if amnesia:
                layer.add(ax.annotate("amnesia", (xs[i], y), xytext=(0, -10),
                                      textcoords="offset points", ha="center", fontsize=7 * self.k,
                                      color=DROP_COLOR))
        elif kind == "timer" and ev.get("dst") in rows:
            layer.add(self._line([xs[i]], [rows[ev["dst"]]], marker="|", ms=7, color="#777777",
                                 ls="", zorder=3))
        # A broken invariant: a red line where the checker first sees it, named at the top.
        for v in self._monitor.observe(ev):
            found = [self._index_of[s] for s in v.events if s in self._index_of]
            if found:
                x = xs[max(found)]
                layer.add(ax.axvline(x, color=VIOLATION_COLOR, lw=1.2, ls="--", zorder=4,
                                     gid="violation"))
                layer.add(ax.annotate(v.invariant, (x, 1.0), xycoords=("data", "axes fraction"),
                                      xytext=(3, -2), textcoords="offset points", ha="left",
                                      va="top", fontsize=8 * self.k, color=VIOLATION_COLOR, zorder=5))

    def update(self, at: int | None = None, since: int | None = None) -> list:
        """Draw any events appended since, move the cursor to just after ``trace[at]``, fade the rest."""
        self._sync()
        idx = resolve(self.trace, at) if self.trace else 0
        x = self.xs[idx] if self.trace else 0.0
        self.cursor.set_xdata([x, x])
        # In index mode the next event is one unit on: fade from halfway there. At the
        # newest event only the spare room (if any) is still to come.
        last = idx >= len(self.trace) - 1
        start = self._x_end if last else x + (0.5 if self.x_mode == "index" else 0.0)
        self.future.set_x(start)
        self.future.set_width(max(self.ax.get_xlim()[1] - start, 0.0))
        self.title.set_text(f"Space-time diagram, cursor at event {idx}")
        return [self.cursor, self.future, self.title, *self._trails.values()]


def draw_timeline(trace: Sequence[dict], at: int | None = None, ax: Axes | None = None,
                  x: str = "index") -> Figure:
    """Draw the whole run as a space-time diagram with a cursor at event ``at`` (None = end)."""
    view = TimelineView(trace, ax=ax, x=x)
    view.update(at)
    return view.fig
