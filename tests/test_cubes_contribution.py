"""Customer contribution cube and rank analysis against pandas over mart_customer_month and
dim_customer (grain: customer, summed over the months the time filters keep)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cubes.catalog import cube_by_name
from tests.test_cubes_fixtures import engine, params, tables, warehouse  # noqa: F401

ALL = cube_by_name("contribution").measure_names
SUMS = {"premium": "premium", "fyp": "fyp", "renewal_premium": "renewal_premium", "claims": "claims_paid",
        "commission": "commission", "acquisition_cost": "acquisition_cost", "cost_to_serve": "cost_to_serve",
        "investment_spread": "investment_spread", "contribution": "contribution",
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
