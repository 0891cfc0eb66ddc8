"""The shell in a real browser: the overview renders, the language switch and the URL agree."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import click_label, console_errors

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
