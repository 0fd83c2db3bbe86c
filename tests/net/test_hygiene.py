"""Process hygiene: no node outlives its cluster, however the cluster ends; clusters never meet."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from paxos_edu import Config
from paxos_edu.cluster import Cluster
from paxos_edu.net import process
from paxos_edu.net.process import PACKAGE_ROOT

from .helpers import still_running

SMALL = Config(proposers=1, acceptors=3, learners=1)


@pytest.fixture(params=["forked", "spawned"])
def how(request, monkeypatch):
    """Both ways of starting nodes: forked by a launcher (Linux) and started afresh."""
    if request.param == "spawned":
        monkeypatch.setattr(process, "FORK_SERVER", False)
    elif not process.FORK_SERVER:
        pytest.skip("no pidfds here: nodes are always started afresh")
    return request.param


def every_pid(c: Cluster) -> list[int]:
    """The cluster's node processes and its launcher, if any."""
    return c._nodes.procs.pids()


def test_close_stops_every_process_and_removes_the_workdir(how):
    c = Cluster(SMALL)
    c.propose(1)
    c.start()
    pids = every_pid(c)
    assert set(c.pids().values()) <= set(pids)
    assert len(pids) == (7 if how == "forked" else 6) and all(c.alive().values())
    workdir = c.workdir
    assert (workdir / "node-0.log").exists()
    c.close()
    c.close()  # idempotent
    assert still_running(pids) == []
    assert not workdir.exists()
    assert c.closed and not any(c.alive().values())
    with pytest.raises(RuntimeError, match="closed"):
        c.propose(2)


def test_an_exception_inside_the_with_block_still_stops_every_process(how):
    pids = []
    with pytest.raises(ZeroDivisionError), Cluster(SMALL) as c:
        c.start()
        pids = every_pid(c)
        raise ZeroDivisionError("a bug in the lesson's code")
    assert len(pids) >= 5 and still_running(pids) == []


def test_garbage_collection_stops_every_process(how):
    def make() -> list[int]:
        c = Cluster(SMALL)
        c.start()
        return every_pid(c)

    pids = make()
    gc.collect()
    assert still_running(pids) == []


CONTROLLER = textwrap.dedent("""
    import json, sys
    from paxos_edu import Config
    from paxos_edu.cluster import Cluster
    from paxos_edu.net import process
    process.FORK_SERVER = process.FORK_SERVER and sys.argv[2] == "forked"
    c = Cluster(Config(proposers=1, acceptors=3, learners=1), workdir=sys.argv[1])
    c.propose(1)
    c.start()
    c.run(timeout=10)
    print(json.dumps(sorted(c._nodes.procs.pids())), flush=True)
    sys.stdin.read()  # until the test kills us
""")


def test_nodes_exit_by_themselves_when_their_controller_is_sigkilled(tmp_path, how):
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    # The killed controller cannot clean up: its workdir is one pytest removes.
    ctl = subprocess.Popen([sys.executable, "-c", CONTROLLER, str(tmp_path), how],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        pids = json.loads(ctl.stdout.readline())
        assert len(pids) == (7 if how == "forked" else 6) and still_running(pids, timeout=0) == pids
    finally:
        ctl.kill()  # SIGKILL: no atexit, no finalizer, no close()
        ctl.wait()
        ctl.stdin.close()
        ctl.stdout.close()
    assert still_running(pids, timeout=3) == []


TEMP_CONTROLLER = textwrap.dedent("""
    import json, sys
    from paxos_edu import Config
    from paxos_edu.cluster import Cluster
    c = Cluster(Config(proposers=1, acceptors=3, learners=1))
    c.start()
    print(json.dumps([str(c.workdir), c._nodes.procs.pids()]), flush=True)
    sys.stdin.read()  # until the test kills us
""")


def test_a_sigkilled_controller_leaves_no_temporary_folder_behind():
    if not process.FORK_SERVER:
        pytest.skip("only the launcher (Linux) outlives its controller long enough to clean up")
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    ctl = subprocess.Popen([sys.executable, "-c", TEMP_CONTROLLER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, env=env)
    try:
        workdir, pids = json.loads(ctl.stdout.readline())
        assert os.path.isdir(workdir) and len(pids) == 6
    finally:
        ctl.kill()  # SIGKILL: no atexit, no finalizer, no close()
        ctl.wait()
        ctl.stdin.close()
        ctl.stdout.close()
    assert still_running(pids, timeout=5) == []  # the launcher ends last, after removing it
    assert not os.path.exists(workdir)


def test_two_clusters_side_by_side_never_interfere():
    with Cluster(SMALL, key="first") as a, Cluster(SMALL, key="second") as b:
        a.propose(1)
        b.propose(2)
        a.start()
        b.start()
        assert a.run(timeout=10).ok and b.run(timeout=10).ok
        assert a.decided() == {5: 1} and b.decided() == {5: 2}
        assert set(a.addresses().values()).isdisjoint(b.addresses().values())
        assert a.stats()["total"] == b.stats()["total"] == 0
        for trace, foreign in ((a.trace, 2), (b.trace, 1)):
            assert not any(ev["msg"].get("v") == foreign for ev in trace)
        assert set(a.pids().values()).isdisjoint(b.pids().values())


@pytest.mark.parametrize("module", ["paxos_edu.net.node_main", "paxos_edu.net.launcher"])
def test_a_node_process_loads_no_plotting_or_notebook_modules(module):
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    out = subprocess.run([sys.executable, "-S", "-m", module, "--self-check"],
                         capture_output=True, env=env, check=True, timeout=30).stdout
    modules = set(json.loads(out))
    assert {"paxos_edu.core", "paxos_edu.net.endpoint", "asyncio"} <= modules
    heavy = {"matplotlib", "networkx", "ipywidgets", "IPython", "numpy", "tqdm", "pickle",
             "paxos_edu.cluster", "paxos_edu.net.switch", "paxos_edu.viz", "paxos_edu.widgets"}
    assert not modules & heavy, sorted(modules & heavy)


def test_a_cluster_started_from_a_thread_outlives_that_thread(how):
    # Linux sends the parent-death signal when the *thread* that forked a child ends.
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("c", Cluster(SMALL).start()))
    worker.start()
    worker.join()
    with box["c"] as c:
        c.propose(3)
        assert c.run(timeout=10).status == "decided"
        assert all(c.alive().values())


@pytest.mark.parametrize("module", ["paxos_edu.net.node_main", "paxos_edu.net.launcher"])
def test_a_node_process_loads_only_the_core_and_net_parts_of_the_package(module):
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    out = subprocess.run([sys.executable, "-S", "-m", module, "--self-check"],
                         capture_output=True, env=env, check=True, timeout=30).stdout
    ours = {m for m in json.loads(out) if m.startswith("paxos_edu.")}
    assert {m for m in ours if not m.startswith(("paxos_edu.core", "paxos_edu.net"))} == set()
