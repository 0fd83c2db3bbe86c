"""Where the Paxos diagram puts its nodes (columns by role) and how its arrows bend."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx

from .state import ROLE_ORDER

XSTEP, YSTEP = 3.3, 1.45     # data units between columns / between nodes in a column
SUBSTEP = 1.7                # between the sub-columns of one crowded role
MAX_ROWS = 8                 # nodes in a column before the role folds into sub-columns
RAD = 0.12                   # arc3 bend: A→B and B→A curve to opposite sides


def layered_positions(roles: dict[int, str]) -> tuple[dict[int, tuple[float, float]],
                                                      list[tuple[str, float]]]:
    """Node positions in columns by role (networkx multipartite layout), lowest uid on top.

    A role with more than ``MAX_ROWS`` nodes is folded into several narrower
    sub-columns, every other one shifted half a row down so arrows can pass
    between the nodes. Returns the positions and each role column's (role, centre x),
    left to right.
    """
    columns = [r for r in (*ROLE_ORDER, "consensus") if r in roles.values()]
    if "consensus" in columns and len(columns) > 1:
        # Nodes whose role is not known yet stand in the middle, between clients and the rest.
        columns.remove("consensus")
        columns.insert(min(1, len(columns)), "consensus")
    graph = nx.Graph()
    layer_x: list[float] = []
    centres: list[tuple[str, float]] = []
    x = 0.0
    for role in columns:
        members = sorted(u for u, r in roles.items() if r == role)
        folds = -(-len(members) // MAX_ROWS)
        rows = -(-len(members) // folds)
        first = x
        for k, uid in enumerate(members):
            if k % rows == 0:
                if k:
                    x += SUBSTEP
                layer_x.append(x)
            graph.add_node(uid, layer=len(layer_x) - 1, fold=k // rows)
        centres.append((role, (first + x) / 2))
        x += XSTEP
    raw = nx.multipartite_layout(graph, subset_key="layer", align="vertical")
    # Before scaling, the layout puts layers one unit apart and nodes in a layer one
    # unit apart: recover that unit, then place layers at our own x and flip y so the
    # first uid is on top.
    xs = sorted({round(float(p[0]), 9) for p in raw.values()})
    ys = sorted({round(float(p[1]), 9) for p in raw.values()})
    gaps = [b - a for a, b in pairwise(xs)] or [b - a for a, b in pairwise(ys)] or [1.0]
    unit = min(gaps)
    pos = {}
    for u, p in raw.items():
        data = graph.nodes[u]
        stagger = YSTEP / 2 if data["fold"] % 2 else 0.0
        pos[u] = (layer_x[data["layer"]], -float(p[1]) / unit * YSTEP - stagger)
    return pos, centres


def bezier(p1, p2, t: float, rad: float = RAD) -> tuple[float, float]:
    """The point at ``t`` on matplotlib's arc3 curve from p1 to p2 (control: midpoint + rad * normal)."""
    (x1, y1), (x2, y2) = p1, p2
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t ** 2
    return a * x1 + b * cx + c * x2, a * y1 + b * cy + c * y2
