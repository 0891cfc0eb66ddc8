"""Service (cost to serve) and agent-activity cubes against pandas over the raw facts, with unit
costs read from params.toml rather than the derived param table."""
from __future__ import annotations

import pandas as pd
import pytest

from cubes.catalog import cube_by_name
from cubes.cube_agents import league_measures
from tests.test_cubes_fixtures import (  # noqa: F401
    add_persistency, check_every_row, engine, geography, month_starts, params, ratio, tables, warehouse)

SERVICE = cube_by_name("service").measure_names
# The league-table measures (lead-source splits, book persistency, indices) have their own oracle in
# tests/test_agents_page_measures.py.
LEAGUE = {m.name for m in league_measures(cube_by_name("agents").measures)}
AGENTS = [m for m in cube_by_name("agents").measure_names if m not in LEAGUE]
LEVEL = {"geography.region": "region", "time.year": "year", "event_type": "event_type",
         "lead_source": "lead_source"}


@pytest.fixture(scope="module")
def service_rows(tables, params):  # noqa: F811
    t = tables
    as_of = pd.Timestamp(params["as_of_date"])
    region_of_customer = t["dim_customer"][["customer_id", "branch_id"]].merge(geography(t), on="branch_id")
    ev = t["fact_service_event"].merge(region_of_customer, on="customer_id")
    ev["year"] = ev["event_date"].dt.year
    ev["cost"] = [params["unit_cost"][(e, c)] for e, c in zip(ev["event_type"], ev["service_channel"])]
    pol = t["fact_policy"].merge(region_of_customer, on="customer_id", suffixes=("_policy", ""))
    rows, years = month_starts(pol["issue_date"], pol["status_date"].where(pol["status"] != "in_force", as_of))
    exposure = pol.iloc[rows][["region"]].reset_index(drop=True)
    exposure["year"], exposure["event_type"] = years, None
    return ev, exposure


def service_oracle(ev, exposure, keys):
    ev = ev.assign(complaint=(ev["event_type"] == "complaint").astype(int))
    exposure = exposure.assign(exposure=1 / 12)
    named = dict(events=("event_id", "count"), minutes=("minutes", "sum"), cost=("cost", "sum"),
                 customers_served=("customer_id", "nunique"), complaints=("complaint", "sum"))
    if keys:
        out = pd.concat([ev.groupby(keys).agg(**named),
                         exposure.groupby(keys, dropna=False).agg(exposure_years=("exposure", "sum"))], axis=1)
    else:
        out = pd.DataFrame({k: [getattr(ev[c], f)()] for k, (c, f) in named.items()})
        out["exposure_years"] = exposure["exposure"].sum()
    out = out.fillna({c: 0 for c in out.columns})
    out["cost_per_customer"] = ratio(out, "cost", "customers_served")
    out["minutes_per_event"] = ratio(out, "minutes", "events")
    out["complaints_per_10k"] = ratio(out, "complaints", "exposure_years", 10_000)
    return out


def test_service_cube_by_region_and_year(engine, service_rows):  # noqa: F811
    rows, columns = ["geography.region"], ["time.year"]
    frame = engine.query({"cube": "service", "rows": rows, "columns": columns, "measures": SERVICE, "totals": True})
    ev, exposure = service_rows
    assert set(SERVICE) == set(service_oracle(ev, exposure, []).columns)
    checked = check_every_row(frame, lambda lv: service_oracle(ev, exposure, [LEVEL[x] for x in lv]),
                              rows, columns, SERVICE)
    assert checked == len(frame) > 7 * 5


def test_service_cost_by_event_type(engine, service_rows):  # noqa: F811
    frame = engine.query({"cube": "service", "rows": ["event_type"], "measures": ["events", "cost", "cost_per_customer"],
                          "totals": True, "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    ev, exposure = service_rows
    ev, exposure = ev[ev["year"] == 2025], exposure[exposure["year"] == 2025]
    frame = frame[frame["event_type"].notna() | (frame["_row_depth"] == 0)]  # the exposure rows have no type
    check_every_row(frame, lambda lv: service_oracle(ev, exposure, [LEVEL[x] for x in lv]), ["event_type"], [],
                    ["events", "cost", "cost_per_customer"])


@pytest.fixture(scope="module")
def agent_rows(tables, params):  # noqa: F811
    t = tables
    as_of = pd.Timestamp(params["as_of_date"])
    agents = t["dim_agent"].merge(geography(t), on="branch_id")[["agent_id", "region", "hire_date", "leave_date"]]
    visits = t["fact_visit"].merge(agents[["agent_id", "region"]], on="agent_id")
    visits["year"] = visits["visit_date"].dt.year
    first_visit = visits.groupby(["agent_id", "prospect_id"])["visit_date"].transform("min")
    sale = visits["outcome"] == "sale"
    visits["days"] = (visits["visit_date"] - first_visit).dt.days.where(sale)
    issue = visits["policy_id"].map(t["fact_policy"].set_index("policy_id")["issue_date"])
    first_policy = visits["customer_id"].map(t["dim_customer"].set_index("customer_id")["first_policy_date"])
    visits["new_customer"] = visits["customer_id"].where(sale & (issue == first_policy))
    prem = t["fact_premium"]
    sold = add_persistency(t["fact_policy"][t["fact_policy"]["agent_id"].notna()], prem, params)
    sold = sold.merge(agents[["agent_id", "region"]], on="agent_id")
    # case size on a mature basis: the annual premium of regular policies; single premium apart
    regular = sold["payment_frequency"] != "single"
    sold["fyp"] = sold["annual_premium"].where(regular, 0.0)
    sold["regular"] = regular.astype(int)
    sold["single"] = sold["single_premium"].where(~regular, 0.0)
    sold["year"] = sold["issue_date"].dt.year
    closing = t["fact_visit"].dropna(subset=["policy_id"]).groupby("policy_id")["lead_source"].first()
    sold["lead_source"] = sold["policy_id"].map(closing)
    end = agents["leave_date"].where(agents["leave_date"].notna() & (agents["leave_date"] < as_of), as_of)
    rows, years = month_starts(agents["hire_date"], pd.to_datetime(end))
    heads = agents.iloc[rows][["agent_id", "region"]].reset_index(drop=True)
    heads["year"], heads["lead_source"] = years, None
    heads["month"] = month_starts(agents["hire_date"], pd.to_datetime(end), by_month=True)[1]
    days = workdays_employed(t, params).merge(agents[["agent_id", "region"]], on="agent_id")
    days["year"], days["lead_source"] = days["date"].dt.year, None
    return visits, sold, heads, days


def workdays_employed(t, params) -> pd.DataFrame:
    """DOMAIN's working days of an agent: (agent_id, date) of every workday up to the as-of date on
    which the agent was employed (hired by then, not yet left)."""
    cal = t["dim_calendar"]
    cal = cal[cal["is_workday"].astype(bool) & (cal["date"] <= pd.Timestamp(params["as_of_date"]))][["date"]]
    pairs = t["dim_agent"][["agent_id", "hire_date", "leave_date"]].merge(cal, how="cross")
    employed = (pairs["hire_date"] <= pairs["date"]) & (pairs["leave_date"].isna() | (pairs["date"] < pairs["leave_date"]))
    return pairs.loc[employed, ["agent_id", "date"]].reset_index(drop=True)


def agents_oracle(visits, sold, heads, days, keys):
    def agg(frame, **named):
        if keys:
            return frame.groupby(keys, dropna=False).agg(**named)
        return pd.DataFrame({k: [getattr(frame[c], f)()] for k, (c, f) in named.items()})

    visits = visits.assign(close=(visits["outcome"] == "sale").astype(int),
                           converted=visits["prospect_id"].where(visits["outcome"] == "sale"),
                           agent_day=visits["agent_id"] + visits["visit_date"].astype(str))
    # DOMAIN's activity rate: agents with a sale among the agents in the headcount, of those agents
    counted = heads[keys + ["agent_id"]].drop_duplicates()
    both = counted.merge(sold[keys + ["agent_id"]].drop_duplicates(), on=keys + ["agent_id"])
    out = pd.concat([
        agg(counted, headcount_agents=("agent_id", "count")), agg(both, active_in_headcount=("agent_id", "count")),
        agg(visits, visits=("visit_id", "count"), visit_minutes=("minutes", "sum"),
            working_days=("agent_day", "nunique"), closes=("close", "sum"), prospects=("prospect_id", "nunique"),
            converted_prospects=("converted", "nunique"),
            days_to_close_total=("days", "sum"), new_customers=("new_customer", "nunique")),
        agg(sold, fyp_sold=("fyp", "sum"), cases=("policy_id", "count"), active_agents=("agent_id", "nunique"),
            regular_cases=("regular", "sum"), single_premium_sold=("single", "sum"),
            **{c: (c, "sum") for c in ("p13_due", "p13_kept", "p13_due_premium", "p13_kept_premium")}),
        agg(heads, agent_months=("agent_id", "count"), months=("month", "nunique")),
        agg(days, workdays_employed=("agent_id", "count")),
    ], axis=1)
    out = out.fillna({c: 0 for c in out.columns})
    # DOMAIN: average headcount = agent-months employed / months (unknown where no agent-months)
    out["headcount"] = ratio(out, "agent_months", "months")
    out = out.drop(columns=["agent_months", "months"])
    for name, num, den in (("visits_per_day", "visits", "workdays_employed"),
                           ("visits_per_active_day", "visits", "working_days"), ("minutes_per_visit", "visit_minutes", "visits"),
                           ("conversion_rate", "converted_prospects", "prospects"), ("visits_per_close", "visits", "closes"),
                           ("days_to_close", "days_to_close_total", "closes"), ("avg_case_size", "fyp_sold", "regular_cases"),
                           ("activity_rate", "active_in_headcount", "headcount_agents"), ("cases_per_agent", "cases", "headcount"),
                           ("persistency_13", "p13_kept", "p13_due"),
                           ("persistency_13_premium", "p13_kept_premium", "p13_due_premium")):
        out[name] = ratio(out, num, den)
    # the company's rate of the cell's lead source when the cell is of one (REVIEW #2)
    if "lead_source" in keys:
        by_source = visits.groupby("lead_source")
        source = pd.Series(out.index.get_level_values("lead_source"), index=out.index)
        company_conversion = source.map(by_source["converted"].nunique() / by_source["prospect_id"].nunique())
    else:
        company_conversion = visits["converted"].nunique() / visits["prospect_id"].nunique()
    out["conversion_index"] = out["conversion_rate"] / company_conversion
    out["new_customer_share"] = out["new_customers"] / visits["new_customer"].nunique()
    return out


@pytest.mark.parametrize("rows, columns", [(["geography.region"], ["time.year"]), (["lead_source"], [])])
def test_agents_cube_every_measure(engine, agent_rows, rows, columns):  # noqa: F811
    frame = engine.query({"cube": "agents", "rows": rows, "columns": columns, "measures": AGENTS, "totals": True,
                          "filters": [{"dim": "time.year", "op": "range", "values": [2021, None]}]})
    visits, sold, heads, days = (f[f["year"] >= 2021] for f in agent_rows)
    assert set(AGENTS) == set(agents_oracle(visits, sold, heads, days, []).columns)
    checked = check_every_row(frame, lambda lv: agents_oracle(visits, sold, heads, days, [LEVEL[x] for x in lv]),
                              rows, columns, AGENTS)
    assert checked == len(frame)
