"""Slow motion: a free run on real processes, slow enough to watch as it happens.

``Cluster(slow=k)`` holds every message a node sends in run mode ``(k - 1)`` ms and makes the
nodes' timeouts ``k`` times longer, so the run is the same run, only slower. Checked on
the trace: the chain of messages from a request to its decision took at least the holds
(a lower bound, which load can only lengthen), and the nodes' timers are the slowed ones.
"""

from __future__ import annotations

import pytest

from paxos_edu import Cluster, Config, check_safety
from paxos_edu.net.spec import HOP_MS, slowed

SLOW = 40


def test_a_slow_motion_run_decides_and_every_hop_takes_the_hold():
    cfg = Config(proposers=1, acceptors=3, learners=1, clients=((210, 0),))
    with Cluster(cfg, seed=1, slow=SLOW) as c:
        c.start(timeout=60)
        result = c.run(until="decided", timeout=60)
        trace = c.trace
    assert result.status == "decided" and result.decided == {5: 210}
    assert check_safety(trace) == []
    # From the request's arrival to the client hearing the decision, five messages follow
    # one another (proposal, ack, accept, accepted, decided), each held before it leaves.
    request = next(ev["t"] for ev in trace if ev["kind"] == "deliver"
                   and ev["msg"]["type"] == "Request")
    told = next(ev["t"] for ev in trace if ev["kind"] == "deliver"
                and ev["msg"]["type"] == "Decided")
    hold = HOP_MS * (SLOW - 1)
    assert told - request >= 5 * hold * 0.99, f"{told - request:.1f} ms for five held hops"


def test_the_nodes_run_with_slowed_timeouts_and_step_mode_is_unchanged():
    cfg = Config(proposers=1, acceptors=3, learners=1, clients=((210, 0),))
    slow = slowed(cfg, SLOW)
    assert (slow.timeout, slow.backoff, slow.resend) == (
        cfg.timeout * SLOW, (cfg.backoff[0] * SLOW, cfg.backoff[1] * SLOW), cfg.resend * SLOW)
    assert slowed(cfg, 1) is cfg
    with Cluster(cfg, mode="step", slow=SLOW) as c:
        c.start()
        timers = [p for p in c.pending() if p.kind == "Timer"]
        messages = [p for p in c.pending() if p.kind == "Message"]
        assert timers and messages  # step mode holds every message, as without slow motion
        assert min(p.due for p in timers) >= cfg.resend * SLOW  # the election's re-send
        assert c.config == cfg  # what the run is about stays the configuration given


@pytest.mark.parametrize("slow", [0, 0.5, -1, "10", True, 10_000])
def test_a_bad_slow_motion_factor_is_refused_by_name(slow):
    with pytest.raises(ValueError, match="slow="):
        Cluster(Config(), slow=slow)
