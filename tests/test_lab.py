"""The lab grader (paxos_edu.lab): the shipped reference passes every stage, and each
deliberately broken variant of it (a one-line edit of its text) fails at the stage and
with the sentence that names the rule it breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paxos_edu import Config, Simulation
from paxos_edu.core.election import Election
from paxos_edu.lab import grade

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def written_module(notebook: str, name: str) -> str:
    """The text the notebook's ``%%writefile name`` cell writes."""
    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if src.startswith(f"%%writefile {name}\n"):
            return src.split("\n", 1)[1]
    raise AssertionError(f"{notebook} has no %%writefile {name} cell")


REFERENCE = written_module("08_lab_write_the_roles_solutions.ipynb", "my_roles_solved.py")
SKELETON = written_module("08_lab_write_the_roles.ipynb", "my_roles.py")


def module(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_reference_passes_every_stage(tmp_path):
    report = grade(module(tmp_path, "lab_reference", REFERENCE), progress=False, draw=False,
                   quiet=True, runs=40, clusters=1)
    assert [(s.name, s.passed) for s in report.stages] == [
        ("scripted", True), ("explorer", True), ("faults", True), ("cluster", True)], str(report)
    assert report.passed
    assert "importing lab_reference:Acceptor, lab_reference:Learner, lab_reference:Election" \
        in report.stages[-1].reason
    assert not (tmp_path / "__pycache__").exists()  # node processes left no bytecode behind


def test_the_skeleton_fails_with_what_to_write_first(tmp_path):
    report = grade(module(tmp_path, "lab_skeleton", SKELETON), progress=False, quiet=True)
    assert not report.passed and len(report.stages) == 1
    assert str(report.stages[0]) == (
        "stage 1 scripted mistakes: FAILED: NotImplementedError: write phase 1.2 in "
        "Acceptor.receive_proposal (lab_skeleton.py line 30, in receive_proposal)")


def test_an_edited_file_is_graded_afresh(tmp_path):
    path = module(tmp_path, "lab_edited", SKELETON)
    assert not grade(path, roles=("election",), stages=("scripted",), quiet=True).passed
    path.write_text(REFERENCE, encoding="utf-8")  # same second, different text
    assert grade(path, roles=("election",), stages=("scripted",), quiet=True).passed
    # by module name too, once its folder is on the path (load put it there)
    assert grade("lab_edited", roles=("election",), stages=("scripted",), quiet=True).passed


# (name, text in the reference, its replacement, failing stage, words of the reason)
BROKEN = [
    ("acceptor persists after its Ack",
     "        return [Persist(self.durable()),\n"
     "                Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))]",
     "        return [Send(src, Ack(msg.n, self.accepted_v, self.accepted_n)),\n"
     "                Persist(self.durable())]",
     "scripted", "persistence: the Ack for Proposal(n=7) left without a Persist before it"),
    ("acceptor never persists an acceptance",
     "        return [Persist(self.durable()), *(Send(x, note) for x in self.learners),",
     "        return [*(Send(x, note) for x in self.learners),",
     "scripted", "persistence: Accepted(7, 210) left without a Persist before it"),
    ("acceptor forgets its promise on restart",
     '        self.promised = data.get("promised", 0)', "        self.promised = 0",
     "scripted", "durable()/restore(): an acceptor restarted from its storage after promising 7"),
    ("acceptor promises below its promise",
     '            return [Send(src, Nack(msg.n, self.promised, "Proposal"))]\n        self.promised = msg.n',
     '            pass\n        self.promised = msg.n',
     "scripted", "after promising 7, Proposal(n=6, v=220) got Ack"),
    ("acceptor accepts below its promise",
     '        if msg.n < self.promised:\n'
     '            return [Send(src, Nack(msg.n, self.promised, "Accept"))]\n',
     "",
     "scripted", "phase 2.2: after promising 7, Accept(n=6, v=220) got Accepted"),
    ("acceptor reports nothing accepted",
     "Send(src, Ack(msg.n, self.accepted_v, self.accepted_n))", "Send(src, Ack(msg.n, None, 0))",
     "scripted", "reported (accepted_n, accepted_v) = (0, None), but the acceptor had accepted "
                 "(7, 210)"),
    ("acceptor reports its first accepted value, not the highest",
     "        self.accepted_v = msg.v\n",
     "        self.accepted_v = msg.v if self.accepted_v is None else self.accepted_v\n",
     "scripted", "reported (accepted_n, accepted_v) = (12, 210), but the acceptor had accepted "
                 "(12, 220)"),
    ("acceptor's accept is not a promise",
     "        self.promised = self.accepted_n = msg.n\n", "        self.accepted_n = msg.n\n",
     "scripted", "after promising 22, Proposal(n=19, v=210) got Ack"),
    ("learner counts a duplicate twice",
     "        voters = self.votes.setdefault((msg.n, msg.v), set())\n        voters.add(src)",
     "        voters = self.votes.setdefault((msg.n, msg.v), [])\n        voters.append(src)",
     "scripted", "decided on Accepted(7, 210) from acceptor 2 twice"),
    ("learner counts every (n, v) together",
     "self.votes.setdefault((msg.n, msg.v), set())", "self.votes.setdefault((0, None), set())",
     "scripted", "decided on Accepted(7, 210) from acceptor 2 and Accepted(12, 220) from 3"),
    ("learner counts by value, not (n, v)",
     "self.votes.setdefault((msg.n, msg.v), set())", "self.votes.setdefault((0, msg.v), set())",
     "scripted", "a majority must accept the same (n, v), not just the same v"),
    ("learner's majority is a fixed 2",
     "len(voters) <= len(self.acceptors) // 2", "len(voters) < 2",
     "scripted", "a majority of 5 is 3"),
    ("learner never tells the clients",
     "*(Send(c, Decided(msg.v, msg.n)) for c in self.clients)]", "]",
     "scripted", "send Decided(210, 7) to every client [6, 7]"),
    ("red node forwards smaller tokens",
     '            return "drop", []', '            return "forward", [Send(self.successor, token)]',
     "scripted", "red node 3 answered Token(1) with 'forward'"),
    ("node never turns black",
     "            self.color = election.BLACK                # a larger uid beats me: stop competing\n",
     "",
     "scripted", "node 3 forwarded Token(5) but stayed red"),
    ("node elects itself on a larger token",
     "        j = token.uid\n",
     "        j = token.uid\n        if j > self.uid and self.color == election.RED:\n"
     "            self.leader = self.uid\n            return \"win\", []\n",
     "scripted", "node 3 took Token(5) as a win"),
    ("leader wins again on a duplicate of its token",
     '        if self.leader == self.uid:\n'
     '            return "ignore", []                        # my token again (a duplicate)\n',
     "",
     "scripted", "the leader won again on a duplicate of its own token"),
]


@pytest.mark.parametrize("name,old,new,stage,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_role_is_caught_with_the_rule_it_breaks(tmp_path, name, old, new, stage, words):
    assert REFERENCE.count(old) == 1, f"the reference no longer holds {old!r}"
    stem = "lab_broken_" + "".join(c if c.isalnum() else "_" for c in name)
    report = grade(module(tmp_path, stem, REFERENCE.replace(old, new)), progress=False,
                   draw=False, quiet=True, stages=("scripted", "explorer", "faults"), runs=20)
    failed = report.stages[-1]
    assert not failed.passed and failed.name == stage, str(report)
    assert words in failed.reason, failed.reason


LATER = [
    ("election that stops relaying after five tokens", ("election",),
     "        j = token.uid\n",
     '        j = token.uid\n        if self.tokens_seen > 5:\n            return "drop", []\n',
     "explorer", "an election that loses a message never recovers"),
    ("learner that learns only small numbers, once", ("learner",),
     "        if len(voters) <= len(self.acceptors) // 2 or msg.n in self.learned:",
     "        if len(voters) <= len(self.acceptors) // 2 or self.learned or msg.n > 20:",
     "faults", "after the faults healed, clients [6] never decided"),
]


@pytest.mark.parametrize("name,roles,old,new,stage,words", LATER, ids=[b[0] for b in LATER])
def test_what_the_scripts_miss_a_later_stage_catches(tmp_path, name, roles, old, new, stage,
                                                     words):
    assert REFERENCE.count(old) == 1
    stem = "lab_later_" + "".join(c if c.isalnum() else "_" for c in name)
    report = grade(module(tmp_path, stem, REFERENCE.replace(old, new)), roles=roles,
                   progress=False, draw=False, quiet=True, stages=("scripted", "explorer", "faults"))
    assert [s.passed for s in report.stages][:-1] == [True] * (len(report.stages) - 1)
    assert report.stages[-1].name == stage and not report.stages[-1].passed, str(report)
    assert words in report.stages[-1].reason, report.stages[-1].reason


def test_the_explorer_alone_draws_the_shortest_counterexample(tmp_path):
    broken = REFERENCE.replace('        self.promised = data.get("promised", 0)',
                               "        self.promised = 0")
    report = grade(module(tmp_path, "lab_forgets", broken), roles=("acceptor",),
                   stages=("explorer",), progress=False, draw=False, quiet=True)
    assert not report.passed
    assert "breaks monotonic promises" in report.stages[0].reason
    found = report.counterexample
    assert found is not None and found.simulation is not None
    assert found.schedule[-1] == "restart node 2 from storage"
    assert report.draw() is not None


def test_an_election_without_its_bookkeeping_or_base_class_is_named(tmp_path):
    no_base = REFERENCE.replace("class Election(election.Election):", "class Election:")
    report = grade(module(tmp_path, "lab_no_base", no_base), roles=("election",), quiet=True)
    assert "must subclass paxos_edu.core.election.Election" in report.stages[0].reason
    missing = REFERENCE.replace("class Learner:", "class Learnr:")
    report = grade(module(tmp_path, "lab_missing", missing), quiet=True)
    assert report.stages[0].reason == "lab_missing has no class Learner (the learner)"


def test_the_node_takes_an_election_class_and_defaults_to_the_core_one(tmp_path):
    seen = []  # (node uid, token uid) for every token the class handled

    class Counting(Election):
        def receive_token(self, token):
            seen.append((self.uid, token.uid))
            return super().receive_token(token)

    cfg = Config(proposers=1, acceptors=3, learners=1, clients=((5, 0),))
    sim = Simulation(cfg, impl={"election": Counting}).start()
    sim.run()
    assert sim.decided() == {5: 5} and sim.leader() == 4
    delivered = [(ev["dst"], ev["msg"]["uid"]) for ev in sim.trace
                 if ev["kind"] == "deliver" and ev["msg"]["type"] == "Token"]
    assert delivered and seen == delivered  # every node's every token went through the class
    seen.clear()
    Simulation(cfg).start().run()
    assert seen == []  # without impl, the core's own Election
