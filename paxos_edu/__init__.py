"""paxos_edu: Basic Paxos and Chang-Roberts leader election to watch, step and break.

The public API (DESIGN.md section 3)::

    from paxos_edu import Config, Simulation, check_safety
    sim = Simulation(Config(proposers=2, acceptors=3, learners=1), seed=7)
    sim.propose(210, proposer=0); sim.start(); sim.run()
    sim.decided(), check_safety(sim.trace)
"""

from .core.codec import BadMessage
from .core.config import Config
from .core.invariants import Violation
from .explore import ExploreResult, explore
from .sim import Pending, Simulation
from .trace import check_safety, message_counts, read_jsonl, to_jsonl

__version__ = "0.1.0"

__all__ = [
    "BadMessage", "Config", "ExploreResult", "Pending", "Simulation", "Violation",
    "check_safety", "explore", "message_counts", "read_jsonl", "to_jsonl",
]
