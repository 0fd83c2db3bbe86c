"""Trace events: the one record that the checker, the diagrams and the exports read.

An event is a plain dict (JSON Lines when exported)::

    {"seq": 12, "t": 4.0, "kind": "deliver", "src": 0, "dst": 2, "id": 7,
     "msg": {"type": "Proposal", "n": 6, "v": 210}, "phase": "1.1"}

``kind`` is one of ``EVENT_KINDS``. ``seq`` counts from 0; ``t`` is in
milliseconds (virtual in a Simulation, since start in a Cluster); ``id`` names
the message (or timer) so a send can be matched with its delivery or drop. A
``state`` event's ``msg`` is ``{"type": "State", ...}`` with the node's whole
snapshot; a ``decide`` event's is ``{"type": "Decided", "v": ..., "n": ...}``.
``drop`` events carry a ``reason``; ``duplicate`` events an ``of`` (the copied id).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .core.invariants import Violation
from .core.invariants import check_safety as _check_events

EVENT_KINDS = ("send", "deliver", "drop", "duplicate", "timer", "state", "decide", "crash",
               "restart")
REQUIRED = ("seq", "t", "kind", "src", "dst", "msg", "phase")


def jsonl(trace: Iterable[dict]) -> str:
    """``trace`` as JSON Lines text, one event per line (what ``to_jsonl`` writes)."""
    return "".join(json.dumps(ev, separators=(",", ":")) + "\n" for ev in trace)


def to_jsonl(trace: Iterable[dict], path: str | os.PathLike) -> Path:
    """Write ``trace`` to ``path`` as JSON Lines, one event per line."""
    path = Path(path)
    path.write_text(jsonl(trace), encoding="utf-8")
    return path


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON Lines trace; a malformed line raises ValueError naming its number."""
    events = []
    with Path(path).open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc})") from None
            problem = validate_event(ev)
            if problem:
                raise ValueError(f"{path}:{lineno}: {problem}")
            events.append(ev)
    return events


def validate_event(ev) -> str | None:
    """What is wrong with ``ev`` as a trace event, or None if nothing."""
    if not isinstance(ev, dict):
        return "an event must be a JSON object"
    missing = [k for k in REQUIRED if k not in ev]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    if ev["kind"] not in EVENT_KINDS:
        return f"kind {ev['kind']!r} is not one of {', '.join(EVENT_KINDS)}"
    if not isinstance(ev["msg"], dict) or "type" not in ev["msg"]:
        return "msg must be an object with a 'type'"
    return None


def check_safety(trace: Iterable[dict] | str | os.PathLike) -> list[Violation]:
    """Every safety violation in ``trace``: a list of events, or a JSON Lines file's path."""
    if isinstance(trace, (str, os.PathLike)):
        trace = read_jsonl(trace)
    return _check_events(trace)


def message_counts(trace: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Messages sent, counted ``{"by_kind": {...}, "by_phase": {...}}`` (timers excluded)."""
    by_kind: Counter = Counter()
    by_phase: Counter = Counter()
    for ev in trace:
        if ev["kind"] in ("send", "duplicate"):
            by_kind[ev["msg"]["type"]] += 1
            by_phase[ev["phase"]] += 1
    return {"by_kind": dict(by_kind), "by_phase": dict(by_phase)}
