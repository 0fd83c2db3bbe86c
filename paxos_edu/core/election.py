"""Chang-Roberts leader election on a unidirectional ring, as Ghosh states it.

Every process starts red and sends a token with its own uid to its ring
successor. On receiving token(j), process i acts by the table below; the
process that receives its own token while still red is the leader. With FIFO
links, a ring of n processes takes 2n-1 token messages when uids ascend along
the ring, n(n+1)/2 when they descend, and n*H_n on average over random rings.
(Black processes relay every token, so other delivery orders can cost more.)

The transitions are data (``TRANSITIONS``) so that docs and diagrams can be
drawn from the same table the code runs.

One addition for lossy links (Chang-Roberts assumes reliable ones): a process
that does not yet know the roles re-sends its own token (``resend``), after
``resend_delay(k)`` ms for the k-th time, doubling up to ``MAX_BACKOFF`` times the
first wait. The table makes the repeats harmless: red processes drop smaller
tokens, black ones relay, so only the largest uid's token can complete the
ring, and it does once every process is up and a copy gets all the way round.
A repeated token that reaches the leader tells it that its sender has no roles
(the node answers it with them, see ``core.node``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .effects import Effect, Send
from .messages import Token

RED, BLACK = "red", "black"
MAX_BACKOFF = 8
"""The re-send wait doubles up to this many times the first one (a loaded machine is not flooded)."""

TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    # (colour, how j compares to my uid) -> (action, new colour)
    (RED, "larger"): ("forward", BLACK),   # a larger uid beats me: pass it on, stop competing
    (RED, "smaller"): ("drop", RED),       # a smaller uid cannot win: swallow it
    (RED, "own"): ("win", RED),            # my token went round the whole ring: I am the leader
    (BLACK, "larger"): ("forward", BLACK),  # black processes relay every token
    (BLACK, "smaller"): ("forward", BLACK),
    (BLACK, "own"): ("forward", BLACK),    # cannot happen: a black process's token was dropped
}


def compare(j: int, uid: int) -> str:
    """How token uid ``j`` compares to ``uid``: ``"larger"``, ``"smaller"`` or ``"own"``."""
    return "own" if j == uid else ("larger" if j > uid else "smaller")


@dataclass
class Election:
    """One process's part in Chang-Roberts: its colour and, once known, the leader."""

    uid: int
    successor: int
    color: str = RED
    leader: int = -1
    """The leader's uid once this process knows it, else -1."""
    tokens_seen: int = 0
    largest: int = -1
    """The largest uid among the tokens this process has seen: the leader, once it has won."""
    resends: int = 0
    """How many times this process re-sent its own token (none on reliable links)."""

    def start(self) -> list[Effect]:
        """Election: send my own token to my successor."""
        return [Send(self.successor, Token(self.uid))]

    def resend(self) -> list[Effect]:
        """Election, again (lossy links): re-send my own token; the table makes repeats harmless."""
        self.resends += 1
        return [Send(self.successor, Token(self.uid))]

    def receive_token(self, token: Token) -> tuple[str, list[Effect]]:
        """Election: act on token(j) by the table; returns the action taken and the effects."""
        self.tokens_seen += 1
        self.largest = max(self.largest, token.uid)
        action, self.color = TRANSITIONS[(self.color, compare(token.uid, self.uid))]
        if action == "forward":
            return action, [Send(self.successor, token)]
        if action == "win":
            if self.leader == self.uid:
                return "ignore", []  # a duplicated token came round again: already leader
            self.leader = self.uid
        return action, []

    def follow(self, leader: int) -> None:
        """setup: told who leads, I stop competing (black), so I relay every token from now on.

        A node that restarted without roles starts red again; once it has them it must relay
        the tokens that smaller nodes without roles re-send, or they never reach the leader.
        """
        self.leader = leader
        if leader != self.uid:
            self.color = BLACK

    @property
    def is_leader(self) -> bool:
        return self.leader == self.uid


def resend_delay(first: float, resends: int) -> float:
    """How long to wait before the next re-send, after ``resends`` of them: doubling, capped."""
    return first * min(2 ** resends, MAX_BACKOFF)
