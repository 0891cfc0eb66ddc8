"""Explore in a real browser: bars equal the raw tables, clicks drill down, the path leads back up."""
from __future__ import annotations

import duckdb
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

PREMIUM_BY = """
    SELECT {key} AS key, sum(pr.amount) AS premium FROM fact_premium pr
    JOIN fact_policy p USING (policy_id)
    JOIN dim_branch b ON b.branch_id = p.branch_id
    JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    WHERE pr.paid_date IS NOT NULL {where}
    GROUP BY 1 ORDER BY 2 DESC
"""


def _oracle(path, key: str, where: str = "", params=()) -> dict[str, float]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(PREMIUM_BY.format(key=key, where=where), list(params)).fetchall()
    return {str(k): v for k, v in rows}


def _bars(duo) -> dict[str, float]:
    """What the chart draws: member key (customdata) -> value in 万元, decoded by Plotly itself."""
    trace = duo.driver.execute_script(
        "const d = document.querySelector('#explore-chart-graph .js-plotly-plot')._fullData[0];"
        "return {keys: Array.from(d.customdata), values: Array.from(d.y)};")
    return dict(zip(trace["keys"], trace["values"]))


def _click_first_bar(duo) -> None:
    bar = duo.find_element("#explore-chart-graph .bars .point path")
    ActionChains(duo.driver).move_to_element(bar).click().perform()


def test_drill_from_regions_to_provinces_and_back(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/explore?top=0")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    regions = _oracle(demo_warehouse, "v.region_code")
    shown = _bars(dashboard)
    assert set(shown) == set(regions)
    for key, value in regions.items():
        assert shown[key] == pytest.approx(value / 1e4, rel=1e-9)

    top_region = max(regions, key=regions.get)
    _click_first_bar(dashboard)
    dashboard.wait_for_contains_text("#explore-crumbs", "华东" if top_region == "east" else "", timeout=30)
    assert f"path={top_region}" in dashboard.driver.current_url
    provinces = _oracle(demo_warehouse, "v.province_code", "AND v.region_code = ?", [top_region])
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    shown = _bars(dashboard)
    assert set(shown) == set(provinces)
    assert sum(shown.values()) == pytest.approx(sum(provinces.values()) / 1e4, rel=1e-9)
    screenshot(dashboard, "explore_drilled_zh")

    dashboard.find_element('#explore-crumbs a').click()  # 全部: back to the top level
    dashboard.wait_for_text_to_equal("#explore-crumbs", "全部", timeout=30)
    dashboard.driver.back()  # the browser's back button returns to the drilled view
    dashboard.wait_for_contains_text("#explore-crumbs", "华东" if top_region == "east" else "", timeout=30)
    dashboard.driver.forward()
    dashboard.wait_for_text_to_equal("#explore-crumbs", "全部", timeout=30)
    assert "path=" not in dashboard.driver.current_url
    assert console_errors(dashboard) == []


def test_ratio_measure_in_english_with_bad_parameters_named(dashboard):
    dashboard.driver.get(dashboard.server_url + "/explore?lang=en&measure=loss_ratio&dim=channel&chart=pie&top=7")
    dashboard.wait_for_contains_text("#explore-notice", "top=7", timeout=30)
    dashboard.wait_for_contains_text("#explore-notice", "instead of a pie")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    screenshot(dashboard, "explore_en")
    assert console_errors(dashboard) == []
