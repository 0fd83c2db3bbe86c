"""Basic Paxos as layered columns: clients → proposers → acceptors → learners.

Every node shows its state in words under its disc (see ``labels.node_state_text``);
a crashed node is grey. Each message in flight is an arrow from sender to
receiver in its phase's colour, labelled in Ghosh's notation; a message dropped
in this frame stays one frame longer, dashed and crossed out. The banner at the
top names the decided value, or, in red, the invariant the run has broken so
far (exactly when ``check_safety(trace[:at + 1])`` reports one).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .columns import RAD, bezier, layered_positions
from .glide import Comets
from .labels import describe_cursor, message_label, node_name, node_state_text
from .layer import StaticLayer
from .state import Replay, roles_of
from .style import (
    CRASHED,
    DECIDED_COLOR,
    DROP_COLOR,
    ROLE_FILLS,
    TEXT_COLOR,
    VIOLATION_COLOR,
    fmt_value,
    keep,
    line_style,
    new_axes,
    phase_color,
    phase_handles,
    scale_factor,
    title_text,
)

NODE_SIZE = 750.0            # points², a disc about 27 pt across
LABEL_FONT = 7.5
SCALE = 0.78                 # inches per data unit when the view makes its own figure
MAX_LABELS = 40              # more arrows than this: one label per burst (see _label_texts)
MAX_SIZE = (16.0, 13.0)      # the largest figure (inches) a view makes for itself
COLUMN_TITLES = {"client": "clients", "proposer": "proposers", "acceptor": "acceptors",
                 "learner": "learners", "consensus": "consensus nodes"}


class PaxosView:
    """A Paxos diagram bound to one trace; ``update(at)`` changes artists in place.

    ``nodes`` is the PathCollection of discs (in ``uids`` order), ``state_texts``
    the words under each node, ``arrows``/``arrow_labels`` a pool reused from
    frame to frame (gids ``msg-<id>``/``label-<id>``, or ``drop-<id>`` for a
    message dropped in this frame), ``banner`` the decided/violation banner.
    """

    def __init__(self, trace: Sequence[dict], ax: Axes | None = None,
                 figsize: tuple[float, float] | None = None,
                 layout: dict[int, str] | None = None, scale: float | str = 1.0,
                 themed: bool = False):
        self.trace = trace
        self.scale = scale = scale_factor(scale)
        self.themed = themed
        self.replay = Replay(trace)
        self.roles = roles_of(trace)
        # ``layout``: the roles the nodes will have (a Config says so before the election),
        # to place them by; names and fills follow what the trace has said so far.
        self.layout = {**self.roles, **(layout or {})}
        self.uids = sorted(self.layout)
        self.roles = {u: self.roles.get(u, "consensus") for u in self.uids}
        self._roles_seen = len(trace)
        self.pos, self.columns = layered_positions(self.layout)
        xs = [p[0] for p in self.pos.values()] or [0.0]
        ys = [p[1] for p in self.pos.values()] or [0.0]
        xlim = (min(xs) - 1.35, max(xs) + 1.35)
        ylim = (min(ys) - 2.1, max(ys) + 1.9)
        own = ax is None
        if figsize is None:
            # Past about 13 nodes in a column the figure stops growing and everything shrinks.
            fit = min(SCALE, MAX_SIZE[0] / (xlim[1] - xlim[0]), MAX_SIZE[1] / (ylim[1] - ylim[0]))
            figsize = (max(7.0, (xlim[1] - xlim[0]) * fit),
                       max(4.5, (ylim[1] - ylim[0]) * fit + 0.5))
        self.fig, self.ax = new_axes(ax, figsize)
        if own:
            self.fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=0.93)
        ax = self.ax
        ax.set_axis_off()
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        # Font and disc sizes follow the drawing's scale, so a crowded or small axes shrinks
        # them all alike instead of letting words run into each other.
        # ``scale`` then enlarges them all for a bigger screen (style.SCALES).
        self.fs = fs = max(0.3, min(1.0, 1 / (self._data_per_point() * SCALE * 72))) * scale
        self.node_size = NODE_SIZE * fs * fs
        graph = nx.DiGraph()
        graph.add_nodes_from(self.uids)
        self.nodes = nx.draw_networkx_nodes(
            graph, self.pos, nodelist=self.uids, ax=ax, node_size=self.node_size,
            node_color=[self._fill(u) for u in self.uids],
            edgecolors="#333333", linewidths=1.2)
        self.nodes.set_gid("paxos-nodes")
        self.nodes.set_zorder(2)
        self.labels = nx.draw_networkx_labels(
            graph, self.pos, labels={u: self._name(u) for u in self.uids}, ax=ax,
            font_size=9 * fs, font_weight="bold", font_color=keep(TEXT_COLOR, themed))
        for text in self.labels.values():
            text.set_zorder(3)
        self.state_texts = {
            u: ax.text(x, y - 0.3, "", ha="center", va="top", fontsize=7.5 * fs, color=TEXT_COLOR,
                       linespacing=1.15, zorder=3, gid=f"state-{u}",
                       bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.75))
            for u, (x, y) in self.pos.items()}
        top = max(ys)
        headers = [ax.text(x, top + 0.55, COLUMN_TITLES[role], ha="center",
                           va="bottom", fontsize=10 * fs, fontweight="bold", color="#555555")
                   for role, x in self.columns]
        self.arrows: list[FancyArrowPatch] = []
        self.arrow_labels: list = []
        self._drawn: dict = {}   # message id -> its (arrow, label) in this frame
        self.comets = Comets(ax, size=self.node_size * 0.3, fontsize=LABEL_FONT * fs)
        self.crosses = Line2D([], [], ls="", marker="X", ms=13 * fs, color=DROP_COLOR, mec="white",
                              mew=1.0, zorder=6, gid="drop-crosses")
        ax.add_line(self.crosses)
        self.banner = ax.text(0.5, 0.995, "", transform=ax.transAxes, ha="center", va="top",
                              fontsize=10 * scale, zorder=7, gid="banner",
                              bbox=dict(boxstyle="round,pad=0.4", fc="white", ec="#999999"))
        self.title = title_text(ax, fontsize=11 * scale)
        self.legend = ax.legend(handles=phase_handles(), loc="lower center", ncol=5,
                                fontsize=8 * scale, frameon=False, bbox_to_anchor=(0.5, 0.0),
                                title="messages by phase", title_fontsize=8 * scale)
        # What never changes is drawn once and pasted on later frames (see layer.py).
        self.layers = [StaticLayer(ax, [*headers, self.legend], zorder=0.5),
                       StaticLayer(ax, self.labels.values(), zorder=3.5)]
        # A node's words change only when its state does: one cached layer per node.
        self.state_layers = {u: StaticLayer(ax, [t], zorder=3)
                             for u, t in self.state_texts.items()}
        self.banner_layer = StaticLayer(ax, [self.banner], zorder=7)
        self._banner_look: tuple | None = None
        self._rim: float | None = None

    # -- the arrow pool ------------------------------------------------------------------
    def _arrow(self, k: int) -> tuple[FancyArrowPatch, object]:
        while len(self.arrows) <= k:
            arrow = FancyArrowPatch((0, 0), (1, 1), arrowstyle="-|>", mutation_scale=13 * self.fs,
                                    connectionstyle=f"arc3,rad={RAD}", shrinkA=0, shrinkB=0,
                                    lw=1.8 * self.fs, zorder=1)
            self.ax.add_patch(arrow)
            label = self.ax.text(0, 0, "", ha="center", va="center",
                                 fontsize=LABEL_FONT * self.fs, zorder=5,
                                 color=TEXT_COLOR,
                                 bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="black",
                                           lw=1.2, alpha=0.92))
            self.arrows.append(arrow)
            self.arrow_labels.append(label)
        return self.arrows[k], self.arrow_labels[k]

    def _data_per_point(self) -> float:
        # Data units per typographic point: equal aspect makes x and y share one scale, set by
        # the tighter of the two directions (the box shrinks along the other).
        box = self.ax.get_window_extent()  # in pixels; an Axes in a SubFigure has one too
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        return max((x1 - x0) / box.width, (y1 - y0) / box.height) * self.ax.figure.dpi / 72

    def _label_texts(self, messages: list[tuple[dict, bool]]) -> list[str | None]:
        """Each arrow's label; past ``MAX_LABELS`` arrows, one label per burst.

        A burst is what one node sent of one message to many (``proposal(6, 210) ×31``);
        its other arrows go unlabelled, else a large run drowns in words.
        """
        texts = [message_label(ev["msg"]) for ev, _ in messages]
        if len(messages) <= MAX_LABELS:
            return texts
        bursts = Counter((ev["src"], text, d) for (ev, d), text in zip(messages, texts,
                                                                       strict=True))
        seen: set = set()
        out: list[str | None] = []
        for (ev, d), text in zip(messages, texts, strict=True):
            key = (ev["src"], text, d)
            if key in seen:
                out.append(None)
                continue
            seen.add(key)
            out.append(text if bursts[key] == 1 else f"{text} ×{bursts[key]}")
        return out

    def _node_boxes(self, unit: float) -> list[tuple[float, float, float, float]]:
        """Boxes (centre x, centre y, half width, half height) around each disc and its words."""
        font = 7.5 * self.fs
        radius = (self.node_size ** 0.5) / 2 * unit
        boxes = []
        for u, (x, y) in self.pos.items():
            lines = self.state_texts[u].get_text().split("\n")
            half_w = max(max(len(s) for s in lines) * 0.56 * font * unit / 2, radius)
            height = len(lines) * 1.25 * font * unit
            top, bottom = y + radius, y - 0.3 - height
            boxes.append((x, (top + bottom) / 2, half_w, (top - bottom) / 2))
        return boxes

    def _place_labels(self, messages: list[tuple[dict, bool]],
                      texts: list[str | None]) -> list[tuple[float, float]]:
        """Greedy label placement: slide each label along its arrow until it overlaps no other.

        Start where the arrows spread out (near the receivers of a fan-out such as one
        proposer to all acceptors, near the sender of a fan-in such as acks to one
        proposer), then try points further along either way.
        """
        out_deg = Counter(ev["src"] for ev, _ in messages)
        in_deg = Counter(ev["dst"] for ev, _ in messages)
        unit = self._data_per_point()
        font = LABEL_FONT * self.fs
        placed = self._node_boxes(unit)
        spots = []
        for (ev, _), text in zip(messages, texts, strict=True):
            p1, p2 = self.pos[ev["src"]], self.pos[ev["dst"]]
            t0 = 0.5
            if out_deg[ev["src"]] > in_deg[ev["dst"]]:
                t0 = 0.64
            elif in_deg[ev["dst"]] > out_deg[ev["src"]]:
                t0 = 0.36
            if text is None:
                spots.append(bezier(p1, p2, t0))
                continue
            half_w = (len(text) * 0.56 + 0.8) * font * unit / 2
            half_h = 1.7 * font * unit / 2
            best, best_overlap = None, None
            for dt in (0, 0.1, -0.1, 0.2, -0.2, 0.28, -0.28, 0.34, -0.34):
                t = min(max(t0 + dt, 0.16), 0.84)
                x, y = bezier(p1, p2, t)
                overlap = sum(
                    max(0.0, min(x + half_w, bx + bw) - max(x - half_w, bx - bw))
                    * max(0.0, min(y + half_h, by + bh) - max(y - half_h, by - bh))
                    for bx, by, bw, bh in placed)
                if best_overlap is None or overlap < best_overlap:
                    best, best_overlap = (x, y), overlap
                if overlap == 0:
                    break
            placed.append((best[0], best[1], half_w, half_h))
            spots.append(best)
        return spots

    def _ends(self, p1, p2):
        """Arrow ends on the rims of the two discs, leaving along the curve's tangents.

        Done here rather than with FancyArrowPatch's shrinkA/B, which would cut the
        curve against a circle on every draw (a quarter of a frame's time).
        """
        if self._rim is None:
            self._rim = ((self.node_size ** 0.5) / 2 + 2) * self._data_per_point()
        (x1, y1), (x2, y2) = p1, p2
        cx, cy = (x1 + x2) / 2 + RAD * (y2 - y1), (y1 + y2) / 2 - RAD * (x2 - x1)
        ends = []
        for x, y in ((x1, y1), (x2, y2)):
            dx, dy = cx - x, cy - y
            d = (dx * dx + dy * dy) ** 0.5 or 1.0
            ends.append((x + self._rim * dx / d, y + self._rim * dy / d))
        return ends

    def _draw_messages(self, messages: list[tuple[dict, bool]]) -> None:
        messages = [(ev, d) for ev, d in messages
                    if ev["src"] in self.pos and ev["dst"] in self.pos]
        texts = self._label_texts(messages)
        spots = self._place_labels(messages, texts)
        crosses = []
        self._drawn = {}
        for k, ((ev, dropped), text, xy) in enumerate(zip(messages, texts, spots, strict=True)):
            arrow, label = self._arrow(k)
            self._drawn[ev.get("id")] = (arrow, label)
            color = phase_color(ev.get("phase"))
            arrow.set_positions(*self._ends(self.pos[ev["src"]], self.pos[ev["dst"]]))
            arrow.set_color(color)
            arrow.set_linestyle("--" if dropped else line_style(ev.get("msg")))
            arrow.set_alpha(0.5 if dropped else 0.95)
            arrow.set_visible(True)
            arrow.set_gid(f"{'drop' if dropped else 'msg'}-{ev.get('id')}")
            label.set_visible(text is not None)
            label.set_gid(f"label-{ev.get('id')}" if text is not None else None)
            if text is not None:
                label.set_position(xy)
                label.set_text(text)
                label.get_bbox_patch().set_edgecolor(color)
                label.set_color("#888888" if dropped else TEXT_COLOR)
            if dropped:
                crosses.append(xy)
        k = len(messages)
        for arrow, label in zip(self.arrows[k:], self.arrow_labels[k:], strict=True):
            arrow.set_visible(False)
            label.set_visible(False)
            arrow.set_gid(None)
            label.set_gid(None)
        self.crosses.set_data([c[0] for c in crosses], [c[1] for c in crosses])

    def _fill(self, uid: int) -> str:
        return keep(ROLE_FILLS.get(self.roles[uid], "#FFFFFF"), self.themed)

    def _name(self, uid: int) -> str:
        return node_name(uid, self.roles[uid])

    def _follow_roles(self) -> None:
        """Rename and refill nodes in place when a growing trace tells their roles."""
        if len(self.trace) == self._roles_seen:
            return
        self._roles_seen = len(self.trace)
        known = roles_of(self.trace)
        roles = {u: known.get(u, "consensus") for u in self.uids}
        if roles == self.roles:
            return
        self.roles = roles
        for u, label in self.labels.items():
            label.set_text(self._name(u))
        self.layers[1].invalidate()

    def update(self, at: int | None = None, since: int | None = None) -> list:
        """Show the run just after ``trace[at]``; returns the artists that changed."""
        self._follow_roles()
        w = self.replay.world(at, since)
        fills, edges = [], []
        for u in self.uids:
            alive = w.alive.get(u, True)
            fills.append(self._fill(u) if alive else CRASHED)
            edges.append("#333333" if alive else "#999999")
            text = self.state_texts[u]
            words = node_state_text(w.nodes.get(u, {}), self.roles[u], alive)
            color = TEXT_COLOR if alive else "#8A8A8A"
            if words != text.get_text() or color != text.get_color():
                text.set_text(words)
                text.set_color(color)
                self.state_layers[u].invalidate()
        self.nodes.set_facecolor(fills)
        self.nodes.set_edgecolor(edges)
        messages = [(ev, False) for ev in w.in_flight.values()]
        messages += [(ev, True) for ev in w.dropped]
        self._draw_messages(messages)
        self._set_banner(w)
        self.title.set_text(f"Basic Paxos, {describe_cursor(self.trace, w.at)}")
        return [self.nodes, self.banner, self.title, self.crosses, *self.state_texts.values(),
                *self.arrows, *self.arrow_labels, *self.comets.clear()]

    def glide(self, moving: Sequence[dict], t: float) -> list:
        """Draw ``moving`` (send events) ``t`` of the way along their arrows (see ``glide.py``).

        Call after ``update`` of the frame they leave from; their arrows fade behind them.
        """
        points = []
        for ev in moving:
            if ev["src"] not in self.pos or ev["dst"] not in self.pos:
                continue
            p1, p2 = self._ends(self.pos[ev["src"]], self.pos[ev["dst"]])
            x, y = bezier(p1, p2, t / 2 if ev.get("dropped") else t)
            arrow, label = self._drawn.get(ev.get("id"), (None, None))
            if arrow is not None:
                arrow.set_alpha(0.3)
                label.set_visible(False)
            points.append((x, y, phase_color(ev.get("phase")), message_label(ev["msg"])))
        return [*self.arrows, *self.arrow_labels, *self.comets.show(points)]

    def _set_banner(self, w) -> None:
        if w.violations:
            first = w.violations[0]
            more = f" (+{len(w.violations) - 1} more)" if len(w.violations) > 1 else ""
            text = f"SAFETY VIOLATED: {first.invariant}{more}\n" + "\n".join(
                textwrap.wrap(first.explanation, 110)[:2])
            look = (text, keep("white", self.themed), VIOLATION_COLOR, VIOLATION_COLOR)
        elif w.decided_values:
            text = "decided: " + ", ".join(fmt_value(v) for v in w.decided_values)
            look = (text, keep(TEXT_COLOR, self.themed), "#E3F4EC", DECIDED_COLOR)
        else:
            look = ("no value decided yet", "#555555", "white", "#BBBBBB")
        if look == self._banner_look:
            return
        self._banner_look = look
        text, color, face, edge = look
        self.banner.set_text(text)
        self.banner.set_color(color)
        self.banner.get_bbox_patch().set_facecolor(face)
        self.banner.get_bbox_patch().set_edgecolor(edge)
        self.banner_layer.invalidate()

    @property
    def violation_shown(self) -> bool:
        """True when the banner names a broken invariant."""
        return self.banner.get_text().startswith("SAFETY VIOLATED")


def draw_paxos(trace: Sequence[dict], at: int | None = None, ax: Axes | None = None) -> Figure:
    """Draw the Paxos roles, their state and the messages in flight just after event ``at``.

    ``at`` is an index into ``trace`` (None = the end); messages dropped by event
    ``at`` itself are shown crossed out.
    """
    view = PaxosView(trace, ax=ax)
    view.update(at)
    return view.fig
