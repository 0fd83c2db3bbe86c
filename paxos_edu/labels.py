"""Words for messages, node states and events, in Ghosh's notation.

Shared by the diagrams, the terminal demo and the dashboard; imports nothing heavy.
"""

from __future__ import annotations

ROLE_LETTERS = {"client": "C", "proposer": "P", "acceptor": "A", "learner": "L",
                "consensus": "N"}


def fmt_value(v) -> str:
    """A proposed value as the lessons write it: 210, 'x' (quoted string), ⊥ for none."""
    if v is None:
        return "⊥"
    return repr(v) if isinstance(v, str) else str(v)


def message_label(msg: dict) -> str:
    """A message in one notation, a proposal's pair always number first (Lamport's order):
    ``proposal(n, v)``, ``ack(n, n', v')``, ``nack(n, p)``, ``accept(n, v)``,
    ``accepted(n, v)``, ``decided(v)``, ``request(v)``, ``token(uid)``.

    An Ack from an acceptor that accepted nothing is Ghosh's ``ack(n, ⊥, ⊥)``: its
    ``accepted_n`` is null, or 0 from an acceptor that counts from 0 (``Ack.has_accepted``).
    """
    t = msg.get("type")
    v = fmt_value(msg.get("v"))
    if t == "Proposal":
        return f"proposal({msg['n']}, {v})"
    if t == "Ack":
        if not _accepted_something(msg.get("accepted_n")):
            return f"ack({msg['n']}, ⊥, ⊥)"
        return f"ack({msg['n']}, {msg['accepted_n']}, {fmt_value(msg.get('accepted_v'))})"
    if t == "Nack":
        return f"nack({msg['n']}, {msg['promised']})"
    if t == "Accept":
        return f"accept({msg['n']}, {v})"
    if t == "Accepted":
        return f"accepted({msg['n']}, {v})"
    if t == "Decided":
        return f"decided({v})"
    if t == "Request":
        return f"request({v})"
    if t == "Token":
        return f"token({msg['uid']})"
    if t == "Roles":
        return "roles"
    if t == "AskRoles":
        return "roles?"
    if t == "Timer":
        return f"timer {msg.get('name', '')}".strip()
    return str(t or "?").lower()


def _accepted_something(accepted_n) -> bool:
    # The plain-data twin of core.messages.Ack.has_accepted: null, or 0 (no proposal carries
    # it, and acceptors counting from 0 send it), is nothing accepted.
    return accepted_n is not None and accepted_n != 0


def node_name(uid: int, role: str | None) -> str:
    """``P0``, ``A3``, ``L5``, ``C6``: the role's letter and the uid."""
    return f"{ROLE_LETTERS.get(role or 'consensus', 'N')}{uid}"


def node_state_text(state: dict, role: str | None, alive: bool = True) -> str:
    """A node's state in words, a few short lines (what the Paxos diagram prints under it).

    proposer: its number n, value and status; acceptor: promised n and accepted
    (n, v); learner: votes per n and the learned value; client: its value and
    what it was told. A crashed node says so first.
    """
    role = state.get("role") or role
    lines = [] if alive else ["crashed"]
    if role == "proposer" and "status" in state:
        v = state.get("proposed_v")
        if v is None:
            v = state.get("value")
        lines.append(f"n={state.get('n', 0)}  v={fmt_value(v)}")  # number first, as everywhere
        status = state.get("status", "")
        if status == "phase 1":
            status += f"  acks {len(state.get('acks', []))}"
        elif status == "phase 2":
            status += f"  accepted {len(state.get('accepted_by', []))}"
        lines.append(status)
    elif role == "acceptor" and "promised" in state:
        lines.append(f"promised {state['promised']}")
        if _accepted_something(state.get("accepted_n")):
            lines.append(f"accepted ({state['accepted_n']}, {fmt_value(state.get('accepted_v'))})")
        else:
            lines.append("accepted none")
    elif role == "learner" and "votes" in state:
        for vote in state.get("votes", [])[-2:]:
            k = len(vote.get("acceptors", []))
            lines.append(f"n={vote['n']}: {k} vote{'s' if k != 1 else ''}")
        learned = state.get("value")
        lines.append(f"learned {fmt_value(learned)}" if learned is not None else "learned nothing")
    elif role == "client":
        lines.append(f"wants {fmt_value(state.get('value'))}")
        decided = state.get("decided")
        lines.append(f"told {fmt_value(decided)}" if decided is not None else "waiting")
    elif state:
        lines.append("leader" if state.get("leader") == state.get("uid") else "electing")
    return "\n".join(lines)


def role_names(roles: dict | None) -> dict[int, str]:
    """``{uid: "P0", ...}`` from a Roles message as plain data; ``{}`` without one."""
    if not roles:
        return {}
    names = {}
    for role, key in (("proposer", "proposers"), ("acceptor", "acceptors"),
                      ("learner", "learners"), ("client", "clients")):
        for uid in roles.get(key) or ():
            names[uid] = node_name(uid, role)
    return names


def describe_event(ev: dict | None, names: dict[int, str] | None = None) -> str:
    """One line for a title: ``deliver proposal(6, 210)  P0→A3``; ``names`` (see
    ``role_names``) gives each uid its role letter, and a uid it lacks stays a number."""
    if ev is None:
        return "nothing yet"

    def n(uid) -> str:
        return (names or {}).get(uid, f"node {uid}")

    def arrow(src, dst) -> str:
        return f"{(names or {}).get(src, src)}→{(names or {}).get(dst, dst)}"

    kind, msg = ev["kind"], ev.get("msg") or {}
    if kind in ("send", "deliver", "drop", "duplicate"):
        tail = f" ({ev['reason']})" if kind == "drop" and ev.get("reason") else ""
        return f"{kind} {message_label(msg)}  {arrow(ev['src'], ev['dst'])}{tail}"
    if kind == "state":
        return f"{n(ev['src'])} changes state"
    if kind == "decide":
        return f"{n(ev['src'])} decides {fmt_value(msg.get('v'))}"
    if kind == "timer":
        return f"{n(ev['dst'])}: {msg.get('name', 'timer')} timer fires"
    if kind == "crash":  # "how": a process that died by itself, e.g. killed from outside
        how = f" ({msg['how']})" if msg.get("how") else ""
        return f"{n(ev['src'])} crashes{how}"
    if kind == "restart":
        amnesia = " with amnesia" if msg.get("amnesia") else ""
        return f"{n(ev['src'])} restarts{amnesia}"
    return kind
