"""Explore in a real browser: bars equal the raw tables, clicks drill down, the path leads back up."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
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


PREMIUM_RECORDS = """
    SELECT count(*) FROM fact_premium pr JOIN fact_policy p USING (policy_id)
    JOIN dim_branch b ON b.branch_id = p.branch_id JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    WHERE pr.paid_date IS NOT NULL AND v.region_code = ?
"""


def _oracle(path, key: str, where: str = "", params=()) -> dict[str, float]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(PREMIUM_BY.format(key=key, where=where), list(params)).fetchall()
    return {str(k): v for k, v in rows}


def _bars(duo) -> dict[str, float]:
    """What the chart draws: member key (customdata) -> value in 万元, decoded by Plotly itself."""
    trace = duo.driver.execute_script(
        "const g = document.querySelector('#explore-chart-graph .js-plotly-plot');"
        "if (!g || !g._fullData || !g._fullData.length) { return {keys: [], values: []}; }"
        "const d = g._fullData[0]; return {keys: Array.from(d.customdata || []), values: Array.from(d.y || [])};")
    return dict(zip(trace["keys"], trace["values"]))


def _click_first_bar(duo) -> None:
    bar = duo.find_element("#explore-chart-graph .bars .point path")
    ActionChains(duo.driver).move_to_element(bar).click().perform()


def _check_exports(download, path, region: str, provinces: dict[str, float]) -> None:
    """The table export holds what the chart shows, under a line naming the drill; the records
    export holds every premium record behind it. Both as Excel-ready UTF-8 with BOM."""
    table = download("#explore-export-table").read_bytes()
    assert table.startswith("\ufeff".encode())
    lines = table.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("筛选条件:")
    assert region != "east" or "华东" in lines[0]
    frame = pd.read_csv(io.StringIO("\n".join(lines[1:])))
    with duckdb.connect(str(path), read_only=True) as con:
        names = dict(con.execute("SELECT province_code, name_zh FROM dim_province").fetchall())
        count = con.execute(PREMIUM_RECORDS, [region]).fetchall()[0][0]
    body = frame[frame["省份"] != "合计"]
    assert dict(zip(body["省份"], body["保费收入（元）"])) == pytest.approx(
        {names[k]: round(v, 2) for k, v in provinces.items()}, abs=0.01)
    records = download("#explore-export-records").read_bytes()
    assert len(records.decode("utf-8-sig").splitlines()) == 2 + count  # filters line, header, rows


def test_drill_from_regions_to_provinces_and_back(dashboard, downloads, demo_warehouse):
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
    _check_exports(downloads, demo_warehouse, top_region, provinces)

    top_province = max(provinces, key=provinces.get)
    _click_first_bar(dashboard)  # second level down: the cities of the largest province
    dashboard.wait_for_element('#explore-crumbs a:nth-of-type(3)', timeout=30)
    assert f"path={top_region},{top_province}" in dashboard.driver.current_url
    cities = _oracle(demo_warehouse, "c.city_code", "AND c.province_code = ?", [top_province])
    dashboard._wait_for(lambda _d: set(_bars(dashboard)) == set(cities), timeout=30, msg="cities not shown")
    dashboard.find_elements('#explore-crumbs a')[1].click()  # back up one level, to the provinces
    dashboard._wait_for(lambda _d: set(_bars(dashboard)) == set(provinces), timeout=30, msg="provinces not back")

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


def test_two_channels_side_by_side_equal_the_raw_tables(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/explore?top=0&slice=channel&members=agency,bancassurance&compare=1")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    traces = dashboard.driver.execute_script(
        "return document.querySelector('#explore-chart-graph .js-plotly-plot')._fullData.map("
        "t => ({name: t.name, keys: Array.from(t.customdata), values: Array.from(t.y)}));")
    assert [trace["name"] for trace in traces] == ["个人代理", "银保"]
    for trace, channel in zip(traces, ("agency", "bancassurance")):
        expected = _oracle(demo_warehouse, "v.region_code", "AND p.channel_code = ?", [channel])
        shown = {k: v for k, v in zip(trace["keys"], trace["values"]) if v is not None}
        assert shown == pytest.approx({k: v / 1e4 for k, v in expected.items()}, rel=1e-9)
    screenshot(dashboard, "explore_compare_zh")
    assert console_errors(dashboard) == []
