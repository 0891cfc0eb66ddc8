"""Explore in a real browser: bars equal the raw tables, clicks drill down, the path leads back up."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.e2e.conftest import WHOLE_HISTORY, click_label, console_errors, screenshot

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


CHINESE_UNITS = {"亿元": 1e8, "万元": 1e4, "元": 1.0}


def _axis_unit(duo) -> tuple[str, float]:
    """The unit the y axis title names, as a reader sees it: 保费收入（万元） -> ('万元', 1e4)."""
    title = duo.find_element("#explore-chart-graph .ytitle").text
    unit = title[title.rindex("（") + 1:-1]
    return unit, CHINESE_UNITS[unit]


def _chinese_unit(amounts) -> str:
    """The unit a Chinese axis takes for these amounts: 亿元 from 1亿, else 万元 from 1万."""
    largest = max(abs(a) for a in amounts)
    return next(u for u, size in CHINESE_UNITS.items() if largest >= size)


def _bars(duo) -> dict[str, float]:
    """What the chart draws: member key (customdata) -> value in yuan, decoded by Plotly itself and
    scaled back by the unit its axis title names."""
    trace = duo.driver.execute_script(
        "const g = document.querySelector('#explore-chart-graph .js-plotly-plot');"
        "if (!g || !g._fullData || !g._fullData.length) { return {keys: [], values: []}; }"
        "const d = g._fullData[0]; return {keys: Array.from(d.customdata || []), values: Array.from(d.y || [])};")
    size = _axis_unit(duo)[1] if trace["keys"] else 1.0
    return {k: v * size for k, v in zip(trace["keys"], trace["values"])}


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
    dashboard.driver.get(dashboard.server_url + f"/explore?top=0&{WHOLE_HISTORY}")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    regions = _oracle(demo_warehouse, "v.region_code")
    shown = _bars(dashboard)
    assert set(shown) == set(regions)
    assert _axis_unit(dashboard)[0] == _chinese_unit(regions.values())
    assert dashboard.find_element("#explore-chart-graph .xtitle").text == "大区"
    for key, value in regions.items():
        assert shown[key] == pytest.approx(value, rel=1e-9)

    top_region = max(regions, key=regions.get)
    _click_first_bar(dashboard)
    dashboard.wait_for_contains_text("#explore-crumbs", "华东" if top_region == "east" else "", timeout=30)
    assert f"path={top_region}" in dashboard.driver.current_url
    provinces = _oracle(demo_warehouse, "v.province_code", "AND v.region_code = ?", [top_region])
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    shown = _bars(dashboard)
    assert set(shown) == set(provinces)
    assert sum(shown.values()) == pytest.approx(sum(provinces.values()), rel=1e-9)
    dashboard.wait_for_text_to_equal("#explore-chart-graph .xtitle", "省份", timeout=30)
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
    dashboard.driver.get(dashboard.server_url + f"/explore?lang=en&measure=loss_ratio&dim=channel&chart=pie&top=7&{WHOLE_HISTORY}")
    dashboard.wait_for_contains_text("#explore-notice", "top=7", timeout=30)
    dashboard.wait_for_contains_text("#explore-notice", "instead of a pie")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    screenshot(dashboard, "explore_en")
    assert console_errors(dashboard) == []


def test_two_channels_side_by_side_equal_the_raw_tables(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/explore?top=0&slice=channel&members=agency,bancassurance&compare=1&{WHOLE_HISTORY}")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    traces = dashboard.driver.execute_script(
        "return document.querySelector('#explore-chart-graph .js-plotly-plot')._fullData.map("
        "t => ({name: t.name, keys: Array.from(t.customdata), values: Array.from(t.y)}));")
    assert [trace["name"] for trace in traces] == ["个人代理", "银保"]
    size = _axis_unit(dashboard)[1]
    for trace, channel in zip(traces, ("agency", "bancassurance")):
        expected = _oracle(demo_warehouse, "v.region_code", "AND p.channel_code = ?", [channel])
        shown = {k: v * size for k, v in zip(trace["keys"], trace["values"]) if v is not None}
        assert shown == pytest.approx(expected, rel=1e-9)
    screenshot(dashboard, "explore_compare_zh")
    assert console_errors(dashboard) == []


def _by_channel(path, sql: str) -> tuple[float, float]:
    """The hand-written query's value for agency (segment A) and bancassurance (segment B)."""
    with duckdb.connect(str(path), read_only=True) as con:
        values = dict(con.execute(sql).fetchall())
    return values["agency"], values["bancassurance"]


def _summary(duo, change: str) -> str:
    """The compare summary above the chart, once it states `change`."""
    duo.wait_for_contains_text("#explore-compare-summary", change, timeout=30)
    return duo.find_element("#explore-compare-summary").text


def _total_row(duo) -> dict[str, str]:
    """The table's total row as the screen shows it: column id -> text."""
    total = duo.find_element("#explore-grid .ag-floating-bottom .ag-row")
    return {c.get_attribute("col-id"): c.text for c in total.find_elements(By.CSS_SELECTOR, ".ag-cell")}


def test_compare_mode_as_lines_with_totals_and_difference(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/explore?top=0&slice=channel&members=agency,bancassurance&compare=1"
                         f"&{WHOLE_HISTORY}")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    click_label(dashboard, "折线图")
    dashboard._wait_for(lambda _d: "chart=line" in dashboard.driver.current_url, timeout=30, msg="no chart=line")
    dashboard.wait_for_element("#explore-chart-graph .scatterlayer .trace .lines path", timeout=30)
    traces = dashboard.driver.execute_script(
        "return document.querySelector('#explore-chart-graph .js-plotly-plot')._fullData.map("
        "t => ({type: t.type, mode: t.mode, name: t.name}));")
    assert [(t["type"], t["name"]) for t in traces] == [("scatter", "个人代理"), ("scatter", "银保")]
    assert all("lines" in t["mode"] for t in traces)
    a, b = _by_channel(demo_warehouse, PREMIUM_BY.format(key="p.channel_code", where=""))
    change = f"{(b - a) / a * 100:+.1f}%".replace("-", "−")   # the typographic minus
    # on screen: each segment's total (in 亿元 at this size) and B against A
    summary = _summary(dashboard, f"B 较 A：{change}")
    assert f"A 个人代理：{a / 1e8:,.2f}亿" in summary and f"B 银保：{b / 1e8:,.2f}亿" in summary
    # the table's total row: both totals in 万元, the difference, and the change in percent
    cells = _total_row(dashboard)
    assert cells["member"] == "合计"
    assert cells["s0"] == f"{a / 1e4:,.2f}" and cells["s1"] == f"{b / 1e4:,.2f}"
    assert cells["diff_pct"] == change  # the grid's d3-format writes the same minus
    screenshot(dashboard, "explore_compare_line_zh")
    dashboard.driver.set_window_size(390, 900)
    screenshot(dashboard, "explore_compare_line_zh_390", 390)

    dashboard.driver.find_element(By.XPATH, "//label[normalize-space()='English']").click()
    dashboard.wait_for_contains_text("#explore-compare-summary", f"B against A: {change}", timeout=30)
    summary = dashboard.find_element("#explore-compare-summary").text
    assert f"A Agency: {a / 1e9:,.2f}B" in summary and f"B Bancassurance: {b / 1e9:,.2f}B" in summary
    assert "chart=line" in dashboard.driver.current_url
    screenshot(dashboard, "explore_compare_line_en")
    dashboard.driver.set_window_size(390, 900)
    screenshot(dashboard, "explore_compare_line_en_390", 390)
    dashboard.driver.set_window_size(1280, 900)
    assert console_errors(dashboard) == []


def test_explore_table_sort_is_kept_in_the_url(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/explore?top=0&lang=en&{WHOLE_HISTORY}")
    header = '#explore-grid .ag-header-cell[col-id="value"]'
    dashboard.wait_for_element(header, timeout=30)
    dashboard.wait_for_element('#explore-grid .ag-center-cols-container .ag-row', timeout=30)
    dashboard.find_element(header + " .ag-header-cell-label").click()  # ascending first
    dashboard._wait_for(lambda _d: "sort=value%3Aasc" in dashboard.driver.current_url, timeout=30, msg="no sort")
    regions = _oracle(demo_warehouse, "v.region_code")
    ascending = sorted(regions.values())

    def shown(_driver=None):
        cells = dashboard.find_elements('#explore-grid .ag-center-cols-container .ag-row [col-id="value"]')
        rows = sorted(cells, key=lambda c: c.find_element(By.XPATH, "..").location["y"])
        return [float(c.text.replace(",", "")) for c in rows]
    # numbers in numeric order on screen (M CNY, two decimals), not as text
    dashboard._wait_for(lambda _d: shown() == [round(v / 1e6, 2) for v in ascending], timeout=30,
                        msg="not in ascending numeric order")
    dashboard.driver.refresh()
    dashboard.wait_for_element(header + '[aria-sort="ascending"]', timeout=30)
    dashboard._wait_for(lambda _d: shown() == [round(v / 1e6, 2) for v in ascending], timeout=30,
                        msg="the order did not survive a reload")
    screenshot(dashboard, "explore_en_sorted")
    assert console_errors(dashboard) == []


LOSS_RATIO_BY_CHANNEL = """
    WITH premium AS (SELECT p.channel_code AS channel, sum(pr.amount) AS premium FROM fact_premium pr
                     JOIN fact_policy p USING (policy_id) WHERE pr.paid_date IS NOT NULL GROUP BY 1),
         claims AS (SELECT p.channel_code AS channel, sum(c.amount_paid) AS paid FROM fact_claim c
                    JOIN fact_policy p USING (policy_id) GROUP BY 1)
    SELECT CAST(channel AS VARCHAR), paid / premium FROM premium JOIN claims USING (channel)
"""


def test_compare_mode_pies_side_by_side_and_rates_in_points(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/explore?top=0&slice=channel&members=agency,bancassurance&compare=1"
                         f"&{WHOLE_HISTORY}")
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    click_label(dashboard, "饼图")
    dashboard.wait_for_element("#explore-chart-graph .pielayer .trace:nth-of-type(2)", timeout=30)
    pies = dashboard.driver.execute_script(
        "return document.querySelector('#explore-chart-graph .js-plotly-plot')._fullData.map("
        "t => ({type: t.type, title: t.title.text, keys: Array.from(t.customdata), values: Array.from(t.values)}));")
    assert [(p["type"], p["title"]) for p in pies] == [("pie", "个人代理"), ("pie", "银保")]
    expected = {channel: _oracle(demo_warehouse, "v.region_code", "AND p.channel_code = ?", [channel])
                for channel in ("agency", "bancassurance")}
    # the pies' sizes are in the one unit of the chart, taken from its largest amount
    size = CHINESE_UNITS[_chinese_unit([v for amounts in expected.values() for v in amounts.values()])]
    for pie, channel in zip(pies, ("agency", "bancassurance")):
        assert dict(zip(pie["keys"], pie["values"])) == pytest.approx(
            {k: v / size for k, v in expected[channel].items()}, rel=1e-9)
    screenshot(dashboard, "explore_compare_pie_zh")

    # a rate: no pie (the page says why), bars, and B against A in percentage points
    dashboard.driver.get(dashboard.server_url + "/explore?measure=loss_ratio&top=0&slice=channel"
                                                f"&members=agency,bancassurance&compare=1&chart=pie&{WHOLE_HISTORY}")
    dashboard.wait_for_contains_text("#explore-notice", "比率类指标不能用饼图", timeout=30)
    dashboard.wait_for_element("#explore-chart-graph .bars .point path", timeout=30)
    a, b = _by_channel(demo_warehouse, LOSS_RATIO_BY_CHANNEL)
    points = f"{(b - a) * 100:+.1f}".replace("-", "−")
    summary = _summary(dashboard, f"B 较 A：{points}个百分点")
    assert f"A 个人代理：{a * 100:.1f}%" in summary and f"B 银保：{b * 100:.1f}%" in summary
    cells = _total_row(dashboard)
    assert cells["s0"] == f"{a * 100:.2f}%" and cells["s1"] == f"{b * 100:.2f}%"
    assert cells["diff_pct"] == points
    assert "差异（个百分点）" in dashboard.find_element("#explore-grid .ag-header").text
    screenshot(dashboard, "explore_compare_rate_zh")
    assert console_errors(dashboard) == []
