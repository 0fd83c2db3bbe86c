"""The original project's hosts.txt format, read strictly with errors that name the line.

::

    PROPOSERS 1
    ACCEPTORS 3
    LEARNERS 1
    127.0.0.1 0 con        # consensus nodes get uids 0..n-1 in file order
    127.0.0.1 0 con
    ...
    127.0.0.1 0 cli        # clients come after

Port 0 means "any free port" (the default on one machine); other ports are
honoured. Blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from .core.config import Config, Value

COUNT_KEYS = ("PROPOSERS", "ACCEPTORS", "LEARNERS")


class HostsError(ValueError):
    """A hosts.txt problem; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Hosts:
    """Role counts and one ``(host, port)`` per consensus node, then per client."""

    proposers: int
    acceptors: int
    learners: int
    consensus: tuple[tuple[str, int], ...]
    clients: tuple[tuple[str, int], ...] = field(default=())

    def address(self, uid: int) -> tuple[str, int]:
        """Where node ``uid`` listens (consensus uids first, then clients)."""
        both = self.consensus + self.clients
        if not 0 <= uid < len(both):
            raise ValueError(f"--id {uid}: hosts file has uids 0..{len(both) - 1}")
        return both[uid]

    def config(self, values: list[tuple[Value, int]] | None = None, **kwargs) -> Config:
        """A Config with these counts; ``values`` gives each client line its (value, index)."""
        values = list(values or [])
        if values and len(values) != len(self.clients):
            raise ValueError(f"{len(values)} client value(s) given but the hosts file has "
                             f"{len(self.clients)} 'cli' line(s)")
        return Config(self.proposers, self.acceptors, self.learners, clients=tuple(values),
                      **kwargs)


def parse_hosts(text: str, name: str = "hosts.txt") -> Hosts:
    """Parse hosts.txt content; raises HostsError naming the file, the line and the field."""
    counts: dict[str, int] = {}
    con: list[tuple[str, int]] = []
    cli: list[tuple[str, int]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}:{lineno}"
        parts = line.split()
        if parts[0].upper() in COUNT_KEYS:
            key = parts[0].upper()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
                raise HostsError(f"{where}: expected '{key} <count>' with a count >= 1, got {line!r}")
            if key in counts:
                raise HostsError(f"{where}: {key} given twice")
            counts[key] = int(parts[1])
            continue
        if len(parts) != 3:
            raise HostsError(f"{where}: expected 'host port con|cli', got {line!r}")
        host, port_text, kind = parts
        _check_host(host, where)
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise HostsError(f"{where}: port {port_text!r} must be a number from 0 to 65535")
        if kind not in ("con", "cli"):
            raise HostsError(f"{where}: node kind {kind!r} must be 'con' or 'cli'")
        if kind == "con" and cli:
            raise HostsError(f"{where}: consensus ('con') lines must come before clients ('cli')")
        (con if kind == "con" else cli).append((host, int(port_text)))
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        raise HostsError(f"{name}: missing line(s) {', '.join(k + ' <count>' for k in missing)}")
    need = sum(counts.values())
    if len(con) != need:
        raise HostsError(f"{name}: PROPOSERS + ACCEPTORS + LEARNERS = {need} but there are "
                         f"{len(con)} 'con' line(s)")
    taken = [a for a in con + cli if a[1] != 0]
    if len(set(taken)) != len(taken):
        dup = next(a for a in taken if taken.count(a) > 1)
        raise HostsError(f"{name}: address {dup[0]} {dup[1]} is used twice")
    return Hosts(counts["PROPOSERS"], counts["ACCEPTORS"], counts["LEARNERS"], tuple(con),
                 tuple(cli))


def read_hosts(path: str | os.PathLike) -> Hosts:
    """Read and parse a hosts file (see ``parse_hosts``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HostsError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_hosts(text, str(path))


def _check_host(host: str, where: str) -> None:
    if host == "localhost":
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.isalnum() or "-" in part for part in host.split(".")):
            raise HostsError(f"{where}: host {host!r} is not an address or a host name") from None
