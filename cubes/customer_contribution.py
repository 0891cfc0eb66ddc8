"""One customer's contribution (贡献): its waterfall and where it ranks on the whale curve of every
customer the caller may see. No Dash.

The ranking population is the contribution cube's: the customers in the period, their contribution
summed over the days it keeps (cubes/customer_flows.py: a cut month's kept days, its investment
spread in proportion), so the rank agrees with the contribution page for any date range. Rank 1 is
the largest contribution; tied customers share the better rank (1 + customers with more).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cubes.customer_flows import Period, period_flows_sql
from cubes.customer_view import valid_id, visible_ids_sql
from cubes.engine import Engine
from cubes.scope import Access
from cubes.sql import Params

# (mart column, sign): premium less claims, commission, acquisition cost, cost to serve and the
# increase in reserves, plus the investment spread, is the contribution (DOMAIN.md)
WATERFALL_PARTS = (("premium", 1), ("claims_paid", -1), ("commission", -1), ("acquisition_cost", -1),
                   ("cost_to_serve", -1), ("reserve_increase", -1), ("investment_spread", 1))
CURVE_POINTS = 100


def waterfall(months: pd.DataFrame) -> pd.DataFrame:
    """part, signed amount (a cost is negative) and the contribution as the last row, over `months`
    (the customer's month rows over the period's days, CustomerRecord.months)."""
    parts = [(name, sign * float(months[name].sum())) for name, sign in WATERFALL_PARTS]
    return pd.DataFrame(parts + [("contribution", float(months["contribution"].sum()))], columns=["part", "amount"])


@dataclass(frozen=True)
class Rank:
    contribution: float
    rank: int  # 1 = largest contribution
    customers: int  # in the ranking population
    cumulative_share: float  # share of the population's contribution from customers ranked up to here
    curve: pd.DataFrame  # customer_share, contribution_share: the whale curve, about CURVE_POINTS points

    @property
    def top_share(self) -> float:
        """The customer is within the best `top_share` of customers (rank / customers)."""
        return self.rank / self.customers


RANKED = """
    WITH per AS (
        SELECT customer_id, contribution FROM ({flows}) WHERE customer_id IN ({visible})
    ), ranked AS (
        SELECT customer_id, contribution,
               rank() OVER (ORDER BY contribution DESC) AS rank,
               row_number() OVER (ORDER BY contribution DESC, customer_id) AS position,
               sum(contribution) OVER (ORDER BY contribution DESC, customer_id ROWS UNBOUNDED PRECEDING) AS cumulative,
               count(*) OVER () AS customers, sum(contribution) OVER () AS total
        FROM per
    )
    SELECT customer_id = {id} AS is_customer, contribution, rank, position, customers,
           cumulative / NULLIF(total, 0) AS cumulative_share
    FROM ranked
    -- the customer's own row, and the last row of every 1/{points} of the population for the curve
    WHERE customer_id = {id} OR position * {points} // customers <> (position - 1) * {points} // customers
    ORDER BY position"""


def contribution_rank(engine: Engine, access: Access, customer_id: str | None, period: Period = Period()) -> Rank | None:
    """The customer's rank among the visible customers with contribution in the period, or None when
    the customer is not visible or has no contribution in the period."""
    customer_id = valid_id(customer_id)
    if customer_id is None:
        return None
    p = Params()
    # visibility is tested once on the sums (most callers see most customers), not on every mart row
    flows = period_flows_sql(period, p, measures=("contribution",))
    sql = RANKED.format(flows=flows, visible=visible_ids_sql(access, p), id=p.bind(customer_id),
                        points=p.bind(CURVE_POINTS))
    rows = engine.read(sql, p.values)
    own = rows[rows["is_customer"]]
    if own.empty:
        return None
    row = own.iloc[0]
    n = int(row["customers"])
    curve = pd.DataFrame({"customer_share": rows["position"] / n, "contribution_share": rows["cumulative_share"]})
    return Rank(float(row["contribution"]), int(row["rank"]), n, float(row["cumulative_share"]),
                curve.drop_duplicates().reset_index(drop=True))
