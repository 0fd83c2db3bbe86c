"""The configuration panel: roles, clients, backend, seed, scenario preset, Start and Reset.

Choosing a preset fills in its configuration and seed; changing any of them by
hand afterwards switches the preset back to "custom" (its script would no
longer fit). Everything else in a ``Config`` (ring order, timeouts) comes from
the ``template`` the panel was made with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import ipywidgets as widgets

from ..core.config import Config
from ..labels import fmt_value
from .scenarios import SCENARIOS, ScriptStep
from .session import BACKENDS, REAL, SIMULATED
from .util import button

CUSTOM = ""
SLOW_MOTION = (("in real time", 1), ("10× slower", 10), ("100× slower", 100),
               ("300× slower", 300))
"""Play on real processes: ``Cluster(slow=...)``, every hop and timeout that much longer."""
_INT = re.compile(r"^[+-]?\d+$")


def parse_value(text: str):
    """A client's value from its text box: an integer if it looks like one, else the string."""
    text = text.strip()
    return int(text) if _INT.match(text) else text


class ClientRow:
    """One client: its value and the proposer it asks, with a remove button."""

    def __init__(self, value, proposer: int, proposers: int, on_change: Callable,
                 on_remove: Callable):
        self.value = widgets.Text(value=fmt_value(value).strip("'"), description="value",
                                  layout=widgets.Layout(width="170px"),
                                  style={"description_width": "40px"})
        self.proposer = widgets.Dropdown(description="asks", layout=widgets.Layout(width="120px"),
                                         style={"description_width": "32px"})
        self.set_proposers(proposers, proposer)
        self.remove = button("✕", lambda: on_remove(self), tooltip="remove this client",
                             width="36px")
        self.value.observe(lambda _c: on_change(), "value")
        self.proposer.observe(lambda _c: on_change(), "value")
        self.box = widgets.HBox([self.value, self.proposer, self.remove])

    def set_proposers(self, proposers: int, chosen: int | None = None) -> None:
        current = self.proposer.value if chosen is None else chosen
        self.proposer.options = [(f"P{i}", i) for i in range(proposers)]
        self.proposer.value = min(current or 0, proposers - 1)

    def spec(self) -> tuple:
        return (parse_value(self.value.value), self.proposer.value)


class SetupPanel:
    """Widgets that build a ``Config`` and choose a preset; ``on_start``/``on_reset`` are called."""

    def __init__(self, template: Config | None = None, seed: int = 0, backend: str = SIMULATED,
                 on_start: Callable = lambda: None, on_reset: Callable = lambda: None):
        template = template or Config(clients=((210, 0),))
        self.template = template
        self._applying = False
        self.preset = widgets.Dropdown(
            options=[("custom", CUSTOM)] + [(s.title, k) for k, s in SCENARIOS.items()],
            value=CUSTOM, description="scenario")
        self.about = widgets.HTML()
        slider = {"continuous_update": False, "style": {"description_width": "70px"}}
        self.proposers = widgets.IntSlider(template.proposers, 1, 7, description="proposers",
                                           **slider)
        self.acceptors = widgets.IntSlider(template.acceptors, 1, 11, description="acceptors",
                                           **slider)
        self.learners = widgets.IntSlider(template.learners, 1, 5, description="learners",
                                          **slider)
        self.clients: list[ClientRow] = []
        self.clients_box = widgets.VBox()
        self.add_client = button("+ client", self._add_client, tooltip="add a client")
        self.backend = widgets.ToggleButtons(options=BACKENDS, value=backend,
                                             description="backend")
        self.seed = widgets.IntText(seed, description="seed", layout=widgets.Layout(width="160px"))
        self.slow = widgets.Dropdown(options=SLOW_MOTION, value=1, description="Play",
                                     tooltip="real UDP processes: how much slower a free run "
                                             "goes, to watch it as it happens",
                                     layout=widgets.Layout(width="230px"))
        self.backend.observe(self._backend_changed, "value")
        self._backend_changed({"new": backend})
        self.start = button("Start", on_start, style="success", icon="play")
        self.reset = button("Reset", on_reset, style="warning", icon="refresh")
        for w in (self.proposers, self.acceptors, self.learners, self.seed):
            w.observe(self._changed, "value")
        self.proposers.observe(self._proposers_changed, "value")
        self.preset.observe(self._preset_chosen, "value")
        self._set_clients(template.clients)
        self.box = widgets.VBox([
            widgets.HBox([self.preset, self.about]),
            widgets.HBox([self.proposers, self.acceptors, self.learners]),
            widgets.HBox([widgets.Label("clients:"), self.clients_box, self.add_client]),
            widgets.HBox([self.backend, self.seed, self.slow]),
            widgets.HBox([self.start, self.reset]),
        ])

    # -- reading -------------------------------------------------------------------------------
    def config(self) -> Config:
        """The configuration shown (ValueError naming the bad field, from ``Config``)."""
        return replace(self.template, proposers=self.proposers.value,
                       acceptors=self.acceptors.value, learners=self.learners.value,
                       clients=tuple(row.spec() for row in self.clients))

    def script(self) -> list[ScriptStep]:
        return list(SCENARIOS[self.preset.value].script) if self.preset.value else []

    # -- writing -------------------------------------------------------------------------------
    def show_config(self, config: Config, seed: int | None = None) -> None:
        """Fill the widgets from ``config`` (and ``seed``) without leaving the preset."""
        self._applying = True
        try:
            self.template = config
            self.proposers.value = config.proposers
            self.acceptors.value = config.acceptors
            self.learners.value = config.learners
            if seed is not None:
                self.seed.value = seed
            self._set_clients(config.clients)
        finally:
            self._applying = False

    def set_enabled(self, enabled: bool) -> None:
        """Configuration can change only before Start (and after Reset)."""
        for w in (self.preset, self.proposers, self.acceptors, self.learners, self.add_client,
                  self.backend, self.seed, self.slow, self.start):
            w.disabled = not enabled
        for row in self.clients:
            for w in (row.value, row.proposer, row.remove):
                w.disabled = not enabled

    def cluster_options(self, base: dict | None) -> dict:
        """``Cluster`` options for a real run: ``base`` and the slow-motion factor chosen."""
        return {**(base or {}), **({"slow": self.slow.value} if self.slow.value != 1 else {})}

    # -- internals -----------------------------------------------------------------------------
    def _backend_changed(self, change) -> None:
        self.slow.layout.visibility = "visible" if change["new"] == REAL else "hidden"
    def _set_clients(self, clients) -> None:
        self.clients = [ClientRow(v, k, self.proposers.value, self._changed, self._remove)
                        for v, k in clients]
        self.clients_box.children = [row.box for row in self.clients]

    def _add_client(self) -> None:
        values = [row.spec()[0] for row in self.clients]
        ints = [v for v in values if isinstance(v, int)]
        value = max(ints) + 10 if ints else 210
        k = len(self.clients) % self.proposers.value
        self.clients.append(ClientRow(value, k, self.proposers.value, self._changed,
                                      self._remove))
        self.clients_box.children = [row.box for row in self.clients]
        self._changed()

    def _remove(self, row: ClientRow) -> None:
        if row in self.clients:
            self.clients.remove(row)
            self.clients_box.children = [r.box for r in self.clients]
            row.box.close()
            self._changed()

    def _proposers_changed(self, change) -> None:
        for row in self.clients:
            row.set_proposers(change["new"])

    def _changed(self, change=None) -> None:
        if not self._applying and self.preset.value != CUSTOM:
            self.preset.value = CUSTOM

    def _preset_chosen(self, change) -> None:
        key = change["new"]
        if key == CUSTOM:
            self.about.value = ""
            return
        scenario = SCENARIOS[key]
        self.show_config(scenario.config, scenario.seed)
        self.about.value = (f"<small>{len(scenario.script)} scripted steps, then free steps. "
                            f"<b>Ends:</b> {scenario.promise}</small>")
