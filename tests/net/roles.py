"""Role overrides for the ``impl`` tests: they must be importable by name in node processes."""

from __future__ import annotations

from dataclasses import dataclass

from paxos_edu.core.effects import Decide, Send
from paxos_edu.core.messages import Decided
from paxos_edu.core.paxos import Acceptor, Learner


@dataclass
class LoudAcceptor(Acceptor):
    """An acceptor that counts the proposals it has seen (visible in its snapshot)."""

    seen: int = 0

    def receive_proposal(self, src, msg):
        self.seen += 1
        return super().receive_proposal(src, msg)

    def snapshot(self) -> dict:
        return {**super().snapshot(), "seen": self.seen}


@dataclass
class EagerLearner(Learner):
    """The classic learner bug: it decides on the first ``Accepted`` it hears."""

    def receive_accepted(self, src, msg):
        if src not in self.acceptors or msg.n in self.learned:
            return []
        self.votes.setdefault((msg.n, msg.v), set()).add(src)
        self.learned[msg.n] = msg.v
        return [Decide(msg.v, msg.n), *(Send(c, Decided(msg.v, msg.n)) for c in self.clients)]
