"""The agents league's CSV (/export/agents.csv?kind=league, the page's 导出表格CSV link): every agent
with id, name, branch and team in the page's language (names alone are shared by several agents),
the KPIs the grid shows, and the total; a branch manager's file holds only their branch's agents.
Checked against dim_agent, dim_branch, dim_team and fact_policy."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from callbacks.agents import Roster, Selection, page_specs
from callbacks.downloads import export_href
from callbacks.overview import page_slice
from cubes.agents_book import roster
from cubes.engine import Engine
from cubes.scope import Access
from tests.test_cubes_fixtures import default_period
from tests.test_access_serving import demo_scope, raw, read_csv, served, sign_in  # noqa: F401

AGENTS = """
SELECT a.agent_id, a.name, b.name_zh AS branch_zh, b.name_en AS branch_en, t.name_zh AS team_zh, t.name_en AS team_en,
       count(p.policy_id) AS cases,
       coalesce(sum(p.annual_premium) FILTER (WHERE p.payment_frequency <> 'single'), 0) AS fyp
FROM dim_agent a JOIN dim_branch b USING (branch_id) JOIN dim_team t USING (team_id)
LEFT JOIN fact_policy p ON p.agent_id = a.agent_id AND p.issue_date BETWEEN ? AND ?
WHERE a.branch_id LIKE ?
GROUP BY ALL
"""
HEADERS = {"zh": ("工号", "营销员", "网点", "团队", "件数", "首年保费（元）", "陌拜成交率（%）"),
           "en": ("ID", "Agent", "Branch", "Team", "Cases", "FYP (CNY)", "Cold-visit conv. (%)")}


def league_href(demo_warehouse, lang: str) -> str:
    """The href the page gives its table export link for the first visit (the year to date)."""
    agents = roster(Engine(demo_warehouse), Access())
    specs = page_specs(page_slice(default_period()), Selection(None, None, None, ()), Roster(agents, {}))
    return export_href("agents", specs["export"], lang, "league")


@pytest.mark.parametrize("username, lang", [("demo-exec", "zh"), ("demo-exec", "en"), ("demo-branch", "zh")])
def test_the_league_export_names_each_agents_id_branch_and_team(served, raw, demo_warehouse, username, lang):  # noqa: F811
    client = sign_in(served, username)
    _line, rows = read_csv(client.get(league_href(demo_warehouse, lang)))
    ident, name, branch, team, cases, fyp, conversion = HEADERS[lang]
    *agents, total = rows
    assert total[name] == ("合计" if lang == "zh" else "Total") and total[ident] == ""
    scope = demo_scope(username).get("branch", ["%"])[0]
    s = page_slice(default_period())
    want = raw.execute(AGENTS, [s.start, s.end, scope]).df().set_index("agent_id")
    got = pd.DataFrame(agents).set_index(ident)
    assert got.index.is_unique and set(got.index) <= set(want.index)
    assert len(got) > (5 if username == "demo-branch" else 1000)
    want = want.loc[got.index]
    assert list(got[name]) == list(want["name"])
    assert list(got[branch]) == list(want[f"branch_{lang}"])
    # a team reads as its name, never a code (the demo's Chinese names start with the branch code)
    teams = want[f"team_{lang}"].str.replace(r"^B\d+", "", regex=True)
    assert list(got[team]) == list(teams) and not got[team].str.contains(r"B\d{4}").any()
    assert [int(float(c)) for c in got[cases]] == list(want["cases"])
    assert [float(v) for v in got[fyp]] == pytest.approx(list(want["fyp"]), abs=0.01)
    assert int(float(total[cases])) == want["cases"].sum()
    rates = pd.to_numeric(got[conversion], errors="coerce").dropna()  # in percent, as the header says
    assert rates.max() > 1 and 1 < float(total[conversion]) < 100
    # the names that several agents share are told apart by id, branch and team
    shared = got[got[name].duplicated(keep=False)]
    assert username == "demo-branch" or len(shared) > 10
    assert not shared.reset_index().duplicated([ident]).any()


@pytest.mark.parametrize("sort", [("cases", False), ("team", True), ("conversion_referral_index", True)])
def test_the_league_export_follows_the_grids_sort(served, raw, demo_warehouse, sort):  # noqa: F811
    """A league sorted by a header click (the URL's sort) exports its agents in that order: numbers
    as numbers, a team by the name shown, blanks last, ties in the first-visit order (FYP first)."""
    client = sign_in(served, "demo-exec")
    agents = roster(Engine(demo_warehouse), Access())
    specs = page_specs(page_slice(default_period()), Selection(None, None, None, (), sort), Roster(agents, {}))
    _line, rows = read_csv(client.get(export_href("agents", specs["export"], "en", "league")))
    got = pd.DataFrame(rows[:-1])
    ident, _name, _branch, team, cases, fyp, _conversion = HEADERS["en"]
    column = {"cases": cases, "team": team, "conversion_referral_index": "Referral conv. index"}[sort[0]]
    s = page_slice(default_period())
    want = raw.execute(AGENTS, [s.start, s.end, "%"]).df().set_index("agent_id").loc[got[ident]]
    # the oracle's order: FYP (largest first, then id as the engine breaks ties), then the sorted column
    if sort[0] == "cases":
        keys = list(zip(want["cases"], -want["fyp"]))
        assert keys == sorted(keys)
        assert [int(float(c)) for c in got[cases]] == sorted(want["cases"])
    elif sort[0] == "team":
        assert list(got[team]) == sorted(got[team], reverse=True)
        assert list(got[team]) == sorted(want["team_en"], reverse=True)
    else:
        values = pd.to_numeric(got[column], errors="coerce")
        shown = values.dropna().tolist()
        assert len(shown) > 100 and shown == sorted(shown, reverse=True)
        assert values.isna().sum() == 0 or values.isna().to_numpy()[-values.isna().sum():].all()  # blanks last


VISITS = """
SELECT CAST(v.visit_id AS VARCHAR) AS record_id, v.agent_id, b.name_zh AS branch_zh, b.name_en AS branch_en,
       replace(t.name_zh, t.branch_id, '') AS team_zh, t.name_en AS team_en
FROM fact_visit v JOIN dim_agent a USING (agent_id) JOIN dim_branch b ON b.branch_id = a.branch_id
JOIN dim_team t ON t.team_id = a.team_id
WHERE v.visit_date BETWEEN ? AND ? AND a.branch_id LIKE ?
"""
RECORD_HEADERS = {"zh": ("记录类型", "记录号", "营销员", "营销员工号", "网点", "网点代码", "团队", "拜访"),
                  "en": ("Record type", "Record id", "Agent", "Agent id", "Branch", "Branch code", "Team", "Visit")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_records_export_names_each_records_agent_by_id_branch_and_team(served, raw, demo_warehouse, lang):  # noqa: F811
    """The page's 导出明细 (visits, sales, headcount months ...): beside the agent's name, the id, the
    branch (name and code) and the team of dim_agent; its visits are the branch's visits of the period."""
    client = sign_in(served, "demo-branch")
    href = league_href(demo_warehouse, lang).replace("kind=league", "kind=records")
    _line, rows = read_csv(client.get(href))
    kind, record, name, ident, branch, code, team, visit = RECORD_HEADERS[lang]
    got = pd.DataFrame(rows)
    assert {name, ident, branch, code, team} <= set(got.columns) and len(got) > 100
    agents = raw.execute("SELECT a.agent_id, a.name, a.branch_id, b.name_zh, b.name_en, "
                         "replace(t.name_zh, t.branch_id, '') AS team_zh, t.name_en AS team_en FROM dim_agent a "
                         "JOIN dim_branch b USING (branch_id) JOIN dim_team t USING (team_id)").df().set_index("agent_id")
    want = agents.loc[got[ident]]
    assert list(got[name]) == list(want["name"]) and list(got[code]) == list(want["branch_id"])
    assert list(got[branch]) == list(want[f"name_{lang}"]) and list(got[team]) == list(want[f"team_{lang}"])
    s = page_slice(default_period())
    scope = demo_scope("demo-branch")["branch"][0]
    visits = raw.execute(VISITS, [s.start, s.end, scope]).df()
    assert sorted(got.loc[got[kind] == visit, record]) == sorted(visits["record_id"])
    assert set(got[code]) == {scope}
    # what a record adds to the conversion counts is named as the id it is, in the CSV and the workbook
    prospect, converted = ("拜访对象编号", "成交对象编号") if lang == "zh" else ("Prospect id", "Converted prospect id")
    assert {prospect, converted} <= set(got.columns) and got[converted].str.fullmatch(r"C\d+|").all()
    book = pd.read_excel(io.BytesIO(client.get(href.replace(".csv?", ".xlsx?")).data), header=1, dtype=str)
    assert book[converted].fillna("").tolist() == got[converted].tolist()
