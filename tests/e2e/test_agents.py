"""The agent effectiveness page in a real browser: the league table's conversion indices and its CSV
export agree with a hand-written query over fact_visit; the agent detail lists the agent's book; the
agent picker searches, on the server, only the agents the signed-in user may see."""
from __future__ import annotations

import csv
import io

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from data.config import load_params
from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

# DOMAIN: conversion = closes / distinct prospects visited, per lead source; index = agent / company x 100
CONVERSION_INDEX = """
    WITH v AS (SELECT * FROM fact_visit WHERE visit_date BETWEEN ? AND ?),
    company AS (SELECT lead_source, count(*) FILTER (WHERE outcome = 'sale') / count(DISTINCT prospect_id) AS rate
                FROM v GROUP BY lead_source),
    agent AS (SELECT agent_id, lead_source,
                     count(*) FILTER (WHERE outcome = 'sale') / count(DISTINCT prospect_id) AS rate
              FROM v WHERE agent_id IN (?, ?) GROUP BY agent_id, lead_source)
    SELECT agent.agent_id, CAST(agent.lead_source AS VARCHAR), 100 * agent.rate / company.rate
    FROM agent JOIN company USING (lead_source)
"""


# every agent with whether their branch is in the east region (demo-region's scope)
AGENTS_BY_REGION = """
    SELECT a.agent_id, a.name, CAST(p.region_code AS VARCHAR) = 'east'
    FROM dim_agent a JOIN dim_branch b USING (branch_id) JOIN dim_city c USING (city_code)
    JOIN dim_province p USING (province_code) ORDER BY a.agent_id
"""


def _period() -> tuple[str, str]:
    as_of = load_params()["as_of_date"]
    return f"{as_of.year}-01-01", as_of.isoformat()


def _grid_rows(duo, grid: str) -> list[dict]:
    """The rows the grid holds (with the infinite row model: the loaded blocks), in display order."""
    return duo.driver.execute_script(
        f"let api; try {{ api = dash_ag_grid.getApi('{grid}'); }} catch (e) {{ return []; }}"
        "const rows = []; api.forEachNode(n => { if (n.data) rows.push(n.data); }); return rows;")


def _wait_rows(duo, grid: str, field: str) -> list[dict]:
    """The grid's rows once its first row carries `field` (probing one row keeps each poll light)."""
    probe = (f"let api; try {{ api = dash_ag_grid.getApi('{grid}'); }} catch (e) {{ return false; }}"
             f"const row = api.getDisplayedRowAtIndex(0); return !!(row && row.data && '{field}' in row.data);")
    duo._wait_for(lambda d: d.execute_script(probe), timeout=120, msg=f"{grid}: no {field}")
    return _grid_rows(duo, grid)


def _league_after(duo, script: str, check) -> list[dict]:
    """The league's loaded rows once `script` (a grid api call: sort or filter, answered by the server)
    has been applied and the rows satisfy `check`."""
    duo.driver.execute_script(f"const api = dash_ag_grid.getApi('agents-grid'); {script}")
    duo._wait_for(lambda _d: check(_grid_rows(duo, "agents-grid")), timeout=60, msg=f"the league did not answer: {script}")
    return _grid_rows(duo, "agents-grid")


def _row_count(duo) -> int:
    return duo.driver.execute_script(
        "try { return dash_ag_grid.getApi('agents-grid').getDisplayedRowCount(); } catch (e) { return 0; }")


def _export(download, selector: str) -> list[dict]:
    """The CSV the browser saves when the link is clicked, without its filters line."""
    lines = download(selector).read_text(encoding="utf-8-sig").splitlines()
    return list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))


def test_league_indices_and_csv_export_match_the_raw_visits(dashboard, downloads, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/agents")
    first_block = _wait_rows(dashboard, "agents-grid", "conversion_referral_index")
    total = _row_count(dashboard)
    assert 0 < len(first_block) <= 100 < total  # only a block is in the browser, the count is the league's
    assert [r["fyp_sold"] for r in first_block] == sorted((r["fyp_sold"] for r in first_block), reverse=True)
    screenshot(dashboard, "agents_zh")

    table = _export(downloads, "#agents-export-table")
    assert len(table) == total + 1  # every agent and the total
    names = [r["营销员"] for r in table]
    # the top seller (first block) and a mid-table agent brought into the grid by a filter on their name
    top = next(r for r in first_block if names.count(r["name"]) == 1 and r["conversion_cold_visit_index"] is not None
               and r["conversion_referral_index"] is not None)
    middle = next(r["营销员"] for r in table[len(table) // 2:] if names.count(r["营销员"]) == 1
                  and r["陌拜成交率指数"] and r["转介绍成交率指数"])
    found = _league_after(dashboard, "api.setFilterModel({name: {filterType: 'text', type: 'equals', filter: %r}});"
                          % middle, lambda rows: [r["name"] for r in rows] == [middle])
    # the count says how many agents match the grid's filter
    dashboard.wait_for_text_to_equal("#agents-league-count", f"筛选出 1 名（共 {total:,} 名营销员）", timeout=30)
    chosen = [top, found[0]]
    start, end = _period()
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        oracle = {(a, s): index for a, s, index in
                  con.execute(CONVERSION_INDEX, [start, end, chosen[0]["id"], chosen[1]["id"]]).fetchall()}
        branch, team = con.execute("SELECT branch_id, team_id FROM dim_agent WHERE agent_id = ?",
                                   [chosen[0]["id"]]).fetchall()[0]
        employed = {name for (name,) in con.execute(
            "SELECT DISTINCT a.name FROM dim_agent a JOIN dim_calendar c ON c.is_workday AND c.date BETWEEN ? AND ?"
            " AND c.date >= a.hire_date AND (a.leave_date IS NULL OR c.date < a.leave_date)", [start, end]).fetchall()}
    for row in chosen:
        assert row["conversion_cold_visit_index"] == pytest.approx(oracle[(row["id"], "cold_visit")], rel=1e-9)
        assert row["conversion_referral_index"] == pytest.approx(oracle[(row["id"], "referral")], rel=1e-9)
    assert employed <= set(names)  # every agent employed in the period has a row
    by_name = {r["营销员"]: r for r in table}
    for row in chosen:
        assert float(by_name[row["name"]]["陌拜成交率指数"]) == pytest.approx(oracle[(row["id"], "cold_visit")], abs=1e-4)
        assert float(by_name[row["name"]]["转介绍成交率指数"]) == pytest.approx(oracle[(row["id"], "referral")], abs=1e-4)

    # sorted by the server on any column: fewest cases first
    fewest = _league_after(dashboard, "api.setFilterModel(null); api.applyColumnState({state: [{colId: 'cases', "
                           "sort: 'asc'}], defaultState: {sort: null}});",
                           lambda rows: _row_count(dashboard) == total and len(rows) > 1
                           and rows[0]["cases"] < first_block[0]["cases"])
    cases = [r["cases"] if r["cases"] is not None else float("inf") for r in fewest]
    assert cases == sorted(cases)
    assert dashboard.find_element("#agents-league-count").text == f"共 {total:,} 名营销员"

    # narrowed to one team, the rows are that team's and the index still compares with the company
    dashboard.driver.get(dashboard.server_url + f"/agents?branch={branch}&team={team}")
    dashboard._wait_for(lambda d: 0 < _row_count(dashboard) < total, timeout=120, msg="the team was not applied")
    in_team = _wait_rows(dashboard, "agents-grid", "conversion_referral_index")
    assert len(in_team) == _row_count(dashboard)  # a team fits in one block
    assert {r["team"] for r in in_team} == {chosen[0]["team"]}
    again = next(r for r in in_team if r["id"] == chosen[0]["id"])
    assert again["conversion_cold_visit_index"] == pytest.approx(oracle[(chosen[0]["id"], "cold_visit")], rel=1e-9)
    dashboard.wait_for_element("#agents-compare .main-svg", timeout=60)
    screenshot(dashboard, "agents_team_zh")
    assert console_errors(dashboard) == []


def test_agent_detail_book_and_row_click_in_english(dashboard, demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        agent, customers = con.execute(
            "SELECT agent_id, count(DISTINCT customer_id) FROM fact_policy WHERE agent_id IS NOT NULL "
            "GROUP BY agent_id ORDER BY count(*) DESC, agent_id LIMIT 1").fetchall()[0]
    dashboard.driver.get(dashboard.server_url + f"/agents?lang=en&agent={agent}")
    dashboard.wait_for_contains_text("#agents-detail-title", f"({agent})", timeout=60)
    book = _wait_rows(dashboard, "agents-book", "contribution")
    assert len(book) == customers
    link = dashboard.find_element("#agents-book .ag-cell[col-id='link'] a")
    assert f"/customer?id={link.get_attribute('textContent')}&lang=en" in link.get_attribute("href")
    dashboard.wait_for_element("#agents-trend .main-svg", timeout=30)
    _wait_rows(dashboard, "agents-grid", "conversion_referral_index")
    screenshot(dashboard, "agents_en")

    # a click on another agent's row opens their detail; a bad id says so
    other = _grid_rows(dashboard, "agents-grid")[1]["id"]
    dashboard.find_element(f"#agents-grid .ag-center-cols-container .ag-row[row-id='{other}'] .ag-cell").click()
    dashboard.wait_for_contains_text("#agents-detail-title", f"({other})", timeout=60)
    assert f"agent={other}" in dashboard.driver.current_url
    # bad ids are named, and a period without data says so instead of failing
    dashboard.driver.get(dashboard.server_url + "/agents?lang=en&agent=NO_SUCH&branch=NOPE&from=2030-01-01&to=2030-06-30")
    dashboard.wait_for_contains_text("#agents-notice", "Agent NO_SUCH does not exist", timeout=60)
    assert "Branch NOPE does not exist" in dashboard.find_element("#agents-notice").text
    dashboard.wait_for_contains_text("#agents-funnel", "No data for the current selection", timeout=60)
    assert dashboard.find_element("#agents-detail-title").text.startswith("Agent NO_SUCH does not exist")
    dashboard._wait_for(lambda _d: _row_count(dashboard) == 0, timeout=60, msg="the empty period still has agents")
    assert console_errors(dashboard) == []


def _suggestions_after(duo, text: str, expected: list[str]) -> None:
    """Type `text` into the agent picker and wait for the suggested agent ids to be `expected`."""
    box = duo.find_element("#agents-agent")
    box.click()
    box.clear()
    box.send_keys(text)
    listbox = box.get_attribute("aria-controls")  # the picker's own dropdown, not another select's
    options = lambda d: [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, f"[id='{listbox}'] [role=option]")]
    try:
        WebDriverWait(duo.driver, 30).until(lambda d: options(d) == expected)
    except Exception:
        raise AssertionError(f"{text!r}: suggested {options(duo.driver)}, expected {expected}") from None


def test_agent_search_finds_by_id_prefix_and_name_within_a_regional_managers_scope(dashboard_as, demo_warehouse):
    """demo-region manages the east region: the picker suggests east agents only, by id prefix or
    name, and picking one opens their detail."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        agents = con.execute(AGENTS_BY_REGION).fetchall()
    east = [(aid, name) for aid, name, is_east in agents if is_east]
    # a character in few east names (so every match is suggested) that names outside the east share too
    counts = {}
    for _aid, name, is_east in agents:
        for char in set(name):
            counts.setdefault(char, [0, 0])[0 if is_east else 1] += 1
    char = min(c for c, (inside, outside) in counts.items() if 2 <= inside <= 10 and outside > 0)
    by_name = sorted((aid for aid, name in east if char in name), key=lambda aid: (not dict(east)[aid].startswith(char), aid))
    # an id prefix shared by east agents and others
    prefix = next(aid[:-1] for aid, _name in east
                  if any(other[:-1] == aid[:-1] for other, _n, is_east in agents if not is_east))
    by_id = [aid for aid, _name in east if aid.startswith(prefix)][:20]
    assert len(by_id) < sum(aid.startswith(prefix) for aid, _n, _e in agents)  # the scope makes a difference

    duo = dashboard_as("demo-region")
    duo.driver.get(duo.server_url + "/agents?lang=en")
    _wait_rows(duo, "agents-grid", "conversion_referral_index")
    _suggestions_after(duo, prefix.lower(), by_id)
    _suggestions_after(duo, char, by_name)
    screenshot(duo, "agents_search_en")

    chosen = by_name[0]
    duo.find_element(f"[role=option][value='{chosen}']").click()
    duo.wait_for_contains_text("#agents-detail-title", f"({chosen})", timeout=60)
    assert f"agent={chosen}" in duo.driver.current_url
    # the picker shows the chosen agent by name, though the page sent no other option
    assert duo.find_element("#agents-agent").get_attribute("value") == f"{dict(east)[chosen]} · {chosen}"
    outsider = next(aid for aid, _name, is_east in agents if not is_east)
    duo.driver.get(duo.server_url + f"/agents?agent={outsider}")
    duo.wait_for_contains_text("#agents-notice", f"营销员 {outsider} 不存在或不在您的查看范围内", timeout=60)
    screenshot(duo, "agents_search_outsider_zh")
    assert console_errors(duo) == []
