"""Records the callback requests a real browser sends for each scripted interaction.

Headless Chromium with Chrome's performance log (`goog:loggingPrefs` performance=ALL): every
Network.requestWillBeSent to /_dash-update-component carries the POST body Dash's renderer built,
with the inputs, states and outputs of that moment. Recording once per run keeps the bench in step
with the pages as they change; replaying the bodies over HTTP then times the server without the
browser's own rendering.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from scripts.bench_interactions import Interaction
from scripts.bench_replay import CALLBACK_PATH

QUIET_S = 1.5  # no callback in flight for this long: the page has settled
NOTHING_S = 20  # a page that sent no callback by then sends none (e.g. the sign-in page)
PUSH_STATE = ("window.history.pushState({}, '', arguments[0]);"
              "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));")


@dataclass(frozen=True)
class Recording:
    calls: list[tuple[str, str]]  # (path with query, POST body); Dash 4 adds ?endId=... to the path
    outputs: list[str]  # each request's "output" field, to tell a page's data callback from routing

    def has(self, needle: str) -> bool:
        return any(needle in output for output in self.outputs)


def browser(chromium: str | None = None, chromedriver: str | None = None) -> webdriver.Chrome:
    options = Options()
    options.binary_location = chromium or shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(chromedriver or shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def share_session(driver: webdriver.Chrome, base_url: str, session: requests.Session) -> None:
    """Give the browser the bench's signed-in session cookie (a no-op without sign-in)."""
    if not session.cookies:
        return
    driver.get(base_url + "/login")
    for cookie in session.cookies:
        driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": cookie.path or "/"})


def _settle(driver: webdriver.Chrome, timeout_s: float) -> Recording:
    """Collect callback requests until no request at all is in flight for QUIET_S (or `timeout_s` passes)."""
    pending: dict[str, str] = {}
    order: list[tuple[float, str, str, str]] = []
    last = time.monotonic()
    deadline = last + timeout_s
    while time.monotonic() < deadline:
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSent" and params["request"]["url"].startswith("http"):
                # any request in flight (a script such as plotly.js too) keeps the page unsettled
                pending[params["requestId"]] = params["request"]["url"]
                last = time.monotonic()
                request = params["request"]
                url = urlsplit(request["url"])
                if request["method"] == "POST" and url.path == CALLBACK_PATH:
                    body = request.get("postData")
                    if body is None:  # large bodies are left out of the event
                        body = driver.execute_cdp_cmd("Network.getRequestPostData",
                                                      {"requestId": params["requestId"]})["postData"]
                    path = url.path + (f"?{url.query}" if url.query else "")
                    order.append((params["timestamp"], params["requestId"], path, body))
            elif method in ("Network.loadingFinished", "Network.loadingFailed") and params["requestId"] in pending:
                del pending[params["requestId"]]
                last = time.monotonic()
        quiet = time.monotonic() - last
        if not pending and ((order and quiet > QUIET_S) or quiet > NOTHING_S):
            break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"the page did not settle within {timeout_s:.0f} s")
    calls = [(path, body) for _ts, _id, path, body in sorted(order)]
    return Recording(calls, [json.loads(body).get("output", "") for _path, body in calls])


def record(driver: webdriver.Chrome, base_url: str, interaction: Interaction, members: dict[str, str],
           timeout_s: float = 600) -> Recording:
    setup, action = interaction.urls(members)
    if setup:
        driver.get(base_url + setup)
        _settle(driver, timeout_s)
    driver.get_log("performance")  # drop what the setup left
    if interaction.load:
        driver.get(base_url + action)
    else:
        driver.execute_script(PUSH_STATE, action)
    return _settle(driver, timeout_s)
