"""Diagrams depend on the trace alone: a JSON Lines file draws the same; core never needs viz."""

from __future__ import annotations

import subprocess
import sys

from paxos_edu import read_jsonl, to_jsonl
from paxos_edu.viz import draw_paxos, draw_ring, draw_timeline


def texts(fig) -> list[str]:
    return sorted(t.get_text() for ax in fig.axes for t in ax.texts if t.get_visible())


def test_a_json_lines_trace_draws_the_same_as_the_live_one(paxos_trace, tmp_path):
    path = to_jsonl(paxos_trace, tmp_path / "run.jsonl")
    loaded = read_jsonl(path)
    for draw in (draw_paxos, draw_ring, draw_timeline):
        assert texts(draw(loaded, at=97)) == texts(draw(paxos_trace, at=97))


def test_a_trace_cut_short_still_draws(paxos_trace):
    for cut in (1, 9, 30):
        for draw in (draw_paxos, draw_ring, draw_timeline):
            draw(paxos_trace[:cut])


def test_the_protocol_core_imports_no_plotting_library():
    code = ("import sys, paxos_edu, paxos_edu.core; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'networkx', 'ipywidgets') or m.startswith('paxos_edu.viz')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_figures_display_in_ipython_without_pyplot():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    from paxos_edu.viz.display import enable_notebook_display

    shell = InteractiveShell.instance()
    try:
        png = shell.display_formatter.formatters["image/png"]
        png.pop(Figure, None)
        assert enable_notebook_display() is True
        assert enable_notebook_display() is False  # an existing formatter is left alone
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1])
        assert png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        InteractiveShell.clear_instance()
