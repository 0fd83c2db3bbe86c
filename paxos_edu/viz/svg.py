"""A figure as inline SVG that scales to its box and follows the page's light or dark theme.

Rules:

- Text stays text (``svg.fonttype = "none"``): sharp at any size and a fifth of the
  bytes of glyph outlines. The ``<svg>`` element gets ``width="100%"`` and keeps its
  ``viewBox``, so it fills the box it is put in, keeping its proportions.
- The output is a pure function of the figure: no date, and clip-path ids derived
  from their content (a fixed ``svg.hashsalt``), so one picture is one string.
- Theme: the few neutral colours of ``style.THEMED`` (page white, ink, grey ink)
  become CSS variables of JupyterLab (``var(--jp-layout-color0, #ffffff)``...),
  with the light colour as the fallback outside JupyterLab. Text with no colour
  of its own takes the ink colour. Colours meant to stay as they are on both
  themes (phase colours, pale node fills, ink on those fills, the white on the red
  banner) are spelled differently in ``style.py`` and are left alone.
"""

from __future__ import annotations

import io
import re
from collections import Counter

from matplotlib import rc_context
from matplotlib.figure import Figure

from .style import THEMED

_HEAD = re.compile(r"\A.*?(?=<svg)", re.S)
_META = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="[0-9.]+pt" height="[0-9.]+pt"')
_COLOR = re.compile(r"(fill|stroke): (#[0-9a-f]{6})")
_FAMILY = re.compile(r"; font-family: ([^;\"]*)")
_BETWEEN_TAGS = re.compile(r">\s+<")
_NO_TURN = re.compile(r' transform="rotate\(-0 [^"]*\)"')
SVG_CLASS = "paxos-svg"
STYLE = (f"<style>.{SVG_CLASS} text{{fill:var(--jp-ui-font-color1,#000000);font-family:{{family}}}}"
         f".{SVG_CLASS}{{display:block;height:auto;max-width:100%}}</style>")
"""What text without a colour of its own is drawn in, its font, how the picture sits in its box."""


def figure_svg(fig: Figure, themed: bool = True) -> str:
    """The figure as an ``<svg>`` element (no XML header) to put straight into HTML."""
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "paxos_edu"}):
        fig.savefig(buf, format="svg", metadata={"Date": None},
                    facecolor=fig.get_facecolor())
    svg = _META.sub("", _HEAD.sub("", buf.getvalue(), count=1), count=1)
    svg = _SIZE.sub(rf'<svg\1 width="100%" class="{SVG_CLASS}"', svg, count=1)
    # A third of the bytes are the same font list on every text, and the indentation: the
    # stylesheet says the font once, and a browser parses a smaller string sooner.
    families = Counter(_FAMILY.findall(svg))
    family = families.most_common(1)[0][0] if families else "sans-serif"
    svg = _NO_TURN.sub("", _BETWEEN_TAGS.sub("><", svg)).replace(f"; font-family: {family}", "")
    # matplotlib's own rule for line joins would apply to every SVG in the page.
    svg = svg.replace("<style type=\"text/css\">*{", f"<style type=\"text/css\">.{SVG_CLASS} *{{", 1)
    if themed:
        svg = theme_colors(svg)
    return svg.replace(">", ">" + STYLE.replace("{family}", family), 1)


def theme_colors(svg: str) -> str:
    """Each ``fill``/``stroke`` colour of ``style.THEMED`` as its CSS variable, with a fallback."""
    def swap(m: re.Match) -> str:
        var = THEMED.get(m.group(2))
        return m.group(0) if var is None else f"{m.group(1)}: var({var}, {m.group(2)})"
    return _COLOR.sub(swap, svg)
