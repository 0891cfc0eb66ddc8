"""The customer-level readers count a date range as the contribution cube does: a customer's
waterfall and month rows (customer view), its rank on the whale curve and an agent's customer book,
for ranges that cut months, a whole-month range and a reversed one, against hand-written SQL over
the facts and the company rules (tests/test_periods_days.py FLOWS_SQL: premium on its paid day,
claims on their decision day, ..., a cut month's investment spread in proportion to its days kept)
and against the contribution cube itself."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from cubes.agents_book import customer_book
from cubes.customer_contribution import contribution_rank, waterfall
from cubes.customer_flows import Period
from cubes.customer_view import customer_record
from cubes.scope import Access, Scope
from tests.test_cubes_fixtures import engine, warehouse  # noqa: F401
from tests.test_periods_days import FLOWS_SQL, contribution_of

RANGES = {
    "cut both ends": ("2025-03-15", "2025-09-10"),  # 17 of March's 31 days, 10 of September's 30
    "cut end": ("2026-01-01", "2026-06-15"),  # January to May whole, half of June
    "whole months": ("2025-01-01", "2025-12-31"),
}
# the waterfall's parts (mart columns) and the oracle's names for them
PARTS = {"premium": "premium", "claims_paid": "claims", "commission": "commission",
         "acquisition_cost": "acquisition_cost", "cost_to_serve": "cost_to_serve",
         "reserve_increase": "reserve_increase", "investment_spread": "investment_spread",
         "contribution": "contribution"}
SIGNS = {"claims_paid": -1, "commission": -1, "acquisition_cost": -1, "cost_to_serve": -1, "reserve_increase": -1}
CLOSE = {"rel": 1e-9, "abs": 0.01}  # the marts hold money to 4 decimals; the oracle sums raw amounts


def read(path, query: str, params) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, params).df()


@pytest.fixture(scope="module", params=list(RANGES), ids=list(RANGES))
def period(request) -> Period:
    return Period(*RANGES[request.param])


@pytest.fixture(scope="module")
def oracle(warehouse, period):  # noqa: F811
    """Per customer in the period: every waterfall part from the facts, indexed by customer_id."""
    frame = read(warehouse, FLOWS_SQL, {"low": period.start, "high": period.end}).set_index("customer_id")
    frame["contribution"] = contribution_of(frame)
    return frame


def chosen(oracle: pd.DataFrame) -> list[str]:
    """Customers that exercise every part: a paid claim and a spread, the largest and the smallest
    contribution, a middle one."""
    ranked = oracle.sort_values("contribution")
    both = oracle[(oracle["claims"] > 0) & (oracle["investment_spread"] != 0)]
    return list(dict.fromkeys([both.index[0], ranked.index[0], ranked.index[len(ranked) // 2], ranked.index[-1]]))


def cube_contribution(engine, period: Period, customer: str | None = None) -> pd.Series:  # noqa: F811
    scope = Scope.of(customer=[customer]) if customer else None
    between = {"dim": "time.month", "op": "between", "values": [period.start, period.end]}
    return engine.query({"cube": "contribution", "measures": ["contribution", "customers"], "filters": [between]},
                        scope=scope).iloc[0]


def test_the_waterfall_of_a_period_is_the_customers_flows_on_its_days(engine, period, oracle):  # noqa: F811
    for customer in chosen(oracle):
        record = customer_record(engine, Access(), customer, period)
        parts = waterfall(record.months).set_index("part")["amount"]
        for part, name in PARTS.items():
            assert parts[part] == pytest.approx(SIGNS.get(part, 1) * oracle.loc[customer, name], **CLOSE), (customer, part)
        assert parts["contribution"] == pytest.approx(cube_contribution(engine, period, customer)["contribution"], **CLOSE)


def test_month_rows_hold_the_kept_days_of_each_month(engine, warehouse, period, oracle):  # noqa: F811
    # a customer who paid premium in a month the range cuts, on a day inside it and on one outside
    cut = read(warehouse, """
        SELECT p.customer_id FROM fact_premium f JOIN fact_policy p USING (policy_id)
        WHERE date_trunc('month', f.paid_date) IN (date_trunc('month', CAST($low AS DATE)),
                                                   date_trunc('month', CAST($high AS DATE)))
        GROUP BY 1
        HAVING bool_or(f.paid_date BETWEEN $low AND $high) AND bool_or(f.paid_date NOT BETWEEN $low AND $high)
        ORDER BY 1 LIMIT 1""", {"low": period.start, "high": period.end})["customer_id"]
    customer = cut.iloc[0] if len(cut) else chosen(oracle)[0]  # whole months: no month is cut
    months = customer_record(engine, Access(), customer, period).months.set_index("month")
    paid = read(warehouse, """
        SELECT CAST(date_trunc('month', f.paid_date) AS DATE) AS month, sum(f.amount) AS premium
        FROM fact_premium f JOIN fact_policy p USING (policy_id)
        WHERE p.customer_id = $id AND f.paid_date BETWEEN $low AND $high GROUP BY 1""",
                {"id": customer, "low": period.start, "high": period.end}).set_index("month")["premium"]
    first, last = pd.Timestamp(period.start).replace(day=1), pd.Timestamp(period.end)
    assert all(first <= m <= last for m in months.index)
    got = months["premium"][months["premium"] != 0]
    assert got.to_dict() == pytest.approx({pd.Timestamp(m): v for m, v in paid.items()}, **CLOSE)


def ranks(contributions: pd.Series, value: float) -> pytest.approx:
    """1 + the customers with more; a customer within a cent of `value` may fall either side (the
    marts round money to 4 decimals), so the rank lies between the two counts."""
    above, near = int((contributions > value + 0.01).sum()), int((abs(contributions - value) <= 0.01).sum())
    return pytest.approx(1 + above + (near - 1) / 2, abs=(near - 1) / 2)


def test_the_rank_on_the_whale_curve_is_among_the_cubes_customers(engine, warehouse, period, oracle):  # noqa: F811
    company = cube_contribution(engine, period)
    assert company["customers"] == len(oracle)
    assert company["contribution"] == pytest.approx(oracle["contribution"].sum(), **CLOSE)
    for customer in chosen(oracle):
        value = oracle.loc[customer, "contribution"]
        got = contribution_rank(engine, Access(), customer, period)
        assert got.customers == len(oracle)
        assert got.contribution == pytest.approx(value, **CLOSE)
        assert got.rank == ranks(oracle["contribution"], value)
    # the rank of a region's customer is among that region's customers only
    customer = chosen(oracle)[0]
    region = oracle.loc[customer, "region"]
    in_region = oracle[oracle["region"] == region]
    got = contribution_rank(engine, Access(Scope.of(region=[region])), customer, period)
    assert got.customers == len(in_region)
    assert got.rank == ranks(in_region["contribution"], oracle.loc[customer, "contribution"])


def test_an_agents_book_holds_each_customers_contribution_over_the_period(engine, warehouse, period, oracle):  # noqa: F811
    [agent] = read(warehouse, "SELECT agent_id FROM fact_policy WHERE agent_id IS NOT NULL "
                              "GROUP BY 1 ORDER BY count(DISTINCT customer_id) DESC, 1 LIMIT 1", {})["agent_id"]
    book = customer_book(engine, Access(), agent, period.start, period.end).set_index("customer_id")
    want = oracle["contribution"].reindex(book.index).fillna(0)
    assert (want != 0).sum() > 1  # some of the agent's customers have flows in the period
    assert book["contribution"].to_dict() == pytest.approx(want.to_dict(), **CLOSE)


def test_a_reversed_range_is_an_empty_period_without_an_error(engine, warehouse):  # noqa: F811
    reversed_ = Period("2026-06-15", "2026-01-01")
    [customer, agent] = read(warehouse, "SELECT customer_id, agent_id FROM fact_policy WHERE agent_id IS NOT NULL "
                                        "ORDER BY policy_id LIMIT 1", {}).iloc[0]
    record = customer_record(engine, Access(), customer, reversed_)
    assert record.months.empty
    assert (waterfall(record.months)["amount"] == 0).all()
    assert contribution_rank(engine, Access(), customer, reversed_) is None
    book = customer_book(engine, Access(), agent, reversed_.start, reversed_.end)
    assert len(book) > 0 and (book["contribution"] == 0).all()
