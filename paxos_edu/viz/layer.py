"""A cached layer: artists that never change between frames, drawn from one bitmap.

Rendering text is most of a frame's cost on Agg (the legend alone is a third of
it), and most text on the diagrams never changes: legends, column titles, node
names, ring edges. ``StaticLayer`` renders such artists once into an offscreen
Agg buffer and pastes that buffer on every later draw of the same size, dpi and
view. Vector backends (PDF, SVG) get the artists themselves, unchanged.

The artists stay in their axes (so ``ax.texts`` still lists them and they still
count for tight bounding boxes); only their ``draw`` is routed through the layer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg


def _skip(renderer) -> None:
    # A member's own draw does nothing: the layer draws it, at the layer's zorder.
    return None


class StaticLayer(Artist):
    """Draw ``artists`` (already in ``ax``) as one cached bitmap at ``zorder``.

    The bitmap is remade whenever the canvas size, dpi, axes position or axes
    limits change, or after ``invalidate()``.
    """

    def __init__(self, ax: Axes, artists: Iterable[Artist], zorder: float):
        super().__init__()
        self.members = [a for a in artists if a is not None]
        self.members.sort(key=lambda a: a.get_zorder())
        self._draws = []
        for a in self.members:
            self._draws.append(a.draw)
            a.draw = _skip
        self.set_zorder(zorder)
        self._ax = ax
        self._key = None
        self._image = None
        ax.add_artist(self)

    def invalidate(self) -> None:
        """Forget the bitmap (call after changing a member)."""
        self._key = None

    def _draw_members(self, renderer) -> None:
        for a, draw in zip(self.members, self._draws, strict=True):
            if a.get_visible():
                draw(renderer)

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        if type(renderer) is not RendererAgg:
            self._draw_members(renderer)
            return
        key = (renderer.width, renderer.height, renderer.dpi, tuple(self._ax.bbox.bounds),
               tuple(self._ax.viewLim.bounds))
        if key != self._key:
            offscreen = RendererAgg(renderer.width, renderer.height, renderer.dpi)
            self._draw_members(offscreen)
            # Agg buffers are top row first; draw_image wants the bottom row first.
            image = np.asarray(offscreen.buffer_rgba())[::-1]
            # Keep only the painted rectangle: pasting a small crop is what makes this cheap.
            rows = np.flatnonzero(image[:, :, 3].any(axis=1))
            cols = np.flatnonzero(image[:, :, 3].any(axis=0))
            if rows.size:
                y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
                self._image = (int(x0), int(y0), image[y0:y1, x0:x1].copy())
            else:
                self._image = None
            self._key = key
        if self._image is not None:
            x0, y0, crop = self._image
            gc = renderer.new_gc()
            renderer.draw_image(gc, x0, y0, crop)
            gc.restore()
        self.stale = False
