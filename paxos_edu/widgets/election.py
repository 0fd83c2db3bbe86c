"""ElectionWidget: Chang-Roberts on its own, a token at a time, on the ring diagram.

Choose n and the ring order (uids ascending, descending or shuffled along the
ring, or typed in: the uids in ring order), then Step a token (the oldest Token
message in flight is delivered: FIFO links, as in ``viz.election_tokens``) or
Run until no token is left. The count of Token messages sent is shown against
the textbook's best case 2n−1 (ascending) and worst case n(n+1)/2 (descending).

The run is a ``Config(proposers=1, acceptors=n-2, learners=1)`` (n consensus
nodes, uids 0..n-1) in a Simulation, or real node processes (a step-mode
Cluster, closed on New ring, ``close()`` or garbage collection).
"""

from __future__ import annotations

import re
import weakref

import ipywidgets as widgets

from ..core.config import Config
from ..driver import Driver
from ..viz import RingView
from ..viz.ring import best_case, worst_case
from ..viz.style import scale_factor
from .history import make_driver
from .render import DiagramImage
from .session import BACKENDS, SIMULATED
from .util import button, close_tree, weak

ORDERS = ("ascending", "descending", "random", "typed")


def parse_ring(text: str) -> tuple[int, ...]:
    """``"2 0, 4 1 3"`` -> ``(2, 0, 4, 1, 3)``; ValueError naming what is not a uid."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    bad = [p for p in parts if not re.fullmatch(r"\d+", p)]
    if bad or not parts:
        raise ValueError(f"ring {text!r}: type the uids 0..n-1 in ring order, e.g. '2 0 4 1 3'")
    return tuple(int(p) for p in parts)


class _Run:
    """The run a widget owns, closed when the widget goes (no reference back to it)."""

    def __init__(self):
        self.run: Driver | None = None
        self.root = None

    def close(self, widgets_too: bool = True) -> None:
        if self.run is not None:
            self.run.close()  # a Cluster's processes stop; a Simulation has nothing to release
        if widgets_too and self.root is not None:
            close_tree(self.root)


class ElectionWidget:
    """Chang-Roberts leader election, stepped one token at a time (see the module doc).

    ``order`` is ascending, descending, random (shuffled with ``ring_seed``) or typed;
    ``uids`` (a ring order such as ``(2, 0, 4, 1, 3)``) implies ``order="typed"``.
    """

    def __init__(self, n: int = 5, order: str = "ascending", uids=None, *, ring_seed: int = 0,
                 seed: int = 0, backend: str = SIMULATED, scale: float | str = "laptop",
                 raise_errors: bool = False):
        if uids is not None:
            order, n = "typed", len(uids)
        if order not in ORDERS:
            raise ValueError(f"order={order!r}: must be one of {', '.join(ORDERS)}")
        self.seed = seed
        self.raise_errors = raise_errors
        self.error: str | None = None
        self.errors: list[Exception] = []
        self.config: Config | None = None
        self._owned = _Run()
        self._events: list[dict] = []   # the run's trace, one growing list for the view
        self._generation = 0
        self.n = widgets.IntSlider(n, 3, 16, description="n", continuous_update=False)
        self.order = widgets.ToggleButtons(options=ORDERS, value=order, description="ring")
        self.uids = widgets.Text(" ".join(map(str, uids or ())), description="typed ring",
                                 placeholder="uids in ring order, e.g. 2 0 4 1 3",
                                 continuous_update=False)
        self.ring_seed = widgets.IntText(ring_seed, description="ring seed",
                                         layout=widgets.Layout(width="160px"))
        self.backend = widgets.ToggleButtons(options=BACKENDS, value=backend,
                                             description="backend")
        self.new_button = button("New ring", weak(self.new_ring), icon="refresh")
        self.step_button = button("Step a token", weak(self.step), style="primary",
                                  icon="step-forward")
        self.run_button = button("Run", weak(self.run_all), icon="fast-forward")
        self.scale = scale_factor(scale)
        self.diagram = DiagramImage(weak(self._view))
        self.diagram.widget.layout.width = "640px"  # text of 12 px or more at the laptop scale
        self.counts = widgets.HTML()
        self.status = widgets.HTML()
        for w in (self.n, self.order, self.uids, self.ring_seed, self.backend):
            w.observe(weak(self._changed), "value")
        self.root = widgets.VBox([
            widgets.HTML("<h3 style='margin:4px 0'>Chang-Roberts ring election</h3>"),
            widgets.HBox([self.n, self.order]),
            widgets.HBox([self.uids, self.ring_seed]),
            self.backend,
            widgets.HBox([self.new_button, self.step_button, self.run_button]),
            self.status, self.counts, self.diagram.widget,
        ])
        self._owned.root = self.root
        weakref.finalize(self, self._owned.close)
        self.new_ring()

    # -- display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        # The root VBox's own text/plain would spell out every child widget.
        bundle = self.root._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<ElectionWidget: n={self.n.value}, {self.order.value}, {self.tokens} tokens>"

    def close(self) -> None:
        self._owned.close()

    # -- reading -------------------------------------------------------------------------------
    @property
    def run(self) -> Driver | None:
        return self._owned.run

    @property
    def tokens(self) -> int:
        """Token messages sent so far."""
        if self.run is None:
            return 0
        return sum(1 for ev in self.run.trace
                   if ev["kind"] == "send" and ev["msg"]["type"] == "Token")

    @property
    def leader(self) -> int | None:
        return None if self.run is None else self.run.leader()

    def tokens_in_flight(self) -> list:
        if self.run is None:
            return []
        return sorted((p for p in self.run.pending()
                       if p.kind == "Message" and p.msg.type == "Token"), key=lambda p: p.id)

    # -- acting --------------------------------------------------------------------------------
    def new_ring(self) -> None:
        """Build the ring from the widgets and start it: every node sends its own token."""
        self._guard(self._new_ring)

    def step(self) -> bool:
        """Deliver the oldest token in flight; False when none is left."""
        return bool(self._guard(self._step))

    def run_all(self, max_steps: int = 100_000) -> int:
        """Deliver tokens until none is left; returns how many were delivered."""
        return self._guard(lambda: self._run_all(max_steps)) or 0

    # -- internals -----------------------------------------------------------------------------
    def _guard(self, fn):
        self.error = None
        try:
            return fn()
        except Exception as exc:
            self.error = str(exc)
            self.errors.append(exc)
            if self.raise_errors:
                raise
            return None
        finally:
            self.refresh()

    def _ring(self):
        order = self.order.value
        if order == "typed":
            return parse_ring(self.uids.value)
        return order

    def _new_ring(self) -> None:
        self._owned.close(widgets_too=False)
        self._owned.run = None
        self._events = []
        self._generation += 1
        self.diagram.clear()
        ring = self._ring()
        n = len(ring) if isinstance(ring, tuple) else self.n.value
        if isinstance(ring, tuple) and n < 3:
            raise ValueError(f"ring {ring}: at least 3 nodes")
        self.config = Config(proposers=1, acceptors=n - 2, learners=1, ring=ring,
                             ring_seed=self.ring_seed.value)
        run = make_driver(self.backend.value, self.config, self.seed)
        self._owned.run = run
        run.start()

    def _step(self) -> bool:
        tokens = self.tokens_in_flight()
        if not tokens:
            return False
        self.run.deliver(tokens[0].id)
        return True

    def _run_all(self, max_steps: int) -> int:
        steps = 0
        while steps < max_steps and self._step():
            steps += 1
        return steps

    def _changed(self, change) -> None:
        if change["owner"] is self.uids and self.order.value != "typed":
            self.order.value = "typed"  # typing a ring means you want it (this rebuilds)
            return
        self.new_ring()

    def _view(self, events):
        return RingView(events, ring=self.config.ring_order, scale=self.scale, themed=True)

    def refresh(self) -> None:
        self.uids.disabled = False
        self.n.disabled = self.order.value == "typed"
        self.ring_seed.disabled = self.order.value != "random"
        run = self.run
        if run is not None:
            self._events.extend(run.trace[len(self._events):])
        if run is None or not self._events:
            self.status.value = f"<span style='color:#B2182B'>⚠ {self.error}</span>" \
                if self.error else ""
            self.counts.value = ""
            return
        n = self.config.n_consensus
        leader = self.leader
        flying = len(self.tokens_in_flight())
        words = f"leader: node {leader}" if leader is not None else "no leader yet"
        error = f"<span style='color:#B2182B'>⚠ {self.error}</span><br>" if self.error else ""
        self.status.value = (f"{error}ring {' → '.join(map(str, self.config.ring_order))} · "
                             f"{words} · {flying} token(s) in flight")
        self.counts.value = (
            f"<div class='election-counts'>Token messages sent: <b>{self.tokens}</b> · best case "
            f"2n−1 = {best_case(n)} · worst case n(n+1)/2 = {worst_case(n)} (n = {n})</div>")
        self.step_button.disabled = self.run_button.disabled = flying == 0
        self.diagram.show(self._events, len(self._events) - 1, self._generation)
