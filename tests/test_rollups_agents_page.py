"""The agents page's grain-exact rollups (cubes/rollups.py page_rollups) give the raw answer: the
page's own queries for its default period are answered from them, drilled into a branch or team
too, and equal the raw rows' answer and hand-written SQL over fact_visit and fact_policy; a filter
or row scope that changes the company an index compares with, another period, totals, a comparison
or a level that is not the stored grain read raw rows."""
from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from callbacks.agents import Roster, Selection, page_specs
from callbacks.overview import page_slice
from cubes.agents_book import roster
from cubes.catalog import cube_by_name
from cubes.engine import Engine
from cubes.rollups import Rollup, page_rollups
from cubes.rollups_build import check_grain, exact_sql
from cubes.scope import Access, Scope
from tests.test_cubes_fixtures import default_period, small_warehouse_path
from tests.test_rollups import on, raw  # noqa: F401  (engines with and without rollups)

NONE = Selection(None, None, None, ())
PAGE = {"agents": "rollup_agents_ytd_agent", "total": "rollup_agents_ytd_total",
        "company": "rollup_agents_ytd_total", "funnel": "rollup_agents_ytd_lead_source",
        "compare": "rollup_agents_ytd_branch"}
EXACT = {r.table for r in page_rollups()}


@pytest.fixture(scope="module")
def people(raw) -> Roster:  # noqa: F811
    agents = roster(raw, Access())
    branches = agents[["geography.region", "geography.province", "geography.city", "agent.branch"]].drop_duplicates()
    return Roster(agents, {row[3]: list(row) for row in branches.astype(str).itertuples(index=False)})


@pytest.fixture(scope="module")
def busiest(raw) -> tuple[str, str]:  # noqa: F811
    """The branch and team with the most visits in the year to date."""
    s = page_slice(default_period())
    frame = raw.read("SELECT a.branch_id, a.team_id FROM fact_visit v JOIN dim_agent a USING (agent_id) "
                     "WHERE v.visit_date BETWEEN $s AND $e GROUP BY ALL "
                     "ORDER BY count(*) DESC, a.branch_id, a.team_id LIMIT 1",
                     {"s": s.start, "e": s.end})
    return str(frame["branch_id"].iloc[0]), str(frame["team_id"].iloc[0])


def same(on: Engine, raw: Engine, spec: dict, scope: Scope | None = None) -> pd.DataFrame:  # noqa: F811
    got, want = on.query(spec, scope), raw.query(spec, scope)
    assert len(want) > 0 and want[list(spec["measures"])].notna().any().any(), spec
    assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-6, obj=str(spec))
    return got


def test_the_first_visit_is_answered_whole_by_the_stored_grains(on, raw, people):  # noqa: F811
    specs = page_specs(page_slice(default_period()), NONE, people)
    for name, table in PAGE.items():
        assert on.rollup_for(specs[name]) == table, name
        same(on, raw, specs[name])
    agents, total = on.query(specs["agents"]), on.query(specs["total"])
    assert agents["fyp_sold"].is_monotonic_decreasing and agents["agent.agent"].is_unique
    # other periods ask for both at once (and so does the export): rows, the same numbers
    for name in ("league", "export"):
        assert on.rollup_for(specs[name]) not in EXACT
    league = on.query(specs["league"])
    body = league[league["_row_depth"] == 1].reset_index(drop=True)
    assert_frame_equal(body[agents.columns], agents, check_exact=False, rtol=1e-9, atol=1e-6)
    assert_frame_equal(league.loc[league["_row_depth"] == 0, total.columns].reset_index(drop=True), total,
                       check_exact=False, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("singled", ["branch", "team"])
def test_a_branch_or_team_singled_out_keeps_the_stored_league(singled, on, raw, people, busiest):  # noqa: F811
    """A drill path selects whole agents and leaves the company the indices compare with as it is;
    the selection's total row is not stored (its distinct counts are its own) and reads rows."""
    branch, team = busiest
    sel = Selection(branch, team if singled == "team" else None, None, ())
    specs = page_specs(page_slice(default_period()), sel, people)
    assert on.rollup_for(specs["agents"]) == "rollup_agents_ytd_agent"
    assert on.rollup_for(specs["compare"]) == "rollup_agents_ytd_team"  # the branch's teams
    assert on.rollup_for(specs["total"]) not in EXACT
    assert on.rollup_for(specs["company"]) == "rollup_agents_ytd_total"
    for name in ("agents", "compare", "total", "funnel"):
        same(on, raw, specs[name])


def test_filters_and_scopes_read_rows_when_they_change_the_company(on, raw, people, busiest):  # noqa: F811
    branch, _team = busiest
    specs = page_specs(page_slice(default_period()), NONE, people)
    plain = {**specs["agents"], "measures": ["fyp_sold", "cases", "conversion_cold_visit", "new_customers",
                                             "book_persistency_13"]}
    by_branch = {"dim": "agent.branch", "op": "in", "values": [branch]}
    region = Scope.of(region=[str(people.agents["geography.region"].iloc[0])])
    agents = Scope.of(agent=[str(a) for a in people.agents["agent.agent"].head(40)])
    cases = [
        # an index compares with the filtered, scoped company: not the one stored
        ({**specs["agents"], "filters": specs["agents"]["filters"] + [by_branch]}, None, "rows"),
        (specs["agents"], region, "rows"),
        (specs["total"], region, "rows"),
        (specs["funnel"], region, "rows"),  # the lead sources' rows keep no region
        # measures of the agent alone: the filter or scope selects whole stored rows
        ({**plain, "filters": plain["filters"] + [by_branch]}, None, "rollup_agents_ytd_agent"),
        (plain, region, "rollup_agents_ytd_agent"),
        (plain, agents, "rollup_agents_ytd_agent"),
        (specs["compare"], region, "rollup_agents_ytd_branch"),
    ]
    for spec, scope, table in cases:
        answered = on.rollup_for(spec, scope)
        assert answered == table if table != "rows" else answered not in EXACT, (spec, scope)
        same(on, raw, spec, scope)


def test_stored_values_equal_hand_written_sql(on, people):  # noqa: F811
    """Distinct prospects, distinct prospects converted, new customers and premium per agent and for the company, from
    fact_visit and fact_policy, and the conversion index of an agent against the company."""
    s = page_slice(default_period())
    specs = page_specs(s, NONE, people)
    sql = """
WITH v AS (SELECT * FROM fact_visit WHERE visit_date BETWEEN $s AND $e),
visits AS (
    SELECT {visit_key} AS agent_id,
           count(DISTINCT prospect_id) FILTER (WHERE lead_source = 'cold_visit') AS prospects,
           count(DISTINCT prospect_id) FILTER (WHERE lead_source = 'cold_visit' AND outcome = 'sale') AS converted,
           count(DISTINCT v.customer_id) FILTER (WHERE outcome = 'sale' AND p.issue_date = c.first_policy_date)
               AS new_customers
    FROM v LEFT JOIN fact_policy p USING (policy_id) LEFT JOIN dim_customer c ON c.customer_id = v.customer_id
    GROUP BY ALL),
sold AS (
    SELECT {sale_key} AS agent_id, count(*) AS cases,
           coalesce(sum(annual_premium) FILTER (WHERE payment_frequency <> 'single'), 0) AS fyp
    FROM fact_policy WHERE agent_id IS NOT NULL AND issue_date BETWEEN $s AND $e GROUP BY ALL)
SELECT * FROM visits FULL JOIN sold USING (agent_id)"""
    dates = {"s": s.start, "e": s.end}
    agents = on.read(sql.format(visit_key="v.agent_id", sale_key="agent_id"), dates).set_index("agent_id")
    company = on.read(sql.format(visit_key="'company'", sale_key="'company'"), dates).iloc[0]
    league = on.query(specs["agents"]).set_index("agent.agent")
    total = on.query(specs["total"]).iloc[0]
    # the league lists every agent employed in the period, those without a visit or sale too
    assert set(agents.index) <= set(league.index)
    agents = agents.reindex(league.index).astype("float64")
    conversion = agents["converted"] / agents["prospects"].where(agents["prospects"] > 0)
    company_conversion = company["converted"] / company["prospects"]
    assert league["conversion_cold_visit"].to_dict() == pytest.approx(conversion.to_dict(), nan_ok=True)
    assert league["conversion_cold_visit_index"].to_dict() == pytest.approx(
        (100 * conversion / company_conversion).to_dict(), nan_ok=True)
    assert league["new_customers"].to_dict() == agents["new_customers"].fillna(0).astype("int64").to_dict()
    assert league["cases"].to_dict() == agents["cases"].fillna(0).astype("int64").to_dict()
    assert league["fyp_sold"].to_dict() == pytest.approx(agents["fyp"].fillna(0).to_dict())
    # the company's distinct counts are not the agents' added up: prospects are shared
    assert total["conversion_cold_visit"] == pytest.approx(company_conversion)
    assert agents["prospects"].sum() > company["prospects"]
    assert total["new_customers"] == company["new_customers"] and total["cases"] == company["cases"]
    assert total["fyp_sold"] == pytest.approx(company["fyp"])


@pytest.mark.parametrize("change", [
    {"filters": [{"dim": "time.month", "op": "between", "values": ["2026-01-01", "2026-09-30"]}]},  # another period
    {"filters": []},  # all dates
    {"totals": True},  # the agents with their total
    {"compare": "yoy"},
    {"rows": ["agent.team"]},  # a grain not stored with these measures
    {"rows": ["agent.agent", "lead_source"]},  # a grain finer than the stored one
    {"measures": ["fyp_sold", "visits"]},  # a measure not stored
    {"top": {"n": 5, "by": "fyp_sold", "others": True}},
])
def test_specs_the_stored_grains_cannot_answer_read_rows(change, on, raw, people):  # noqa: F811
    spec = {**page_specs(page_slice(default_period()), NONE, people)["agents"], **change}
    assert on.rollup_for(spec) not in EXACT
    same(on, raw, spec)


def test_a_grain_whose_other_levels_are_not_its_attributes_is_refused(tmp_path):
    """A branch has many lead sources: stored by branch, a lead-source filter would split its row."""
    path = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse_path(), path)
    cube = cube_by_name("agents")
    good = page_rollups()[0]
    bad = Rollup("agents", "bad", ("agent.branch", "lead_source"), grain=("agent.branch",), period=good.period,
                 measures=("visits",))
    con = duckdb.connect(str(path))
    try:
        for rollup in (good, bad):
            sql, params = exact_sql(cube, rollup, [])
            con.execute(f"CREATE OR REPLACE TABLE {rollup.table} AS {sql}", params)
        check_grain(con, cube, good)
        with pytest.raises(ValueError, match="not attributes of the grain"):
            check_grain(con, cube, bad)
    finally:
        con.close()
