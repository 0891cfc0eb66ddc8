"""The agent effectiveness page in a real browser: the league table's conversion indices agree with a
hand-written query over fact_visit; the activity rates on the cards and the chart agree with
hand-written SQL and none is above 100%; a desktop shows 20 agents and the key columns without
scrolling sideways; a branch manager's chart compares their teams; the agent detail lists the
agent's book; the agent picker searches, on the server, only the agents the signed-in user may see.
(The league's CSV itself is checked in tests/test_agents_export.py.)"""
from __future__ import annotations

import re

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from data.config import load_params
from tests.e2e.conftest import SCREENSHOTS, console_errors, screenshot
from tests.test_agents_activity_rate import oracle as activity_oracle

pytestmark = pytest.mark.e2e

# DOMAIN: conversion = distinct prospects converted / distinct prospects visited, per lead source;
# index = agent / company x 100
CONVERSION_INDEX = """
    WITH v AS (SELECT * FROM fact_visit WHERE visit_date BETWEEN ? AND ?),
    company AS (SELECT lead_source,
                       count(DISTINCT prospect_id) FILTER (WHERE outcome = 'sale') / count(DISTINCT prospect_id) AS rate
                FROM v GROUP BY lead_source),
    agent AS (SELECT agent_id, lead_source,
                     count(DISTINCT prospect_id) FILTER (WHERE outcome = 'sale') / count(DISTINCT prospect_id) AS rate
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


def _league_after(duo, act, check) -> list[dict]:
    """The league's loaded rows once `act(duo)` (what a person does: type in a column filter, click
    a header; the server answers) is done and the rows satisfy `check`."""
    act(duo)
    duo._wait_for(lambda _d: check(_grid_rows(duo, "agents-grid")), timeout=60, msg=f"the league did not answer {act}")
    return _grid_rows(duo, "agents-grid")


def _type_in_filter(column: str, text: str):
    """Open the column's filter from its header and type `text` (AG Grid's text filter: contains)."""
    def act(duo):
        duo.find_element(f"#agents-grid .ag-header-cell[col-id='{column}'] .ag-header-cell-filter-button").click()
        box = duo.find_element(".ag-popup .ag-filter-body input")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        if text:
            box.send_keys(text)
        box.send_keys(Keys.ESCAPE)
    return act


def _click_header(column: str):
    def act(duo):
        duo.find_element(f"#agents-grid .ag-header-cell[col-id='{column}'] .ag-header-cell-label").click()
    return act


def _column_on_screen(duo, column: str) -> list[str]:
    """The texts of a column's cells as drawn, top to bottom."""
    return duo.driver.execute_script(
        "return [...document.querySelectorAll('#agents-grid .ag-center-cols-container .ag-row')]"
        ".sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'))"
        f".map(r => r.querySelector(\"[col-id='{column}']\")).filter(c => c).map(c => c.innerText);")


def _row_count(duo) -> int:
    return duo.driver.execute_script(
        "try { return dash_ag_grid.getApi('agents-grid').getDisplayedRowCount(); } catch (e) { return 0; }")


def _league_total(duo) -> int:
    """The number of agents the page says the league holds (共 1,234 名营销员 / 1,234 agents)."""
    duo._wait_for(lambda _d: re.search(r"\d", duo.find_element("#agents-league-count").text), timeout=60,
                  msg="no league count")
    return int(re.search(r"[\d,]+", duo.find_element("#agents-league-count").text).group().replace(",", ""))


# what a person sees of the league without scrolling: rows wholly inside the grid's body, and the
# headers of the key columns inside the grid's width
VISIBLE_ROWS = """
const grid = document.querySelector('#agents-grid');
const body = grid.querySelector('.ag-body-viewport').getBoundingClientRect();
return [...grid.querySelectorAll('.ag-center-cols-container .ag-row')].filter(r => {
    const b = r.getBoundingClientRect();
    return b.height > 0 && b.top >= body.top - 1 && b.bottom <= body.bottom + 1 && r.innerText.trim() !== '';
}).length;
"""
HEADERS_OUTSIDE = """
const grid = document.querySelector('#agents-grid').getBoundingClientRect();
return arguments[0].filter(id => {
    const cell = document.querySelector(`#agents-grid .ag-header-cell[col-id='${id}']`);
    if (!cell) return true;
    const b = cell.getBoundingClientRect();
    return b.left < grid.left - 1 || b.right > grid.right + 1;
});
"""
KEY_COLUMNS = ["name", "branch", "team", "fyp_sold", "fyp_sold_index", "cases", "cases_index", "conversion_cold_visit",
               "conversion_cold_visit_index", "conversion_referral", "conversion_referral_index"]


def _kpi(duo, name: str) -> str:
    return duo.find_element(f"[id*='\"kpi\":\"{name}\"']").text


def _percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def _compare_points(duo) -> list[dict]:
    """The comparison chart's bubbles: their label (drawn on the chart) and activity rate."""
    duo.wait_for_element("#agents-compare .main-svg", timeout=60)
    return duo.driver.execute_script(
        "const gd = document.querySelector('#agents-compare .js-plotly-plot');"
        "const t = gd._fullData[0]; return Array.from(t.x, (x, i) => ({x: x, label: t.text[i]}));")


def _reference_label(duo) -> str:
    """The text written beside the comparison chart's dotted reference line."""
    duo.wait_for_element("#agents-compare .annotation-text", timeout=60)
    return duo.find_element("#agents-compare .annotation-text").text


def test_league_indices_and_csv_export_match_the_raw_visits(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + "/agents")
    first_block = _wait_rows(dashboard, "agents-grid", "conversion_referral_index")
    total = _row_count(dashboard)
    assert 0 < len(first_block) <= 100 < total  # only a block is in the browser, the count is the league's
    assert _league_total(dashboard) == total
    assert [r["fyp_sold"] for r in first_block] == sorted((r["fyp_sold"] for r in first_block), reverse=True)
    start, end = _period()
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        names = [name for (name,) in con.execute("SELECT name FROM dim_agent").fetchall()]
        # a mid-table agent (by cold visits) with a unique name who visited from both sources
        middle = con.execute(
            "SELECT a.name FROM fact_visit v JOIN dim_agent a USING (agent_id) WHERE v.visit_date BETWEEN ? AND ?"
            " GROUP BY a.agent_id, a.name HAVING count(DISTINCT v.lead_source) = 2 ORDER BY count(*), a.agent_id",
            [start, end]).fetchall()
    # a name no other agent's name contains, so the filter (contains) finds that agent alone
    alone = [name for (name,) in middle if sum(name in other for other in names) == 1]
    middle = alone[len(alone) // 2]
    # the top seller (first block) and a mid-table agent brought into the grid by a filter on their name
    top = next(r for r in first_block if names.count(r["name"]) == 1 and r["conversion_cold_visit_index"] is not None
               and r["conversion_referral_index"] is not None)
    found = _league_after(dashboard, _type_in_filter("name", middle), lambda rows: [r["name"] for r in rows] == [middle])
    # the count says how many agents match the grid's filter
    dashboard.wait_for_text_to_equal("#agents-league-count", f"筛选出 1 名（共 {total:,} 名营销员）", timeout=30)
    chosen = [top, found[0]]
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        oracle = {(a, s): index for a, s, index in
                  con.execute(CONVERSION_INDEX, [start, end, chosen[0]["id"], chosen[1]["id"]]).fetchall()}
        branch, team = con.execute("SELECT branch_id, team_id FROM dim_agent WHERE agent_id = ?",
                                   [chosen[0]["id"]]).fetchall()[0]
        most_cases = [n for (n,) in con.execute(
            "SELECT count(*) AS n FROM fact_policy WHERE agent_id IS NOT NULL AND issue_date BETWEEN ? AND ?"
            " GROUP BY agent_id ORDER BY n DESC", [start, end]).fetchall()]
        employed = con.execute(
            "SELECT count(DISTINCT a.agent_id) FROM dim_agent a JOIN dim_calendar c ON c.is_workday"
            " AND c.date BETWEEN ? AND ? AND c.date >= a.hire_date AND (a.leave_date IS NULL OR c.date < a.leave_date)",
            [start, end]).fetchone()[0]
    for row in chosen:
        assert row["conversion_cold_visit_index"] == pytest.approx(oracle[(row["id"], "cold_visit")], rel=1e-9)
        assert row["conversion_referral_index"] == pytest.approx(oracle[(row["id"], "referral")], rel=1e-9)
    assert total >= employed > 1000  # every agent employed in the period has a row

    # the filter emptied, then sorted by the server on a header's click: fewest cases first, as numbers
    _league_after(dashboard, _type_in_filter("name", ""), lambda rows: _row_count(dashboard) == total)
    assert dashboard.find_element("#agents-league-count").text == f"共 {total:,} 名营销员"
    fewest = _league_after(dashboard, _click_header("cases"), lambda rows: len(rows) > 1
                           and rows[0]["cases"] < first_block[0]["cases"])
    assert fewest[0]["cases"] == 0
    dashboard._wait_for(lambda d: "sort=cases%3Aasc" in d.current_url, timeout=30, msg="the sort is not in the URL")
    # a second click: most cases first, in numeric order on screen (317 before 99, as text would not)
    _click_header("cases")(dashboard)

    def shown() -> list[int]:
        return [int(text.replace(",", "")) for text in _column_on_screen(dashboard, "cases") if text]

    def most_first(_d=None) -> bool:
        return len(shown()) >= 20 and shown()[0] == most_cases[0]

    dashboard._wait_for(most_first, timeout=60, msg="most cases not first")
    assert shown() == most_cases[:len(shown())]  # as text, "99" would come before "317"
    # the URL keeps the order: a reload shows it again, with the header's arrow; back returns to fewest first
    dashboard._wait_for(lambda d: "sort=cases%3Adesc" in d.current_url, timeout=30, msg="the sort is not in the URL")
    dashboard.driver.refresh()
    dashboard._wait_for(most_first, timeout=120, msg="the reload lost the sort")
    assert shown() == most_cases[:len(shown())]
    assert dashboard.find_elements("#agents-grid .ag-header-cell[col-id='cases'] .ag-sort-descending-icon:not(.ag-hidden)")
    dashboard.driver.back()
    dashboard._wait_for(lambda _d: shown() and shown()[0] == 0 and "sort=cases%3Aasc" in dashboard.driver.current_url,
                        timeout=120, msg="back did not return to fewest cases first")

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


def test_rates_on_screen_twenty_rows_and_the_key_columns_on_a_desktop(dashboard, demo_warehouse):
    """The executive's cards and branch chart: activity rates as hand-written SQL gives them, none
    above 100%; the headcount an average of people; 20 agents and every key column in view."""
    dashboard.driver.get(dashboard.server_url + "/agents")
    rows = _wait_rows(dashboard, "agents-grid", "conversion_referral_index")
    start, end = _period()
    company = activity_oracle(start, end, "'company'", demo_warehouse).loc["company"]
    dashboard._wait_for(lambda _d: _kpi(dashboard, "activity_rate") != "—", timeout=60, msg="no activity rate")
    shown = _percent(_kpi(dashboard, "activity_rate"))
    assert shown == pytest.approx(company["rate"], abs=0.0005) and shown <= 1
    assert re.fullmatch(r"[\d,]+ 人", _kpi(dashboard, "headcount"))  # 1,442 人: people, not 1,442.2
    branches = activity_oracle(start, end, "branch_id", demo_warehouse)
    points = _compare_points(dashboard)
    assert len(points) == len(branches) and max(p["x"] for p in points) <= 1
    assert sorted(p["x"] for p in points) == pytest.approx(sorted(branches["rate"]))
    assert _reference_label(dashboard) == "公司平均"  # the executive's slice is the whole company
    # the league: 20 agents and the key columns without scrolling; teams by name, never a code
    dashboard._wait_for(lambda d: d.execute_script(VISIBLE_ROWS) >= 20, timeout=30, msg="fewer than 20 rows in view")
    assert dashboard.driver.execute_script(HEADERS_OUTSIDE, KEY_COLUMNS) == []
    assert all(r["team"] and not re.search(r"B\d{4}", r["team"]) for r in rows)
    screenshot(dashboard, "agents_rates_zh")
    screenshot(dashboard, "agents_rates_zh_390", 390)
    assert console_errors(dashboard) == []


def test_a_branch_managers_chart_compares_the_teams_of_their_branch(dashboard_as, demo_warehouse):
    duo = dashboard_as("demo-branch")
    duo.driver.get(duo.server_url + "/agents?lang=en")
    rows = _wait_rows(duo, "agents-grid", "conversion_referral_index")
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        branch = con.execute("SELECT DISTINCT branch_id FROM dim_agent WHERE agent_id = ?", [rows[0]["id"]]).fetchone()[0]
        teams = dict(con.execute("SELECT team_id, name_en FROM dim_team WHERE branch_id = ?", [branch]).fetchall())
        label, = con.execute("SELECT name_en FROM dim_branch WHERE branch_id = ?", [branch]).fetchone()
    assert {r["branch"] for r in rows} == {label}  # the manager sees their branch only
    duo.wait_for_contains_text("#agents-compare-title", "Teams: activity rate", timeout=60)
    start, end = _period()
    rates = activity_oracle(start, end, "team_id", demo_warehouse)
    rates = rates[rates.index.isin(list(teams))]
    points = _compare_points(duo)
    drawn = [t.text for t in duo.driver.find_elements(By.CSS_SELECTOR, "#agents-compare .textpoint text")]
    assert sorted(drawn) == sorted(p["label"] for p in points) == sorted(teams[k] for k in rates.index)
    assert len(points) > 1 and max(p["x"] for p in points) <= 1
    assert {p["label"]: p["x"] for p in points} == pytest.approx({teams[k]: r for k, r in rates["rate"].items()})
    assert _percent(_kpi(duo, "activity_rate")) <= 1
    # the dotted lines are the manager's whole slice: their branch, and the chart says so
    assert "Branch average" in _reference_label(duo)
    screenshot(duo, "agents_branch_en")
    screenshot(duo, "agents_branch_en_390", 390)
    assert console_errors(duo) == []


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
    # bad ids are named, and a period outside the data says so and shows the default period instead
    dashboard.driver.get(dashboard.server_url + "/agents?lang=en&agent=NO_SUCH&branch=NOPE&from=2030-01-01&to=2030-06-30")
    dashboard.wait_for_contains_text("#agents-notice", "Agent NO_SUCH does not exist", timeout=60)
    assert "Branch NOPE does not exist" in dashboard.find_element("#agents-notice").text
    dashboard.wait_for_contains_text("#filter-notice", "2030-01-01 to 2030-06-30 is outside the data", timeout=60)
    dashboard.wait_for_contains_text("#filter-period-chip", "(Year to date)", timeout=60)
    assert dashboard.find_element("#agents-detail-title").text.startswith("Agent NO_SUCH does not exist")
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


# the funnel's stage names (left of the first funnel) and the first funnel's bars, as drawn
FUNNEL_BOXES = """
const graph = document.querySelector('#agents-funnel .main-svg').getBoundingClientRect();
const box = el => { const b = el.getBoundingClientRect(); return {left: b.left, right: b.right, text: el.textContent}; };
const traces = [...document.querySelectorAll('#agents-funnel .funnellayer .trace')];
return {graph: {left: graph.left, right: graph.right},
        labels: [...document.querySelectorAll('#agents-funnel .yaxislayer-above .ytick text')].map(box),
        bars: traces.map(t => [...t.querySelectorAll('.point path')].map(box)),
        // each funnel's numbers beside or in its bars, and whether something clips them
        numbers: traces.map(t => [...t.querySelectorAll('.point text')].map(el => ({...box(el),
            clipped: !!el.closest('[clip-path]')})))};
"""


@pytest.mark.parametrize("lang, stages", [("zh", ["拜访对象", "成交对象", "其中新客户"]),
                                          ("en", ["Prospects visited", "Prospects converted", "of which new customers"])])
def test_the_funnels_stage_names_are_whole_on_a_phone(dashboard, lang, stages):
    dashboard.driver.set_window_size(390, 844)
    dashboard.driver.get(dashboard.server_url + f"/agents?lang={lang}")
    dashboard.wait_for_element("#agents-funnel .funnellayer .trace .point path", timeout=120)
    drawn = dashboard.driver.execute_script(FUNNEL_BOXES)
    # each name whole (its wrapped lines join without the spaces), inside the chart and clear of the bars
    assert sorted(label["text"].replace(" ", "") for label in drawn["labels"]) == sorted(
        stage.replace(" ", "") for stage in stages)
    bars = min(bar["left"] for bar in drawn["bars"][0])
    for label in drawn["labels"]:
        assert drawn["graph"]["left"] <= label["left"] and label["right"] <= bars + 1, label
    # every stage's number drawn whole, inside the chart, clear of the next funnel's bars
    assert len(drawn["numbers"]) == 2 and all(len(numbers) == 3 for numbers in drawn["numbers"])
    next_bars = min(bar["left"] for bar in drawn["bars"][1])
    for i, numbers in enumerate(drawn["numbers"]):
        for number in numbers:
            assert not number["clipped"] and drawn["graph"]["left"] <= number["left"], number
            assert number["right"] <= (next_bars if i == 0 else drawn["graph"]["right"]) + 1, number
    screenshot(dashboard, f"agents_funnel_{lang}_390", 390)
    dashboard.find_element("#agents-funnel").screenshot(str(SCREENSHOTS / f"agents_funnel_only_{lang}_390.png"))
