"""The in-force book (期末有效保单数) is a stock at the end of each period, capped at the as-of date:
issued by that day and not lapsed, surrendered, matured or ended by death by then. The oracle
counts it from fact_policy alone; policies per customer divides it by the customers holding
those policies then."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.test_cubes_fixtures import engine, params, tables, warehouse  # noqa: F401


def book(pol: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    return pol[(pol["issue_date"] <= day) & ((pol["status"] == "in_force") | (pol["status_date"] > day))]


@pytest.fixture(scope="module")
def as_of(params):  # noqa: F811
    return pd.Timestamp(params["as_of_date"])


def test_book_at_the_filter_end_and_a_year_earlier(engine, tables, as_of):  # noqa: F811
    pol = tables["fact_policy"]
    start = pd.Timestamp(as_of.year, 1, 1)
    frame = engine.query({"cube": "policies", "measures": ["in_force_at_end", "policies_per_customer"],
                          "filters": [{"dim": "time.month", "op": "between",
                                       "values": [str(start.date()), str(as_of.date())]}], "compare": "yoy"})
    row = frame.iloc[0]
    now, before = book(pol, as_of), book(pol, as_of - pd.DateOffset(years=1))
    assert row["in_force_at_end"] == len(now) > 0
    assert row["in_force_at_end__prior"] == len(before) > 0
    assert row["policies_per_customer"] == pytest.approx(len(now) / now["customer_id"].nunique())
    assert row["policies_per_customer__prior"] == pytest.approx(len(before) / before["customer_id"].nunique())
    # the flow measure keeps its meaning under its honest label
    assert frame.attrs["labels"]["in_force_at_end"]["zh"] == "期末有效保单数"


def test_book_by_year_and_channel_ends_each_year_capped_at_as_of(engine, tables, as_of):  # noqa: F811
    pol = tables["fact_policy"]
    frame = engine.query({"cube": "policies", "rows": ["time.year"], "columns": ["channel"],
                          "measures": ["in_force_at_end"], "totals": True})
    for _, row in frame.iterrows():
        year = row["time.year"]
        day = as_of if pd.isna(year) else min(pd.Timestamp(int(year), 12, 31), as_of)
        held = book(pol, day)
        if row["_col_depth"]:
            held = held[held["channel_code"] == row["channel"]]
        assert row["in_force_at_end"] == len(held), (year, row["channel"])


def test_previous_month_compares_with_the_end_of_the_month_before(engine, tables, as_of):  # noqa: F811
    pol = tables["fact_policy"]
    frame = engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["in_force_at_end"],
                          "filters": [{"dim": "time.year", "op": "eq", "values": [as_of.year]}], "compare": "prev"})
    assert len(frame) == as_of.month
    for _, row in frame.iterrows():
        first = pd.Timestamp(row["time.month"] + "-01")
        assert row["in_force_at_end"] == len(book(pol, min(first + pd.offsets.MonthEnd(0), as_of)))
        assert row["in_force_at_end__prior"] == len(book(pol, first - pd.Timedelta(days=1)))


def test_drill_through_lists_the_book_of_a_cell(engine, tables, as_of):  # noqa: F811
    spec = {"cube": "policies", "rows": ["time.year"], "measures": ["in_force_at_end"]}
    rows = engine.drill_through(spec, {"time.year": as_of.year - 1}, limit=5)
    assert rows.attrs["total_rows"] == len(book(tables["fact_policy"], pd.Timestamp(as_of.year - 1, 12, 31)))


def test_year_to_date_of_a_period_end_stock_is_refused(engine):  # noqa: F811
    from cubes.model import SpecError
    with pytest.raises(SpecError, match="period end"):
        engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["in_force_at_end"], "compare": "ytd"})
