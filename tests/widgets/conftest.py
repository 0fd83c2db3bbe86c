"""Headless widget tests: widgets work without a kernel; figures render on Agg."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from paxos_edu.widgets import Dashboard  # noqa: E402


def configure(dash: Dashboard, proposers: int, acceptors: int, learners: int,
              clients=((210, 0), (220, 1))) -> None:
    """Set the panel as a student would: sliders, then the client rows (add / fill / remove)."""
    setup = dash.setup
    setup.proposers.value = proposers
    setup.acceptors.value = acceptors
    setup.learners.value = learners
    while len(setup.clients) > len(clients):
        setup.clients[-1].remove.click()
    while len(setup.clients) < len(clients):
        setup.add_client.click()
    for row, (value, k) in zip(setup.clients, clients, strict=True):
        row.value.value = str(value)
        row.proposer.value = k


def step_until(dash: Dashboard, done, limit: int = 500) -> int:
    """Click Step until ``done(dash)``; fails after ``limit`` clicks."""
    for clicks in range(limit):
        if done(dash):
            return clicks
        dash.controls.step.click()
    raise AssertionError(f"not done after {limit} Step clicks: {dash.status.value}")


def all_decided(dash: Dashboard) -> bool:
    return len(dash.session.decided()) == len(dash.session.config.clients)


@pytest.fixture
def dash():
    d = Dashboard(raise_errors=True)
    yield d
    d.close()
