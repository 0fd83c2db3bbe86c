"""Fault injection: crash and restart each node, partition the network in two, random loss.

One row per node: its name, Crash, Restart and, for an acceptor, an "amnesia"
box: checked, the restart loses the stable storage the acceptor promised to
keep (``run.restart(uid, amnesia=True)``), which the safety checker must catch.
The partition puts the nodes selected in one group and all the others in the
second (``run.partition(selected, rest)``); Heal joins them again. The loss
rate applies to free-running (Play). Simulated: each tick loses a random Paxos
message in flight (request, 1.1 to 3; not election tokens or roles, which
Chang-Roberts assumes reliable) with that probability instead of stepping,
recorded as a drop so time travel replays it. Real processes: the switch loses
each message with that probability (``Cluster.set_faults``) once every node has
its role; a change applies from the next tick.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from ..labels import node_name
from .util import button, enable, set_tooltip


class NodeRow:
    """One node's row. It is named as the rest of the dashboard names it (``rename``): N2
    during the election, A2 acceptor once the roles are handed out; the amnesia box
    (acceptors only) shows from then on."""

    def __init__(self, uid: int, role: str, on_crash: Callable, on_restart: Callable):
        self.uid, self.role = uid, role
        self.label = widgets.HTML(layout=widgets.Layout(width="110px"))
        self.crash = button("crash", lambda: on_crash(uid), "", icon="bolt")
        self.amnesia = widgets.Checkbox(False, description="amnesia", indent=False,
                                        layout=widgets.Layout(width="90px"),
                                        tooltip="restart without the acceptor's stable storage")
        self.restart = button("restart", lambda: on_restart(uid, self.amnesia.value), "",
                              icon="repeat")
        self.box = widgets.HBox()
        self.name = ""
        self.rename(node_name(uid, role))

    def rename(self, name: str) -> None:
        """Show the node as ``name`` (a role's letter, or N/C before the roles are known)."""
        if name == self.name:
            return
        self.name = name
        self.known = name[:1] == self.role[:1].upper()  # its role has been handed out
        set_tooltip(self.crash, f"crash {name}")
        set_tooltip(self.restart, f"restart {name}")
        parts = [self.label, self.crash, self.restart]
        if self.role == "acceptor" and self.known:
            parts.append(self.amnesia)
        self.box.children = parts

    def show(self, up: bool) -> None:
        role = f" {self.role}" if self.known else ""
        self.label.value = (f"<b>{self.name}</b>{role}"
                            + ("" if up else " <span style='color:#B2182B'>down</span>"))


class FaultPanel:
    def __init__(self, on_crash: Callable[[int], None], on_restart: Callable[[int, bool], None],
                 on_partition: Callable[..., None], on_heal: Callable[[], None]):
        self._on_crash, self._on_restart = on_crash, on_restart
        self._on_partition = on_partition
        self.rows: dict[int, NodeRow] = {}
        self.nodes_box = widgets.VBox()
        self.group = widgets.SelectMultiple(options=[], rows=6, description="group A",
                                            layout=widgets.Layout(width="220px"))
        self.partition = button("partition: A | the rest", self._partition,
                                "cut every link between group A and the other nodes",
                                icon="scissors")
        self.heal = button("heal", on_heal, "join the partitions again", icon="link")
        self.loss = widgets.FloatSlider(0.0, min=0.0, max=0.5, step=0.05,
                                        description="loss (Play)", readout_format=".0%",
                                        style={"description_width": "80px"})
        self.box = widgets.VBox([
            widgets.HTML("<b>crash / restart</b>"), self.nodes_box,
            widgets.HTML("<b>partition</b>"),
            widgets.HBox([self.group, widgets.VBox([self.partition, self.heal])]),
            self.loss,
        ])

    def build(self, roles: dict[int, str]) -> None:
        """One row per node (``{uid: role}``), and the partition's choices."""
        for row in self.rows.values():
            row.box.close()
        self.rows = {u: NodeRow(u, r, self._on_crash, self._on_restart)
                     for u, r in sorted(roles.items())}
        self.nodes_box.children = [row.box for row in self.rows.values()]
        self.group.options = [(node_name(u, r), u) for u, r in sorted(roles.items())]

    def show(self, alive: dict[int, bool], why_not: str | None, partitioned: bool,
             names: dict[int, str] | None = None) -> None:
        """Reflect who is up, named by ``names`` (the dashboard's names at its cursor);
        ``why_not`` (None when the run can change) disables every control."""
        for uid, row in self.rows.items():
            if names and uid in names:
                row.rename(names[uid])
            up = alive.get(uid, True)
            enable(row.crash, why_not or (None if up else f"{row.name} is down already"))
            enable(row.restart, why_not or (f"{row.name} is up" if up else None))
            enable(row.amnesia, why_not)
            row.show(up)
        options = [(row.name, uid) for uid, row in self.rows.items()]
        if options != list(self.group.options):
            chosen = self.group.value
            self.group.options = options
            self.group.value = tuple(u for u in chosen if u in self.rows)
        enable(self.partition, why_not)
        enable(self.heal, why_not or (None if partitioned else "the network is not partitioned"))
        enable(self.group, why_not)

    def _partition(self) -> None:
        chosen = set(self.group.value)
        self._on_partition(chosen, {u for u in self.rows if u not in chosen})
