"""derive(): calendar work months, VIP rules and the customer-month contribution mart, each checked
against an independent pandas computation from the raw facts and the params."""
from __future__ import annotations

import copy
import datetime as dt
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.config import DEFAULT_PARAMS, ParamsError, load_params
from data.derive import derive
from data.generate import generate
from data.warehouse import create_schema

PARAMS = load_params()


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("derive") / "small.duckdb", scale=0.03, seed=5, progress=False)


@pytest.fixture
def con(small_warehouse, tmp_path):
    """A private writable copy, so tests may re-derive with other rules."""
    path = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, path)
    connection = duckdb.connect(str(path))
    yield connection
    connection.close()


def df(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def with_params(**changes) -> dict:
    params = copy.deepcopy(PARAMS)
    params.update(changes)
    return params


# --- calendar ---------------------------------------------------------------------------------


def calendar_row(con, day: str) -> dict:
    return df(con, "SELECT * FROM dim_calendar WHERE date = ?", [dt.date.fromisoformat(day)]).iloc[0].to_dict()


def test_work_month_turns_after_the_cutoff_day(con):
    assert PARAMS["work_month_cutoff_day"] == 25
    assert calendar_row(con, "2025-03-25")["work_month"] == "2025-03"
    assert calendar_row(con, "2025-03-26")["work_month"] == "2025-04"
    dec26 = calendar_row(con, "2025-12-26")
    assert (dec26["work_month"], dec26["work_year"], dec26["year"]) == ("2026-01", 2026, 2025)
    assert calendar_row(con, "2025-12-25")["work_year"] == 2025


def test_cutoff_and_holidays_are_configuration(con):
    derive(con, with_params(work_month_cutoff_day=10, holidays=[dt.date(2025, 10, 1)]))
    assert calendar_row(con, "2025-03-10")["work_month"] == "2025-03"
    assert calendar_row(con, "2025-03-11")["work_month"] == "2025-04"
    assert not calendar_row(con, "2025-10-01")["is_workday"]           # a Wednesday, but a holiday
    assert calendar_row(con, "2025-10-02")["is_workday"]
    derive(con, with_params(work_month_cutoff_day=31))
    differ = df(con, "SELECT count(*) AS n FROM dim_calendar WHERE work_month <> year_month").n[0]
    assert differ == 0


def test_calendar_covers_every_fact_date(con):
    cal = df(con, "SELECT min(date) AS lo, max(date) AS hi, count(*) AS n, count(DISTINCT date) AS d FROM dim_calendar")
    facts = df(con, "SELECT min(application_date) AS lo, max(status_date) AS hi FROM fact_policy")
    assert cal.lo[0] <= facts.lo[0] and cal.hi[0] >= max(facts.hi[0], pd.Timestamp(PARAMS["as_of_date"]))
    assert cal.n[0] == cal.d[0] == (cal.hi[0] - cal.lo[0]).days + 1
    weekend = calendar_row(con, "2026-10-31")                         # a Saturday
    assert weekend["day_of_week"] == 6 and not weekend["is_workday"]


# --- VIP --------------------------------------------------------------------------------------


def expected_vip(con, params: dict) -> pd.Series:
    as_of = pd.Timestamp(params["as_of_date"])
    cust = df(con, "SELECT customer_id, first_policy_date FROM dim_customer").set_index("customer_id")
    pol = df(con, "SELECT policy_id, customer_id, status::VARCHAR AS status, annual_premium, single_premium "
                  "FROM fact_policy")
    prem = df(con, "SELECT policy_id, paid_date, amount FROM fact_premium WHERE paid_date IS NOT NULL")
    prem = prem.merge(pol[["policy_id", "customer_id"]], on="policy_id")
    prem = prem[pd.to_datetime(prem.paid_date) <= as_of]
    recent = prem[pd.to_datetime(prem.paid_date) > as_of - pd.DateOffset(months=12)]
    live = pol[pol.status == "in_force"]
    first = pd.to_datetime(cust.first_policy_date)
    before_anniversary = (first.dt.month > as_of.month) | ((first.dt.month == as_of.month) & (first.dt.day > as_of.day))
    m = pd.DataFrame({
        "total_premium": prem.groupby("customer_id").amount.sum(),
        "premium_12m": recent.groupby("customer_id").amount.sum(),
        "inforce_annual_premium": (live.annual_premium + 0.1 * live.single_premium).groupby(live.customer_id).sum(),
        "inforce_policies": live.groupby("customer_id").size(),
        "tenure_years": as_of.year - first.dt.year - before_anniversary.astype(int),
    }, index=cust.index).fillna(0)
    tier = pd.Series("regular", index=m.index)
    decided = pd.Series(False, index=m.index)
    for rule in params["vip_tiers"]:
        hit = ~decided
        for metric, minimum in rule["minimums"].items():
            hit &= m[metric] >= minimum
        tier[hit] = rule["tier"]
        decided |= hit
    return tier


def actual_vip(con) -> pd.Series:
    return df(con, "SELECT customer_id, vip_tier::VARCHAR AS t FROM dim_customer").set_index("customer_id").t


def test_vip_tiers_follow_the_configured_rules(con):
    expected = expected_vip(con, PARAMS)
    assert set(expected) == {"regular", "vip", "gold_vip"}
    pd.testing.assert_series_equal(actual_vip(con).sort_index(), expected.sort_index(), check_names=False)


def test_other_vip_rules_give_other_tiers(con):
    rules = [{"tier": "gold_vip", "minimums": {"premium_12m": 20000.0, "tenure_years": 2}},
             {"tier": "vip", "minimums": {"inforce_policies": 2}}]
    params = with_params(vip_tiers=rules)
    before = actual_vip(con)
    derive(con, params)
    after = actual_vip(con)
    assert (after != before).any()
    pd.testing.assert_series_equal(after.sort_index(), expected_vip(con, params).sort_index(), check_names=False)


# --- mart_customer_month ----------------------------------------------------------------------


def nearest_return(params: dict, year: int) -> float:
    years = sorted(params["investment_return"])
    best = min(years, key=lambda y: (abs(y - year), y))
    return params["investment_return"][best]


def expected_mart(con, params: dict, customers: list[str]) -> pd.DataFrame:
    """Per customer and month, from the raw facts of the given customers and the params."""
    as_of = pd.Timestamp(params["as_of_date"])
    pol = df(con, """SELECT p.*, pr.line_code::VARCHAR AS line, pr.guaranteed_rate FROM fact_policy p
                     JOIN dim_product pr USING (product_code) WHERE customer_id IN (SELECT unnest(?))""", [customers])
    pol["channel"] = pol.channel_code.astype(str)
    pol["freq"] = pol.payment_frequency.astype(str)
    ids = pol.policy_id.tolist()
    prem = df(con, "SELECT * FROM fact_premium WHERE policy_id IN (SELECT unnest(?)) AND paid_date IS NOT NULL", [ids])
    prem = prem.merge(pol[["policy_id", "customer_id", "channel", "freq"]], on="policy_id")
    claims = df(con, "SELECT * FROM fact_claim WHERE policy_id IN (SELECT unnest(?)) AND decision = 'paid'", [ids])
    claims = claims.merge(pol[["policy_id", "customer_id"]], on="policy_id")
    events = df(con, "SELECT customer_id, event_date, event_type::VARCHAR AS et, service_channel::VARCHAR AS ch "
                     "FROM fact_service_event WHERE customer_id IN (SELECT unnest(?))", [customers])

    def month(s):
        return pd.to_datetime(s).dt.to_period("M").dt.to_timestamp()

    rows = []
    single = prem.freq == "single"
    rate = [params["commission"][ch][min(py, len(params["commission"][ch])) - 1]
            for ch, py in zip(prem.channel, prem.policy_year)]
    rows.append(pd.DataFrame({"customer_id": prem.customer_id, "month": month(prem.paid_date),
                              "premium": prem.amount, "fyp": prem.amount.where(~single & (prem.policy_year == 1), 0),
                              "renewal_premium": prem.amount.where(~single & (prem.policy_year >= 2), 0),
                              "single_premium": prem.amount.where(single, 0), "commission": prem.amount * rate}))
    rows.append(pd.DataFrame({"customer_id": claims.customer_id, "month": month(claims.decision_date),
                              "claims_paid": claims.amount_paid}))
    # reserves: the line's ratio of each premium on its paid day, all of it released when the death
    # claim (the first paid claim reported on or after the death) is paid
    ratio = prem.policy_id.map(pol.set_index("policy_id").line).map(params["reserve_ratio"])
    rows.append(pd.DataFrame({"customer_id": prem.customer_id, "month": month(prem.paid_date),
                              "reserve_increase": ratio * prem.amount}))
    dead = pol[pol.status.astype(str) == "death_claim"][["policy_id", "status_date"]]
    death = claims.merge(dead, on="policy_id")
    death = death[pd.to_datetime(death.report_date) >= pd.to_datetime(death.status_date)]
    death = death.groupby(["policy_id", "customer_id"]).decision_date.min().reset_index()
    premium_with_ratio = prem.assign(reserve=ratio * prem.amount)
    for d in death.itertuples():
        mine = premium_with_ratio[premium_with_ratio.policy_id == d.policy_id]
        released = mine[pd.to_datetime(mine.paid_date) <= pd.Timestamp(d.decision_date)].reserve.sum()
        rows.append(pd.DataFrame({"customer_id": [d.customer_id], "month": month(pd.Series([d.decision_date])),
                                  "reserve_increase": [-released]}))
    rows.append(pd.DataFrame({"customer_id": pol.customer_id, "month": month(pol.issue_date),
                              "acquisition_cost": [params["acquisition_cost"][ch] for ch in pol.channel]}))
    rows.append(pd.DataFrame({"customer_id": events.customer_id, "month": month(events.event_date),
                              "cost_to_serve": [params["unit_cost"][(e, c)] for e, c in zip(events.et, events.ch)],
                              "service_events": 1, "complaints": (events.et == "complaint").astype(int)}))
    spread = []
    paid_by_year = prem.groupby(["policy_id", "policy_year"]).amount.sum()
    for p in pol.itertuples():
        run_end = as_of + pd.Timedelta(days=1) if p.status == "in_force" else pd.Timestamp(p.status_date)
        paid = paid_by_year.get(p.policy_id, pd.Series(dtype=float))
        year = 1
        while (start := pd.Timestamp(p.issue_date) + pd.DateOffset(years=year - 1)) < run_end:
            reserve = params["reserve_ratio"][p.line] * paid[paid.index <= year].sum()
            spread.append((p.customer_id, start.to_period("M").to_timestamp(),
                           reserve * (nearest_return(params, start.year) - p.guaranteed_rate)))
            year += 1
    rows.append(pd.DataFrame(spread, columns=["customer_id", "month", "investment_spread"]))
    out = pd.concat(rows).fillna(0).groupby(["customer_id", "month"]).sum().reset_index()
    out["contribution"] = (out.premium - out.claims_paid - out.commission - out.acquisition_cost
                           - out.cost_to_serve - out.reserve_increase + out.investment_spread)
    return out


COLUMNS = ["premium", "fyp", "renewal_premium", "single_premium", "claims_paid", "commission", "acquisition_cost",
           "cost_to_serve", "reserve_increase", "investment_spread", "contribution", "service_events", "complaints"]


def sample_customers(con) -> list[str]:
    """Random customers plus ones that exercise every flow: claims, deaths (paid or not), lapses, single premium,
    renewals beyond the last commission year, groups."""
    picks = df(con, """
        SELECT customer_id FROM dim_customer USING SAMPLE 120 ROWS (reservoir, 3)
        UNION SELECT * FROM (SELECT DISTINCT p.customer_id FROM fact_claim c JOIN fact_policy p USING (policy_id)
                             WHERE c.decision = 'paid' ORDER BY 1 LIMIT 25)
        UNION SELECT * FROM (SELECT customer_id FROM fact_policy WHERE status IN ('death_claim', 'lapsed', 'surrendered')
                             ORDER BY policy_id LIMIT 25)
        UNION SELECT * FROM (SELECT customer_id FROM fact_policy WHERE payment_frequency = 'single' ORDER BY 1 LIMIT 10)
        UNION SELECT * FROM (SELECT p.customer_id FROM fact_claim c JOIN fact_policy p USING (policy_id)
                             WHERE p.status = 'death_claim' AND c.decision = 'paid' ORDER BY 1 LIMIT 10)
        UNION SELECT * FROM (SELECT p.customer_id FROM fact_premium f JOIN fact_policy p USING (policy_id)
                             WHERE f.policy_year >= 5 ORDER BY 1 LIMIT 10)
        UNION SELECT * FROM (SELECT customer_id FROM fact_policy WHERE channel_code = 'group' ORDER BY 1 LIMIT 10)
    """)
    return picks.customer_id.tolist()


def compare_mart(con, params: dict) -> None:
    customers = sample_customers(con)
    expected = expected_mart(con, params, customers)
    actual = df(con, "SELECT * FROM mart_customer_month WHERE customer_id IN (SELECT unnest(?))", [customers])
    actual["month"] = pd.to_datetime(actual.month)
    merged = expected.merge(actual, on=["customer_id", "month"], how="outer", suffixes=("_x", ""), indicator=True)
    assert (merged._merge == "both").all(), merged[merged._merge != "both"].head()
    for col in COLUMNS:
        np.testing.assert_allclose(merged[col].astype(float), merged[col + "_x"].astype(float),
                                   rtol=1e-9, atol=1e-6, err_msg=col)   # no flow is rounded
    assert (merged.investment_spread != 0).any() and (merged.claims_paid > 0).any()
    assert (merged.reserve_increase < 0).any()        # a death claim released a reserve


def test_mart_matches_independent_computation(con):
    compare_mart(con, PARAMS)


def test_mart_follows_changed_cost_rules(con):
    params = with_params(
        commission={ch: [0.5] for ch in PARAMS["commission"]},
        acquisition_cost={ch: 10.0 for ch in PARAMS["acquisition_cost"]},
        investment_return={2020: 0.05},
        reserve_ratio={line: 1.0 for line in PARAMS["reserve_ratio"]},
    )
    derive(con, params)
    compare_mart(con, params)


def test_derive_rebuilds_from_facts_alone(small_warehouse, tmp_path):
    """The loader's path: a fresh warehouse with only dims and facts gets the same derived tables."""
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    create_schema(fresh)
    fresh.execute(f"ATTACH '{small_warehouse}' AS src (READ_ONLY)")
    for (table,) in fresh.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
                                  "AND (table_name LIKE 'dim_%' OR table_name LIKE 'fact_%') "
                                  "AND table_name <> 'dim_calendar'").fetchall():
        fresh.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    fresh.execute("UPDATE dim_customer SET vip_tier = NULL")
    derive(fresh, PARAMS)
    for table in ("mart_customer_month", "dim_calendar", "param_commission", "param_investment_return"):
        diff = fresh.execute(f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM src.{table} "
                             f"UNION ALL SELECT * FROM src.{table} EXCEPT ALL SELECT * FROM {table})").fetchall()
        assert diff == [(0,)], table
    tiers = fresh.execute("SELECT count(*) FROM dim_customer a JOIN src.dim_customer b USING (customer_id) "
                          "WHERE a.vip_tier IS DISTINCT FROM b.vip_tier").fetchall()
    assert tiers == [(0,)]
    fresh.close()


def test_mart_is_the_same_when_summed_in_batches(con, monkeypatch):
    import data.derive as derive_module

    whole = df(con, "SELECT * FROM mart_customer_month")
    monkeypatch.setattr(derive_module, "BATCH_ROWS", 500)
    derive(con, PARAMS)
    batched = df(con, "SELECT * FROM mart_customer_month")
    assert len(whole) > 5 * 500
    pd.testing.assert_frame_equal(batched, whole)


# --- params -----------------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, message", [
    ("work_month_cutoff_day = 25", "work_month_cutoff_day = 40", "work_month_cutoff_day"),
    ('as_of_date = "2026-10-31"', 'as_of_date = "someday"', "as_of_date"),
    ("agency = 600.0", "", "acquisition_cost.agency"),
    ("total_premium = 100000.0", "lifetime_value = 1.0", "unknown metric"),
    ("grace_days = 60", 'grace_days = "sixty"', "grace_days"),
])
def test_bad_params_are_named(tmp_path, old, new, message):
    text = DEFAULT_PARAMS.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "params.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ParamsError, match=message):
        load_params(bad)


def test_params_file_from_environment(tmp_path, monkeypatch):
    text = DEFAULT_PARAMS.read_text(encoding="utf-8").replace("grace_days = 60", "grace_days = 30")
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("POLICYCUBE_PARAMS", str(tmp_path / "p.toml"))
    assert load_params()["grace_days"] == 30
