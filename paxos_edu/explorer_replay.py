"""An explorer schedule in words, and replayed step by step in a ``Simulation``.

A schedule is a list of actions: ``("deliver", src, dst, msg)``, ``("duplicate", src,
dst, msg)``, ``("timer", uid, name)`` and ``("restart", uid, amnesia)``, taken after a
FIFO election and set-up. Replaying it in a ``Simulation`` gives the trace that
``check_safety`` explains and the diagrams draw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from .core.config import Config
from .sim import Simulation


def describe(action: tuple) -> str:
    """One schedule step in words."""
    if action[0] == "deliver":
        _, src, dst, msg = action
        return f"deliver {src}->{dst} {msg}"
    if action[0] == "duplicate":
        return f"duplicate {action[1]}->{action[2]} {action[3]}"
    if action[0] == "timer":
        return f"fire timer {action[2]!r} of node {action[1]}"
    return f"restart node {action[1]}" + (" with amnesia" if action[2] else " from storage")


def setup_done(sim: Simulation) -> bool:
    """Every node has its role and no election or set-up message is in flight."""
    snaps = sim.snapshot().values()
    return all(s.get("role") is not None for s in snaps) and not any(
        p.msg.type in ("Token", "Roles") for p in sim.pending())


def run_setup(sim: Simulation) -> bool:
    """Deliver election and set-up messages oldest first until set-up is done (False if stuck)."""
    while not setup_done(sim):
        item = next((p for p in sim.pending() if p.kind == "Message"
                     and p.msg.type in ("Token", "Roles")), None)
        if item is None:
            return False
        sim.deliver(item.id)
    return True


def replay_schedule(config: Config, schedule: list[tuple],
                    impl: Mapping[str, type] | None = None,
                    network: str = "bag") -> Simulation | None:
    """Run an explorer schedule in a Simulation: FIFO election and setup, then each step.

    A message the schedule delivers again is duplicated in flight first, so the
    Simulation's trace shows the duplicate. Returns None if a step cannot be matched.
    """
    sim = Simulation(config, impl=impl)
    sim.start()
    if not run_setup(sim):
        return None
    remaining = Counter(a for a in schedule if a[0] == "deliver")
    for action in schedule:
        if action[0] == "deliver":
            _, src, dst, msg = action
            copies = [p for p in sim.pending() if p.kind == "Message" and p.src == src
                      and p.dst == dst and p.msg == msg]
            if not copies:
                return None
            remaining[action] -= 1
            if network == "set" and remaining[action] > 0 and len(copies) == 1:
                sim.duplicate(copies[0].id)  # the schedule delivers it again later
            sim.deliver(copies[0].id)
        elif action[0] == "duplicate":
            item = next((p for p in sim.pending() if p.kind == "Message" and p.src == action[1]
                         and p.dst == action[2] and p.msg == action[3]), None)
            if item is None:
                return None
            sim.duplicate(item.id)
        elif action[0] == "timer":
            item = next((p for p in sim.pending() if p.kind == "Timer" and p.dst == action[1]
                         and p.msg.name == action[2]), None)
            if item is None:
                return None
            sim.deliver(item.id)
        else:
            sim.restart(action[1], amnesia=action[2])
        for item in [p for p in sim.pending() if p.kind == "Timer" and p.msg.name == "retry"]:
            sim.deliver(item.id)  # the explorer retries at once after a back-off
    return sim
