"""Real node processes on 127.0.0.1: the Cluster, the switch, hostile input, process hygiene."""
