"""Speed of the explorer and of the exercise checker.

``python benchmarks/bench_explore.py [quick]`` prints, for 2 proposers x 3 acceptors
(the lessons' and ``exercises.check``'s system):

- states per second of ``explore`` with 2 proposal numbers, as the lessons run it
  (complete: 37,495 states), and with ``reduce=True`` without and with the acceptor
  symmetry (``check`` runs it with);
- the complete exploration with 3 numbers, ``reduce=True`` and the symmetry (678,946
  states up to acceptor renaming; the target is 30 s on the shared 2-core machine),
  and for comparison the same without the symmetry, cut at 600,000 states (complete,
  it is 4,035,024 states and minutes); ``quick`` skips both;
- seconds per ``exercises.check`` call for a right rule (the reference) and for
  wrong ones (first reported value, which a scripted schedule breaks, and
  ``should_accept`` as ``n > promised``, which only the lossy runs catch).

Wall-clock seconds and CPU seconds (process time, which other work on the
machine does not inflate) are both shown; states per second are per CPU second.
"""

from __future__ import annotations

import sys
import time

from paxos_edu.exercises import check
from paxos_edu.explorer import DEFAULT, explore


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def first_reported(acks, mine):
    return next((v for n, v in acks if n > 0), mine)


def main(quick: bool) -> None:
    print(f"{'exploration (2 proposers x 3 acceptors)':<44} {'states':>10} {'complete':>9} "
          f"{'wall s':>7} {'cpu s':>7} {'states/s (cpu)':>15}")
    runs = [("2 numbers", dict(numbers=2)),
            ("2 numbers, reduce", dict(numbers=2, reduce=True, symmetry=False)),
            ("2 numbers, reduce, symmetry", dict(numbers=2, reduce=True))]
    if not quick:
        runs += [("3 numbers, reduce, symmetry", dict(numbers=3, reduce=True)),
                 ("3 numbers, reduce (cut at 600,000 states)",
                  dict(numbers=3, reduce=True, symmetry=False, max_states=600_000))]
    for name, kwargs in runs:
        result, wall, cpu = timed(lambda kw=kwargs: explore(DEFAULT, progress=False, **kw))
        assert result.ok, result
        print(f"{name:<44} {result.states:>10,} {str(result.complete):>9} {wall:>7.1f} "
              f"{cpu:>7.1f} {result.states / cpu:>15,.0f}", flush=True)
    print(f"\n{'exercises.check call':<44} {'verdict':>10} {'wall s':>7} {'cpu s':>7}")
    calls = [("reference rules (right)", {}),
             ("choose_value: first reported (wrong)", dict(choose_value=first_reported)),
             ("should_accept: n > promised (wrong, live)", dict(
                 should_accept=lambda promised, n: n > promised))]
    for name, kwargs in calls:
        report, wall, cpu = timed(lambda kw=kwargs: check(progress=False, **kw))
        print(f"{name:<44} {'PASSED' if report.passed else 'FAILED':>10} {wall:>7.2f} "
              f"{cpu:>7.2f}", flush=True)


if __name__ == "__main__":
    main("quick" in sys.argv[1:])
