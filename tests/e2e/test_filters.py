"""Global filters in a real browser: the URL carries them, numbers follow them, bad values are named."""
from __future__ import annotations

import duckdb
import pytest
from selenium.webdriver.common.by import By

from layouts import numbers
from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

WRITTEN_PREMIUM_CARD = '[id*="kpi-value"][id*="written_premium"]'
EAST_PREMIUM = """
    SELECT sum(pr.amount) FROM fact_premium pr
    JOIN fact_policy p USING (policy_id)
    JOIN dim_branch b ON b.branch_id = p.branch_id
    JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    WHERE v.region_code = 'east' AND pr.paid_date BETWEEN ? AND ?
"""


def test_region_and_dates_from_the_url_filter_the_numbers(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/?region=east&from=2025-01-01&to=2025-06-30")
    dashboard.wait_for_contains_text(WRITTEN_PREMIUM_CARD, ".", timeout=30)
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        expected = con.execute(EAST_PREMIUM, ["2025-01-01", "2025-06-30"]).fetchall()[0][0]
    dashboard.wait_for_text_to_equal(WRITTEN_PREMIUM_CARD, numbers.compact(expected, "zh"), timeout=30)
    dashboard.wait_for_contains_text("#filter-chips", "华东")
    dashboard.wait_for_contains_text("#overview-period", "2025-01-01")
    screenshot(dashboard, "overview_filtered_zh")
    assert console_errors(dashboard) == []


def test_clear_removes_every_filter_from_page_and_url(dashboard):
    dashboard.driver.get(dashboard.server_url + "/?lang=en&region=east&channel=agency")
    dashboard.wait_for_contains_text("#filter-chips", "East")
    dashboard.find_element("#filter-clear").click()
    dashboard.wait_for_contains_text("#filter-chips", "No other filters")
    url = dashboard.driver.current_url
    assert "region" not in url and "channel" not in url and "lang=en" in url


def test_unknown_member_and_bad_date_are_named_and_ignored(dashboard):
    dashboard.driver.get(dashboard.server_url + "/?region=mars&from=2025-13-45")
    dashboard.wait_for_contains_text("#filter-notice", "region=mars", timeout=30)
    assert "from=2025-13-45" in dashboard.find_element("#filter-notice").text
    dashboard.wait_for_contains_text("#filter-chips", "未设其他筛选")
    dashboard.wait_for_contains_text(WRITTEN_PREMIUM_CARD, ".", timeout=30)
    assert console_errors(dashboard) == []


def test_choosing_a_filter_in_the_drawer_puts_it_in_the_url(dashboard):
    dashboard.driver.get(dashboard.server_url + "/explore")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    dashboard.find_element("#filter-open").click()
    box = dashboard.wait_for_element('input[id*="filter-select"][id*="channel"]', timeout=10)
    dashboard._wait_for(lambda _d: box.is_displayed() and box.is_enabled(), timeout=10, msg="drawer did not open")
    box.click()
    box.send_keys("银保")
    options = '//*[@role="option"][normalize-space()="银保"]'
    dashboard._wait_for(lambda d: any(o.is_displayed() for o in d.find_elements(By.XPATH, options)),
                        timeout=10, msg="no option shown")
    next(o for o in dashboard.driver.find_elements(By.XPATH, options) if o.is_displayed()).click()
    dashboard.find_element("#filter-apply").click()
    dashboard.wait_for_contains_text("#filter-chips", "银保", timeout=30)
    assert "channel=bancassurance" in dashboard.driver.current_url
    assert "/explore" in dashboard.driver.current_url
