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

from dataclasses import dataclass, field

from .effects import Effect, Send
from .messages import Token

RED, BLACK = "red", "black"
LEADER = "leader"
"""Not a colour but a state of the table: a red process whose own token came round (it
stays red, as in Ghosh; ``Election.state`` tells the two apart)."""
STATES = (RED, BLACK, LEADER)
COMPARISONS = ("larger", "smaller", "own")
MAX_BACKOFF = 8
"""The re-send wait doubles up to this many times the first one (a loaded machine is not flooded)."""

TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    # (state, how j compares to my uid) -> (action, colour after)
    (RED, "larger"): ("forward", BLACK),    # a larger uid beats me: pass it on, stop competing
    (RED, "smaller"): ("drop", RED),        # a smaller uid cannot win: swallow it
    (RED, "own"): ("win", RED),             # my token went round the whole ring: I am the leader
    (BLACK, "larger"): ("forward", BLACK),  # black processes relay every token
    (BLACK, "smaller"): ("forward", BLACK),
    (BLACK, "own"): ("forward", BLACK),     # cannot happen: a black process's token was dropped
    (LEADER, "own"): ("ignore", RED),       # a duplicate or re-sent copy of my winning token
    (LEADER, "smaller"): ("drop", RED),     # a re-sent token of a node without roles (the node
                                            # answers it with the roles)
    (LEADER, "larger"): ("forward", BLACK),  # cannot happen: the leader holds the largest uid
}
"""Every (state, comparison) pair, so no token meets a case outside the table."""


def compare(j: int, uid: int) -> str:
    """How token uid ``j`` compares to ``uid``: ``"larger"``, ``"smaller"`` or ``"own"``."""
    return "own" if j == uid else ("larger" if j > uid else "smaller")


@dataclass
class Election:
    """One process's part in Chang-Roberts: its colour and, once known, the leader."""

    uid: int
    successor: int
    color: str = RED
    leader: int | None = None
    """The leader's uid once this process knows it, else None."""
    tokens_seen: int = 0
    largest: int = field(init=False)
    """The largest uid this process knows: its own, until a larger token passes. Once it knows
    no roles, that is whom it asks for them (the winner's token went round the whole ring)."""
    resends: int = 0
    """How many times this process re-sent its own token (none on reliable links)."""

    def __post_init__(self) -> None:
        self.largest = self.uid

    @property
    def state(self) -> str:
        """The table's row for this process: ``LEADER`` once it won or was told it leads,
        else its colour."""
        return LEADER if self.is_leader else self.color

    def start(self) -> list[Effect]:
        """election: send my own token to my successor."""
        return [Send(self.successor, Token(self.uid))]

    def resend(self) -> list[Effect]:
        """election, again (lossy links): re-send my own token; the table makes repeats harmless."""
        self.resends += 1
        return [Send(self.successor, Token(self.uid))]

    def receive_token(self, token: Token) -> tuple[str, list[Effect]]:
        """on election Token(j) → election Token(j) to my successor, or nothing, by the table;
        returns the action taken (``TRANSITIONS``) and the effects."""
        self.tokens_seen += 1
        self.largest = max(self.largest, token.uid)
        action, self.color = TRANSITIONS[(self.state, compare(token.uid, self.uid))]
        if action == "forward":
            return action, [Send(self.successor, token)]
        if action == "win":
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
