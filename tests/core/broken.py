"""Deliberately broken Paxos roles: one class per classic mistake.

Each class changes the smallest possible piece of a correct role, so that a
test (or the explorer) can show that the mistake, and only the mistake, lets
the safety checker find a violation. Plug one in with
``Simulation(cfg, impl={"proposer": NoAdoptProposer})``.

The acceptor that loses its stable storage needs no class: it is
``Simulation.restart(uid, amnesia=True)``; ``MISTAKES`` names it ``"amnesia"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from paxos_edu.core.effects import Decide, Effect, Send
from paxos_edu.core.messages import Accept, Accepted, Ack, Decided, Value
from paxos_edu.core.paxos import Acceptor, Learner, Proposer


class NoAdoptProposer(Proposer):
    """Mistake: in phase 2.1 the proposer ignores the accepted values reported in the Acks.

    It always sends its own client's value, even when an acceptor reported that
    it already accepted (n', v'): a value that may already be chosen gets
    overwritten by a second one.
    """

    def choose_value(self) -> Value:
        return self.value


class PromiseBreakingAcceptor(Acceptor):
    """Mistake: in phase 2.2 the acceptor accepts an Accept(n, v) even below its promise.

    A promise to number m is a promise never to accept anything below m; the
    proposer of m counted on it when it picked its value.
    """

    def receive_accept(self, src: int, msg: Accept) -> list[Effect]:
        persist = self._update(promised=max(self.promised, msg.n), accepted_n=msg.n,
                               accepted_v=msg.v)
        note = Accepted(msg.n, msg.v)
        return [*persist, *(Send(lrn, note) for lrn in self.learners), Send(src, note)]


@dataclass
class DoubleCountingLearner(Learner):
    """Mistake: the learner counts Accepted deliveries, not distinct acceptors.

    A duplicated Accepted (the network may deliver a datagram twice) then looks
    like a second acceptor's vote, and the learner decides on a minority.
    """

    deliveries: dict[tuple[int, Value], int] = field(default_factory=dict)

    def receive_accepted(self, src: int, msg: Accepted) -> list[Effect]:
        if src not in self.acceptors:
            return []
        self.votes.setdefault((msg.n, msg.v), set()).add(src)
        count = self.deliveries[(msg.n, msg.v)] = self.deliveries.get((msg.n, msg.v), 0) + 1
        if count < self.quorum or msg.n in self.learned:
            return []
        self.learned[msg.n] = msg.v
        return [Decide(msg.v, msg.n), *(Send(c, Decided(msg.v, msg.n)) for c in self.clients)]


class SharedNumberProposer(Proposer):
    """Mistake: every proposer draws from the same sequence ``k*N`` instead of ``uid + k*N``.

    Two proposers then send the same number n with different values, and an
    acceptor cannot tell the two proposals apart.
    """

    def next_number(self) -> int:
        k = self.round + 1
        while k * self.n_nodes <= self.highest_seen:
            k += 1
        self.round = k
        return k * self.n_nodes


class ForgetfulProposer(Proposer):
    """Mistake: the proposer does not persist its round, so after a restart it reuses a number.

    The same number then travels with two different values: Accepts of the
    old incarnation are indistinguishable from those of the new one.
    """

    def durable(self) -> dict:
        return {}

    def restore(self, data: dict) -> None:
        pass


class StaleAckProposer(Proposer):
    """Mistake: the proposer counts an Ack for an older number toward its current round.

    The stale Ack's report of (n', v') predates choices made since, so the
    proposer can miss an accepted value and pick its own.
    """

    def receive_ack(self, src: int, msg: Ack) -> list[Effect]:
        return super().receive_ack(src, replace(msg, n=self.n))


MISTAKES: dict[str, dict[str, type] | str] = {
    "proposer not adopting the highest-numbered accepted value": {"proposer": NoAdoptProposer},
    "acceptor accepting below its promise": {"acceptor": PromiseBreakingAcceptor},
    "acceptor losing its state on restart": "amnesia",
    "learner counting a duplicated Accepted twice": {"learner": DoubleCountingLearner},
    "proposers sharing sequence numbers": {"proposer": SharedNumberProposer},
    "proposer reusing its number after restart": {"proposer": ForgetfulProposer},
    "proposer counting a stale Ack": {"proposer": StaleAckProposer},
}
"""Every classic mistake: an ``impl`` dict for ``Simulation``, or ``"amnesia"`` for
``Simulation.restart(uid, amnesia=True)`` of an acceptor."""
