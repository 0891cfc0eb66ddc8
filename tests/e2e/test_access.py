"""Sign-in in the browser: a page asks for it, a wrong password is refused, the header names the user
and their scope, sign-out ends the session; the administrator's audit page lists and filters the log."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import console_errors, screenshot, settled, sign_in

pytestmark = pytest.mark.e2e


def grid_rows(duo, grid_id: str) -> list[dict]:
    return duo.driver.execute_script(
        f"const api = dash_ag_grid.getApi('{grid_id}'); const rows = [];"
        "api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows;")


def test_sign_in_shows_the_user_and_scope_and_sign_out_ends_the_session(served):
    duo = served
    duo.driver.get(duo.server.url + "/explore?lang=en")
    duo.wait_for_element("#login-form")
    assert "/login?next=" in duo.driver.current_url

    sign_in(duo, "demo-region", "not-the-password")
    duo.wait_for_text_to_equal("#login-message", "用户名或密码错误。")
    screenshot(duo, "access_login_failed_zh")

    duo.driver.get(duo.server.url + "/login?lang=en&next=%2Fexplore%3Flang%3Den")
    duo.find_element("#login-username").send_keys("demo-region")
    duo.find_element("#login-password").send_keys("policycube-demo")
    duo.find_element("#login-submit").click()
    duo.wait_for_text_to_equal("#user-scope", "Regional manager · East China · personal data masked", timeout=20)
    assert duo.driver.current_url.endswith("/explore?lang=en")
    assert duo.find_element("#user-name").text == "演示·华东区域经理"
    admin_links = duo.driver.find_elements(By.CSS_SELECTOR, "#nav-links a[href^='/admin']")
    assert admin_links and not admin_links[0].is_displayed()  # not an administrator
    screenshot(duo, "access_signed_in_region_en")

    assert duo.find_element("#logout-link").text == "Sign out"
    duo.find_element("#logout-link").click()
    duo.wait_for_text_to_equal("#login-message", "You have signed out.")
    assert "/login" in duo.driver.current_url
    duo.driver.get(duo.server.url + "/pivot")
    duo.wait_for_element("#login-form")  # the session is gone


def test_the_administrator_page_lists_and_filters_the_audit_log(served):
    duo = served
    sign_in(duo, "demo-admin", "a-wrong-password")
    duo.wait_for_element("#login-message")
    sign_in(duo, "demo-admin")
    duo.server_url = duo.server.url + "/admin?lang=en"
    duo.wait_for_text_to_equal("#user-scope", "Administrator · no business data · personal data masked", timeout=20)
    duo.wait_for_element("#admin-audit-grid .ag-row", timeout=20)
    rows = grid_rows(duo, "admin-audit-grid")
    mine = [r["action"] for r in rows if r["actor"] == "demo-admin"]
    assert mine[:2] == ["signed in", "sign-in failed"]  # newest first
    users = {r["username"]: r for r in grid_rows(duo, "admin-users-grid")}
    assert users["demo-region"]["scope"] == "Regional manager · East China · personal data masked"
    screenshot(duo, "access_admin_en")

    duo.find_element("#admin-actor").send_keys("demo-admin")
    duo.wait_for_text_to_equal("#admin-shown", f"{len(mine)} rows shown (at most 1000)", timeout=20)
    assert {r["actor"] for r in grid_rows(duo, "admin-audit-grid")} == {"demo-admin"}

    duo.driver.get(duo.server.url + "/admin")
    duo.wait_for_text_to_equal("#admin-title", "系统管理：审计日志与用户", timeout=20)
    screenshot(duo, "access_admin_zh")


def test_the_administrator_page_is_refused_to_others(dashboard):
    dashboard.driver.get(dashboard.server.url + "/admin?lang=en")
    dashboard.wait_for_text_to_equal("#admin-refused", "This page is for administrators only.", timeout=20)
    assert not dashboard.driver.find_elements(By.ID, "admin-audit-grid")


def test_a_filter_for_another_region_shows_nothing_and_says_why(dashboard_as):
    duo = dashboard_as("demo-region")  # East China only
    duo.driver.get(duo.server.url + "/explore?lang=en&region=north")
    duo.wait_for_contains_text("#filter-notice", "outside your data access", timeout=30)
    assert "North China" in duo.find_element("#filter-notice").text
    duo.wait_for_contains_text("#explore-chart-graph", "No data for the current selection.", timeout=30)
    assert grid_rows(duo, "explore-grid") == []


@pytest.mark.parametrize("lang, question, done", [("zh", "要退出登录吗？", "您已退出登录。"),
                                                  ("en", "Do you want to sign out?", "You have signed out.")])
def test_the_sign_out_address_asks_before_signing_out(dashboard, lang, question, done):
    duo = dashboard
    # what a link to /logout (from anywhere, another site too) leads to: a question, still signed in
    duo.driver.get(f"{duo.server.url}/logout?lang={lang}")
    duo.wait_for_element("#logout-submit")
    assert question in duo.find_element("main").text
    for width in (1280, 390):
        screenshot(duo, f"access_sign_out_{lang}_{width}", width=width)
    duo.driver.get(duo.server.url + "/pivot")
    duo.wait_for_element("#user-scope")
    duo.driver.get(f"{duo.server.url}/logout?lang={lang}")
    duo.wait_for_element("#logout-submit").click()
    duo.wait_for_text_to_equal("#login-message", done)
    duo.driver.get(duo.server.url + "/pivot")
    duo.wait_for_element("#login-form")


# every page, as the roles that see it, under the Content-Security-Policy of callbacks/headers.py
PAGES = {"demo-exec": ["/?lang=en", "/?lang=zh", "/explore?lang=en", "/pivot?lang=en", "/contribution?lang=en",
                       "/agents?lang=en", "/customer?id=C00001672&lang=en", "/nowhere?lang=en"],
         "demo-admin": ["/admin?lang=en"]}


def test_every_page_runs_under_the_content_security_policy(served):
    duo = served
    duo.driver.get(duo.server.url + "/login?lang=en")
    duo.wait_for_element("#login-form")
    assert console_errors(duo) == []
    for username, paths in PAGES.items():
        sign_in(duo, username)
        for path in paths:
            duo.driver.get(duo.server.url + path)
            duo._wait_for(lambda d: d.find_element(By.ID, "user-scope").text, timeout=30,
                          msg=f"{path} did not draw its header")
            settled(duo)
            # a script, style, image or font the policy blocks is reported on the console
            assert console_errors(duo) == [], path
        duo.find_element("#logout-link").click()
        duo.wait_for_element("#login-message")
