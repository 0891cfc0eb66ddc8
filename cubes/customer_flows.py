"""Each customer's flows over the days a period keeps: the one rule the contribution cube, the
customer view (waterfall, whale-curve rank) and the agent book share, so a date range that cuts a
month gives every page the same customer numbers. No Dash.

A month the period keeps whole is read from mart_customer_month as it is; a month it cuts
contributes the flows of its kept days (mart_customer_day: premium on its paid day, claims on their
decision day, commission, acquisition and service cost on their event day) and its monthly accrual,
the investment spread, in proportion to the month's days kept (10 of 30 days: a third of it). A
customer is in the period with any row of a whole month, a flow on a kept day or an accrual in a
cut month.

The days kept are conditions on a column `day` (DAY), tested both on dim_calendar (to know which
months are whole) and on mart_customer_day: the cube passes its `{inner_where}`, which the engine
fills with its time filters; the readers pass a Period, whose dates are bound parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cubes.sql imports the catalog, which imports the contribution cube, which imports this
    from cubes.sql import Params

# every measure of the marts, in their column order: a new mart column is added here only
MART_MEASURES = ("premium", "fyp", "renewal_premium", "single_premium", "claims_paid", "commission",
                 "acquisition_cost", "cost_to_serve", "reserve_increase", "investment_spread", "contribution",
                 "service_events", "complaints")
ACCRUALS = ("investment_spread",)  # monthly amounts in mart_customer_month only, split by days kept
DAY = "day"  # the column the kept-days conditions test, in the calendar and in mart_customer_day


@dataclass(frozen=True)
class Period:
    """The global filters' date range (ISO dates, either end open; none: all of the data)."""

    start: str | None = None
    end: str | None = None

    def condition(self, column: str, p: Params) -> str:
        parts = []
        if self.start:
            parts.append(f"{column} >= CAST({p.bind(self.start)} AS DATE)")
        if self.end:
            parts.append(f"{column} <= CAST({p.bind(self.end)} AS DATE)")
        return " AND ".join(parts) or "TRUE"

    @property
    def limited(self) -> bool:
        return bool(self.start or self.end)


def flows_sql(kept: str, by_month: bool = False, customers: str = "TRUE",
              measures: tuple[str, ...] = MART_MEASURES) -> str:
    """A SELECT of customer_id (and month, with `by_month`) and `measures` (of MART_MEASURES) summed
    over the days `kept` keeps: " AND <condition on DAY>" clauses, or "" for every day. The
    customers are the same whichever measures are asked for. `customers`, a condition on
    customer_id, limits the rows read, and `measures` the sums: a reader that needs a few
    customers, or one measure, reads only that (the rank is asked for on every customer view)."""
    keys = ["customer_id", "month"] if by_month else ["customer_id"]
    day_month = f"CAST(date_trunc('month', {DAY}) AS DATE)"

    def select(month: str, columns: list[str]) -> str:
        return ", ".join(["customer_id"] + ([f"{month} AS month"] if by_month else []) + columns)

    share = {a: f"m.{a} * k.kept / k.days" for a in ACCRUALS}
    accrued = [f"{share[a]} AS {a}" for a in ACCRUALS if a in measures]
    accrued += [f"{' + '.join(share.values())} AS contribution"] if "contribution" in measures else []
    return f"""
    -- per calendar month: its days and the days kept (kept = days: a whole month)
    WITH months_kept AS (
        SELECT {day_month} AS month, count(*) AS days, count(*) FILTER (WHERE TRUE {kept}) AS kept
        FROM (SELECT date AS {DAY} FROM dim_calendar)
        GROUP BY ALL
    )
    SELECT {", ".join(keys + [f"coalesce(sum({m}), 0) AS {m}" for m in measures])}
    FROM (
        SELECT {select("m.month", [f"m.{m}" for m in measures])}
        FROM mart_customer_month m JOIN months_kept k ON k.month = m.month AND k.kept = k.days
        WHERE {customers}
        UNION ALL BY NAME
        SELECT {select(day_month, [m for m in measures if m not in ACCRUALS])}
        FROM mart_customer_day
        WHERE {day_month} IN (SELECT month FROM months_kept WHERE 0 < kept AND kept < days)
              {kept} AND {customers}
        UNION ALL BY NAME
        SELECT {select("m.month", accrued)}
        FROM mart_customer_month m JOIN months_kept k ON k.month = m.month AND 0 < k.kept AND k.kept < k.days
        -- a cut month's other days do not make a customer
        WHERE ({" OR ".join(f"m.{a} <> 0" for a in ACCRUALS)}) AND {customers}
    )
    GROUP BY {", ".join(keys)}"""


def period_flows_sql(period: Period, p: Params, by_month: bool = False, customers: str = "TRUE",
                     measures: tuple[str, ...] = MART_MEASURES) -> str:
    """flows_sql over the days of `period`, its dates bound in `p`."""
    return flows_sql(f" AND {period.condition(DAY, p)}" if period.limited else "", by_month, customers, measures)
