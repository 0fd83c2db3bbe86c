"""The paxos-edu command: elect, run, demo, explore; bad input gets a clear error and status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from paxos_edu.cli import main
from paxos_edu.hosts import HostsError, parse_hosts


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("order,tokens", [("ascending", 21), ("descending", 66)])
def test_elect_sim_json_counts_tokens_against_theory(capsys, order, tokens):
    code, out, _ = run_cli(capsys, "elect", "--nodes", "11", "--order", order, "--sim", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["leader"] == 10
    assert data["messages"] == {"Token": tokens}
    assert (data["best"], data["worst"]) == (21, 66)


def test_elect_on_real_udp_processes(capsys):
    code, out, _ = run_cli(capsys, "elect", "--nodes", "5", "--json")
    data = json.loads(out)
    assert code == 0 and data["leader"] == 4 and data["backend"] == "udp"
    assert 9 <= data["messages"]["Token"] <= 15


def test_run_json_reports_the_outcome(capsys):
    code, out, _ = run_cli(capsys, "run", "--sim", "--proposers", "3", "--acceptors", "3",
                           "--learners", "5", *sum([["--client", f"{200 + i}:{i}"]
                                                   for i in range(8)], []), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["status"] == "decided"
    assert len(data["decided"]) == 8 and len(set(data["decided"].values())) == 1
    assert data["violations"] == []
    assert set(data["messages"]["by_phase"]) >= {"election", "1.1", "1.2", "2.1", "2.2", "3"}
    assert data["roles"]["acceptors"] == [3, 4, 5]


def test_run_on_real_processes_with_a_majority_crashed_says_no_quorum(capsys):
    code, out, _ = run_cli(capsys, "run", "--acceptors", "3", "--client", "5", "--crash", "2",
                           "--crash", "3", "--timeout", "3", "--json")
    data = json.loads(out)
    assert code == 1
    assert data["status"].startswith("no quorum: acceptors 2, 3 of 3")
    assert data["decided"] == {}


def test_demo_tells_every_phase(capsys):
    code, out, _ = run_cli(capsys, "demo", "--sim")
    assert code == 0
    for text in ("Election", "LEADER", "Setup", "[    1.1]", "[    1.2]", "[    2.1]",
                 "[    2.2]", "[      3]", "Decision: every client (2) was told",
                 "Messages per phase", "Safety: every invariant holds"):
        assert text in out


@pytest.mark.parametrize("argv,needle", [
    (["run", "--sim", "--acceptors", "0"], "acceptors=0"),
    (["run", "--sim", "--crash", "99"], "--crash 99"),
    (["elect", "--nodes", "2", "--sim"], "at least 3"),
])
def test_bad_input_is_a_clear_error_with_status_2(capsys, argv, needle):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and needle in err


def test_bad_client_option_is_refused_in_one_line(capsys):
    assert main(["run", "--client", "210:x"]) == 2
    err = capsys.readouterr().err
    assert "proposer index 'x'" in err and err.count("\n") == 1 and "usage" not in err


def test_hosts_file_run(tmp_path, capsys):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("PROPOSERS 1\nACCEPTORS 3\nLEARNERS 1\n" + "127.0.0.1 0 con\n" * 5
                     + "127.0.0.1 0 cli\n")
    code, out, _ = run_cli(capsys, "run", "--sim", "--hosts", str(hosts), "--client", "7",
                           "--json")
    assert code == 0 and json.loads(out)["decided"] == {"5": 7}


@pytest.mark.parametrize("text,message", [
    ("PROPOSERS 1\nACCEPTORS x\n", "hosts.txt:2: expected 'ACCEPTORS <count>'"),
    ("PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\nlocalhost 99999 con\n", "hosts.txt:4: port '99999'"),
    ("PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\nlocalhost 1 foo\n", "hosts.txt:4: node kind 'foo'"),
    ("PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\nlocalhost 1\n", "hosts.txt:4: expected 'host port"),
    ("PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\nlocalhost 0 con\n", "= 3 but there are 1 'con'"),
    ("PROPOSERS 1\nLEARNERS 1\n", "missing line(s) ACCEPTORS <count>"),
    ("PROPOSERS 1\nACCEPTORS 1\nLEARNERS 1\n" + "localhost 5000 con\n" * 3, "used twice"),
])
def test_hosts_errors_name_the_line_and_field(text, message):
    with pytest.raises(HostsError) as exc:
        parse_hosts(text)
    assert message in str(exc.value)


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "paxos_edu", "elect", "--nodes", "4", "--sim",
                          "--json"], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout)["leader"] == 3


def test_explore_recovery_says_every_lossy_election_and_setup_heals(capsys):
    code, out, _ = run_cli(capsys, "explore", "--recovery", "--losses", "1", "--max-depth", "10")
    assert code == 0
    assert "complete" in out and "every one heals" in out


def test_help_is_plain_text_without_markup(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0 and "``" not in out and "real UDP nodes" in out
