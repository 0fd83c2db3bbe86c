"""The pending list: every message in flight and every timer, for the student to act on.

Select one item, then deliver it, drop it, duplicate it or delay it by some
milliseconds: each button is one call on the run (``deliver(id)``, ``drop(id)``,
``duplicate(id)``, ``delay(id, by)``), whichever item it is, not only the one
``step()`` would pick. In the past (time travel) the list is read-only.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from .util import button, enable

ACTIONS = ("deliver", "drop", "duplicate", "delay")


class PendingPanel:
    def __init__(self, on_action: Callable[..., None]):
        self._on_action = on_action
        self.list = widgets.Select(options=[], rows=9, description="",
                                   layout=widgets.Layout(width="100%"))
        self.title = widgets.HTML("<b>pending</b>")
        self.buttons = {
            "deliver": button("deliver", lambda: self._act("deliver"), "deliver it now",
                              style="primary"),
            "drop": button("drop", lambda: self._act("drop"), "lose it: never delivered"),
            "duplicate": button("duplicate", lambda: self._act("duplicate"),
                                "put a second copy in flight"),
            "delay": button("delay", lambda: self._act("delay"), "hold it back by the ms given"),
        }
        self.delay_ms = widgets.FloatText(50.0, description="by ms",
                                          layout=widgets.Layout(width="130px"),
                                          style={"description_width": "40px"})
        self.box = widgets.VBox([self.title, self.list,
                                 widgets.HBox([*self.buttons.values(), self.delay_ms])])

    @property
    def selected(self) -> int | None:
        return self.list.value

    def select(self, mid: int) -> None:
        self.list.value = mid

    def show(self, items: list[tuple[str, int]], why_not: str | None) -> None:
        """List ``items`` (label, id), keeping the selection; ``why_not`` disables the buttons."""
        keep = self.list.value
        self.list.options = items
        ids = [mid for _, mid in items]
        if keep in ids:
            self.list.value = keep
        elif ids:
            self.list.value = ids[0]
        n = len(items)
        where = "" if why_not is None else " (the past: read-only)"
        self.title.value = f"<b>pending: {n} item{'s' if n != 1 else ''}</b>{where}"
        for w in (*self.buttons.values(), self.delay_ms):
            enable(w, why_not or (None if items else "nothing is pending"))

    def _act(self, method: str) -> None:
        mid = self.list.value
        if mid is None:
            return
        if method == "delay":
            self._on_action(method, mid, float(self.delay_ms.value))
        else:
            self._on_action(method, mid)
