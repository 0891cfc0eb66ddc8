"""The overview page in a real browser: headline numbers, tooltips and the growers and fallers agree
with the raw tables; a click on a chart filters the page, Back returns; the mode bar is in Chinese."""
from __future__ import annotations

import io
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from data.config import load_params
from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

CHARTS = ("overview-trend", "overview-channels", "overview-regions", "overview-movers")
CARD = '[id*="kpi-value"][id*="written_premium"]'
BY_PROVINCE = """
    SELECT v.province_code AS key, v.name_zh AS name,
           sum(pr.amount) FILTER (WHERE pr.paid_date BETWEEN $start AND $end) AS now,
           sum(pr.amount) FILTER (WHERE pr.paid_date BETWEEN $start - INTERVAL 1 YEAR AND $end - INTERVAL 1 YEAR)
               AS before
    FROM fact_premium pr JOIN fact_policy p USING (policy_id)
    JOIN dim_branch b ON b.branch_id = p.branch_id JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    GROUP BY 1, 2
"""


def _oracle_period() -> tuple[str, str]:
    """Year to date at the as-of date the company rules give the data."""
    as_of = load_params()["as_of_date"]
    return f"{as_of.year}-01-01", as_of.isoformat()


def _sql(path, sql: str, params=()):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params).df()


def _premium(path, start: str, end: str, province: str | None = None) -> float:
    frame = _sql(path, BY_PROVINCE, {"start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date()})
    return float((frame[frame["key"] == province] if province else frame)["now"].sum())


def _yi(amount: float) -> str:
    """An amount as a Chinese reader expects it on a card: in 亿元 from 1亿, else 万元."""
    return f"{amount / 1e8:,.2f}亿元" if amount >= 1e8 else f"{amount / 1e4:,.2f}万元"


def _wait_for_overview(duo) -> None:
    duo.wait_for_contains_text(CARD, ".", timeout=30)
    for graph in CHARTS:
        duo.wait_for_element(f"#{graph} .main-svg", timeout=30)
        # drawn with its data (not the empty figure a graph starts with) and no longer loading
        duo._wait_for(lambda d, g=graph: d.execute_script(
            f"const g = document.querySelector('#{g} .js-plotly-plot');"
            "return !!(g && g._fullData && g._fullData.length && g._fullData[0].customdata)"
            f" && !document.querySelector('#{g}').closest('[data-dash-is-loading]');"), timeout=30,
            msg=f"{graph} was not drawn")


def _hover_text(duo, element) -> str:
    ActionChains(duo.driver).move_to_element(element).perform()
    duo._wait_for(lambda d: d.find_elements("css selector", ".hoverlayer .hovertext"), timeout=10,
                  msg="no tooltip appeared")
    return " ".join(e.text for e in duo.driver.find_elements("css selector", ".hoverlayer .hovertext"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_written_premium_card_equals_raw_premium_facts(dashboard, downloads, demo_warehouse, lang):
    dashboard.driver.get(dashboard.server_url + ("/?lang=en" if lang == "en" else "/"))
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    total = _premium(demo_warehouse, start, end)
    assert 1e9 <= total < 1e12   # the demo's year: in 亿元 and B CNY
    expected = _yi(total) if lang == "zh" else f"{total / 1e9:,.2f}B CNY"
    assert dashboard.find_element(CARD).text == expected
    assert start in dashboard.find_element("#overview-period").text
    assert not re.search(r"\b(nan|NaN|None)\b", dashboard.find_element("body").text)
    screenshot(dashboard, f"overview_{lang}")
    _check_channel_export(dashboard, downloads, demo_warehouse, start, end, lang)
    assert console_errors(dashboard) == []


def _check_channel_export(duo, download, path, start: str, end: str, lang: str) -> None:
    """The channel-mix chart's table export: premium per channel over the period, labels in `lang`."""
    link = duo.driver.find_element(
        "css selector", '[id*="chart-export"][id*="overview-channels"][id*="table"]:not([id*="xlsx"])')
    content = download(link).read_bytes()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert start in lines[0] and end in lines[0]
    frame = pd.read_csv(io.StringIO("\n".join(lines[1:])))
    with duckdb.connect(str(path), read_only=True) as con:
        expected = dict(con.execute(
            f"SELECT c.name_{lang}, round(sum(pr.amount), 2) FROM fact_premium pr JOIN fact_policy p USING (policy_id) "
            "JOIN dim_channel c ON c.channel_code = p.channel_code WHERE pr.paid_date BETWEEN ? AND ? GROUP BY 1",
            [start, end]).fetchall())
    channel, premium = ("渠道", "保费收入（元）") if lang == "zh" else ("Channel", "Written premium (CNY)")
    assert dict(zip(frame[channel], frame[premium])) == pytest.approx(expected, abs=0.01)


def test_trend_tooltip_compares_with_last_year_and_axis_names_the_unit(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/")
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    year = int(start[:4])
    january, last_january = (_premium(demo_warehouse, f"{y}-01-01", f"{y}-01-31") for y in (year, year - 1))
    months = _sql(demo_warehouse, "SELECT sum(amount) AS premium FROM fact_premium WHERE paid_date BETWEEN ? AND ? "
                                  "OR paid_date BETWEEN ?::DATE - INTERVAL 1 YEAR AND ?::DATE - INTERVAL 1 YEAR "
                                  "GROUP BY date_trunc('month', paid_date)", [start, end, start, end])
    unit = "亿元" if months["premium"].max() >= 1e8 else "万元"   # one unit for the whole axis, from its largest month
    assert dashboard.find_element("#overview-trend .ytitle").text == f"保费收入（{unit}）"
    first_point = dashboard.find_element("#overview-trend .scatterlayer .point")
    text = _hover_text(dashboard, first_point)
    assert f"{year}年1月" in text and "上年同期" in text and "同比" in text
    assert _yi(january) in text and _yi(last_january) in text
    assert f"{(january / last_january - 1) * 100:+.1f}%".replace("-", "−") in text


def test_growers_and_fallers_are_two_groups_equal_to_the_raw_tables(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/")
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    frame = _sql(demo_warehouse, BY_PROVINCE, {"start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date()})
    frame["change"] = frame["now"] / frame["before"] - 1
    grew = frame.nlargest(5, "change")
    fell = frame.drop(grew.index).nsmallest(5, "change")
    traces = dashboard.driver.execute_script(
        "return document.querySelector('#overview-movers .js-plotly-plot')._fullData"
        ".map(d => ({y: Array.from(d.y), x: Array.from(d.x), yaxis: d.yaxis}));")
    assert [t["yaxis"] for t in traces] == ["y", "y2"]   # two subplots, one per group
    assert traces[0]["y"] == list(grew["name"]) and traces[1]["y"] == list(fell["name"])
    assert traces[0]["x"] == pytest.approx(list(grew["change"] * 100), rel=1e-9)
    titles = [e.text for e in dashboard.driver.find_elements("css selector", "#overview-movers .annotation-text")]
    assert titles[:2] == ["增长最快", "下降最多" if (fell["change"] < 0).any() else "增长最慢"]
    dashboard.driver.set_window_size(390, 900)   # a phone: the two groups stay apart, the title clear
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.querySelector('#overview-movers .main-svg').getBoundingClientRect().width") < 390,
        timeout=10, msg="the movers chart did not fit the narrow screen")
    boxes = dashboard.driver.execute_script(
        "return Array.from(document.querySelectorAll('#overview-movers .annotation-text, #overview-movers .ytick text'))"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });")
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    screenshot(dashboard, "overview_narrow_zh", width=390)


def test_clicking_a_province_filters_the_page_and_back_returns(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/")
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    total = _premium(demo_warehouse, start, end)
    dashboard.wait_for_text_to_equal(CARD, _yi(total), timeout=30)
    bar = dashboard.find_element("#overview-movers .bars .point path")
    key = dashboard.driver.execute_script(
        "return document.querySelector('#overview-movers .js-plotly-plot')._fullData[0].customdata[0][1];")
    # a real click at the bar: Plotly's drag layer lies over it, so the mouse is moved there first
    ActionChains(dashboard.driver).move_to_element(bar).click().perform()
    dashboard._wait_for(lambda d: f"province={key}" in d.current_url, timeout=30, msg="the click set no filter")
    dashboard.wait_for_text_to_equal(CARD, _yi(_premium(demo_warehouse, start, end, key)), timeout=30)
    dashboard.driver.back()
    dashboard._wait_for(lambda d: "province=" not in d.current_url, timeout=30, msg="Back did not return")
    dashboard.wait_for_text_to_equal(CARD, _yi(total), timeout=30)
    assert console_errors(dashboard) == []


def test_clicking_a_channel_slice_filters_the_page(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/?lang=en")
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    slices = dashboard.driver.execute_script(
        "const d = document.querySelector('#overview-channels .js-plotly-plot')._fullData[0];"
        "return {keys: Array.from(d.customdata).map(c => c[1]), values: Array.from(d.values)};")
    key = slices["keys"][slices["values"].index(max(slices["values"]))]
    name, premium = _sql(demo_warehouse, """
        SELECT c.name_en, sum(pr.amount) FROM fact_premium pr JOIN fact_policy p USING (policy_id)
        JOIN dim_channel c ON c.channel_code = p.channel_code WHERE pr.paid_date BETWEEN ? AND ? AND c.channel_code = ?
        GROUP BY 1""", [start, end, key]).iloc[0]
    label = next(e for e in dashboard.driver.find_elements("css selector", "#overview-channels .slicetext")
                 if e.text.startswith(name))   # the slice's own name, drawn inside it
    tooltip = _hover_text(dashboard, label)
    assert "This period" in tooltip and "A year earlier" in tooltip and "Change YoY" in tooltip
    ActionChains(dashboard.driver).move_to_element(label).click().perform()
    dashboard._wait_for(lambda d: f"channel={key}" in d.current_url, timeout=30, msg="the click set no filter")
    size, unit = (1e9, "B") if premium >= 1e9 else (1e6, "M")
    dashboard.wait_for_text_to_equal(CARD, f"{premium / size:,.2f}{unit} CNY", timeout=30)
    dashboard.driver.set_window_size(390, 900)
    dashboard.driver.execute_script("document.getElementById('theme-switch').click()")
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark", timeout=10,
        msg="the page did not switch to the dark scheme")
    _wait_for_overview(dashboard)
    screenshot(dashboard, "overview_filtered_dark_narrow_en", width=390)
    assert console_errors(dashboard) == []


def test_clicking_a_region_in_the_treemap_filters_the_page(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/")
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    regions = _sql(demo_warehouse, """
        SELECT r.region_code, r.name_zh, sum(pr.amount) AS premium FROM fact_premium pr JOIN fact_policy p USING (policy_id)
        JOIN dim_branch b ON b.branch_id = p.branch_id JOIN dim_city c ON c.city_code = b.city_code
        JOIN dim_province v ON v.province_code = c.province_code JOIN dim_region r ON r.region_code = v.region_code
        WHERE pr.paid_date BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 3 DESC""", [start, end])
    code, name, premium = regions.iloc[0]
    header = next(e for e in dashboard.driver.find_elements("css selector", "#overview-regions .slicetext")
                  if e.text == name)   # the region's name on its tile
    ActionChains(dashboard.driver).move_to_element(header).click().perform()
    dashboard._wait_for(lambda d: f"region={code}" in d.current_url, timeout=30, msg="the click set no filter")
    dashboard.wait_for_text_to_equal(CARD, _yi(premium), timeout=30)


@pytest.mark.parametrize("lang, title", [("zh", "下载图表为PNG格式"), ("en", "Download plot as a PNG")])
def test_mode_bar_speaks_the_page_language(dashboard, lang, title):
    dashboard.driver.get(dashboard.server_url + ("/?lang=en" if lang == "en" else "/"))
    _wait_for_overview(dashboard)
    graph = dashboard.find_element("#overview-trend .js-plotly-plot")
    ActionChains(dashboard.driver).move_to_element(graph).perform()
    buttons = dashboard.driver.find_elements("css selector", "#overview-trend .modebar-btn")
    titles = [b.get_attribute("data-title") for b in buttons]
    assert title in titles
    download = buttons[titles.index(title)]
    dashboard._wait_for(lambda d: download.is_displayed(), timeout=10, msg="the mode bar stayed hidden")
    assert not dashboard.driver.find_elements("css selector", "#overview-trend .modebar-btn--logo")
    ActionChains(dashboard.driver).move_to_element(download).click().perform()
    png = Path(dashboard.download_path) / "policycube_overview-trend.png"
    dashboard._wait_for(lambda d: png.exists() and png.stat().st_size > 0, timeout=30, msg="no PNG was downloaded")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
