"""Run codes: a run's configuration, seed and calls in one short string that reproduces it.

::

    code = runcode.encode(sim.config, sim.seed, sim.actions)   # "pxe1.eNq1kc1u..."
    sim2 = runcode.replay(code)                                 # the same run, step for step

The dashboard's "copy run code" gives such a string; a lesson cell (or a student's
question on a forum) pastes it into ``replay`` and gets the same pending ids, the same
messages and the same decisions, because a Simulation given the same calls and seed
does the same thing. A step-mode Cluster's calls replay in the simulator too (the
drivers' shared contract); what free-running processes did by themselves cannot be
replayed, so a code covers a run up to its last replayable step.

The format: ``pxe1.`` and the URL-safe base64 of zlib-compressed JSON ``{"config":
{fields that differ from the default}, "seed": s, "actions": [[name, *args], ...]}``.
Nothing in it is executed: ``decode`` accepts only the driver calls of ``CALLS`` with
plain JSON arguments, and every damaged code is refused with one sentence.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .core.config import Config
from .net.spec import config_from_dict, config_to_dict

PREFIX = "pxe1."
CALLS = ("start", "propose", "deliver", "drop", "duplicate", "delay", "_advance_to", "crash",
         "restart", "partition", "heal")
"""The recorded driver calls a code may contain (``Simulation.actions``)."""
MAX_CODE = 1_000_000
"""Longest code accepted, in characters (a run of some ten thousand calls)."""


@dataclass(frozen=True)
class RunCode:
    """What a code holds: the configuration, the seed and the recorded calls."""

    config: Config
    seed: int
    actions: tuple[tuple, ...]


def encode(config: Config, seed: int, actions: Iterable[Sequence]) -> str:
    """The code of a run: ``config`` (before any ``propose`` call), ``seed``, ``actions``."""
    default = config_to_dict(Config())
    fields = {k: v for k, v in config_to_dict(config).items() if default.get(k) != v}
    data = {"config": fields, "seed": seed, "actions": [list(a) for a in actions]}
    for k, action in enumerate(data["actions"]):
        if not action or action[0] not in CALLS:
            raise ValueError(f"action {k} {tuple(action)!r}: not a recorded driver call")
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode(code: str) -> RunCode:
    """The run a code describes; ValueError with one sentence if it is not a valid code."""
    if not isinstance(code, str):
        raise ValueError(f"a run code is a string, not {type(code).__name__}")
    code = "".join(code.split())  # pasted codes wrap and pick up spaces
    if not code.startswith(PREFIX):
        raise ValueError(f"not a paxos_edu run code: it must start with {PREFIX!r}")
    if len(code) > MAX_CODE:
        raise ValueError(f"run code of {len(code):,} characters: at most {MAX_CODE:,}")
    body = code[len(PREFIX):]
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)),
                              bufsize=MAX_CODE)
        data = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise ValueError(f"damaged run code (cut short or mistyped?): {exc}") from None
    if not isinstance(data, dict) or set(data) != {"config", "seed", "actions"}:
        raise ValueError("damaged run code: it must hold exactly config, seed and actions")
    if not isinstance(data["config"], dict):
        raise ValueError("damaged run code: config must be a mapping of Config fields")
    if type(data["seed"]) is not int:
        raise ValueError(f"run code seed {data['seed']!r}: must be an integer")
    known = set(config_to_dict(Config()))
    unknown = sorted(set(data["config"]) - known)
    if unknown:
        raise ValueError(f"run code config field {unknown[0]!r}: Config has no such field")
    config = config_from_dict(data["config"])  # ValueError naming a bad field
    if not isinstance(data["actions"], list):
        raise ValueError("damaged run code: actions must be a list")
    actions = []
    for k, action in enumerate(data["actions"]):
        if not isinstance(action, list) or not action or action[0] not in CALLS:
            raise ValueError(f"run code action {k} {action!r}: not one of {', '.join(CALLS)}")
        actions.append((action[0], *(_tuples(a) for a in action[1:])))
    return RunCode(config, data["seed"], tuple(actions))


def replay(code: str, impl: dict | None = None):
    """A Simulation that has made the code's calls: the same run, ready to go on from there."""
    from .sim import Simulation

    run = decode(code)
    try:
        return Simulation.replay(run.config, run.actions, run.seed, impl=impl)
    except (TypeError, ValueError, KeyError, LookupError) as exc:
        raise ValueError(f"run code does not replay: {exc}") from None


def _tuples(x: Any) -> Any:
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x
