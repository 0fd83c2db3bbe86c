"""The Chang-Roberts ring: who is still red, which tokens are travelling, who leads.

Nodes sit on a circle in ring order, clockwise from the top, so tokens always
travel clockwise. A node is red while it may still win and black once a larger
uid has passed it (it then relays every token); the leader gets an orange
outline. Each token in flight is written on the edge it is travelling, as the
uid it carries. The caption compares the Token messages sent so far with the
best case 2n−1 (uids ascending along the ring) and the worst case n(n+1)/2
(descending).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .glide import Comets
from .labels import describe_cursor
from .layer import StaticLayer
from .state import Replay, ring_order
from .style import (
    CR_BLACK,
    CR_RED,
    CRASHED,
    DROP_COLOR,
    LEADER_EDGE,
    TEXT_COLOR,
    keep,
    new_axes,
    node_color,
    phase_color,
    scale_factor,
    title_text,
)

TOKEN_FILL = "#FFF3D1"


def best_case(n: int) -> int:
    """Fewest Token messages Chang-Roberts needs on n nodes (uids ascending): 2n − 1."""
    return 2 * n - 1


def worst_case(n: int) -> int:
    """Most Token messages on n nodes (uids descending along the ring): n(n+1)/2."""
    return n * (n + 1) // 2


class RingView:
    """A ring diagram bound to one trace; ``update(at)`` changes artists in place.

    ``nodes`` is the PathCollection of node discs (in ``order``), ``labels`` the
    uid texts, ``token_texts`` one text per ring edge listing the tokens on it.
    ``show_event=False`` leaves the current event out of the title (when another
    view beside it already names it).
    """

    def __init__(self, trace: Sequence[dict], ax: Axes | None = None,
                 ring: Sequence[int] | None = None, figsize: tuple[float, float] = (7, 7.2),
                 show_event: bool = True, scale: float | str = 1.0, themed: bool = False):
        self.trace = trace
        self.scale = big = scale_factor(scale)
        self.themed = themed
        self.show_event = show_event
        self.replay = Replay(trace)
        own = ax is None
        self.fig, self.ax = new_axes(ax, figsize)
        if own:
            self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.91)
        self.order = ring_order(trace, ring)
        n = self.n = len(self.order)
        ax = self.ax
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.95, 1.4)
        self.pos = {u: (math.cos(math.pi / 2 - 2 * math.pi * k / n),
                        math.sin(math.pi / 2 - 2 * math.pi * k / n))
                    for k, u in enumerate(self.order)}
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(self.order)
        if n > 1:
            nx.add_cycle(self.graph, self.order)
        # Node discs shrink with n so neighbours never touch (about 60% of the spacing).
        spacing_pt = 2 * math.pi * 150 / max(n, 1)
        self.node_size = min(900.0 * big * big, (0.6 * spacing_pt) ** 2)
        font = (10 if n <= 16 else (7 if n <= 32 else 5.5)) * big
        white = keep("white", themed)  # on red and black nodes, whatever the page
        self.edges = nx.draw_networkx_edges(
            self.graph, self.pos, ax=ax, arrows=True, arrowstyle="-|>", arrowsize=10,
            node_size=self.node_size, edge_color="#A0A0A0", width=1.2)
        self.nodes = nx.draw_networkx_nodes(
            self.graph, self.pos, nodelist=self.order, ax=ax, node_size=self.node_size,
            node_color=[CR_RED] * n, edgecolors=[white] * n, linewidths=1.0)
        self.nodes.set_gid("ring-nodes")
        self.nodes.set_zorder(2)
        self.labels = nx.draw_networkx_labels(
            self.graph, self.pos, labels={u: str(u) for u in self.order}, ax=ax,
            font_color=white, font_size=font, font_weight="bold")
        for text in self.labels.values():
            text.set_zorder(3)
        # One text per edge, just outside the ring, so stacked tokens never hide the nodes.
        self.token_texts: dict[tuple[int, int], object] = {}
        tfont = (9 if n <= 16 else (7 if n <= 32 else 5.5)) * big
        for k, u in enumerate(self.order):
            v = self.order[(k + 1) % n]
            ang = math.pi / 2 - 2 * math.pi * (k + 0.5) / n
            r = 1.0 if n < 4 else math.cos(math.pi / n)  # the chord's midpoint radius
            out = r + 0.07 + 0.09 * min(1.0, 12 / n)
            x, y = out * math.cos(ang), out * math.sin(ang)
            self.token_texts[(u, v)] = ax.text(
                x, y, "", ha="center", va="center", fontsize=tfont, color=TEXT_COLOR, zorder=4,
                bbox=dict(boxstyle="round,pad=0.2", fc=TOKEN_FILL, ec="#2B2B2B", lw=0.8),
                visible=False, gid=f"tokens-{u}-{v}")
        self.leader_text = ax.text(0, 0, "leader", ha="center", va="center", fontsize=9 * big,
                                   color=LEADER_EDGE, fontweight="bold", visible=False,
                                   gid="leader", zorder=4)
        self.title = title_text(ax, fontsize=11 * big)
        self.comets = Comets(ax, size=self.node_size * 0.3, fontsize=tfont)
        self.caption = ax.text(0.5, 0.0, "", transform=ax.transAxes, ha="center", va="bottom",
                               fontsize=9.5 * big, color=TEXT_COLOR, gid="caption")
        legend = ax.legend(handles=[
            Line2D([], [], ls="", marker="o", ms=9 * big, mfc=CR_RED, mec=white,
                   label="red: may still win"),
            Line2D([], [], ls="", marker="o", ms=9 * big, mfc=keep(CR_BLACK, themed), mec=white,
                   label="black: relays every token"),
            Line2D([], [], ls="", marker="o", ms=9 * big, mfc="white", mec=LEADER_EDGE, mew=3,
                   label="leader"),
            Line2D([], [], ls="", marker="o", ms=9 * big, mfc=CRASHED, mec=white,
                   label="crashed"),
            Line2D([], [], ls="", marker="s", ms=9 * big, mfc=TOKEN_FILL, mec="#2B2B2B",
                   label="tokens on an edge (their uids)"),
        ], loc="lower center", fontsize=8 * big, frameon=False, bbox_to_anchor=(0.5, 0.075),
            ncol=3 if big < 1.2 else 2)
        # What never changes is drawn once and pasted on later frames (see layer.py).
        self.layers = [StaticLayer(ax, [*self.edges, legend], zorder=0.5),
                       StaticLayer(ax, self.labels.values(), zorder=3)]

    def update(self, at: int | None = None, since: int | None = None) -> list:
        """Show the ring just after ``trace[at]``; returns the artists that changed."""
        w = self.replay.world(at, since)
        colors = [keep(node_color(w.nodes.get(u, {}).get("color"), w.alive.get(u, True)),
                       self.themed) for u in self.order]
        leader = w.leader
        self.nodes.set_facecolor(colors)
        white = keep("white", self.themed)
        self.nodes.set_edgecolor([LEADER_EDGE if u == leader else white for u in self.order])
        self.nodes.set_linewidths([3.5 if u == leader else 1.0 for u in self.order])
        on_edge: dict[tuple[int, int], list[str]] = defaultdict(list)
        for ev in w.in_flight.values():
            if ev["msg"].get("type") == "Token":
                on_edge[(ev["src"], ev["dst"])].append(str(ev["msg"]["uid"]))
        for ev in w.dropped:
            if ev["msg"].get("type") == "Token":
                on_edge[(ev["src"], ev["dst"])].append(f"✗{ev['msg']['uid']}")
        for edge, text in self.token_texts.items():
            tokens = on_edge.get(edge)
            text.set_visible(bool(tokens))
            if tokens:
                text.set_text(", ".join(tokens))
                dropped = any(t.startswith("✗") for t in tokens)
                text.get_bbox_patch().set_edgecolor(DROP_COLOR if dropped else "#2B2B2B")
        if leader in self.pos:
            x, y = self.pos[leader]
            self.leader_text.set_position((x * 1.38, y * 1.3))
            self.leader_text.set_visible(True)
        else:
            self.leader_text.set_visible(False)
        n = self.n
        self.caption.set_text(
            f"Token messages so far: {w.tokens_sent}   (n = {n})\n"
            f"best case 2n−1 = {best_case(n)},   worst case n(n+1)/2 = {worst_case(n)}")
        status = f"leader {leader}" if leader is not None else "electing"
        title = f"Chang-Roberts ring, {status}"
        if self.show_event:
            title += "\n" + describe_cursor(self.trace, w.at)
        self.title.set_text(title)
        return [self.nodes, self.leader_text, self.caption, self.title,
                *self.token_texts.values(), *self.comets.clear()]

    def glide(self, moving: Sequence[dict], t: float) -> list:
        """Draw the tokens among ``moving`` (send events) ``t`` of the way along their edges."""
        points = []
        for ev in moving:
            if ev["msg"].get("type") != "Token" or not {ev["src"], ev["dst"]} <= set(self.pos):
                continue
            (x1, y1), (x2, y2) = self.pos[ev["src"]], self.pos[ev["dst"]]
            f = 0.15 + 0.7 * (t / 2 if ev.get("dropped") else t)  # from rim to rim, roughly
            points.append((x1 + f * (x2 - x1), y1 + f * (y2 - y1), phase_color("election"),
                           str(ev["msg"]["uid"])))
        return self.comets.show(points)


def draw_ring(trace: Sequence[dict], at: int | None = None, ax: Axes | None = None,
              ring: Sequence[int] | None = None) -> Figure:
    """Draw the Chang-Roberts ring just after event ``at`` (None = the end of the trace).

    Ring order comes from the Token sends in the trace, or from ``ring``.
    """
    view = RingView(trace, ax=ax, ring=ring)
    view.update(at)
    return view.fig
