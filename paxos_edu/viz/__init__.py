"""Diagrams of a run, each a pure function of its trace (a list of event dicts).

The same calls draw a ``Simulation`` (``sim.trace``), a real UDP ``Cluster``
or a JSON Lines file (``read_jsonl``)::

    from paxos_edu.viz import draw_ring, draw_paxos, draw_timeline, animate, to_html
    draw_paxos(sim.trace, at=97)          # the state just after event 97
    HTML(to_html(sim.trace, kind="both"))  # an animation for a notebook

Every figure function returns a ``matplotlib.figure.Figure`` built without
pyplot (a notebook shows it once, as the cell's value) and accepts ``ax=`` to
draw into an existing axes. Node processes never import this package.
"""

from .animate import TraceAnimation, animate, make_views, save_gif, to_html
from .counts import election_tokens, measure_elections, plot_message_counts, plot_phase_counts
from .display import enable_notebook_display
from .labels import describe_event, message_label, node_state_text
from .paxos import PaxosView, draw_paxos
from .ring import RingView, draw_ring
from .state import Replay, World, frame_indices, ring_order, roles_of, world_at
from .style import PAXOS_PHASES, PHASE_COLORS, PHASE_NAMES
from .timeline import TimelineView, draw_timeline

enable_notebook_display()

__all__ = [
    "PAXOS_PHASES", "PHASE_COLORS", "PHASE_NAMES", "PaxosView", "Replay", "RingView",
    "TimelineView", "TraceAnimation", "World", "animate", "describe_event", "draw_paxos",
    "draw_ring", "draw_timeline", "election_tokens", "frame_indices", "make_views",
    "measure_elections", "message_label", "node_state_text", "plot_message_counts",
    "plot_phase_counts", "ring_order", "roles_of", "save_gif", "to_html", "world_at",
]
