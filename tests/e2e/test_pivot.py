"""Pivot in a real browser: totals equal the raw tables, swap turns the grid, a cell opens its records."""
from __future__ import annotations

import math
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import WHOLE_HISTORY, console_errors, screenshot

pytestmark = pytest.mark.e2e

PAID_PREMIUM = """
    SELECT count(*), sum(pr.amount) FROM fact_premium pr
    JOIN fact_policy p USING (policy_id)
    JOIN dim_product d ON d.product_code = p.product_code
    JOIN dim_branch b ON b.branch_id = p.branch_id
    JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    WHERE pr.paid_date IS NOT NULL {where}
"""


def _oracle(path, where: str = "", params=()) -> tuple[int, float]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(PAID_PREMIUM.format(where=where), list(params)).fetchall()[0]


def _grid_rows(duo, grid: str) -> list[dict]:
    """The rows the grid holds, read through AG Grid's API (empty while it is not mounted yet)."""
    return duo.driver.execute_script(
        f"let api; try {{ api = dash_ag_grid.getApi('{grid}'); }} catch (e) {{ return []; }}"
        "const rows = []; api.forEachNode(n => rows.push(n.data)); return rows;")


def _wait_for_column(duo, grid: str, field: str) -> list[dict]:
    """The grid's rows once they carry `field` (columns off screen are not in the DOM: ask the grid)."""
    duo._wait_for(lambda _driver: any(field in row for row in _grid_rows(duo, grid)), timeout=30,
                  msg=f"{grid} has no column {field}")
    return _grid_rows(duo, grid)


def _grand_total(rows: list[dict]) -> float:
    total = next(r for r in rows if r["_row_depth"] == 0)
    return next(v for k, v in total.items() if k.startswith("__total__|") and k.endswith("|written_premium"))


def _shown_rows(duo, grid: str) -> list[dict]:
    """The rows in the order the screen shows them."""
    return duo.driver.execute_script(
        f"const api = dash_ag_grid.getApi('{grid}'); const rows = [];"
        "api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows;")


def _region_totals(path) -> dict[str, float]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(PAID_PREMIUM.format(where="").replace("SELECT count(*), sum(pr.amount)",
                                                                         "SELECT v.region_code, sum(pr.amount)")
                                + " GROUP BY v.region_code").fetchall())


def test_pivot_totals_swap_and_records_behind_a_cell(dashboard, downloads, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/pivot?{WHOLE_HISTORY}")
    dashboard.wait_for_element('#pivot-grid .ag-cell[col-id="health|written_premium"]', timeout=30)
    _count, total = _oracle(demo_warehouse)
    # the cell can be drawn a moment before the grid holds every row of the answer, grand total included
    dashboard._wait_for(lambda _driver: any(r.get("_row_depth") == 0 for r in _grid_rows(dashboard, "pivot-grid")),
                        timeout=30, msg="the pivot has no grand total row")
    rows = _grid_rows(dashboard, "pivot-grid")
    assert _grand_total(rows) == pytest.approx(total, rel=1e-9)
    # the controls' mount values are the URL's state: the page is drawn once, its URL left as typed
    assert dashboard.driver.current_url == dashboard.server_url + f"/pivot?{WHOLE_HISTORY}"
    assert {r["key0"] for r in rows if r["_row_depth"] == 2} == {
        "north", "northeast", "east", "central", "south", "southwest", "northwest"}
    # row headers pinned left, each region above its channels; the row totals pinned right
    left = dashboard.find_element("#pivot-grid .ag-pinned-left-cols-container").text.split("\n")
    assert left[:2] == ["华北", "个人代理"] and left[-1] == "合计"
    right = dashboard.find_element("#pivot-grid .ag-pinned-right-cols-container")
    assert right.find_elements(By.CSS_SELECTOR, '.ag-cell[col-id="__total__|written_premium"]')
    # no records area before a cell is picked
    assert not dashboard.find_element("#pivot-records-area").is_displayed()
    screenshot(dashboard, "pivot_zh")

    first = next(r for r in rows if r["key0"] == "north" and r["key1"] == "agency")
    dashboard.find_element(f'#pivot-grid .ag-center-cols-container .ag-row[row-id="{first["_id"]}"] '
                           '.ag-cell[col-id="health|written_premium"]').click()
    count, _ = _oracle(demo_warehouse, "AND v.region_code = ? AND p.channel_code = ? AND d.line_code = 'health'",
                       [first["key0"], first["key1"]])
    dashboard.wait_for_contains_text("#pivot-records-title", f"华北 / 个人代理 / 健康险（共 {count:,} 条", timeout=30)
    assert dashboard.find_element("#pivot-records-area").is_displayed()
    assert len(_grid_rows(dashboard, "pivot-records")) == min(count, 200)
    # AG Grid's own pager in Chinese
    pages = math.ceil(min(count, 200) / 20)
    pager = dashboard.find_element("#pivot-records .ag-paging-description").get_attribute("textContent")
    assert "".join(pager.split()) == f"第1页，共{pages}页"  # AG Grid's pager puts spaces between its parts
    screenshot(dashboard, "pivot_records_zh")
    export = downloads("#pivot-cell-export-records").read_bytes()
    assert len(export.decode("utf-8-sig").splitlines()) == 2 + count  # filters line, header, records

    dashboard.find_element("#pivot-swap").click()
    swapped = _wait_for_column(dashboard, "pivot-grid", "east|agency|written_premium")
    assert "rows=product.line" in dashboard.driver.current_url
    assert _grand_total(swapped) == pytest.approx(total, rel=1e-9)
    assert console_errors(dashboard) == []


def _region_order(duo) -> list[tuple[str, float]]:
    return [(r["key0"], r["__total__|written_premium"]) for r in _shown_rows(duo, "pivot-grid") if r["_row_depth"] == 1]


def test_sorting_a_pivot_column_orders_each_level_and_stays_in_the_url(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/pivot?{WHOLE_HISTORY}")
    header = '#pivot-grid .ag-header-cell[col-id="__total__|written_premium"]'
    dashboard.wait_for_element(header, timeout=30)
    dashboard._wait_for(lambda _driver: len(_region_order(dashboard)) == 7, timeout=30, msg="no region rows")
    dashboard.find_element(header + " .ag-header-cell-label").click()
    dashboard._wait_for(lambda _driver: "sort=" in dashboard.driver.current_url, timeout=30, msg="sort not in URL")
    query = parse_qs(urlparse(dashboard.driver.current_url).query)
    assert query["sort"] == ["__total__|written_premium:desc"]
    expected = sorted(_region_totals(demo_warehouse).items(), key=lambda kv: -kv[1])

    def regions_match(_driver):
        shown = _region_order(dashboard)
        return [k for k, _ in shown] == [k for k, _ in expected] and shown
    dashboard._wait_for(regions_match, timeout=30, msg="regions not in descending total order")
    shown = _region_order(dashboard)
    assert [v for _, v in shown] == pytest.approx([v for _, v in expected], rel=1e-9)
    rows = _shown_rows(dashboard, "pivot-grid")
    # within a region its channels are in descending order too, under their subtotal; grand total last
    east = [r["__total__|written_premium"] for r in rows if r["key0"] == "east" and r["_row_depth"] == 2]
    assert east == sorted(east, reverse=True) and len(east) > 3
    assert rows[-1]["_row_depth"] == 0
    # the order on screen: the pinned row headers read top-down in that order
    left = dashboard.find_element("#pivot-grid .ag-pinned-left-cols-container").text.split("\n")
    assert left[0] == next(r["_label"] for r in rows if r["key0"] == expected[0][0] and r["_row_depth"] == 1)

    dashboard.driver.refresh()
    dashboard.wait_for_element(header + '[aria-sort="descending"]', timeout=30)
    dashboard._wait_for(regions_match, timeout=30, msg="the sort did not survive a reload")
    assert console_errors(dashboard) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pivot_on_a_phone_scrolls_inside_the_grid(dashboard, lang):
    dashboard.driver.set_window_size(390, 900)
    try:
        dashboard.driver.get(dashboard.server_url + "/pivot" + ("?lang=en" if lang == "en" else ""))
        dashboard.wait_for_element('#pivot-grid .ag-pinned-left-cols-container .ag-cell', timeout=30)
        dashboard._wait_for(lambda _driver: any(r["_row_depth"] == 0 for r in _grid_rows(dashboard, "pivot-grid")),
                            timeout=30, msg="pivot rows missing")
        page = dashboard.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert page[0] <= page[1], f"the page scrolls sideways: {page}"
        viewport = dashboard.driver.execute_script(
            "const v = document.querySelector('#pivot-grid .ag-center-cols-viewport');"
            "return [v.scrollWidth, v.clientWidth]")
        assert viewport[0] > viewport[1] > 100  # the numbers scroll inside the grid, in a usable width
        first = dashboard.find_element("#pivot-grid .ag-pinned-left-cols-container")
        assert first.size["width"] <= (130 if lang == "zh" else 180)  # the numbers keep half the width or more
        names = first.find_elements(By.CSS_SELECTOR, ".ag-cell")
        assert ("华北" if lang == "zh" else "North China") in [n.text for n in names]
        # every row header is whole: nothing clipped at the cell's edge
        assert dashboard.driver.execute_script(
            "return [...document.querySelectorAll('#pivot-grid .ag-pinned-left-cols-container .ag-cell-value')]"
            ".every(c => c.scrollWidth <= c.clientWidth + 1)")
        screenshot(dashboard, f"pivot_{lang}_390", 390)
    finally:
        dashboard.driver.set_window_size(1280, 900)


def test_collapsed_english_pivot_shows_region_subtotals_only(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/pivot?lang=en&depth=1&measures=written_premium,loss_ratio&{WHOLE_HISTORY}")
    rows = _wait_for_column(dashboard, "pivot-grid", "__total__|loss_ratio")
    assert {r["_row_depth"] for r in rows} == {0, 1}
    east = next(r for r in rows if r["key0"] == "east")
    _count, premium = _oracle(demo_warehouse, "AND v.region_code = 'east'")
    assert east["__total__|written_premium"] == pytest.approx(premium, rel=1e-9)
    screenshot(dashboard, "pivot_en")
