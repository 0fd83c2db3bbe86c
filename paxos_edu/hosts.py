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
honoured. Blank lines and ``#`` comments are ignored. Counts and ports are ASCII digits
only (``²`` or ``١`` are refused, not read as numbers); the file is UTF-8, a leading BOM
is allowed, and a byte that is not UTF-8 is reported with its line.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from .core.config import Config, Value

COUNT_KEYS = ("PROPOSERS", "ACCEPTORS", "LEARNERS")
DIGITS = re.compile(r"[0-9]+")


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
    lines: tuple[int, ...] = field(default=(), compare=False)
    """The line of each node (consensus uids first, then clients), for messages."""
    name: str = field(default="hosts.txt", compare=False)
    """The file it was read from."""

    def where(self, uid: int) -> str:
        """``file:line`` of node ``uid``'s line (just the file if unknown)."""
        return f"{self.name}:{self.lines[uid]}" if 0 <= uid < len(self.lines) else self.name

    def address(self, uid: int) -> tuple[str, int]:
        """Where node ``uid`` listens (consensus uids first, then clients)."""
        both = self.consensus + self.clients
        if not 0 <= uid < len(both):
            raise ValueError(f"--id {uid}: hosts file has uids 0..{len(both) - 1}")
        return both[uid]

    def check_here(self) -> None:
        """For ``paxos-edu run``, which starts every node on this machine: each host is this
        machine (127.x.x.x or localhost) and each fixed port is free; else HostsError
        naming the line, before any process starts."""
        for uid, (host, port) in enumerate(self.consensus + self.clients):
            if host != "localhost" and not _loopback(host):
                raise HostsError(
                    f"{self.where(uid)}: host {host} is another machine, but 'paxos-edu run' "
                    "starts every node here (127.x.x.x or localhost only); run 'paxos-edu node "
                    f"--hosts {self.name} --id {uid}' on that machine instead")
            if port:
                ip = "127.0.0.1" if host == "localhost" else host
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    try:
                        sock.bind((ip, port))
                    except OSError as exc:
                        raise HostsError(f"{self.where(uid)}: cannot listen on {host} port "
                                         f"{port} ({exc.strerror or exc}; is another run "
                                         "using it? port 0 picks a free one)") from None

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
    con_lines: list[int] = []
    cli_lines: list[int] = []
    text = text.removeprefix("\ufeff")  # a BOM some editors write first
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}:{lineno}"
        parts = line.split()
        if parts[0].upper() in COUNT_KEYS:
            key = parts[0].upper()
            if len(parts) != 2 or not DIGITS.fullmatch(parts[1]) or int(parts[1]) < 1:
                raise HostsError(f"{where}: expected '{key} <count>' with a count >= 1, got {line!r}")
            if key in counts:
                raise HostsError(f"{where}: {key} given twice")
            counts[key] = int(parts[1])
            continue
        if len(parts) != 3:
            raise HostsError(f"{where}: expected 'host port con|cli', got {line!r}")
        host, port_text, kind = parts
        _check_host(host, where)
        if not DIGITS.fullmatch(port_text) or not 0 <= int(port_text) <= 65535:
            raise HostsError(f"{where}: port {port_text!r} must be a number from 0 to 65535")
        if kind not in ("con", "cli"):
            raise HostsError(f"{where}: node kind {kind!r} must be 'con' or 'cli'")
        if kind == "con" and cli:
            raise HostsError(f"{where}: consensus ('con') lines must come before clients ('cli')")
        (con if kind == "con" else cli).append((host, int(port_text)))
        (con_lines if kind == "con" else cli_lines).append(lineno)
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        raise HostsError(f"{name}: missing line(s) {', '.join(k + ' <count>' for k in missing)}")
    need = sum(counts.values())
    if len(con) != need:
        raise HostsError(f"{name}: PROPOSERS + ACCEPTORS + LEARNERS = {need} but there are "
                         f"{len(con)} 'con' line(s)")
    seen: dict[tuple[str, int], int] = {}
    for addr, lineno in zip(con + cli, con_lines + cli_lines, strict=True):
        if addr[1] != 0 and addr in seen:
            raise HostsError(f"{name}:{lineno}: address {addr[0]} {addr[1]} is used twice "
                             f"(first on line {seen[addr]})")
        seen.setdefault(addr, lineno)
    return Hosts(counts["PROPOSERS"], counts["ACCEPTORS"], counts["LEARNERS"], tuple(con),
                 tuple(cli), tuple(con_lines + cli_lines), name)


def read_hosts(path: str | os.PathLike) -> Hosts:
    """Read and parse a hosts file (see ``parse_hosts``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HostsError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise HostsError(f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8 text "
                         "(save the file as UTF-8)") from None
    return parse_hosts(text, str(path))


def _loopback(host: str) -> bool:
    """127.x.x.x: where ``Cluster`` can start a node (not yet ::1)."""
    try:
        return ipaddress.ip_address(host).version == 4 and host.startswith("127.")
    except ValueError:
        return False


def _check_host(host: str, where: str) -> None:
    if host == "localhost":
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.isalnum() or "-" in part for part in host.split(".")):
            raise HostsError(f"{where}: host {host!r} is not an address or a host name") from None
