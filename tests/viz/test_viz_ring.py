"""The ring diagram draws the election as the trace tells it at the cursor."""

from __future__ import annotations

import re

from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from paxos_edu.viz import RingView, draw_ring
from paxos_edu.viz.state import ring_order
from paxos_edu.viz.style import CR_BLACK, CR_RED, CRASHED, LEADER_EDGE


def visible_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_visible() and t.get_text()]


def token_sends(trace, at):
    return sum(1 for ev in trace[: at + 1]
               if ev["kind"] == "send" and ev["msg"]["type"] == "Token")


def test_returns_a_figure_with_every_uid_as_a_label(ring_trace):
    fig = draw_ring(ring_trace, at=60)
    assert isinstance(fig, Figure)
    texts = visible_texts(fig.axes[0])
    for uid in range(11):
        assert str(uid) in texts


def test_node_colours_are_the_colours_in_the_trace_at_the_cursor(ring_trace, state_at):
    view = RingView(ring_trace)
    for at in (15, 40, 60, 90, None):
        view.update(at)
        idx = len(ring_trace) - 1 if at is None else at
        faces = view.nodes.get_facecolors()
        assert len(faces) == 11
        for uid, face in zip(view.order, faces, strict=True):
            color = state_at(ring_trace, uid, idx).get("color", "red")
            assert tuple(face) == to_rgba(CR_BLACK if color == "black" else CR_RED), (at, uid)


def test_the_leader_is_marked_once_elected(ring_trace):
    view = RingView(ring_trace)
    view.update(None)
    leader = view.order.index(10)
    edges = view.nodes.get_edgecolors()
    assert tuple(edges[leader]) == to_rgba(LEADER_EDGE)
    assert sum(tuple(e) == to_rgba(LEADER_EDGE) for e in edges) == 1
    assert view.leader_text.get_visible()
    view.update(20)
    assert not view.leader_text.get_visible()


def test_tokens_in_flight_are_written_on_their_edge(ring_trace, in_flight_at):
    view = RingView(ring_trace)
    for at in (12, 30, 55):
        view.update(at)
        expected: dict[tuple[int, int], list[str]] = {}
        for ev in in_flight_at(ring_trace, at).values():
            if ev["msg"]["type"] == "Token":
                expected.setdefault((ev["src"], ev["dst"]), []).append(str(ev["msg"]["uid"]))
        shown = {edge: t.get_text().split(", ") for edge, t in view.token_texts.items()
                 if t.get_visible()}
        assert shown == expected


def test_caption_counts_tokens_against_best_and_worst_case(ring_trace):
    at = 50
    fig = draw_ring(ring_trace, at=at)
    caption = next(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "caption")
    assert f"so far: {token_sends(ring_trace, at)} " in caption
    assert "2n−1 = 21" in caption and "n(n+1)/2 = 66" in caption


def test_ring_order_is_clockwise_from_the_top_in_token_order(ring_trace):
    view = RingView(ring_trace)
    assert view.order == ring_order(ring_trace)
    x0, y0 = view.pos[view.order[0]]
    x1, _ = view.pos[view.order[1]]
    assert abs(x0) < 1e-9 and y0 > 0.99 and x1 > 0  # top, then to the right


def test_an_explicit_ring_argument_wins(ring_trace):
    view = RingView(ring_trace, ring=list(range(11)))
    assert view.order == list(range(11))


def test_crashed_nodes_are_grey(crash_trace):
    trace, uid = crash_trace
    view = RingView(trace)
    view.update(None)
    assert tuple(view.nodes.get_facecolors()[view.order.index(uid)]) == to_rgba(CRASHED)


def test_draws_into_a_given_axes(ring_trace):
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_ring(ring_trace, at=10, ax=ax) is fig
    assert re.search(r"event 10", " ".join(visible_texts(ax)))
