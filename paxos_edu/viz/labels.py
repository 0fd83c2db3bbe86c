"""Captions that need the diagrams' view of a trace (which step caused an event)."""

from __future__ import annotations

from ..labels import describe_event, fmt_value, message_label, node_name, node_state_text, role_names

__all__ = ["describe_cursor", "describe_event", "fmt_value", "message_label", "node_name",
           "node_state_text", "trace_names"]


def trace_names(trace) -> dict[int, str]:
    """Each uid's name: P0, A2, L5, C6 once ``trace`` holds a Roles message; before that
    (the election) N0, N1, ... for the consensus nodes and C5, ... for the clients.

    A node is named for a role only once the roles are handed out, the rule of every
    title, pending list, status line and diagram."""
    names: dict[int, str] = {}
    for ev in trace:
        msg = ev.get("msg") or {}
        if ev.get("kind") == "send" and msg.get("type") == "Roles":
            return role_names(msg)
        if ev.get("kind") == "state" and "uid" in msg:
            names.setdefault(msg["uid"], node_name(msg["uid"],
                                                   "client" if msg.get("kind") == "client" else None))
    return names


def describe_cursor(trace, at: int) -> str:
    """``event 97: send accept(7, 220)  P1→A4``; a state change is told by the step's cause."""
    from .state import step_cause

    ev, names = trace[at], trace_names(trace)
    cause = step_cause(trace, at)
    if ev["kind"] == "state" and cause is not None:
        return f"event {at}, the step of event {cause}: {describe_event(trace[cause], names)}"
    return f"event {at}: {describe_event(ev, names)}"
