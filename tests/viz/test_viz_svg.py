"""Inline SVG for the dashboard: reproducible, fills its box, follows the theme, cached layers."""

from __future__ import annotations

import re

import pytest

from paxos_edu.viz import PaxosView, RingView, TimelineView, frame_indices
from paxos_edu.viz.style import SCALES, THEMED, keep, scale_factor
from paxos_edu.viz.svg import SVG_CLASS, figure_svg

GROUP_ID = re.compile(r' id="[a-z0-9]+_\d+"')  # matplotlib numbers anonymous groups as it draws


def test_an_svg_element_that_fills_its_box_and_is_a_function_of_the_figure(paxos_trace):
    view = PaxosView(paxos_trace, themed=True)
    view.update(40)
    svg = figure_svg(view.fig)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    head = svg[:svg.index(">")]
    assert 'width="100%"' in head and 'viewBox="0 0 ' in head and f'class="{SVG_CLASS}"' in head
    assert "height=" not in head and "<?xml" not in svg and "dc:date" not in svg
    assert svg == figure_svg(view.fig)
    # The text is text (not glyph outlines), the font said once.
    assert "<text" in svg and "font-family: " not in svg and svg.count("font-family:") == 1


def test_neutral_colours_follow_the_theme_and_fixed_ones_do_not(ring_trace):
    view = RingView(ring_trace, themed=True)
    view.update(None)  # every node black but the leader
    svg = figure_svg(view.fig)
    assert "fill: var(--jp-layout-color0, #ffffff)" in svg  # the page
    assert "fill: var(--jp-ui-font-color1, #222222)" in svg  # the caption's ink
    for color, var in THEMED.items():
        assert f"fill: {color}" not in svg, f"{color} should be {var}"
    black = keep("#222222", True)
    assert black != "#222222" and f"fill: {black}" in svg  # black nodes stay black
    plain = figure_svg(view.fig, themed=False)
    assert "var(--jp" not in plain.split("</style>", 1)[1]


def test_keep_leaves_colours_alone_when_not_themed():
    assert keep("white", False) == "white"
    assert keep("white", True) == "#fffffe"
    assert keep("#000000", True) == "#000001"
    assert keep("#E69F00", True) == "#E69F00"


@pytest.mark.parametrize("cls", [PaxosView, RingView, TimelineView])
def test_cached_layers_write_what_a_full_draw_writes(paxos_trace, cls):
    ats = frame_indices(paxos_trace, "steps")[::9]
    view = cls(paxos_trace)
    for at in ats:
        view.update(at)
        cached = figure_svg(view.fig)  # from the second frame on, the layers are replayed
        fresh = cls(paxos_trace)
        fresh.update(at)
        assert GROUP_ID.sub("", cached) == GROUP_ID.sub("", figure_svg(fresh.fig)), at


def test_a_changed_layer_is_written_again(paxos_trace):
    view = PaxosView(paxos_trace)
    view.update(5)
    before = figure_svg(view.fig)
    view.update(len(paxos_trace) - 1)  # node states and the banner change
    after = figure_svg(view.fig)
    assert "decided: 220" in after and "decided: 220" not in before


def test_scale_enlarges_text_and_nodes(paxos_trace):
    small, big = PaxosView(paxos_trace), PaxosView(paxos_trace, scale="projector")
    assert big.fs == pytest.approx(small.fs * SCALES["projector"])
    assert big.node_size == pytest.approx(small.node_size * SCALES["projector"] ** 2)
    assert big.legend.get_texts()[0].get_fontsize() > small.legend.get_texts()[0].get_fontsize()
    ring = RingView(paxos_trace, scale=1.5)
    assert ring.title.get_fontsize() == pytest.approx(11 * 1.5)
    line = TimelineView(paxos_trace, scale="laptop")
    assert line.title.get_fontsize() == pytest.approx(11 * SCALES["laptop"])


@pytest.mark.parametrize("scale", ["huge", 0, -1, 9, None])
def test_a_bad_scale_is_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        scale_factor(scale)
