"""The real thing: node processes talking signed UDP through the controller's switch.

- ``node_main``: the entry point of one node process (``python -m paxos_edu.net.node_main``);
- ``perform``: the one effect interpreter (a node's effects, in order, on a sink);
- ``asyncnode``: the asyncio base of both node processes (timers on the loop, storage);
- ``endpoint``: the node process behind the controller's switch;
- ``direct``: the node process that talks straight to its peers (across machines);
- ``storage``: atomic, fsynced JSON files (an acceptor's stable storage);
- ``control``: what nodes report to the controller, and the commands it sends them;
- ``spec``: a Config and role overrides as plain JSON, for the trip to a node process;
- ``launcher``: the process that forks node processes (Linux), so a cluster starts fast;
- ``warmup``: the whole run the launcher rehearses before forking, so nodes start warm;
- ``process``: starting and stopping node processes, by pid (controller side);
- ``nodes``: one cluster's live processes: spawn, command, wait, notice deaths (controller side);
- ``switch``: the controller's UDP switch, over the driver-neutral ``paxos_edu.ledger``,
  with its parts ``datagrams`` (socket thread), ``routing`` (faults, held and due
  deliveries), ``reports`` and ``causal`` (node reports in causal order) (controller side);
- ``resources``: a cluster's key, work directory, bind addresses and shutdown (controller side).

Node processes import this package, so it imports nothing itself: the controller
side (threads, subprocess) never loads into a node.
"""
