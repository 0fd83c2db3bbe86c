"""What the dashboard does for a presenter: the keys' actions, sharing a run, the classroom view.

``Presenter`` is a mixin of ``Dashboard`` (it reads the dashboard's panels and session).
The classroom view (``Dashboard(view="classroom")``, the projector page ``make classroom``
serves) puts the dashboard first and keeps Step, the safety light and the diagram on one
1366×768 screen: the setup folds away once the run starts (and opens again on Reset), the
title is one short line, the presenter keys listen on the whole page, and the diagram is
never taller than the screen has room for.
"""

from __future__ import annotations

import ipywidgets as widgets

from ..trace import jsonl
from ..viz import to_html
from .render import status_html
from .share import Copy, Download

VIEWS = ("lesson", "classroom")
CLASSROOM_CSS = """<style>
.paxos-classroom .paxos-diagram svg { max-height: calc(100vh - 320px); }
.paxos-classroom h3 { font-size: 16px; }
</style>"""
"""Room above the diagram in the classroom view: the title, the folded setup, two rows of
controls, the status line, the safety light and the tabs: about 300 px, and a margin."""


class Presenter:
    """Presenter keys, share buttons and the classroom view's folding setup (see module doc)."""

    def key(self, action: str) -> None:
        """A presenter key (``keys.KEYS``): its button's click, or the status line says why not."""
        if action == "play":
            play = self.controls.play
            if play.disabled:
                return self._refuse(action, "press Start first")
            play.playing = not play.playing
            return None
        target = {"step": self.controls.step, "back": self.controls.back,
                  "fork": self.controls.fork, "reset": self.setup.reset}[action]
        if target.disabled:
            return self._refuse(action, getattr(target, "why_not", None) or "not now")
        target.click()
        return None

    def _refuse(self, action: str, why: str) -> None:
        self.error = f"key {action!r}: {why}"
        self.status.value = status_html(self.session, self.error)

    def shared(self, what: str) -> Download | Copy:
        """What the share buttons hand the browser: ``"jsonl"``, ``"html"`` or ``"code"``.

        The trace and the player hold the whole recorded history; the run code replays the
        run up to the step on screen (``Session.run_code``).
        """
        s = self._session()
        if what == "jsonl":
            return Download("paxos_run.jsonl", "application/x-ndjson", jsonl(s.events).encode())
        if what == "html":
            player = to_html(s.events, kind="paxos")
            page = ("<!doctype html><html><head><meta charset='utf-8'>"
                    "<title>paxos_edu run</title></head><body>" + player + "</body></html>")
            return Download("paxos_run.html", "text/html", page.encode())
        code, step = s.run_code()
        s.note = f"run code of steps 0 to {step}: paste it into paxos_edu.runcode.replay(code)"
        self.status.value = status_html(s, self.error)
        return Copy(code)

    # -- the view --------------------------------------------------------------------------
    def _header(self, view: str) -> list:
        """The widgets above the controls: title, keys, setup (folding in the classroom)."""
        if view not in VIEWS:
            raise ValueError(f"view={view!r}: must be one of {', '.join(map(repr, VIEWS))}")
        keys = [self.keys] if self.keys is not None else []
        if view == "lesson":
            return [widgets.HTML("<h3 style='margin:4px 0'>Basic Paxos classroom dashboard</h3>"),
                    *keys, self.setup.box]
        self.setup_fold = widgets.Accordion(children=[self.setup.box], titles=("setup",))
        self.setup_fold.selected_index = 0
        title = widgets.HTML("<h3 style='margin:2px 0'>Basic Paxos classroom dashboard</h3>"
                             + CLASSROOM_CSS)
        return [widgets.HBox([title, *keys], layout=widgets.Layout(
            align_items="baseline", justify_content="space-between")), self.setup_fold]

    def _fold_setup(self, folded: bool) -> None:
        """Classroom view: the setup folds away once the run starts, and opens on Reset."""
        fold = getattr(self, "setup_fold", None)
        if fold is not None:
            fold.selected_index = None if folded else 0
