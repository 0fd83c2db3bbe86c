"""The ``paxos-edu`` command (also ``python -m paxos_edu``).

Subcommands: ``demo`` (a told run in the terminal), ``run`` (any configuration,
``--json`` for scripts), ``elect`` (Chang-Roberts alone), ``explore`` (the
exhaustive checker) and ``node`` (one node of a run across machines).
``--sim`` uses the in-process simulator; otherwise nodes are real UDP processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

from .core.config import Config, Value
from .hosts import HostsError, read_hosts
from .narrate import Narrator, summary
from .trace import message_counts


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, 1 for a failed run)."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, HostsError) as exc:
        print(f"paxos-edu: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# -- argument parsing -----------------------------------------------------------------------
def _client(text: str) -> tuple[Value, int]:
    """``VALUE[:PROPOSER_INDEX]``; integers stay integers."""
    value, _, index = text.rpartition(":") if ":" in text else (text, "", "0")
    if not value:
        raise argparse.ArgumentTypeError(f"--client {text!r}: expected VALUE[:PROPOSER_INDEX]")
    try:
        k = int(index)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--client {text!r}: proposer index {index!r} is not an integer") from None
    if k < 0:
        raise argparse.ArgumentTypeError(f"--client {text!r}: proposer index must be >= 0")
    return (int(value) if value.lstrip("-").isdigit() else value, k)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paxos-edu", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def backend(sp):
        sp.add_argument("--sim", action="store_true",
                        help="use the in-process simulator instead of real UDP processes")
        sp.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        sp.add_argument("--timeout", type=float, default=10.0,
                        help="give up after this many seconds (default 10)")

    demo = sub.add_parser("demo", help="watch a real cluster elect a leader and decide")
    backend(demo)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run one configuration and report the outcome")
    run.add_argument("--proposers", type=int, default=1)
    run.add_argument("--acceptors", type=int, default=3)
    run.add_argument("--learners", type=int, default=1)
    run.add_argument("--client", type=_client, action="append", default=[],
                     metavar="VALUE[:K]", help="a client asking proposer index K for VALUE")
    run.add_argument("--crash", type=int, action="append", default=[], metavar="UID",
                     help="crash this node once roles are assigned (repeatable)")
    run.add_argument("--hosts", help="read counts and addresses from a classic hosts.txt")
    run.add_argument("--mode", choices=("run", "step"), default="run")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    backend(run)
    run.set_defaults(func=cmd_run)

    elect = sub.add_parser("elect", help="Chang-Roberts leader election alone")
    elect.add_argument("--nodes", type=int, default=5)
    elect.add_argument("--order", choices=("ascending", "descending", "random"),
                       default="ascending")
    elect.add_argument("--json", action="store_true")
    backend(elect)
    elect.set_defaults(func=cmd_elect)

    ex = sub.add_parser("explore", help="check every schedule of a small system")
    ex.add_argument("--proposers", type=int, default=2)
    ex.add_argument("--acceptors", type=int, default=3)
    ex.add_argument("--numbers", type=int, default=2,
                    help="sequence numbers the proposers may use in all (default 2)")
    ex.add_argument("--restarts", type=int, default=0, help="acceptor restarts allowed")
    ex.add_argument("--amnesia", action="store_true", help="restarted acceptors forget")
    ex.add_argument("--max-states", type=int, default=None)
    ex.set_defaults(func=cmd_explore)

    node = sub.add_parser("node", help="run one node of a run across machines")
    node.add_argument("--hosts", required=True)
    node.add_argument("--id", type=int, required=True)
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
    from .explorer import explore

    cfg = Config(args.proposers, args.acceptors, 1)
    result = explore(cfg, numbers=args.numbers, restarts=args.restarts, amnesia=args.amnesia,
                     max_states=args.max_states, progress=sys.stderr.isatty())
    print(result)
    return 0 if result.ok else 1


def cmd_node(args) -> int:
    from .net.node_main import run_from_hosts

    key = args.key if args.key_file is None else _passphrase_from(args.key_file)
    return run_from_hosts(read_hosts(args.hosts), args.id, key, list(args.client),
                          state_dir=args.state_dir)


def _passphrase_from(path: str) -> str:
    """The first line of the file at ``path``, without its line ending (ValueError if unusable)."""
    try:
        with open(path, encoding="utf-8") as f:
            line = f.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--key-file {path}: cannot read it ({exc})") from None
    if not line:
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
