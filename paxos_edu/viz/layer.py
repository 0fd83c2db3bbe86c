"""A cached layer: artists that never change between frames, drawn from one bitmap.

Rendering text is most of a frame's cost on Agg (the legend alone is a third of
it), and most text on the diagrams never changes: legends, column titles, node
names, ring edges. ``StaticLayer`` renders such artists once into an offscreen
Agg buffer and pastes that buffer on every later draw of the same size, dpi and
view. On the SVG backend it keeps the SVG text they wrote instead (``SvgFragment``)
and writes it again. Other vector backends (PDF) get the artists themselves.

The artists stay in their axes (so ``ax.texts`` still lists them and they still
count for tight bounding boxes); only their ``draw`` is routed through the layer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG


def svg_renderer(renderer) -> RendererSVG | None:
    """The SVG renderer ``renderer`` is or wraps (savefig's MixedModeRenderer), else None."""
    inner = getattr(renderer, "_renderer", renderer)
    return inner if type(inner) is RendererSVG else None


class SvgFragment:
    """What some artists wrote into an SVG renderer, to be written into later ones unchanged.

    Laying out text is most of an SVG frame's cost too. Matplotlib's SVG renderer
    numbers groups and collections and defines clip paths and markers as it goes; a
    fragment keeps what its artists added to those tables and adds it again when
    replayed, so clip paths are still defined, markers not defined twice, and later
    group ids still count on. ``extend`` draws more artists onto the end of it.
    """

    def __init__(self):
        self.parts: list[str] = []
        self.groups: Counter = Counter()
        self.clips: dict = {}
        self.markers: dict = {}
        self.collections = 0

    def extend(self, renderer: RendererSVG, draw: Callable[[], None]) -> None:
        """Call ``draw()``, writing into ``renderer`` as usual and keeping a copy of what it wrote."""
        writer = renderer.writer
        writer._XMLWriter__flush()  # close the parent's open tag: not part of the fragment
        write = writer._XMLWriter__write
        groups, collections = dict(renderer._groupd), renderer._path_collection_id
        clips, markers = set(renderer._clipd), set(renderer._markers)

        def tee(text: str) -> None:
            self.parts.append(text)
            write(text)

        writer._XMLWriter__write = tee
        try:
            draw()
            writer._XMLWriter__flush()
        finally:
            writer._XMLWriter__write = write
        for name, n in renderer._groupd.items():
            self.groups[name] += n - groups.get(name, 0)
        self.collections += renderer._path_collection_id - collections
        self.clips.update({k: v for k, v in renderer._clipd.items() if k not in clips})
        self.markers.update({k: v for k, v in renderer._markers.items() if k not in markers})

    def replay(self, renderer: RendererSVG) -> None:
        """Write the fragment into ``renderer`` as if its artists had been drawn there."""
        writer = renderer.writer
        writer._XMLWriter__flush()
        writer._XMLWriter__write("".join(self.parts))
        for name, n in self.groups.items():
            renderer._groupd[name] = renderer._groupd.get(name, 0) + n
        renderer._path_collection_id += self.collections
        for k, v in self.clips.items():
            renderer._clipd.setdefault(k, v)
        for k, v in self.markers.items():
            renderer._markers.setdefault(k, v)


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
        self._svg: tuple | None = None   # (key, SvgFragment)
        ax.add_artist(self)

    def invalidate(self) -> None:
        """Forget the bitmap and the SVG (call after changing a member)."""
        self._key = None
        self._svg = None

    def _draw_members(self, renderer) -> None:
        for a, draw in zip(self.members, self._draws, strict=True):
            if a.get_visible():
                draw(renderer)

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        key = (renderer.width, renderer.height, renderer.dpi, tuple(self._ax.bbox.bounds),
               tuple(self._ax.viewLim.bounds))
        svg = svg_renderer(renderer)
        if svg is not None:
            if self._svg is not None and self._svg[0] == key:
                self._svg[1].replay(svg)
            else:
                fragment = SvgFragment()
                fragment.extend(svg, lambda: self._draw_members(renderer))
                self._svg = (key, fragment)
            self.stale = False
            return
        if type(renderer) is not RendererAgg:
            self._draw_members(renderer)
            return
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
