"""Downloads in a real browser: a plain click on every export link of every page (table and records,
CSV and Excel, the pivot's cell records) saves its file, named <view>_<kind>_<date>.<csv|xlsx>, in the
browser's download folder, and the page stays where it was. The files hold what the page shows
(the grid's rows, the chart's bars) and what hand-written SQL over the raw tables gives, with
labels instead of codes, the filters line first and units in the headers. An export the server
refuses is said on the page, in its language, and no file arrives."""
from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import duckdb
import openpyxl
import pandas as pd
import pytest

from tests.e2e.conftest import WHOLE_HISTORY, console_errors, screenshot

pytestmark = pytest.mark.e2e

MONTH = ("2026-10-01", "2026-10-31")
PERIOD = f"from={MONTH[0]}&to={MONTH[1]}"
# premium paid in the month by the policy's region, channel and product line, from the raw tables
PREMIUM = """
    SELECT {key} AS key, count(*) AS n, sum(pr.amount) AS premium FROM fact_premium pr
    JOIN fact_policy p USING (policy_id) JOIN dim_product d ON d.product_code = p.product_code
    JOIN dim_branch b ON b.branch_id = p.branch_id JOIN dim_city c ON c.city_code = b.city_code
    JOIN dim_province v ON v.province_code = c.province_code
    WHERE pr.paid_date BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' {where}
    GROUP BY ALL
"""


def sql(path, query: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, list(params)).df()


def read_csv(path) -> tuple[str, pd.DataFrame]:
    """(the filters line, the table under it); the file must be UTF-8 with a BOM, as Excel wants it."""
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    first, _, rest = text.partition("\r\n")
    return first, pd.read_csv(io.StringIO(rest), dtype={"记录号": str, "Record id": str})


def read_xlsx(path) -> tuple[str, pd.DataFrame, openpyxl.worksheet.worksheet.Worksheet]:
    book = openpyxl.load_workbook(path, read_only=False)
    sheet = book.worksheets[0]
    return sheet["A1"].value, pd.read_excel(path, header=1, dtype={"记录号": str, "Record id": str}), sheet


def expect_name(path, view: str, kind: str, ext: str) -> None:
    """The server's file name, as the browser saved it."""
    assert path.name == f"{view}_{kind}_{dt.date.today().isoformat()}.{ext}"


def grid_rows(duo, grid: str) -> list[dict]:
    """The rows the grid shows, pinned total rows included, read through AG Grid's API."""
    return duo.driver.execute_script(
        f"let api; try {{ api = dash_ag_grid.getApi('{grid}'); }} catch (e) {{ return []; }}"
        "const rows = []; api.forEachNode(n => rows.push(n.data));"
        "for (let i = 0; i < api.getPinnedBottomRowCount(); i++) { rows.push(api.getPinnedBottomRow(i).data); }"
        "return rows;")


def still_on(duo, path: str) -> None:
    """A download leaves the page where it was: no in-app navigation, no 404."""
    assert urlsplit(duo.driver.current_url).path == path
    assert "404" not in duo.find_element("body").text


def test_explore_downloads_hold_the_grid_and_the_raw_premium(dashboard, downloads, demo_warehouse):
    page = "/explore"
    dashboard.driver.get(f"{dashboard.server_url}{page}?{PERIOD}&channel=telesales")
    dashboard._wait_for(lambda _d: len(grid_rows(dashboard, "explore-grid")) > 1, timeout=60, msg="no explore grid")
    shown = {r["member"]: r["value"] for r in grid_rows(dashboard, "explore-grid")}
    regions = sql(demo_warehouse, PREMIUM.format(key="v.region_code", where="AND p.channel_code = 'telesales'"))
    names = dict(sql(demo_warehouse, "SELECT region_code, name_zh FROM dim_region").itertuples(index=False))
    expected = {names[k]: v for k, v in zip(regions["key"], regions["premium"])}
    assert {k: v for k, v in shown.items() if k != "合计"} == pytest.approx(expected, abs=0.01)

    screenshot(dashboard, "downloads_explore_zh")
    screenshot(dashboard, "downloads_explore_zh_phone", width=390)
    table_csv = downloads("#explore-export-table")
    expect_name(table_csv, "explore", "table", "csv")
    still_on(dashboard, page)
    line, table = read_csv(table_csv)
    assert line == f"筛选条件: 渠道: 电销；月: {MONTH[0]} — {MONTH[1]}"
    assert list(table.columns) == ["大区", "保费收入（元）"]
    assert dict(zip(table["大区"], table["保费收入（元）"])) == pytest.approx(shown, abs=0.01)

    table_xlsx = downloads("#explore-export-table-xlsx")
    expect_name(table_xlsx, "explore", "table", "xlsx")
    first, book, sheet = read_xlsx(table_xlsx)
    assert first == line and sheet.freeze_panes == "A3"
    assert dict(zip(book["大区"], book["保费收入（元）"])) == pytest.approx(shown, abs=0.01)
    assert sheet["B3"].number_format == "#,##0.00" and isinstance(sheet["B3"].value, float)

    count = int(regions["n"].sum())
    records_csv = downloads("#explore-export-records")
    expect_name(records_csv, "explore", "records", "csv")
    _line, records = read_csv(records_csv)
    assert len(records) == count
    assert set(records["记录类型"]) == {"保费缴费"} and set(records["渠道"]) == {"电销"}
    assert records["日期"].str.fullmatch(r"2026-10-\d\d").all()
    assert records["保费收入（元）"].sum() == pytest.approx(regions["premium"].sum(), abs=0.01)
    records_xlsx = downloads("#explore-export-records-xlsx")
    expect_name(records_xlsx, "explore", "records", "xlsx")
    _first, book, _sheet = read_xlsx(records_xlsx)
    assert list(book.columns) == list(records.columns)
    assert list(book["记录号"]) == list(records["记录号"])
    assert book["日期"].dt.strftime("%Y-%m-%d").tolist() == records["日期"].tolist()
    assert book["保费收入（元）"].to_numpy() == pytest.approx(records["保费收入（元）"].to_numpy())
    still_on(dashboard, page)
    assert console_errors(dashboard) == []


def test_pivot_table_and_the_records_of_a_clicked_cell_download(dashboard, downloads, demo_warehouse):
    page = "/pivot"
    dashboard.driver.get(f"{dashboard.server_url}{page}?{PERIOD}&region=north")
    cell = '#pivot-grid .ag-center-cols-container .ag-row[row-id="0"] .ag-cell[col-id="health|written_premium"]'
    dashboard.wait_for_element(cell, timeout=60)
    dashboard._wait_for(lambda _d: any(r.get("_row_depth") == 0 for r in grid_rows(dashboard, "pivot-grid")),
                        timeout=30, msg="the pivot has no grand total row")
    rows = grid_rows(dashboard, "pivot-grid")
    grand = next(r for r in rows if r["_row_depth"] == 0)
    _line, table = read_csv(downloads("#pivot-export-table"))
    total = table[table.iloc[:, 0] == "合计"].iloc[0]
    assert total["健康险 / 保费收入（元）"] == pytest.approx(grand["health|written_premium"], abs=0.01)
    assert total["合计 / 保费收入（元）"] == pytest.approx(
        sql(demo_warehouse, PREMIUM.format(key="1", where="AND v.region_code = 'north'"))["premium"].iloc[0], abs=0.01)
    _first, book, _sheet = read_xlsx(downloads("#pivot-export-table-xlsx"))
    assert book[book.iloc[:, 0] == "合计"]["健康险 / 保费收入（元）"].iloc[0] == pytest.approx(
        grand["health|written_premium"], abs=0.01)

    # a channel's row under its region (the region's subtotal row sits above its channels)
    first = next(r for r in rows if r.get("key1") is not None)
    dashboard.find_element(f'#pivot-grid .ag-center-cols-container .ag-row[row-id="{first["_id"]}"] '
                           '.ag-cell[col-id="health|written_premium"]').click()
    where = "AND v.region_code = ? AND p.channel_code = ? AND d.line_code = 'health'"
    count = int(sql(demo_warehouse, PREMIUM.format(key="1", where=where), [first["key0"], first["key1"]])["n"].iloc[0])
    channel = sql(demo_warehouse, "SELECT name_zh FROM dim_channel WHERE channel_code = ?", [first["key1"]]).iloc[0, 0]
    dashboard.wait_for_contains_text("#pivot-records-title", f"共 {count:,} 条", timeout=30)
    # the cell is named by its labels, as the grid shows them: 华北 / 个人代理 / 健康险
    assert f"：{first['row0']} / {channel} / 健康险（" in dashboard.find_element("#pivot-records-title").text
    shown = grid_rows(dashboard, "pivot-records")
    assert shown and all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["c2"]) for r in shown)  # dates, not 2026-10-01T00:00:00
    screenshot(dashboard, "downloads_pivot_cell_zh")

    link = dashboard.find_element("#pivot-cell-export-records")
    assert parse_qs(urlsplit(link.get_attribute("href")).query)["kind"] == ["records"]
    records_csv = downloads(link)
    expect_name(records_csv, "pivot", "records", "csv")
    _line, records = read_csv(records_csv)
    assert len(records) == count and set(records["渠道"]) == {channel}
    assert set(records["记录类型"]) == {"保费缴费"}
    records_xlsx = downloads("#pivot-cell-export-records-xlsx")
    expect_name(records_xlsx, "pivot", "records", "xlsx")
    _first, book, _sheet = read_xlsx(records_xlsx)
    assert list(book["记录号"]) == list(records["记录号"])
    still_on(dashboard, page)


# Every other page: each export link on it, CSV and Excel, downloads its file (narrowed to one region
# and month so that records exports stay small).
PAGES = {
    "overview": "/?" + PERIOD + "&region=north",
    "contribution": "/contribution?" + PERIOD + "&region=north&vip=gold_vip",
    "agents": "/agents?" + PERIOD + "&region=north",
    "customer": "/customer?id=C00001672&lang=en",
}
WAIT_FOR = {"overview": "#overview-channels .main-svg", "contribution": "#contribution-whale .main-svg",
            "agents": "#agents-grid .ag-row", "customer": "#customer-content .ag-row"}


@pytest.mark.parametrize("view", list(PAGES))
def test_every_export_link_of_the_page_downloads_its_file(dashboard, downloads, view):
    dashboard.driver.get(dashboard.server_url + PAGES[view])
    dashboard.wait_for_element(WAIT_FOR[view], timeout=60)
    screenshot(dashboard, f"downloads_{view}")
    links = dashboard.driver.find_elements("css selector", "a.export-link")
    assert len(links) >= 2 and len(links) % 2 == 0  # each export as CSV and as Excel
    for link in links:
        saved = downloads(link)
        href = link.get_attribute("href")
        ext = "xlsx" if ".xlsx?" in href else "csv"
        expect_name(saved, view, parse_qs(urlsplit(href).query)["kind"][0], ext)
        if ext == "csv":
            line, frame = read_csv(saved)
        else:
            line, frame, sheet = read_xlsx(saved)
            assert sheet.freeze_panes == "A3"
        assert line.startswith(("筛选条件: ", "Filters: ")) and len(frame.columns) > 1
        assert not any(str(c).startswith("Unnamed") for c in frame.columns)
    still_on(dashboard, urlsplit(PAGES[view]).path)


def test_export_links_and_files_read_in_english(dashboard, downloads):
    page = "/explore"
    dashboard.driver.get(f"{dashboard.server_url}{page}?lang=en&{PERIOD}&channel=telesales")
    dashboard._wait_for(lambda _d: len(grid_rows(dashboard, "explore-grid")) > 1, timeout=60, msg="no explore grid")
    texts = [a.text for a in dashboard.driver.find_elements("css selector", "a.export-link")]
    assert texts == ["⤓ Export table (CSV)", "⤓ Export table (Excel)", "⤓ Export records (CSV)",
                     "⤓ Export records (Excel)"]
    screenshot(dashboard, "downloads_explore_en")
    screenshot(dashboard, "downloads_explore_en_phone", width=390)
    first, book, _sheet = read_xlsx(downloads("#explore-export-table-xlsx"))
    assert first == f"Filters: Channel: Telesales; Month: {MONTH[0]} — {MONTH[1]}"
    shown = {r["member"]: r["value"] for r in grid_rows(dashboard, "explore-grid")}
    assert list(book.columns) == ["Region", "Written premium (CNY)"]
    assert dict(zip(book["Region"], book["Written premium (CNY)"])) == pytest.approx(shown, abs=0.01)
    _line, records = read_xlsx(downloads("#explore-export-records-xlsx"))[:2]
    assert set(records["Record type"]) == {"Premium payment"} and set(records["Channel"]) == {"Telesales"}
    still_on(dashboard, page)


REFUSED = {"zh": "超过 Excel 单个工作表的上限", "en": "more than one Excel worksheet holds"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_export_is_said_on_the_page_and_saves_no_file(dashboard, downloads, demo_warehouse, tmp_path, lang):
    """The whole history's premium payments are more records than a worksheet holds: the Excel link
    says so below the links, in the page's language; the CSV of the same records still downloads."""
    page = "/explore"
    dashboard.driver.get(f"{dashboard.server_url}{page}?lang={lang}&{WHOLE_HISTORY}")
    dashboard._wait_for(lambda _d: len(grid_rows(dashboard, "explore-grid")) > 1, timeout=90, msg="no explore grid")
    payments = int(sql(demo_warehouse, "SELECT count(*) FROM fact_premium WHERE paid_date IS NOT NULL").iloc[0, 0])
    assert payments > 1_048_574  # the oracle: more than a worksheet's rows
    link = dashboard.find_element("#explore-export-records-xlsx")
    dashboard._wait_for(lambda _d: "/export/" in (link.get_attribute("href") or ""), timeout=60, msg="no export link")
    link.click()
    dashboard.wait_for_contains_text(".export-refusal", REFUSED[lang], timeout=90)
    notice = dashboard.find_element(".export-refusal").text
    assert f"{payments:,}" in notice and "\n" not in notice  # the sentence for a person, not the detail
    screenshot(dashboard, f"downloads_refused_{lang}")
    assert not any((tmp_path / "downloads").iterdir())
    still_on(dashboard, page)
    assert console_errors(dashboard) == []


TIERS = """
    SELECT CAST(c.vip_tier AS VARCHAR) AS tier, count(DISTINCT m.customer_id) AS customers, sum(m.premium) AS premium,
           sum(m.contribution) AS contribution
    FROM mart_customer_month m JOIN dim_customer c USING (customer_id) GROUP BY ALL
"""


def test_contribution_exports_hold_the_tiers_grid_and_the_whale_curve_in_their_units(dashboard, downloads,
                                                                                      demo_warehouse):
    """The VIP tiers' table export (CSV and Excel) holds the grid's tiers by name with the mart's sums;
    the whale curve's Excel its shares as percentages, its last point every customer's contribution."""
    page = "/contribution"
    dashboard.driver.get(f"{dashboard.server_url}{page}?{WHOLE_HISTORY}")
    dashboard._wait_for(lambda _d: len(grid_rows(dashboard, "contribution-tiers")) > 1, timeout=90,
                        msg="no VIP tiers grid")
    shown = {r["tier"]: r for r in grid_rows(dashboard, "contribution-tiers")}
    want = sql(demo_warehouse, TIERS)
    names = dict(sql(demo_warehouse, "SELECT code, name_zh FROM dim_code WHERE kind = 'vip_tier'").itertuples(index=False))
    want["tier"] = want["tier"].map(names)

    line, table = read_csv(downloads("#contribution-tiers-export-table"))
    assert line.startswith("筛选条件: ")
    assert list(table.columns[:5]) == ["VIP等级", "客户数", "保费（元）", "贡献（元）", "贡献率（%）"]
    body = table[table["VIP等级"] != "合计"].set_index("VIP等级")
    assert set(body.index) == set(want["tier"]) and set(body.index) <= set(shown)
    for tier, row in want.set_index("tier").iterrows():
        assert body.loc[tier, "客户数"] == row["customers"] == shown[tier]["customers"]
        assert body.loc[tier, "保费（元）"] == pytest.approx(row["premium"], abs=0.01)
        assert body.loc[tier, "贡献（元）"] == pytest.approx(shown[tier]["contribution"], abs=0.01)
        assert body.loc[tier, "贡献（元）"] == pytest.approx(row["contribution"], abs=0.01)
        assert body.loc[tier, "贡献率（%）"] == pytest.approx(row["contribution"] / row["premium"] * 100, abs=1e-4)
    _first, book, sheet = read_xlsx(downloads("#contribution-tiers-export-table-xlsx"))
    assert sheet["E3"].number_format == "0.00%" and sheet["E3"].value < 1
    assert list(book["VIP等级"]) == list(table["VIP等级"])

    _first, whale, sheet = read_xlsx(downloads("#contribution-whale-export-table-xlsx"))
    assert list(whale.columns) == ["客户占比（按贡献从高到低）（%）", "客户数", "累计贡献占总贡献（%）", "贡献（元）"]
    assert sheet["A3"].number_format == "0.00%" and sheet["D3"].number_format == "#,##0.00"
    last = whale.iloc[-1]
    assert last["客户数"] == want["customers"].sum()
    assert last["贡献（元）"] == pytest.approx(want["contribution"].sum(), abs=0.01)
    assert last["客户占比（按贡献从高到低）（%）"] == pytest.approx(1.0) == last["累计贡献占总贡献（%）"]
    still_on(dashboard, page)


def test_agents_exports_hold_the_teams_league_and_its_agents_records(dashboard, downloads, demo_warehouse):
    """A team's league downloads as the grid shows it (agent, id, branch, team, FYP, cases); its records
    name each record's agent by id, branch and team, and hold the team's visits of the month (SQL)."""
    team_id, branch_id = sql(demo_warehouse, "SELECT team_id, branch_id FROM dim_agent GROUP BY ALL "
                                             "ORDER BY count(*) DESC, team_id LIMIT 1").iloc[0]
    page = "/agents"
    dashboard.driver.get(f"{dashboard.server_url}{page}?{PERIOD}&branch={branch_id}&team={team_id}")
    dashboard._wait_for(lambda _d: len(grid_rows(dashboard, "agents-grid")) > 2, timeout=120, msg="no league")
    shown = [r for r in grid_rows(dashboard, "agents-grid") if r.get("id")]
    assert {r["team"] for r in shown} == {shown[0]["team"]}

    _line, league = read_csv(downloads("#agents-export-table"))
    *agents, total = league.to_dict("records")
    assert total["营销员"] == "合计"
    assert [(a["工号"], a["营销员"], a["网点"], a["团队"]) for a in agents] == [
        (r["id"], r["name"], r["branch"], r["team"]) for r in shown]
    assert [a["首年保费（元）"] for a in agents] == pytest.approx([r["fyp_sold"] for r in shown], abs=0.01)
    assert [a["件数"] for a in agents] == [r["cases"] for r in shown]

    _first, records, _sheet = read_xlsx(downloads("#agents-export-records-xlsx"))
    team = sql(demo_warehouse, "SELECT a.agent_id, b.name_zh AS branch, replace(t.name_zh, t.branch_id, '') AS team "
                               "FROM dim_agent a JOIN dim_branch b USING (branch_id) JOIN dim_team t USING (team_id) "
                               "WHERE a.team_id = ?", [team_id]).set_index("agent_id")
    assert set(records["营销员工号"]) <= set(team.index)
    assert list(records["网点"]) == list(team.loc[records["营销员工号"], "branch"])
    assert list(records["团队"]) == list(team.loc[records["营销员工号"], "team"])
    assert set(records["网点代码"]) == {branch_id}
    visits = sql(demo_warehouse, "SELECT count(*) FROM fact_visit v JOIN dim_agent a USING (agent_id) "
                                 f"WHERE a.team_id = ? AND v.visit_date BETWEEN DATE '{MONTH[0]}' AND DATE '{MONTH[1]}'",
                 [team_id]).iloc[0, 0]
    assert (records["记录类型"] == "拜访").sum() == visits > 0
    still_on(dashboard, page)


def _chart_link(chart: str, kind: str, fmt: str = "") -> str:
    """The CSS selector of a chart's export link (a pattern id, as Dash writes it in the page)."""
    extra = ',"format":"xlsx"' if fmt == "xlsx" else ""
    return f"""[id='{{"chart":"{chart}"{extra},"kind":"{kind}","role":"chart-export"}}']"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_channel_export_writes_the_change_on_last_year_in_percent(dashboard, downloads, demo_warehouse, lang):
    """The channel chart's table export: each channel by name with its premium, a year earlier's and
    the relative change in %, as the header says (a change of +78.3% is 78.3, not 1), against SQL."""
    dashboard.driver.get(f"{dashboard.server_url}/?lang={lang}&{PERIOD}")
    dashboard.wait_for_element("#overview-channels .main-svg", timeout=60)
    premium = """
        SELECT CAST(p.channel_code AS VARCHAR) AS channel, sum(pr.amount) AS premium FROM fact_premium pr
        JOIN fact_policy p USING (policy_id) WHERE pr.paid_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY ALL"""
    now = sql(demo_warehouse, premium, MONTH).set_index("channel")["premium"]
    before = sql(demo_warehouse, premium, ["2025-10-01", "2025-10-31"]).set_index("channel")["premium"]
    names = dict(sql(demo_warehouse, f"SELECT CAST(channel_code AS VARCHAR), name_{lang} FROM dim_channel").itertuples(index=False))
    headers = {"zh": ["渠道", "保费收入（元）", "保费收入（对比期，元）", "保费收入（变动，%）"],
               "en": ["Channel", "Written premium (CNY)", "Written premium (prior, CNY)", "Written premium (change, %)"]}[lang]
    _line, table = read_csv(downloads(_chart_link("overview-channels", "table")))
    assert list(table.columns) == headers
    got = table.set_index(headers[0])
    for code, amount in now.items():
        assert got.loc[names[code], headers[1]] == pytest.approx(amount, abs=0.01)
        assert got.loc[names[code], headers[2]] == pytest.approx(before[code], abs=0.01)
        assert got.loc[names[code], headers[3]] == pytest.approx((amount / before[code] - 1) * 100, abs=1e-3)
    _first, book, sheet = read_xlsx(downloads(_chart_link("overview-channels", "table", "xlsx")))
    assert list(book.columns) == headers and sheet["D3"].number_format == "0.00%"
    assert book[headers[3]].to_numpy() == pytest.approx(table[headers[3]].to_numpy() / 100, abs=1e-6)
    still_on(dashboard, "/")


def test_a_customers_workbook_holds_dates_and_amounts_in_the_grids_formats(dashboard, downloads, demo_warehouse):
    """The premium instalments grid as Excel: due and paid days are dates, amounts numbers in the
    grid's two decimals, the same instalments the grid shows."""
    customer = "C00001672"
    dashboard.driver.get(f"{dashboard.server_url}/customer?id={customer}&{WHOLE_HISTORY}")
    dashboard.wait_for_element("#customer-content .ag-row", timeout=60)
    link = next(a for a in dashboard.driver.find_elements("css selector", "a.export-link")
                if "kind=premiums" in (a.get_attribute("href") or "") and ".xlsx?" in a.get_attribute("href"))
    _line, book, sheet = read_xlsx(downloads(link))
    header = [cell.value for cell in sheet[2]]
    due, amount = header.index("应缴日") + 1, header.index("金额（元）") + 1
    first = 3
    assert isinstance(sheet.cell(first, due).value, dt.datetime) and sheet.cell(first, due).number_format == "yyyy-mm-dd"
    assert sheet.cell(first, amount).number_format == "#,##0.00"
    want = sql(demo_warehouse, """SELECT due_date, amount FROM fact_premium JOIN fact_policy USING (policy_id)
                                  WHERE customer_id = ? ORDER BY due_date""", [customer])
    got = sorted(zip(book["应缴日"].dt.date, book["金额（元）"].round(2)))
    assert got == sorted(zip(pd.to_datetime(want["due_date"]).dt.date, want["amount"].round(2)))
