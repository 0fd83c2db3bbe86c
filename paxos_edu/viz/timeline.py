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
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ..trace import check_safety
from .labels import node_name
from .layer import StaticLayer
from .state import ROLE_ORDER, resolve, roles_of
from .style import (
    DROP_COLOR,
    TEXT_COLOR,
    VIOLATION_COLOR,
    fmt_value,
    new_axes,
    phase_color,
    phase_handles,
    title_text,
)


class TimelineView:
    """A space-time diagram of the whole trace; ``update(at)`` only moves the cursor.

    ``rows`` maps uid -> y; ``arrows`` holds one patch per delivered message
    (gid ``msg-<id>``), ``drops`` one cross per dropped message.
    """

    def __init__(self, trace: Sequence[dict], ax: Axes | None = None, x: str = "index",
                 figsize: tuple[float, float] | None = None):
        if x not in ("index", "time"):
            raise ValueError(f"x={x!r}: must be 'index' or 'time'")
        self.trace = trace
        self.x_mode = x
        self.roles = roles_of(trace)
        rank = {r: k for k, r in enumerate((*ROLE_ORDER, "consensus"))}
        order = sorted(self.roles, key=lambda u: (rank[self.roles[u]], u))
        self.rows = {u: -k for k, u in enumerate(order)}
        own = ax is None
        if figsize is None:
            figsize = (13.0, max(3.5, 0.42 * len(order) + 1.6))
        self.fig, self.ax = new_axes(ax, figsize)
        if own:
            # Room on the right for the legend, on the left for the node names.
            self.fig.subplots_adjust(left=0.1, right=0.86, top=0.9,
                                     bottom=max(0.1, 0.55 / figsize[1]))
        self.xs = [float(i) if x == "index" else float(ev["t"]) for i, ev in enumerate(trace)]
        self._draw()

    def _draw(self) -> None:
        ax, trace, xs, rows = self.ax, self.trace, self.xs, self.rows
        x_end = (xs[-1] if xs else 0.0) + 1.0
        x_start = (xs[0] if xs else 0.0) - 1.0
        down: dict[int, float] = {}
        downs: list[tuple[int, float, float]] = []
        for i, ev in enumerate(trace):
            if ev["kind"] == "crash":
                down.setdefault(ev["src"], xs[i])
            elif ev["kind"] == "restart" and ev["src"] in down:
                downs.append((ev["src"], down.pop(ev["src"]), xs[i]))
        downs += [(u, x0, x_end) for u, x0 in down.items()]
        for y in rows.values():
            ax.plot([x_start, x_end], [y, y], color="#BBBBBB", lw=1, zorder=0)
        for u, x0, x1 in downs:
            ax.plot([x0, x1], [rows[u], rows[u]], color="white", lw=2.5, zorder=0.5)
            ax.plot([x0, x1], [rows[u], rows[u]], color="#999999", lw=1, ls=":", zorder=0.6)
        sends: dict[int, int] = {}
        self.arrows: list[FancyArrowPatch] = []
        self.drops: list = []
        ends: set[int] = set()
        for i, ev in enumerate(trace):
            kind, mid = ev["kind"], ev.get("id")
            if kind in ("send", "duplicate") and mid is not None:
                sends[mid] = i
            elif kind in ("deliver", "drop") and mid in sends:
                j = sends[mid]
                ends.add(mid)
                src, dst = rows.get(ev["src"]), rows.get(ev["dst"])
                if src is None or dst is None:
                    continue
                color = phase_color(ev.get("phase"))
                if kind == "deliver":
                    arrow = FancyArrowPatch((xs[j], src), (xs[i], dst), arrowstyle="-|>",
                                            mutation_scale=8, color=color, lw=1.1, shrinkA=0,
                                            shrinkB=0, zorder=2, gid=f"msg-{mid}")
                    ax.add_patch(arrow)
                    self.arrows.append(arrow)
                else:
                    ax.plot([xs[j], xs[i]], [src, dst], color=color, lw=1.1, zorder=2)
                    (cross,) = ax.plot([xs[i]], [dst], marker="X", ms=8, color=DROP_COLOR,
                                       mec="white", mew=0.6, zorder=4, gid=f"drop-{mid}")
                    self.drops.append(cross)
            elif kind == "decide":
                y = rows.get(ev["src"])
                if y is not None:
                    ax.plot([xs[i]], [y], marker="*", ms=13, color=phase_color("3"),
                            mec="#333333", mew=0.6, zorder=5, gid=f"decide-{i}")
                    ax.annotate(fmt_value(ev["msg"].get("v")), (xs[i], y), xytext=(0, 7),
                                textcoords="offset points", ha="center", fontsize=7.5,
                                color=TEXT_COLOR, zorder=5)
            elif kind == "crash" and ev["src"] in rows:
                ax.plot([xs[i]], [rows[ev["src"]]], marker="X", ms=10, color="#333333", zorder=5)
            elif kind == "restart" and ev["src"] in rows:
                amnesia = (ev.get("msg") or {}).get("amnesia")
                ax.plot([xs[i]], [rows[ev["src"]]], marker="o", ms=6, mfc="white",
                        mec=DROP_COLOR if amnesia else "#333333", mew=1.5, zorder=5)
                if amnesia:
                    ax.annotate("amnesia", (xs[i], rows[ev["src"]]), xytext=(0, -10),
                                textcoords="offset points", ha="center", fontsize=7,
                                color=DROP_COLOR)
            elif kind == "timer" and ev.get("dst") in rows:
                ax.plot([xs[i]], [rows[ev["dst"]]], marker="|", ms=7, color="#777777", zorder=3)
        # A broken invariant: a red line where the checker first sees it, named at the top.
        index_of = {ev.get("seq", i): i for i, ev in enumerate(trace)}
        for v in check_safety(trace):
            found = [index_of[s] for s in v.events if s in index_of]
            if found:
                x = xs[max(found)]
                ax.axvline(x, color=VIOLATION_COLOR, lw=1.2, ls="--", zorder=4,
                           gid="violation")
                ax.annotate(v.invariant, (x, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(3, -2), textcoords="offset points", ha="left", va="top",
                            fontsize=8, color=VIOLATION_COLOR, zorder=5)
        for mid, j in sends.items():
            if mid in ends:
                continue
            ev = trace[j]
            src, dst = rows.get(ev["src"]), rows.get(ev["dst"])
            if src is not None and dst is not None:
                mid_y = src + (dst - src) * 0.5
                ax.plot([xs[j], x_end], [src, mid_y], color=phase_color(ev.get("phase")),
                        lw=1, ls="--", alpha=0.6, zorder=2)
        ax.set_yticks(list(rows.values()))
        ax.set_yticklabels([f"{node_name(u, self.roles[u])} {self.roles[u]}" for u in rows],
                           fontsize=8.5)
        ax.set_xlim(x_start, x_end)
        ax.set_ylim(min(rows.values(), default=0) - 0.7, 0.7)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("event index" if self.x_mode == "index" else "time (ms)", fontsize=9)
        ax.legend(handles=phase_handles(), loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  fontsize=8, frameon=False, title="messages by phase", title_fontsize=8)
        # The whole diagram is static; only the cursor, the fade and the title move.
        self.layer = StaticLayer(ax, [*ax.lines, *ax.patches, *ax.texts, ax.get_legend(),
                                      ax.xaxis, ax.yaxis, *ax.spines.values()], zorder=1)
        self.cursor = ax.axvline(x_end, color=TEXT_COLOR, lw=1.5, zorder=6, gid="cursor")
        self.future = ax.axvspan(x_end, x_end, color="white", alpha=0.65, lw=0, zorder=5.5)
        self.title = title_text(ax, fontsize=11)
        self._x_end = x_end

    def update(self, at: int | None = None, since: int | None = None) -> list:
        """Move the cursor to just after ``trace[at]`` and fade what comes later."""
        idx = resolve(self.trace, at) if self.trace else 0
        x = self.xs[idx] if self.trace else 0.0
        self.cursor.set_xdata([x, x])
        # In index mode the next event is one unit on: fade from halfway there.
        start = x + (0.5 if self.x_mode == "index" else 0.0)
        self.future.set_x(start if idx < len(self.trace) - 1 else self._x_end)
        self.future.set_width(max(self._x_end - start, 0.0))
        self.title.set_text(f"Space-time diagram, cursor at event {idx}")
        return [self.cursor, self.future, self.title]


def draw_timeline(trace: Sequence[dict], at: int | None = None, ax: Axes | None = None,
                  x: str = "index") -> Figure:
    """Draw the whole run as a space-time diagram with a cursor at event ``at`` (None = end)."""
    view = TimelineView(trace, ax=ax, x=x)
    view.update(at)
    return view.fig
