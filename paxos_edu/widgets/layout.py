"""How the dashboard sits on a screen: the diagram's column, the tables' column, whole controls.

Rules: on a wide screen the tables stand beside the diagram; when the two columns'
widths do not fit (a 1366-pixel laptop, a narrow window), the row wraps (CSS flex-wrap)
and the diagram takes the whole width with the tables under it. A control never shrinks
until its text is cut: rows of controls wrap instead.
"""

from __future__ import annotations

import ipywidgets as widgets

WIDE = "860px"
"""The diagram's column: with the tables' 440 px beside it, what a wide screen has room for.

Below that (a 1366-pixel laptop, a narrow window) the tables go under the diagram, which
then takes the whole width (the panel wraps, CSS flex-wrap)."""
SIDE = "440px"
"""The tables' column: the node table's widest rows."""
RING_WIDTH = "720px"
"""The ring at most this wide: a circle needs no more, and its text still reads at 12 px."""


def fit_controls(root) -> None:
    """Keep every control under ``root`` whole: buttons never shrink, rows wrap instead.

    ipywidgets lets a button in a full row shrink until its text is cut ("dupli…").
    Here every row of controls wraps onto the next line instead, every button keeps its
    own width, and a toggle button is as wide as its label.
    """
    for w in _tree(root):
        if isinstance(w, widgets.HBox):
            w.layout.flex_flow = "row wrap"
        elif isinstance(w, widgets.Button):
            w.layout.flex = "0 0 auto"
        elif isinstance(w, widgets.ToggleButtons):
            w.style.button_width = "auto"
            w.layout.width = "auto"  # as wide as its buttons, beside its description


def _tree(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _tree(child)
