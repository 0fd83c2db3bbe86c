"""Messages that glide: in-between frames move each delivered message along its arrow."""

from __future__ import annotations

import math
import re

import pytest

from paxos_edu.viz import animate, frame_indices, to_html
from paxos_edu.viz.glide import glide_plan, moving_messages


def deliveries(trace, since, at):
    return [ev["id"] for ev in trace[since + 1: at + 1] if ev["kind"] == "deliver"]


def test_glide_zero_is_one_frame_per_cursor(paxos_trace):
    anim = animate(paxos_trace, glide=0)
    assert anim.frame_indices == frame_indices(paxos_trace, "steps")
    assert all(f.t is None for f in anim.plan)


def test_glide_adds_frames_before_each_step_that_moves_a_message(paxos_trace):
    cursors = frame_indices(paxos_trace, "steps")
    anim = animate(paxos_trace, glide=3)
    moving_steps = sum(1 for k in range(1, len(cursors))
                       if moving_messages(paxos_trace, cursors[k - 1], cursors[k]))
    assert moving_steps > 10
    assert len(anim.plan) == len(cursors) + 3 * moving_steps
    # The step frames are still there, in order, and the player spends one interval per step.
    assert [f.at for f in anim.plan if f.t is None] == cursors
    assert anim._interval == pytest.approx(400 / 4)
    ts = [f.t for f in anim.plan[:8] if f.t is not None][:3]
    assert ts == pytest.approx([0.25, 0.5, 0.75])


def test_the_moving_messages_are_what_the_step_delivers(paxos_trace):
    cursors = frame_indices(paxos_trace, "steps")
    for k in range(1, len(cursors)):
        moving = moving_messages(paxos_trace, cursors[k - 1], cursors[k])
        assert [ev["id"] for ev in moving if not ev.get("dropped")] == \
            deliveries(paxos_trace, cursors[k - 1], cursors[k])
        assert all(ev["kind"] in ("send", "duplicate") for ev in moving)


def test_a_gliding_message_travels_from_sender_to_receiver(paxos_trace):
    anim = animate(paxos_trace, glide=4)
    view = anim.views[0]
    i = next(i for i, f in enumerate(anim.plan) if f.t is not None
             and f.moving[0]["msg"]["type"] == "Proposal")
    ev = anim.plan[i].moving[0]
    src, dst = view.pos[ev["src"]], view.pos[ev["dst"]]
    gaps = []
    for j in range(i, i + 4):
        anim.show_frame(j)
        (x, y), = view.comets.dots.get_offsets()
        gaps.append(math.dist((x, y), dst))
        assert math.dist((x, y), src) < math.dist(src, dst)
        label = next(t for t in view.comets.labels if t.get_visible())
        assert label.get_text().startswith("proposal(")
    assert gaps == sorted(gaps, reverse=True), "the message does not move towards its receiver"
    anim.show_frame(i + 4)  # the step itself: delivered, no disc left
    assert anim.plan[i + 4].t is None
    assert len(view.comets.dots.get_offsets()) == 1
    assert all(math.isnan(v) for v in view.comets.dots.get_offsets()[0])
    assert f"msg-{ev['id']}" not in {a.get_gid() for a in view.arrows if a.get_visible()}


def test_tokens_glide_round_the_ring(ring_trace):
    frames = frame_indices(ring_trace, "steps")[:6]
    anim = animate(ring_trace, kind="ring", frames=frames, glide=2)
    view = anim.views[0]
    i = next(i for i, f in enumerate(anim.plan) if f.t is not None)
    anim.show_frame(i)
    token = next(ev for ev in anim.plan[i].moving if ev["msg"]["type"] == "Token")
    (x, y), = view.comets.dots.get_offsets()
    (x1, y1), (x2, y2) = view.pos[token["src"]], view.pos[token["dst"]]
    # On the edge from sender to successor, a third of the way along (rim to rim).
    f = (0.15 + 0.7 / 3)
    assert (x, y) == pytest.approx((x1 + f * (x2 - x1), y1 + f * (y2 - y1)))
    assert str(token["msg"]["uid"]) in [t.get_text() for t in view.comets.labels if t.get_visible()]


@pytest.mark.parametrize("glide", [-1, 1.5, True, 31, "4"])
def test_a_bad_glide_is_refused(paxos_trace, glide):
    with pytest.raises(ValueError, match="glide"):
        animate(paxos_trace, glide=glide)


def test_the_timeline_does_not_glide(paxos_trace):
    with pytest.raises(ValueError, match="glide works on paxos, ring and both"):
        animate(paxos_trace, kind="timeline", glide=2)


def test_glide_plan_of_no_steps_is_empty(paxos_trace):
    assert glide_plan(paxos_trace, [], 3) == []


def test_svg_frames_are_reproducible_and_shown_without_javascript(paxos_trace):
    frames = frame_indices(paxos_trace, "steps")[-3:]
    one = to_html(paxos_trace, frames=frames, glide=1, frame_format="svg")
    assert one == to_html(paxos_trace, frames=frames, glide=1, frame_format="svg")
    assert len(re.findall(r'frames\[\d+\] = "data:image/svg\+xml;base64,', one)) == 5
    assert re.search(r'<img id="_anim_img[0-9a-f]{32}" src="data:image/svg\+xml;base64,', one)
    with pytest.raises(ValueError, match="frame_format"):
        to_html(paxos_trace, frames=frames, frame_format="gif")
