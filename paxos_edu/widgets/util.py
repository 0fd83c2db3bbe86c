"""Small helpers shared by the panels: weak callbacks, buttons, node names from a config."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import ipywidgets as widgets

from ..core.config import Config


def weak(method: Callable) -> Callable:
    """A callback that calls the bound ``method`` while its object lives, else does nothing.

    Widgets stay in ipywidgets' registry for the life of the kernel, so a
    callback holding its dashboard strongly would keep the dashboard (and a
    Cluster's processes) alive forever; this one lets it be garbage-collected.
    """
    ref = weakref.WeakMethod(method)

    def call(*args, **kwargs):
        m = ref()
        return None if m is None else m(*args, **kwargs)

    return call


def button(description: str, on_click: Callable | None = None, tooltip: str = "",
           style: str = "", icon: str = "", width: str = "auto") -> widgets.Button:
    b = widgets.Button(description=description, tooltip=tooltip or description,
                       button_style=style, icon=icon, layout=widgets.Layout(width=width))
    if on_click is not None:
        b.on_click(lambda _b: on_click())
    return b


def enable(widget, why_not: str | None) -> None:
    """Enable ``widget`` when ``why_not`` is None; else disable it and say why in its tooltip.

    A greyed-out button that does not say why leaves a student guessing; the reason is
    added to the widget's own tooltip (kept in ``_tip``) and removed again when it works.
    """
    base = widget.__dict__.setdefault("_tip", getattr(widget, "tooltip", "") or "")
    widget.disabled = why_not is not None
    widget.why_not = why_not  # what a presenter key says when it cannot act
    if hasattr(widget, "tooltip"):
        widget.tooltip = _tooltip(base, why_not)


def _tooltip(base: str, why_not: str | None) -> str:
    return base if why_not is None else f"{base} (unavailable: {why_not})".lstrip()


def set_tooltip(widget, tooltip: str) -> None:
    """Give ``widget`` a new tooltip of its own (``enable`` adds its reason to it), leaving
    whether it is enabled as it was."""
    widget._tip = tooltip
    widget.tooltip = _tooltip(tooltip, getattr(widget, "why_not", None))


def node_roles(config: Config) -> dict[int, str]:
    """Each uid's role under ``config`` (the leader's assignment rule; clients last)."""
    r = config.roles(0)
    roles = {u: "proposer" for u in r.proposers}
    roles.update({u: "acceptor" for u in r.acceptors})
    roles.update({u: "learner" for u in r.learners})
    roles.update({u: "client" for u in config.client_uids})
    return roles


def close_tree(widget) -> None:
    """Close ``widget`` and every widget among its children, recursively."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
