"""What a presenter does in a real JupyterLab: keys drive the dashboard; a run is shared.

The keys must reach the dashboard and not JupyterLab: R resets the run instead of turning
the selected cell into a raw cell, Space steps instead of scrolling. Typing in a cell's
editor must stay typing. The share buttons give browser downloads (the trace, a player)
and a run code that replays in the simulator. Uses the JupyterLab and Chromium fixtures of
``test_dashboard_browser.py`` (skipped without Chromium, a failure under CI).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from paxos_edu.runcode import replay

from .test_dashboard_browser import (  # noqa: F401  (fixtures are found by name)
    NOTEBOOK,
    browser,
    button,
    expect,
    lab,
    notebook_panel,
    one_cell_notebook,
    page,
    run_notebook,
    status,
)


def test_presenter_keys_step_back_and_reset_the_dashboard_not_the_notebook(page, lab):  # noqa: F811
    page.set_viewport_size({"width": 1366, "height": 768})
    dash = run_notebook(page, lab, NOTEBOOK)
    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0")
    keys = dash.locator(".paxos-keys")
    expect(keys).to_contain_text("→ step")
    dash.locator(".paxos-status").click()  # the dashboard was the last thing clicked
    for k, key in enumerate(("ArrowRight", "Space", "PageDown"), start=1):
        page.keyboard.press(key)
        expect(status(dash)).to_contain_text(f"step {k} of {k}")
    page.keyboard.press("PageUp")
    expect(status(dash)).to_contain_text("step 2 of 3")
    page.keyboard.press("ArrowLeft")
    expect(status(dash)).to_contain_text("step 1 of 3")
    help_table = dash.locator(".paxos-keys-help")
    expect(help_table).to_be_hidden()
    page.keyboard.press("?")
    expect(help_table).to_be_visible()
    expect(help_table).to_contain_text("Fork from here")
    page.screenshot(path=str(_artifact("keys_help_1366.png")))
    page.keyboard.press("?")
    expect(help_table).to_be_hidden()

    cells = notebook_panel(page).locator(".jp-Cell")
    kinds = [cells.nth(i).get_attribute("class") for i in range(cells.count())]
    page.keyboard.press("r")  # R: reset the run; JupyterLab must not see it
    expect(status(dash)).to_contain_text("Configure the system, then press Start.")
    assert [cells.nth(i).get_attribute("class") for i in range(cells.count())] == kinds, \
        "a presenter key reached JupyterLab's shortcuts too"
    assert notebook_panel(page).locator(".jp-RawCell").count() == 0

    # Typing in a code cell is typing, whatever the dashboard's keys are.
    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0")
    editor = notebook_panel(page).locator(".jp-CodeCell .cm-content").first
    editor.click()
    page.keyboard.type("r ")
    page.keyboard.press("ArrowRight")
    expect(editor).to_contain_text(re.compile(r"r "))
    expect(status(dash)).to_contain_text("step 0 of 0")


def _artifact(name: str):
    from .test_dashboard_browser import ARTIFACTS
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def test_share_downloads_the_trace_and_a_player_and_gives_a_run_code(page, lab):  # noqa: F811
    page.set_viewport_size({"width": 1366, "height": 768})
    dash = run_notebook(page, lab, NOTEBOOK)
    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0")
    for k in range(1, 7):
        button(dash, "Step").click()
        expect(status(dash)).to_contain_text(f"step {k} of {k}")
    dash.get_by_text("share this run").click()
    share = dash.locator(".paxos-share")
    expect(share).to_be_visible()

    with page.expect_download() as got:
        share.locator("button.paxos-share-jsonl").click()
    lines = Path(got.value.path()).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert got.value.suggested_filename == "paxos_run.jsonl"
    assert events and events[0]["kind"] and all("seq" in ev for ev in events)

    with page.expect_download() as got:
        share.locator("button.paxos-share-html").click()
    html = Path(got.value.path()).read_text()
    assert got.value.suggested_filename == "paxos_run.html"
    assert html.startswith("<!doctype html>") and "data:image/" in html

    share.locator("button.paxos-share-code").click()
    code = share.locator("input.paxos-share-code")
    expect(code).to_be_visible()
    expect(code).to_have_value(re.compile(r"^pxe1\."))
    sim = replay(code.input_value())
    assert sim.trace == events  # the code replays the very run that was downloaded
    expect(status(dash)).to_contain_text("run code of steps 0 to 6")
    page.screenshot(path=str(_artifact("share_1366.png")))


def test_pause_on_real_processes_lands_on_the_latest_step(page, lab):  # noqa: F811
    """Play free-runs real processes (slowed 100 times, so they are still going when the
    class pauses); the display follows behind. Pause puts them back in step mode and the
    cursor on the newest step, where the crash buttons work at once."""
    source = ("from paxos_edu import Config\n"
              "from paxos_edu.widgets import Dashboard\n\n"
              "dash = Dashboard(config=Config(1, 3, 1, clients=((210, 0),)),\n"
              "                 backend='real UDP processes', cluster_options={'slow': 100})\n"
              "dash")
    one_cell_notebook(lab.root / "pause_real.ipynb", source)
    page.set_viewport_size({"width": 1366, "height": 768})
    dash = run_notebook(page, lab, "pause_real.ipynb")
    button(dash, "Start").click()
    expect(status(dash)).to_contain_text("step 0 of 0")
    dash.locator(".widget-play button").first.click()  # ▶
    expect(status(dash)).to_contain_text("free-running", timeout=30_000)
    expect(status(dash)).to_contain_text(re.compile(r"step \d+ of \d+"))
    button(dash, "Pause").click()
    expect(status(dash)).to_contain_text("paused at the latest step", timeout=30_000)
    text = status(dash).inner_text()
    cursor, head = map(int, re.search(r"step (\d+) of (\d+)", text).groups())
    assert cursor == head, text
    expect(status(dash)).not_to_contain_text("the past")
    # Node 1's row: N1 if the pause came during the election, A1 acceptor after it.
    crash = dash.locator(".widget-hbox", has_text=re.compile(r"^(N1|A1 acceptor)crash")).get_by_role(
        "button", name=re.compile(r"crash"))
    expect(crash).to_be_enabled()
    page.screenshot(path=str(_artifact("pause_real_1366.png")))
