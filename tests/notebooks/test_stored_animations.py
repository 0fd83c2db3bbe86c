"""Lessons 01 and 02 store a jshtml player that plays without a kernel, small and reproducible.

The saved files are read as they are (no kernel): each lesson holds exactly one output whose
``text/html`` is a matplotlib jshtml player (the ``Animation`` class, its slider and
buttons, frames embedded as SVG) with the expected number of frames, and the file stays
under 3 MB. The recipe for each player lives in ``benchmarks/bench_viz.py``
(``LESSON_ANIMATIONS``, which also times it); rebuilding it here must give the stored HTML
byte for byte, which is what nbval will compare, and stay under matplotlib's embed limit.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib import rcParams  # noqa: E402

from paxos_edu.viz import animate, to_html  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MAX_NOTEBOOK_BYTES = 3 * 2**20
# Lesson 01: the start, then one step per token delivered (14 tokens), each step after the
# first with 4 in-between frames of the token gliding: 15 + 14 * 4. Lesson 02: the request
# waiting, then one step per delivery (request, 3 proposals, 3 acks, 3 accepts, 6 accepted,
# 1 decided), 2 in-between frames each: 18 + 17 * 2.
FRAMES = {"01_chang_roberts": 15 + 14 * 4, "02_paxos_phase_by_phase": 18 + 17 * 2}
FRAME = re.compile(r'frames\[(\d+)\] = "data:image/svg\+xml;base64,')


def bench_viz():
    spec = importlib.util.spec_from_file_location("bench_viz", ROOT / "benchmarks" / "bench_viz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def players(lesson: str) -> list[str]:
    """Every stored ``text/html`` output of the lesson that is a jshtml player."""
    nb = json.loads((NOTEBOOKS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if "new Animation(" in html:
                found.append(html)
    return found


@pytest.mark.parametrize("lesson", sorted(FRAMES))
def test_the_lesson_stores_one_player_with_its_frames(lesson):
    stored = players(lesson)
    assert len(stored) == 1, f"{lesson}: expected one stored jshtml player, found {len(stored)}"
    html = stored[0]
    assert "function Animation(" in html and 'class="anim-controls"' in html
    assert re.search(r'id="_anim_slider[0-9a-f]{32}"', html), "no slider"
    assert "play_animation" in html and "anim_step_forward" in html, "no play controls"
    frames = sorted({int(k) for k in FRAME.findall(html)})
    assert frames == list(range(len(frames)))
    assert len(frames) == FRAMES[lesson] >= 10


@pytest.mark.parametrize("lesson", sorted(FRAMES))
def test_the_notebook_file_stays_small(lesson):
    size = (NOTEBOOKS / f"{lesson}.ipynb").stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{lesson}.ipynb is {size / 2**20:.2f} MB"


@pytest.mark.parametrize("lesson", sorted(FRAMES))
def test_the_recipe_rebuilds_the_stored_player_under_the_embed_limit(lesson):
    trace, kwargs = bench_viz().LESSON_ANIMATIONS[lesson]()
    frame_format = kwargs.pop("frame_format")
    anim = animate(trace, **kwargs)
    html = to_html(anim, frame_format=frame_format)
    # Past the limit matplotlib would leave frames out; all of them are here, with room.
    assert len(FRAME.findall(html)) == FRAMES[lesson]
    assert len(html.encode()) < rcParams["animation.embed_limit"] * 2**20 / 4  # a quarter of it
    assert html == players(lesson)[0], (
        f"{lesson}: the stored player is not what to_html gives now; re-run the lesson "
        "with docs/run_notebooks.py")
