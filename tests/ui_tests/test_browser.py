"""The web UI in a real headless Chromium: table, run page, curves, compare, as-of, quality
actions and live updates. Each test writes a screenshot of its page to docs/screenshots/."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from .browser import launch, shot, wait_for
from .conftest import start
from .scenario import Scenario, at, build

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser = launch()
    yield browser
    browser.quit()


class Site:
    def __init__(self, ctx: Any, server: Any, driver: Any, root: Path, before_late: str) -> None:
        self.ctx, self.server, self.driver, self.root = ctx, server, driver, root
        self.before_late = before_late

    def open(self, path: str) -> None:
        self.driver.get(f"{self.server.url}{path}#token={self.server.token}")
        wait_for(
            lambda: self.driver.execute_script("return document.body.dataset.ready"),
            what=f"{path} to render",
        )

    def rows(self) -> list[str]:
        return [
            row.get_attribute("data-run")
            for row in self.driver.find_elements(By.CSS_SELECTOR, "#runs-table tbody tr")
        ]

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text


@pytest.fixture
def site(tmp_path: Path, driver: Any) -> Iterator[Site]:
    root = tmp_path / "ws"
    ctx = build(root, params=True)
    time.sleep(0.01)
    before_late = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.01)
    s = Scenario(ctx)
    s.run("vision", "late", 6)
    s.stage("vision", "late", "evaluate", 6, 2)
    s.metric("vision", "late", "accuracy", 0.95, "evaluate", at(6, 11, 30))
    ctx.flush()
    server = start(ctx)
    yield Site(ctx, server, driver, root, before_late)
    server.shutdown()
    server.server_close()
    ctx.close()


def _click(site: Site, css: str) -> None:
    site.driver.find_element(By.CSS_SELECTOR, css).click()


def test_table_loads_sorts_and_filters(site: Site) -> None:
    site.open("/ui")
    wait_for(lambda: len(site.rows()) == 5, what="five vision runs")
    _click(site, 'th[data-col="evaluate/accuracy"]')
    wait_for(
        lambda: site.rows()[:3] == ["run:vision.late", "run:vision.wide", "run:vision.baseline"],
        what="sorted by accuracy desc",
    )
    _click(site, 'th[data-col="evaluate/accuracy"]')
    wait_for(
        lambda: site.rows()[:3] == ["run:vision.baseline", "run:vision.wide", "run:vision.late"],
        what="sorted by accuracy asc",
    )
    cell = site.text('tr[data-run="run:vision.wide"] td[data-col="evaluate/accuracy"]')
    assert cell == "0.86"
    shot(site.driver, "runs")
    site.driver.find_element(By.CSS_SELECTOR, "#status option[value=failed]").click()
    wait_for(lambda: site.rows() == ["run:vision.broken"], what="status filter")
    site.driver.find_element(By.CSS_SELECTOR, "#status option[value='']").click()
    box = site.driver.find_element(By.ID, "where")
    box.send_keys("train/loss<0.6\n")
    wait_for(lambda: site.rows() == ["run:vision.wide"], what="metric filter")
    assert "1 of 1 matching (5 runs)" in site.text("#count")


def test_run_page_opens_with_stages_metrics_and_audit_trail(site: Site) -> None:
    site.open("/ui")
    wait_for(lambda: site.rows(), what="rows")
    site.driver.find_element(By.LINK_TEXT, "baseline").click()
    wait_for(lambda: "baseline" in site.text("#run-title"), what="run page")
    stages = site.text("#stages")
    assert all(name in stages for name in ("prepare", "train", "evaluate"))
    assert "evaluate/accuracy" in site.text("#metrics")
    assert "data.loaded" in site.text("#events")
    assert "artifact:vision.baseline.model" in site.text("#artifacts")
    audit = site.text("#audit")
    assert "run.put" in audit and "record.event" in audit
    wait_for(
        lambda: site.driver.execute_script("return document.querySelector('#curve').dataset.drawn"),
        what="loss curve",
    )
    wait_for(lambda: "Loading" not in site.text("#diagnostics"), what="diagnostics")
    shot(site.driver, "run")


def test_compare_shows_differences_and_best_per_row(site: Site) -> None:
    site.open("/ui/compare?runs=run:vision.baseline,run:vision.wide")
    wait_for(lambda: "lr" in site.text("#params"), what="params")
    params = site.text("#params")
    assert "0.001" in params and "0.0005" in params
    assert "batch_size" not in params  # equal in both: hidden while "only differences" is on
    _click(site, "#only-diff")
    wait_for(lambda: "batch_size" in site.text("#params"), what="all params")
    row = site.driver.find_element(By.CSS_SELECTOR, 'tr[data-metric="evaluate/accuracy"]')
    best = row.find_elements(By.CSS_SELECTOR, "td.best")
    assert [cell.text for cell in best] == ["0.86"]  # higher is better: wide
    loss = site.driver.find_element(By.CSS_SELECTOR, 'tr[data-metric="train/loss"]')
    assert [cell.text for cell in loss.find_elements(By.CSS_SELECTOR, "td.best")] == ["0.5"]
    wait_for(
        lambda: site.driver.execute_script("return document.querySelector('#curve').dataset.drawn"),
        what="overlaid curves",
    )
    shot(site.driver, "compare")


def _best(site: Site) -> tuple[str, str]:
    return site.text("#best-clean"), site.text("#best-all")


def test_as_of_control_changes_the_answers(site: Site) -> None:
    site.open("/ui")
    wait_for(lambda: len(site.rows()) == 5, what="five runs now")
    wait_for(lambda: _best(site)[0] == "run:vision.late", what="best now")
    field = site.driver.find_element(By.ID, "asof-input")
    field.send_keys(site.before_late)
    _click(site, "#asof-form button[type=submit]")
    wait_for(lambda: "as_of=" in site.driver.current_url, what="as-of in the address")
    wait_for(lambda: len(site.rows()) == 4, what="four runs as of then")
    assert "run:vision.late" not in site.rows()
    wait_for(lambda: _best(site)[0] == "run:vision.wide", what="best as of then")
    assert site.driver.find_element(By.ID, "asof-banner").is_displayed()
    assert not site.driver.find_element(By.ID, "quarantine-selected").is_enabled()
    shot(site.driver, "as-of")


def test_quarantine_from_the_page_makes_select_best_skip_the_run(site: Site) -> None:
    site.open("/ui")
    wait_for(lambda: _best(site) == ("run:vision.late", "run:vision.late"), what="best before")
    _click(site, 'tr[data-run="run:vision.late"] input.pick')
    _click(site, "#quarantine-selected")
    wait_for(lambda: site.driver.find_element(By.ID, "confirm").is_displayed(), what="dialog")
    site.driver.find_element(By.ID, "f-reason").send_keys("label leak found in review")
    _click(site, "#confirm-ok")
    wait_for(lambda: _best(site) == ("run:vision.wide", "run:vision.late"), what="best after")
    # the table is drawn again as the answers arrive: the row is looked up afresh each time
    wait_for(
        lambda: (
            "quarantined"
            in (
                site.driver.find_element(
                    By.CSS_SELECTOR, 'tr[data-run="run:vision.late"]'
                ).get_attribute("class")
                or ""
            )
        ),
        what="the run's row marked quarantined",
    )
    events = list(site.ctx.history("vision.late", kinds="run.quarantine"))
    assert len(events) == 1 and events[0].actor
    assert (
        site.ctx.select_best_run(["vision.late", "vision.wide"], "accuracy", stage_name="evaluate")
        == "vision.wide"
    )
    shot(site.driver, "quarantine")


def test_a_commit_by_another_process_shows_on_the_open_page_within_a_second(site: Site) -> None:
    site.open("/ui")
    wait_for(lambda: len(site.rows()) == 5, what="rows")
    wait_for(
        lambda: site.driver.execute_script(
            "return document.querySelector('#live').classList.contains('on')"
        ),
        what="live stream",
    )
    site.driver.execute_script("""
        window.__seen = null;
        new MutationObserver(() => {
          if (!window.__seen && document.querySelector('tr[data-run="run:vision.live1"]'))
            window.__seen = Date.now() / 1000;
        }).observe(document.querySelector('#app'), {childList: true, subtree: true});""")
    done = subprocess.run(
        [sys.executable, str(HERE / "writer_proc.py"), str(site.root), "live1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    committed = float(done.stdout.split()[-1])
    seen = wait_for(
        lambda: site.driver.execute_script("return window.__seen"),
        timeout=10,
        what="the new run on the open page",
    )
    assert seen - committed < 1.0, f"shown {seen - committed:.3f} s after the commit"
    assert (
        site.driver.execute_script("return performance.getEntriesByType('navigation').length") == 1
    )
    shot(site.driver, "live")


@pytest.mark.parametrize(
    ("path", "css", "text"),
    [
        ("/ui/compare?left=run:vision.baseline&right=run:vision.wide", "#params", "0.0005"),
        ("/ui/runs/run:vision.broken/diagnostics", "#run-title", "broken"),
    ],
)
def test_1_0_page_addresses_open_their_page(site: Site, path: str, css: str, text: str) -> None:
    site.open(path)
    wait_for(lambda: text in site.text(css), what=f"{path} showing {text}")
