"""A run told in words, for the terminal: election, roles, each Paxos phase, the decision.

``Narrator`` reads trace events one at a time (so a live run can be told as it
happens) and returns the lines to print; ``summary(trace)`` ends the story
with per-phase message counts and the safety verdict.
"""

from __future__ import annotations

from collections.abc import Iterable

from .core.invariants import check_safety
from .labels import fmt_value, message_label
from .trace import message_counts

PHASE_ORDER = ("election", "setup", "request", "1.1", "1.2", "2.1", "2.2", "3")
ROLE_OF = {"proposers": "proposer", "acceptors": "acceptor", "learners": "learner",
           "clients": "client"}


class Narrator:
    """Turns trace events into readable lines; feed it with ``lines(event)``."""

    def __init__(self) -> None:
        self.colors: dict[int, str] = {}
        self.roles: dict[int, str] = {}
        self.tokens = 0
        self.section = ""
        self.told_roles = False

    def name(self, uid) -> str:
        role = self.roles.get(uid)
        return f"{role} {uid}" if role else f"node {uid}"

    def lines(self, ev: dict) -> list[str]:
        """What to print for one event (often nothing)."""
        kind, msg = ev["kind"], ev.get("msg") or {}
        out: list[str] = []
        if kind == "state":
            if msg.get("color"):
                self.colors[ev["src"]] = msg["color"]
            return out
        if kind == "send" and msg.get("type") == "Token":
            self.tokens += 1
        if kind == "send" and msg.get("type") == "Roles":
            for key, role in ROLE_OF.items():
                for uid in msg.get(key, []):
                    self.roles[uid] = role  # later Roles name clients that joined late
            if self.told_roles:
                return out
            self.told_roles = True
            out += self._head("Setup: the leader assigns roles")
            out.append(f"  leader {msg['leader']}: proposers {_list(msg['proposers'])}; acceptors "
                       f"{_list(msg['acceptors'])}; learners {_list(msg['learners'])}; clients "
                       f"{_list(msg['clients'])}")
            return out
        if kind == "deliver":
            phase = ev.get("phase") or ""
            if msg.get("type") == "Token":
                out += self._head("Election: Chang-Roberts on the ring")
                out.append("  " + self._token(ev["dst"], msg["uid"]))
            elif phase not in ("setup", "election"):
                out += self._head("Paxos")
                out.append(f"  [{phase:>7}] {self.name(ev['src'])} -> {self.name(ev['dst'])}: "
                           f"{message_label(msg)}")
        elif kind == "drop":
            out.append(f"  [dropped] {self.name(ev['src'])} -> {self.name(ev['dst'])}: "
                       f"{message_label(msg)} ({ev.get('reason', 'lost')})")
        elif kind == "decide" and self.roles.get(ev["src"]) == "learner":
            out.append(f"  {self.name(ev['src'])} learns {fmt_value(msg.get('v'))} "
                       f"(chosen at n={msg.get('n')})")
        elif kind in ("crash", "restart"):
            amnesia = " WITH AMNESIA" if msg.get("amnesia") else ""
            out.append(f"  !! {self.name(ev['src'])} {kind}s{amnesia}")
        elif kind == "timer":
            out.append(f"  [  timer] {self.name(ev['dst'])}: {msg.get('name')} timer fires")
        return out

    def _head(self, title: str) -> list[str]:
        if self.section == title:
            return []
        self.section = title
        return ["", title]

    def _token(self, i: int, j: int) -> str:
        if i == j:
            return (f"node {i} gets its own token({j}) back: it is the LEADER "
                    f"({self.tokens} token messages so far)")
        color = self.colors.get(i, "red")
        if color == "black" or j > i:
            why = "black: relays it" if color == "black" else f"{j} > {i}: forwards it, turns black"
            return f"node {i} gets token({j}): {why}"
        return f"node {i} gets token({j}): {j} < {i}, red: swallows it"


def narrate(trace: Iterable[dict]) -> list[str]:
    """The whole story of a finished trace, as lines."""
    n = Narrator()
    return [line for ev in trace for line in n.lines(ev)]


def summary(trace: list[dict], decided: dict, n_consensus: int) -> list[str]:
    """Closing lines: the decision, tokens against theory, messages per phase, safety."""
    counts = message_counts(trace)
    by_phase = counts["by_phase"]
    tokens = counts["by_kind"].get("Token", 0)
    n = n_consensus
    values = sorted({fmt_value(v) for v in decided.values()})
    out = [""]
    if decided and len(values) == 1:
        out.append(f"Decision: every client ({len(decided)}) was told {values[0]}.")
    elif decided:
        out.append(f"Decision: clients were told DIFFERENT values {', '.join(values)}!")
    else:
        out.append("Decision: no client has heard a decision.")
    out.append(f"Election: {tokens} token messages for n={n} (best 2n-1 = {2 * n - 1}, "
               f"worst n(n+1)/2 = {n * (n + 1) // 2}).")
    parts = [f"{p} {by_phase[p]}" for p in PHASE_ORDER if by_phase.get(p)]
    out.append(f"Messages per phase: {', '.join(parts)} (total {sum(by_phase.values())}).")
    violations = check_safety(trace)
    if violations:
        out.append("SAFETY VIOLATED:")
        out += [f"  - {v}" for v in violations]
    else:
        out.append("Safety: every invariant holds (agreement, validity, promises, learners, "
                   "one leader).")
    return out


def _list(uids) -> str:
    return ", ".join(str(u) for u in uids) or "none"
