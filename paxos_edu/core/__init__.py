"""The pure protocol: messages, wire codec, Chang-Roberts, Paxos roles, nodes, invariants.

Nothing here opens a socket, reads a clock, sleeps or starts a thread; the only
randomness is a ``random.Random`` handed in by the driver.
"""

from .codec import BadMessage, Envelope, decode, encode, key_from_passphrase, new_key
from .config import Config, majority
from .effects import CancelTimer, Decide, Effect, Persist, Send, SetTimer
from .election import Election
from .invariants import SafetyMonitor, Violation, check_safety
from .messages import (
    PAXOS_PHASES,
    PHASES,
    WIRE_KINDS,
    Accept,
    Accepted,
    Ack,
    Decided,
    Message,
    Nack,
    Proposal,
    Request,
    Roles,
    Timer,
    Token,
    Value,
)
from .node import ClientNode, Node, make_node
from .paxos import ROLE_CLASSES, Acceptor, Client, Learner, Proposer
from .roles import ROLE_PROTOCOLS, Role

__all__ = [
    "Accept", "Accepted", "Acceptor", "Ack", "BadMessage", "CancelTimer", "Client",
    "ClientNode", "Config", "Decide", "Decided", "Effect", "Election", "Envelope",
    "Learner", "Message", "Nack", "Node", "PAXOS_PHASES", "PHASES", "Persist", "Proposal",
    "Proposer", "ROLE_CLASSES", "ROLE_PROTOCOLS", "Request", "Role", "Roles", "SafetyMonitor",
    "Send", "SetTimer",
    "Timer", "Token", "Value", "Violation", "WIRE_KINDS", "check_safety", "decode",
    "encode", "key_from_passphrase", "majority", "make_node", "new_key",
]
