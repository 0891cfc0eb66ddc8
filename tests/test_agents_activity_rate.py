"""The agents cube's activity rate (活动率) and headcount, against hand-written SQL over dim_agent and
fact_policy: DOMAIN's agents with at least one sale in the period among the agents counted in the
headcount, over those agents, at company, branch and team level; never above 100%, for the
page's stored first visit (cubes/rollups.py page_rollups) as for raw rows, whole months or not."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from callbacks.agents import Roster, Selection, page_specs
from callbacks.overview import page_slice
from cubes.agents_book import roster
from cubes.scope import Access
from data.config import load_params
from tests.test_cubes_fixtures import default_period, small_warehouse_path
from tests.test_rollups import on, raw  # noqa: F401  (engines with and without rollups)

# An agent is in the headcount of a period when employed at the start of one of its months (hired
# before that day, leaving no earlier: DOMAIN's headcount counts agents at month starts); active
# when they also issued a policy in the period.
ACTIVITY = """
WITH months AS (
    SELECT CAST(m AS DATE) AS m
    FROM generate_series(date_trunc('month', CAST($s AS DATE)), CAST($e AS DATE), INTERVAL 1 MONTH) t(m)
    WHERE m >= CAST($s AS DATE) AND m <= CAST($as_of AS DATE)
),
counted AS (
    SELECT DISTINCT a.agent_id, a.team_id, a.branch_id
    FROM dim_agent a JOIN months ON a.hire_date < months.m AND (a.leave_date IS NULL OR a.leave_date >= months.m)
),
sold AS (
    SELECT DISTINCT agent_id FROM fact_policy
    WHERE agent_id IS NOT NULL AND issue_date BETWEEN CAST($s AS DATE) AND CAST($e AS DATE)
)
SELECT {key} AS key, count(*) AS counted, count(sold.agent_id) AS active
FROM counted LEFT JOIN sold USING (agent_id)
GROUP BY ALL
"""
AS_OF = load_params()["as_of_date"].isoformat()
LEVELS = {"agent.branch": "branch_id", "agent.team": "team_id"}


def oracle(s: str, e: str, key: str, warehouse=None) -> pd.DataFrame:
    """Agents counted, active and the rate per `key` (SQL over dim_agent: 'branch_id', 'team_id')."""
    with duckdb.connect(str(warehouse or small_warehouse_path()), read_only=True) as con:
        frame = con.execute(ACTIVITY.format(key=key), {"s": s, "e": e, "as_of": AS_OF}).df()
    frame["rate"] = frame["active"] / frame["counted"]
    return frame.set_index("key")


@pytest.mark.parametrize("period", [("2025-01-01", "2025-12-31"), ("2026-01-01", AS_OF),
                                    ("2025-03-15", "2025-08-10")])  # a period that cuts two months
def test_activity_rate_at_company_branch_and_team_level(raw, period):  # noqa: F811
    s, e = period
    frame = raw.query({"cube": "agents", "rows": ["agent.branch", "agent.team"], "totals": True,
                       "measures": ["activity_rate", "headcount_agents", "active_in_headcount", "active_agents"],
                       "filters": [{"dim": "time.month", "op": "between", "values": [s, e]}]})
    company = frame[frame["_row_depth"] == 0].iloc[0]
    want = oracle(s, e, "'company'").loc["company"]
    assert (company["headcount_agents"], company["active_in_headcount"]) == (want["counted"], want["active"])
    assert company["activity_rate"] == pytest.approx(want["rate"])
    for depth, level in ((1, "agent.branch"), (2, "agent.team")):
        got = frame[frame["_row_depth"] == depth].set_index(level)
        expected = oracle(s, e, LEVELS[level])
        assert sorted(got.index) == sorted(expected.index)
        assert got["headcount_agents"].to_dict() == expected["counted"].to_dict()
        assert got["active_in_headcount"].to_dict() == expected["active"].to_dict()
        assert got["activity_rate"].to_dict() == pytest.approx(expected["rate"].to_dict())
        assert got["activity_rate"].max() <= 1 and got["activity_rate"].min() >= 0
    # the agents with a sale who were in no month's headcount are what the old rule counted extra
    assert company["active_agents"] >= company["active_in_headcount"]


def test_the_first_visit_stored_rates_equal_the_hand_written_sql(on):  # noqa: F811
    """The page's KPI card and its branch (or a branch's teams) chart, answered from the stored
    grains of the year to date, give the hand-written rates; none is above 100%."""
    s = page_slice(default_period())
    agents = roster(on, Access())
    branches = agents[["geography.region", "geography.province", "geography.city", "agent.branch"]].drop_duplicates()
    people = Roster(agents, {row[3]: list(row) for row in branches.astype(str).itertuples(index=False)})
    specs = page_specs(s, Selection(None, None, None, ()), people)
    assert on.rollup_for(specs["total"]) == "rollup_agents_ytd_total"
    assert on.rollup_for(specs["compare"]) == "rollup_agents_ytd_branch"
    total = on.query(specs["total"]).iloc[0]
    assert total["activity_rate"] == pytest.approx(oracle(s.start, s.end, "'company'").loc["company", "rate"])
    by_branch = on.query(specs["compare"]).set_index("agent.branch")["activity_rate"]
    assert by_branch.to_dict() == pytest.approx(oracle(s.start, s.end, "branch_id")["rate"].to_dict())
    assert by_branch.max() <= 1
    branch = by_branch.index[0]
    teams = on.query(page_specs(s, Selection(branch, None, None, ()), people)["compare"]).set_index("agent.team")
    expected = oracle(s.start, s.end, "team_id")["rate"]
    assert teams["activity_rate"].to_dict() == pytest.approx(expected[teams.index].to_dict())
    assert teams["activity_rate"].max() <= 1
