"""Shared fixtures: the demo warehouse, headless Chromium options, and failure artefacts.

Browser tests use Dash's `dash_duo` (run with `pytest --headless`, as `make test` does). When one
fails, its screenshot and the browser console log are kept in artifacts/failures/.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from data.warehouse import PROJECT_ROOT, ensure_warehouse

ARTIFACTS = PROJECT_ROOT / "artifacts"
os.environ.setdefault("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def demo_warehouse() -> Path:
    """The default-scale demo warehouse the dashboard serves, generated once if absent."""
    return ensure_warehouse()


def pytest_setup_options():
    options = Options()
    # The machine has no network but the package registries: keep Chromium from calling home.
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    return options


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    duo = getattr(item, "funcargs", {}).get("dash_duo")
    if report.when != "call" or not report.failed or duo is None:
        return
    target = ARTIFACTS / "failures"
    target.mkdir(parents=True, exist_ok=True)
    try:
        duo.driver.save_screenshot(str(target / f"{item.name}.png"))
        logs = duo.driver.get_log("browser")
        (target / f"{item.name}.console.json").write_text(json.dumps(logs, indent=1, ensure_ascii=False))
    except Exception as error:  # the browser may be the thing that broke; keep the report
        print(f"could not save failure artefacts for {item.name}: {error}")
