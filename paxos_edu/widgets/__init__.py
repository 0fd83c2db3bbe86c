"""ipywidgets applications over a run: the classroom ``Dashboard`` and the ``ElectionWidget``.

::

    from paxos_edu.widgets import Dashboard, ElectionWidget
    dash = Dashboard(preset="amnesia"); dash     # configure, Start, Step, Play, Back, Fork...
    ElectionWidget(n=5, order="ascending")       # Chang-Roberts alone

Widgets hold no protocol logic: every button is one call on a ``Simulation`` or a
``Cluster`` (through ``Session``, the controller that also keeps the history for
time travel). Diagrams are the ``viz`` views as inline SVG, updated in place
(see ``render.py`` for why SVG in an HTML widget, and not a PNG or an Output).
"""

from .dashboard import Dashboard
from .election import ElectionWidget
from .scenarios import SCENARIOS, Msg, Scenario, ScriptStep, apply_step
from .session import BACKENDS, REAL, SIMULATED, Session

__all__ = ["BACKENDS", "REAL", "SCENARIOS", "SIMULATED", "Dashboard", "ElectionWidget", "Msg",
           "Scenario", "ScriptStep", "Session", "apply_step"]
