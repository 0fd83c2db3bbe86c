"""How the dashboard looks and how fast it repaints, in JupyterLab in headless Chromium.

At a 1366×768 laptop and a 1920×1080 screen, 11 consensus nodes (3/5/3) and 3 clients,
on both backends: the diagram is SVG (sharp at any width and pixel ratio), on every
tab its smallest text is at least 12 px on screen and no text runs past the picture's
edge, no button is cut short and no node's name
in the fault panel wraps, and the tables go under the diagram on the laptop and beside
it on the wide screen. With JupyterLab's dark theme the diagram is dark too.

Each test also measures, in the page, every Step click's time from the click to the
new picture painted (a MutationObserver on the diagram, then the next animation frame
and a task after it, i.e. after the paint), and how much of that came before the new
picture reached the page (kernel, comm, widget update). The figures go to
``test-artifacts/browser/step_repaint.json``, which ``benchmarks/bench_browser.py``
prints; no test asserts on them (the machine may be busy). Screenshots of both sizes go
to ``test-artifacts/browser/``; with ``PAXOS_EDU_SCREENSHOT=1`` the README's pictures
``docs/img/dashboard_laptop.png``, ``dashboard_wide.png`` (stepped on into phase 2) and
``dashboard_dark.png`` are refreshed (``docs/img/dashboard.png`` is lesson 06's, written
by ``test_dashboard_browser.py``).
"""

from __future__ import annotations

import json
import os
import re
import statistics
from pathlib import Path

import pytest

# The import skips this module as it skips its own (no browser, no CI).
from .test_dashboard_browser import (  # noqa: F401  (browser, lab: fixtures used below)
    ARTIFACTS,
    ROOT,
    TIMEOUT_MS,
    browser,
    button,
    click_and_wait,
    expect,
    kernel_idle,
    lab,
    one_cell_notebook,
    run_notebook,
    screenshotted_page,
    status,
)

SIZES = {"laptop": (1366, 768), "wide": (1920, 1080)}
BACKENDS = {"simulated": "simulated", "udp": "real UDP processes"}
CLICKS = 24                 # Step clicks timed per test (the election and into phase 1)
MIN_TEXT_PX = 12.0
FIGURES = ARTIFACTS / "step_repaint.json"
DOC_IMG = ROOT / "docs" / "img"


def _notebook(path: Path, backend: str) -> None:
    """A one-cell notebook: the dashboard on 3/5/3 nodes and 3 clients, seeded."""
    source = ("from paxos_edu import Config\n"
              "from paxos_edu.widgets import Dashboard\n\n"
              "dash = Dashboard(config=Config(3, 5, 3, clients=((210, 0), (220, 1), (230, 2))),\n"
              f"                 seed=1, backend={backend!r})\n"
              "dash")
    one_cell_notebook(path, source)


@pytest.fixture
def sized_page(browser, lab, request):  # noqa: F811  (the imported fixtures)
    with screenshotted_page(browser, request, TIMEOUT_MS) as page:
        yield page


# Step clicks timed in the page: click, wait for the diagram to change, then for the next
# frame to be painted; then for the status line and the kernel to settle before the next.
TIME_STEPS = """async ([step, diagram, status, bar, n, limit]) => {
    const out = [];
    const until = async (ok, what) => {
        const t = performance.now();
        while (!ok()) {
            if (performance.now() - t > limit) throw new Error('timed out waiting for ' + what);
            await new Promise((r) => setTimeout(r, 2));
        }
    };
    for (let i = 0; i < n; i++) {
        const before = status.innerText;
        let arrived = null;
        const t0 = performance.now();
        const painted = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no new picture')), limit);
            const mo = new MutationObserver(() => {
                mo.disconnect(); clearTimeout(timer); arrived = performance.now();
                requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
            });
            mo.observe(diagram, {childList: true, subtree: true, characterData: true});
        });
        step.click();
        const t1 = await painted;
        out.push([t1 - t0, arrived - t0]);
        await until(() => status.innerText !== before, 'the status line');
        await until(() => bar.innerText.includes('| Idle'), 'an idle kernel');
    }
    return out;
}"""

SMALLEST_TEXT = """(svg) => {
    let least = Infinity, which = '';
    for (const t of svg.querySelectorAll('text')) {
        if (!t.textContent.trim() || t.getBoundingClientRect().width === 0) continue;
        const m = t.getScreenCTM();
        const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
        if (px < least) { least = px; which = t.textContent; }
    }
    return [least, which];
}"""

CUT_TEXT = """(svg) => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')].filter((t) => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && t.textContent.trim() && (r.left < box.left - 1 ||
            r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1);
    }).map((t) => t.textContent);
}"""

CLIPPED = """(root) => [...root.querySelectorAll('button')]
    .filter((b) => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
    .map((b) => b.innerText || b.title)"""


def record(key: str, clicks: list[list[float]], **more) -> None:
    """Add this test's click figures (and ``more``) to ``FIGURES`` (for bench_browser.py)."""
    total = [c[0] for c in clicks]
    arrive = [c[1] for c in clicks]
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[key] = {"clicks": len(total), "median_ms": statistics.median(total),
                    "p90_ms": statistics.quantiles(total, n=10)[-1], "max_ms": max(total),
                    "arrive_median_ms": statistics.median(arrive), **more}
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1, sort_keys=True))


def diagram(dash):
    """The visible diagram's ``<svg>`` (the Paxos tab)."""
    return dash.locator(".widget-tab .paxos-diagram:visible svg").first


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("size", sorted(SIZES))
def test_readable_unclipped_and_timed(sized_page, lab, size, backend):  # noqa: F811
    page = sized_page
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    name = f"look_{backend}.ipynb"
    _notebook(lab.root / name, BACKENDS[backend])
    dash = run_notebook(page, lab, name)
    click_and_wait(dash, "Start", "step 0 of 0")
    svg = diagram(dash)
    expect(svg).to_be_visible()
    kernel_idle(page)
    clicks = page.evaluate(TIME_STEPS, [
        button(dash, "Step").element_handle(), dash.locator(".paxos-diagram").first.element_handle(),
        status(dash).locator("xpath=..").element_handle(),
        page.locator("#jp-main-statusbar").element_handle(),
        CLICKS, TIMEOUT_MS])
    assert len(clicks) == CLICKS
    expect(status(dash)).to_contain_text(f"step {CLICKS} of {CLICKS}")
    # Sharp at any size: vector, as wide as its column.
    assert svg.evaluate("(s) => s.tagName.toLowerCase()") == "svg"
    smallest = {"Paxos": svg.evaluate(SMALLEST_TEXT)}
    cut = {"Paxos": svg.evaluate(CUT_TEXT)}
    for tab in ("space-time", "ring", "counts"):  # the other diagrams too
        dash.locator(".widget-tab .lm-TabBar-tab", has_text=tab).click()
        other = diagram(dash)
        expect(other).to_be_visible()
        smallest[tab] = other.evaluate(SMALLEST_TEXT)
        cut[tab] = other.evaluate(CUT_TEXT)
        other.evaluate("(s) => s.scrollIntoView({block: 'start'})")
        page.screenshot(path=ARTIFACTS / f"dashboard_{size}_{backend}_{tab}.png")
    dash.locator(".widget-tab .lm-TabBar-tab", has_text="Paxos").click()
    expect(svg).to_be_visible()
    record(f"{width}x{height} {backend}", clicks,
           smallest_text_px={tab: round(px, 1) for tab, (px, _) in smallest.items()})
    assert not any(cut.values()), f"text beyond the picture's edge: {cut}"
    for tab, (least, which) in smallest.items():
        assert least >= MIN_TEXT_PX, f"{tab}: text {which!r} is {least:.1f} px at {width}x{height}"
    # The tables: under the diagram on a laptop, beside it on a wide screen.
    tables = dash.locator("table.paxos-nodes")
    pic, table = svg.bounding_box(), tables.bounding_box()
    if size == "laptop":
        assert table["y"] >= pic["y"] + pic["height"] - 1, "the tables are not under the diagram"
        assert pic["width"] >= 0.9 * dash.bounding_box()["width"], "the diagram is not full width"
    else:
        assert table["x"] >= pic["x"] + pic["width"] - 1, "the tables are not beside the diagram"
    if os.environ.get("PAXOS_EDU_SCREENSHOT") == "1" and backend == "simulated":
        # For the README: on into phase 2, where arrows of every colour are in flight.
        for k in range(CLICKS + 1, CLICKS + 200):
            if re.search(r"accepted \(", tables.inner_text()):
                break
            click_and_wait(dash, "Step", f"step {k} of {k}")
        kernel_idle(page)
        svg.evaluate("(s) => s.scrollIntoView({block: 'start'})")
        DOC_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOC_IMG / f"dashboard_{size}.png")
    # No control cut short, no node name wrapped, also with a node down.
    rows = dash.locator(".widget-hbox").filter(has_text=re.compile(r"^\s*A\d+ acceptor")).filter(
        has=button(page, "crash"))
    button(rows.first, "crash").click()
    expect(rows.first).to_contain_text("down")
    kernel_idle(page)
    assert dash.evaluate(CLIPPED) == []
    label = rows.first.locator(".widget-html-content").first
    line = label.evaluate("(e) => parseFloat(getComputedStyle(e).lineHeight) || 20")
    assert label.bounding_box()["height"] < 1.6 * line, "the node's label wraps"
    # What a teacher sees: the diagram at the top of the screen.
    svg.evaluate("(s) => s.scrollIntoView({block: 'start'})")
    page.screenshot(path=ARTIFACTS / f"dashboard_{size}_{backend}.png")


def test_the_diagram_follows_the_dark_theme(sized_page, lab):  # noqa: F811
    page = sized_page
    page.set_viewport_size({"width": 1366, "height": 768})
    name = "look_simulated.ipynb"
    _notebook(lab.root / name, BACKENDS["simulated"])
    dash = run_notebook(page, lab, name)
    click_and_wait(dash, "Start", "step 0 of 0")
    for k in range(1, 4):
        click_and_wait(dash, "Step", f"step {k} of {k}")
    svg = diagram(dash)
    background = "(s) => getComputedStyle(s.querySelector('#patch_1 path')).fill"
    ink = "(s) => getComputedStyle(s.querySelector('text')).fill"
    assert svg.evaluate(background) == "rgb(255, 255, 255)"  # the light theme first
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Settings$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Theme")).hover()
    page.get_by_role("menuitem", name="JupyterLab Dark", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme has loaded
    try:
        expect(svg).to_be_visible()
        dark = svg.evaluate(background)
        assert dark != "rgb(255, 255, 255)", "the diagram stays white in the dark theme"
        channels = [int(c) for c in re.findall(r"\d+", svg.evaluate(ink))[:3]]
        assert sum(channels) / 3 > 128, f"dark text on a dark page: {channels}"
        svg.evaluate("(s) => s.scrollIntoView({block: 'start'})")
        page.screenshot(path=ARTIFACTS / "dashboard_dark.png")
        if os.environ.get("PAXOS_EDU_SCREENSHOT") == "1":
            page.screenshot(path=DOC_IMG / "dashboard_dark.png")
    finally:  # the theme is a user setting of this JupyterLab: put it back
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Settings$")).click()
        page.locator(".lm-Menu-item", has_text=re.compile(r"^Theme")).hover()
        page.get_by_role("menuitem", name="JupyterLab Light", exact=True).click()
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true")


COUNT_GLIDES = """(diagram) => {
    const seen = window.paxosPictures = {glides: 0, pictures: 0};
    new MutationObserver(() => {
        seen.pictures++;
        if (diagram.querySelector('#gliding use')) seen.glides++;  // a moving message's disc
    }).observe(diagram, {childList: true, subtree: true});
}"""


def test_play_glides_the_messages_in_the_browser(sized_page, lab):  # noqa: F811
    page = sized_page
    page.set_viewport_size({"width": 1366, "height": 768})
    name = "look_simulated.ipynb"
    _notebook(lab.root / name, BACKENDS["simulated"])
    dash = run_notebook(page, lab, name)
    click_and_wait(dash, "Start", "step 0 of 0")
    kernel_idle(page)
    diagram = dash.locator(".paxos-diagram").first
    page.evaluate(COUNT_GLIDES, diagram.element_handle())
    dash.locator(".widget-play button").first.click()  # Play, at the default 2 steps/s
    try:
        page.wait_for_function("window.paxosPictures.glides >= 4", timeout=TIMEOUT_MS)
    finally:
        button(dash, "Pause").click()
        seen = page.evaluate("window.paxosPictures")
    assert seen["pictures"] > seen["glides"] >= 4, seen  # in-between pictures, and the steps
