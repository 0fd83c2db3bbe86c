"""Animations of a trace: a FuncAnimation, its jshtml for notebooks, and GIFs.

Each frame moves the views' cursor and changes their artists in place (colours,
texts, arrow positions) instead of drawing the figure from scratch. ``to_html``
replaces the random element id matplotlib puts in ``to_jshtml`` output with one
derived from the content, so the same trace gives byte-identical HTML (nbval
compares ``text/html`` outputs). GIFs go through Pillow; no ffmpeg needed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory

from matplotlib import rc_context
from matplotlib.animation import Animation, FuncAnimation, HTMLWriter, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .glide import check_glide, glide_plan
from .paxos import PaxosView
from .ring import RingView
from .state import frame_indices, step_start
from .timeline import TimelineView

KINDS = ("paxos", "ring", "both", "timeline")


class TraceAnimation(FuncAnimation):
    """A FuncAnimation of a trace that a notebook shows as a reproducible jshtml player.

    Its repr names the kind and frame count instead of a memory address, and its
    HTML is ``to_html(self)``, so nbval sees the same outputs on every run.
    """

    kind: str = "paxos"
    frame_indices: list[int]
    views: list

    def __repr__(self) -> str:
        return f"<TraceAnimation {self.kind}: {len(self.frame_indices)} frames>"

    def show_frame(self, k: int) -> Figure:
        """Put every view on frame ``k`` (negative counts from the end); returns the figure."""
        self._func(range(len(self.frame_indices))[k])
        return self._fig

    def _repr_html_(self) -> str:
        return to_html(self)


def make_views(trace: Sequence[dict], kind: str = "paxos", dpi: float = 80,
               ring: Sequence[int] | None = None) -> tuple[Figure, list]:
    """A new figure holding the view(s) for ``kind``: paxos, ring, both or timeline."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: must be one of {', '.join(KINDS)}")
    if kind == "both":
        fig = Figure(figsize=(15, 7.5), dpi=dpi)
        FigureCanvasAgg(fig)
        ring_ax, paxos_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.7]})
        fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.02, wspace=0.05)
        views = [RingView(trace, ax=ring_ax, ring=ring, show_event=False),
                 PaxosView(trace, ax=paxos_ax)]
        return fig, views
    if kind == "ring":
        view = RingView(trace, ring=ring)
    elif kind == "timeline":
        view = TimelineView(trace)
    else:
        view = PaxosView(trace)
    view.fig.set_dpi(dpi)
    return view.fig, [view]


def animate(trace: Sequence[dict], kind: str = "paxos", frames: str | Sequence[int] = "steps",
            interval: int = 400, dpi: float = 80, ring: Sequence[int] | None = None,
            repeat: bool = False, glide: int = 0) -> TraceAnimation:
    """A ``FuncAnimation`` of ``trace``: ``kind`` is "paxos", "ring", "both" or "timeline".

    ``frames`` picks the cursors (see ``state.frame_indices``): ``"steps"`` (one
    frame per delivery, drop, timer, crash or restart, after its consequences),
    ``"messages"`` (one per message event), ``"events"`` (one per event) or a list
    of event indices. ``glide`` (paxos, ring, both): that many in-between frames
    before each step, in which the messages the step delivers travel along their
    arrows (``glide.py``); ``interval`` stays the time of one step, so the player
    runs ``glide + 1`` frames in it. 0 gives one frame per cursor. The animation's
    ``frame_indices`` lists each frame's cursor (an in-between frame has the cursor
    of the step it leaves), ``plan`` what each frame shows (``glide.Frame``),
    ``views`` holds the diagram views, and ``show_frame(k)`` draws one frame. As a
    notebook cell's value it shows as a jshtml player (``to_html``).
    """
    if not trace:
        raise ValueError("the trace is empty: nothing to animate")
    glide = check_glide(glide)
    if glide and kind == "timeline":
        raise ValueError("glide: the space-time diagram draws every message already; "
                         "glide works on paxos, ring and both")
    fig, views = make_views(trace, kind, dpi=dpi, ring=ring)
    cursors = frame_indices(trace, frames)
    plan = glide_plan(trace, cursors, glide)

    def draw_frame(i: int) -> list:
        frame, changed = plan[i], []
        k = frame.k if frame.t is None else frame.k - 1  # gliding: from the previous step
        for view in views:
            changed += view.update(cursors[k], since=step_start(cursors, k))
            if frame.t is not None:
                changed += view.glide(frame.moving, frame.t)
        return changed

    anim = TraceAnimation(fig, draw_frame, frames=len(plan),
                          interval=interval / (glide + 1) if glide else interval,
                          repeat=repeat, cache_frame_data=False)
    anim.kind = kind
    anim.plan = plan
    anim.frame_indices = [cursors[f.k if f.t is None else f.k - 1] for f in plan]
    anim.views = views
    # matplotlib warns when an animation is dropped unrendered, a guard for pyplot
    # scripts that lose their only reference; here it would only add noise (on stderr,
    # which nbval compares) to lessons that build an animation and show a frame.
    anim._draw_was_started = True
    return anim


def _as_animation(trace_or_anim, **kwargs) -> Animation:
    if isinstance(trace_or_anim, Animation):
        return trace_or_anim
    return animate(trace_or_anim, **kwargs)


def to_html(anim_or_trace, fps: float | None = None, default_mode: str = "once",
            embed_limit: float | None = None, frame_format: str = "png",
            **animate_kwargs) -> str:
    """The animation as self-contained jshtml, with element ids that depend only on content.

    Given a trace, builds ``animate(trace, **animate_kwargs)`` first. Wrap the
    result in ``IPython.display.HTML`` to show it in a notebook. Frames past
    ``embed_limit`` MB (matplotlib's ``animation.embed_limit``, 20 MB by default,
    about 150 frames of an 11-node Paxos run) are left out with a logged warning:
    pass fewer ``frames`` or a larger limit. The player's image starts as the first
    frame, so a page that runs no JavaScript (GitHub's notebook view) still shows it.
    ``frame_format="svg"`` embeds each frame as SVG with its text as text: sharp at
    any size and about half the bytes of PNG frames (what makes a gliding player fit
    in a lesson), shown in the fonts of the reader's browser.
    """
    if frame_format not in ("png", "svg"):
        raise ValueError(f"frame_format={frame_format!r}: must be 'png' or 'svg'")
    anim = _as_animation(anim_or_trace, **animate_kwargs)
    limit = {} if embed_limit is None else {"animation.embed_limit": embed_limit}
    with rc_context(limit):
        if frame_format == "png":
            html = anim.to_jshtml(fps=fps, default_mode=default_mode)
        else:
            html = _svg_jshtml(anim, fps, default_mode)
    html = _with_first_frame(html)
    # matplotlib names every element after a uuid4; name them after a hash of the rest.
    # Two identical animations in one page would share ids; their players then drive one
    # another, which is the price of reproducible output.
    for uid in set(re.findall(r'id="_anim_img([0-9a-f]{32})"', html)):
        stable = hashlib.sha256(html.replace(uid, "").encode()).hexdigest()[:32]
        html = html.replace(uid, stable)
    return html


_FIRST_FRAME = re.compile(r'frames\[0\] = "(data:image/[a-z+]+;base64,[^"]*)"')


def _svg_jshtml(anim: Animation, fps: float | None, default_mode: str) -> str:
    """``to_jshtml`` with SVG frames, undated and with content-derived ids (reproducible)."""
    if fps is None:
        fps = 1000 / anim._interval
    with TemporaryDirectory() as tmp, rc_context({"animation.frame_format": "svg",
                                                  "svg.fonttype": "none",
                                                  "svg.hashsalt": "paxos_edu"}):
        path = Path(tmp, "player.html")
        writer = HTMLWriter(fps=fps, embed_frames=True, default_mode=default_mode)
        anim.save(str(path), writer=writer, savefig_kwargs={"metadata": {"Date": None}})
        return path.read_text()
_IMG = re.compile(r'<img id="(_anim_img[0-9a-f]{32})">')


def _with_first_frame(html: str) -> str:
    """Give the player's ``<img>`` the first frame as its ``src`` (the script replaces it)."""
    first = _FIRST_FRAME.search(html)
    if first is None:
        return html
    # In the script the base64 is continued over lines with a backslash; an attribute is one line.
    src = first.group(1).replace("\\\n", "").replace("\n", "")
    return _IMG.sub(lambda m: f'<img id="{m.group(1)}" src="{src}">', html, count=1)


def save_gif(trace_or_anim, path: str | os.PathLike, fps: float = 3, dpi: float | None = None,
             **animate_kwargs) -> Path:
    """Write the animation (or ``animate(trace, **animate_kwargs)``) to ``path`` as a GIF."""
    anim = _as_animation(trace_or_anim, **animate_kwargs)
    path = Path(path)
    anim.save(str(path), writer=PillowWriter(fps=fps), dpi=dpi)
    return path
