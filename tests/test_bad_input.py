"""Bad input is refused before anything starts: exit 2 and one line naming the file, line
and field (or the option); damaged stable storage is refused by name, never forgotten.

The tables below are the rule's examples: command-line options, hosts.txt contents,
Config(...) arguments, key files, state directories and state files.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from paxos_edu import Cluster, Config
from paxos_edu.cli import main
from paxos_edu.core.stored import StateError, check_state
from paxos_edu.net import storage

GOOD_HOSTS = "PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\n" + "127.0.0.1 0 con\n" * 3
COUNTS = "PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\n"
NODE_HOSTS = COUNTS + "".join(f"127.0.0.1 {47101 + i} con\n" for i in range(3))
"""Fixed ports, as ``paxos-edu node`` needs (never bound here: every case fails first)."""
ROLES = {"type": "Roles", "leader": 2, "proposers": [0], "acceptors": [1], "learners": [2],
         "clients": []}


def one_line_error(capsys, argv) -> str:
    """Run the command line in-process; it must exit 2 with exactly one line on stderr."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and err.startswith("paxos-edu: error: "), err
    assert "Traceback" not in err and "usage:" not in err
    return err


# -- command-line options -------------------------------------------------------------------
OPTIONS = [
    (["run", "--sim", "--timeout", "-1"], ["--timeout", "'-1'", "positive"]),
    (["run", "--sim", "--timeout", "0"], ["--timeout", "positive"]),
    (["run", "--sim", "--timeout", "nan"], ["--timeout", "'nan'"]),
    (["run", "--sim", "--timeout", "inf"], ["--timeout", "'inf'"]),
    (["run", "--sim", "--timeout", "soon"], ["--timeout", "'soon'"]),
    (["demo", "--sim", "--timeout", "-5"], ["--timeout"]),
    (["elect", "--sim", "--timeout", "-inf"], ["--timeout"]),
    (["run", "--sim", "--seed", "x"], ["--seed", "'x'"]),
    (["run", "--sim", "--proposers", "١"], ["--proposers", "'١'", "digits 0-9"]),
    (["run", "--sim", "--proposers", "²"], ["--proposers", "'²'"]),
    (["run", "--sim", "--acceptors", "0"], ["acceptors=0"]),
    (["run", "--sim", "--learners", "-2"], ["learners=-2"]),
    (["run", "--sim", "--proposers", "1001"], ["proposers=1001"]),
    (["run", "--sim", "--crash", "99"], ["--crash 99"]),
    (["run", "--sim", "--crash", "one"], ["--crash", "'one'"]),
    (["run", "--sim", "--client", "210:x"], ["--client", "proposer index 'x'"]),
    (["run", "--sim", "--client", "210:-1"], ["--client", "proposer index must be >= 0"]),
    (["run", "--sim", "--client", ":1"], ["--client", "VALUE[:PROPOSER_INDEX]"]),
    (["run", "--sim", "--client", "5:²"], ["--client", "'²'"]),
    (["run", "--sim", "--client", "x" * 300], ["clients[0] value"]),
    (["run", "--sim", "--mode", "fast"], ["--mode", "'fast'"]),
    (["run", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["elect", "--sim", "--nodes", "2"], ["--nodes 2", "at least 3"]),
    (["elect", "--sim", "--nodes", "٣"], ["--nodes", "'٣'"]),
    (["elect", "--sim", "--order", "sideways"], ["--order", "'sideways'"]),
    (["explore", "--numbers", "-1"], ["--numbers", "'-1'", "1 or more"]),
    (["explore", "--numbers", "0"], ["--numbers", "1 or more"]),
    (["explore", "--max-states", "-5"], ["--max-states", "'-5'"]),
    (["explore", "--max-states", "0"], ["--max-states"]),
    (["explore", "--restarts", "-1"], ["--restarts", "0 or more"]),
    (["explore", "--proposers", "0"], ["--proposers", "1 or more"]),
    (["explore", "--acceptors", "many"], ["--acceptors", "'many'"]),
    (["node", "--hosts", "h.txt", "--id", "0"], ["--key", "required"]),
    (["node", "--hosts", "h.txt", "--id", "-1", "--key", "k"], ["--id", "'-1'"]),
    ([], ["required"]),
    (["fly"], ["invalid choice: 'fly'"]),
]


@pytest.mark.parametrize("argv,words", OPTIONS, ids=[" ".join(a) or "(none)" for a, _ in OPTIONS])
def test_a_bad_option_is_one_line_and_exit_2(capsys, argv, words):
    err = one_line_error(capsys, argv)
    for word in words:
        assert word in err, (word, err)


# -- hosts.txt ------------------------------------------------------------------------------
HOSTS = [
    (b"PROPOSERS \xc2\xb2\n", ["hosts.txt:1:", "PROPOSERS", "'PROPOSERS \u00b2'"]),
    ("PROPOSERS \u0661\n".encode(), ["hosts.txt:1:", "PROPOSERS"]),
    (b"PROPOSERS 1\nACCEPTORS x\n", ["hosts.txt:2:", "ACCEPTORS"]),
    (b"PROPOSERS 0\n", ["hosts.txt:1:", "count >= 1"]),
    (b"PROPOSERS 1\nPROPOSERS 2\n", ["hosts.txt:2:", "PROPOSERS given twice"]),
    (b"PROPOSERS 1\n# caf\xe9\n", ["hosts.txt:2:", "byte 0xe9", "UTF-8"]),
    (b"\xff\xfeP\x00", ["hosts.txt:1:", "byte 0xff"]),
    (COUNTS.encode() + b"127.0.0.1 99999 con\n", ["hosts.txt:4:", "port '99999'"]),
    (COUNTS.encode() + "127.0.0.1 ٥ con\n".encode(), ["hosts.txt:4:", "port '٥'"]),
    (COUNTS.encode() + b"127.0.0.1 1 foo\n", ["hosts.txt:4:", "node kind 'foo'"]),
    (COUNTS.encode() + b"127.0.0.1 1\n", ["hosts.txt:4:", "host port con|cli"]),
    (COUNTS.encode() + b"bad_host! 0 con\n", ["hosts.txt:4:", "host 'bad_host!'"]),
    (COUNTS.encode() + b"127.0.0.1 0 con\n", ["hosts.txt", "= 3 but there are 1 'con'"]),
    (COUNTS.encode() + b"127.0.0.1 0 cli\n127.0.0.1 0 con\n", ["hosts.txt:5:", "before clients"]),
    (b"PROPOSERS 1\nLEARNERS 1\n", ["hosts.txt", "ACCEPTORS <count>"]),
    (COUNTS.encode() + b"127.0.0.1 5000 con\n" * 3, ["hosts.txt:5:", "used twice", "line 4"]),
    (COUNTS.encode() + b"127.0.0.1 0 con\n127.0.0.1 0 con\n10.1.2.3 0 con\n",
     ["hosts.txt:6:", "10.1.2.3", "another machine", "paxos-edu node", "--id 2"]),
    (COUNTS.encode() + b"127.0.0.1 0 con\n::1 0 con\n127.0.0.1 0 con\n",
     ["hosts.txt:5:", "::1", "127.x.x.x or localhost only"]),
    (COUNTS.encode() + b"127.0.0.1 0 con\n" * 3 + b"pc-7.lab 0 cli\n",
     ["hosts.txt:7:", "pc-7.lab", "--id 3"]),
]


@pytest.mark.parametrize("content,words", HOSTS, ids=[repr(c[:40]) for c, _ in HOSTS])
def test_a_bad_hosts_file_is_one_line_naming_its_line(tmp_path, capsys, content, words):
    path = tmp_path / "hosts.txt"
    path.write_bytes(content)
    err = one_line_error(capsys, ["run", "--hosts", str(path)])
    for word in words:
        assert word in err, (word, err)


def test_a_bom_is_not_part_of_line_1(tmp_path, capsys):
    path = tmp_path / "hosts.txt"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_HOSTS.encode() + b"127.0.0.1 0 cli\n")
    assert main(["run", "--sim", "--hosts", str(path), "--client", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decided"] == {"3": 7}


def test_a_fixed_port_in_use_is_named_before_any_process_starts(tmp_path, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        path = tmp_path / "hosts.txt"
        path.write_text(COUNTS + "127.0.0.1 0 con\n" + f"127.0.0.1 {port} con\n"
                        + "127.0.0.1 0 con\n")
        err = one_line_error(capsys, ["run", "--hosts", str(path)])
    assert "hosts.txt:5:" in err and f"port {port}" in err and "in use" in err


def test_a_missing_hosts_file_is_named(tmp_path, capsys):
    err = one_line_error(capsys, ["run", "--hosts", str(tmp_path / "nope.txt")])
    assert "nope.txt" in err and "cannot read" in err


# -- Config(...) ------------------------------------------------------------------------------
CONFIGS = [
    (dict(proposers=0), "proposers=0"),
    (dict(proposers=True), "proposers=True"),
    (dict(acceptors=2.0), "acceptors=2.0"),
    (dict(learners="1"), "learners='1'"),
    (dict(proposers=600, acceptors=600), "at most 1000"),
    (dict(clients=5), "clients=5"),
    (dict(clients="ab"), "clients='ab'"),
    (dict(clients=[(1, 2, 3)]), "clients[0]"),
    (dict(clients=[(1.5, 0)]), "clients[0] value 1.5"),
    (dict(clients=[(1, -1)]), "clients[0] proposer index -1"),
    (dict(clients=[(1, True)]), "clients[0] proposer index True"),
    (dict(clients=[None]), "clients[0] value None"),
    (dict(timeout=float("nan")), "timeout=nan"),
    (dict(timeout=-1), "timeout=-1"),
    (dict(resend=0), "resend=0"),
    (dict(backoff=(5, 1)), "backoff=(5, 1)"),
    (dict(backoff=(float("nan"), 1)), "backoff="),
    (dict(backoff=3), "backoff=3"),
    (dict(ring="sideways"), "ring='sideways'"),
    (dict(ring=(0, 0, 1, 2, 3)), "permutation"),
    (dict(ring_seed="x"), "ring_seed='x'"),
]


@pytest.mark.parametrize("kwargs,words", CONFIGS, ids=[repr(k) for k, _ in CONFIGS])
def test_a_bad_config_argument_is_named(kwargs, words):
    with pytest.raises(ValueError) as exc:
        Config(**kwargs)
    assert words in str(exc.value) and "\n" not in str(exc.value)


# -- key files --------------------------------------------------------------------------------
KEY_FILES = [
    (b"", ["key.txt", "first line", "empty"]),
    (b"\n\nsecret\n", ["key.txt", "first line", "empty"]),
    (b"   \n", ["key.txt", "first line", "empty"]),
    (b"caf\xe9\n", ["key.txt:1:", "byte 0xe9", "UTF-8"]),
    (None, ["key.txt", "cannot read"]),  # missing
    ("dir", ["key.txt", "cannot read"]),  # a directory
]


@pytest.mark.parametrize("content,words", KEY_FILES, ids=[repr(c) for c, _ in KEY_FILES])
def test_a_bad_key_file_is_named(tmp_path, capsys, content, words):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(GOOD_HOSTS)
    key = tmp_path / "key.txt"
    if content == "dir":
        key.mkdir()
    elif content is not None:
        key.write_bytes(content)
    err = one_line_error(capsys, ["node", "--hosts", str(hosts), "--id", "0",
                                  "--key-file", str(key)])
    for word in words:
        assert word in err, (word, err)


def test_a_key_file_bom_is_not_part_of_the_passphrase(tmp_path):
    from paxos_edu.cli import _passphrase_from

    (tmp_path / "k").write_bytes(b"\xef\xbb\xbfsecret\r\nrest")
    assert _passphrase_from(str(tmp_path / "k")) == "secret"


# -- state directories and state files --------------------------------------------------------
STATE_FILES = [
    ("", ["node-0.json", "empty"]),
    ("   \n", ["node-0.json", "empty"]),
    ('{"roles": {"type": "Ro', ["node-0.json", "torn or not JSON"]),
    ("[1, 2]", ["node-0.json", "a list, not an object"]),
    ("{}", ["node-0.json", 'field "roles" is missing']),
    ('{"roles": null}', ["node-0.json", 'field "paxos" is missing']),
    ('{"roles": null, "paxos": {}, "x": 1}', ["node-0.json", 'unexpected field "x"']),
    ('{"roles": 5, "paxos": {}}', ["node-0.json", 'field "roles"', "not a role assignment"]),
    ('{"roles": {"type": "Token", "uid": 1}, "paxos": {}}', ["node-0.json", 'field "roles"']),
    (json.dumps({"roles": ROLES, "paxos": []}), ["node-0.json", 'field "paxos" is a list']),
    (json.dumps({"roles": ROLES, "paxos": {"promised": "abc"}}),
     ["node-0.json", 'field "paxos.promised" is "abc", not a whole number']),
    (json.dumps({"roles": ROLES, "paxos": {"promised": -3}}), ['"paxos.promised" is -3']),
    (json.dumps({"roles": ROLES, "paxos": {"promised": 1.5}}), ['"paxos.promised" is 1.5']),
    (json.dumps({"roles": ROLES, "paxos": {"accepted_n": True}}), ['"paxos.accepted_n" is true']),
    (json.dumps({"roles": ROLES, "paxos": {"round": None}}), ['"paxos.round" is null']),
    (json.dumps({"roles": ROLES, "paxos": {"highest_seen": "7"}}), ['"paxos.highest_seen"']),
    (json.dumps({"roles": ROLES, "paxos": {"accepted_v": [1]}}), ['"paxos.accepted_v" is [1]']),
    (json.dumps({"roles": ROLES, "paxos": {"promised": 2, "accepted_n": 5}}),
     ['"paxos.accepted_n" is 5, above "paxos.promised" 2']),
    (json.dumps({"roles": {**ROLES, "acceptors": [0], "proposers": [1]}, "paxos": {}}),
     ["node-0.json", "another configuration"]),
]


@pytest.mark.parametrize("text,words", STATE_FILES, ids=[t[:40] for t, _ in STATE_FILES])
def test_a_damaged_state_file_stops_paxos_edu_node_before_it_binds(tmp_path, capsys, text,
                                                                   words):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(NODE_HOSTS)
    state = tmp_path / "state"
    state.mkdir()
    (state / "node-0.json").write_text(text)
    err = one_line_error(capsys, ["node", "--hosts", str(hosts), "--id", "0", "--key", "k",
                                  "--state-dir", str(state)])
    for word in words:
        assert word in err, (word, err)
    assert (state / "node-0.json").read_text() == text  # nothing lost


def test_a_state_file_that_is_not_utf8_or_is_a_directory_is_named(tmp_path):
    (tmp_path / "node-1.json").write_bytes(b'{"roles": "\xe9"}')
    with pytest.raises(StateError, match="node-1.json: .*byte 11 is not UTF-8"):
        storage.load(str(tmp_path / "node-1.json"))
    (tmp_path / "node-2.json").mkdir()
    with pytest.raises(StateError, match="node-2.json: is a directory"):
        storage.load(str(tmp_path / "node-2.json"))


@pytest.mark.parametrize("make,words", [
    (lambda d: (d / "afile").write_text("x") and d / "afile", ["--state-dir", "is a file"]),
    (lambda d: (d / "afile").write_text("x") and d / "afile" / "sub",
     ["--state-dir", "cannot be created"]),
], ids=["a file", "under a file"])
def test_a_state_dir_that_is_not_a_directory_is_named(tmp_path, capsys, make, words):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(GOOD_HOSTS)
    err = one_line_error(capsys, ["node", "--hosts", str(hosts), "--id", "0", "--key", "k",
                                  "--state-dir", str(make(tmp_path))])
    for word in words:
        assert word in err, (word, err)


def test_the_schema_accepts_what_nodes_write():
    assert check_state({"roles": None, "paxos": {}}, "n") == {"roles": None, "paxos": {}}
    good = {"roles": ROLES, "paxos": {"promised": 4, "accepted_n": 4, "accepted_v": "x"}}
    assert check_state(good, "n", Config(1, 1, 1)) is good
    assert check_state({"roles": ROLES, "paxos": {"mine": [1]}}, "n")  # a student's own field


# -- on real processes ------------------------------------------------------------------------
def test_paxos_edu_node_refuses_a_damaged_state_dir_as_a_process(tmp_path):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(NODE_HOSTS)
    (tmp_path / "node-1.json").write_text(json.dumps({"roles": ROLES,
                                                      "paxos": {"promised": "abc"}}))
    proc = subprocess.run([sys.executable, "-m", "paxos_edu", "node", "--hosts", str(hosts),
                           "--id", "1", "--key", "k", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert 'node-1.json: field "paxos.promised" is "abc", not a whole number' in proc.stderr


@pytest.fixture(scope="module")
def decided_cluster():
    with Cluster(Config(1, 3, 1, clients=((5, 0),)), mode="run") as c:
        c.start()
        assert c.run(timeout=30).status == "decided"
        yield c


DAMAGE = [
    ("promised abc", lambda good: json.dumps({**good, "paxos": {**good["paxos"],
                                                                "promised": "abc"}}),
     'field "paxos.promised" is "abc", not a whole number'),
    ("empty", lambda good: "", "the state file is empty"),
    ("torn", lambda good: json.dumps(good)[:25], "torn or not JSON"),
    ("{}", lambda good: "{}", 'field "roles" is missing'),
    ("deleted", None, "the state file is missing, but this node had persisted"),
]


@pytest.mark.parametrize("name,damage,words", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_cluster_restart_refuses_a_damaged_state_file_by_name(decided_cluster, name, damage,
                                                              words):
    c = decided_cluster
    path = c.workdir / "node-2.json"
    good_text = path.read_text()
    good = json.loads(good_text)
    c.crash(2)
    if damage is None:
        path.unlink()
    else:
        path.write_text(damage(good))
    with pytest.raises(StateError) as exc:
        c.restart(2)
    assert "node-2.json" in str(exc.value) and words in str(exc.value)
    assert not c.alive()[2]  # refused: the node stays down, it does not come back empty
    if damage is not None:
        assert path.read_text() == damage(good)  # and nothing was overwritten
    path.write_text(good_text)
    c.restart(2)
    assert c.snapshot()[2]["promised"] == good["paxos"]["promised"]


def test_a_node_that_refuses_its_file_says_so_in_its_log(decided_cluster, monkeypatch):
    """The node checks too (the controller's check skipped): it exits 3, and the error
    shows the last lines of its log, which name the file and the field."""
    c = decided_cluster
    path = c.workdir / "node-3.json"
    good_text = path.read_text()
    c.crash(3)
    path.write_text(json.dumps({**json.loads(good_text), "paxos": {"promised": "abc"}}))
    monkeypatch.setattr(storage, "load", lambda *a, **k: None)
    with pytest.raises(RuntimeError) as exc:
        c.restart(3)
    text = str(exc.value)
    assert "node 3 exited during start-up with exit code 3; its log ends with:" in text
    assert 'node-3.json: field "paxos.promised" is "abc"' in text.splitlines()[-1]
    monkeypatch.undo()
    path.write_text(good_text)
    c.restart(3)


def test_how_a_node_killed_from_outside_ended_is_in_its_crash_event(decided_cluster):
    """By pid, from outside the package (as ``kill -9`` would): the launcher that forked the
    node tells how it ended, and the crash the cluster records says so."""
    c = decided_cluster
    os.kill(c.pids()[4], signal.SIGKILL)
    assert c.wait_for(lambda c: not c.alive()[4], timeout=10)
    crash = [ev for ev in c.trace if ev["kind"] == "crash"][-1]
    assert (crash["src"], crash["msg"].get("how")) == (4, "killed by signal SIGKILL")
    c.restart(4)


def test_a_dead_node_with_an_empty_log_is_explained(tmp_path):
    from paxos_edu.net.nodes import Nodes

    class Dead:
        def how_ended(self):
            return "killed by signal SIGKILL"

    nodes = Nodes.__new__(Nodes)
    nodes.workdir, nodes.live = tmp_path, {7: Dead()}
    nodes.forget = lambda uid, how="": None
    text = nodes.died(7, "during start-up")
    assert "killed by signal SIGKILL" in text and "node-7.log" in text and "is empty" in text
    assert "\n" not in text


def test_many_clusters_start_at_once_on_a_busy_machine():
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(3)]
    results: dict[int, object] = {}
    clusters = [Cluster(Config(1, 1, 1), mode="run", reply_timeout=2.0) for _ in range(10)]
    try:
        def start(i: int) -> None:
            try:
                clusters[i].start(timeout=120)
                results[i] = clusters[i].elected()
            except Exception as exc:  # reported below, per cluster
                results[i] = exc

        threads = [threading.Thread(target=start, args=(i,)) for i in range(len(clusters))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for p in busy:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        for c in clusters:
            c.close()
    assert results == {i: True for i in range(len(clusters))}, results


def test_the_dashboard_shows_a_refused_restart():
    from paxos_edu.widgets import REAL, Dashboard

    dash = Dashboard(backend=REAL)
    try:
        dash.setup.start.click()
        cluster = dash.session.head
        for _ in range(200):  # the election and the roles, one delivery at a time
            if cluster.snapshot()[1].get("role") == "acceptor":
                break
            dash.controls.step.click()
        assert cluster.snapshot()[1].get("role") == "acceptor"
        dash.faults.rows[1].crash.click()
        path = cluster.workdir / "node-1.json"
        path.write_text(json.dumps({**json.loads(path.read_text()),
                                    "paxos": {"promised": "abc"}}))
        dash.faults.rows[1].restart.click()
        assert dash.error is not None and "node-1.json" in dash.error
        assert 'field "paxos.promised" is "abc", not a whole number' in dash.error
        assert "node-1.json" in dash.status.value
    finally:
        dash.close()


# -- traces: check_safety never raises ----------------------------------------------------------
EVENTS = [
    (1, "not an event object"),
    (None, "not an event object"),
    ("send", "not an event object"),
    ({"kind": "state", "seq": "x"}, "field 'seq' is 'x'"),
    ({"kind": "decide", "seq": 5}, "event 5: field 'src' is missing"),
    ({"kind": "decide", "seq": 5, "src": 1, "msg": {}}, "field 'msg.v' is missing"),
    ({"kind": "decide", "seq": 5, "src": 1, "msg": {"v": 1, "n": "2"}}, "'msg.n' is '2'"),
    ({"kind": "decide", "seq": 5, "src": 1}, "event 5: it could not be checked"),
    ({"kind": "restart", "seq": 6, "src": "2"}, "field 'src' is '2'"),
    ({"kind": "send", "seq": 3, "msg": {"type": "Accept", "n": "x", "v": 1}}, "'msg.n' is 'x'"),
    ({"kind": "send", "seq": 3, "msg": {"type": "Accept", "n": 1}}, "'msg.v' is missing"),
    ({"kind": "send", "seq": 3, "msg": {"type": "Request", "v": [1]}}, "'msg.v' is [1]"),
    ({"kind": "send", "seq": 3, "msg": {"type": "Roles", "acceptors": 3, "learners": []}},
     "'msg.acceptors' is 3"),
    ({"kind": "send", "seq": 3, "src": -1, "msg": {"type": "Accepted", "n": 1, "v": 1}},
     "field 'src' is -1"),
    ({"kind": "send", "seq": 3, "msg": "Accept"}, "field 'msg' is 'Accept'"),
    ({"kind": "state", "seq": 4, "src": 1, "msg": {"role": "acceptor", "promised": "abc",
                                                   "accepted_n": 0}},
     "event 4: field 'msg.promised' is 'abc', not a whole number"),
    ({"kind": "state", "seq": 4, "src": 1, "msg": {"role": "acceptor", "promised": 1}},
     "field 'msg.accepted_n' is missing"),
]


@pytest.mark.parametrize("event,words", EVENTS, ids=[repr(e)[:40] for e, _ in EVENTS])
def test_a_malformed_trace_event_is_a_finding_not_a_crash(event, words):
    from paxos_edu import check_safety

    found = check_safety([event])
    assert [v.invariant for v in found] == ["malformed event"]
    assert words in str(found[0]) and "\n" not in str(found[0])


def test_a_malformed_event_does_not_hide_the_rules_for_the_rest():
    from paxos_edu import Simulation, check_safety

    sim = Simulation(Config(1, 3, 1, clients=((5, 0),)), seed=1).start()
    while sim.step() is not None:
        pass
    assert check_safety(sim.trace) == []
    found = check_safety([{"kind": "state", "seq": 0, "src": 1, "msg": {"role": "acceptor"}},
                          *sim.trace])
    assert [v.invariant for v in found] == ["malformed event"]
