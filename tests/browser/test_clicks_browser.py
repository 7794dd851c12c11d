"""Clicks as Chromium sends them: every clickable analysis chart loads the point clicked, and any
sequence of Play / Pause / speed / slider clicks leaves no page error.

Chromium's selection payload differs from AppTest's: a point's `customdata` row arrives as an
object keyed "0", "1", … (a typed-array row serialised), not as a list. So each chart here is
clicked at a known data coordinate and the loaded value is read back from the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.analysis import BASIN_CHART, MAP_CHART, RANGE_CHART, SWEEP_CHART
from app.figures.analysis import PICKER_NAME
from tests.browser.test_browser import (
    CLICK_WAIT_MS,
    GRAPH,
    JS_PATH,
    JS_SETTLED,
    LIVE,
    LOAD_TIMEOUT_MS,
    TIMEOUT_MS,
    click_until,
    open_app,
    path,
    play,
    step,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The point a `share` of the way along the trace named `name` in the chart `sel` (of a picker
# grid: on the row a `share` and the column a `columnShare` of the way across): its customdata
# row, its position on the screen (the chart scrolled into view first), and the customdata of
# every point within 4 px of it: a 1000-rate sweep or a 150 × 150 basin grid puts several points
# under one pointer, and plotly.js may pick a neighbour.
JS_TARGET = """([sel, name, share, columnShare]) => {
    const gd = document.querySelector(sel), L = gd._fullLayout;
    gd.scrollIntoView({block: 'center'});
    const t = gd._fullData.find(t => t.name === name);
    const xa = L['xaxis' + t.xaxis.slice(1)], ya = L['yaxis' + t.yaxis.slice(1)];
    const side = Math.round(Math.sqrt(t.x.length));  // a picker grid: side × side, row-major
    const index = columnShare === null ? Math.round(share * (t.x.length - 1))
        : Math.round(share * (side - 1)) * side + Math.round(columnShare * (side - 1));
    const box = gd.getBoundingClientRect();
    const at = (i) => [
        box.left + xa._offset + xa.c2p(t.x[i]), box.top + ya._offset + ya.c2p(t.y[i])];
    const [px, py] = at(index), near = [];
    for (let i = 0; i < t.x.length; i++) {
        const [u, v] = at(i);
        if (Math.hypot(u - px, v - py) <= 4) near.push(Array.from(t.customdata[i]));
    }
    return {customdata: Array.from(t.customdata[index]), near, px, py};
}"""


def chart(key: str) -> str:
    return f".st-key-{key} .js-plotly-plot"


def open_view(page, link: str, key: str) -> None:
    """Open an analysis view's link and wait until its chart `key` is drawn."""
    page.goto(link)
    page.wait_for_selector(f"{chart(key)} .hoverlayer", state="attached", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


def value_of(page, key: str) -> float:
    return float(page.locator(f".st-key-{key} input").input_value())


def click_point(
    page, key: str, trace: str, share: float, column_share: float | None = None
) -> tuple[list[float], list[list[float]]]:
    """Hover, then click that point (JS_TARGET) of trace `trace` in chart `key` until the page
    switches back to the race (a click dropped under load is repeated); its customdata row and
    those of the points under the pointer with it."""
    target = page.evaluate(JS_TARGET, [chart(key), trace, share, column_share])
    click_until(
        page, chart(key), (target["px"], target["py"]),
        lambda: page.wait_for_selector(
            f"{LIVE}[data-revision]", state="attached", timeout=CLICK_WAIT_MS
        ),
    )  # fmt: skip
    return target["customdata"], target["near"]


def loaded_one_of(loaded: tuple[float, ...], near: list[list[float]]) -> bool:
    """`loaded` (as the page shows it, to 6 significant digits) is one of the rows `near`."""
    return any(loaded == pytest.approx(tuple(row), rel=1e-5, abs=1e-9) for row in near)


def test_a_sweep_point_loads_its_rate(page) -> None:
    open_view(page, "/?v=1&view=LR+sweep", SWEEP_CHART)
    (rate,), near = click_point(page, SWEEP_CHART, "final loss", 0.8)
    assert 1e-3 < rate < 1, "a point well inside the sweep, not its first rate"
    assert loaded_one_of((value_of(page, "run1_lr"),), near)


def test_a_stability_map_cell_loads_both_numbers(page) -> None:
    open_view(page, "/?v=1&run1_optimizer=momentum&view=Stability+map", MAP_CHART)
    (rate, beta), near = click_point(page, MAP_CHART, PICKER_NAME, 0.37, 0.6)
    assert 1e-3 < rate < 1 and beta != pytest.approx(0.999), "not the axes' ends"
    assert loaded_one_of((value_of(page, "run1_lr"), value_of(page, "run1_beta")), near)


def test_a_range_test_point_loads_its_rate(page) -> None:
    open_view(page, "/?v=1&view=LR+range+test&analysis_range_steps=50", RANGE_CHART)
    (rate,), near = click_point(page, RANGE_CHART, "loss L(w_k)", 0.7)
    assert rate > 1e-4, "a point past the η₀ control's lower limit"
    assert loaded_one_of((value_of(page, "run1_lr"),), near)


def test_a_basin_cell_sets_the_start(page) -> None:
    open_view(page, "/?v=1&surface=himmelblau&view=Basins", BASIN_CHART)
    (x, y), near = click_point(page, BASIN_CHART, PICKER_NAME, 0.3, 0.7)
    assert -4 < x < 4 and -4 < y < 4, "a start inside the box"
    # The entries show 4 digits; the link holds the start exactly.
    page.wait_for_function("() => location.search.includes('x0=')", timeout=TIMEOUT_MS)
    query = parse_qs(urlsplit(page.url).query)
    x, y = float(query["x0"][0]), float(query["y0"][0])
    assert loaded_one_of((x, y), near)
    assert (value_of(page, "x0"), value_of(page, "y0")) == (
        pytest.approx(x, rel=1e-3),
        pytest.approx(y, rel=1e-3),
    )
    page.wait_for_function(
        f"([x, y]) => {{ const [px, py] = ({JS_PATH})({GRAPH!r});"
        " return Math.abs(px[0] - x) < 1e-3 && Math.abs(py[0] - y) < 1e-3; }",
        arg=[x, y],
        timeout=TIMEOUT_MS,
    )
    drawn_x, drawn_y = path(page)
    assert [drawn_x[0], drawn_y[0]] == [pytest.approx(x, abs=1e-3), pytest.approx(y, abs=1e-3)]


def test_play_pause_speed_and_slider_in_quick_succession_leave_no_page_error(page) -> None:
    open_app(page)
    rail = page.locator("input.dl-step")
    sequence = ["▶ 1×", "❚❚", "▶ 2×", "▶ 0.5×", "slider", "▶ 1×", "❚❚", "❚❚", "▶ 2×", "slider"]
    for action in sequence:
        if action == "slider":
            box = rail.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)
        elif action == "❚❚":
            page.locator(".dl-pause").click()
        else:
            page.locator(".dl-play", has_text=action).click()
        page.wait_for_timeout(120)
    play(page, "2×")
    page.wait_for_timeout(200)
    page.locator(".dl-pause").click()
    page.wait_for_function(JS_SETTLED, polling=250, timeout=TIMEOUT_MS)
    wait_idle(page)
    shown, last = step(page)
    assert 0 <= shown < last, "paused part-way"
    page.wait_for_timeout(1500)  # an unhandled rejection is reported a task later
    assert not page.console_errors

    # The guard is narrow: the same kind of rejection with no animation interrupted still shows.
    page.evaluate("() => { Promise.reject(undefined); }")
    page.wait_for_timeout(300)
    assert page.console_errors == ["page error: undefined"]
    page.console_errors.clear()
