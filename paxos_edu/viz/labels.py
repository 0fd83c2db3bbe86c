"""Captions that need the diagrams' view of a trace (which step caused an event)."""

from __future__ import annotations

from ..labels import describe_event, fmt_value, message_label, node_name, node_state_text

__all__ = ["describe_cursor", "describe_event", "fmt_value", "message_label", "node_name",
           "node_state_text"]


def describe_cursor(trace, at: int) -> str:
    """``event 97: send accept(7, 220)  1→4``; a state change is told by the step's cause."""
    from .state import step_cause

    ev = trace[at]
    cause = step_cause(trace, at)
    if ev["kind"] == "state" and cause is not None:
        return f"event {at}, the step of #{cause}: {describe_event(trace[cause])}"
    return f"event {at}: {describe_event(ev)}"
