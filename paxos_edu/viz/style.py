"""Colours, sizes and the figure helper shared by every diagram.

Each of Ghosh's five Paxos phases has one fixed colour from the Okabe-Ito
palette (safe for the common colour-vision deficiencies), the same in every
diagram; requests, role setup and election tokens get neutral greys. A nack (a
refusal, in phase 1.2 or 2.2) keeps its phase's colour and is drawn dotted, so it is
never taken for the ack or accepted of the same phase. Okabe-Ito vermillion is kept
for what went wrong (a dropped message's cross), and the Chang-Roberts red/black node
colours are the protocol's own words, not a phase.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..labels import fmt_value  # noqa: F401  (re-exported for the diagrams)

PAXOS_PHASES = ("1.1", "1.2", "2.1", "2.2", "3")
"""Ghosh's five Paxos phases, in protocol order."""

PHASE_COLORS: dict[str, str] = {
    "1.1": "#E69F00",   # orange
    "1.2": "#56B4E9",   # sky blue
    "2.1": "#009E73",   # bluish green
    "2.2": "#0072B2",   # blue
    "3": "#CC79A7",     # reddish purple
    "request": "#555555",
    "setup": "#8C8C8C",
    "election": "#2B2B2B",
}
"""One colour per phase; the first five are Okabe-Ito hues, the rest neutral greys."""

PHASE_NAMES: dict[str, str] = {
    "1.1": "1.1 proposal",
    "1.2": "1.2 ack / nack",
    "2.1": "2.1 accept",
    "2.2": "2.2 accepted",
    "3": "3 decided",
    "request": "request",
    "setup": "setup (roles)",
    "election": "election (token)",
}
"""Legend entries: the phase number and Ghosh's message name."""

OTHER_COLOR = "#B0B0B0"
DROP_COLOR = "#D55E00"          # Okabe-Ito vermillion: a lost message
VIOLATION_COLOR = "#B2182B"     # the red banner
DECIDED_COLOR = "#009E73"
TEXT_COLOR = "#222222"

CR_RED = "#D62728"              # Chang-Roberts: still a candidate
CR_BLACK = "#222222"            # Chang-Roberts: relays every token
CRASHED = "#C8C8C8"
LEADER_EDGE = "#E69F00"

ROLE_FILLS: dict[str, str] = {
    "client": "#EFEFEF",
    "proposer": "#FBE3B3",
    "acceptor": "#D7ECF9",
    "learner": "#F3DDEA",
    "consensus": "#FFFFFF",
}
"""Node fills in the Paxos diagram (pale, so phase-coloured arrows stand out)."""


THEMED: dict[str, str] = {
    "#ffffff": "--jp-layout-color0",      # the page: figure background, label boxes
    "#222222": "--jp-ui-font-color1",     # ink: TEXT_COLOR
    "#000000": "--jp-ui-font-color1",     # matplotlib's own black (axes, ticks)
    "#2b2b2b": "--jp-ui-font-color1",     # election tokens: near-black lines
    "#333333": "--jp-ui-font-color2",     # outlines
    "#555555": "--jp-ui-font-color2",     # grey ink: headers, requests
}
"""Neutral colours an inline SVG takes from JupyterLab's theme (see ``svg.py``), as written
by matplotlib's SVG backend (lower-case hex)."""


def keep(color: str, themed: bool) -> str:
    """``color``, nudged off ``THEMED`` when ``themed`` so that it stays what it is on any theme.

    Ink on a pale node fill, white on a red node, a black Chang-Roberts node: these
    must not turn light or dark with the page. Unthemed (PNG) pictures keep the exact colour.
    """
    if not themed:
        return color
    rgb = to_hex(color).lower()
    if rgb not in THEMED:
        return color
    last = int(rgb[-2:], 16)
    return rgb[:-2] + f"{last - 1 if last else 1:02x}"


SCALES: dict[str, float] = {"compact": 1.0, "laptop": 1.3, "projector": 1.6}
"""Text and mark sizes relative to the lessons' pictures: ``laptop`` keeps text at 12 px
or more in a dashboard on a 1366-pixel screen, ``projector`` reads from the back of a room."""


def scale_factor(scale: float | str) -> float:
    """A ``SCALES`` name or a positive number, as a number; ValueError otherwise."""
    if isinstance(scale, str):
        if scale not in SCALES:
            raise ValueError(f"scale={scale!r}: must be a number or one of {', '.join(SCALES)}")
        return SCALES[scale]
    if not isinstance(scale, (int, float)) or not 0.2 <= scale <= 5:
        raise ValueError(f"scale={scale!r}: must be a number from 0.2 to 5 or one of "
                         f"{', '.join(SCALES)}")
    return float(scale)


def phase_color(phase: str | None) -> str:
    """The colour of messages in ``phase`` (grey for anything unknown)."""
    return PHASE_COLORS.get(phase or "", OTHER_COLOR)


def node_color(color: str | None, alive: bool = True) -> str:
    """Chang-Roberts node fill: red or black by the node's colour, grey when crashed."""
    if not alive:
        return CRASHED
    return CR_BLACK if color == "black" else CR_RED


NACK_STYLE = ":"
"""Line style of a nack's arrow (a message that refuses)."""


def line_style(msg: dict | None) -> str:
    """How a message's arrow is drawn: dotted for a nack, solid for everything else."""
    return NACK_STYLE if msg and msg.get("type") == "Nack" else "-"


def phase_handles(phases=(*PAXOS_PHASES, "request", "setup", "election"), drop: bool = True):
    """Legend handles: a line per phase in its colour, the dotted nack, the dropped cross."""
    handles = [Line2D([], [], color=phase_color(p), lw=2.5, label=PHASE_NAMES.get(p, p))
               for p in phases]
    handles.append(Line2D([], [], color=TEXT_COLOR, lw=2.5, ls=NACK_STYLE,
                          label="nack (refused)"))
    if drop:
        handles.append(Line2D([], [], color=DROP_COLOR, marker="X", ls="", ms=8,
                              label="dropped"))
    return handles


def new_axes(ax: Axes | None, figsize: tuple[float, float],
             dpi: float = 100) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new Agg-backed ``Figure`` with one axes.

    The figure is built without pyplot, so a notebook shows it once (when it is
    the cell's value) and never keeps it alive in pyplot's figure list.
    """
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def title_text(ax: Axes, fontsize: float = 11):
    """A title that a frame can change cheaply.

    ``ax.set_title`` makes every draw measure the axes' decorations to place the
    title; a plain text in axes coordinates just above the top edge does not.
    """
    return ax.text(0.5, 1.01, "", transform=ax.transAxes, ha="center", va="bottom",
                   fontsize=fontsize, gid="title")
