"""Is the trace of a peer-link cluster causally ordered when the CPUs are busy? (issue 12)

Run ``python benchmarks/bench_trace_load.py [--runs N] [--time-limit S] [--hogs K]``.
It starts ``K`` busy-loop processes (killed by pid at the end), then runs correct
clusters in run mode without faults (so every message takes a peer link): mostly
3/3/5 with two clients, every fourth a 101-node 5/45/51 with two clients. For each it
counts a *false alarm* when ``check_safety(trace)`` reports a violation (these runs
are correct, so any violation is the trace's fault) or when a learner's decide/state
comes before the Accepted it counted (``causal.learner_causality``). Every fifth run
is also a *negative control*: after deciding, an acceptor restarts with amnesia, a
real violation that must be caught. Prints runs, false alarms, controls caught.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.core.invariants import check_safety

try:
    from paxos_edu.net.causal import learner_causality
except ImportError:  # the code before issue 12
    def learner_causality(trace):
        return []

SMALL = Config(proposers=3, acceptors=3, learners=5)
BIG = Config(proposers=5, acceptors=45, learners=51)


def start_hogs(k: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(k)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for h in hogs:
        with contextlib.suppress(OSError):
            h.kill()
    for h in hogs:
        h.wait(10)


def one_run(i: int) -> tuple[list[str], bool | None]:
    """(false-alarm reasons, whether the negative control was caught or None if none)."""
    cfg = BIG if i % 4 == 3 else SMALL
    control = i % 5 == 4
    with Cluster(cfg, seed=i, reply_timeout=30) as c:
        c.propose(100 + i)
        c.propose(200 + i, proposer=1)
        c.start(timeout=60)
        status = c.run(timeout=60).status
        if status != "decided":
            return [f"run {i}: {status}"], None
        if control:
            acc = cfg.roles(0).acceptors[0]
            c.restart(acc, amnesia=True)
            trace = c.trace
            caught = any(v.invariant == "monotonic promises" for v in check_safety(trace))
            return [], caught
        trace = c.trace
        alarms = [str(v) for v in check_safety(trace)] + learner_causality(trace)
        return [f"run {i} ({cfg.n_consensus} nodes): {a}" for a in alarms[:3]], None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=13)
    ap.add_argument("--time-limit", type=float, default=300, help="seconds; stop after")
    ap.add_argument("--hogs", type=int, default=2, help="busy-loop processes beside the runs")
    args = ap.parse_args()
    hogs = start_hogs(args.hogs)
    began = time.monotonic()
    runs = alarms = controls = caught = 0
    try:
        for i in range(args.runs):
            if time.monotonic() - began > args.time_limit:
                break
            found, control = one_run(i)
            runs += 1
            if control is not None:
                controls += 1
                caught += control
            elif found:
                alarms += 1
                print("\n".join(found), flush=True)
    finally:
        stop_hogs(hogs)
    print(f"runs: {runs}  false alarms: {alarms} of {runs - controls} correct runs  "
          f"negative controls caught: {caught} of {controls}  "
          f"({time.monotonic() - began:.0f} s, {args.hogs} hogs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
