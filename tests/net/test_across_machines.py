"""Runs across machines: one ``paxos-edu node`` process per hosts line, no controller, no switch.

Every node binds the address its hosts line names and sends signed datagrams straight
to its peers. What is shown here:

- on 127.0.0.1, nodes started in an awkward order (clients first, one consensus node
  last, after every other one has sent its first token into the void) still elect,
  assign roles and agree, acceptors' state is on disk, a late client hears the same
  decision, and nodes stop on SIGTERM or when their stdin pipe closes;
- a node drops and counts forged, foreign, misaddressed and replayed datagrams and
  keeps serving (the test itself is a client speaking the wire format);
- a node given a state directory resumes its role and its acceptor state after a stop;
- across hosts for real: three network namespaces joined by a bridge, the nodes
  spread over them (root only; skipped elsewhere);
- the leader's driver hands the roles to whoever shows it has none (in-process);
- a bad command line is refused with a clear message.

Ports are found by binding port 0 and written into a hosts file the test made; every
process is stopped by its pid; waits are on process exit or on output lines, with a
deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from paxos_edu.core.codec import BadMessage, Envelope, decode, encode, key_from_passphrase
from paxos_edu.core.messages import AskRoles, Decided, Request, Roles, Token
from paxos_edu.hosts import read_hosts
from paxos_edu.net.direct import DirectNode, node_config, peer_addresses

PASSPHRASE = "correct horse battery staple"
KEY = key_from_passphrase(PASSPHRASE)
DEADLINE = 20.0
"""Seconds a whole run may take before the test fails (a run takes about one)."""
DECIDED = re.compile(r"^client (\d+) decided (\S+)$")


# -- helpers ---------------------------------------------------------------------------------
def free_ports(n: int) -> list[int]:
    """``n`` distinct UDP ports that were free a moment ago on 127.0.0.1."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def write_hosts(path: Path, lines: list[tuple[str, int]], clients: int,
                counts: tuple[int, int, int] = (1, 3, 1)) -> Path:
    """A classic hosts.txt: the counts, then ``con`` lines, then ``clients`` ``cli`` lines."""
    text = [f"PROPOSERS {counts[0]}", f"ACCEPTORS {counts[1]}", f"LEARNERS {counts[2]}"]
    n = len(lines) - clients
    text += [f"{host} {port} {'con' if i < n else 'cli'}" for i, (host, port) in enumerate(lines)]
    path.write_text("\n".join(text) + "\n")
    return path


def node_argv(hosts: Path, uid: int, *extra: str, key_file: Path | None = None) -> list[str]:
    key = ["--key", PASSPHRASE] if key_file is None else ["--key-file", str(key_file)]
    return [sys.executable, "-m", "paxos_edu", "node", "--hosts", str(hosts), "--id", str(uid),
            *key, *extra]


class Proc:
    """One node process: stdin a pipe we hold, its output collected line by line by a thread."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.eof = False
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.popen.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        with self.cond:
            return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float = DEADLINE) -> re.Match:
        """Wait until a line of output matches ``pattern``; fail if the process ends first."""
        regex = re.compile(pattern)

        def found():
            return next((m for m in map(regex.search, self.lines) if m), None)

        with self.cond:
            self.cond.wait_for(lambda: found() or self.eof, timeout)
            match = found()
        assert match, f"{self.name} never printed /{pattern}/; its output:\n{self.output()}"
        return match

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit, then for its last output line."""
        code = self.popen.wait(timeout)
        self.reader.join(timeout)
        return code

    def stop(self) -> None:
        """SIGTERM by pid, then SIGKILL if it has not gone within 5 s."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.reader.join(5)
        for f in (self.popen.stdin, self.popen.stdout):
            with contextlib.suppress(OSError):
                f.close()


def everything(procs) -> str:
    return "\n".join(f"--- {p.name} (pid {p.pid}):\n{p.output()}" for p in procs)


def wait_decided(clients: list[Proc], procs: list[Proc], deadline: float) -> dict[int, str]:
    """Wait for each client to exit; their decided values by uid (fails with every log)."""
    decided = {}
    for c in clients:
        try:
            code = c.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"{c.name} did not decide in time\n{everything(procs)}")
        last = c.output().splitlines()[-1:] or [""]
        match = DECIDED.match(last[0])
        assert code == 0 and match, f"{c.name} exited {code}\n{everything(procs)}"
        decided[int(match.group(1))] = match.group(2)
    return decided


def state_file(proc: Proc, uid: int) -> Path:
    return Path(proc.wait_line(r"state in (\S+) ").group(1)) / f"node-{uid}.json"


# -- on one machine --------------------------------------------------------------------------
def test_nodes_on_localhost_elect_and_agree_with_no_controller(tmp_path):
    # 1/3/1: proposer 0, acceptors 1-3, learner 4 (the leader); clients 5, 6; 7 comes late.
    ports = free_ports(8)
    hosts = write_hosts(tmp_path / "hosts.txt", [("127.0.0.1", p) for p in ports], clients=3)
    key_file = tmp_path / "key.txt"
    key_file.write_text(PASSPHRASE + "\n")
    deadline = time.monotonic() + DEADLINE
    procs: list[Proc] = []
    try:
        # Clients first: their requests for the roles go to a leader that is not up yet.
        clients = [Proc(f"client {u}", node_argv(hosts, u, "--client", f"{v}:0"))
                   for u, v in ((5, 210), (6, 220))]
        procs += clients
        # Half the nodes read the passphrase from a file: the same key either way.
        nodes = {u: Proc(f"node {u}", node_argv(hosts, u, key_file=key_file if u % 2 else None))
                 for u in (4, 3, 1, 0)}
        procs += nodes.values()
        for proc in nodes.values():
            proc.wait_line("listening on")
        # Every node but 2 is up and has sent its token; node 1's went to 2's dead port.
        # The election can only finish through re-sent tokens.
        nodes[2] = Proc("node 2", node_argv(hosts, 2))
        procs.append(nodes[2])

        decided = wait_decided(clients, procs, deadline)
        assert len(set(decided.values())) == 1, decided
        value = decided[5]
        assert value in ("210", "220")

        # Acceptors wrote their state (atomically, fsynced) before replying: a majority holds it.
        saved = [json.loads(state_file(nodes[u], u).read_text()) for u in (1, 2, 3)]
        assert sum(str(s["paxos"]["accepted_v"]) == value for s in saved) >= 2, saved
        assert all(s["roles"]["acceptors"] == [1, 2, 3] and s["roles"]["leader"] == 4
                   for s in saved)
        nodes[4].wait_line(rf"phase 3 decided {value} ")
        assert "elected leader" in nodes[4].output()
        assert "my role acceptor" in nodes[2].output()

        # A client started after the decision hears the same value.
        late = Proc("client 7", node_argv(hosts, 7, "--client", "230:0"))
        procs.append(late)
        assert wait_decided([late], procs, deadline) == {7: value}

        # Consensus nodes serve until stopped: by closing their stdin pipe, or by SIGTERM.
        dirs = [state_file(nodes[u], u).parent for u in nodes]
        assert all(p.popen.poll() is None for p in nodes.values())
        for u in (0, 1):
            nodes[u].popen.stdin.close()
        for u in (2, 3, 4):
            nodes[u].popen.send_signal(signal.SIGTERM)
        for u, proc in nodes.items():
            assert proc.wait(5) == 0, everything(procs)
            why = "stdin closed" if u in (0, 1) else "SIGTERM"
            assert f"node {u}: stopping ({why}); no bad datagrams" in proc.output()
        assert not any(d.exists() for d in dirs), "temporary state directories were left behind"
    finally:
        for p in procs:
            p.stop()


class WireClient:
    """The test as client ``uid``: a socket on its hosts line's port, speaking the wire format."""

    def __init__(self, uid: int, sock: socket.socket, peers: dict[int, tuple[str, int]]):
        self.uid, self.sock, self.peers = uid, sock, peers
        self.seq = time.time_ns() // 1000
        sock.settimeout(0.2)

    def datagram(self, dst: int, msg, src: int | None = None, key: bytes = KEY) -> bytes:
        self.seq += 1
        return encode(Envelope(self.uid if src is None else src, dst, msg, self.seq), key)

    def send(self, dst: int, data: bytes) -> None:
        self.sock.sendto(data, self.peers[dst])

    def ask(self, dst: int, msg, want: type, deadline: float):
        """Send ``msg`` every 200 ms until a message of type ``want`` arrives (the protocol's retry)."""
        sent = None
        while time.monotonic() < deadline:
            sent = self.datagram(dst, msg)
            self.send(dst, sent)
            try:
                data, _ = self.sock.recvfrom(9000)
            except TimeoutError:
                continue
            try:
                env = decode(data, KEY)
            except BadMessage:
                continue
            if isinstance(env.msg, want):
                return env.msg, sent
        pytest.fail(f"no {want.__name__} from node {dst} in time")


def test_a_node_drops_and_counts_bad_datagrams_and_keeps_serving(tmp_path):
    # 1/3/1 and one client: the test itself, on a port it keeps bound (no race for it).
    me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    me.bind(("127.0.0.1", 0))
    procs: list[Proc] = []
    try:
        ports = free_ports(5)
        lines = [("127.0.0.1", p) for p in ports] + [("127.0.0.1", me.getsockname()[1])]
        hosts = write_hosts(tmp_path / "hosts.txt", lines, clients=1)
        client = WireClient(5, me, peer_addresses(read_hosts(hosts)))
        deadline = time.monotonic() + DEADLINE
        procs += [Proc(f"node {u}", node_argv(hosts, u)) for u in range(5)]
        leader = procs[4]

        # Rule 3: a client without roles asks node 4 (Chang-Roberts elects the largest uid).
        roles, _ = client.ask(4, Request(230), Roles, deadline)
        assert (roles.leader, roles.proposers, roles.acceptors) == (4, (0,), (1, 2, 3))
        ping = client.datagram(4, Request(230))  # node 4 is up now: it will read this one
        client.send(4, ping)

        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.1", 0))
        try:
            stranger.sendto(client.datagram(4, Request(1)), client.peers[4])  # right key, wrong address
        finally:
            stranger.close()
        for data in (
            b"GET / HTTP/1.0\r\n\r\n",                                    # not our format
            client.datagram(4, Request(1), key=b"another cluster's key"),  # bad signature
            client.datagram(4, Decided(1, 1), src=0),                     # claims to be node 0
            client.datagram(3, Request(1)),                               # meant for node 3
            client.datagram(4, Token(99)),                                # a client's token
            ping,                                                         # a replay
        ):
            client.send(4, data)
        # A request to proposer 0 gets a decision from learner 4: it kept serving. The Accepted
        # messages it decided on reached its socket after the datagrams above, so it has
        # read all of them by the time its Decided arrives here.
        decided, _ = client.ask(0, Request(230), Decided, deadline)
        assert decided.v == 230

        leader.popen.send_signal(signal.SIGTERM)
        assert leader.wait(5) == 0
        out = leader.output()
        for reason in ("unknown format", "bad signature", "sender address does not match its hosts line",
                       "not addressed to me", "token not from my ring predecessor", "replayed"):
            assert f"dropping bad datagrams ({reason})" in out, out
        counts = re.search(r"stopping \(SIGTERM\); dropped (\d+) bad datagram", out)
        assert counts and int(counts.group(1)) == 7, out
        assert all(p.popen.poll() is None for p in procs[:4]), everything(procs)
    finally:
        me.close()
        for p in procs:
            p.stop()


RUN_WITH_STATE_DIR = (
    "import sys\n"
    "from paxos_edu.hosts import read_hosts\n"
    "from paxos_edu.net.node_main import run_from_hosts\n"
    "hosts, uid, key, state = sys.argv[1:]\n"
    "sys.exit(run_from_hosts(read_hosts(hosts), int(uid), key, [], state_dir=state))\n"
)


def test_a_node_with_a_state_directory_resumes_its_role_and_promises(tmp_path):
    ports = free_ports(7)
    hosts = write_hosts(tmp_path / "hosts.txt", [("127.0.0.1", p) for p in ports], clients=2)
    state = tmp_path / "state"
    deadline = time.monotonic() + DEADLINE

    def acceptor_1() -> Proc:  # run_from_hosts's state_dir (the CLI has no --state-dir yet)
        argv = [sys.executable, "-c", RUN_WITH_STATE_DIR, str(hosts), "1", PASSPHRASE, str(state)]
        return Proc("node 1", argv)

    procs: list[Proc] = []
    try:
        nodes = {u: Proc(f"node {u}", node_argv(hosts, u)) for u in (0, 2, 3, 4)}
        nodes[1] = acceptor_1()
        procs += nodes.values()
        procs.append(Proc("client 5", node_argv(hosts, 5, "--client", "210")))
        value = wait_decided(procs[-1:], procs, deadline)[5]

        nodes[1].popen.send_signal(signal.SIGTERM)
        assert nodes[1].wait(5) == 0
        saved = json.loads((state / "node-1.json").read_text())
        assert saved["roles"]["acceptors"] == [1, 2, 3]
        assert str(saved["paxos"]["accepted_v"]) == value and saved["paxos"]["promised"] > 0

        nodes[1] = again = acceptor_1()
        procs.append(again)
        again.wait_line("resuming from stable storage")
        again.wait_line("leader 4; my role acceptor")  # from its own storage: no election
        # A late client makes the proposer run a new round; node 1 reports what it accepted.
        procs.append(Proc("client 6", node_argv(hosts, 6, "--client", "999")))
        assert wait_decided(procs[-1:], procs, deadline) == {6: value}
        assert not list(state.glob("*.tmp")), "a temporary file was left beside the state"
    finally:
        for p in procs:
            p.stop()


# -- across hosts: network namespaces --------------------------------------------------------
class Namespaces:
    """``hosts`` network namespaces, each with one address, joined by a bridge in another one."""

    SUBNET = "10.213.0"

    def __init__(self, hosts: int):
        self.ip = shutil.which("ip")
        tag = secrets.token_hex(3)
        self.names = [f"pxe-{tag}-{i}" for i in range(hosts)]
        self.switch = f"pxe-{tag}-br"
        self.made: list[str] = []

    def addresses(self) -> list[str]:
        return [f"{self.SUBNET}.{i + 1}" for i in range(len(self.names))]

    def _ip(self, *args: str) -> None:
        r = subprocess.run([self.ip, *args], capture_output=True, text=True, timeout=30)
        if r.returncode:
            raise OSError(f"`ip {' '.join(args)}` failed: {r.stderr.strip() or r.returncode}")

    def create(self) -> None:
        for ns in [self.switch, *self.names]:
            self._ip("netns", "add", ns)
            self.made.append(ns)
        self._ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        self._ip("-n", self.switch, "link", "set", "br0", "up")
        for i, (ns, addr) in enumerate(zip(self.names, self.addresses(), strict=True)):
            self._ip("link", "add", "eth0", "netns", ns, "type", "veth",
                     "peer", "name", f"port{i}", "netns", self.switch)
            self._ip("-n", self.switch, "link", "set", f"port{i}", "master", "br0", "up")
            self._ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            self._ip("-n", ns, "link", "set", "eth0", "up")
            self._ip("-n", ns, "link", "set", "lo", "up")

    def delete(self) -> None:
        # The veth pairs and the bridge live inside the namespaces and go with them.
        for ns in reversed(self.made):
            subprocess.run([self.ip, "netns", "del", ns], capture_output=True, timeout=30)
        self.made = []

    def argv(self, ns: int, argv: list[str]) -> list[str]:
        return [self.ip, "netns", "exec", self.names[ns], *argv]


def namespaces_or_skip(hosts: int) -> Namespaces:
    """Namespaces made for this test, or a skip saying why they cannot be made here."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (run as root to test across hosts)")
    if shutil.which("ip") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root but has no `ip` command: .ci/run must install iproute2 "
                        "(apt-get install -y iproute2)")
        pytest.skip("no `ip` command (install iproute2 to test across network namespaces)")
    net = Namespaces(hosts)
    try:
        net._ip("netns", "add", net.switch)
    except OSError as exc:
        pytest.skip(f"cannot create network namespaces here: {exc}")
    net.made.append(net.switch)
    net._ip("netns", "del", net.switch)
    net.made = []
    return net


def test_nodes_on_three_hosts_agree_over_a_bridge(tmp_path):
    net = namespaces_or_skip(3)
    procs: list[Proc] = []
    try:
        try:
            net.create()
        except OSError as exc:
            pytest.skip(f"cannot build the namespaces' network here: {exc}")
        addrs = net.addresses()
        # uid u runs on host u mod 3: every proposer-acceptor-learner hop crosses the bridge.
        where = [u % 3 for u in range(7)]
        lines = [(addrs[h], 47000 + u) for u, h in enumerate(where)]
        hosts = write_hosts(tmp_path / "hosts.txt", lines, clients=2)
        deadline = time.monotonic() + DEADLINE
        values = {5: "210:0", 6: "220:0"}
        for u in (5, 6, 0, 1, 2, 3, 4):
            extra = ("--client", values[u]) if u in values else ()
            procs.append(Proc(f"node {u} on {addrs[where[u]]}",
                              net.argv(where[u], node_argv(hosts, u, *extra))))
        decided = wait_decided(procs[:2], procs, deadline)
        assert len(set(decided.values())) == 1 and decided[5] in ("210", "220"), decided
        for p in procs[2:]:
            assert p.popen.poll() is None, everything(procs)
            assert "dropping" not in p.output(), everything(procs)
        procs[6].wait_line(rf"phase 3 decided {decided[5]} ")
    finally:
        for p in procs:
            p.stop()
        net.delete()


# -- the driver, in-process ------------------------------------------------------------------
class FakeTransport:
    def __init__(self):
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr) -> None:
        self.sent.append((data, addr))

    def close(self) -> None:
        pass

    def take(self) -> list[tuple[int, object]]:
        out = [(decode(d, KEY).dst, decode(d, KEY).msg) for d, _ in self.sent]
        self.sent = []
        return out


def test_the_leader_gives_the_roles_to_whoever_shows_it_has_none(tmp_path):
    lines = [("127.0.0.1", 41000 + u) for u in range(7)]
    hosts = read_hosts(write_hosts(tmp_path / "hosts.txt", lines, clients=2))
    peers = peer_addresses(hosts)
    loop = asyncio.new_event_loop()
    leader = DirectNode(4, node_config(hosts, 4, []), KEY, peers, str(tmp_path / "node-4.json"),
                        loop, out=lambda line: None)
    try:
        wire = FakeTransport()
        leader.connection_made(wire)

        def receive(src: int, msg, seq: int) -> list:
            leader.datagram_received(encode(Envelope(src, 4, msg, seq), KEY), peers[src])
            return wire.take()

        leader.begin()
        assert wire.take() == [(0, Token(4))]
        won = receive(3, Token(4), 1)  # my token came round: I lead, everyone gets the roles
        roles = leader.node.roles
        assert sorted(dst for dst, _ in won) == [0, 1, 2, 3, 5, 6]
        assert all(msg == roles for _, msg in won)
        assert json.loads((tmp_path / "node-4.json").read_text())["roles"]["leader"] == 4
        # Node 1 missed them and keeps re-sending its token, which black nodes relay to me.
        assert receive(3, Token(1), 2) == [(1, roles)]
        # A client without roles asks me for them: it gets them too.
        assert receive(5, AskRoles(), 1) == [(5, roles)]
        # A replayed datagram and a token that skipped the ring are dropped, not answered.
        assert receive(3, Token(1), 2) == []
        assert receive(2, Token(1), 3) == []
        assert dict(leader.bad) == {"replayed": 1, "token not from my ring predecessor": 1}
    finally:
        leader.close()
        loop.close()


# -- bad command lines -----------------------------------------------------------------------
@pytest.mark.parametrize(("port", "uid", "extra", "message"), [
    (0, 0, (), "needs a fixed port on every line"),
    (41299, 5, (), "give its value with --client"),
    (41299, 9, (), "--id 9: hosts file has uids 0..5"),
    (41299, 0, ("--client", "1", "--client", "2"), "2 --client value(s) given"),
])
def test_a_bad_command_line_is_refused_before_binding(tmp_path, port, uid, extra, message):
    lines = [("127.0.0.1", 41230 + u) for u in range(5)] + [("127.0.0.1", port)]
    hosts = write_hosts(tmp_path / "hosts.txt", lines, clients=1)
    r = subprocess.run(node_argv(hosts, uid, *extra), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 2 and message in r.stderr, r.stderr


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read it"),
    ("\nsecret on line two\n", "its first line (the passphrase) is empty"),
])
def test_an_unusable_key_file_is_refused_naming_the_file(tmp_path, content, message):
    lines = [("127.0.0.1", 41230 + u) for u in range(6)]
    hosts = write_hosts(tmp_path / "hosts.txt", lines, clients=1)
    key_file = tmp_path / "key.txt"
    if content is not None:
        key_file.write_text(content)
    r = subprocess.run(node_argv(hosts, 0, key_file=key_file), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 2 and f"--key-file {key_file}: {message}" in r.stderr, r.stderr
