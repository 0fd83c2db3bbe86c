"""A Config and role overrides as plain JSON, for the trip through a node's stdin (no pickle).

Role overrides (``impl={"acceptor": MyAcceptor}``) travel as ``"module:QualName"``
strings; the node process imports them, so the class must live in an importable
module, not in a notebook cell.
"""

from __future__ import annotations

import importlib
from dataclasses import fields, replace
from typing import Any

from ..core.config import Config

MAX_SLOW = 1000
HOP_MS = 1.0
"""How long a hop between two nodes on this machine takes, about (ms): at ``slow=k`` every
message in run mode is held ``(k - 1) * HOP_MS`` ms more, so a hop takes about ``k`` times
as long, and the nodes' timeouts are ``k`` times longer to match."""


def check_slow(slow: Any) -> float:
    """``Cluster(slow=...)`` checked: a number from 1 (real time) to ``MAX_SLOW``."""
    if isinstance(slow, bool) or not isinstance(slow, (int, float)) or not 1 <= slow <= MAX_SLOW:
        raise ValueError(f"slow={slow!r}: must be a number from 1 (real time) to {MAX_SLOW}")
    return float(slow)


def slowed(config: Config, slow: float) -> Config:
    """``config`` with every time (proposer timeout, back-off, client re-send) ``slow`` times
    longer: what the node processes of a slow-motion Cluster run with."""
    if slow == 1:
        return config
    low, high = config.backoff
    return replace(config, timeout=config.timeout * slow, backoff=(low * slow, high * slow),
                   resend=config.resend * slow)


def config_to_dict(config: Config) -> dict[str, Any]:
    """Every constructor field of ``config`` as JSON-ready data (tuples become lists)."""
    return {f.name: _lists(getattr(config, f.name)) for f in fields(config) if f.init}


def config_from_dict(data: dict[str, Any]) -> Config:
    """The Config ``config_to_dict`` described (lists become tuples again)."""
    return Config(**{name: _tuples(value) for name, value in data.items()})


def _lists(x: Any) -> Any:
    return [_lists(i) for i in x] if isinstance(x, (tuple, list)) else x


def _tuples(x: Any) -> Any:
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x


def impl_to_spec(impl: dict[str, type] | None) -> dict[str, str]:
    """``{"acceptor": "module:QualName"}`` per override; ValueError if a node could not load it."""
    spec = {}
    for role, cls in (impl or {}).items():
        if not isinstance(cls, type):
            raise ValueError(f"impl[{role!r}]={cls!r}: must be a class")
        module, name = cls.__module__, cls.__qualname__
        where = f"impl[{role!r}]={module}.{name}"
        if module == "__main__" or "<locals>" in name:
            raise ValueError(f"{where}: node processes cannot import a class defined in "
                             "__main__ (a notebook or script) or inside a function; "
                             "put it in a module of its own")
        try:
            found = load_class(f"{module}:{name}")
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"{where}: cannot be imported by name ({exc})") from None
        if found is not cls:
            raise ValueError(f"{where}: importing it by name gives a different class")
        spec[role] = f"{module}:{name}"
    return spec


def load_class(path: str) -> type:
    """Import ``"module:QualName"``."""
    module, _, name = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def impl_from_spec(spec: dict[str, str]) -> dict[str, type]:
    """The classes ``impl_to_spec`` named."""
    return {role: load_class(path) for role, path in spec.items()}
