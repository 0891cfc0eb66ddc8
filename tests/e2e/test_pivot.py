"""Pivot in a real browser: totals equal the raw tables, swap turns the grid, a cell opens its records."""
from __future__ import annotations

import duckdb
import pytest

from tests.e2e.conftest import console_errors, screenshot

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


def test_pivot_totals_swap_and_records_behind_a_cell(dashboard, downloads, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/pivot")
    dashboard.wait_for_element('#pivot-grid .ag-cell[col-id="health|written_premium"]', timeout=30)
    _count, total = _oracle(demo_warehouse)
    # the cell can be drawn a moment before the grid holds every row of the answer, grand total included
    dashboard._wait_for(lambda _driver: any(r.get("_row_depth") == 0 for r in _grid_rows(dashboard, "pivot-grid")),
                        timeout=30, msg="the pivot has no grand total row")
    rows = _grid_rows(dashboard, "pivot-grid")
    assert _grand_total(rows) == pytest.approx(total, rel=1e-9)
    # the controls' mount values are the URL's state: the page is drawn once, its URL left as typed
    assert dashboard.driver.current_url == dashboard.server_url + "/pivot"
    assert {r["key0"] for r in rows if r["_row_depth"] == 2} == {
        "north", "northeast", "east", "central", "south", "southwest", "northwest"}
    screenshot(dashboard, "pivot_zh")

    dashboard.find_element('#pivot-grid .ag-center-cols-container .ag-row[row-id="0"] '
                           '.ag-cell[col-id="health|written_premium"]').click()
    first = rows[0]
    count, _ = _oracle(demo_warehouse, "AND v.region_code = ? AND p.channel_code = ? AND d.line_code = 'health'",
                       [first["key0"], first["key1"]])
    dashboard.wait_for_contains_text("#pivot-records-title", f"共 {count:,} 条", timeout=30)
    assert len(_grid_rows(dashboard, "pivot-records")) == min(count, 200)
    export = downloads("#pivot-cell-export-records").read_bytes()
    assert len(export.decode("utf-8-sig").splitlines()) == 2 + count  # filters line, header, records

    dashboard.find_element("#pivot-swap").click()
    swapped = _wait_for_column(dashboard, "pivot-grid", "east|agency|written_premium")
    assert "rows=product.line" in dashboard.driver.current_url
    assert _grand_total(swapped) == pytest.approx(total, rel=1e-9)
    assert console_errors(dashboard) == []


def test_collapsed_english_pivot_shows_region_subtotals_only(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/pivot?lang=en&depth=1&measures=written_premium,loss_ratio")
    rows = _wait_for_column(dashboard, "pivot-grid", "__total__|loss_ratio")
    assert {r["_row_depth"] for r in rows} == {0, 1}
    east = next(r for r in rows if r["key0"] == "east")
    _count, premium = _oracle(demo_warehouse, "AND v.region_code = 'east'")
    assert east["__total__|written_premium"] == pytest.approx(premium, rel=1e-9)
    screenshot(dashboard, "pivot_en")
