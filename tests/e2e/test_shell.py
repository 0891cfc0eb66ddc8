"""The shell in a real browser: the overview renders, the language switch and the URL agree, an unknown
address gets a page in the language, and <html lang> and the tab's title follow page and language."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import click_label, console_errors, screenshot

pytestmark = pytest.mark.e2e


def test_overview_renders_in_chinese_by_default(dashboard):
    dashboard.wait_for_text_to_equal("#overview-title", "经营总览")
    dashboard.wait_for_text_to_equal("#app-title", "保险分析立方")
    assert console_errors(dashboard) == []


def test_language_switch_updates_page_and_url(dashboard):
    dashboard.wait_for_text_to_equal("#overview-title", "经营总览")
    click_label(dashboard, "English")
    dashboard.wait_for_text_to_equal("#overview-title", "Business overview")
    dashboard.wait_for_text_to_equal("#app-title", "PolicyCube")
    assert "lang=en" in dashboard.driver.current_url


def test_copied_english_url_opens_in_english(dashboard):
    dashboard.driver.get(dashboard.server_url + "/?lang=en")
    dashboard.wait_for_text_to_equal("#overview-title", "Business overview")
    dashboard.wait_for_text_to_equal("#app-title", "PolicyCube")


def test_a_malformed_escape_in_the_url_still_draws_the_shell(dashboard):
    dashboard.driver.get(dashboard.server_url + "/?%E0%A4%A=1&lang=en")
    dashboard.wait_for_text_to_equal("#overview-title", "Business overview")
    dashboard.wait_for_text_to_equal("#app-title", "PolicyCube")
    dashboard.wait_for_contains_text("#filter-open", "Filters", timeout=30)


def _browser_state(duo) -> tuple[str, str]:
    return duo.driver.execute_script("return [document.documentElement.lang, document.title]")


def _wait_for_browser_state(duo, lang: str, title: str) -> None:
    duo._wait_for(lambda driver: tuple(_browser_state(duo)) == (lang, title), timeout=20,
                  msg=f"expected <html lang={lang}> and title {title!r}, got {_browser_state(duo)}")


def _click_nav(duo, text: str) -> None:
    duo.driver.find_element(By.XPATH, f"//*[@id='nav-links']//a[normalize-space()='{text}']").click()


def test_an_unknown_address_shows_a_page_in_the_language_with_a_link_home(dashboard):
    dashboard.driver.get(dashboard.server_url + "/no-such-page")
    dashboard.wait_for_text_to_equal("#not-found-title", "页面不存在", timeout=30)
    assert "地址" in dashboard.find_element("#not-found-text").text
    dashboard.wait_for_text_to_equal("#app-title", "保险分析立方")
    _wait_for_browser_state(dashboard, "zh-CN", "页面不存在 · 保险分析立方")
    assert "404 - Page not found" not in dashboard.find_element("#page-wrapper").text
    assert not dashboard.find_element("#filter-open").is_displayed()   # nothing to filter on this page
    assert "期间" not in dashboard.find_element("body").text   # nor a period chip
    screenshot(dashboard, "not_found_zh")
    dashboard.driver.set_window_size(390, 844)
    screenshot(dashboard, "not_found_narrow_zh", width=390)
    dashboard.driver.set_window_size(1280, 900)
    link = dashboard.find_element("#not-found-link")
    assert link.text == "← 返回经营总览"
    link.click()
    dashboard.wait_for_text_to_equal("#overview-title", "经营总览", timeout=30)
    dashboard._wait_for(lambda d: dashboard.find_element("#filter-open").is_displayed(), timeout=10,
                        msg="the overview has no filter bar")
    _wait_for_browser_state(dashboard, "zh-CN", "经营总览 · 保险分析立方")

    dashboard.driver.get(dashboard.server_url + "/explore/nothing?lang=en")
    dashboard.wait_for_text_to_equal("#not-found-title", "Page not found", timeout=30)
    _wait_for_browser_state(dashboard, "en", "Page not found · PolicyCube")
    assert not dashboard.find_element("#filter-open").is_displayed()
    screenshot(dashboard, "not_found_en")
    dashboard.driver.set_window_size(390, 844)
    screenshot(dashboard, "not_found_narrow_en", width=390)
    dashboard.driver.set_window_size(1280, 900)
    link = dashboard.find_element("#not-found-link")
    assert link.text == "← Back to the overview"
    link.click()
    dashboard.wait_for_text_to_equal("#overview-title", "Business overview", timeout=30)
    assert "lang=en" in dashboard.driver.current_url
    assert console_errors(dashboard) == []


def test_html_lang_and_title_follow_the_page_and_the_language(dashboard):
    dashboard.wait_for_text_to_equal("#overview-title", "经营总览")
    _wait_for_browser_state(dashboard, "zh-CN", "经营总览 · 保险分析立方")
    _click_nav(dashboard, "多维分析")
    dashboard.wait_for_element("#explore-chart", timeout=30)
    _wait_for_browser_state(dashboard, "zh-CN", "多维分析 · 保险分析立方")
    click_label(dashboard, "English")
    _wait_for_browser_state(dashboard, "en", "Explore · PolicyCube")
    _click_nav(dashboard, "Pivot")
    dashboard.wait_for_element("#pivot-grid", timeout=30)
    _wait_for_browser_state(dashboard, "en", "Pivot · PolicyCube")
    click_label(dashboard, "中文")
    _wait_for_browser_state(dashboard, "zh-CN", "透视表 · 保险分析立方")
    dashboard.driver.back()  # back to the English pivot: the URL's language, title and lang agree again
    _wait_for_browser_state(dashboard, "en", "Pivot · PolicyCube")
