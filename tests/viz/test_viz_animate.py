"""Animations: frames update artists in place, jshtml is reproducible, GIFs are GIFs."""

from __future__ import annotations

import base64
import re

import pytest
from matplotlib.animation import FuncAnimation
from PIL import Image

from paxos_edu.viz import animate, frame_indices, save_gif, to_html


def short(trace, k=4):
    """A few step frames, so encoding stays fast."""
    return frame_indices(trace, "steps")[-k:]


def test_animate_gives_a_funcanimation_with_a_frame_per_cursor(paxos_trace):
    anim = animate(paxos_trace)
    assert isinstance(anim, FuncAnimation)
    assert anim.frame_indices == frame_indices(paxos_trace, "steps")
    assert animate(paxos_trace, frames="events").frame_indices == list(range(len(paxos_trace)))


def test_frames_change_the_same_artists(paxos_trace):
    anim = animate(paxos_trace, kind="both")
    ring, paxos = anim.views
    nodes = (ring.nodes, paxos.nodes)
    anim.show_frame(0)
    first = list(ring.nodes.get_facecolors())
    assert anim.show_frame(-1) is anim._fig
    assert (ring.nodes, paxos.nodes) == nodes
    assert [tuple(c) for c in ring.nodes.get_facecolors()] != [tuple(c) for c in first]
    assert len(anim._fig.axes) == 2


def test_a_notebook_shows_the_player_and_a_stable_repr(paxos_trace):
    anim = animate(paxos_trace, kind="ring", frames=short(paxos_trace, 2))
    assert repr(anim) == "<TraceAnimation ring: 2 frames>"
    assert anim._repr_html_() == to_html(anim)


def test_unknown_kind_is_refused(paxos_trace):
    with pytest.raises(ValueError, match="kind"):
        animate(paxos_trace, kind="pie")


def test_to_html_is_identical_for_two_calls(paxos_trace):
    frames = short(paxos_trace)
    one = to_html(paxos_trace, frames=frames)
    two = to_html(paxos_trace, frames=frames)
    assert one == two
    assert "<img id=\"_anim_img" in one
    ids = set(re.findall(r'id="_anim_img([0-9a-f]+)"', one))
    assert len(ids) == 1


def test_to_html_accepts_an_animation(paxos_trace):
    anim = animate(paxos_trace, kind="ring", frames=short(paxos_trace, 2))
    assert to_html(anim) == to_html(anim)


def test_save_gif_writes_a_valid_gif(paxos_trace, tmp_path):
    frames = short(paxos_trace, 3)
    path = save_gif(paxos_trace, tmp_path / "run.gif", kind="ring", frames=frames)
    assert path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == len(frames)


def test_the_player_shows_its_first_frame_without_javascript(paxos_trace):
    html = to_html(paxos_trace, kind="ring", frames=short(paxos_trace, 2))
    img = re.search(r'<img id="_anim_img[0-9a-f]{32}" src="data:image/png;base64,([^"]+)">', html)
    assert img, "the player's image has no src: a page without JavaScript shows nothing"
    first = re.search(r'frames\[0\] = "data:image/png;base64,([^"]+)"', html).group(1)
    assert img.group(1) == first.replace("\\\n", "").replace("\n", "")
    assert base64.b64decode(img.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
