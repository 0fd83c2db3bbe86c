"""A small harness for writing message schedules by hand against ``Simulation``.

Tests pick pending items by what they are (``type``, ``src``, ``dst`` and any
message field, e.g. ``v=210`` or ``name="timeout"``) rather than by id, so a
schedule reads like the textbook's message sequence chart.
"""

from __future__ import annotations

from paxos_edu import Simulation
from paxos_edu.sim import Pending


def find_all(sim: Simulation, type: str, src: int | None = None, dst: int | None = None,
             **fields) -> list[Pending]:
    """Every pending item of ``type`` (a message class name or ``"Timer"``), oldest first."""
    return [
        p for p in sim.pending()
        if p.msg.type == type
        and (src is None or p.src == src)
        and (dst is None or p.dst == dst)
        and all(getattr(p.msg, k) == v for k, v in fields.items())
    ]


def find(sim: Simulation, type: str, src: int | None = None, dst: int | None = None,
         **fields) -> Pending:
    """The oldest pending item matching; fails the test, listing what is pending, if none."""
    items = find_all(sim, type, src, dst, **fields)
    if not items:
        listing = "\n  ".join(str(p) for p in sim.pending()) or "(nothing)"
        want = f"{type} src={src} dst={dst} {fields or ''}"
        raise AssertionError(f"no pending {want}; pending:\n  {listing}")
    return items[0]


def deliver(sim: Simulation, type: str, src: int | None = None, dst: int | None = None,
            **fields) -> Pending:
    """Deliver the oldest pending item matching (fire it, for a timer)."""
    return sim.deliver(find(sim, type, src, dst, **fields).id)


def deliver_all(sim: Simulation, type: str, src: int | None = None, dst: int | None = None,
                **fields) -> int:
    """Deliver every item matching right now (not the ones this sends); returns how many."""
    items = find_all(sim, type, src, dst, **fields)
    for p in items:
        sim.deliver(p.id)
    return len(items)


def fifo(sim: Simulation, types: tuple[str, ...] | None = None, max_steps: int = 100_000) -> int:
    """Always deliver the oldest pending message (of ``types``), until none is left."""
    steps = 0
    while steps < max_steps:
        msgs = [p for p in sim.pending()
                if p.kind == "Message" and (types is None or p.msg.type in types)]
        if not msgs:
            break
        sim.deliver(msgs[0].id)
        steps += 1
    return steps


def elect_and_assign(sim: Simulation) -> Simulation:
    """Start, run Chang-Roberts and hand out roles with FIFO links, no faults.

    Afterwards every client has sent its Request (pending, not delivered).
    """
    sim.start()
    fifo(sim, ("Token", "Roles"))
    return sim


def invariants(violations) -> set[str]:
    """The names of the broken invariants."""
    return {v.invariant for v in violations}
