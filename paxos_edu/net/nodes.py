"""The live node processes of one cluster: start, command, wait for them (controller side).

``Nodes`` keeps the processes that run now (``live``, in the order a Simulation keeps
its nodes: started first, restarted last) and every process ever started
(``procs``, so that all can be stopped by pid). Every wait is on the switch's
condition with a timeout, and notices a process that died instead of answering.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from ..core.config import Config
from . import process
from .process import Launcher, NodeProcess, ProcessSet
from .spec import config_to_dict
from .switch import Switch

ASK_AGAIN = 1.0
"""Seconds of waiting for a node's ``done`` before asking it (``sync``) what it finished."""


class Nodes:
    """Node processes talking to ``switch``, with storage files and logs in ``workdir``."""

    def __init__(self, switch: Switch, workdir: Path, key: bytes, impl_spec: dict[str, str],
                 reply_timeout: float, remove_workdir: bool = False):
        self.switch = switch
        self.workdir = workdir
        self.key = key
        self.impl_spec = impl_spec
        self.reply_timeout = reply_timeout
        self.remove_workdir = remove_workdir
        self.extra_path = import_path() if impl_spec else ()
        self.procs = ProcessSet()
        self.launcher: Launcher | None = None
        self.live: dict[int, NodeProcess] = {}
        self.links: tuple = ()  # the last peer-link table every live node was told
        switch.ask_sync = self.ask_sync

    def spawn(self, uid: int, config: Config, rng: str, resume: bool = False,
              amnesia: bool = False, bind: tuple[str, int] = ("127.0.0.1", 0),
              hop_ms: float = 0.0) -> None:
        """Start a process for ``uid`` listening on ``bind``; only its hello claims the uid.

        ``hop_ms``: how long the node holds each message it sends in run mode (slow motion)."""
        nonce = secrets.token_hex(8)
        self.switch.expect(uid, nonce)
        init = {"cmd": "init", "uid": uid, "key": self.key.hex(), "nonce": nonce,
                "switch": list(self.switch.address), "host": bind[0], "port": bind[1],
                "mode": self.switch.mode, "config": config_to_dict(config),
                "impl": self.impl_spec, "storage": str(self.workdir / f"node-{uid}.json"),
                "resume": resume, "amnesia": amnesia, "rng": rng, "hop_ms": hop_ms}
        proc = NodeProcess(uid, init, self.workdir, self.extra_path, self._launcher())
        self.procs.add(proc)
        self.live[uid] = proc

    def _launcher(self) -> Launcher | None:
        """This cluster's launcher (started on first use, again if it died); None off Linux."""
        if process.FORK_SERVER and (self.launcher is None or not self.launcher.alive()):
            self.launcher = Launcher(self.workdir, self.extra_path, self.reply_timeout,
                                     self.remove_workdir)
            self.procs.add_launcher(self.launcher)
        return self.launcher

    def wait_hello(self, uids: list[int]) -> None:
        """Wait until each of ``uids`` has reported its address; record their states in order."""
        sw = self.switch
        peers = {uid: sw.peers[uid] for uid in uids}

        def check() -> None:
            for uid, peer in peers.items():
                if peer.addr is None and not self.live[uid].alive():
                    raise RuntimeError(self.died(uid, "during start-up"))

        # Keep waiting while hellos arrive or the silent processes use CPU (a loaded
        # machine is slow, not stuck); give up only after a whole slice without either.
        def missing() -> list[int]:
            return [u for u, p in peers.items() if p.addr is None]

        progress = process.Progress(lambda: [self.live[u].pid for u in missing() if u in self.live],
                                    lambda: len(uids) - len(missing()))
        timeout = max(self.reply_timeout, 10 + 0.2 * len(uids))
        while not sw.wait(lambda: not missing(), timeout, check):
            if not progress.moved():
                raise TimeoutError(f"nodes {missing()} did not report an address, and used no "
                                   f"CPU, for {timeout:g} s (stuck processes?)")
        with sw.cond:  # in uid order, as a Simulation records new nodes
            for uid in uids:
                sw.record_state(uid, peers[uid].hello)

    def command(self, uid: int, cmd: str, sync: bool, fields: dict[str, Any]) -> None:
        """Send ``cmd`` to live node ``uid`` (if it is live); if ``sync``, wait for its ``done``."""
        proc = self.live.get(uid)
        if proc is not None:
            ref = proc.command(cmd, fields)
            if sync:
                self.wait_done(uid, "cmd", ref)

    def command_all(self, uids: list[int], cmd: str, fields: dict[str, Any]) -> None:
        """Send ``cmd`` to each live node of ``uids``, then wait for every ``done``."""
        refs = {uid: self.live[uid].command(cmd, fields) for uid in uids if uid in self.live}
        for uid, ref in refs.items():
            self.wait_done(uid, "cmd", ref)

    def relink(self, first: int | None = None) -> None:
        """Tell every live node its peers' addresses and whether to send to them directly.

        Peer links skip the switch on the way (half the hops, so half the latency) and are
        on only while the switch has nothing to do to a message in run mode: no partition,
        no link faults. ``first``, a node with a new address, hears first, so that it
        knows everyone before anyone sends to it. Waits for every node's ``done``.
        """
        peers = self.switch.peer_table(self.live)
        links = (self.switch.direct_ok(), tuple(map(tuple, peers)))
        if links == self.links:
            return
        self.links = links
        fields = {"direct": links[0], "peers": peers}
        if first is not None:
            self.command_all([first], "links", fields)
        self.command_all([u for u in self.live if u != first], "links", fields)

    def ask_sync(self, uid: int) -> None:
        """The switch needs proof of what ``uid`` has sent: ask it (any thread) for ``synced``."""
        proc = self.live.get(uid)
        if proc is not None:
            proc.send({"cmd": "sync"})

    def wait_done(self, uid: int, kind: str, ref: int) -> None:
        """Wait until ``uid`` reports it finished input ``ref`` (a command, or a message)."""
        peer, proc = self.switch.peers[uid], self.live.get(uid)
        killed: list[str] = []

        def check() -> None:
            if proc is None or proc.alive():
                return
            how = proc.how_ended()
            if not how.startswith("killed by signal"):  # it exited: a bug, shown with its log
                raise RuntimeError(self.died(uid, "while handling an input"))
            killed.append(how)  # killed from outside (kill -9, the OOM killer): a crash

        def finished() -> bool:
            return bool(killed) or peer.done[kind] >= ref

        progress = process.Progress(lambda: [proc.pid] if proc is not None else [])
        idle = 0.0
        while not self.switch.wait(finished, ASK_AGAIN, check):
            # Its done may have been lost (a switch socket overflows under a flood): ask
            # the node what it finished; the answer carries it (a retransmission, not a guess).
            self.ask_sync(uid)
            idle = 0.0 if progress.moved() else idle + ASK_AGAIN  # busy is slow, not stuck
            if idle >= self.reply_timeout:
                raise TimeoutError(f"node {uid} did not finish its input, and used no CPU, "
                                   f"for {self.reply_timeout:g} s; its log:\n{self.tail(uid)}")
        if killed and self.live.pop(uid, None) is not None:
            self.forget(uid, killed[0])

    def kill(self, uid: int) -> bool:
        """SIGKILL ``uid``'s process (by pid) and record the crash; False if it was not live."""
        proc = self.live.pop(uid, None)
        if proc is None:
            return False
        proc.kill()
        self.forget(uid)
        return True

    def notice_deaths(self, uids: list[int] | None = None) -> None:
        """Record processes (of ``uids``, default all) that died without ``kill``: killed from
        outside, or a fatal bug. Their ``crash`` event says how (``"how"``), when known."""
        for uid in list(self.live) if uids is None else uids:
            proc = self.live.get(uid)
            if proc is not None and not proc.alive():
                del self.live[uid]
                self.forget(uid, proc.how_ended())

    def forget(self, uid: int, how: str = "") -> None:
        sw = self.switch
        with sw.cond:
            sw.mark_dead(uid)
            sw.cancel_timers(uid)
            sw.emit("crash", uid, uid, {"type": "Crash", **({"how": how} if how else {})})

    def died(self, uid: int, when: str) -> str:
        """Record that ``uid`` died unexpectedly; the message to raise about it."""
        proc = self.live.pop(uid, None)
        how = proc.how_ended() if proc else ""
        if proc is not None:
            self.forget(uid, how)
        tail = self.tail(uid).strip()
        if tail:
            return f"node {uid} exited {when}{' ' + how if how else ''}; its log ends with:\n{tail}"
        return (f"node {uid} exited {when} {how or '(how it ended is unknown)'}; its log "
                f"{self.workdir / f'node-{uid}.log'} is empty (it ended before writing a line: "
                "killed from outside, e.g. by the out-of-memory killer, or it could not start "
                "Python)")

    def log(self, uid: int) -> str:
        path = self.workdir / f"node-{uid}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self, uid: int, lines: int = 15) -> str:
        return "\n".join(self.log(uid).splitlines()[-lines:])


def import_path() -> tuple[str, ...]:
    """This process's import path, so node processes can import ``impl`` classes too."""
    return tuple(os.path.abspath(p or os.getcwd()) for p in sys.path
                 if os.path.isdir(p or os.getcwd()))
