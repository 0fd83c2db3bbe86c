"""Every size limit of the protocol, in one place: the codec and the configuration obey them.

The rule: what a configuration may ask for, the wire can carry. A value a client may
propose (``MAX_STR``, ``MAX_INT``) passes the codec; a system of ``MAX_NODES`` consensus
nodes has uids well inside ``MAX_UID`` and a Roles message for it fits in a datagram.
"""

MAX_DATAGRAM = 8192
"""Largest datagram accepted, in bytes (a Roles message for 101 nodes is ~1 KB)."""
MAX_UID = 2**31 - 1
"""Largest uid a message may name."""
MAX_INT = 2**53
"""Largest integer a message field may hold (exact in every JSON reader)."""
MAX_STR = 200
"""Longest string value a client may propose."""
MAX_NODES = 1000
"""Most nodes of one role, and most consensus nodes in all, a configuration may have."""
