"""Day-level periods: a date range that cuts months gives the same numbers as hand-written SQL over
the facts and the company rules (data/schema.sql), on the policies and the contribution cube, for
the company, a segment and one customer, with rollups on (the engine must fall back to raw rows)
and off."""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from cubes.engine import Engine
from cubes.scope import Scope
from layouts.filter_state import parse, preset_of, preset_range, with_period
from tests.test_cubes_fixtures import engine, warehouse  # noqa: F401

LOW, HIGH = "2025-03-15", "2025-09-10"  # cuts March (17 of 31 days kept) and September (10 of 30)
BETWEEN = {"dim": "time.month", "op": "between", "values": [LOW, HIGH]}

# Each flow of a customer on its event day, from the facts and the param_* tables.
FLOWS_SQL = """
WITH last_rate AS (SELECT channel_code, max(policy_year) AS last_year FROM param_commission GROUP BY 1),
premium AS (
    SELECT p.customer_id, sum(f.amount) AS premium, sum(f.amount * coalesce(c.rate, 0)) AS commission
    FROM fact_premium f JOIN fact_policy p USING (policy_id)
    LEFT JOIN last_rate l ON l.channel_code = p.channel_code
    LEFT JOIN param_commission c ON c.channel_code = p.channel_code
         AND c.policy_year = least(f.policy_year, l.last_year)
    WHERE f.paid_date BETWEEN $low AND $high GROUP BY 1),
claims AS (
    SELECT p.customer_id, sum(c.amount_paid) AS claims
    FROM fact_claim c JOIN fact_policy p USING (policy_id)
    WHERE c.decision = 'paid' AND c.decision_date BETWEEN $low AND $high GROUP BY 1),
acquisition AS (
    SELECT p.customer_id, sum(a.cost_per_policy) AS acquisition_cost
    FROM fact_policy p JOIN param_acquisition_cost a USING (channel_code)
    WHERE p.issue_date BETWEEN $low AND $high GROUP BY 1),
service AS (
    SELECT e.customer_id, sum(coalesce(u.unit_cost, 0)) AS cost_to_serve
    FROM fact_service_event e LEFT JOIN param_unit_cost u USING (event_type, service_channel)
    WHERE e.event_date BETWEEN $low AND $high GROUP BY 1),
-- the line's reserve ratio of each premium on its paid day, less a policy's whole reserve on the
-- day its death claim (first paid claim reported on or after the death) is paid
booked AS (
    SELECT f.policy_id, p.customer_id, f.paid_date, f.amount * r.reserve_ratio AS reserve
    FROM fact_premium f JOIN fact_policy p USING (policy_id) JOIN dim_product pr USING (product_code)
    JOIN param_reserve_ratio r USING (line_code) WHERE f.paid_date IS NOT NULL),
released AS (
    SELECT c.policy_id, min(c.decision_date) AS day FROM fact_claim c JOIN fact_policy p USING (policy_id)
    WHERE p.status = 'death_claim' AND c.decision = 'paid' AND c.report_date >= p.status_date GROUP BY 1),
reserves AS (
    SELECT customer_id, sum(reserve) AS reserve_increase FROM (
        SELECT customer_id, reserve FROM booked WHERE paid_date BETWEEN $low AND $high
        UNION ALL
        SELECT b.customer_id, -b.reserve FROM released d JOIN booked b ON b.policy_id = d.policy_id
        AND b.paid_date <= d.day WHERE d.day BETWEEN $low AND $high)
    GROUP BY 1),
-- the investment spread accrues by month: each month's share is its days inside the range
spread AS (
    SELECT customer_id,
           sum(investment_spread * (least($high, last_day(month)) - greatest($low, month) + 1)
               / (last_day(month) - month + 1)) AS investment_spread
    FROM mart_customer_month
    WHERE month <= $high AND last_day(month) >= $low
          -- a customer is in the period with a spread in a cut month, or any record of a whole month
          AND (investment_spread <> 0 OR (month >= $low AND last_day(month) <= $high))
    GROUP BY 1),
everyone AS (SELECT customer_id FROM premium UNION SELECT customer_id FROM claims
             UNION SELECT customer_id FROM acquisition UNION SELECT customer_id FROM service
             UNION SELECT customer_id FROM reserves UNION SELECT customer_id FROM spread)
SELECT e.customer_id, c.vip_tier::VARCHAR AS vip_tier, pv.region_code::VARCHAR AS region,
       coalesce(premium, 0) AS premium, coalesce(claims, 0) AS claims, coalesce(commission, 0) AS commission,
       coalesce(acquisition_cost, 0) AS acquisition_cost, coalesce(cost_to_serve, 0) AS cost_to_serve,
       coalesce(reserve_increase, 0) AS reserve_increase, coalesce(investment_spread, 0) AS investment_spread
FROM everyone e
LEFT JOIN premium USING (customer_id) LEFT JOIN claims USING (customer_id)
LEFT JOIN acquisition USING (customer_id) LEFT JOIN service USING (customer_id)
LEFT JOIN reserves USING (customer_id) LEFT JOIN spread USING (customer_id)
JOIN dim_customer c USING (customer_id)
JOIN dim_branch b ON b.branch_id = c.branch_id
JOIN dim_city ci ON ci.city_code = b.city_code
JOIN dim_province pv ON pv.province_code = ci.province_code
"""
PARTS = ("premium", "claims", "commission", "acquisition_cost", "cost_to_serve", "reserve_increase", "investment_spread")


def contribution_of(flows: pd.DataFrame) -> pd.Series:
    """DOMAIN.md's contribution of FLOWS_SQL's parts."""
    return (flows["premium"] - flows["claims"] - flows["commission"] - flows["acquisition_cost"]
            - flows["cost_to_serve"] - flows["reserve_increase"] + flows["investment_spread"])


@pytest.fixture(scope="module")
def oracle(warehouse):  # noqa: F811
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = con.execute(FLOWS_SQL, {"low": LOW, "high": HIGH}).df()
    finally:
        con.close()
    frame["contribution"] = contribution_of(frame)
    return frame


@pytest.fixture(scope="module", params=[True, False], ids=["rollups", "raw"])
def engines(request, warehouse):  # noqa: F811
    return Engine(warehouse, rollups=request.param)


def contribution(eng: Engine, rows=(), scope=None):
    return eng.query({"cube": "contribution", "rows": list(rows), "measures": [*PARTS, "contribution", "customers"],
                      "filters": [BETWEEN]}, scope=scope)


def test_cut_month_contribution_of_the_company(engines, oracle):
    got = contribution(engines).iloc[0]
    for part in (*PARTS, "contribution"):
        assert got[part] == pytest.approx(oracle[part].sum(), rel=1e-9, abs=0.01), part
    assert got["customers"] == len(oracle)


def test_cut_month_contribution_by_segment(engines, oracle):
    got = contribution(engines, ["vip_tier"]).set_index("vip_tier")
    expected = oracle.groupby("vip_tier")[[*PARTS, "contribution"]].sum()
    assert set(got.index) == set(expected.index)
    for tier, row in expected.iterrows():
        for part in (*PARTS, "contribution"):
            assert got.loc[tier, part] == pytest.approx(row[part], rel=1e-9, abs=0.01), (tier, part)


def test_cut_month_contribution_of_one_customer(engines, oracle):
    # a customer with a paid claim and an investment spread in the range: every part is exercised
    chosen = oracle[(oracle["claims"] > 0) & (oracle["investment_spread"] != 0)].iloc[0]
    got = contribution(engines, scope=Scope.of(customer=[chosen["customer_id"]])).iloc[0]
    for part in (*PARTS, "contribution"):
        assert got[part] == pytest.approx(chosen[part], rel=1e-9, abs=0.01), part


def test_the_spread_of_a_cut_month_is_split_by_its_days(engine, warehouse):  # noqa: F811
    """Ten of September's thirty days carry a third of its spread (and none of its flows outside them)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(spread,)] = con.execute("SELECT sum(investment_spread) FROM mart_customer_month "
                                  "WHERE month = DATE '2025-09-01'").fetchall()
    finally:
        con.close()
    got = engine.query({"cube": "contribution", "measures": ["investment_spread"],
                        "filters": [{"dim": "time.month", "op": "between", "values": ["2025-09-01", "2025-09-10"]}]})
    assert got["investment_spread"].iloc[0] == pytest.approx(spread / 3, rel=1e-9)


POLICIES_SQL = """
SELECT pv.region_code::VARCHAR AS region, sum(f.amount) AS written_premium, count(DISTINCT p.customer_id) AS customers
FROM fact_premium f JOIN fact_policy p USING (policy_id)
JOIN dim_branch b ON b.branch_id = p.branch_id
JOIN dim_city ci ON ci.city_code = b.city_code
JOIN dim_province pv ON pv.province_code = ci.province_code
WHERE f.paid_date BETWEEN $low AND $high {where}
GROUP BY ROLLUP (1)
"""


def test_cut_month_policies_by_region_and_company(engines, warehouse):  # noqa: F811
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = con.execute(POLICIES_SQL.format(where=""), {"low": LOW, "high": HIGH}).df()
    finally:
        con.close()
    got = engines.query({"cube": "policies", "rows": ["geography.region"], "measures": ["written_premium"],
                         "filters": [BETWEEN], "totals": True})
    total = got[got["_row_depth"] == 0]["written_premium"].iloc[0]
    assert total == pytest.approx(expected[expected["region"].isna()]["written_premium"].iloc[0], rel=1e-9)
    by_region = got[got["_row_depth"] == 1].set_index("geography.region")["written_premium"]
    for _, row in expected.dropna(subset=["region"]).iterrows():
        assert by_region[row["region"]] == pytest.approx(row["written_premium"], rel=1e-9)


def test_cut_month_policies_of_one_customer(engines, warehouse):  # noqa: F811
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(customer, amount)] = con.execute(
            "SELECT p.customer_id, sum(f.amount) FROM fact_premium f JOIN fact_policy p USING (policy_id) "
            "WHERE f.paid_date BETWEEN $low AND $high GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            {"low": LOW, "high": HIGH}).fetchall()
    finally:
        con.close()
    got = engines.query({"cube": "policies", "measures": ["written_premium"], "filters": [BETWEEN]},
                        scope=Scope.of(customer=[customer]))
    assert got["written_premium"].iloc[0] == pytest.approx(amount, rel=1e-9)


# --- the period every page shows: presets, parsing, clipping -------------------------------------
AS_OF, FIRST = dt.date(2026, 10, 31), dt.date(2021, 1, 1)


@pytest.mark.parametrize("as_of, key, expected", [
    (AS_OF, "this_month", ("2026-10-01", "2026-10-31")),
    (AS_OF, "last_month", ("2026-09-01", "2026-09-30")),
    (AS_OF, "this_quarter", ("2026-10-01", "2026-10-31")),
    (AS_OF, "ytd", ("2026-01-01", "2026-10-31")),
    (AS_OF, "last_year", ("2025-01-01", "2025-12-31")),
    (AS_OF, "last_12_months", ("2025-11-01", "2026-10-31")),
    (dt.date(2024, 3, 15), "last_month", ("2024-02-01", "2024-02-29")),
    (dt.date(2024, 3, 15), "this_quarter", ("2024-01-01", "2024-03-15")),
    (dt.date(2024, 1, 10), "last_month", ("2023-12-01", "2023-12-31")),
    (dt.date(2024, 1, 10), "last_12_months", ("2023-02-01", "2024-01-10")),
])
def test_presets_are_relative_to_the_as_of_date(as_of, key, expected):
    assert preset_range(key, as_of) == expected


def period(query: dict):
    state = with_period(parse(query), AS_OF, FIRST)
    return state.start, state.end, [key for key, _values in state.notes], state.dated


def test_no_dates_give_the_year_to_date_and_a_chosen_cut_range_is_kept():
    assert period({}) == ("2026-01-01", "2026-10-31", [], False)
    assert period({"from": "2025-03-15", "to": "2025-09-10"}) == ("2025-03-15", "2025-09-10", [], True)
    assert preset_of("2026-01-01", "2026-10-31", AS_OF) == "ytd"
    assert preset_of("2025-03-15", "2025-09-10", AS_OF) is None


def test_open_ended_ranges_run_to_the_as_of_date_or_from_the_first_of_the_year():
    assert period({"from": "2026-05-02"})[:2] == ("2026-05-02", "2026-10-31")
    assert period({"to": "2025-06-30"})[:2] == ("2025-01-01", "2025-06-30")


@pytest.mark.parametrize("query, notes", [
    ({"from": "2025-09-10", "to": "2025-03-15"}, ["period.reversed", "period.default"]),
    ({"from": "2030-01-01", "to": "2030-06-30"}, ["period.outside", "period.default"]),
    ({"from": "2027-01-01"}, ["period.outside", "period.default"]),
    ({"from": "2010-01-01", "to": "2012-12-31"}, ["period.outside", "period.default"]),
])
def test_reversed_and_outside_ranges_fall_back_to_the_default_and_say_why(query, notes):
    assert period(query) == ("2026-01-01", "2026-10-31", notes, True)


def test_a_range_partly_outside_the_data_is_clipped_and_says_so():
    assert period({"from": "2019-06-01", "to": "2027-03-31"}) == (
        "2021-01-01", "2026-10-31", ["period.clipped_start", "period.clipped_end"], True)
    state = with_period(parse({"from": "2026-06-01", "to": "2026-12-31"}), AS_OF, FIRST)
    assert dict(state.notes)["period.clipped_end"] == (("end", "2026-12-31"), ("last", "2026-10-31"))


def test_malformed_dates_are_named_and_the_default_is_shown():
    state = with_period(parse({"from": "2025-13-45", "to": "tomorrow"}), AS_OF, FIRST)
    assert state.invalid == (("from", "2025-13-45"), ("to", "tomorrow"))
    assert (state.start, state.end, state.dated) == ("2026-01-01", "2026-10-31", False)
