"""Soak: real node processes (Cluster, run mode) on a CPU the script itself saturates.

    python benchmarks/soak.py [--runs 200] [--negatives 10] [--time-limit 1080] [--quick]
    python benchmarks/soak.py --only fault:17        # one run again, by kind and seed
    python benchmarks/soak.py --traces /tmp/t        # keep each failed run's trace (JSONL)

It starts ``os.cpu_count()`` busy-loop processes (killed by pid at the end, also on
Ctrl-C or an error), then runs

- correct runs, no faults (so over peer links): random small clusters one after another,
  101-node clusters (5 proposers, 45 acceptors, 51 learners, 2 clients) and batches of
  20 concurrent 11-node clusters (3/5/3, 2 clients; one thread and one Cluster each).
  Any violation is a false alarm; every client must decide.
- seeded fault runs: ``set_faults`` on every phase (no ``phases=``, set before
  ``start()``, so the election tokens and the leader's Roles are faulted too) with loss
  up to 40 %, duplication and delay, changed at random; partitions; crashes and restarts
  of proposers, learners and a minority of acceptors. Then heal (faults off, partitions
  healed, crashed nodes restarted) and wait, up to ``--heal-timeout`` s, for every client
  to decide; a run in which nothing at all happens for ``--stall`` s gives up early. Any
  violation is a false alarm; a run that does not decide is a hang.
- negative controls: acceptor amnesia (``restart(uid, amnesia=True)``) arranged so that
  two values are chosen; the checker must report agreement broken in every one.

It prints the figures and each failure with its seed and a command that repeats it, and
exits 1 if a target is missed: 0 false alarms, every negative control caught, 100 %
decided (after heal), no hang, no process left over (every pid ``Cluster.pids()``
reported, and the hogs, gone after ``close()``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from process_watch import wait_gone  # noqa: E402  (the tests' pidfd wait, shared)

from paxos_edu import Config, check_safety, to_jsonl
from paxos_edu.cluster import Cluster

BIG = Config(proposers=5, acceptors=45, learners=51)
ELEVEN = Config(proposers=3, acceptors=5, learners=3)
BATCH = 20
VALUES = (210, 220, 230, "x", "y")
REPLY_TIMEOUT = 30.0  # Cluster's bound on each wait for a node (its default is 10 s)
TRACES = ""  # --traces DIR: where the trace of each failed run goes


@dataclass
class Outcome:
    kind: str
    seed: int
    decided: bool = False
    status: str = ""
    violations: list[str] = field(default_factory=list)
    agreement_caught: bool = False
    elapsed: float = 0.0
    pids: set[int] = field(default_factory=set)
    left: list[int] = field(default_factory=list)
    error: str = ""

    @property
    def reproduce(self) -> str:
        return f"python benchmarks/soak.py --only {self.kind}:{self.seed}"


class Tracker:
    """The pids a Cluster reported, at every point where they change."""

    def __init__(self, out: Outcome):
        self.out = out

    def __call__(self, c: Cluster) -> None:
        self.out.pids.update(c.pids().values())


# -- processes ---------------------------------------------------------------------------

def start_hogs(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             stdin=subprocess.DEVNULL) for _ in range(n)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for p in hogs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGKILL)
    for p in hogs:
        p.wait()


def closing(out: Outcome, c: Cluster) -> None:
    if out.kind == "amnesia":
        failed = out.error or not out.agreement_caught
    else:
        failed = out.violations or out.error or not out.decided
    if TRACES and failed and c.started:
        os.makedirs(TRACES, exist_ok=True)
        to_jsonl(c.trace, os.path.join(TRACES, f"{out.kind}-{out.seed}.jsonl"))
    c.close()
    out.left = wait_gone(out.pids, 5.0)


def safety(c: Cluster) -> list[str]:
    found = [str(v) for v in c.violations]
    return found + [str(v) for v in check_safety(c.trace) if str(v) not in found]


# -- correct runs --------------------------------------------------------------------------

def correct_config(kind: str, rng: random.Random) -> Config:
    if kind == "big":
        return BIG
    if kind == "concurrent":
        return ELEVEN
    return Config(proposers=rng.randint(1, 3), acceptors=rng.choice((1, 3, 5)),
                  learners=rng.randint(1, 3),
                  ring=rng.choice(("ascending", "descending", "random")),
                  ring_seed=rng.randrange(100))


def correct_run(kind: str, seed: int, timeout: float) -> Outcome:
    """No faults: start, propose, run until every client decided; nothing may be flagged."""
    out = Outcome(kind, seed)
    began = time.monotonic()
    rng = random.Random(f"correct:{kind}:{seed}")
    cfg = correct_config(kind, rng)
    n_clients = 2 if kind in ("big", "concurrent") else rng.randint(1, 3)
    clients = [(rng.choice(VALUES), rng.randrange(cfg.proposers)) for _ in range(n_clients)]
    early = rng.random() < 0.5  # clients there from the start, or added once roles are out
    if early:
        cfg = cfg.with_clients(*clients)
    c = Cluster(cfg, seed=seed, reply_timeout=REPLY_TIMEOUT)
    track = Tracker(out)
    try:
        c.start(timeout=timeout)
        track(c)
        if not early:
            for v, k in clients:
                c.propose(v, k)
            track(c)
        result = c.run(timeout=timeout)
        track(c)
        out.status, out.decided = result.status, result.status == "decided"
        out.violations = safety(c)
        values = set(c.decided().values())
        if len(values) > 1:
            out.violations.append(f"clients told different values: {c.decided()}")
    except Exception as exc:  # noqa: BLE001  (reported as a failure of this run)
        out.error = f"{type(exc).__name__}: {exc}"
    finally:
        closing(out, c)
    out.elapsed = time.monotonic() - began
    return out


# -- fault runs ----------------------------------------------------------------------------

def random_faults(rng: random.Random) -> dict:
    return {"loss": rng.choice((0.0, rng.uniform(0, 0.4), rng.uniform(0, 0.4))),
            "duplicate": rng.choice((0.0, rng.uniform(0, 0.3))),
            "delay": (0.0, rng.choice((0.0, rng.uniform(0, 30))))}


def fault_run(seed: int, heal_timeout: float, stall: float) -> Outcome:
    out = Outcome("fault", seed)
    began = time.monotonic()
    rng = random.Random(f"fault:{seed}")
    cfg = Config(proposers=rng.randint(1, 3), acceptors=rng.choice((3, 3, 5)),
                 learners=rng.randint(1, 2),
                 ring=rng.choice(("ascending", "descending", "random")),
                 ring_seed=rng.randrange(100))
    roles = cfg.roles(leader=cfg.n_consensus - 1)
    acceptors = set(roles.acceptors)
    crashable = (*roles.proposers, *roles.acceptors, *roles.learners)
    max_down = (len(acceptors) - 1) // 2
    down: set[int] = set()
    c = Cluster(cfg, seed=seed, reply_timeout=REPLY_TIMEOUT)
    track = Tracker(out)
    try:
        c.set_faults(**random_faults(rng))  # before start: tokens and Roles are faulted too
        for _ in range(rng.randint(0, 2)):  # some clients take part in the setup
            c.propose(rng.choice(VALUES), rng.randrange(cfg.proposers))
        c.start(timeout=rng.uniform(0.02, 1.0))  # may return mid-election
        track(c)
        if not c.config.clients:
            c.propose(rng.choice(VALUES), rng.randrange(cfg.proposers))
        for _ in range(rng.randint(3, 10)):
            op = rng.choice(("faults", "faults", "crash", "crash", "restart", "partition",
                             "heal", "propose", "wait"))
            if op == "faults":
                c.set_faults(**random_faults(rng))
            elif op == "crash":
                uid = rng.choice(crashable)
                if uid not in down and (uid not in acceptors
                                        or len(down & acceptors) < max_down):
                    c.crash(uid)
                    down.add(uid)
            elif op == "restart" and down:
                uid = rng.choice(sorted(down))
                c.restart(uid)
                down.discard(uid)
            elif op == "partition":
                everyone = range(cfg.n_consensus + len(c.config.clients))
                c.partition({u for u in everyone if rng.random() < 0.5})
            elif op == "heal":
                c.heal()
            elif op == "propose" and len(c.config.clients) < 3:
                c.propose(rng.choice(VALUES), rng.randrange(cfg.proposers))
            track(c)
            time.sleep(rng.uniform(0, 0.15))
        # heal: faults off, partitions healed, crashed nodes restarted
        c.set_faults()
        c.heal()
        for uid in sorted(down):
            c.restart(uid)
        track(c)
        out.decided, how = wait_decided(c, heal_timeout, stall)
        track(c)
        out.status = "decided" if out.decided else \
            f"{how}: {c.run(timeout=0.01).status}; {setup_state(c)}"
        out.violations = safety(c)
        if len(set(c.decided().values())) > 1:
            out.violations.append(f"clients told different values: {c.decided()}")
    except Exception as exc:  # noqa: BLE001
        out.error = f"{type(exc).__name__}: {exc}"
    finally:
        closing(out, c)
    out.elapsed = time.monotonic() - began
    return out


def setup_state(c: Cluster) -> str:
    """Where the election and role setup stand: the leader, the nodes without roles."""
    snaps = c.snapshot()
    roleless = sorted(u for u, s in snaps.items() if s["alive"]
                      and (s.get("role") is None or s.get("proposer", 0) < 0))
    leader = c.leader()
    return (f"leader {'none (election stalled)' if leader is None else leader}, "
            f"{'no node' if not roleless else 'nodes ' + ', '.join(map(str, roleless))} "
            "without roles")


def wait_decided(c: Cluster, timeout: float, stall: float) -> tuple[bool, str]:
    """Until every client decided (True), ``timeout`` s, or ``stall`` s without any event."""
    seen = [-1, time.monotonic()]
    stalled = [False]

    def done(c: Cluster) -> bool:
        if c.all_decided():
            return True
        n = len(c.trace)
        if n != seen[0]:
            seen[:] = [n, time.monotonic()]
        elif time.monotonic() - seen[1] >= stall:
            stalled[0] = True
            return True
        return False

    began = time.monotonic()
    ok = c.wait_for(done, timeout) and not stalled[0]
    waited = time.monotonic() - began
    if ok:
        return True, ""
    if stalled[0]:
        return False, f"stalled after heal (no event for {stall:g} s, {waited:.1f} s in)"
    return False, f"not decided {timeout:g} s after heal"


# -- negative controls -----------------------------------------------------------------------

def amnesia_run(seed: int, timeout: float) -> Outcome:
    """Two values chosen: 210 by acceptors B and C (A down), then B restarts with amnesia,
    C goes down and A comes back: proposer 1 hears of no accepted value from {A, B} and
    gets 220 chosen. The checker must say agreement is broken."""
    out = Outcome("amnesia", seed)
    began = time.monotonic()
    cfg = Config(proposers=2, acceptors=3, learners=1)
    a, b, cc = cfg.roles(leader=cfg.n_consensus - 1).acceptors
    rng = random.Random(f"amnesia:{seed}")
    v0, v1 = rng.sample(VALUES, 2)
    c = Cluster(cfg, seed=seed, reply_timeout=REPLY_TIMEOUT)
    track = Tracker(out)
    try:
        c.start(timeout=timeout)
        track(c)
        c.crash(a)
        c.propose(v0, 0)
        track(c)
        first = c.run(timeout=timeout)
        if first.status != "decided":
            raise RuntimeError(f"the first value was not decided: {first.status}")
        c.restart(b, amnesia=True)
        c.crash(cc)
        c.restart(a)
        c.propose(v1, 1)
        track(c)
        caught = c.wait_for(lambda c: any(v.invariant == "agreement" for v in c.violations),
                            timeout)
        track(c)
        out.violations = safety(c)
        out.agreement_caught = caught and any(v.startswith("agreement") for v in out.violations)
        out.decided = True
        out.status = "agreement caught" if out.agreement_caught else \
            f"not caught ({c.run(timeout=0.01).status})"
    except Exception as exc:  # noqa: BLE001
        out.error = f"{type(exc).__name__}: {exc}"
    finally:
        closing(out, c)
    out.elapsed = time.monotonic() - began
    return out


# -- the soak ---------------------------------------------------------------------------------

@dataclass
class Plan:
    sequential: int
    big: int
    batches: int
    faults: int
    negatives: int

    @classmethod
    def make(cls, args) -> Plan:
        runs = args.runs
        batches = max(1, runs // 100)
        big = max(1, runs // 50)
        faults = runs if args.fault_runs is None else args.fault_runs
        return cls(max(0, runs - batches * BATCH - big), big, batches, faults, args.negatives)


def run_one(spec: str, args) -> Outcome:
    kind, _, seed = spec.partition(":")
    seed = int(seed)
    if kind in ("small", "big", "concurrent"):
        return correct_run(kind, seed, args.run_timeout)
    if kind == "fault":
        return fault_run(seed, args.heal_timeout, args.stall)
    if kind == "amnesia":
        return amnesia_run(seed, args.run_timeout)
    raise SystemExit(f"--only {spec}: kind must be small, big, concurrent, fault or amnesia")


def soak(args) -> list[Outcome]:
    plan = Plan.make(args)
    began = time.monotonic()
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def over() -> bool:
        return time.monotonic() - began > args.time_limit

    def note(out: Outcome) -> None:
        with lock:
            outcomes.append(out)
            if len(outcomes) % 10 == 0:
                print(f"  ... {len(outcomes)} runs, {time.monotonic() - began:.0f} s",
                      file=sys.stderr, flush=True)

    if args.only:
        note(run_one(args.only, args))
        return outcomes
    s = args.first_seed
    work = ([("big", s + i) for i in range(plan.big)]
            + [("batch", s + i) for i in range(plan.batches)]
            + [("amnesia", s + i) for i in range(plan.negatives)])
    small = [("small", s + i) for i in range(plan.sequential)]
    faults = [("fault", s + i) for i in range(plan.faults)]
    # interleave, so that a time limit cuts every kind, not just the last one
    order = work[:]
    while small or faults:
        for q in (faults, small):
            if q:
                order.append(q.pop(0))
    for kind, seed in order:
        if over():
            break
        if kind == "batch":
            with ThreadPoolExecutor(BATCH) as pool:
                seeds = [seed * BATCH + i for i in range(BATCH)]
                for out in pool.map(lambda k: correct_run("concurrent", k, args.run_timeout),
                                    seeds):
                    note(out)
        elif kind == "fault":
            note(fault_run(seed, args.heal_timeout, args.stall))
        elif kind == "amnesia":
            note(amnesia_run(seed, args.run_timeout))
        else:
            note(correct_run(kind, seed, args.run_timeout))
    return outcomes


def report(outcomes: list[Outcome], args, hogs_left: list[int], elapsed: float) -> int:
    plan = Plan.make(args)
    correct = [o for o in outcomes if o.kind in ("small", "big", "concurrent")]
    faults = [o for o in outcomes if o.kind == "fault"]
    negatives = [o for o in outcomes if o.kind == "amnesia"]
    false_alarms = [o for o in correct + faults if o.violations]
    caught = [o for o in negatives if o.agreement_caught]
    decided = [o for o in faults if o.decided and not o.error]
    hangs = [o for o in correct + faults if not o.decided and not o.error]
    errors = [o for o in outcomes if o.error]
    left = sorted({p for o in outcomes for p in o.left})
    left = wait_gone(left, 1.0) + hogs_left  # (a pid may have been slow to go)
    pids = sum(len(o.pids) for o in outcomes)
    by = {k: sum(o.kind == k for o in correct) for k in ("small", "big", "concurrent")}

    def pct(a, b):
        return f"{100 * len(a) / len(b):.1f} %" if b else "-"

    print(f"runs                     {len(outcomes)} in {elapsed:.0f} s: {len(correct)} correct "
          f"({by['small']} small, {by['big']} of 101 nodes, {by['concurrent']} concurrent "
          f"11-node), {len(faults)} with faults, {len(negatives)} negative controls")
    print(f"false alarms             {len(false_alarms)}   (target 0)")
    print(f"real violations caught   {len(caught)} of {len(negatives)}   (target all)")
    print(f"correct runs decided     {sum(o.decided for o in correct)} of {len(correct)} = "
          f"{pct([o for o in correct if o.decided], correct)}   (target 100 %)")
    print(f"decided after heal       {len(decided)} of {len(faults)} = {pct(decided, faults)}"
          f"   (target 100 %)")
    print(f"hangs                    {len(hangs)}   (target 0)")
    print(f"errors                   {len(errors)}   (target 0)")
    print(f"leftover processes       {len(left)} of {pids} node pids and {args.hogs} hogs"
          f"   (target 0){': ' + ' '.join(map(str, left)) if left else ''}")
    failures = ([("false alarm", o, "; ".join(o.violations)) for o in false_alarms]
                + [("not caught", o, o.status) for o in negatives if not o.agreement_caught
                   and not o.error]
                + [("hang", o, o.status) for o in hangs]
                + [("error", o, o.error) for o in errors]
                + [("leftover", o, " ".join(map(str, o.left))) for o in outcomes if o.left])
    for what, o, detail in failures[:args.show]:
        print(f"{what}: {o.kind} seed {o.seed} ({o.elapsed:.1f} s): {detail}\n"
              f"  reproduce: {o.reproduce}")
    if len(failures) > args.show:
        print(f"... {len(failures) - args.show} more: "
              + " ".join(f"{o.kind}:{o.seed}" for _, o, _ in failures[args.show:]))
    short = not args.only and (len(correct) < plan.sequential + plan.big + BATCH * plan.batches
                               or len(faults) < plan.faults or len(negatives) < plan.negatives)
    if short:
        print(f"time limit ({args.time_limit:g} s) reached before every run was done")
    missed = (false_alarms or len(caught) < len(negatives) or hangs or errors or left or short)
    print("targets: " + ("MISSED" if missed else "all met"))
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    global REPLY_TIMEOUT, TRACES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200,
                    help="correct runs (default 200)")
    ap.add_argument("--fault-runs", type=int, help="fault runs (default: as many as --runs)")
    ap.add_argument("--negatives", type=int, default=10, help="negative controls (default 10)")
    ap.add_argument("--time-limit", type=float, default=1080.0,
                    help="seconds; no new run starts after it (default 1080)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run of 1-2 minutes: --runs 30 --fault-runs 15 --negatives 2")
    ap.add_argument("--only", metavar="KIND:SEED", help="one run again (as printed)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--run-timeout", type=float, default=60.0,
                    help="s for a correct run or a negative control (default 60)")
    ap.add_argument("--heal-timeout", type=float, default=30.0,
                    help="s for every client to decide after heal (default 30)")
    ap.add_argument("--stall", type=float, default=3.0,
                    help="s without any event after heal that end a fault run (default 3)")
    ap.add_argument("--reply-timeout", type=float, default=REPLY_TIMEOUT,
                    help="Cluster(reply_timeout=): s a node may take over one input (default 30)")
    ap.add_argument("--traces", metavar="DIR", default="",
                    help="write the trace of each failed run to DIR/KIND-SEED.jsonl")
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--show", type=int, default=20, help="failures listed (default 20)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.fault_runs, args.negatives = 30, 15, 2
        args.time_limit = min(args.time_limit, 150.0)

    REPLY_TIMEOUT, TRACES = args.reply_timeout, args.traces

    def terminated(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    plan = Plan.make(args)
    what = (f"{args.only} again" if args.only else
            f"planned {plan.sequential} small, {plan.big} 101-node, {plan.batches}x{BATCH} "
            f"concurrent 11-node correct runs, {plan.faults} fault runs, {plan.negatives} "
            f"negative controls; time limit {args.time_limit:g} s")
    print(f"soak: {args.hogs} busy-loop processes; {what}", flush=True)
    began = time.monotonic()
    hogs = start_hogs(args.hogs)
    try:
        outcomes = soak(args)
    finally:
        stop_hogs(hogs)
    hogs_left = wait_gone([p.pid for p in hogs], 2.0)
    return report(outcomes, args, hogs_left, time.monotonic() - began)


if __name__ == "__main__":
    sys.exit(main())
