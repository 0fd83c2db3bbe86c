"""The space-time diagram: an arrow per delivered message, crosses for drops, a cursor."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import FancyArrowPatch

from paxos_edu.viz import TimelineView, draw_timeline
from paxos_edu.viz.style import PAXOS_PHASES, phase_color


def sends_by_id(trace):
    return {ev["id"]: ev for ev in trace if ev["kind"] in ("send", "duplicate")}


def test_one_arrow_per_delivered_message_in_its_phase_colour(paxos_trace):
    view = TimelineView(paxos_trace)
    delivered = {ev["id"]: ev for ev in paxos_trace if ev["kind"] == "deliver"}
    arrows = {int(a.get_gid().split("-")[1]): a for a in view.arrows}
    assert arrows.keys() == delivered.keys()
    for mid, arrow in arrows.items():
        assert tuple(arrow.get_edgecolor()[:3]) == to_rgba(phase_color(delivered[mid]["phase"]))[:3]


def test_a_nack_is_dotted_and_every_other_message_solid(paxos_trace):
    view = TimelineView(paxos_trace)
    delivered = {ev["id"]: ev for ev in paxos_trace if ev["kind"] == "deliver"}
    styles = {mid: (delivered[mid]["msg"]["type"], a.get_linestyle())
              for mid, a in ((int(a.get_gid().split("-")[1]), a) for a in view.arrows)}
    assert {kind for kind, _ in styles.values()} >= {"Nack", "Ack", "Accepted"}
    for kind, style in styles.values():
        assert style == (":" if kind == "Nack" else "-"), kind
    legend = [t.get_text() for t in view.ax.get_legend().get_texts()]
    assert "nack (refused)" in legend


def test_arrows_run_from_the_send_to_the_delivery(paxos_trace):
    view = TimelineView(paxos_trace)
    sends = {ev["id"]: i for i, ev in enumerate(paxos_trace) if ev["kind"] == "send"}
    for arrow in view.arrows[:10]:
        mid = int(arrow.get_gid().split("-")[1])
        (x0, y0), (x1, y1) = arrow._posA_posB
        deliver = next(i for i, ev in enumerate(paxos_trace)
                       if ev["kind"] == "deliver" and ev["id"] == mid)
        assert (x0, x1) == (sends[mid], deliver)
        ev = paxos_trace[deliver]
        assert (y0, y1) == (view.rows[ev["src"]], view.rows[ev["dst"]])


def test_dropped_messages_end_in_a_cross(drop_trace):
    trace, mid, at = drop_trace
    view = TimelineView(trace)
    assert [d.get_gid() for d in view.drops] == [f"drop-{mid}"]
    assert list(view.drops[0].get_xdata()) == [at]


def test_decisions_are_marked(paxos_trace):
    fig = draw_timeline(paxos_trace)
    ax = fig.axes[0]
    marks = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("decide-")]
    assert len(marks) == sum(1 for ev in paxos_trace if ev["kind"] == "decide")


def test_the_cursor_stands_at_the_event(paxos_trace):
    view = TimelineView(paxos_trace)
    view.update(42)
    assert list(view.cursor.get_xdata()) == [42, 42]
    assert "event 42" in view.title.get_text()


def test_rows_are_nodes_in_role_order_with_a_phase_legend(paxos_trace):
    fig = draw_timeline(paxos_trace, at=10)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["C6 client", "C7 client", "P0 proposer", "P1 proposer", "A2 acceptor",
                     "A3 acceptor", "A4 acceptor", "L5 learner"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(any(e.startswith(p + " ") for e in legend) for p in PAXOS_PHASES)


def test_time_axis_may_be_the_clock(paxos_trace):
    view = TimelineView(paxos_trace, x="time")
    assert view.xs[-1] == paxos_trace[-1]["t"]


def test_a_safety_violation_is_marked_where_it_is_found(amnesia_trace, paxos_trace):
    from paxos_edu import check_safety

    ax = draw_timeline(amnesia_trace).axes[0]
    marks = [ln for ln in ax.lines if ln.get_gid() == "violation"]
    found = check_safety(amnesia_trace)
    assert len(marks) == len(found) == 1
    assert list(marks[0].get_xdata()) == [max(found[0].events)] * 2
    assert "monotonic promises" in [t.get_text() for t in ax.texts]
    clean = draw_timeline(paxos_trace).axes[0]
    assert not [ln for ln in clean.lines if ln.get_gid() == "violation"]


# -- following a growing trace (the dashboard appends to one list on every Step) ---------------

def pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def roles_sent(trace) -> int:
    """The index of the leader's Roles message (the first one)."""
    return next(i for i, ev in enumerate(trace)
                if ev["kind"] == "send" and ev["msg"]["type"] == "Roles")


def test_a_view_following_a_growing_trace_draws_what_a_new_view_draws(
        paxos_trace, amnesia_trace, crash_trace):
    for trace in (paxos_trace, amnesia_trace, crash_trace[0]):
        whole = TimelineView(trace)
        whole.update(40)
        grown: list[dict] = []  # from nothing: nodes appear, then their roles
        view = TimelineView(grown, figsize=tuple(whole.fig.get_size_inches()))
        for k, ev in enumerate(trace):
            grown.append(ev)
            if k % 5 == 0:  # frames along the way, as the dashboard draws them
                view.update()
                view.fig.canvas.draw()
        view.update(40)
        assert [a.get_gid() for a in view.arrows] == [a.get_gid() for a in whole.arrows]
        assert [a._posA_posB for a in view.arrows] == [a._posA_posB for a in whole.arrows]
        assert [d.get_gid() for d in view.drops] == [d.get_gid() for d in whole.drops]
        assert sorted(t.get_text() for t in view.ax.texts) == \
            sorted(t.get_text() for t in whole.ax.texts)
        assert np.array_equal(pixels(view.fig), pixels(whole.fig))


def test_new_events_add_artists_and_only_those_are_rendered(paxos_trace, monkeypatch):
    drawn = []
    real = FancyArrowPatch.draw

    def counting(self, renderer):
        drawn.append(self.get_gid())
        return real(self, renderer)

    monkeypatch.setattr(FancyArrowPatch, "draw", counting)
    cut = roles_sent(paxos_trace) + 20
    grown = list(paxos_trace[:cut])
    view = TimelineView(grown, room=0.5)
    pixels(view.fig)
    first = list(view.arrows)
    assert first and sorted(drawn) == sorted(a.get_gid() for a in first)
    limits = view.ax.get_xlim()
    drawn.clear()
    grown.extend(paxos_trace[cut:cut + 12])
    view.update()
    pixels(view.fig)
    assert view.ax.get_xlim() == limits  # within the spare room: no rescaling
    assert view.arrows[:len(first)] == first
    new = view.arrows[len(first):]
    assert new and sorted(drawn) == sorted(a.get_gid() for a in new)
    drawn.clear()
    grown.extend(paxos_trace[cut + 12:])  # past the spare room: the axis grows, all redrawn
    view.update()
    pixels(view.fig)
    assert view.ax.get_xlim()[1] > limits[1] >= len(paxos_trace[:cut + 12])
    assert sorted(drawn) == sorted(a.get_gid() for a in view.arrows)


def test_roles_learned_later_relabel_the_rows_in_place(paxos_trace):
    grown = list(paxos_trace[:roles_sent(paxos_trace)])
    view = TimelineView(grown)
    assert "P0 proposer" not in [t.get_text() for t in view.ax.get_yticklabels()]
    arrows, rows = list(view.arrows), dict(view.rows)
    grown.extend(paxos_trace[len(grown):])
    view.update()
    ticks = [t.get_text() for t in view.ax.get_yticklabels()]
    assert ticks[:3] == ["C6 client", "C7 client", "P0 proposer"]
    assert view.rows == rows and view.arrows[:len(arrows)] == arrows


def test_spare_room_on_the_time_axis(paxos_trace):
    n = len(paxos_trace)
    assert TimelineView(paxos_trace).ax.get_xlim() == (-1, n)
    roomy = TimelineView(paxos_trace, room=0.5)
    assert roomy.ax.get_xlim() == (-1, -1 + 1.5 * (n + 1))
    roomy.update()
    assert roomy.cursor.get_xdata()[0] == n - 1


def test_a_trace_that_shrinks_is_refused(paxos_trace):
    grown = list(paxos_trace[:50])
    view = TimelineView(grown)
    del grown[40:]
    with pytest.raises(ValueError, match="shrank"):
        view.update()
