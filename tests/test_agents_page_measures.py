"""The agents page's league-table measures (cubes/cube_agents.py league_measures), its KPI cards
and the agent's customer book (cubes/agents_book.py), at agent, team, branch and company level,
against pandas over the raw fact_visit, fact_policy, fact_premium, dim_agent and mart_customer_month."""
from __future__ import annotations

import pandas as pd
import pytest

from callbacks.agents import Roster, Selection, page_specs
from callbacks.overview import Slice
from cubes.agents_book import agent_profile, customer_book, roster
from cubes.scope import Access, Scope
from layouts.agents import KPIS
from layouts.filter_state import FilterState
from tests.test_cubes_fixtures import add_persistency, check_every_row, engine, geography, month_starts, params, ratio, tables, warehouse  # noqa: F401

YEAR = 2025
ROWS = ["agent.branch", "agent.team", "agent.agent"]
KEYS = {"agent.branch": "branch_id", "agent.team": "team_id", "agent.agent": "agent_id"}
SOURCES = ("cold_visit", "referral")
CHECKED = ["conversion_cold_visit", "conversion_referral", "conversion_cold_visit_index", "conversion_referral_index",
           "new_customers", "new_customers_cold_visit", "new_share_cold_visit", "new_share_referral",
           "book_p13_due", "book_persistency_13", "fyp_sold_index", "cases_index", "avg_case_size_index",
           "visits_per_close_index", "days_to_close_index"]


@pytest.fixture(scope="module")
def facts(tables, params):  # noqa: F811
    """The year's visits, sales, book-persistency decisions and agent-months, each with its agent's team and branch."""
    t = tables
    agents = t["dim_agent"][["agent_id", "team_id", "branch_id", "hire_date", "leave_date"]]
    v = t["fact_visit"].merge(agents[["agent_id", "team_id", "branch_id"]], on="agent_id")
    first_visit = v.groupby(["agent_id", "prospect_id"])["visit_date"].transform("min")
    sale = v["outcome"] == "sale"
    v["close"] = sale.astype(int)
    v["converted"] = v["prospect_id"].where(sale)  # DOMAIN conversion: distinct prospects won
    v["days"] = (v["visit_date"] - first_visit).dt.days.where(sale)
    issue = v["policy_id"].map(t["fact_policy"].set_index("policy_id")["issue_date"])
    first_policy = v["customer_id"].map(t["dim_customer"].set_index("customer_id")["first_policy_date"])
    v["new_customer"] = v["customer_id"].where(sale & (issue == first_policy))
    v = v[v["visit_date"].dt.year == YEAR]

    pol = add_persistency(t["fact_policy"][t["fact_policy"]["agent_id"].notna()], t["fact_premium"], params)
    # the agent's branch, not the policy's
    pol = pol.drop(columns="branch_id").merge(agents[["agent_id", "team_id", "branch_id"]], on="agent_id")
    regular = pol["payment_frequency"] != "single"
    pol["fyp"], pol["regular"] = pol["annual_premium"].where(regular, 0.0), regular.astype(int)
    sold = pol[pol["issue_date"].dt.year == YEAR]
    # the book's month-13 persistency counts where it is decided: month 12 plus the grace period
    decided = pol["issue_date"] + pd.DateOffset(months=12) + pd.Timedelta(days=params["grace_days"])
    book = pol[decided.dt.year == YEAR]

    as_of = pd.Timestamp(params["as_of_date"])
    end = agents["leave_date"].where(agents["leave_date"].notna() & (agents["leave_date"] < as_of), as_of)
    rows, months = month_starts(agents["hire_date"], pd.to_datetime(end), by_month=True)
    heads = agents.iloc[rows][["agent_id", "team_id", "branch_id"]].reset_index(drop=True)
    heads["month"] = months
    heads = heads[heads["month"] // 12 == YEAR]
    return v, sold, book, heads


def oracle(facts, keys: list[str]) -> pd.DataFrame:
    """Every checked measure for the groups of `keys` (one row for the company when empty)."""
    v, sold, book, heads = facts

    def agg(frame, **named):
        if keys:
            return frame.groupby(keys).agg(**named)
        return pd.DataFrame({k: [getattr(frame[c], f)()] for k, (c, f) in named.items()})

    parts = [agg(v, visits=("visit_id", "count"), closes=("close", "sum"), days=("days", "sum"),
                 new_customers=("new_customer", "nunique")),
             agg(sold, fyp_sold=("fyp", "sum"), cases=("policy_id", "count"), regular_cases=("regular", "sum")),
             agg(book, book_p13_due=("p13_due", "sum"), book_p13_kept=("p13_kept", "sum")),
             agg(heads, agent_months=("agent_id", "count"), months=("month", "nunique"))]
    for source in SOURCES:
        of_source = v[v["lead_source"] == source]
        parts.append(agg(of_source, **{f"converted_{source}": ("converted", "nunique"), f"prospects_{source}": ("prospect_id", "nunique"),
                                       f"new_customers_{source}": ("new_customer", "nunique")}))
    out = pd.concat(parts, axis=1)
    out = out.fillna({c: 0 for c in out.columns if c not in ("agent_months", "months")})
    out["headcount"] = ratio(out, "agent_months", "months")
    out["avg_case_size"] = ratio(out, "fyp_sold", "regular_cases")
    out["visits_per_close"] = ratio(out, "visits", "closes")
    out["days_to_close"] = ratio(out, "days", "closes")
    out["book_persistency_13"] = ratio(out, "book_p13_kept", "book_p13_due")
    for source in SOURCES:
        out[f"conversion_{source}"] = ratio(out, f"converted_{source}", f"prospects_{source}")
        out[f"new_share_{source}"] = ratio(out, f"new_customers_{source}", "new_customers")
    for name in ("fyp_sold", "cases"):
        out[f"{name}_per_agent"] = ratio(out, name, "headcount")
    return out


def test_league_measures_at_agent_team_branch_and_company_level(engine, facts):  # noqa: F811
    frame = engine.query({"cube": "agents", "rows": ROWS, "measures": CHECKED, "totals": True,
                          "filters": [{"dim": "time.year", "op": "eq", "values": [YEAR]}]})
    company = oracle(facts, []).iloc[0]

    def expected(levels):
        out = oracle(facts, [KEYS[lv] for lv in levels])
        # DOMAIN: index = the cell's value / the company's x 100; amounts and counts per agent first
        for name in ("conversion_cold_visit", "conversion_referral", "avg_case_size", "visits_per_close", "days_to_close"):
            out[f"{name}_index"] = out[name] / company[name] * 100
        for name in ("fyp_sold", "cases"):
            out[f"{name}_index"] = out[f"{name}_per_agent"] / company[f"{name}_per_agent"] * 100
        return out

    checked = check_every_row(frame, expected, ROWS, [], CHECKED)
    # a prospect won is one visited: no agent, team or branch converts more than all its prospects
    # (closes per policy over distinct prospects reached 125%)
    assert frame[["conversion_cold_visit", "conversion_referral"]].max().max() <= 1
    depths = frame["_row_depth"].value_counts()
    assert checked == len(frame) and set(depths.index) == {0, 1, 2, 3} and depths[3] > 50
    total = frame[frame["_row_depth"] == 0].iloc[0]
    # the company is at its own average, and referrals convert better than cold visits
    assert total["conversion_cold_visit_index"] == pytest.approx(100) == total["fyp_sold_index"]
    assert company["conversion_referral"] > 2 * company["conversion_cold_visit"]


def test_drilling_into_a_team_keeps_the_company_as_the_base(engine, facts, tables):  # noqa: F811
    v = facts[0]
    team = v.groupby(["branch_id", "team_id"])["visit_id"].count().idxmax()
    frame = engine.query({"cube": "agents", "rows": ["agent.agent"], "measures": ["conversion_cold_visit_index"],
                          "drill": {"hierarchy": "agent", "path": list(team)},
                          "filters": [{"dim": "time.year", "op": "eq", "values": [YEAR]}]})
    want = oracle(facts, ["agent_id"])
    company = oracle(facts, []).iloc[0]["conversion_cold_visit"]
    agents = tables["dim_agent"]
    assert set(frame["agent.agent"]) <= set(agents.loc[agents["team_id"] == team[1], "agent_id"])
    visited = frame[frame["agent.agent"].isin(v.loc[v["lead_source"] == "cold_visit", "agent_id"])]
    assert len(visited) >= 2 and frame.drop(visited.index)["conversion_cold_visit_index"].isna().all()
    for agent, index in zip(visited["agent.agent"], visited["conversion_cold_visit_index"]):
        assert index == pytest.approx(want.loc[agent, "conversion_cold_visit"] / company * 100)


def test_kpi_cards_of_the_slice_and_of_a_team(engine, facts):  # noqa: F811
    """The page's KPI cards (the league's total row) are the slice's, or the team's when one is
    singled out; the company the comparison chart marks is the slice without the team."""
    s = Slice(f"{YEAR}-01-01", f"{YEAR}-12-31", FilterState())
    v = facts[0]
    branch, team = v.groupby(["branch_id", "team_id"])["visit_id"].count().idxmax()
    sold = facts[1]
    for sel, keep in ((Selection(None, None, None, ()), None), (Selection(branch, team, None, ()), team)):
        specs = page_specs(s, sel, Roster(pd.DataFrame(), {}))
        kpis = engine.query(specs["total"]).iloc[0]
        want = oracle([f if keep is None else f[f["team_id"] == keep] for f in facts], []).iloc[0]
        heads = facts[3] if keep is None else facts[3][facts[3]["team_id"] == keep]
        # DOMAIN's activity rate: the agents in the headcount with a sale, over the agents in the headcount
        counted = set(heads["agent_id"])
        active = len(counted & set(sold["agent_id"])) / len(counted)
        assert set(KPIS) <= set(kpis.index)
        for name in ("headcount", "fyp_sold", "conversion_cold_visit", "conversion_referral"):
            assert kpis[name] == pytest.approx(want[name]), (keep, name)
        assert kpis["cases_per_agent"] == pytest.approx(want["cases"] / want["headcount"])
        assert kpis["activity_rate"] == pytest.approx(active) and active <= 1
    company, everyone = engine.query(specs["company"]).iloc[0], oracle(facts, []).iloc[0]
    for name in ("headcount", "fyp_sold", "conversion_cold_visit"):
        assert company[name] == pytest.approx(everyone[name]), name
    counted = set(facts[3]["agent_id"])
    assert company["activity_rate"] == pytest.approx(len(counted & set(sold["agent_id"])) / len(counted))


def test_customer_book_of_an_agent(engine, tables, params):  # noqa: F811
    t = tables
    pol = add_persistency(t["fact_policy"], t["fact_premium"], params)
    agent = pol["agent_id"].value_counts().idxmax()
    mine = pol[pol["agent_id"] == agent]
    mart = t["mart_customer_month"]
    mart = mart[(mart["month"] >= "2025-01-01") & (mart["month"] <= "2025-12-31")]
    want = mine.groupby("customer_id").agg(policies=("policy_id", "count"), due=("p13_due", "sum"),
                                          kept=("p13_kept", "sum"),
                                          in_force=("status", lambda s: int((s == "in_force").sum())))
    want["contribution"] = mart.groupby("customer_id")["contribution"].sum().reindex(want.index).fillna(0)
    book = customer_book(engine, Access(), agent, "2025-01-01", "2025-12-31").set_index("customer_id")
    assert sorted(book.index) == sorted(want.index)
    assert book["policies"].to_dict() == want["policies"].to_dict()
    assert book["in_force"].to_dict() == want["in_force"].to_dict()
    assert book["contribution"].to_dict() == pytest.approx(want["contribution"].to_dict())
    persistency = (want["kept"] / want["due"].where(want["due"] > 0)).dropna()
    assert book["persistency_13"].dropna().to_dict() == pytest.approx(persistency.to_dict())
    # names masked for a caller without the right to see them
    names = t["dim_customer"].set_index("customer_id")["name"]
    masked = customer_book(engine, Access(show_pii=False), agent, "2025-01-01", "2025-12-31").set_index("customer_id")
    assert all(m != names[c] and m[0] == names[c][0] for c, m in masked["name"].items())


def test_an_agent_outside_the_scope_is_unknown(engine, tables):  # noqa: F811
    t = tables
    agent = t["dim_agent"].iloc[0]
    region = geography(t).set_index("branch_id").loc[agent["branch_id"], "region"]
    others = sorted(set(geography(t)["region"]) - {region})
    assert agent_profile(engine, Access(Scope.of(region=[region])), agent["agent_id"])["name"] == agent["name"]
    assert agent_profile(engine, Access(Scope.of(region=others)), agent["agent_id"]) is None
    assert agent_profile(engine, Access(), "NO_SUCH_AGENT") is None
    assert customer_book(engine, Access(Scope.of(region=others)), agent["agent_id"], "2025-01-01", "2025-12-31").empty


def test_roster_of_the_agents_a_caller_may_see(engine, tables):  # noqa: F811
    """Every agent with their team and branch names and the branch's geography, in branch, team and
    agent order; a region or agent scope keeps only its agents."""
    t = tables
    geo = geography(t).set_index("branch_id")
    want = t["dim_agent"].sort_values(["branch_id", "team_id", "agent_id"]).reset_index(drop=True)
    everyone = roster(engine, Access())
    assert list(everyone["agent.agent"]) == list(want["agent_id"])
    assert list(everyone["agent.team"]) == list(want["team_id"])
    assert list(everyone["agent.agent|zh"]) == list(want["name"])
    teams = t["dim_team"].set_index("team_id")
    assert list(everyone["agent.team|en"]) == list(want["team_id"].map(teams["name_en"]))
    assert list(everyone["geography.region"]) == list(want["branch_id"].map(geo["region"]))
    region = str(everyone["geography.region"].iloc[-1])
    scoped = roster(engine, Access(Scope.of(region=[region])))
    assert list(scoped["agent.agent"]) == list(want.loc[want["branch_id"].map(geo["region"]) == region, "agent_id"])
    assert list(roster(engine, Access(Scope.of(agent=[want["agent_id"].iloc[5]])))["agent.agent"]) == \
        [want["agent_id"].iloc[5]]
