"""Seeded simulator schedules with every fault on every phase, then heal: safe? all decided?

Each schedule (``heal_schedule`` in tests/core/faults.py) starts at ``Simulation.start()``,
so drops, duplicates, delays, early timers, crashes and restarts (any proposer or
learner, a minority of acceptors) and partitions reach the election tokens and the
leader's ``Roles`` as well as Paxos; then the partitions heal, every crashed node
restarts and the simulator runs to quiescence.

    python benchmarks/sim_schedules.py [--schedules 10000] [--first-seed 0] [--time-limit 600]

Prints the schedules run, the violations (target 0), the share decided after heal (target
100 %), why the others stopped, and the seeds of failures with a reproduction. Exit status
0 only if every target is met.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.faults import heal_schedule  # noqa: E402  (tests/core/faults.py)

SETUP_KINDS = {"Token", "Roles", "AskRoles"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schedules", type=int, default=10_000)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds (default 600)")
    ap.add_argument("--show", type=int, default=10, help="failures listed by seed (default 10)")
    args = ap.parse_args(argv)

    began = time.monotonic()
    done = decided = 0
    spared = spared_decided = 0  # schedules that lost no election or setup message
    unsafe, undecided = [], []
    stuck: Counter[str] = Counter()
    for seed in range(args.first_seed, args.first_seed + args.schedules):
        if time.monotonic() - began > args.time_limit:
            break
        out = heal_schedule(seed)
        done += 1
        decided += out.decided
        if not SETUP_KINDS & set(out.lost):
            spared += 1
            spared_decided += out.decided
        if out.violations:
            unsafe.append(out)
        if not out.decided:
            undecided.append(out)
            stuck[out.stuck.split(":")[0]] += 1
    elapsed = time.monotonic() - began

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.1f} %" if b else "-"

    print(f"schedules            {done} (seeds {args.first_seed}..{args.first_seed + done - 1}, "
          f"{elapsed:.1f} s)")
    print(f"violations           {len(unsafe)}   (target 0)")
    print(f"decided after heal   {decided} of {done} = {pct(decided, done)}   (target 100 %)")
    print(f"  of those that lost no Token/Roles/AskRoles: {spared_decided} of {spared} = "
          f"{pct(spared_decided, spared)}")
    print(f"  of those that lost one: {decided - spared_decided} of {done - spared} = "
          f"{pct(decided - spared_decided, done - spared)}")
    for why, n in stuck.most_common():
        print(f"  not decided: {why}: {n}")
    for title, outs in (("unsafe", unsafe), ("undecided", undecided)):
        for out in outs[:args.show]:
            print(f"{title} seed {out.seed}: {'; '.join(out.violations) or out.stuck} "
                  f"(lost {', '.join(out.lost) or 'nothing'})\n  reproduce: {out.reproduce}")
        if len(outs) > args.show:
            print(f"  ... {len(outs) - args.show} more {title}: seeds "
                  f"{' '.join(str(o.seed) for o in outs[args.show:args.show + 40])}"
                  f"{' ...' if len(outs) > args.show + 40 else ''}")
    short = done < args.schedules
    if short:
        print(f"time limit: {done} of {args.schedules} schedules run")
    return 1 if unsafe or undecided or short else 0


if __name__ == "__main__":
    sys.exit(main())
