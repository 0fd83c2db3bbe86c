"""Captions that need the diagrams' view of a trace (which step caused an event)."""

from __future__ import annotations

from ..labels import describe_event, fmt_value, message_label, node_name, node_state_text, role_names

__all__ = ["describe_cursor", "describe_event", "fmt_value", "message_label", "node_name",
           "node_state_text", "trace_names"]


def trace_names(trace) -> dict[int, str]:
    """Each uid's name (P0, A2, L5, C6) from the first Roles message in ``trace``, if any."""
    roles = next((ev["msg"] for ev in trace
                  if ev.get("kind") == "send" and (ev.get("msg") or {}).get("type") == "Roles"), None)
    return role_names(roles)


def describe_cursor(trace, at: int) -> str:
    """``event 97: send accept(7, 220)  P1→A4``; a state change is told by the step's cause."""
    from .state import step_cause

    ev, names = trace[at], trace_names(trace)
    cause = step_cause(trace, at)
    if ev["kind"] == "state" and cause is not None:
        return f"event {at}, the step of event {cause}: {describe_event(trace[cause], names)}"
    return f"event {at}: {describe_event(ev, names)}"
