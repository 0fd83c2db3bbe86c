"""Real node processes: start time, decision latency, idle CPU, node memory.

Run ``python benchmarks/bench_cluster.py [--decisions N] [--quick]``; prints one table.
Targets (issue 3): 11-node start <= 1 s, 101-node <= 5 s, 1/3/1 p50 <= 2 ms, idle
11-node cluster <= 1 % of a core in total, node RSS <= 25 MB.

- start: ``Cluster(cfg).start()`` then ``run(until="elected")``: start every process
  (forked by the cluster's launcher on Linux), wait for every address, Chang-Roberts,
  roles received by all; median of a few runs.
- latency, fresh cluster each: a new cluster per decision (Basic Paxos decides once:
  a later client on the same cluster is just told the value by a learner), one
  client; from the client's Request leaving (its ``send`` event) to the client
  hearing the decision (its ``decide`` event), both stamped by the switch's clock. With
  no faults set, messages travel over peer links (node to node).
- idle CPU: an 11-node cluster after its election, over 10 s: every node process
  (from /proc) plus the controller process (its switch thread).
- RSS: VmRSS of the node processes of that cluster (counting the pages a forked node
  shares with its launcher in full), and PSS (shared pages split among their sharers).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.net.process import PACKAGE_ROOT

TICK = os.sysconf("SC_CLK_TCK")


def start_time(n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        with Cluster(Config(proposers=1, acceptors=n - 2, learners=1)) as c:
            c.start()
            result = c.run(until="elected", timeout=60)
            assert result.ok, result
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def latency_of(trace, client: int) -> float:
    sent = min(ev["t"] for ev in trace if ev["kind"] == "send" and ev["src"] == client)
    told = min(ev["t"] for ev in trace if ev["kind"] == "decide" and ev["src"] == client)
    return told - sent


def fresh_clusters(cfg: Config, decisions: int) -> list[float]:
    out = []
    for i in range(decisions):
        with Cluster(cfg) as c:
            uid = c.propose(i)
            c.start()
            assert c.run(timeout=30).ok
            out.append(latency_of(c.trace, uid))
    return out


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_mb(pid: int, path: str, field: str) -> float:
    """A ``field: N kB`` line of ``/proc/<pid>/<path>``, in MB (nan if there is none)."""
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def idle_and_memory(seconds: float) -> tuple[float, float, list[float], list[float]]:
    with Cluster(Config(proposers=3, acceptors=3, learners=5)) as c:
        c.start()
        assert c.run(until="elected", timeout=30).ok
        pids = list(c.pids().values())
        nodes0 = sum(cpu_of(p) for p in pids)
        me0 = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(seconds)  # measuring idleness: there is nothing to wait for
        me1 = resource.getrusage(resource.RUSAGE_SELF)
        nodes = sum(cpu_of(p) for p in pids) - nodes0
        me = (me1.ru_utime + me1.ru_stime) - (me0.ru_utime + me0.ru_stime)
        return (nodes, me, [memory_mb(p, "status", "VmRSS") for p in pids],
                [memory_mb(p, "smaps_rollup", "Pss") for p in pids])


def node_import_time() -> float:
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    argv = [sys.executable, "-S", "-m", "paxos_edu.net.node_main", "--self-check"]
    began = time.perf_counter()
    for _ in range(10):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - began) / 10


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decisions", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="fewer runs, 20 decisions")
    args = ap.parse_args()
    decisions = 20 if args.quick else args.decisions
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, "
          f"Python {sys.version.split()[0]}")
    rows = [("fresh node interpreter (python -S -m ...node_main; the non-Linux path)",
             f"{node_import_time() * 1000:.0f} ms", "")]
    for n, target in ((5, None), (11, 1.0), (51, None), (101, 5.0)):
        t = start_time(n, 1 if args.quick or n > 11 else 3)
        rows.append((f"start {n} nodes (spawn + election + roles)", f"{t:.2f} s",
                     f"<= {target:g} s" if target else ""))
    for name, cfg, target in (("1/3/1", Config(proposers=1, acceptors=3, learners=1), 2.0),
                              ("3/3/5", Config(proposers=3, acceptors=3, learners=5), None)):
        xs = fresh_clusters(cfg, decisions)
        rows.append((f"latency {name}, {len(xs)} decisions, fresh cluster each",
                     f"p50 {pct(xs, 0.5):.2f} ms, p95 {pct(xs, 0.95):.2f} ms",
                     f"p50 <= {target:g} ms" if target else ""))
    seconds = 3.0 if args.quick else 10.0
    nodes, me, rss, pss = idle_and_memory(seconds)
    rows.append((f"idle 11-node cluster over {seconds:g} s, CPU of all nodes + controller",
                 f"{(nodes + me) / seconds * 100:.2f} % of a core "
                 f"(nodes {nodes:.2f} s, controller {me:.2f} s)", "<= 1 %"))
    rows.append(("RSS of one node process", f"median {statistics.median(rss):.1f} MB, "
                 f"max {max(rss):.1f} MB", "<= 25 MB"))
    rows.append(("  of which its own (PSS: pages shared with the launcher split)",
                 f"median {statistics.median(pss):.1f} MB", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':<40}  target")
    for what, result, target in rows:
        print(f"{what:<{width}}  {result:<40}  {target}")


if __name__ == "__main__":
    main()
