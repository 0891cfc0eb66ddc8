"""Agents cube: "against the company average" (REVIEW #2, #3, #7) and visits per working day
(REVIEW #6), each against pandas over the raw fact_visit / dim_agent / dim_calendar."""
from __future__ import annotations

import pandas as pd
import pytest

from cubes.scope import Scope
from tests.test_cubes_fixtures import engine, geography, params, tables, warehouse  # noqa: F401
from tests.test_cubes_service_agents import workdays_employed

YEAR_2025 = [{"dim": "time.year", "op": "eq", "values": [2025]}]


@pytest.fixture(scope="module")
def visits(tables):  # noqa: F811
    t = tables
    agents = t["dim_agent"][["agent_id", "team_id", "branch_id"]].merge(geography(t), on="branch_id")
    v = t["fact_visit"].merge(agents, on="agent_id")
    v["year"], v["quarter"] = v["visit_date"].dt.year, v["visit_date"].dt.quarter
    v["converted"] = v["prospect_id"].where(v["outcome"] == "sale")
    first_policy = v["customer_id"].map(t["dim_customer"].set_index("customer_id")["first_policy_date"])
    issue = v["policy_id"].map(t["fact_policy"].set_index("policy_id")["issue_date"])
    v["new_customer"] = v["customer_id"].where((v["outcome"] == "sale") & (issue == first_policy))
    return v


def rate(v: pd.DataFrame, keys=None):
    """DOMAIN conversion: distinct prospects converted / distinct prospects visited."""
    if not keys:
        return v["converted"].nunique() / v["prospect_id"].nunique()
    g = v.groupby(keys)
    return g["converted"].nunique() / g["prospect_id"].nunique()


def same(got, want) -> bool:
    """Equal, or both blank (a member without visits has no rate)."""
    return bool(pd.isna(got) and pd.isna(want)) or got == pytest.approx(want)


def test_conversion_index_compares_each_lead_source_with_the_company_rate_of_that_source(engine, visits):  # noqa: F811
    v = visits[visits["year"] == 2025]
    company = rate(v, ["lead_source"])
    # the company itself is at the company average on each source
    by_source = engine.query({"cube": "agents", "rows": ["lead_source"], "measures": ["conversion_index"],
                              "filters": YEAR_2025})
    by_source = by_source[by_source["lead_source"].notna()]  # rows without a source: headcount, workdays
    assert set(by_source["lead_source"]) == {"cold_visit", "referral"}
    assert by_source["conversion_index"].tolist() == pytest.approx([1.0, 1.0])
    frame = engine.query({"cube": "agents", "rows": ["agent.branch"], "columns": ["lead_source"],
                          "measures": ["conversion_rate", "conversion_index"], "filters": YEAR_2025, "totals": True})
    per_branch_source, per_branch = rate(v, ["branch_id", "lead_source"]), rate(v, ["branch_id"])
    cells = frame[(frame["_row_depth"] == 1) & (frame["_col_depth"] == 1) & frame["lead_source"].notna()]
    # every branch and source with visits has its cell; a cell of a source's sales only (a policy
    # issued in the year whose closing visit was the year before) has no visits and a blank rate
    assert set(per_branch_source.index) <= set(zip(cells["agent.branch"], cells["lead_source"]))
    for _, row in cells.iterrows():
        want = per_branch_source.get((row["agent.branch"], row["lead_source"]), float("nan")) / company[row["lead_source"]]
        assert same(row["conversion_index"], want)
    # across both sources the company rate is the blended one
    for _, row in frame[(frame["_row_depth"] == 1) & (frame["_col_depth"] == 0)].iterrows():
        assert same(row["conversion_index"], per_branch.get(row["agent.branch"], float("nan")) / rate(v))
    # filtered to one source, the company is that source's
    referral = engine.query({"cube": "agents", "rows": ["agent.branch"], "measures": ["conversion_index"],
                             "filters": YEAR_2025 + [{"dim": "lead_source", "op": "eq", "values": ["referral"]}]})
    want = rate(v[v["lead_source"] == "referral"], ["branch_id"]) / company["referral"]
    assert referral.set_index("agent.branch")["conversion_index"].to_dict() == pytest.approx(want.to_dict())


def test_ytd_compares_each_period_with_the_company_year_to_date(engine, visits):  # noqa: F811
    frame = engine.query({"cube": "agents", "rows": ["agent.branch"], "columns": ["time.quarter"],
                          "measures": ["conversion_index", "new_customer_share"], "filters": YEAR_2025,
                          "compare": "ytd", "totals": True})
    checked = 0
    for quarter in range(1, 5):
        v = visits[(visits["year"] == 2025) & (visits["quarter"] <= quarter)]
        index = rate(v, ["branch_id"]) / rate(v)
        share = v.groupby("branch_id")["new_customer"].nunique() / v["new_customer"].nunique()
        rows = frame[frame["time.quarter"] == f"2025-Q{quarter}"]
        for _, row in rows.iterrows():
            branch = row["agent.branch"]
            want_index = 1.0 if row["_row_depth"] == 0 else index.get(branch, float("nan"))
            want_share = 1.0 if row["_row_depth"] == 0 else share.get(branch, 0.0)  # no visits: no new customers
            assert same(row["conversion_index"], want_index), (quarter, branch)
            assert same(row["new_customer_share"], want_share), (quarter, branch)
            checked += 1
    assert checked == len(frame) > 4


def test_ytd_top_n_ranks_each_visit_once(engine, visits):  # noqa: F811
    v = visits[visits["year"] == 2025]
    for n in (3, 5):
        frame = engine.query({"cube": "agents", "rows": ["agent.agent"], "columns": ["time.quarter"],
                              "measures": ["visits"], "filters": YEAR_2025, "compare": "ytd",
                              "top": {"n": n, "by": "visits", "others": False}})
        counts = v.groupby("agent_id")["visit_id"].count()
        # ties at the cut are broken by key, like the engine's ORDER BY
        want = set(counts.reset_index().sort_values(["visit_id", "agent_id"], ascending=[False, True])
                   .head(n)["agent_id"])
        assert set(frame["agent.agent"]) == want


def test_drilling_keeps_the_company_baseline(engine, visits):  # noqa: F811
    v = visits[visits["year"] == 2025]
    rates = rate(v, ["branch_id"])
    weakest = rates[rates > 0].idxmin()  # a rate of 0 would be 0 against any baseline
    spec = {"cube": "agents", "rows": ["agent.branch"], "measures": ["conversion_index", "new_customer_share"],
            "filters": YEAR_2025, "drill": {"hierarchy": "agent", "path": [weakest]}}
    for region in (None, v.loc[v["branch_id"] == weakest, "region"].iloc[0]):
        company = v if region is None else v[v["region"] == region]  # the caller's scope is the company
        scope = None if region is None else Scope.of(region=[region])
        frame = engine.query(spec, scope=scope).set_index("agent.team")
        teams = v[v["branch_id"] == weakest]
        want_index = rate(teams, ["team_id"]) / rate(company)
        want_share = teams.groupby("team_id")["new_customer"].nunique() / company["new_customer"].nunique()
        assert frame["conversion_index"].to_dict() == pytest.approx(want_index.to_dict())
        assert frame["new_customer_share"].to_dict() == pytest.approx(want_share.to_dict())


def test_visits_per_day_divides_by_workdays_employed(engine, visits, tables, params):  # noqa: F811
    days = workdays_employed(tables, params).merge(
        tables["dim_agent"][["agent_id", "branch_id"]].merge(geography(tables), on="branch_id"), on="agent_id")
    # a span that cuts months and work months, and the same span a year earlier
    frame = engine.query({"cube": "agents", "rows": ["geography.region"], "measures": ["visits_per_day"],
                          "filters": [{"dim": "time.month", "op": "between", "values": ["2025-03-10", "2025-04-20"]}],
                          "compare": "yoy", "totals": True}).set_index("geography.region")
    for column, low, high in (("visits_per_day", "2025-03-10", "2025-04-20"),
                              ("visits_per_day__prior", "2024-03-10", "2024-04-20")):
        v = visits[visits["visit_date"].between(low, high)]
        d = days[days["date"].between(low, high)]
        want = v.groupby("region")["visit_id"].count() / d.groupby("region")["agent_id"].count()
        assert frame[frame["_row_depth"] == 1][column].to_dict() == pytest.approx(want.to_dict())
        total = frame[frame["_row_depth"] == 0][column].iloc[0]
        assert total == pytest.approx(len(v) / len(d))
