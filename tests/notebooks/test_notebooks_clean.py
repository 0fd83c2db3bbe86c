"""The lesson notebooks are saved clean: executed top to bottom once, with no errors.

nbval (``pytest --nbval notebooks/``) re-runs every notebook and compares its outputs with
the stored ones; that comparison only means something if the stored outputs come from one
clean run. These checks read the saved files only (no kernel), so they are fast:

- no cell output is an error, and a notebook with code has at least one output;
- every code cell has an execution count, and the counts run 1, 2, 3, ... top to bottom
  (a cell run twice, or out of order, shows up as a gap or a step back);
- every lesson (``NN_name.ipynb``) opens with a markdown cell naming its learning goals
  and ends with a markdown cell holding the recap and "Try this" prompts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
LESSONS = [p for p in ALL if re.match(r"\d\d_", p.name)]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(NOTEBOOKS)) for p in paths]


def test_the_first_lessons_exist():
    names = {p.name for p in LESSONS}
    for expected in ("00_start_here.ipynb", "01_chang_roberts.ipynb",
                     "02_paxos_phase_by_phase.ipynb"):
        assert expected in names, f"notebooks/{expected} is missing"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_error_outputs(path: Path):
    for k, cell in enumerate(code_cells(load(path))):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                pytest.fail(f"{path.name}: code cell {k} is saved with an error: "
                            f"{out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                if "Traceback (most recent call last)" in text:
                    pytest.fail(f"{path.name}: code cell {k} printed a traceback to stderr")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_saved_with_outputs(path: Path):
    cells = [c for c in code_cells(load(path)) if source(c).strip()]
    if not cells:
        return
    assert any(c.get("outputs") for c in cells), (
        f"{path.name} is saved without outputs: execute it with "
        "`python docs/run_notebooks.py` before committing")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_saved_without_run_timestamps(path: Path):
    stamped = [k for k, c in enumerate(load(path)["cells"])
               if "execution" in c.get("metadata", {})]
    assert not stamped, (f"{path.name}: cells {stamped} keep the time they ran, which changes "
                         "on every run; save it with `python docs/run_notebooks.py`")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_executed_once_top_to_bottom(path: Path):
    cells = code_cells(load(path))
    counts = [c.get("execution_count") for c in cells]
    numbered = [n for n in counts if n is not None]
    if not numbered:
        return  # never executed at all: test_saved_with_outputs reports it
    missing = [k for k, n in enumerate(counts) if n is None]
    assert not missing, (f"{path.name}: code cells {missing} were never run while others "
                         "were; re-run the whole notebook in a fresh kernel")
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1, 2, 3, ...: a cell was run twice "
        "or out of order; re-run the whole notebook in a fresh kernel")


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_opens_with_learning_goals(path: Path):
    cells = load(path)["cells"]
    assert cells, f"{path.name} is empty"
    first = cells[0]
    assert first["cell_type"] == "markdown", f"{path.name}: the first cell is not markdown"
    assert "learning goals" in source(first).lower(), (
        f"{path.name}: the first cell does not state the lesson's learning goals")


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_ends_with_a_recap(path: Path):
    cells = [c for c in load(path)["cells"] if source(c).strip()]
    last = cells[-1]
    assert last["cell_type"] == "markdown", f"{path.name}: the last cell is not markdown"
    assert "recap" in source(last).lower(), f"{path.name}: the last cell has no recap"
    assert "try this" in source(last).lower(), (
        f"{path.name}: the last cell has no 'Try this' prompts for the student")
