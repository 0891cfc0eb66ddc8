"""Customer contribution cube and rank analysis against pandas over mart_customer_month and
dim_customer (grain: customer, summed over the months the time filters keep), and its contribution
with the increase in reserves at company, segment and customer level (and the overview's card)
against hand-written SQL over the raw facts (tests/oracle_contribution.py)."""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from cubes.catalog import cube_by_name
from cubes.customer_contribution import WATERFALL_PARTS, waterfall
from cubes.customer_view import Period, customer_record
from cubes.scope import Access
from tests.oracle_contribution import by_customer
from tests.test_cubes_fixtures import engine, params, tables, warehouse  # noqa: F401

ALL = cube_by_name("contribution").measure_names
SUMS = {"premium": "premium", "fyp": "fyp", "renewal_premium": "renewal_premium", "claims": "claims_paid",
        "commission": "commission", "acquisition_cost": "acquisition_cost", "cost_to_serve": "cost_to_serve",
        "reserve_increase": "reserve_increase", "investment_spread": "investment_spread", "contribution": "contribution",
        "service_events": "service_events", "complaints": "complaints"}


def whole_years(start: pd.Series, end: pd.Timestamp) -> pd.Series:
    before_birthday = (start.dt.month > end.month) | ((start.dt.month == end.month) & (start.dt.day > end.day))
    return end.year - start.dt.year - before_birthday.astype(int)


def band(values: pd.Series, bands: list[dict]) -> pd.Series:
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    for b in sorted(bands, key=lambda b: b["lower"]):
        out[values >= b["lower"]] = b["code"]
    return out


@pytest.fixture(scope="module")
def customers(tables, params):  # noqa: F811
    """Per customer: attributes and mart sums for 2025."""
    mart = tables["mart_customer_month"]
    mart = mart[mart["month"].dt.year == 2025]
    sums = mart.groupby("customer_id")[list(set(SUMS.values()))].sum()
    cust = tables["dim_customer"].set_index("customer_id").loc[sums.index]
    as_of = pd.Timestamp(params["as_of_date"])
    out = sums.join(cust[["vip_tier", "sex", "birth_date", "first_policy_date"]])
    out["age_band"] = band(whole_years(out["birth_date"], as_of), params["age_bands"])
    out["tenure_band"] = band(whole_years(out["first_policy_date"], as_of), params["tenure_bands"])
    return out.reset_index()


def expected_measures(group: pd.DataFrame) -> dict:
    values = np.sort(group["contribution"].to_numpy())[::-1]
    total = values.sum()
    out = {m: group[col].sum() for m, col in SUMS.items()}
    out["customers"] = group["customer_id"].nunique()
    out["vip_customers"] = group.loc[group["vip_tier"].isin(["vip", "gold_vip"]), "customer_id"].nunique()
    out["contribution_margin"] = total / out["premium"] if out["premium"] else math.nan
    negative = values[values < 0]
    out["negative_customers"] = len(negative)
    out["negative_share"] = len(negative) / len(values)
    out["negative_contribution"] = negative.sum()
    for p in (10, 20, 30):
        out[f"top{p}_share"] = values[: math.ceil(len(values) * p / 100)].sum() / total
    return out


def test_every_measure_by_vip_tier_and_age_band_with_totals(engine, customers):  # noqa: F811
    spec = {"cube": "contribution", "rows": ["vip_tier"], "columns": ["age_band"], "measures": ALL,
            "totals": True, "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]}
    frame = engine.query(spec)
    assert set(ALL) == set(expected_measures(customers))
    for _, row in frame.iterrows():
        group = customers
        for level, depth in (("vip_tier", "_row_depth"), ("age_band", "_col_depth")):
            if row[depth]:  # this level is not summed over: keep its member (corporates have no age)
                same = group[level].isna() if pd.isna(row[level]) else group[level] == row[level]
                group = group[same]
        want = expected_measures(group)
        for m in ALL:
            assert row[m] == pytest.approx(want[m], rel=1e-9, abs=1e-6), (m, row["vip_tier"], row["age_band"])
    total = frame[(frame["_row_depth"] == 0) & (frame["_col_depth"] == 0)]
    assert total["customers"].iloc[0] == len(customers)


def test_tenure_band_members_are_the_configured_bands(engine, customers, params):  # noqa: F811
    frame = engine.query({"cube": "contribution", "rows": ["tenure_band"], "measures": ["customers"],
                          "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    counts = customers.groupby("tenure_band")["customer_id"].nunique()
    assert dict(zip(frame["tenure_band"], frame["customers"])) == counts.to_dict()
    names = {b["code"]: b["name_zh"] for b in params["tenure_bands"]}
    assert list(frame["tenure_band|zh"]) == [names[c] for c in frame["tenure_band"]]
    configured = [b["code"] for b in params["tenure_bands"]]
    assert list(frame["tenure_band"]) == [c for c in configured if c in set(frame["tenure_band"])]


def test_whale_curve_is_the_cumulative_ranked_contribution(engine, customers):  # noqa: F811
    curve = engine.whale_curve({"cube": "contribution", "measures": ["contribution"],
                                "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]}, points=20)
    values = np.sort(customers["contribution"].to_numpy())[::-1]
    n = len(values)
    assert curve["customer_share"].iloc[-1] == 1 and curve["contribution_share"].iloc[-1] == pytest.approx(1)
    for _, point in curve.iterrows():
        k = int(point["customers"])
        assert point["customer_share"] == pytest.approx(k / n)
        assert point["contribution_share"] == pytest.approx(values[:k].sum() / values.sum())
    # the whale: the curve rises above 100% before the loss makers pull it back
    assert curve["contribution_share"].max() > 1


def test_time_is_a_filter_not_a_row(engine):  # noqa: F811
    from cubes.model import SpecError

    with pytest.raises(SpecError, match="can filter but not be a row"):
        engine.query({"cube": "contribution", "rows": ["time.year"], "measures": ["contribution"]})


def test_drill_through_lists_the_customers_of_a_cell(engine, customers):  # noqa: F811
    spec = {"cube": "contribution", "rows": ["vip_tier"], "measures": ["contribution", "top20_share"],
            "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]}
    records = engine.drill_through(spec, {"vip_tier": "gold_vip"}, limit=10_000)
    gold = customers[customers["vip_tier"] == "gold_vip"]
    assert records.attrs["total_rows"] == len(records) == len(gold)
    assert set(records["record_id"]) == set(gold["customer_id"])
    assert records["contribution"].sum() == pytest.approx(gold["contribution"].sum())


def test_whole_months_between_match_the_mart(engine, tables):  # noqa: F811
    mart = tables["mart_customer_month"]
    months = mart[(mart["month"] >= "2025-02-01") & (mart["month"] <= "2025-03-01")]
    frame = engine.query({"cube": "contribution", "measures": ["premium"],
                          "filters": [{"dim": "time.month", "op": "between", "values": ["2025-02-01", "2025-03-31"]}]})
    assert frame["premium"].iloc[0] == pytest.approx(months["premium"].sum())


# --- contribution with reserves, against hand-written SQL over the raw facts (DOMAIN.md) -------------
YEAR = {"dim": "time.year", "op": "eq", "values": [2025]}
ORACLE_PARTS = {"premium": "premium", "claims": "claims", "commission": "commission",
                "acquisition_cost": "acquisition_cost", "cost_to_serve": "cost_to_serve",
                "reserve_increase": "reserve_increase", "investment_spread": "investment_spread",
                "contribution": "contribution"}


@pytest.fixture(scope="module")
def raw_book(warehouse, params):  # noqa: F811
    """Each customer's 2025 contribution from the raw facts and params, with their VIP tier and the
    region of their branch."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        book = by_customer(con, params["as_of_date"], "2025-01-01", "2025-12-31")
        where = con.execute("""
            SELECT c.customer_id, CAST(c.vip_tier AS VARCHAR) AS vip_tier, CAST(v.region_code AS VARCHAR) AS region
            FROM dim_customer c JOIN dim_branch b ON b.branch_id = c.branch_id
            JOIN dim_city ci ON ci.city_code = b.city_code JOIN dim_province v ON v.province_code = ci.province_code
            """).df().set_index("customer_id")
    return book.join(where)


def check_parts(row, group: pd.DataFrame, label) -> None:
    for measure, column in ORACLE_PARTS.items():
        assert row[measure] == pytest.approx(group[column].sum(), rel=1e-9, abs=1e-6), (measure, label)
    assert row["contribution_margin"] == pytest.approx(group["contribution"].sum() / group["premium"].sum(), rel=1e-9)
    assert row["customers"] == len(group), label


def test_contribution_subtracts_the_increase_in_reserves_at_every_level(engine, raw_book):  # noqa: F811
    measures = [*ORACLE_PARTS, "contribution_margin", "customers"]
    company = engine.query({"cube": "contribution", "measures": measures, "filters": [YEAR]}).iloc[0]
    check_parts(company, raw_book, "company")
    assert company["reserve_increase"] > 0.5 * company["premium"]   # most premium is set aside ...
    assert 0 < company["contribution"] < company["premium"] - company["reserve_increase"]   # ... and is not profit
    for level, column in (("vip_tier", "vip_tier"), ("geography.region", "region")):
        frame = engine.query({"cube": "contribution", "rows": [level], "measures": measures, "filters": [YEAR]})
        assert len(frame) == raw_book[column].nunique()
        for _, row in frame.iterrows():
            check_parts(row, raw_book[raw_book[column] == row[level]], (level, row[level]))


def test_each_customers_contribution_and_waterfall_follow_the_raw_facts(engine, raw_book):  # noqa: F811
    gold = raw_book[raw_book["vip_tier"] == "gold_vip"]
    records = engine.drill_through({"cube": "contribution", "rows": ["vip_tier"], "measures": ["contribution"],
                                    "filters": [YEAR]}, {"vip_tier": "gold_vip"}, limit=10_000)
    got = records.set_index("record_id")["contribution"].sort_index()
    np.testing.assert_allclose(got.to_numpy(), gold["contribution"].sort_index().to_numpy(), rtol=1e-9, atol=1e-6)
    assert set(got.index) == set(gold.index)
    # the customer view's waterfall: a customer whose death claim released a reserve in 2025, if any,
    # else the one with the largest reserve build-up
    who = raw_book["reserve_increase"].idxmin() if (raw_book["reserve_increase"] < 0).any() \
        else raw_book["reserve_increase"].idxmax()
    record = customer_record(engine, Access(), who, Period("2025-01-01", "2025-12-31"))
    parts = waterfall(record.months).set_index("part")["amount"]
    own = raw_book.loc[who]
    signs = dict(WATERFALL_PARTS)
    for part, sign in signs.items():
        column = "claims" if part == "claims_paid" else part
        assert parts[part] == pytest.approx(sign * own[column], abs=1e-6), part
    assert parts["contribution"] == pytest.approx(own["contribution"], abs=1e-6)


def test_overview_contribution_card_follows_the_reserves(engine, raw_book, monkeypatch):  # noqa: F811
    from callbacks import overview
    from layouts.filter_state import FilterState

    monkeypatch.setattr(overview, "engine", lambda: engine)
    card = overview._customer_kpis(overview.Slice("2025-01-01", "2025-12-31", FilterState()), "2025-01-01", "2025-12-31")
    assert card["contribution"] == pytest.approx(raw_book["contribution"].sum(), rel=1e-9)
    assert card["customers"] == len(raw_book)
