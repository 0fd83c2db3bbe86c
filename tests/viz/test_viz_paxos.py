"""The Paxos diagram: node states in words, an arrow per message in flight, the banner."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from paxos_edu import check_safety
from paxos_edu.viz import PaxosView, draw_paxos, message_label
from paxos_edu.viz.style import CRASHED, PAXOS_PHASES, VIOLATION_COLOR, phase_color


def visible_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_visible() and t.get_text()]


def arrows_by_id(ax, tag: str = "msg") -> dict[int, object]:
    return {int(p.get_gid().split("-")[1]): p for p in ax.patches
            if p.get_visible() and (p.get_gid() or "").startswith(f"{tag}-")}


def labels_by_id(ax) -> dict[int, str]:
    return {int(t.get_gid().split("-")[1]): t.get_text() for t in ax.texts
            if t.get_visible() and (t.get_gid() or "").startswith("label-")}


def test_messages_are_written_number_first_with_ghosh_bottoms():
    assert message_label({"type": "Proposal", "n": 6, "v": 210}) == "proposal(6, 210)"
    assert message_label({"type": "Ack", "n": 7, "accepted_v": 220,
                          "accepted_n": 6}) == "ack(7, 6, 220)"
    assert message_label({"type": "Ack", "n": 7, "accepted_v": None,
                          "accepted_n": 0}) == "ack(7, ⊥, ⊥)"
    assert message_label({"type": "Nack", "n": 6, "promised": 7}) == "nack(6, 7)"
    assert message_label({"type": "Accept", "n": 7, "v": "x"}) == "accept(7, 'x')"
    assert message_label({"type": "Accepted", "n": 7, "v": 220}) == "accepted(7, 220)"
    assert message_label({"type": "Decided", "n": 7, "v": 220}) == "decided(220)"
    assert message_label({"type": "Request", "v": 210}) == "request(210)"


def test_every_node_is_labelled_with_its_role_and_uid(paxos_trace):
    fig = draw_paxos(paxos_trace, at=100)
    assert isinstance(fig, Figure)
    texts = visible_texts(fig.axes[0])
    for name in ("P0", "P1", "A2", "A3", "A4", "L5", "C6", "C7"):
        assert name in texts
    for column in ("clients", "proposers", "acceptors", "learners"):
        assert column in texts


def test_a_diagram_drawn_into_a_subfigure_scales_like_one_in_a_figure(paxos_trace):
    whole = draw_paxos(paxos_trace, at=100)
    parent = Figure(figsize=tuple(whole.get_size_inches() * (2, 1)))
    left, _ = parent.subfigures(1, 2)
    ax = left.add_subplot()
    ax.set_position(whole.axes[0].get_position())
    draw_paxos(paxos_trace, at=100, ax=ax)
    assert visible_texts(ax) == visible_texts(whole.axes[0])
    sizes = [sorted(t.get_fontsize() for t in a.texts) for a in (ax, whole.axes[0])]
    assert sizes[0] == sizes[1]


def test_one_arrow_per_message_in_flight_in_its_phase_colour(paxos_trace, in_flight_at):
    view = PaxosView(paxos_trace)
    for at in (45, 67, 75, 96, 100, 124):
        view.update(at)
        flying = in_flight_at(paxos_trace, at)
        arrows = arrows_by_id(view.ax)
        labels = labels_by_id(view.ax)
        assert arrows.keys() == flying.keys(), at
        assert labels.keys() == flying.keys(), at
        for mid, ev in flying.items():
            assert tuple(arrows[mid].get_edgecolor()[:3]) == to_rgba(phase_color(ev["phase"]))[:3]
            assert labels[mid] == message_label(ev["msg"])


def test_nacks_in_flight_are_dotted(paxos_trace, in_flight_at):
    view = PaxosView(paxos_trace)
    seen = set()
    for at in range(len(paxos_trace)):
        flying = in_flight_at(paxos_trace, at)
        if not any(ev["msg"]["type"] == "Nack" for ev in flying.values()):
            continue
        view.update(at)
        for mid, arrow in arrows_by_id(view.ax).items():
            kind = flying[mid]["msg"]["type"]
            seen.add(kind)
            assert arrow.get_linestyle() == (":" if kind == "Nack" else "-"), (at, kind)
    assert "Nack" in seen and len(seen) > 1


def test_arrow_labels_at_phase_2_1(paxos_trace):
    view = PaxosView(paxos_trace)
    view.update(96)  # proposer 1 has just sent accept(7, 220) to all three acceptors
    labels = sorted(labels_by_id(view.ax).values())
    assert labels.count("accept(7, 220)") == 3
    assert "nack(6, 7)" in labels and "ack(7, ⊥, ⊥)" in labels


def test_the_legend_lists_the_five_phases(paxos_trace):
    fig = draw_paxos(paxos_trace)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for phase in PAXOS_PHASES:
        assert any(entry.startswith(phase + " ") for entry in legend), phase
    assert {"1.1 proposal", "1.2 ack / nack", "2.1 accept", "2.2 accepted",
            "3 decided"} <= set(legend)


def test_nodes_show_their_state_in_words(paxos_trace):
    view = PaxosView(paxos_trace)
    view.update(None)
    words = {u: t.get_text() for u, t in view.state_texts.items()}
    assert "promised 12" in words[2] and "accepted (12, 220)" in words[2]
    assert words[1].startswith("n=7  v=220") and "done" in words[1]
    assert "learned 220" in words[5]
    assert "wants 210" in words[6] and "told 220" in words[6]


def test_banner_names_the_decided_value(paxos_trace):
    view = PaxosView(paxos_trace)
    view.update(100)
    assert view.banner.get_text() == "no value decided yet"
    view.update(None)
    assert view.banner.get_text() == "decided: 220"
    assert not view.violation_shown


def test_violation_banner_appears_exactly_when_check_safety_reports(amnesia_trace):
    view = PaxosView(amnesia_trace)
    seen = set()
    for at in range(len(amnesia_trace)):
        view.update(at)
        broken = bool(check_safety(amnesia_trace[: at + 1]))
        assert view.violation_shown == broken, at
        seen.add(broken)
        if broken:
            assert "monotonic promises" in view.banner.get_text()
            assert to_rgba(view.banner.get_bbox_patch().get_facecolor()) == to_rgba(
                VIOLATION_COLOR)
    assert seen == {False, True}


def test_a_dropped_message_is_crossed_out_for_one_frame(drop_trace):
    trace, mid, at = drop_trace
    view = PaxosView(trace)
    view.update(at)
    dropped = arrows_by_id(view.ax, "drop")
    assert list(dropped) == [mid]
    assert dropped[mid].get_linestyle() == "--"
    assert mid not in arrows_by_id(view.ax)
    assert len(view.crosses.get_xdata()) == 1
    view.update(at + 1)
    assert arrows_by_id(view.ax, "drop") == {}
    assert len(view.crosses.get_xdata()) == 0


def test_crashed_nodes_are_greyed(crash_trace):
    trace, uid = crash_trace
    view = PaxosView(trace)
    view.update(None)
    faces = view.nodes.get_facecolors()
    assert tuple(faces[view.uids.index(uid)]) == to_rgba(CRASHED)
    assert view.state_texts[uid].get_text().startswith("crashed")
    assert sum(tuple(f) == to_rgba(CRASHED) for f in faces) == 1


def test_draws_into_a_given_axes_without_pyplot(paxos_trace):
    before = plt.get_fignums()
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_paxos(paxos_trace, at=50, ax=ax) is fig
    draw_paxos(paxos_trace)
    assert plt.get_fignums() == before


def test_updating_in_place_reuses_the_same_artists(paxos_trace):
    view = PaxosView(paxos_trace)
    view.update(96)
    nodes, n_patches = view.nodes, len(view.ax.patches)
    for at in (60, 96, 110, 124):
        view.update(at)
    assert view.nodes is nodes
    assert len(view.ax.patches) == n_patches  # the arrow pool did not grow past its peak
