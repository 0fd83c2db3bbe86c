"""The real thing: node processes talking signed UDP through the controller's switch.

- ``node_main``: the entry point of one node process (``python -m paxos_edu.net.node_main``);
- ``endpoint``: the asyncio driver that runs one ``core`` node and performs its effects;
- ``storage``: atomic, fsynced JSON files (an acceptor's stable storage);
- ``control``: what nodes report to the controller, and the commands it sends them;
- ``spec``: a Config and role overrides as plain JSON, for the trip to a node process;
- ``launcher``: the process that forks node processes (Linux), so a cluster starts fast;
- ``warmup``: the whole run the launcher rehearses before forking, so nodes start warm;
- ``process``: starting and stopping node processes, by pid (controller side);
- ``nodes``: one cluster's live processes: spawn, command, wait, notice deaths (controller side);
- ``switch``: the controller's UDP switch, trace and pending items (controller side).

Node processes import this package, so it imports nothing itself: the controller
side (threads, subprocess) never loads into a node.
"""
