"""Play in a running event loop: the messages a tick delivers glide before the tick is shown."""

from __future__ import annotations

import asyncio
import re

from paxos_edu import Config
from paxos_edu.widgets import Dashboard

TITLE = re.compile(r"Basic Paxos, event (\d+)")


def test_a_play_tick_glides_then_shows_the_step():
    dash = Dashboard(config=Config(1, 3, 1, clients=((5, 0),)), raise_errors=True)
    try:
        dash.setup.start.click()
        dash.controls.speed.value = 1  # one step a second: room for every in-between picture
        pictures: list[str] = []
        dash.diagrams[0].widget.observe(lambda change: pictures.append(change["new"]), "value")

        async def tick() -> tuple[int, int]:
            since = dash.session.at
            dash.controls.play.value += 1          # what the browser's Play timer does
            at = dash.session.at
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while (not pictures or int(TITLE.search(pictures[-1]).group(1)) != at) \
                    and loop.time() < deadline:
                await asyncio.sleep(0.01)          # the loop runs the glide's timers
            return since, at

        shown = []
        for _ in range(3):
            pictures.clear()
            since, at = asyncio.run(tick())
            shown.append((since, at, list(pictures)))
        dash.controls.stop()
    finally:
        dash.close()
    glided = [s for s in shown if len(s[2]) > 1]
    assert glided, f"no tick glided: {[(a, b, len(p)) for a, b, p in shown]}"
    for since, at, pictures in glided:
        titles = [int(TITLE.search(p).group(1)) for p in pictures]
        # In-between pictures of the step it leaves, each with a moving disc, then the step.
        assert titles == [since] * (len(titles) - 1) + [at], (since, at, titles)
        assert all(moving(p) for p in pictures[:-1]) and not moving(pictures[-1])


def moving(svg: str) -> bool:
    """Whether the picture draws a gliding message (a disc of the comets' collection)."""
    return "<use" in svg[svg.index('id="gliding"'):]
