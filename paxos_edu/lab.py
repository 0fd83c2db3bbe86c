"""Lab (lesson 08): the student writes whole roles; ``grade`` runs them in four stages.

The student writes, in a module file of their own (so node processes can import it):

- ``Acceptor``: phases 1.2 and 2.2. Promise ``n`` unless a larger number was promised
  (an equal one is the same Proposal again), reporting the highest-numbered proposal
  accepted; accept ``(n, v)`` unless a larger number was promised. Every change goes to
  stable storage first: a ``Persist`` precedes the ``Send`` that depends on it, and
  ``durable()``/``restore()`` carry the promise and the accepted proposal over a restart.
- ``Learner``: phase 3. ``v`` is chosen when a majority of *distinct* acceptors sent
  ``Accepted`` for one ``(n, v)``; a duplicate never counts twice, votes for different
  ``(n, v)`` never count together. Then ``Decide`` and tell every client (``Decided``).
- ``Election``: a subclass of ``core.election.Election`` whose ``receive_token`` is the
  Chang-Roberts rule: red forwards a larger uid and turns black, swallows a smaller one,
  wins on its own; black relays every token. The node uses it through
  ``impl={"election": ...}``; the core's start, re-send timer and ``follow`` stay.

``grade(module_or_path)`` runs the classes through, stopping at the first failure:
(1) scripted schedules aimed at the known mistakes, on the roles directly; (2) the
explorer: every schedule of 2 proposers x 3 acceptors with 2 numbers and an acceptor
restart (and 1 number with a duplicate, learners counting), and every lossy interleaving
of a small election; the shortest counterexample is drawn; (3) seeded simulator runs
with loss, duplication, reordering and acceptor crashes, then heal: all must be safe and
decide; (4) real UDP clusters whose node processes import the student's module by name.
Each stage prints one line, PASSED or FAILED with the rule broken. Evidence, not proof.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import random
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from .core.config import Config
from .core.election import Election
from .core.node import make_node
from .explorer import ExploreResult, explore
from .lab_scripts import Failed, check_acceptor, check_election, check_learner
from .recovery import explore_recovery
from .sim import Simulation

CONFIG = Config(proposers=2, acceptors=3, learners=1, clients=((210, 0), (220, 1)))
ROLES = ("acceptor", "learner", "election")
CLASS_NAMES = {"acceptor": "Acceptor", "learner": "Learner", "election": "Election"}
STAGES = ("scripted", "explorer", "faults", "cluster")
_TITLES = {"scripted": "1 scripted mistakes", "explorer": "2 explorer",
           "faults": "3 simulated faults", "cluster": "4 real UDP cluster"}

__all__ = ["CONFIG", "ROLES", "STAGES", "LabReport", "Stage", "grade", "load"]


@dataclass
class Stage:
    """One stage's outcome: ``passed``, the one-sentence ``reason`` and how long it took."""

    name: str
    passed: bool
    reason: str
    seconds: float

    def __str__(self) -> str:
        word = "PASSED" if self.passed else "FAILED"
        return f"stage {_TITLES[self.name]}: {word}: {self.reason}"


@dataclass
class LabReport:
    """What ``grade`` found, stage by stage (it stops at the first failure)."""

    stages: list[Stage] = field(default_factory=list)
    counterexample: ExploreResult | None = None
    """The explorer's shortest counterexample, if stage 2 failed on Paxos."""

    @property
    def passed(self) -> bool:
        return bool(self.stages) and all(s.passed for s in self.stages)

    def __str__(self) -> str:
        return "\n".join(map(str, self.stages))

    def __repr__(self) -> str:
        done = sum(s.passed for s in self.stages)
        return f"<LabReport: {'PASSED' if self.passed else 'not yet'}, {done} stage(s) passed>"

    def draw(self):
        """The counterexample at its violation: Paxos diagram and space-time diagram."""
        if self.counterexample is None or self.counterexample.simulation is None:
            return None
        from matplotlib.figure import Figure

        from .viz import draw_paxos, draw_timeline

        trace = self.counterexample.simulation.trace
        last = max((e for v in self.counterexample.violations for e in v.events), default=None)
        at = next((i for i, ev in enumerate(trace) if ev.get("seq") == last), None)
        fig = Figure(figsize=(15, 5.5), layout="constrained")
        left, right = fig.subplots(1, 2)
        draw_paxos(trace, at=at, ax=left)
        draw_timeline(trace, at=at, ax=right)
        return fig


def load(module_or_path) -> types.ModuleType:
    """The student's module: a module object as it is, or a file path / module name read
    afresh (an edited file is never served from a stale cache), registered under its name
    in ``sys.modules`` with its folder on ``sys.path``, so node processes import it too."""
    if isinstance(module_or_path, types.ModuleType):
        return module_or_path
    text = str(module_or_path)
    if text.endswith(".py") or os.sep in text:
        path = Path(text)
    else:
        spec = importlib.util.find_spec(text)
        if spec is None or not spec.origin:
            raise Failed(f"there is no module named {text!r}: write it first (%%writefile)")
        path = Path(spec.origin)
    if not path.is_file():
        raise Failed(f"there is no file {text}: run the %%writefile cell first")
    path = path.resolve()
    name = path.stem
    if not name.isidentifier():
        raise Failed(f"{path.name}: a module name must be a Python identifier")
    folder = str(path.parent)
    if folder not in [os.path.abspath(p or os.getcwd()) for p in sys.path]:
        sys.path.insert(0, folder)
    # A real spec (find_spec by name works later) but our own exec: never a stale .pyc.
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
    sys.modules[name] = module
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    except Exception as exc:
        del sys.modules[name]
        raise Failed(f"{path.name} does not run: {_exc(exc, path)}") from None
    with contextlib.suppress(OSError):  # node processes must compile the new text, not a cache
        os.remove(importlib.util.cache_from_source(str(path)))
    return module


def _classes(module, roles) -> dict[str, type]:
    impl = {}
    for role in roles:
        if role not in CLASS_NAMES:
            raise ValueError(f"roles: {role!r} is not one of {', '.join(ROLES)}")
        cls = getattr(module, CLASS_NAMES[role], None)
        if not isinstance(cls, type):
            raise Failed(f"{module.__name__} has no class {CLASS_NAMES[role]} (the {role})")
        if role == "election" and not issubclass(cls, Election):
            raise Failed("class Election must subclass paxos_edu.core.election.Election, which "
                         "keeps start, the re-send timer and follow; write receive_token")
        impl[role] = cls
    return impl


def grade(module_or_path, roles=ROLES, *, stages=STAGES, progress: bool = True,
          draw: bool = True, runs: int = 100, clusters: int = 2, quiet: bool = False) -> LabReport:
    """Grade the student's classes in ``module_or_path`` (a module, a file path or a name).

    ``roles`` picks which of acceptor, learner and election are theirs (the package's for
    the rest); ``stages`` which stages run. Stops at the first failure. ``progress`` shows
    tqdm bars in the long stages; ``draw`` displays the explorer's counterexample (in
    IPython); ``runs`` simulated fault runs; ``clusters`` real clusters. Prints one line
    per stage (unless ``quiet``) and returns a ``LabReport``.
    """
    report = LabReport()
    roles = tuple(roles)

    def say(stage: Stage) -> None:
        report.stages.append(stage)
        if not quiet:
            print(stage, flush=True)

    try:
        module = load(module_or_path)
        impl = _classes(module, roles)
    except Failed as exc:
        say(Stage(stages[0] if stages else "scripted", False, exc.reason, 0.0))
        return report
    steps = {"scripted": _scripted, "explorer": _explorer, "faults": _faults,
             "cluster": _cluster}
    for name in stages:
        began = time.perf_counter()
        try:
            reason, found = steps[name](impl, progress=progress, runs=runs, clusters=clusters)
            passed = True
        except Failed as exc:
            reason, found, passed = exc.reason, exc.found, False
        except Exception as exc:  # the student's code broke something: say where
            reason, found, passed = _exc(exc, getattr(module, "__file__", None)), None, False
        say(Stage(name, passed, reason, time.perf_counter() - began))
        if isinstance(found, ExploreResult):
            report.counterexample = found
            if draw:
                _show(report)
        if not passed:
            break
    return report


def _exc(exc: BaseException, path) -> str:
    """``Class.method raised Error: text (my_roles.py line N)``, the student's last frame."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if path is not None and Path(f.filename).resolve() == Path(path).resolve()]
    where = f" ({Path(path).name} line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _show(report: LabReport) -> None:
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is not None:
        fig = report.draw()
        if fig is not None:
            display(fig)


def _bar(progress: bool, total: int, desc: str):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


# -- stage 1: scripted schedules on the roles themselves -------------------------------------
def _scripted(impl, **_) -> tuple[str, None]:
    done = []
    if "acceptor" in impl:
        done.append(check_acceptor(impl["acceptor"]))
    if "learner" in impl:
        done.append(check_learner(impl["learner"]))
    if "election" in impl:
        done.append(check_election(impl["election"]))
        ring = dataclasses.replace(CONFIG, ring="random", ring_seed=3)
        sim = Simulation(ring, impl={"election": impl["election"]}).start()
        sim.run(until="elected", max_steps=500, order="random")
        if sim.leader() != CONFIG.n_consensus - 1 or sim.violations:
            raise Failed(f"a whole election on a ring of {CONFIG.n_consensus} elected "
                         f"{sim.leader()}, not the largest uid {CONFIG.n_consensus - 1}"
                         + (f" ({sim.violations[0]})" if sim.violations else ""))
    return "; ".join(done) + ".", None


# -- stage 2: the explorer -------------------------------------------------------------------
def _explorer(impl, progress: bool, **_) -> tuple[str, None]:
    said = []
    paxos = {r: c for r, c in impl.items() if r != "election"}
    if paxos:
        runs = [("2 numbers, one acceptor restart from storage", dict(numbers=2, restarts=1)),
                ("2 numbers, learners counting", dict(numbers=2, deliver_to_learners=True)),
                ("1 number, one duplicate, learners counting",
                 dict(numbers=1, duplicates=1, deliver_to_learners=True))]
        states = 0
        for what, kw in runs:
            result = explore(CONFIG, impl=paxos, reduce=True, progress=progress, **kw)
            states += result.states
            if not result.ok:
                v = result.violations[0]
                raise Failed(f"every schedule of 2 proposers x 3 acceptors ({what}): a "
                             f"{len(result.schedule)}-step schedule breaks {v.invariant}: "
                             f"{v.explanation}", result)
            if not result.complete:
                raise Failed(f"the search of {what} was cut short: not a pass")
        said.append(f"every schedule of 2 proposers x 3 acceptors ({states:,} states) safe")
    if "election" in impl:
        cls = impl["election"]
        found = explore_recovery(
            Config(proposers=1, acceptors=1, learners=1, clients=((210, 0),)), losses=1,
            make=lambda uid, config: make_node(uid, config, impl={"election": cls}))
        if not found.ok:
            raise Failed(f"an election that loses a message never recovers ({len(found.schedule)} "
                         f"steps: {'; '.join(found.schedule)}); a node without roles re-sends "
                         "its token (the core's timer) and the rule must let it through")
        said.append(f"every lossy election of 3 nodes ({found.states:,} states) heals")
    return "; ".join(said) + ".", None


# -- stage 3: seeded simulator runs with faults, then heal -----------------------------------
def _faults(impl, progress: bool, runs: int, **_) -> tuple[str, None]:
    from .core.invariants import check_safety

    bar = _bar(progress, runs, "fault runs")
    try:
        for seed in range(runs):
            sim, lost = _fault_run(impl, seed)
            found = list(sim.violations) or check_safety(sim.trace)
            if found:
                raise Failed(f"fault run {seed} (lost {lost} messages) is unsafe: {found[0]}")
            if not sim.all_decided():
                raise Failed(f"fault run {seed}: after the faults healed, clients "
                             f"{sorted(set(sim.config.client_uids) - set(sim.decided()))} never "
                             f"decided; {_stuck(sim)}")
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return (f"{runs} seeded runs with loss, duplication, reordering and acceptor crashes "
            "(on every phase), then heal: all safe, all decided."), None


def _fault_run(impl, seed: int) -> tuple[Simulation, int]:
    rng = random.Random(seed)
    config = CONFIG if seed % 2 else Config(proposers=2, acceptors=3, learners=2,
                                            clients=((210, 0), (220, 1), (230, 0)))
    sim = Simulation(config, seed=seed, impl=impl).start()
    acceptors = config.roles(config.n_consensus - 1).acceptors
    down, lost = None, 0
    for _ in range(rng.randint(40, 200)):
        items = [p for p in sim.pending() if p.kind == "Message"]
        r = rng.random()
        if items and r < 0.15:
            sim.drop(rng.choice(items).id)
            lost += 1
        elif items and r < 0.25:
            sim.duplicate(rng.choice(items).id)
        elif items and r < 0.5:
            sim.deliver(rng.choice(items).id)  # out of order
        elif r < 0.53 and down is None and sim.leader() is not None:
            down = rng.choice(acceptors)
            sim.crash(down)
        elif r < 0.56 and down is not None:
            sim.restart(down)
            down = None
        elif sim.step(order="random") is None:
            break
    sim.heal()
    if down is not None:
        sim.restart(down)
    sim.run(until=None, max_steps=20_000, order="random")
    return sim, lost


def _stuck(sim: Simulation) -> str:
    snaps = sim.snapshot()
    if sim.leader() is None:
        return ("no leader was elected: does the election forward larger tokens, relay "
                "when black, and let re-sent tokens through?")
    roleless = sorted(u for u, s in snaps.items() if s.get("alive", True)
                      and s.get("kind") == "consensus" and not s.get("role"))
    if roleless:
        return f"nodes {roleless} never got their roles: a black node must relay every token"
    return ("elected and set up, but no decision: does the acceptor accept what it may, "
            "and does the learner tell every client?")


# -- stage 4: real node processes ------------------------------------------------------------
def _cluster(impl, progress: bool, clusters: int, **_) -> tuple[str, None]:
    from .cluster import Cluster
    from .core.messages import PAXOS_PHASES

    names = ", ".join(f"{c.__module__}:{c.__qualname__}" for c in impl.values())
    bar = _bar(progress, clusters, "real clusters")
    elapsed = []
    try:
        with _no_bytecode():
            for seed in range(1, clusters + 1):
                began = time.perf_counter()
                with Cluster(CONFIG, impl=impl, seed=seed) as c:
                    c.set_faults(loss=0.3, duplicate=0.2, delay=(0, 3), phases=PAXOS_PHASES)
                    c.start()
                    c.run(timeout=0.3)
                    c.set_faults()
                    result = c.run(timeout=20)
                    if c.violations:
                        raise Failed(f"real cluster {seed} is unsafe: {c.violations[0]}")
                    if result.status != "decided":
                        raise Failed(f"real cluster {seed} (node processes running {names}) did "
                                     f"not decide after the faults healed: {result.status}")
                elapsed.append(time.perf_counter() - began)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return (f"{clusters} clusters of {CONFIG.n_consensus + len(CONFIG.clients)} UDP node "
            f"processes importing {names}, with Paxos messages lost, duplicated and delayed, "
            "then healed: all safe, all decided."), None


@contextlib.contextmanager
def _no_bytecode():
    """Node processes compile the student's module without leaving a cache in their folder."""
    before = os.environ.get("PYTHONDONTWRITEBYTECODE")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONDONTWRITEBYTECODE"]
        else:
            os.environ["PYTHONDONTWRITEBYTECODE"] = before

