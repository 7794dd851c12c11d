"""The live view in a real browser (issue 12): dragging a learning-rate scrub (or a momentum's)
redraws the run's path before release, release commits the rate like a typed one, a committed
change does not ship the surface again, the contour still takes a click after a scrub and after
Play, and classroom links lock or hide the scrub.

Selectors: see test_browser.py and the header comment of app/static/descent-live.js;
`input.dl-rate[data-run=i][data-param=p]` is run i's scrub of p ("lr", or its momentum "beta"):
one position per member of its family; `.dl-rate-row[data-run=i] .dl-rate-value` reads
"η₀ = …", `.dl-param-value[data-param=p]` "β = …", and `.dl-badge` the member's outcome.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser.test_browser import (
    GRAPH,
    JS_PATH,
    JS_PLAYED,
    JS_STEP,
    LIVE,
    METRICS,
    TIMEOUT_MS,
    click_sets_the_start,
    open_app,
    play,
    statuses,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BLOB, VIEW = "descent_live_blob", "descent_live"  # the component names (app/live/component.py)
MOVES, MOVE_MS = 24, 40  # a drag: pointer moves, and the pause after each
OVERLAY = ".dl-plane-box .dl-overlay"  # over the plane: the dragged rates' paths
CURVES_OVERLAY = ".dl-metrics-box .dl-overlay"  # over the curves: their loss, η_k, ‖g‖ curves
# Run 1's path as the page shows it: on the overlay while its rate is dragged, else the plane's.
JS_SHOWN_PATH = f"""(sel) => {{
    const overlay = document.querySelector('{OVERLAY}');
    const dragged = overlay && overlay._fullData && overlay._fullData.length;
    return ({JS_PATH})(dragged ? '{OVERLAY}' : sel);
}}"""
# The drawn opacity of run 1's committed traces on graph div `sel` (their SVG groups').
JS_RUN_OPACITY = """(sel) => {
    const gd = document.querySelector(sel);
    return gd._fullData
        .filter(t => t.legendgroup === 'run-0' && t.mode === 'lines' && t.line.dash === 'solid')
        .map(t => Number(getComputedStyle(gd.querySelector('.trace' + CSS.escape(t.uid))).opacity));
}"""
# The traces an overlay draws.
JS_OVERLAID = "(sel) => (document.querySelector(sel)._fullData || []).length"
# From now on, on every painted frame: run 1's drawn path (JS_PATH) and run `run`'s badge, kept
# as sets of distinct values, and the path redraws counted by the view.
JS_WATCH = f"""([sel, run]) => {{
    const read = {JS_SHOWN_PATH};
    const badge = document.querySelector(`.dl-rate-row[data-run="${{run}}"] .dl-badge`);
    const watch = window.__watch = {{
        paths: new Set(), badges: new Set(),
        updates: window.__descentLiveStore.pathUpdates}};
    const tick = () => {{
        if (window.__watch !== watch) return;
        watch.paths.add(JSON.stringify(read(sel)));
        watch.badges.add(badge.textContent);
        requestAnimationFrame(tick);
    }};
    tick();
}}"""
JS_WATCHED = """() => ({
    paths: window.__watch.paths.size, badges: [...window.__watch.badges],
    updates: window.__descentLiveStore.pathUpdates - window.__watch.updates})"""


# From now on, the graph divs that plotly.js lays out afresh (Plotly.react), by class.
JS_COUNT_LAYOUTS = """() => {
    window.__laidOut = [];
    const react = Plotly.react;
    Plotly.react = function (gd, ...rest) {
        window.__laidOut.push(gd.className.split(' ')[0]);
        return react.call(this, gd, ...rest);
    };
}"""
# Run 1's path and name as the server sent them (its payload, decoded).
JS_SENT_PATH = """() => {
    const trace = window.__descentLiveView.runs[0].plane[0];
    const values = (v) => Array.from(window.DescentLiveParts.typed(v));
    return [values(trace.x), values(trace.y), trace.name];
}"""


def rate_input(page, run: int = 1, param: str = "lr"):
    return page.locator(f"input.dl-rate[data-run='{run}'][data-param='{param}']")


def drag_rate(page, run: int = 1, share: float = 0.35, param: str = "lr") -> dict:
    """Press the mouse on run `run`'s scrub thumb (of `param`: its rate, or its momentum) and
    move it `share` of the track to the right in MOVES steps, MOVE_MS apart, without releasing;
    what the page drew meanwhile (JS_WATCHED)."""
    scrub = rate_input(page, run, param)
    scrub.scroll_into_view_if_needed()
    box = scrub.bounding_box()
    index, last = int(scrub.input_value()), int(scrub.get_attribute("max"))
    x, y = box["x"] + box["width"] * index / last, box["y"] + box["height"] / 2
    page.evaluate(JS_WATCH, [GRAPH, run])
    page.mouse.move(x, y)
    page.mouse.down()
    for move in range(1, MOVES + 1):
        page.mouse.move(min(x + box["width"] * share * move / MOVES, box["x"] + box["width"]), y)
        page.wait_for_timeout(MOVE_MS)
    return page.evaluate(JS_WATCHED)


def link_rate(page, run: int = 1, param: str = "lr") -> float | None:
    values = parse_qs(urlsplit(page.url).query).get(f"run{run}_{param}")
    return float(values[0]) if values else None


def shown_rate(page, run: int = 1) -> float:
    """The rate run `run`'s scrub shows, from "η₀ = 0.0123"."""
    text = page.locator(f".dl-rate-row[data-run='{run}'] .dl-rate-value").inner_text()
    return float(text.split("=")[1])


def release_and_wait_for_the_commit(page, run: int = 1, param: str = "lr") -> None:
    """Release the mouse; wait until the link holds another value of `param` for run `run`, the
    rerun is over and the view has drawn it."""
    before = link_rate(page, run, param)
    revision = page.locator(LIVE).get_attribute("data-revision")
    page.mouse.up()
    page.wait_for_function(
        "([key, before]) => new URLSearchParams(location.search).get(key) !== before",
        arg=[f"run{run}_{param}", None if before is None else str(before)],
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)
    page.wait_for_function(
        "([sel, r]) => document.querySelector(sel).dataset.revision !== r",
        arg=[LIVE, revision],
        timeout=TIMEOUT_MS,
    )


def test_dragging_the_rate_redraws_the_path_before_release(page) -> None:
    open_app(page)
    badge = page.locator(".dl-rate-row[data-run='1'] .dl-badge")
    badge_before, path_before = badge.inner_text(), page.evaluate(JS_PATH, GRAPH)
    seen = drag_rate(page)
    assert link_rate(page) is None, "nothing is committed before release"
    assert seen["paths"] >= 3, f"the path was redrawn from the family while dragging: {seen}"
    assert seen["updates"] >= seen["paths"] - 1, seen
    assert page.evaluate(JS_SHOWN_PATH, GRAPH) != path_before
    assert max(page.evaluate(JS_RUN_OPACITY, GRAPH)) < 0.5, "the committed path is dimmed"
    assert len(seen["badges"]) >= 2 and badge.inner_text() != badge_before, seen
    curves = page.evaluate(JS_OVERLAID, CURVES_OVERLAY)
    assert curves == 3, "the member's loss, η_k and ‖g‖ curves follow on the curves' overlay"
    assert max(page.evaluate(JS_RUN_OPACITY, METRICS)) < 0.5, "the committed curves are dimmed"
    release_and_wait_for_the_commit(page)
    assert page.evaluate(JS_OVERLAID, OVERLAY) == page.evaluate(JS_OVERLAID, CURVES_OVERLAY) == 0
    assert min(page.evaluate(JS_RUN_OPACITY, GRAPH)) == 1, "the committed path is whole again"
    assert min(page.evaluate(JS_RUN_OPACITY, METRICS)) == 1, "and so are its curves"
    assert page.evaluate(JS_PATH, GRAPH) != path_before


def test_a_typed_rate_moves_the_path_without_laying_the_plane_out_again(page) -> None:
    """Only run 1's data changed: its traces move as Play moves them (the contour is not drawn
    again), to exactly the path and name the server sent; the curves are laid out afresh."""
    open_app(page)
    before = page.evaluate(JS_PATH, GRAPH)
    revision = page.locator(LIVE).get_attribute("data-revision")
    page.evaluate(JS_COUNT_LAYOUTS)
    entry = page.locator(".st-key-run1_lr input")
    entry.fill("0.0015")
    entry.press("Enter")
    page.wait_for_function(
        "([sel, r]) => document.querySelector(sel).dataset.revision !== r",
        arg=[LIVE, revision],
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)
    x, y, name = page.evaluate(JS_SENT_PATH)
    assert page.evaluate(JS_PATH, GRAPH) == [x, y] != before
    assert "η₀=0.0015" in name
    drawn_name = page.evaluate(
        f"() => document.querySelector({GRAPH!r})._fullData.find(t => t.name === {name!r}).name"
    )
    assert drawn_name == name, "the hover names the new rate"
    assert page.evaluate("window.__laidOut") == ["dl-metrics"], "only the curves laid out"
    click_sets_the_start(page)


def test_a_link_with_a_step_opens_the_picture_at_that_step(page) -> None:
    """The inspector's step in a link is the picture's step too, from the first drawing."""
    open_app(page, "/?v=1&inspect_step=20")
    assert page.evaluate(JS_STEP) == [20, 300]
    sent, drawn = page.evaluate(JS_SENT_PATH)[0], page.evaluate(JS_PATH, GRAPH)[0]
    assert 1 < len(drawn) < len(sent), "run 1's path is cut at step 20"


def test_release_commits_the_rate_to_the_link_the_entry_and_the_status(page) -> None:
    open_app(page)
    status_before = statuses(page)
    drag_rate(page)
    shown = shown_rate(page)
    release_and_wait_for_the_commit(page)
    assert link_rate(page) == shown, "the link holds the member's rate (3 significant digits)"
    assert shown_rate(page) == shown, "the scrub still shows it after the rerun"
    assert float(page.locator(".st-key-run1_lr input").input_value()) == shown
    assert statuses(page) != status_before


def test_dragging_the_momentum_redraws_the_path_and_release_commits_it(page) -> None:
    open_app(page, "/?run1_optimizer=momentum")
    value = page.locator(".dl-rate-row[data-run='1'] .dl-param-value[data-param='beta']")
    assert value.inner_text() == "β = 0.9"
    path_before, status_before = page.evaluate(JS_PATH, GRAPH), statuses(page)
    seen = drag_rate(page, param="beta")
    assert link_rate(page, param="beta") is None, "nothing is committed before release"
    assert seen["paths"] >= 3 and len(seen["badges"]) >= 2, seen
    assert page.evaluate(JS_SHOWN_PATH, GRAPH) != path_before
    shown = float(value.inner_text().split("=")[1])
    assert 0.9 < shown <= 0.999
    release_and_wait_for_the_commit(page, param="beta")
    assert link_rate(page, param="beta") == shown, "the link holds the member's β"
    assert float(value.inner_text().split("=")[1]) == shown
    assert page.evaluate(JS_OVERLAID, OVERLAY) == 0 and statuses(page) != status_before
    assert f"β={shown:g}" in page.locator(".dl-rate-row[data-run='1'] .dl-rate-label").inner_text()


def test_a_committed_change_does_not_resend_the_surface(page) -> None:
    """Every WebSocket frame is decoded as a ForwardMsg: the surface's blob (the id the view's
    data names as "surface") comes with the first page and not with a committed rate."""
    received: list[bytes] = []

    def keep(frame: bytes | str) -> None:
        received.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", keep))
    open_app(page)

    def components(frames: list[bytes]) -> list[tuple[str, dict, int]]:
        found = []
        for frame in frames:
            if isinstance(frame, str):
                continue  # Streamlit's messages are binary protobufs
            message = ForwardMsg()
            message.ParseFromString(frame)
            component = message.delta.new_element.bidi_component
            if component.component_name == BLOB:  # the id, a newline, the JSON (payloads.Blob)
                blob_id = component.bytes.split(b"\n", 1)[0].decode()
                found.append((BLOB, {"id": blob_id}, len(frame)))
            elif component.component_name == VIEW:
                found.append((VIEW, json.loads(component.json), len(frame)))
        return found

    first = components(received)
    (surface,) = {data["surface"] for name, data, _ in first if name == VIEW}
    first_blobs = {data["id"]: size for name, data, size in first if name == BLOB}
    assert surface in first_blobs, "the first page ships the surface"

    received.clear()
    drag_rate(page)
    release_and_wait_for_the_commit(page)
    change = components(received)
    change_blobs = {data["id"]: size for name, data, size in change if name == BLOB}
    assert [data["surface"] for name, data, _ in change if name == VIEW] == [surface]
    assert surface not in change_blobs, "the surface went again with a committed rate"
    assert change_blobs, "the changed run went"
    print(
        f"\nfirst page: {sum(first_blobs.values())} B of live blobs "
        f"(surface {first_blobs[surface]} B); committed rate: {sum(map(len, received))} B "
        f"received, of which live blobs {sum(change_blobs.values())} B"
    )


def type_rate(page, rate: str) -> None:
    """Type `rate` into run 1's rate entry and press Enter; wait until the link holds it and
    the rerun is over."""
    entry = page.locator(".st-key-run1_lr input")
    entry.fill(rate)
    entry.press("Enter")
    page.wait_for_function(
        "(rate) => new URLSearchParams(location.search).get('run1_lr') === rate",
        arg=rate,
        timeout=TIMEOUT_MS,
    )
    wait_idle(page)


def sidebar_blocks(frames: list[bytes | str]) -> set[int]:
    """The top-level blocks of the sidebar that WebSocket `frames` (ForwardMsgs) draw into,
    by index: each element sent in full or by reference (Streamlit's message cache)."""
    blocks = set()
    for frame in frames:
        if isinstance(frame, str):
            continue
        message = ForwardMsg()
        message.ParseFromString(frame)
        path = list(message.metadata.delta_path)
        if message.WhichOneof("type") in ("delta", "ref_hash") and len(path) > 1 and path[0] == 1:
            blocks.add(path[1])  # the root container 1 is the sidebar
    return blocks


def test_a_committed_rate_reruns_the_runs_and_what_they_drive_not_the_surface(page) -> None:
    """The run panels, the link and the views are one fragment: a typed rate redraws the run
    panels (one block of the sidebar) and the race, not the surface's controls above them; a
    click on the contour moves the start, which lies outside the fragment, and so reruns the
    whole page."""
    received: list[bytes | str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(f)))
    open_app(page)
    everything = sidebar_blocks(received)
    received.clear()
    type_rate(page, "0.0123")
    (runs,) = sidebar_blocks(received)
    assert runs == max(everything) and len(everything) > 5, everything
    received.clear()
    click_sets_the_start(page)
    assert sidebar_blocks(received) == everything


# From now on, the computed opacity and transition of each element as Streamlit marks it stale.
JS_WATCH_STALE = """() => {
    window.__staleStyles = [];
    new MutationObserver((changes) => {
        for (const change of changes) {
            if (change.target.getAttribute('data-stale') !== 'true') continue;
            const style = getComputedStyle(change.target);
            window.__staleStyles.push([style.opacity, style.transitionDuration]);
        }
    }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-stale']});
}"""
JS_APP = "document.querySelector('[data-testid=stApp]')"


def test_a_quick_rerun_fades_nothing_and_a_slow_one_fades_what_is_stale(page) -> None:
    """Streamlit's fade of a rerun's stale elements (an opacity transition from the rerun's
    start) costs every rerun a repaint of each; the page keeps the fade for reruns still
    running after 0.5 s only (page.css and the page head's watch)."""
    open_app(page)
    page.evaluate(JS_WATCH_STALE)
    type_rate(page, "0.0123")
    styles = page.evaluate("() => window.__staleStyles")
    assert styles and all(style == ["1", "0s"] for style in styles), styles
    # A rerun still running after 0.5 s marks the app slow: what is stale fades again.
    page.evaluate(f"() => {JS_APP}.setAttribute('data-test-script-state', 'running')")
    page.wait_for_function(f"() => {JS_APP}.classList.contains('dl-slow')", timeout=2000)
    fading = page.evaluate(
        """() => {
            const box = document.querySelector('.st-key-run1_lr');
            box.setAttribute('data-stale', 'true');
            return getComputedStyle(box).transitionDuration;
        }"""
    )
    assert fading == "0.5s"
    page.evaluate(f"() => {JS_APP}.setAttribute('data-test-script-state', 'notRunning')")
    assert not page.evaluate(f"() => {JS_APP}.classList.contains('dl-slow')")


def test_the_contour_sets_the_start_after_a_scrub_and_after_play(page) -> None:
    open_app(page)
    drag_rate(page)
    release_and_wait_for_the_commit(page)
    click_sets_the_start(page)

    play(page, "2×")
    page.wait_for_function(JS_PLAYED, timeout=TIMEOUT_MS)
    click_sets_the_start(page)


def test_a_locked_rate_cannot_be_scrubbed_and_a_hidden_one_is_not_shown(page) -> None:
    open_app(page, "/?lock=lr")
    assert rate_input(page).is_disabled()
    seen = drag_rate(page)
    assert seen["paths"] == 1 and seen["updates"] == 0, seen
    page.mouse.up()
    page.wait_for_timeout(500)
    assert link_rate(page) is None

    open_app(page, "/?hide=lr")
    assert page.locator("input.dl-rate").count() == 0
    assert page.locator(".dl-rate-row[data-run='1'] .dl-rate-value").inner_text() == ""
    assert page.evaluate(JS_PATH, GRAPH)[0], "the race is still drawn"
