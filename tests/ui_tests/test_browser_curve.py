"""A 1,000,000-step series in the browser: the reduced curve keeps the spike and the dip, and
zooming in by dragging shows the exact points (slow: the series is written first)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from .browser import launch, shot, wait_for
from .conftest import start
from .series_data import DIP, DIP_STEP, SPIKE, SPIKE_STEP, value_at, write_long_series

STEPS = 1_000_000


@pytest.fixture(scope="module")
def long_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    driver = launch()
    ctx = write_long_series(tmp_path_factory.mktemp("long") / "ws", STEPS)
    server = start(ctx)
    yield driver, server
    server.shutdown()
    server.server_close()
    ctx.close()
    driver.quit()


def _chart(driver: Any) -> dict[str, Any]:
    return driver.execute_script("""
        const box = document.querySelector('#curve'); const u = box.__plot;
        return {exact: box.dataset.exact, points: Number(box.dataset.points),
                inWindow: Number(box.dataset.inWindow), width: u.bbox.width / devicePixelRatio,
                x: Array.from(u.data[0]), y: Array.from(u.data[1])};""")


@pytest.mark.slow
def test_a_million_step_curve_draws_and_zooming_shows_exact_points(long_site: Any) -> None:
    driver, server = long_site
    driver.get(f"{server.url}/ui/runs/run:big.long")
    wait_for(
        lambda: driver.execute_script(
            "return document.querySelector('#curve') && document.querySelector('#curve').__plot"
        ),
        timeout=600,
        what="the curve",
    )
    chart = _chart(driver)
    assert chart["exact"] == "false" and chart["inWindow"] == STEPS
    assert len(chart["x"]) <= 4 * 4000 and len(chart["x"]) < STEPS / 100
    assert max(chart["y"]) == pytest.approx(value_at(SPIKE_STEP))  # the spike is kept
    assert min(chart["y"]) == pytest.approx(value_at(DIP_STEP))  # and the dip
    assert value_at(SPIKE_STEP) > SPIKE and value_at(DIP_STEP) < DIP + 1
    assert chart["x"][chart["y"].index(max(chart["y"]))] == SPIKE_STEP  # at its own step
    driver.execute_script("document.querySelector('#curve').scrollIntoView()")
    shot(driver, "curve-1m")

    over = driver.find_element(By.CSS_SELECTOR, "#curve .u-over")
    spike_px = driver.execute_script(
        f"return document.querySelector('#curve').__plot.valToPos({SPIKE_STEP}, 'x')"
    )
    left = over.size["width"] / 2
    ActionChains(driver).move_to_element_with_offset(
        over, int(spike_px - left) - 1, 10
    ).click_and_hold().move_by_offset(3, 0).release().perform()
    wait_for(lambda: _chart(driver)["exact"] == "true", timeout=120, what="exact points")
    zoomed = _chart(driver)
    xs = zoomed["x"]
    assert SPIKE_STEP in xs and xs == list(range(int(xs[0]), int(xs[-1]) + 1))  # every step
    assert all(y == pytest.approx(value_at(int(x))) for x, y in zip(xs, zoomed["y"], strict=True))
    assert "all shown exactly" in driver.find_element(By.ID, "chart-info").text
    driver.execute_script("document.querySelector('#curve').scrollIntoView()")
    shot(driver, "curve-zoomed")
