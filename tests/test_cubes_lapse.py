"""The lapse rate follows DOMAIN.md: policies lapsed or surrendered in the period / policies in
force at its start. The oracle works on the raw fact_policy table: a cell's period is its year or
quarter clipped to the span the time filters select, totals over time use their own (longer)
period, and subtotals over regions and provinces add up their parts."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cubes_fixtures import engine, in_force_at, tables, warehouse  # noqa: F401

MEASURES = ["lapses", "in_force_at_start", "lapse_rate"]
YEAR = pd.offsets.YearBegin()


@pytest.fixture(scope="module")
def pol(tables):  # noqa: F811
    t = tables
    geo = (t["dim_branch"][["branch_id", "city_code"]]
           .merge(t["dim_city"][["city_code", "province_code"]], on="city_code")
           .merge(t["dim_province"][["province_code", "region_code"]], on="province_code"))
    return t["fact_policy"].merge(geo, on="branch_id")


@pytest.fixture(scope="module")
def first_day(tables):  # noqa: F811
    return tables["dim_calendar"]["date"].min()


def expected(pol: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """Lapses and surrenders dated start..end over the policies in force at start."""
    lapsed = pol["status"].isin(["lapsed", "surrendered"]) & pol["status_date"].between(start, end)
    n, base = int(lapsed.sum()), int(in_force_at(pol, start).sum())
    return {"lapses": n, "in_force_at_start": base, "lapse_rate": n / base if base else None}


def check(row, want: dict, where) -> None:
    assert row["lapses"] == want["lapses"], where
    assert row["in_force_at_start"] == want["in_force_at_start"], where
    if want["lapse_rate"] is None:
        assert pd.isna(row["lapse_rate"]), where
    else:
        assert row["lapse_rate"] == pytest.approx(want["lapse_rate"], rel=1e-12), where


def year_span(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)


def test_by_year_and_over_the_whole_history(engine, pol, first_day):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": ["time.year"], "measures": MEASURES, "totals": True})
    years = frame[frame["_row_depth"] == 1]
    assert len(years) >= 5
    for _, row in years.iterrows():
        check(row, expected(pol, *year_span(int(row["time.year"]))), row["time.year"])
        if row["time.year"] >= 2023:  # a book in force: the rate is a share of it, not per policy-year
            assert 0 < row["lapse_rate"] < 1 and row["in_force_at_start"] > 0
    # no time filter: the period is the whole history, which starts with the calendar
    total = frame[frame["_row_depth"] == 0].iloc[0]
    check(total, expected(pol, first_day, pd.Timestamp("2100-01-01")), "total")


def test_by_quarter_of_one_year(engine, pol):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": ["time.quarter"], "measures": MEASURES, "totals": True,
                          "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    quarters = frame[frame["_row_depth"] == 1]
    assert list(quarters["time.quarter"]) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    for _, row in quarters.iterrows():
        start = pd.Period(row["time.quarter"].replace("-", ""), "Q").start_time
        check(row, expected(pol, start, start + pd.offsets.QuarterEnd()), row["time.quarter"])
    # the year's total divides by the policies in force on 1 January, not by the quarters' sum
    total = frame[frame["_row_depth"] == 0].iloc[0]
    check(total, expected(pol, *year_span(2025)), "2025")
    assert total["in_force_at_start"] < quarters["in_force_at_start"].sum()


SPANS = {  # filters -> (first day, last day) of the span they select
    "years": ([{"dim": "time.year", "op": "in", "values": [2024, 2025]}],
              (pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31"))),
    "between": ([{"dim": "time.month", "op": "between", "values": ["2024-03-15", "2025-06-30"]}],
                (pd.Timestamp("2024-03-15"), pd.Timestamp("2025-06-30"))),
}


@pytest.mark.parametrize("span", SPANS)
def test_region_by_year_with_subtotals(engine, pol, span):  # noqa: F811
    filters, (first, last) = SPANS[span]
    frame = engine.query({"cube": "policies", "rows": ["geography.region"], "columns": ["time.year"],
                          "measures": MEASURES, "totals": True, "filters": filters})
    assert len(frame) == (7 + 1) * (2 + 1)
    for _, row in frame.iterrows():
        part = pol[pol["region_code"] == row["geography.region"]] if row["_row_depth"] else pol
        start, end = first, last
        if row["_col_depth"]:  # the year, clipped to the filtered span
            y0, y1 = year_span(int(row["time.year"]))
            start, end = max(start, y0), min(end, y1)
        check(row, expected(part, start, end), (row["geography.region"], row["time.year"]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.dates(pd.Timestamp("2021-06-01").date(), pd.Timestamp("2026-06-30").date()),
       days=st.integers(0, 800), by_year=st.booleans())
def test_region_subtotals_add_up_their_provinces(engine, first, days, by_year):  # noqa: F811
    last = min(first + pd.Timedelta(days=days).to_pytimedelta(), pd.Timestamp("2026-10-31").date())
    frame = engine.query({"cube": "policies", "rows": ["geography.region", "geography.province"],
                          "columns": ["time.year"] if by_year else [], "measures": MEASURES, "totals": True,
                          "filters": [{"dim": "time.month", "op": "between",
                                       "values": [first.isoformat(), last.isoformat()]}]})
    cells = ["time.year", "_col_depth"] if by_year else ["_col_depth"]
    provinces = frame[frame["_row_depth"] == 2].groupby(["geography.region"] + cells, dropna=False)
    summed = provinces[["lapses", "in_force_at_start"]].sum()
    regions = frame[frame["_row_depth"] == 1].set_index(["geography.region"] + cells)
    assert len(regions) == len(summed) > 0
    pd.testing.assert_frame_equal(regions[["lapses", "in_force_at_start"]].sort_index(), summed.sort_index(),
                                  check_dtype=False)
    rate = summed["lapses"] / summed["in_force_at_start"].where(summed["in_force_at_start"] != 0)
    pd.testing.assert_series_equal(regions["lapse_rate"].sort_index(), rate.sort_index(), check_names=False)
