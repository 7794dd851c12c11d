"""A load test on loopback: ten browser sessions each change run 1's learning rate a few times
while an eleventh opens a heavy link (a stability map near the 2 s work budget). Every session
must finish every interaction with no console or page error; the light interactions' p50/p95
latency and the heavy link's time are printed, not asserted (this machine is shared and noisy).

Playwright's sync API drives the contexts one after another, so the heavy link is started without
waiting and the light sessions take turns (round-robin) while it computes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from app.analysis import MAP_CHART
from optimizers import cost
from optimizers.engine import RunConfig
from tests.browser.conftest import record_errors
from tests.browser.test_browser import TIMEOUT_MS, open_app, wait_idle
from tests.browser.test_links_browser import enter

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SESSIONS = 10
LIGHT_LINK = "/?surface=rosenbrock&steps=200"
LEARNING_RATES = ("0.0011", "0.0012", "0.0013")  # one interaction each, per session
HEAVY_STEPS = 5_000
HEAVY_LINK = f"/?v=1&view=Stability+map&run1_optimizer=momentum&steps={HEAVY_STEPS}"
WALL_S = 120.0  # the interaction phase stops after this long, whatever is left
VIEWPORT = {"width": 1200, "height": 900}
# In the page: the first time (ms since navigation) the stability map was drawn and idle.
JS_HEAVY_DONE = f"""(() => setInterval(() => {{
    const app = document.querySelector('[data-testid=stApp]');
    if (window.__heavyDoneMs === undefined
        && document.querySelector('.st-key-{MAP_CHART} .js-plotly-plot .hoverlayer')
        && app && app.getAttribute('data-test-script-state') === 'notRunning')
        window.__heavyDoneMs = performance.now();
}}, 100))()"""


@pytest.fixture
def pages(browser, app_url: str) -> Iterator[list]:
    """SESSIONS + 1 pages, each in its own fresh browser context (no shared session)."""
    contexts = [
        browser.new_context(viewport=VIEWPORT, base_url=app_url) for _ in range(SESSIONS + 1)
    ]
    try:
        yield [context.new_page() for context in contexts]
    finally:
        for context in contexts:
            context.close()


def test_ten_sessions_stay_error_free_while_a_heavy_link_runs(pages) -> None:
    heavy_config = RunConfig("rosenbrock", "momentum", steps=HEAVY_STEPS)
    assert cost.fits(cost.map_seconds(heavy_config, 100)), "the heavy link must be let through"
    errors: list[str] = []
    for page in pages:
        record_errors(page, errors)
    heavy, light = pages[0], pages[1:]
    for page in light:
        open_app(page, LIGHT_LINK)

    heavy.add_init_script(JS_HEAVY_DONE)
    heavy.goto(HEAVY_LINK, wait_until="commit")
    latencies_s: list[float] = []
    deadline = time.monotonic() + WALL_S
    for rate in LEARNING_RATES:
        for page in light:
            if time.monotonic() > deadline:
                break
            started = time.monotonic()
            enter(page, "run1_lr", rate, shown_in_link=f"run1_lr={rate}")
            latencies_s.append(time.monotonic() - started)
    heavy.wait_for_function("() => window.__heavyDoneMs !== undefined", timeout=TIMEOUT_MS)
    wait_idle(heavy)
    heavy_s = heavy.evaluate("() => window.__heavyDoneMs") / 1000

    p50, p95 = np.percentile(latencies_s, [50, 95]) if latencies_s else (np.nan, np.nan)
    print(
        f"\nload: {SESSIONS} sessions, {len(latencies_s)} interactions, {len(errors)} errors; "
        f"light p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(latencies_s, default=np.nan):.2f} s; "
        f"heavy link (stability map, {HEAVY_STEPS} steps) drawn {heavy_s:.2f} s after navigation"
    )
    assert len(latencies_s) == SESSIONS * len(LEARNING_RATES), f"unfinished within {WALL_S} s"
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)
