"""The ``paxos-edu`` command (also ``python -m paxos_edu``).

Subcommands: ``demo`` (a told run in the terminal), ``run`` (any configuration,
``--json`` for scripts), ``elect`` (Chang-Roberts alone), ``explore`` (the
exhaustive checker) and ``node`` (one node of a run across machines).
``--sim`` uses the in-process simulator; otherwise nodes are real UDP processes.
``lessons``, ``lab`` and ``classroom`` copy the lessons out and open them
(``paxos_edu.lessons``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from .core.config import Config, Value
from .hosts import HostsError, read_hosts
from .lessons import add_commands as add_lesson_commands
from .narrate import Narrator, summary
from .trace import message_counts

HELP = ("Learn Basic Paxos and Chang-Roberts leader election on real UDP nodes: "
        "a demo, runs of any configuration, the election alone, the exhaustive checker, "
        "one node of a run across machines, and the lessons to copy and open in JupyterLab "
        "or Voila. Also: python -m paxos_edu.")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, 1 for a failed run).

    Bad input (an option, a hosts file, a key file, a state directory) is found before
    any process starts and told in one line naming the option, or the file and line.
    """
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except _UsageError as exc:
        print(f"paxos-edu: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, HostsError) as exc:
        print(f"paxos-edu: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _UsageError(Exception):
    """A bad command line, already worded as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line (no usage block) and exit status 2."""

    def error(self, message: str):
        what = self.prog.removeprefix("paxos-edu").strip()
        raise _UsageError(f"{what + ': ' if what else ''}{message} (see {self.prog} --help)")


# -- argument parsing -----------------------------------------------------------------------
INTEGER = re.compile(r"-?[0-9]+")
"""An integer on the command line: ASCII digits only (int() would also take '١')."""


def _integer(text: str) -> int:
    if not INTEGER.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)")
    return int(text)


def _at_least(lo: int):
    def check(text: str) -> int:
        k = _integer(text)
        if k < lo:
            raise argparse.ArgumentTypeError(f"{text!r} must be {lo} or more")
        return k
    check.__name__ = f"at_least_{lo}"
    return check


def _seconds(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return x


def _client(text: str) -> tuple[Value, int]:
    """``VALUE[:PROPOSER_INDEX]``; integers (ASCII digits) stay integers."""
    value, _, index = text.rpartition(":") if ":" in text else (text, "", "0")
    if not value:
        raise argparse.ArgumentTypeError(f"--client {text!r}: expected VALUE[:PROPOSER_INDEX]")
    if not INTEGER.fullmatch(index):
        raise argparse.ArgumentTypeError(
            f"--client {text!r}: proposer index {index!r} is not an integer")
    k = int(index)
    if k < 0:
        raise argparse.ArgumentTypeError(f"--client {text!r}: proposer index must be >= 0")
    return (int(value) if INTEGER.fullmatch(value) else value, k)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="paxos-edu", description=HELP)
    sub = p.add_subparsers(dest="command", required=True)

    def backend(sp):
        sp.add_argument("--sim", action="store_true",
                        help="use the in-process simulator instead of real UDP processes")
        sp.add_argument("--seed", type=_integer, default=1, help="random seed (default 1)")
        sp.add_argument("--timeout", type=_seconds, default=10.0,
                        help="give up after this many seconds (default 10)")

    demo = sub.add_parser("demo", help="watch a real cluster elect a leader and decide")
    backend(demo)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run one configuration and report the outcome")
    run.add_argument("--proposers", type=_integer, default=1)
    run.add_argument("--acceptors", type=_integer, default=3)
    run.add_argument("--learners", type=_integer, default=1)
    run.add_argument("--client", type=_client, action="append", default=[],
                     metavar="VALUE[:K]", help="a client asking proposer index K for VALUE")
    run.add_argument("--crash", type=_integer, action="append", default=[], metavar="UID",
                     help="crash this node once roles are assigned (repeatable)")
    run.add_argument("--hosts", help="read counts and addresses from a classic hosts.txt")
    run.add_argument("--mode", choices=("run", "step"), default="run")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    backend(run)
    run.set_defaults(func=cmd_run)

    elect = sub.add_parser("elect", help="Chang-Roberts leader election alone")
    elect.add_argument("--nodes", type=_integer, default=5)
    elect.add_argument("--order", choices=("ascending", "descending", "random"),
                       default="ascending")
    elect.add_argument("--json", action="store_true")
    backend(elect)
    elect.set_defaults(func=cmd_elect)

    ex = sub.add_parser("explore", help="check every schedule of a small system")
    ex.add_argument("--proposers", type=_at_least(1), default=2)
    ex.add_argument("--acceptors", type=_at_least(1), default=3)
    ex.add_argument("--numbers", type=_at_least(1), default=2,
                    help="sequence numbers the proposers may use in all (default 2)")
    ex.add_argument("--restarts", type=_at_least(0), default=0, help="acceptor restarts allowed")
    ex.add_argument("--amnesia", action="store_true", help="restarted acceptors forget")
    ex.add_argument("--max-states", type=_at_least(1), default=None)
    ex.add_argument("--recovery", action="store_true",
                    help="check instead that every lossy election and set-up heals "
                         "(1 proposer, 1 acceptor, 1 learner, 1 client)")
    ex.add_argument("--losses", type=_at_least(0), default=2,
                    help="with --recovery: messages that may be lost (default 2)")
    ex.add_argument("--max-depth", type=_at_least(1), default=16,
                    help="with --recovery: steps explored before healing (default 16)")
    ex.set_defaults(func=cmd_explore)

    node = sub.add_parser("node", help="run one node of a run across machines")
    node.add_argument("--hosts", required=True)
    node.add_argument("--id", type=_at_least(0), required=True)
    secret = node.add_mutually_exclusive_group(required=True)
    secret.add_argument("--key", help="passphrase shared by every machine (visible in ps)")
    secret.add_argument("--key-file", metavar="PATH",
                        help="a file whose first line is the passphrase (kept out of ps)")
    node.add_argument("--client", type=_client, action="append", default=[],
                      metavar="VALUE[:K]",
                      help="a client node's own value, or one value per cli line in file order")
    node.add_argument("--state-dir", default=None,
                      help="keep stable storage here (default: a temporary folder)")
    node.set_defaults(func=cmd_node)
    add_lesson_commands(sub)
    return p


# -- commands -------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    cfg = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))
    where = "in-process simulator" if args.sim else "real UDP processes on 127.0.0.1"
    print(f"paxos-edu demo: {cfg.proposers} proposers, {cfg.acceptors} acceptors, "
          f"{cfg.learners} learner, {len(cfg.clients)} clients ({where})")
    print("Two clients ask two different proposers for 210 and 220; Paxos must pick one.")
    outcome = _execute(cfg, args, narrate=True)
    return 0 if outcome["decided"] and not outcome["violations"] else 1


def cmd_run(args) -> int:
    clients = list(args.client)
    if args.hosts:
        hosts = read_hosts(args.hosts)
        cfg = hosts.config(clients)
        if not args.sim:
            hosts.check_here()  # another machine, or a fixed port taken: say so, start nothing
        args.hosts_data = hosts
    else:
        cfg = Config(args.proposers, args.acceptors, args.learners,
                     clients=tuple(clients) or ((210, 0),))
        args.hosts_data = None
    for uid in args.crash:
        if not 0 <= uid < cfg.n_consensus:
            raise ValueError(f"--crash {uid}: no such consensus node (uids 0..{cfg.n_consensus - 1})")
    outcome = _execute(cfg, args, narrate=not (args.json or args.quiet))
    if args.json:
        print(json.dumps(outcome))
    return 0 if outcome["decided"] and not outcome["violations"] else 1


def cmd_elect(args) -> int:
    if args.nodes < 3:
        raise ValueError(f"--nodes {args.nodes}: at least 3 (a proposer, an acceptor, a learner)")
    cfg = Config(args.nodes - 2, 1, 1, ring=args.order, ring_seed=args.seed)
    started = time.perf_counter()
    if args.sim:
        from .sim import Simulation

        sim = Simulation(cfg, seed=args.seed).start()
        while sim.leader() is None and (messages := [p for p in sim.pending()
                                                     if p.kind == "Message"]):
            sim.deliver(messages[0].id)  # FIFO links: the oldest message first
        trace, leader = sim.trace, sim.leader()
    else:
        from .cluster import Cluster

        with Cluster(cfg, mode="run") as cluster:
            cluster.start()
            trace, leader = cluster.trace, cluster.leader()
    n = args.nodes
    tokens = sum(1 for ev in trace if ev["kind"] == "send" and ev["msg"]["type"] == "Token")
    out = {"leader": leader, "messages": {"Token": tokens}, "nodes": n, "order": args.order,
           "ring": list(cfg.ring_order), "best": 2 * n - 1, "worst": n * (n + 1) // 2,
           "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
           "backend": "sim" if args.sim else "udp"}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"ring {' -> '.join(map(str, cfg.ring_order))} -> {cfg.ring_order[0]}")
        print(f"leader {leader} after {tokens} token messages "
              f"(best 2n-1 = {2 * n - 1}, worst n(n+1)/2 = {n * (n + 1) // 2})")
    return 0 if leader == n - 1 else 1


def cmd_explore(args) -> int:
    if args.recovery:
        from .recovery import explore_recovery

        result = explore_recovery(losses=args.losses, max_depth=args.max_depth,
                                  max_states=args.max_states)
        print(result)
        return 0 if result.ok else 1
    from .explorer import explore

    cfg = Config(args.proposers, args.acceptors, 1)
    result = explore(cfg, numbers=args.numbers, restarts=args.restarts, amnesia=args.amnesia,
                     max_states=args.max_states, progress=sys.stderr.isatty())
    print(result)
    return 0 if result.ok else 1


def cmd_node(args) -> int:
    from .net.node_main import run_from_hosts

    key = args.key if args.key_file is None else _passphrase_from(args.key_file)
    if args.key is not None and not args.key:
        raise ValueError("--key: the passphrase is empty")
    hosts = read_hosts(args.hosts)
    hosts.address(args.id)  # ValueError naming the uids the file has
    if args.state_dir is not None:
        _check_state_dir(args.state_dir, args.id, hosts.config())
    return run_from_hosts(hosts, args.id, key, list(args.client), state_dir=args.state_dir)


def _check_state_dir(path: str, uid: int, config: Config) -> None:
    """``--state-dir``: a directory (or one that can be made) this user can write; the node's
    state file in it, if any, well-formed (StateError naming the file and field)."""
    from .net import storage

    where = Path(path)
    if where.exists() and not where.is_dir():
        raise ValueError(f"--state-dir {path}: is a file, not a directory")
    if not where.exists():
        parent = next((p for p in where.parents if p.exists()), Path("."))
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"--state-dir {path}: cannot be created ({parent} is not a "
                             "writable directory)")
        return
    if not os.access(where, os.W_OK | os.X_OK):
        raise ValueError(f"--state-dir {path}: this user cannot write there")
    storage.load(str(where / f"node-{uid}.json"), config)


def _passphrase_from(path: str) -> str:
    """The first line of the file at ``path``, without its line ending or a BOM (ValueError
    naming the file and line if unusable); the rest of the file is never read as text."""
    try:
        with open(path, "rb") as f:
            first = f.readline(65536)
    except OSError as exc:
        raise ValueError(f"--key-file {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise ValueError(f"--key-file {path}:1: byte 0x{first[exc.start]:02x} is not UTF-8 text "
                         "(save the file as UTF-8)") from None
    if not line.strip():
        raise ValueError(f"--key-file {path}: its first line (the passphrase) is empty")
    return line


# -- running one configuration --------------------------------------------------------------
def _execute(cfg: Config, args, narrate: bool) -> dict:
    started = time.perf_counter()
    teller = Narrator()
    shown = 0

    def tell(trace) -> None:
        nonlocal shown
        if narrate:
            for ev in trace[shown:]:
                for line in teller.lines(ev):
                    print(line, flush=True)
        shown = len(trace)

    if args.sim:
        from .sim import Simulation

        run = Simulation(cfg, seed=args.seed).start()
        _setup(run, tell)
        for uid in getattr(args, "crash", []):
            run.crash(uid)
        deadline = args.timeout * 1000
        while not run.all_decided() and run.now < deadline and run.step() is not None:
            tell(run.trace)
        status = _status(run, cfg)
        result = _outcome(run, cfg, started, status)
    else:
        from .cluster import Cluster

        crash = getattr(args, "crash", [])
        # With crashes, clients join after them, so a crash lands before any request.
        with Cluster(replace(cfg, clients=()) if crash else cfg,
                     mode=getattr(args, "mode", "run"),
                     hosts=getattr(args, "hosts_data", None)) as run:
            run.start()
            tell(run.trace)
            for uid in crash:
                run.crash(uid)
            for value, index in cfg.clients if crash else ():
                run.propose(value, proposer=index)
            # Tell each event as the switch records it, not after the run.
            res = run.run(until=lambda c: tell(c.trace) or c.all_decided(),
                          timeout=args.timeout)
            status = _status(run, cfg) if res.status == "reached" else res.status
            if status == "decided":  # let rounds still in flight finish, to tell them too
                run.wait_for(lambda c: tell(c.trace) or _settled(c), timeout=1.0)
            result = _outcome(run, cfg, started, status)
    tell(result.pop("_trace"))
    if narrate:
        for line in summary(run.trace, result["decided"], cfg.n_consensus):
            print(line)
        print(f"Status: {result['status']} ({result['elapsed_ms']:.0f} ms)")
    return result


def _setup(sim, tell) -> None:
    """Deliver the election and the role assignment first (FIFO), as a real start() does."""
    while any(p.msg.type in ("Token", "Roles") for p in sim.pending()):
        item = next(p for p in sim.pending() if p.msg.type in ("Token", "Roles"))
        sim.deliver(item.id)
        tell(sim.trace)


def _settled(run) -> bool:
    """Every proposer has finished its round (or never started one)."""
    return all(s.get("status") in ("done", "idle") for s in run.snapshot().values()
               if s.get("role") == "proposer")


def _status(run, cfg: Config) -> str:
    if run.all_decided():
        return "decided"
    return run.impossible() or "timeout: no decision yet"


def _outcome(run, cfg: Config, started: float, status: str) -> dict:
    roles = cfg.roles(cfg.n_consensus - 1)
    counts = message_counts(run.trace)
    from .trace import check_safety

    return {
        "leader": run.leader(),
        "roles": {"proposers": list(roles.proposers), "acceptors": list(roles.acceptors),
                  "learners": list(roles.learners), "clients": list(cfg.client_uids)},
        "decided": {str(k): v for k, v in sorted(run.decided().items())},
        "messages": {"by_kind": counts["by_kind"], "by_phase": counts["by_phase"]},
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        "violations": [str(v) for v in check_safety(run.trace)],
        "status": status,
        "_trace": run.trace,
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
