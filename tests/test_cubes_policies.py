"""Every measure of the policies cube equals an independent pandas computation over the raw
tables, for the grand total, a rows x columns crosstab with subtotals both ways, and a filtered
slice. The oracle follows DOMAIN.md's definitions directly; it shares no code with cubes/."""
from __future__ import annotations

import pandas as pd
import pytest

from cubes.catalog import cube_by_name
from data.config import commission_rate
from tests.test_cubes_fixtures import (  # noqa: F401
    add_persistency, check_every_row, engine, geography, in_force_at, month_starts, params, ratio, tables, warehouse)

REGIONS = ["east", "south", "north"]


@pytest.fixture(scope="module")
def events(tables, params):  # noqa: F811
    """One frame per kind of fact, each row with the policy's region and channel and the year of
    the date the measure counts it on."""
    t = tables
    as_of = pd.Timestamp(params["as_of_date"])
    pol = t["fact_policy"].merge(geography(t), on="branch_id").rename(columns={"channel_code": "channel"})
    pol["year"] = pol["issue_date"].dt.year
    prem = t["fact_premium"]
    paid = prem[prem["paid_date"].notna()].merge(
        pol[["policy_id", "region", "channel", "payment_frequency"]], on="policy_id")
    paid["year"] = paid["paid_date"].dt.year
    paid["commission"] = [amount * commission_rate(params, ch, int(py))
                          for amount, ch, py in zip(paid["amount"], paid["channel"], paid["policy_year"])]

    pol = add_persistency(pol, prem, params)

    claims = t["fact_claim"].merge(pol[["policy_id", "region", "channel"]], on="policy_id")
    claims["year"] = claims["decision_date"].fillna(claims["report_date"]).dt.year
    lapses = pol[pol["status"].isin(["lapsed", "surrendered"])].copy()
    lapses["year"] = lapses["status_date"].dt.year

    # exposure: the month starts each policy was in force at, 1/12 policy-year each
    rows, years = month_starts(pol["issue_date"], pol["status_date"].where(pol["status"] != "in_force", as_of))
    exposure = pol.iloc[rows][["region", "channel"]].reset_index(drop=True)
    exposure["year"] = years

    uw = t["fact_underwriting"].merge(t["dim_customer"][["customer_id", "branch_id"]], on="customer_id") \
        .merge(geography(t), on="branch_id").rename(columns={"channel_code": "channel"})
    uw["year"] = uw["decision_date"].dt.year
    return {"pol": pol, "paid": paid, "claims": claims, "lapses": lapses, "exposure": exposure, "uw": uw,
            "first_day": t["dim_calendar"]["date"].min(), "as_of": as_of}


def opening(ev: dict, keys: list[str], start) -> pd.DataFrame:
    """The policies in force at the start of each row's period: 1 January of its year when grouped
    by year (the filters used here select whole years), else the first day of the span `start`."""
    pol = ev["pol"]
    days = [pd.Timestamp(y, 1, 1) for y in sorted(pol["year"].unique())] if "year" in keys else [start]
    out = pd.concat([pol[in_force_at(pol, day)].assign(year=day.year) for day in days])
    return out[["region", "channel", "year"]]


def closing(ev: dict, keys: list[str], end) -> pd.DataFrame:
    """The policies in force at the end of each row's period (issued by then, not ended by then),
    never after the as-of date: 31 December of its year when grouped by year, else `end`."""
    pol, as_of = ev["pol"], ev["as_of"]
    days = [pd.Timestamp(y, 12, 31) for y in sorted(pol["year"].unique())] if "year" in keys else [end]
    held = [pol[(pol["issue_date"] <= min(day, as_of))
                & ((pol["status"] == "in_force") | (pol["status_date"] > min(day, as_of)))].assign(year=day.year)
            for day in days]
    return pd.concat(held)[["region", "channel", "year", "customer_id"]]


def oracle(ev: dict, keys: list[str], keep=lambda f: f, start=None, end=None) -> pd.DataFrame:
    """All policies-cube measures grouped by `keys` (a subset of region, channel, year); `start`
    and `end` are the first and last day of the filtered span (default: of the data)."""
    def agg(frame, **named):
        frame = keep(frame)
        if keys:
            return frame.groupby(keys).agg(**named)
        return pd.DataFrame({k: [getattr(frame[c], f)()] for k, (c, f) in named.items()})

    pol, paid = ev["pol"].copy(), ev["paid"].copy()
    pol["in_force"] = (pol["status"] == "in_force").astype(int)
    pol["ape"] = pol["annual_premium"] + 0.1 * pol["single_premium"]
    pol["annualised"] = pol["annual_premium"] + pol["single_premium"]
    pol["in_force_customer"] = pol["customer_id"].where(pol["in_force"] == 1)
    paid["fyp"] = paid["amount"].where((paid["policy_year"] == 1) & (paid["payment_frequency"] != "single"), 0.0)
    paid["renewal"] = paid["amount"].where(paid["policy_year"] >= 2, 0.0)
    paid["single"] = paid["amount"].where(paid["payment_frequency"] == "single", 0.0)
    claims = ev["claims"].copy()
    claims["decided"] = claims["decision"].isin(["paid", "declined"]).astype(int)
    claims["declined"] = (claims["decision"] == "declined").astype(int)
    uw = ev["uw"].copy()
    uw["declined"] = (uw["decision"] == "declined").astype(int)
    lapses, exposure = ev["lapses"].copy(), ev["exposure"].copy()
    lapses["one"], exposure["exposure"] = 1, 1 / 12
    opened = opening(ev, keys, ev["first_day"] if start is None else start).assign(one=1)
    held = closing(ev, keys, ev["as_of"] if end is None else end).assign(one=1)

    parts = [
        agg(pol, policies=("policy_id", "count"), in_force_policies=("in_force", "sum"),
            customers=("customer_id", "nunique"), in_force_customers=("in_force_customer", "nunique"),
            ape=("ape", "sum"), sum_assured=("sum_assured", "sum"), annualised_premium=("annualised", "sum"),
            **{c: (c, "sum") for c in ("p13_due", "p13_kept", "p13_due_premium", "p13_kept_premium",
                                       "p25_due", "p25_kept", "p25_due_premium", "p25_kept_premium")}),
        agg(paid, written_premium=("amount", "sum"), fyp=("fyp", "sum"), renewal_premium=("renewal", "sum"),
            single_premium=("single", "sum"), commission=("commission", "sum")),
        agg(claims, claims_paid=("amount_paid", "sum"), claims_decided=("decided", "sum"),
            claims_declined=("declined", "sum")),
        agg(lapses, lapses=("one", "sum")),
        agg(exposure, exposure_years=("exposure", "sum")),
        agg(opened, in_force_at_start=("one", "sum")),
        agg(held, in_force_at_end=("one", "sum"), customers_at_end=("customer_id", "nunique")),
        agg(uw, uw_decided=("application_id", "count"), uw_declined=("declined", "sum")),
    ]
    out = pd.concat(parts, axis=1).fillna(0)

    def rate(num, den):
        return ratio(out, num, den)

    out["avg_premium"] = rate("annualised_premium", "policies")
    out["loss_ratio"] = rate("claims_paid", "written_premium")
    out["lapse_rate"] = rate("lapses", "in_force_at_start")
    out["lapse_rate_annualised"] = rate("lapses", "exposure_years")
    out["persistency_13"] = rate("p13_kept", "p13_due")
    out["persistency_13_premium"] = rate("p13_kept_premium", "p13_due_premium")
    out["persistency_25"] = rate("p25_kept", "p25_due")
    out["persistency_25_premium"] = rate("p25_kept_premium", "p25_due_premium")
    out["policies_per_customer"] = rate("in_force_at_end", "customers_at_end")
    out["claim_decline_rate"] = rate("claims_declined", "claims_decided")
    out["uw_decline_rate"] = rate("uw_declined", "uw_decided")
    return out


ALL = cube_by_name("policies").measure_names
LEVEL = {"geography.region": "region", "channel": "channel", "time.year": "year"}


def assert_matches(frame, ev, rows, columns, keep=lambda f: f, start=None, end=None) -> int:
    assert set(ALL) <= set(oracle(ev, [], keep, start, end).columns), "the oracle must cover every measure"
    return check_every_row(frame, lambda levels: oracle(ev, [LEVEL[lv] for lv in levels], keep, start, end),
                           rows, columns, ALL)


def test_grand_total_of_every_measure(engine, events):  # noqa: F811
    frame = engine.query({"cube": "policies", "measures": ALL})
    assert len(frame) == 1
    assert assert_matches(frame, events, [], []) == 1


def test_crosstab_with_subtotals_both_ways(engine, events):  # noqa: F811
    rows, columns = ["geography.region"], ["time.year"]
    frame = engine.query({"cube": "policies", "rows": rows, "columns": columns, "measures": ALL, "totals": True})
    n_regions, n_years = frame["geography.region"].nunique(), frame["time.year"].nunique()
    assert n_regions == 7 and n_years >= 5
    # detail cells, one subtotal per region and per year, one grand total
    assert (frame["_row_depth"] == 0).sum() == n_years + 1
    assert ((frame["_row_depth"] == 1) & (frame["_col_depth"] == 0)).sum() == n_regions
    assert assert_matches(frame, events, rows, columns) == len(frame)


def test_filtered_slice_by_channel(engine, events):  # noqa: F811
    spec = {"cube": "policies", "rows": ["channel"], "measures": ALL, "totals": True,
            "filters": [{"dim": "time.year", "op": "in", "values": [2024, 2025]},
                        {"dim": "geography.region", "op": "not_in", "values": REGIONS}]}
    frame = engine.query(spec)

    def keep(f):
        return f[f["year"].isin([2024, 2025]) & ~f["region"].isin(REGIONS)]

    assert assert_matches(frame, events, ["channel"], [], keep, pd.Timestamp("2024-01-01"),
                          pd.Timestamp("2025-12-31")) == len(frame) == 7


def test_member_labels_come_from_the_dimension_tables(engine, tables):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": ["geography.region"], "measures": ["policies"]})
    names = tables["dim_region"].set_index("region_code")
    for _, row in frame.iterrows():
        assert row["geography.region|zh"] == names.loc[row["geography.region"], "name_zh"]
        assert row["geography.region|en"] == names.loc[row["geography.region"], "name_en"]
    assert frame.attrs["labels"]["policies"] == {"zh": "保单数", "en": "Policies", "format": "int"}
