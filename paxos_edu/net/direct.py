"""Runs across machines: one node per process, signed UDP straight to its peers, no controller.

``paxos-edu node --hosts hosts.txt --id I --key PASSPHRASE [--client VALUE[:K]]`` runs
node ``I`` of a hosts file (one per machine, or several on one machine with distinct
ports). There is no controller and no switch (``Cluster`` and ``endpoint`` are the
one-machine, controller-driven way). The node

- binds the address and port of its own hosts line, and sends every datagram straight
  to the address the file gives its destination's uid, signed with
  ``key_from_passphrase(PASSPHRASE)``;
- drops and counts every datagram that fails to verify, is not addressed to it, claims
  a sender whose hosts line is not the address it came from, repeats one already seen
  (each sender's counter starts at its start time in microseconds, so a restarted
  peer's datagrams are new), or is a Token that does not come from its ring
  predecessor; the first drop of each kind is printed, the totals when it stops;
- runs its own timers on an asyncio loop, and keeps its stable storage (roles; an
  acceptor's promise and accepted proposal; a proposer's round) in
  ``STATE_DIR/node-<uid>.json`` with ``storage.write`` (temp file, fsync, os.replace)
  before anything that depends on it is sent; it resumes from that file when it exists.
  Without a state directory it uses a fresh temporary one and removes it at exit.

A robust start
--------------
Machines start in any order, and a datagram sent to a port nobody listens on yet is
lost. The core's own recovery rules (``paxos_edu.core.node``: a node without roles
re-sends its token, the leader answers a token or an ``AskRoles`` with the roles, a
client asks node N-1 for them) repair that here exactly as in the simulator and in
``Cluster``: this driver only performs the timers they set, on its asyncio loop.

Output: one line per event worth seeing (listening, leader and role, a proposer's
phase 1.1, an acceptor's accepted proposal, a learner's decision, the first bad datagram
of each kind, stopping). A client ends with ``client U decided V`` and exits 0. A
consensus node serves until SIGTERM or SIGINT, or until its stdin reaches end-of-file
when stdin is a pipe (a parent that holds the pipe stops its nodes by closing it, or by
dying).

Imports only ``paxos_edu.core`` and ``paxos_edu.net`` (node processes stay light); the
parsed hosts file is used through ``consensus``, ``clients``, ``address(uid)`` and
``config(values)``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
import shutil
import signal
import socket
import stat
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.codec import BadMessage, Envelope, decode, encode, key_from_passphrase
from ..core.config import Config, Value
from ..core.effects import Decide, Effect
from ..core.messages import Message, Roles, Token
from ..core.node import ClientNode, Node, make_node
from ..core.stored import check_state
from . import storage
from .asyncnode import AsyncNode
from .control import reason_category

if TYPE_CHECKING:  # the hosts parser lives outside core/net; nodes only use its fields
    from ..hosts import Hosts

REPLAY_WINDOW = 4096
"""How far below a sender's highest counter a late (reordered) datagram is still accepted."""
PLACEHOLDER: tuple[Value, int] = (0, 0)
"""The (value, index) a node assumes for clients whose value it was not told (only clients use it)."""


# -- configuration ---------------------------------------------------------------------------
def node_config(hosts: Hosts, uid: int, values: list[tuple[Value, int]]) -> Config:
    """The Config node ``uid`` runs with; ``values`` are the ``--client`` arguments.

    Consensus nodes need only the number of clients: with no values, every client gets
    a placeholder. A client needs its own value: one ``--client`` (its own) or one per
    client line, in file order.
    """
    n, m = len(hosts.consensus), len(hosts.clients)
    values = list(values)
    if len(values) == m:
        return hosts.config(values)
    if uid < n:
        if values:
            raise ValueError(f"{len(values)} --client value(s) given but the hosts file has "
                             f"{m} 'cli' line(s) (a consensus node needs none)")
        return hosts.config([PLACEHOLDER] * m)
    if len(values) == 1:
        full = [PLACEHOLDER] * m
        full[uid - n] = values[0]
        return hosts.config(full)
    if not values:
        raise ValueError(f"--id {uid} is a client ('cli' line {uid - n + 1}): "
                         "give its value with --client VALUE[:K]")
    raise ValueError(f"{len(values)} --client values given: client {uid} needs its own "
                     f"(one) or one per 'cli' line ({m})")


def resolve(uid: int, host: str, port: int) -> tuple[str, int]:
    """The numeric address of node ``uid``'s hosts line (IPv4 preferred for names)."""
    if port == 0:
        raise ValueError(f"hosts file: node {uid} ({host} port 0): a run across machines needs "
                         "a fixed port on every line (port 0 works only with 'paxos-edu run')")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ValueError(f"hosts file: node {uid}: cannot resolve host {host!r} ({exc})") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return (_canonical(infos[0][4][0]), port)


def _canonical(ip: str) -> str:
    return ipaddress.ip_address(ip.split("%", 1)[0]).compressed


def peer_addresses(hosts: Hosts) -> dict[int, tuple[str, int]]:
    """Every uid's numeric address; two lines naming the same address are an error."""
    lines = [*hosts.consensus, *hosts.clients]
    peers = {uid: resolve(uid, host, port) for uid, (host, port) in enumerate(lines)}
    seen: dict[tuple[str, int], int] = {}
    for uid, addr in peers.items():
        if addr in seen:
            raise ValueError(f"hosts file: nodes {seen[addr]} and {uid} both have address "
                             f"{addr[0]} port {addr[1]}")
        seen[addr] = uid
    return peers


def _stdin_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        return False


def _fmt_uids(uids) -> str:
    return ", ".join(map(str, uids)) or "none"


# -- the node --------------------------------------------------------------------------------
class DirectNode(AsyncNode):
    """One core node on an asyncio loop, exchanging signed datagrams directly with its peers."""

    def __init__(self, uid: int, config: Config, key: bytes, peers: dict[int, tuple[str, int]],
                 path: str, loop: asyncio.AbstractEventLoop,
                 out: Callable[[str], None] | None = None):
        super().__init__(loop, path)
        self.uid = uid
        self.config = config
        self.key = key
        self.peers = peers
        self.by_addr = {addr: u for u, addr in peers.items()}
        self.out = out or (lambda line: print(line, flush=True))
        self.name = f"node {uid}" if uid < config.n_consensus else f"client {uid}"
        saved = storage.load(path, config)  # StateError naming the file and field if damaged
        self.resumed = saved is not None
        self.node: Node | ClientNode = make_node(uid, config, random.Random(), saved)
        self.consensus = isinstance(self.node, Node)
        self.predecessor = (config.ring_order[config.ring_order.index(uid) - 1]
                            if self.consensus else -1)
        self.transport: asyncio.DatagramTransport | None = None
        self.out_seq = time.time_ns() // 1000  # above anything my previous run sent
        self.seen: dict[int, tuple[int, set[int]]] = {}
        self.bad: Counter = Counter()
        self.decided: Value | None = None
        self.has_decided = False
        self.stop_reason = ""

    # -- start and stop --------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def begin(self) -> None:
        """Start the protocol: the election and its re-send timer, or a client's wait for roles."""
        resumed = self.node.roles is not None
        self.step(self.node.start)
        if resumed:
            self.out(self.roles_line() + " (from stable storage)")

    def stop(self, reason: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason
            self.loop.stop()

    def close(self) -> None:
        self.disarm_all()
        if self.transport is not None:
            self.transport.close()

    # -- receiving ---------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr) -> None:
        sender = (_canonical(addr[0]), addr[1])
        try:
            env = decode(data, self.key)
        except BadMessage as exc:
            return self.drop(reason_category(exc.reason), sender)
        except Exception:  # e.g. RecursionError from deeply nested, signed JSON
            return self.drop("invalid content", sender)
        if env.dst != self.uid:
            return self.drop("not addressed to me", sender)
        if env.src not in self.peers:
            return self.drop("sender not in the hosts file", sender)
        if self.peers[env.src] != sender:
            return self.drop("sender address does not match its hosts line", sender)
        if not self.fresh(env.src, env.seq):
            return self.drop("replayed", sender)
        if isinstance(env.msg, Token) and env.src != self.predecessor:
            return self.drop("token not from my ring predecessor", sender)
        if isinstance(env.msg, Roles) and env.src >= self.config.n_consensus:
            return self.drop("roles not from a consensus node", sender)
        self.step(lambda: self.node.handle(env.src, env.msg))

    def fresh(self, src: int, seq: int) -> bool:
        """Have I not seen ``seq`` from ``src`` (allowing reordering within a window)?"""
        high, window = self.seen.get(src, (0, set()))
        if seq <= high - REPLAY_WINDOW or seq in window:
            return False
        window.add(seq)
        high = max(high, seq)
        if len(window) > 2 * REPLAY_WINDOW:
            window = {s for s in window if s > high - REPLAY_WINDOW}
        self.seen[src] = (high, window)
        return True

    def drop(self, reason: str, sender: tuple[str, int]) -> None:
        if not self.bad[reason]:
            self.out(f"{self.name}: dropping bad datagrams ({reason}), first from "
                     f"{sender[0]} port {sender[1]}")
        self.bad[reason] += 1

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP "unreachable" from a peer that is not up (yet, or any more): retries cover it

    # -- performing effects ------------------------------------------------------------------
    def step(self, handler: Callable[[], list[Effect]]) -> None:
        """Run one node input, perform its effects in order, tell what changed."""
        before = self.node.snapshot()
        knew_roles = self.node.roles is not None
        try:
            effects = handler()
            self.perform(effects)  # in order: a Persist is on disk before later Sends leave
        except Exception:  # a bug in a role must not take the node down
            self.bad["handler error"] += 1
            traceback.print_exc()
            return
        self.tell(before, knew_roles, effects)

    # -- the effect sink (``AsyncNode``: persist, timers; a decision is told by ``tell``) ----
    def on_timer(self, name: str) -> None:
        self.step(lambda: self.node.fire(name))

    def send(self, dst: int, msg: Message) -> None:
        addr = self.peers.get(dst)
        if addr is None or self.transport is None:
            self.out(f"{self.name}: no address for node {dst}, not sending {msg.type}")
            return
        self.out_seq += 1
        try:
            data = encode(Envelope(self.uid, dst, msg, self.out_seq), self.key)
        except BadMessage as exc:
            self.out(f"{self.name}: cannot send {msg.type}: {exc.reason}")
            return
        self.transport.sendto(data, addr)

    # -- telling -----------------------------------------------------------------------------
    def tell(self, before: dict[str, Any], knew_roles: bool, effects: list[Effect]) -> None:
        node, after = self.node, self.node.snapshot()
        if not knew_roles and node.roles is not None:
            self.out(self.roles_line())
        if after.get("role") == "proposer" and after["n"] != before.get("n") and after["n"]:
            self.out(f"{self.name}: phase 1.1 Proposal n={after['n']} v={after['value']} "
                     f"to acceptors {_fmt_uids(node.roles.acceptors)}")
        if (after.get("role") == "acceptor" and after["accepted_n"]
                and after["accepted_n"] != before.get("accepted_n")):
            self.out(f"{self.name}: phase 2.2 accepted n={after['accepted_n']} "
                     f"v={after['accepted_v']} (on disk before the reply left)")
        for e in effects:
            if isinstance(e, Decide):
                self.tell_decision(e)

    def roles_line(self) -> str:
        roles = self.node.roles
        if not self.consensus:
            proposer = self.node.role.proposer
            return (f"{self.name}: leader {roles.leader}; asking proposer {proposer} "
                    f"for {self.node.role.value}")
        who = "elected leader (my token came round the ring)" if self.node.election.is_leader \
            else f"leader {roles.leader}"
        return (f"{self.name}: {who}; my role {self.node.role.role}; proposers "
                f"{_fmt_uids(roles.proposers)}, acceptors {_fmt_uids(roles.acceptors)}, learners "
                f"{_fmt_uids(roles.learners)}, clients {_fmt_uids(roles.clients)}")

    def tell_decision(self, e: Decide) -> None:
        if self.consensus:
            self.out(f"{self.name}: phase 3 decided {e.v} (n={e.n}), telling the clients")
            return
        if self.has_decided:
            self.out(f"{self.name}: heard another decision {e.v} (n={e.n}): agreement broken!")
            return
        self.has_decided, self.decided = True, e.v
        self.out(f"{self.name} decided {e.v}")
        self.stop("decided")

    def summary(self) -> str:
        total = sum(self.bad.values())
        kinds = ", ".join(f"{reason}: {k}" for reason, k in sorted(self.bad.items()))
        dropped = f"dropped {total} bad datagram(s) ({kinds})" if total else "no bad datagrams"
        return f"{self.name}: stopping ({self.stop_reason}); {dropped}"


def check_saved(path: str, saved: dict[str, Any], config: Config) -> None:
    """Refuse a damaged state file, or one written under another configuration (its roles
    would be wrong): StateError naming the file and the field (see ``core.stored``)."""
    check_state(saved, path, config)


# -- the process -----------------------------------------------------------------------------
def run_node(hosts: Hosts, uid: int, passphrase: str, client_values: list[tuple[Value, int]],
             state_dir: str | os.PathLike | None = None) -> int:
    """Run node ``uid`` of ``hosts`` until it is done; the exit status.

    Clients: 0 once decided, 1 if stopped first. Consensus nodes: 0 when stopped by a
    signal or the end of a piped stdin. Bad input raises ValueError (before binding).
    """
    hosts.address(uid)  # ValueError naming the uids the file has
    config = node_config(hosts, uid, client_values)
    key = key_from_passphrase(passphrase)
    peers = peer_addresses(hosts)
    temporary = state_dir is None
    directory = Path(tempfile.mkdtemp(prefix=f"paxos-edu-node{uid}-") if temporary else state_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return _serve(uid, config, key, peers, directory, temporary)
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)


def _serve(uid: int, config: Config, key: bytes, peers: dict[int, tuple[str, int]],
           directory: Path, temporary: bool) -> int:
    loop = asyncio.new_event_loop()
    host, port = peers[uid]
    try:
        node = DirectNode(uid, config, key, peers, str(directory / f"node-{uid}.json"), loop)
        loop.run_until_complete(loop.create_datagram_endpoint(lambda: node, local_addr=(host, port)))
    except ValueError:  # a damaged or foreign state file
        loop.close()
        raise
    except OSError as exc:
        loop.close()
        raise ValueError(f"node {uid}: cannot bind {host} port {port} from its hosts line: "
                         f"{exc.strerror or exc} (is this the machine with that address, and is "
                         "the port free?)") from None
    signals = [s for s in (signal.SIGTERM, signal.SIGINT)
               if _try(lambda s=s: loop.add_signal_handler(s, node.stop, signal.Signals(s).name))]
    piped = _stdin_is_pipe()
    if piped:
        def on_stdin() -> None:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                node.stop("stdin closed")

        loop.add_reader(0, on_stdin)
    state = "temporary" if temporary else "kept"
    clients = len(config.clients)
    node.out(f"{node.name}: {config.n_consensus} consensus nodes, {clients} "
             f"client{'' if clients == 1 else 's'}; "
             f"listening on {host} port {port}, pid {os.getpid()}; state in {directory} ({state})"
             + ("; resuming from stable storage" if node.resumed else ""))
    try:
        node.begin()
        if not node.stop_reason:
            loop.run_forever()
    finally:
        node.close()
        if piped:
            loop.remove_reader(0)
        for s in signals:
            loop.remove_signal_handler(s)
        loop.run_until_complete(asyncio.sleep(0))  # let the transport finish closing
        loop.close()
    if node.bad or node.stop_reason != "decided":
        node.out(node.summary())
    if node.consensus:
        return 0
    return 0 if node.has_decided else 1


def _try(action: Callable[[], Any]) -> bool:
    try:
        action()
        return True
    except (ValueError, RuntimeError, NotImplementedError):
        return False  # not the main thread, or no signals here
