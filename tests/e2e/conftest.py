"""Browser-test helpers: the one app module, and screenshots kept as artefacts."""
from __future__ import annotations

import pytest
import requests
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
    _downloads_carry_the_browser_session(dash_duo, monkeypatch)
    return dash_duo


def _downloads_carry_the_browser_session(duo, monkeypatch) -> None:
    """Tests fetch export links with requests.get; give those requests the browser's session cookie,
    as the browser's own download would carry it (without it the server answers 401)."""
    plain_get = requests.get

    def get(url, *args, **kwargs):
        if str(url).startswith(duo.server.url):
            kwargs.setdefault("cookies", {c["name"]: c["value"] for c in duo.driver.get_cookies()})
        return plain_get(url, *args, **kwargs)

    monkeypatch.setattr(requests, "get", get)


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
