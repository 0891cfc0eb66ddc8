"""Looks, checked in a real browser: dark theme, and a narrow phone-sized screen without overlap."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

PAGES = ("/", "/explore", "/pivot")


def _overflow(duo) -> int:
    """Pixels the page is wider than the window: anything above 0 means a sideways scroll."""
    return duo.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("path", PAGES)
def test_narrow_screen_has_no_sideways_overflow(dashboard, path):
    dashboard.driver.set_window_size(390, 844)
    dashboard.driver.get(dashboard.server_url + path)
    dashboard.wait_for_element("#page-wrapper h2", timeout=30)
    dashboard.wait_for_element("#nav-menu-button", timeout=10)
    assert not dashboard.find_element("#nav-links").is_displayed()
    assert _overflow(dashboard) <= 0
    # the header is fixed, so it could hide what does not fit: sign-out must be on the phone's screen
    assert dashboard.driver.execute_script(
        "return document.getElementById('logout-link').getBoundingClientRect().right") <= 390
    name = path.strip("/") or "overview"
    screenshot(dashboard, f"{name}_narrow_zh", width=390)


def test_dark_theme_applies_and_is_remembered(dashboard):
    dashboard.driver.get(dashboard.server_url + "/pivot?lang=en")
    dashboard.wait_for_element("#pivot-grid .ag-row", timeout=30)
    dashboard.driver.execute_script("document.getElementById('theme-switch').click()")
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark",
        timeout=10, msg="the page did not switch to the dark scheme")
    screenshot(dashboard, "pivot_dark_en")
    dashboard.driver.get(dashboard.server_url + "/")
    dashboard.wait_for_element("#overview-trend .main-svg", timeout=30)
    assert dashboard.driver.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark"
    screenshot(dashboard, "overview_dark_zh")
    assert console_errors(dashboard) == []
