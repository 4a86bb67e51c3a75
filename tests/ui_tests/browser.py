"""A headless Chromium driven by Selenium (Debian's ``chromium`` and ``chromium-driver``).

The variables here do not start with ``CONTEXTA_``: that prefix is the configuration's, and it
refuses names it does not know.

Set ``SKIP_BROWSER_TESTS=1`` to skip the browser tests; without it a missing browser is a
failure, not a skip, so CI cannot pass without running them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
#: where the tests write a screenshot of each page (docs/screenshots holds two for the README:
#: BROWSER_TEST_SCREENSHOTS=docs/screenshots regenerates them)
SCREENSHOTS = Path(
    os.environ.get("BROWSER_TEST_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "contexta-screenshots"
)


def launch() -> Any:
    if os.environ.get("SKIP_BROWSER_TESTS") == "1":
        pytest.skip("SKIP_BROWSER_TESTS=1")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).exists() or shutil.which(p))]
    if missing:
        pytest.fail(
            f"Browser tests need {', '.join(missing)} (apt-get install chromium "
            "chromium-driver), or SKIP_BROWSER_TESTS=1 to skip them."
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:
            last_error = exc
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} ({last_error!r})")


def shot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
