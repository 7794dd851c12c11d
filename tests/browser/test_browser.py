"""The page in a real browser: it loads cleanly, the learning rate moves the path, Play animates,
a contour click after the animation sets the start, and the HTML export plays offline.

Selectors the tests rely on (Streamlit writes a widget's key into its container's class as
`st-key-<key>`; the live view's DOM contract is the header comment of app/static/descent-live.js):

    [data-testid=stApp][data-test-script-state]   "running" while the script reruns
    .dl-live[data-revision]                        the live view, bumped after each drawn setup
    .dl-plane                                      the contour's graph div (gd)
    .dl-metrics                                    the metric curves' graph div
    .dl-play (▶ 0.5×, ▶ 1×, ▶ 2×), .dl-pause       Play and Pause
    input.dl-step, .dl-step-label                  the step slider and its "step k"
    .dl-hover                                      the read-out under the pointer on the plane
    .st-key-run1_lr_log input[type=range]          run 1's log-scale learning-rate slider
    .st-key-run1_lr input                          run 1's exact learning rate
    .st-key-x0 input, .st-key-y0 input             the start point
    .st-key-steps input[type=range]                the Steps slider (Home: 10 steps)
    .st-key-export_html button                     the animated-figure download
    [data-testid=stMain] [data-testid=stAlert]     the per-run status sentences
    gd._fullData: run paths have legendgroup "run-…" and mode "lines"; the surface is a raster
    underlay image (`.imagelayer image`) with a colour-bar trace named "surface".

Screenshots go to tests/artifacts/browser/screenshots/ (git-ignored); `make screenshots` writes the
README's (main.png, animation.png) to docs/screenshots/.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.figures import MAX_FRAMES
from tests.programs import JS_IDLE

# One worker runs every browser test, so they share one server and one Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LIVE = ".dl-live"
GRAPH = ".dl-plane"
METRICS = ".dl-metrics"  # the metric curves' graph div
HOVER = ".dl-hover"
UNDERLAY = ".imagelayer image"  # the surface's raster, in the plot area under the traces
STATUS = "[data-testid=stMain] [data-testid=stAlert]"
TIMEOUT_MS = 30_000  # one interaction and its rerun
CLICK_TRIES, CLICK_WAIT_MS = 3, 10_000  # contour clicks after the animation (see the test)
LOAD_TIMEOUT_MS = 60_000  # first paint: plotly.js and the first run's compilation

# The first run's path trace: [x, y] as plain arrays (gd._fullData holds decoded typed arrays).
JS_PATH = """(sel) => {
    const gd = document.querySelector(sel);
    const t = gd._fullData.find(
        t => (t.legendgroup || '').startsWith('run-') && t.mode === 'lines');
    return [Array.from(t.x), Array.from(t.y)];
}"""
# The live view's step slider: [step shown, last step].
JS_STEP = """() => {
    const s = document.querySelector('input.dl-step');
    return [Number(s.value), Number(s.max)];
}"""
# The graph div `sel` is drawn and its axes are laid out.
JS_DRAWN = """(sel) => {
    const gd = document.querySelector(sel);
    return !!(gd && gd._fullLayout && gd._fullLayout.xaxis && gd.data && gd.data.length);
}"""
# The step shown has not moved for 0.5 s (the animation stopped and settled).
JS_SETTLED = """() => {
    const a = document.querySelector('input.dl-step').value, now = performance.now();
    const w = window.__settle;
    if (!w || w.active !== a) { window.__settle = {active: a, since: now}; return false; }
    return now - w.since > 500;
}"""
# Play armed by play(): a step before the last was shown, the last one is shown now, and its path
# has been drawn since (the view counts path redraws once plotly.js has drawn them).
JS_PLAYED = """() => {
    const shown = window.__shown || [];
    const last = 'step ' + document.querySelector('input.dl-step').max;
    return shown.length > 1 && shown[0] !== last && shown[shown.length - 1] === last
        && window.__descentLiveStore.pathUpdates > window.__shownUpdates;
}"""
# The exported (animated) figure: its Plotly slider's [active frame, frames].
JS_SLIDER = """(sel) => {
    const s = document.querySelector(sel)._fullLayout.sliders[0];
    return [s.active, s.steps.length];
}"""
# The plane's point farthest (on the screen) from every drawn marker and path, on a grid inside
# the inner 80 % of the axes, with the plot scrolled into the middle of the window: the whole
# pixel it falls on, and the data coordinates of that pixel (plotly.js's own axis mapping).
JS_EMPTY_POINT = """(sel) => {
    const gd = document.querySelector(sel), L = gd._fullLayout, xa = L.xaxis, ya = L.yaxis;
    gd.scrollIntoView({block: 'center'});
    const box = gd.getBoundingClientRect();
    const pixel = (x, y) => [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
    const taken = [];
    gd._fullData.forEach(t => {
        if (t.type !== 'scatter' || t.visible !== true || !t.x) return;
        for (let i = 0; i < t.x.length; i++) {
            const [x, y] = [t.x[i], t.y[i]];
            if (Number.isFinite(x) && Number.isFinite(y)) taken.push(pixel(x, y));
        }
    });
    const [x0, x1] = xa.range, [y0, y1] = ya.range, n = 24;
    let best = null, bestDistance = -1;
    for (let i = 0; i <= n; i++) for (let j = 0; j <= n; j++) {
        const [u, v] = pixel(x0 + (0.1 + 0.8 * i / n) * (x1 - x0),
                             y0 + (0.1 + 0.8 * j / n) * (y1 - y0));
        const d = Math.min(...taken.map(([p, q]) => Math.hypot(u - p, v - q)));
        if (d > bestDistance) { bestDistance = d; best = [Math.round(u), Math.round(v)]; }
    }
    const [px, py] = best;
    return {px, py, x: xa.p2l(px - box.left - xa._offset), y: ya.p2l(py - box.top - ya._offset)};
}"""


def wait_idle(page) -> None:
    """Wait until the script has finished its rerun and no element is stale."""
    page.wait_for_function(JS_IDLE, timeout=TIMEOUT_MS)


def open_app(page, link: str = "/") -> None:
    """Open the page at `link` and wait until the live view has drawn the contour."""
    page.goto(link)
    page.wait_for_selector(f"{LIVE}[data-revision]", state="attached", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, arg=GRAPH, timeout=TIMEOUT_MS)
    wait_idle(page)


def unfold(page, run_id: int) -> None:
    """Click run `run_id`'s folded panel title in the sidebar; wait until its controls are drawn
    (a folded panel draws none: app/controls/runs.py)."""
    title = page.locator("[data-testid=stSidebar] [data-testid=stExpander] summary")
    title.filter(has_text=f"Run {run_id} ·").click()
    page.locator(f".st-key-run{run_id}_optimizer").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)


def path(page) -> list[list[float]]:
    return page.evaluate(JS_PATH, GRAPH)


def step(page) -> tuple[int, int]:
    """The step shown and the last step."""
    shown, last = page.evaluate(JS_STEP)
    return shown, last


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


def click_until(
    page, graph: str, at: tuple[float, float], done: Callable[[], object], hover: str = ""
) -> None:
    """Hover, then click the point `at` of the chart `graph` until `done()` stops raising a
    Playwright timeout, CLICK_TRIES times at most; then wait for the rerun to end. The hover
    label (`hover`, by default plotly.js's) shows once the chart handles the pointer again (after
    a redraw); under load a click in the middle of a redraw can still be dropped, so it is
    repeated (a dead chart fails every try)."""
    x, y = at
    for attempt in range(CLICK_TRIES):
        page.mouse.move(x - 3, y)
        page.mouse.move(x, y)
        page.wait_for_selector(hover or f"{graph} .hoverlayer .hovertext", timeout=TIMEOUT_MS)
        page.mouse.click(x, y)
        try:
            done()
            break
        except PlaywrightTimeout:
            assert attempt < CLICK_TRIES - 1, f"{CLICK_TRIES} clicks on {graph} did nothing"
    wait_idle(page)


def click_sets_the_start(page) -> None:
    """Click the plane's emptiest point (JS_EMPTY_POINT): the start entries take its data
    coordinates (to their 4 significant digits) and run 1's path is redrawn from there."""
    start_before, path_before = start(page), path(page)
    target = page.evaluate(JS_EMPTY_POINT, GRAPH)
    moved = (
        "(before) => ['x0', 'y0'].some((k, i) => "
        "Number(document.querySelector(`.st-key-${k} input`).value) !== before[i])"
    )
    click_until(
        page, GRAPH, (target["px"], target["py"]),
        lambda: page.wait_for_function(moved, arg=list(start_before), timeout=CLICK_WAIT_MS),
        hover=HOVER,
    )  # fmt: skip
    x0, y0 = start(page)
    assert x0 == pytest.approx(target["x"], rel=1e-3, abs=1e-3)
    assert y0 == pytest.approx(target["y"], rel=1e-3, abs=1e-3)
    wait_changed(page, f"() => ({JS_PATH})({GRAPH!r})", path_before)
    x, y = path(page)
    assert math.isclose(x[0], x0, rel_tol=1e-3, abs_tol=1e-3)
    assert math.isclose(y[0], y0, rel_tol=1e-3, abs_tol=1e-3)


def play(page, speed: str) -> None:
    """Record every step label shown from now on and the path redraws counted when it showed
    (JS_PLAYED reads them), then press the Play button of `speed`."""
    page.evaluate(
        """() => {
            const label = document.querySelector('.dl-step-label');
            window.__shown = [];
            if (window.__shownObserver) window.__shownObserver.disconnect();
            window.__shownObserver = new MutationObserver(() => {
                window.__shown.push(label.textContent);
                window.__shownUpdates = window.__descentLiveStore.pathUpdates;
            });
            window.__shownObserver.observe(label, {childList: true, characterData: true,
                                                   subtree: true});
        }"""
    )
    button = page.locator(".dl-play", has_text=f"▶ {speed}")
    assert button.count() == 1, "no Play button for this speed"
    button.click()


def test_page_loads_without_errors(page, screenshots: Path) -> None:
    open_app(page)
    assert page.title() == "Descent Lab"
    names = page.evaluate("(sel) => document.querySelector(sel).data.map(t => t.name)", GRAPH)
    assert names[0] == "surface"
    assert any(name.startswith("1: ") for name in names), names
    assert page.locator(f"{GRAPH} {UNDERLAY}").count() == 1, "the surface's raster"
    buttons = page.locator(".dl-play").all_inner_texts()
    assert [b.strip() for b in buttons] == ["▶ 0.5×", "▶ 1×", "▶ 2×"]
    assert page.locator(".dl-pause").count() == 1
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
    first, last = step(page)
    assert first == last, "the page opens on the last step (the full paths)"
    full = len(path(page)[0])

    play(page, "1×")
    page.wait_for_function(f"(s0) => ({JS_STEP})()[0] !== s0", arg=first, timeout=TIMEOUT_MS)
    early, _ = step(page)
    partial = len(path(page)[0])
    page.wait_for_function(f"(s0) => ({JS_STEP})()[0] > s0", arg=early, timeout=TIMEOUT_MS)
    later, _ = step(page)
    assert early < later <= last, "Play moves forward through the steps"
    assert partial < full, "a step before the last shows the path up to that step only"

    # Pause, let the step settle, and keep a picture of the race under way (no page error: an
    # interrupted animation's rejection is handled).
    page.locator(".dl-pause").click()
    page.wait_for_function(JS_SETTLED, polling=250, timeout=TIMEOUT_MS)
    paused, _ = step(page)
    assert later <= paused < last, "paused part-way"
    assert page.locator(".dl-step-label").inner_text().strip() == f"step {paused}"
    page.locator(LIVE).screenshot(path=screenshots / "animation.png")


def test_surface_stays_drawn_during_play(page) -> None:
    """The surface is a raster underlay that no Play frame touches: every painted frame while
    Play runs still holds it."""
    open_app(page)
    # Watch every painted frame: is the underlay image there?
    page.evaluate(
        """([sel, underlay]) => {
            const gd = document.querySelector(sel), input = document.querySelector('input.dl-step');
            const watch = window.__surface = {painted: 0, missing: [], seen: []};
            const tick = () => {
                const drawn = gd.querySelectorAll(underlay).length;
                const shown = input.value;
                if (watch.seen[watch.seen.length - 1] !== shown) watch.seen.push(shown);
                watch.painted += 1;
                if (!drawn) watch.missing.push(shown);
                requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        }""",
        [GRAPH, UNDERLAY],
    )
    first, _ = step(page)
    play(page, "1×")
    page.wait_for_function(f"(s0) => ({JS_STEP})()[0] !== s0", arg=first, timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__shown.length >= 6", timeout=TIMEOUT_MS)
    watch = page.evaluate("() => window.__surface")
    assert len(watch["seen"]) >= 6, watch
    assert not watch["missing"], f"the surface vanished while steps played: {watch}"


def test_click_after_animation_sets_the_start(page) -> None:
    open_app(page)
    # 10 steps: a short animation.
    _, last_before = step(page)
    steps = page.locator(".st-key-steps input[type=range]")
    steps.focus()
    steps.press("Home")
    page.wait_for_function(f"(n) => ({JS_STEP})()[1] < n", arg=last_before, timeout=TIMEOUT_MS)
    wait_idle(page)
    full, status_before = path(page), statuses(page)
    play(page, "2×")
    page.wait_for_function(JS_PLAYED, timeout=TIMEOUT_MS)
    shown, last = step(page)
    assert shown == last, "the animation ends on the last step"
    assert path(page) == full, "the last step shows the full path again"
    click_sets_the_start(page)
    wait_statuses_changed(page, status_before)


def test_html_export_downloads_and_plays_offline(page, browser, tmp_path: Path) -> None:
    open_app(page)
    _, last = step(page)
    frames = min(MAX_FRAMES, last + 1)  # evenly spread steps from 0 to the last, named by step
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
    assert {"0", str(last)} <= names and len(names) == frames, (sorted(names, key=int), frames)

    # It plays with the network off.
    context = browser.new_context(offline=True)
    try:
        offline = context.new_page()
        errors: list[str] = []
        offline.on("pageerror", lambda error: errors.append(str(error)))
        offline.goto(saved.as_uri())
        offline.wait_for_function(
            "(sel) => { const gd = document.querySelector(sel);"
            " return !!(gd && gd._fullLayout && gd._fullLayout.sliders"
            " && gd._fullLayout.sliders.length); }",
            arg=".js-plotly-plot",
            timeout=TIMEOUT_MS,
        )
        assert (
            offline.evaluate(
                "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
            )
            == frames
        )
        offline.locator(".updatemenu-button", has_text="▶ 2×").click()
        offline.wait_for_function(
            f"(sel) => {{ const [a, n] = ({JS_SLIDER})(sel); return a > 0 && a < n - 1; }}",
            arg=".js-plotly-plot",
            timeout=TIMEOUT_MS,
        )
        assert not errors
    finally:
        context.close()


def test_the_header_popovers_open_and_keep_their_choices(page) -> None:
    """Code and Lessons open on a click; choosing a framework reruns the page and Code stays
    open with that framework's script (keyed popovers), which it keeps while closed."""
    open_app(page)
    body = page.locator("[data-testid=stPopoverBody]")

    page.get_by_role("button", name="Code").click()
    script = body.locator("code").filter(has_text="Descent Lab").first
    assert "torch.optim" in script.inner_text(timeout=TIMEOUT_MS)
    body.get_by_text("Keras").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stPopoverBody] code')]"
        ".some(c => c.textContent.includes('keras.optimizers'))",
        timeout=TIMEOUT_MS,
    )
    page.keyboard.press("Escape")
    wait_idle(page)

    page.get_by_role("button", name="Lessons").click()
    open_lesson = body.get_by_role("button", name="Open lesson")
    open_lesson.wait_for(timeout=TIMEOUT_MS)
    page.keyboard.press("Escape")
    wait_idle(page)

    page.get_by_role("button", name="Code").click()
    script = body.locator("code").filter(has_text="Descent Lab").first
    assert "keras.optimizers" in script.inner_text(timeout=TIMEOUT_MS), "Keras is still chosen"
    assert not page.console_errors
