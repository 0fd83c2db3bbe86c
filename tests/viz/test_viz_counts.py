"""Counting plots: measured Chang-Roberts tokens and a run's messages per phase."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_rgba

from paxos_edu import message_counts
from paxos_edu.viz import election_tokens, measure_elections, plot_message_counts, plot_phase_counts
from paxos_edu.viz.ring import best_case, worst_case
from paxos_edu.viz.style import phase_color


@pytest.mark.parametrize("n", [3, 4, 7, 11])
def test_ascending_rings_meet_the_best_case_and_descending_the_worst(n):
    assert election_tokens(n, "ascending") == best_case(n) == 2 * n - 1
    assert election_tokens(n, "descending") == worst_case(n) == n * (n + 1) // 2


def test_random_rings_lie_between_the_bounds():
    for n in (5, 9):
        for seed in range(5):
            assert best_case(n) <= election_tokens(n, "random", seed) <= worst_case(n)


def test_plot_message_counts_draws_the_measurements_and_the_bounds():
    counts = measure_elections(range(3, 7), seeds=range(3))
    fig = plot_message_counts(counts=counts)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "best case 2n−1" in labels and "worst case n(n+1)/2" in labels
    assert any(label.startswith("average n·H") for label in labels)
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert list(lines["ascending ring (measured)"].get_ydata()) == [5, 7, 9, 11]
    assert list(lines["descending ring (measured)"].get_ydata()) == [6, 10, 15, 21]


def test_plot_phase_counts_has_a_bar_per_phase_in_its_colour(paxos_trace):
    fig = plot_phase_counts(paxos_trace)
    ax = fig.axes[0]
    by_phase = message_counts(paxos_trace)["by_phase"]
    order = ["election", "setup", "request", "1.1", "1.2", "2.1", "2.2", "3"]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [by_phase[p] for p in order]
    assert [tuple(p.get_facecolor()) for p in ax.patches] == [to_rgba(phase_color(p))
                                                               for p in order]
