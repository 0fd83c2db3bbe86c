"""Messages that glide: in-between frames in which a step's messages travel along their arrows.

A step frame shows the world after one cause (a delivery, drop, timer...). With
``glide=g``, ``g`` frames come before each step frame but the first: they show the
previous step's world while the messages the step delivers move from their sender to
their receiver, at ``t = 1/(g+1), 2/(g+1), ...`` of the way along their arrows (as in
RaftScope). The step frame then shows them delivered and what they caused. A message
dropped in the step moves half way and is crossed out in the step frame.

``glide_plan`` says what each frame of an animation shows; ``Comets`` draws the moving
messages (a disc in the phase's colour and the message's label), the same on every view
that can glide (``PaxosView.glide``, ``RingView.glide``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from matplotlib.axes import Axes

from .style import TEXT_COLOR, phase_color

MAX_GLIDE = 30


@dataclass(frozen=True)
class Frame:
    """One frame of an animation: the step ``k`` shown (its cursor ``at``), or gliding into it.

    ``t`` is None for the step's own frame; for an in-between frame it is how far along
    its arrow each of ``moving`` (the send events of what step ``k`` delivers or drops) is.
    """

    k: int
    at: int
    t: float | None = None
    moving: tuple = field(default=())


def check_glide(glide) -> int:
    """``glide`` as a number of in-between frames; ValueError unless a whole number 0..30."""
    if isinstance(glide, bool) or not isinstance(glide, int) or not 0 <= glide <= MAX_GLIDE:
        raise ValueError(f"glide={glide!r}: must be a whole number of frames per step, "
                         f"0 (no gliding) to {MAX_GLIDE}")
    return glide


def moving_messages(trace: Sequence[dict], since: int, at: int) -> tuple:
    """The send events of the messages delivered or dropped in ``trace[since + 1: at + 1]``.

    Each is returned as its send (or duplicate) event with ``"dropped": True`` added for a drop.
    """
    ids = {}
    for ev in trace[since + 1: at + 1]:
        if ev["kind"] in ("deliver", "drop") and "id" in ev:
            ids[ev["id"]] = ev["kind"] == "drop"
    if not ids:
        return ()
    sent = {}
    for ev in trace[:at + 1]:
        if ev["kind"] in ("send", "duplicate") and ev.get("id") in ids:
            sent[ev["id"]] = ev
    return tuple({**sent[i], "dropped": True} if ids[i] else sent[i] for i in ids if i in sent)


def glide_plan(trace: Sequence[dict], cursors: Sequence[int], glide: int) -> list[Frame]:
    """Every frame of an animation over ``cursors`` with ``glide`` in-between frames per step."""
    frames: list[Frame] = []
    for k, at in enumerate(cursors):
        if glide and k > 0:
            moving = moving_messages(trace, cursors[k - 1], at)
            if moving:
                frames += [Frame(k, at, j / (glide + 1), moving) for j in range(1, glide + 1)]
        frames.append(Frame(k, at))
    return frames


class Comets:
    """Moving messages on one axes: a disc per message in its phase's colour, with its label."""

    def __init__(self, ax: Axes, size: float, fontsize: float, zorder: float = 6.5):
        self.ax = ax
        self.dots = ax.scatter([], [], s=size, zorder=zorder, edgecolors="white", linewidths=1.0)
        self.dots.set_gid("gliding")
        self.fontsize = fontsize
        self.zorder = zorder
        self.labels: list = []

    def show(self, points: Sequence[tuple[float, float, str, str | None]]) -> list:
        """Put a disc at each ``(x, y, colour, label)``; returns the artists that changed."""
        self.dots.set_offsets([(x, y) for x, y, _, _ in points] or [(float("nan"),) * 2])
        self.dots.set_facecolor([c for _, _, c, _ in points] or ["none"])
        while len(self.labels) < len(points):
            # Beside the disc, not on it: the label travels with the message.
            self.labels.append(self.ax.annotate(
                "", (0, 0), xytext=(7, 5), textcoords="offset points", ha="left", va="bottom",
                fontsize=self.fontsize, color=TEXT_COLOR, zorder=self.zorder + 0.1,
                visible=False,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#999999", lw=0.8)))
        for k, label in enumerate(self.labels):
            if k < len(points) and points[k][3]:
                x, y, color, text = points[k]
                label.xy = (x, y)
                label.set_text(text)
                label.get_bbox_patch().set_edgecolor(color)
                label.set_visible(True)
            else:
                label.set_visible(False)
        return [self.dots, *self.labels]

    def clear(self) -> list:
        return self.show([])


def message_color(ev: dict) -> str:
    """A moving message's colour: its phase's."""
    return phase_color(ev.get("phase"))
