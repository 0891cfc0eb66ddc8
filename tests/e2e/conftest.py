"""Browser-test helpers: the one app module, and screenshots kept as artefacts."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture
def dashboard(dash_duo, demo_warehouse, monkeypatch):
    """The dashboard served on the demo warehouse, in headless Chromium.

    Global @callbacks bind to the first app that serves, so every test imports the one app module.
    """
    monkeypatch.setenv("POLICYCUBE_DATA", str(demo_warehouse))
    import app

    dash_duo.start_server(app.app)
    return dash_duo


def screenshot(duo, name: str, width: int = 1280) -> None:
    """Save the whole page at `width` pixels, then restore the window."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    before = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height + 140, 600))
    try:
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    finally:
        driver.set_window_size(before["width"], before["height"])


def console_errors(duo) -> list[dict]:
    return [entry for entry in duo.get_logs() if entry.get("level") == "SEVERE"]


def click_label(duo, text: str) -> None:
    """Click the control whose visible label is `text`, as a person would."""
    duo.driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']").click()
