"""The page in a real browser: it loads cleanly, the learning rate moves the path, Play animates,
a contour click after the animation sets the start, and the HTML export plays offline.

Selectors the tests rely on (Streamlit writes a widget's key into its container's class as
`st-key-<key>`; the contour's trace layout is documented in app/figures.py):

    [data-testid=stApp][data-test-script-state]   "running" while the script reruns
    .st-key-contour .js-plotly-plot                the contour's graph div (gd)
    .st-key-run1_lr_log input[type=range]          run 1's log-scale learning-rate slider
    .st-key-run1_lr input                          run 1's exact learning rate
    .st-key-x0 input, .st-key-y0 input             the start point
    .st-key-steps input[type=range]                the Steps slider (Home: 10 steps)
    .st-key-export_html button                     the animated-figure download
    [data-testid=stMain] [data-testid=stAlert]     the per-run status sentences
    gd._fullData: run paths have legendgroup "run-…" and mode "lines"; the clickable grid is the
    trace named "start-picker"; gd._fullLayout.sliders[0] is the step slider and
    gd._fullLayout.updatemenus[0] holds the Play buttons (▶ 0.5×, ▶ 1×, ▶ 2×) and Pause (❚❚),
    drawn as `.updatemenu-button`; the slider's current value reads "step <frame name>".

Screenshots for the README go to docs/screenshots/ (main.png, animation.png), overwritten on each
run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# One worker runs every browser test, so they share one server and one Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

GRAPH = ".st-key-contour .js-plotly-plot"
STATUS = "[data-testid=stMain] [data-testid=stAlert]"
TIMEOUT_MS = 30_000  # one interaction and its rerun
CLICK_TRIES, CLICK_WAIT_MS = 3, 10_000  # contour clicks after the animation (see the test)
LOAD_TIMEOUT_MS = 60_000  # first paint: Streamlit's 4.7 MB Plotly bundle, in software rendering

# The first run's path trace: [x, y] as plain arrays. gd.data holds what Streamlit sent (numpy
# arrays arrive as base64 {dtype, bdata} specs); gd._fullData holds the decoded typed arrays.
JS_PATH = """(sel) => {
    const gd = document.querySelector(sel);
    const t = gd._fullData.find(
        t => (t.legendgroup || '').startsWith('run-') && t.mode === 'lines');
    return [Array.from(t.x), Array.from(t.y)];
}"""
JS_SLIDER = """(sel) => {
    const s = document.querySelector(sel)._fullLayout.sliders[0];
    return [s.active, s.steps.length];
}"""
# The graph div is drawn and its layout (axes, slider) is laid out.
JS_DRAWN = """(sel) => {
    const gd = document.querySelector(sel);
    return !!(gd && gd._fullLayout && gd._fullLayout.xaxis && gd.data && gd.data.length
        && gd._fullLayout.sliders && gd._fullLayout.sliders.length);
}"""
# The slider's active frame has not moved for 0.5 s (the animation stopped and settled).
JS_SETTLED = """(sel) => {
    const a = document.querySelector(sel)._fullLayout.sliders[0].active, now = performance.now();
    const w = window.__settle;
    if (!w || w.active !== a) { window.__settle = {active: a, since: now}; return false; }
    return now - w.since > 500;
}"""
JS_FRAME_NAME = """(sel) => {
    const s = document.querySelector(sel)._fullLayout.sliders[0];
    return s.steps[s.active].label;
}"""
JS_IDLE = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid=stMain] [data-stale=true]');
}"""


def wait_idle(page) -> None:
    """Wait until the script has finished its rerun and no element is stale."""
    page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)


def open_app(page, link: str = "/") -> None:
    """Open the page at `link` and wait until the contour is drawn with its Play buttons and
    step slider."""
    page.goto(link)
    page.wait_for_selector(f"{GRAPH} .slider-container", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(f"{GRAPH} .updatemenu-button", timeout=TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, arg=GRAPH, timeout=TIMEOUT_MS)
    wait_idle(page)


def path(page) -> list[list[float]]:
    return page.evaluate(JS_PATH, GRAPH)


def statuses(page) -> list[str]:
    return page.locator(STATUS).all_inner_texts()


def start(page) -> tuple[float, float]:
    return tuple(float(page.locator(f".st-key-{k} input").input_value()) for k in ("x0", "y0"))


def wait_changed(page, expression: str, before: object) -> None:
    """Wait until the JS `expression` (a function of no argument) returns something else."""
    page.wait_for_function(
        f"(before) => JSON.stringify(({expression})()) !== JSON.stringify(before)",
        arg=before,
        timeout=TIMEOUT_MS,
    )


def wait_statuses_changed(page, before: list[str]) -> None:
    page.wait_for_function(
        f"(before) => JSON.stringify([...document.querySelectorAll({STATUS!r})]"
        ".map(e => e.innerText)) !== JSON.stringify(before)",
        arg=before,
        timeout=TIMEOUT_MS,
    )


def click_until(page, graph: str, at: tuple[float, float], done: Callable[[], object]) -> None:
    """Hover, then click the point `at` of the chart `graph` until `done()` stops raising a
    Playwright timeout, CLICK_TRIES times at most; then wait for the rerun to end. The hover
    label shows once plotly.js handles the pointer again (after a redraw); under load a click in
    the middle of a redraw can still be dropped, so it is repeated (a dead chart fails every
    try)."""
    x, y = at
    for attempt in range(CLICK_TRIES):
        page.mouse.move(x - 3, y)
        page.mouse.move(x, y)
        page.wait_for_selector(f"{graph} .hoverlayer .hovertext", timeout=TIMEOUT_MS)
        page.mouse.click(x, y)
        try:
            done()
            break
        except PlaywrightTimeout:
            assert attempt < CLICK_TRIES - 1, f"{CLICK_TRIES} clicks on {graph} did nothing"
    wait_idle(page)


def play(page, speed: str) -> None:
    """Arm a flag for the end of the animation, then press the Play button of `speed`."""
    page.evaluate(
        """(sel) => {
            window.__animated = false;
            document.querySelector(sel).on('plotly_animated', () => { window.__animated = true; });
        }""",
        GRAPH,
    )
    button = page.locator(f"{GRAPH} .updatemenu-button", has_text=f"▶ {speed}")
    assert button.count() == 1, "no Play button for this speed"
    button.click()


def test_page_loads_without_errors(page, screenshots: Path) -> None:
    open_app(page)
    assert page.title() == "Descent Lab"
    gd = page.evaluate(
        """(sel) => {
            const gd = document.querySelector(sel);
            return {
                names: gd.data.map(t => t.name),
                frames: gd._transitionData._frames.length,
                buttons: gd._fullLayout.updatemenus[0].buttons.map(b => b.label),
            };
        }""",
        GRAPH,
    )
    assert gd["names"][0] == "surface" and gd["names"][-1] == "start-picker"
    assert any(name.startswith("1: ") for name in gd["names"]), gd["names"]
    assert 2 <= gd["frames"] <= 200
    assert any(label.startswith("▶") for label in gd["buttons"])
    x, y = path(page)
    assert len(x) > 1 and len(x) == len(y)
    texts = statuses(page)
    assert texts and all(text.strip() for text in texts)
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid=stException]").count()
    page.screenshot(path=screenshots / "main.png")
    assert not page.console_errors


def test_lr_slider_and_exact_entry_change_the_path(page) -> None:
    open_app(page)
    before, status_before = path(page), statuses(page)
    slider = page.locator(".st-key-run1_lr_log input[type=range]")
    exact = page.locator(".st-key-run1_lr input")
    lr_before = float(exact.input_value())

    slider.focus()
    slider.press("ArrowRight")
    wait_changed(page, f"() => ({JS_PATH})({GRAPH!r})", before)
    wait_idle(page)
    lr_after = float(exact.input_value())
    assert lr_after > lr_before, "the slider moved right: the exact entry must follow"
    moved = path(page)
    assert moved[0][0] == before[0][0] and moved[1][0] == before[1][0], "same start"
    assert moved != before
    wait_statuses_changed(page, status_before)

    # The exact entry: type a rate and press Enter.
    exact.fill("0.02")
    exact.press("Enter")
    wait_changed(page, f"() => ({JS_PATH})({GRAPH!r})", moved)
    wait_idle(page)
    assert float(exact.input_value()) == pytest.approx(0.02)
    assert path(page) not in (before, moved)
    thumb = page.locator(".st-key-run1_lr_log [data-testid=stSliderThumbValue]")
    assert thumb.inner_text().strip() == "0.02", "the slider follows the exact entry"


def test_play_advances_the_animation(page, screenshots: Path) -> None:
    open_app(page)
    first, count = page.evaluate(JS_SLIDER, GRAPH)
    assert first == count - 1, "the page opens on the last frame (the full paths)"
    full = len(path(page)[0])

    play(page, "1×")
    page.wait_for_function(
        f"([sel, a0]) => ({JS_SLIDER})(sel)[0] !== a0", arg=[GRAPH, first], timeout=TIMEOUT_MS
    )
    early, _ = page.evaluate(JS_SLIDER, GRAPH)
    partial = len(path(page)[0])
    page.wait_for_function(
        f"([sel, a0]) => ({JS_SLIDER})(sel)[0] >= a0 + 2", arg=[GRAPH, early], timeout=TIMEOUT_MS
    )
    later, _ = page.evaluate(JS_SLIDER, GRAPH)
    assert early < later < count, "Play moves forward through the frames"
    assert partial < full, "a frame before the last shows the path up to its step only"

    # Pause, let the frame settle, and keep a picture of the race under way (no page error: the
    # page's animation guard handles the interrupted animation's rejection).
    page.locator(f"{GRAPH} .updatemenu-button", has_text="❚❚").click()
    page.wait_for_function(JS_SETTLED, arg=GRAPH, polling=250, timeout=TIMEOUT_MS)
    paused, _ = page.evaluate(JS_SLIDER, GRAPH)
    assert later <= paused < count - 1, "paused part-way"
    label = page.locator(f"{GRAPH} .slider-container").text_content()
    assert f"step {page.evaluate(JS_FRAME_NAME, GRAPH)}" in label
    page.locator(".st-key-contour").screenshot(path=screenshots / "animation.png")


def test_surface_stays_drawn_during_play(page) -> None:
    """plotly.js removes the contour layer on every frame transition (contour traces are not
    animatable): with `redraw: false` frames the surface is gone for the whole Play. The page
    redraws every frame, which puts it back at once; only the first transition of a Play leaves a
    few painted frames without it (a short blink, tolerated here: see the report)."""
    open_app(page)
    # Watch every painted frame: is the surface (contour paths or an underlay image) there?
    page.evaluate(
        """(sel) => {
            const gd = document.querySelector(sel);
            const watch = window.__surface = {painted: 0, missing: [], seen: []};
            const tick = () => {
                const drawn = gd.querySelectorAll(
                    '.contourlayer path, .imagelayer image, .layer-below image').length;
                const active = gd._fullLayout.sliders[0].active;
                if (watch.seen[watch.seen.length - 1] !== active) watch.seen.push(active);
                watch.painted += 1;
                if (!drawn) watch.missing.push(active);
                requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        }""",
        GRAPH,
    )
    first, _ = page.evaluate(JS_SLIDER, GRAPH)
    play(page, "1×")
    page.wait_for_function(
        f"([sel, a0]) => ({JS_SLIDER})(sel)[0] !== a0", arg=[GRAPH, first], timeout=TIMEOUT_MS
    )
    early, _ = page.evaluate(JS_SLIDER, GRAPH)
    page.wait_for_function(
        f"([sel, a0]) => ({JS_SLIDER})(sel)[0] >= a0 + 5", arg=[GRAPH, early], timeout=TIMEOUT_MS
    )
    watch = page.evaluate("() => window.__surface")
    start = watch["seen"][:2]  # the frame shown before Play and the first frame played
    later = [active for active in watch["missing"] if active not in start]
    assert not later, f"the surface vanished while frames {sorted(set(later))} played: {watch}"


def test_click_after_animation_sets_the_start(page) -> None:
    open_app(page)
    # 10 steps: a short animation (every frame is a full redraw).
    frames_before = page.evaluate(JS_SLIDER, GRAPH)[1]
    steps = page.locator(".st-key-steps input[type=range]")
    steps.focus()
    steps.press("Home")
    page.wait_for_function(
        f"([sel, n]) => ({JS_SLIDER})(sel)[1] < n", arg=[GRAPH, frames_before], timeout=TIMEOUT_MS
    )
    wait_idle(page)
    start_before, status_before = start(page), statuses(page)
    full = path(page)
    play(page, "2×")
    page.wait_for_function("() => window.__animated === true", timeout=TIMEOUT_MS)
    active, count = page.evaluate(JS_SLIDER, GRAPH)
    assert active == count - 1, "the animation ends on the last frame"
    assert path(page) == full, "the last frame shows the full path again"

    # The start-picker point farthest from every drawn marker and path (away from the edges), and
    # its position on the screen, with the plot scrolled into the middle of the window.
    page.evaluate("(sel) => document.querySelector(sel).scrollIntoView({block: 'center'})", GRAPH)
    target = page.evaluate(
        """(sel) => {
            const gd = document.querySelector(sel), L = gd._fullLayout;
            const picker = gd._fullData.find(t => t.name === 'start-picker');
            const px = Array.from(picker.x), py = Array.from(picker.y);
            const taken = [];
            gd._fullData.forEach(t => {
                if (t === picker || t.type !== 'scatter' || !t.visible || !t.x) return;
                const tx = Array.from(t.x), ty = Array.from(t.y);
                tx.forEach((x, i) => { if (Number.isFinite(x + ty[i])) taken.push([x, ty[i]]); });
            });
            const [x0, x1] = L.xaxis.range, [y0, y1] = L.yaxis.range;
            const inner = (v, a, b) => v > a + 0.1 * (b - a) && v < b - 0.1 * (b - a);
            let best = null, bestDistance = -1;
            px.forEach((x, i) => {
                const y = py[i];
                if (!inner(x, x0, x1) || !inner(y, y0, y1)) return;
                const d = Math.min(...taken.map(([u, v]) => Math.hypot(x - u, y - v)));
                if (d > bestDistance) { bestDistance = d; best = [x, y]; }
            });
            const box = gd.getBoundingClientRect();
            return {
                x: best[0], y: best[1],
                px: box.left + L.xaxis._offset + L.xaxis.l2p(best[0]),
                py: box.top + L.yaxis._offset + L.yaxis.l2p(best[1]),
            };
        }""",
        GRAPH,
    )
    moved = (
        "(before) => ['x0', 'y0'].some((k, i) => "
        "Number(document.querySelector(`.st-key-${k} input`).value) !== before[i])"
    )
    click_until(
        page, GRAPH, (target["px"], target["py"]),
        lambda: page.wait_for_function(moved, arg=list(start_before), timeout=CLICK_WAIT_MS),
    )  # fmt: skip
    x0, y0 = start(page)
    assert x0 == pytest.approx(target["x"], rel=1e-3, abs=1e-3)
    assert y0 == pytest.approx(target["y"], rel=1e-3, abs=1e-3)
    wait_statuses_changed(page, status_before)
    x, y = path(page)
    assert math.isclose(x[0], x0, rel_tol=1e-3, abs_tol=1e-3)
    assert math.isclose(y[0], y0, rel_tol=1e-3, abs_tol=1e-3)


def test_html_export_downloads_and_plays_offline(page, browser, tmp_path: Path) -> None:
    open_app(page)
    frames = page.evaluate(
        "(sel) => document.querySelector(sel)._transitionData._frames.map(f => f.name)", GRAPH
    )
    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.locator(".st-key-export_html button").click()
    download = download_info.value
    assert download.suggested_filename == "descent-lab.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    # Booleans, not `in` on the text: a failing `in` would print 5 MB.
    inlined = re.search(r"plotly\.js v\d", text) is not None
    external = re.search(r"<script[^>]*\bsrc=", text) is not None
    assert inlined and not external, "plotly.js must be inlined, no external script"
    has_frames = "Plotly.addFrames" in text
    assert has_frames, "the export must add the animation frames"
    names = set(re.findall(r'"name":\s*"(\d+)"', text))
    wanted = {frames[0], frames[len(frames) // 2], frames[-1]}
    assert wanted <= names, f"frames {sorted(wanted - names)} missing from the export"

    # It plays with the network off.
    context = browser.new_context(offline=True)
    try:
        offline = context.new_page()
        errors: list[str] = []
        offline.on("pageerror", lambda error: errors.append(str(error)))
        offline.goto(saved.as_uri())
        offline.wait_for_function(JS_DRAWN, arg=".js-plotly-plot", timeout=TIMEOUT_MS)
        assert offline.evaluate(
            "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
        ) == len(frames)
        offline.locator(".updatemenu-button", has_text="▶ 2×").click()
        offline.wait_for_function(
            f"(sel) => {{ const [a, n] = ({JS_SLIDER})(sel); return a > 0 && a < n - 1; }}",
            arg=".js-plotly-plot",
            timeout=TIMEOUT_MS,
        )
        assert not errors
    finally:
        context.close()
