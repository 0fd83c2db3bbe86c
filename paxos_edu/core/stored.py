"""The one schema check for a node's stable storage (``node-<uid>.json``).

The rule: a state file is used whole or refused by name, never half-read and never
silently forgotten. Forgetting is only ever explicit (``Cluster.restart(uid,
amnesia=True)``). ``check_state(data, name)`` accepts exactly what ``Node.storage()``
writes::

    {"roles": null | <a Roles message>, "paxos": {<the role's durable fields>}}

- both fields present, nothing else at the top;
- ``roles`` null, or a valid ``Roles`` message (the codec checks every field);
- ``paxos`` an object; the fields the built-in roles keep are typed: ``promised``,
  ``round`` and ``highest_seen`` are whole numbers >= 0, ``accepted_n`` is null (nothing
  accepted) or a whole number >= 0, and ``accepted_v`` is null, a whole number or a
  string; an acceptor has not accepted a number above its promise. Other fields (a
  student's own role class) pass as they are;
- files written before "nothing accepted" was null hold ``"accepted_n": 0`` instead, as
  lesson 08's student acceptors still write; they are accepted, and the acceptor reads
  that 0 as null (no proposal carries 0), so no schema version was needed;
- given a ``config``, the roles are the ones that configuration assigns (a file from
  another hosts file or Config would give the node the wrong role).

Every problem raises ``StateError`` (a ValueError) with one sentence naming the file and
the field, e.g. ``node-2.json: field "paxos.promised" is "abc", not a whole number``.
"""

from __future__ import annotations

import json
from typing import Any

from .codec import BadMessage, message_from_dict
from .messages import Roles

WHOLE = ("promised", "round", "highest_seen")
"""Durable fields that are whole numbers >= 0."""
WHOLE_OR_NULL = ("accepted_n",)
"""Durable fields that are null (nothing yet) or a whole number >= 0."""
TOP = ("roles", "paxos")


class StateError(ValueError):
    """A state file that cannot be used; the message names the file and what is wrong."""


def _show(x: Any) -> str:
    text = json.dumps(x) if _jsonable(x) else repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _jsonable(x: Any) -> bool:
    try:
        json.dumps(x)
        return True
    except (TypeError, ValueError):
        return False


def _kind(x: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null", float: "a fraction"}.get(type(x), "a number")


def check_state(data: Any, name: str, config: Any = None) -> dict[str, Any]:
    """``data`` if it is a well-formed state (see the module rules); else StateError naming ``name``."""
    if not isinstance(data, dict):
        raise StateError(f"{name}: the state is {_kind(data)}, not an object with "
                         "fields \"roles\" and \"paxos\"")
    missing = [k for k in TOP if k not in data]
    if missing:
        raise StateError(f"{name}: field \"{missing[0]}\" is missing (a state file holds "
                         "\"roles\" and \"paxos\")")
    extra = sorted(set(data) - set(TOP))
    if extra:
        raise StateError(f"{name}: unexpected field \"{extra[0]}\" (a state file holds only "
                         "\"roles\" and \"paxos\")")
    roles = data["roles"]
    if roles is not None:
        try:
            msg = message_from_dict(roles)
        except BadMessage as exc:
            raise StateError(f"{name}: field \"roles\" is not a role assignment "
                             f"({exc.reason})") from None
        if not isinstance(msg, Roles):
            raise StateError(f"{name}: field \"roles\" is a {msg.type}, not a Roles message")
        if config is not None:
            expected = config.roles(msg.leader)
            if (msg.proposers, msg.acceptors, msg.learners) != (
                    expected.proposers, expected.acceptors, expected.learners):
                raise StateError(f"{name}: field \"roles\" is from another configuration "
                                 "(other roles); remove the file or use another state directory")
    paxos = data["paxos"]
    if not isinstance(paxos, dict):
        raise StateError(f"{name}: field \"paxos\" is {_kind(paxos)}, not an object")
    for key in (*WHOLE, *WHOLE_OR_NULL):
        if key in paxos:
            x = paxos[key]
            if key in WHOLE_OR_NULL and x is None:
                continue
            if type(x) is not int or x < 0:
                what = "null or a whole number" if key in WHOLE_OR_NULL else "a whole number"
                raise StateError(f"{name}: field \"paxos.{key}\" is {_show(x)}, not {what}")
    if "accepted_v" in paxos and type(paxos["accepted_v"]) not in (int, str, type(None)):
        raise StateError(f"{name}: field \"paxos.accepted_v\" is {_show(paxos['accepted_v'])}, "
                         "not null, a whole number or a string")
    accepted_n = paxos.get("accepted_n") or 0  # null and the older 0: nothing accepted
    if accepted_n > paxos.get("promised", accepted_n):
        raise StateError(f"{name}: field \"paxos.accepted_n\" is {paxos['accepted_n']}, above "
                         f"\"paxos.promised\" {paxos['promised']} (an acceptor never accepts "
                         "below its promise)")
    return data


def parse_state(text: str, name: str, config: Any = None, amnesia: bool = False) -> dict[str, Any]:
    """The state a file's ``text`` holds; StateError if it is empty, torn (not JSON) or bad.

    With ``amnesia`` (the caller drops the ``paxos`` fields on purpose) they are not checked.
    """
    if not text.strip():
        raise StateError(f"{name}: the state file is empty (a crash while it was first "
                         "written, or a damaged disk); restore it, or start afresh elsewhere")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError(f"{name}: the state file is torn or not JSON ({exc})") from None
    if amnesia and isinstance(data, dict) and "paxos" in data:
        check_state({**data, "paxos": {}}, name, config)
        return data
    return check_state(data, name, config)
