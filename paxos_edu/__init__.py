"""paxos_edu: Basic Paxos and Chang-Roberts leader election to watch, step and break.

The public API (docs/architecture.md)::

    from paxos_edu import Config, Simulation, Cluster, check_safety
    sim = Simulation(Config(proposers=2, acceptors=3, learners=1), seed=7)
    sim.propose(210, proposer=0); sim.start(); sim.run(until="decided")
    sim.decided(), check_safety(sim.trace)

Names are imported on first use (PEP 562), so a node process that imports
``paxos_edu.core`` and ``paxos_edu.net`` loads nothing else.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "BadMessage": "paxos_edu.core.codec",
    "Config": "paxos_edu.core.config",
    "Violation": "paxos_edu.core.invariants",
    "Simulation": "paxos_edu.sim",
    "Pending": "paxos_edu.ledger",
    "RunResult": "paxos_edu.driver",
    "Driver": "paxos_edu.driver",
    "explore": "paxos_edu.explorer",
    "ExploreResult": "paxos_edu.explorer",
    "check_safety": "paxos_edu.trace",
    "message_counts": "paxos_edu.trace",
    "read_jsonl": "paxos_edu.trace",
    "to_jsonl": "paxos_edu.trace",
    "Cluster": "paxos_edu.cluster",
    "Dashboard": "paxos_edu.widgets",
    "ElectionWidget": "paxos_edu.widgets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'paxos_edu' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
