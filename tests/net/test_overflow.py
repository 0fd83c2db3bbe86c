"""A switch whose socket overflows still tells the truth about the run.

Under a flood (or a loaded machine) the switch's receive buffer fills and the kernel
drops what arrives: among it, reports nothing else brings back (a client's decision, a
node's last state). The switch notices the loss (the socket's drop counter) and asks
every node for a ``sync``, whose answer carries its state, so ``decided()`` and
``snapshot()`` catch up with the nodes instead of timing out on a run that decided.
"""

from __future__ import annotations

import json
import subprocess
import sys

from paxos_edu import Cluster, Config
from paxos_edu.net.control import MAGIC

FLOOD = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
target, junk = (sys.argv[1], int(sys.argv[2])), b"not a paxos datagram " * 60
while True:
    try:
        s.sendto(junk, target)
    except OSError:
        pass
"""


def _reports(data: bytes) -> list[dict]:
    ctl = json.loads(data.split(b" ", 2)[2])["ctl"]
    return ctl.get("items", [ctl])


def test_a_decision_lost_in_a_full_switch_socket_is_asked_for_again():
    """The client's report of its decision is lost (as the full buffer would lose it);
    then a flood overflows the switch's socket for real. The switch sees the kernel's drop
    count rise, asks every node to sync, and hears the decision from the client."""
    with Cluster(Config(proposers=1, acceptors=3, learners=1)) as c:
        c.start()
        assert c.run(until="elected", timeout=30).ok
        sw = c._switch  # the one place a test can lose a report on its way in
        real, lost = sw.receive, []

        def lossy(data: bytes, addr) -> None:
            if data.startswith(MAGIC) and any(r.get("type") == "decide" for r in _reports(data)):
                lost.append(addr)
                return
            real(data, addr)

        sw.receive = lossy
        uid = c.propose(7)
        assert c.wait_for(lambda c: len(lost) >= 2, timeout=30)  # the learner's and the client's
        sw.receive = real
        assert c.decided() == {}  # what the switch heard: nothing about the decision
        host, port = c.switch_address
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, host, str(port)])
        try:
            assert c.wait_for(lambda c: c.stats()["overflow"] > 0, timeout=30)
        finally:
            flood.kill()
            flood.wait(10)
        result = c.run(timeout=30)
        assert result.status == "decided", (result.status, c.stats())
        assert c.decided() == {uid: 7} and c.snapshot()[uid]["decided"] == 7
        assert c.violations == []
