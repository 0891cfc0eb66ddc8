"""Browser-test helpers: the one app module, downloads saved by the browser, and screenshots kept as artefacts."""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cubes.rules import load_rules
from data.users import DEMO_PASSWORD
from tests.conftest import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"
# Pages show the year to date unless the URL chooses a period: this range asks for the whole
# history (its start is clipped to the data's first day), as tests over all rows need.
WHOLE_HISTORY = f"from=2000-01-01&to={load_rules().as_of.isoformat()}"


@pytest.fixture(scope="session")
def access_db(tmp_path_factory):
    """One users and audit database for the browser tests; the demo accounts appear on first sign-in."""
    return tmp_path_factory.mktemp("access") / "access.sqlite"


@pytest.fixture
def served(dash_duo, demo_warehouse, access_db, monkeypatch):
    """The app served on the demo warehouse in headless Chromium, nobody signed in yet.

    Global @callbacks bind to the first app that serves, so every test imports the one app module.
    """
    monkeypatch.setenv("POLICYCUBE_DATA", str(demo_warehouse))
    monkeypatch.setenv("POLICYCUBE_ACCESS_DB", str(access_db))
    import app

    dash_duo.start_server(app.app, navigate=False)
    return dash_duo


@pytest.fixture
def downloads(served, tmp_path):
    """download(link) clicks an export link (a CSS selector or the element) as a person would, once
    the page has pointed it at an export, and returns the file the browser saved in this test's
    download folder when it is complete."""
    folder, numbers = tmp_path / "downloads", itertools.count()
    folder.mkdir()
    served.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})

    def download(link, timeout: float = 180) -> Path:
        element = served.find_element(link) if isinstance(link, str) else link
        WebDriverWait(served.driver, 60).until(lambda _d: "/export/" in (element.get_attribute("href") or ""),
                                               message=f"{link} never got an export link")
        before = set(folder.iterdir())
        scrolled = served.driver.execute_script(
            "const y = window.scrollY; arguments[0].scrollIntoView({block: 'center'}); return y;", element)
        element.click()

        def saved(_driver):
            new = [p for p in set(folder.iterdir()) - before if not p.name.endswith(".crdownload")]
            return new[0] if new and not any(p.name.endswith(".crdownload") for p in folder.iterdir()) else None

        arrived = WebDriverWait(served.driver, timeout, poll_frequency=0.25).until(
            saved, message=f"no file arrived after clicking {link}")
        served.driver.execute_script("window.scrollTo(0, arguments[0]);", scrolled)  # the page as it was
        # moved out of the folder, so that the next file of the same name arrives as a new one
        kept = tmp_path / "kept" / str(next(numbers))
        kept.mkdir(parents=True)
        return arrived.rename(kept / arrived.name)

    return download


def sign_in(duo, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    duo.driver.get(duo.server.url + "/login")
    duo.wait_for_element("#login-username").send_keys(username)
    duo.find_element("#login-password").send_keys(password)
    duo.find_element("#login-submit").click()
    # The form's POST must be answered (and the session cookie set) before the test navigates on;
    # otherwise the next page load races it and lands on the sign-in page again.
    WebDriverWait(duo.driver, 30).until(
        lambda driver: "/login" not in driver.current_url or driver.find_elements(By.ID, "login-message"))


@pytest.fixture
def dashboard_as(served):
    """dashboard_as("demo-region"): the dashboard's home page, signed in as that demo account."""
    def open_as(username: str):
        sign_in(served, username)
        served.server_url = served.server.url  # waits for the dashboard to load
        return served

    return open_as


@pytest.fixture
def dashboard(dashboard_as):
    """The dashboard signed in as the demo executive (every row, personal data shown)."""
    return dashboard_as("demo-exec")


def screenshot(duo, name: str, width: int = 1280) -> None:
    """Save the whole page at `width` pixels, then restore the window."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = duo.driver
    before = driver.get_window_size()
    driver.set_window_size(width, before["height"])  # the page's height at the width it is shot at
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height + 140, 600))
    try:
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    finally:
        driver.set_window_size(before["width"], before["height"])


def settled(duo, quiet_s: float = 0.6, timeout: float = 30) -> None:
    """Wait until the page has stopped changing: no component loading and no callback answered for
    `quiet_s`, as a person waits for a page to finish before using it. AG Grid reports its state
    back to Dash just after its rows appear; a filter typed in that moment is reset by it."""
    count = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/_dash-update-component')).length"
    seen, since = None, time.monotonic()

    def quiet(driver) -> bool:
        nonlocal seen, since
        now = (driver.execute_script(count), bool(driver.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading]")))
        if now != seen:
            seen, since = now, time.monotonic()
        return not now[1] and time.monotonic() - since >= quiet_s

    duo._wait_for(quiet, timeout=timeout, msg="the page did not settle")


def console_errors(duo) -> list[dict]:
    return [entry for entry in duo.get_logs() if entry.get("level") == "SEVERE"]


def click_label(duo, text: str) -> None:
    """Click the control whose visible label is `text`, as a person would."""
    duo.driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']").click()
