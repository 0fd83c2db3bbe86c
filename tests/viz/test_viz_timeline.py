"""The space-time diagram: an arrow per delivered message, crosses for drops, a cursor."""

from __future__ import annotations

from matplotlib.colors import to_rgba

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
