"""What the explorer keeps of a node: a frozen key of its role's fields, a cheap clone, a Step.

Node objects in the search are never changed once interned; a step works on a clone,
and what it did is kept as a ``Step`` of interned ids.
"""

from __future__ import annotations

import copy
from typing import Any

_SCALARS = (int, str, type(None), float, bool)


def freeze(x: Any) -> Any:
    """A hashable copy of plain data: dicts become sorted pairs, sets frozensets, lists tuples."""
    if type(x) in _SCALARS:
        return x
    if isinstance(x, dict):
        return tuple(sorted(((k, freeze(v)) for k, v in x.items()), key=repr))
    if isinstance(x, (set, frozenset)):
        return frozenset(freeze(v) for v in x)
    if isinstance(x, (list, tuple)):
        return tuple(freeze(v) for v in x)
    return x


def role_key(node, skip: tuple[str, ...] = ()) -> tuple:
    """What a node's behaviour after set-up depends on: its role's fields, frozen.

    The random generator, a client's request count and a proposer's timeout doublings
    are timing only, which the search leaves free; ``skip`` leaves out more fields.
    """
    return tuple((k, freeze(v)) for k, v in vars(node.role).items()
                 if k not in ("rng", "requests_sent", "timeouts") and k not in skip)


def clone(node):
    """A copy of a node that a step may change without touching the original.

    Only the role changes after set-up; its containers are copied one level deep (a
    learner's vote sets one more), far cheaper than a deep copy.
    """
    twin = copy.copy(node)
    role = twin.role = copy.copy(node.role)
    for name, value in vars(role).items():
        if isinstance(value, dict):
            setattr(role, name, {k: (set(v) if isinstance(v, set) else v)
                                 for k, v in value.items()})
        elif isinstance(value, (set, list)):
            setattr(role, name, type(value)(value))
    return twin


class Step:
    """What one step did to the system, in interned ids (cached per node state and input)."""

    __slots__ = ("nid", "sends", "plain", "watched", "once", "timer_ops", "store", "eid",
                 "grew", "prunes")

    def __init__(self, nid, sends, plain, watched, once, timer_ops, store, eid, grew, prunes):
        self.nid = nid              # the node's new state
        self.sends = sends          # message ids sent, in order; of those:
        self.plain = plain          # added to the network
        self.watched = watched      # (id, dst): added unless stale for proposer dst already
        self.once = once            # added unless there already
        self.timer_ops = timer_ops  # ("set" | "cancel", (uid, name)), in order
        self.store = store          # the new storage id, or None
        self.eid = eid              # events for the monitor, or None
        self.grew = grew            # a proposer's round grew (check the numbers bound)
        self.prunes = prunes        # a proposer whose stale Acks and Nacks are dropped
