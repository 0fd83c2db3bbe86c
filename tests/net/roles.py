"""A role override for the ``impl`` tests: it must be importable by name in node processes."""

from __future__ import annotations

from dataclasses import dataclass

from paxos_edu.core.paxos import Acceptor


@dataclass
class LoudAcceptor(Acceptor):
    """An acceptor that counts the proposals it has seen (visible in its snapshot)."""

    seen: int = 0

    def receive_proposal(self, src, msg):
        self.seen += 1
        return super().receive_proposal(src, msg)

    def snapshot(self) -> dict:
        return {**super().snapshot(), "seen": self.seen}
