"""Derived tables rebuilt from the facts and params.toml after every generate or load.

    param_*              the company rules of params.toml as tables, so SQL can join them
    dim_calendar         every day the facts touch, with work month by the configurable cut-off day
    dim_customer.vip_tier   by the VIP rules
    mart_customer_day    per customer and day: the flows booked on that day (all but the investment
                         spread) and their part of the contribution
    mart_customer_month  per customer and calendar month: premium flows and the contribution
                         (贡献) = premium - claims paid - commission - acquisition cost
                                  - cost to serve - increase in reserves + investment spread
                         (DOMAIN.md); its flows are the sum of mart_customer_day's days of the month
    rollup_*             the cubes' pre-aggregations over all of the above (cubes/rollups.py)

Booking conventions (when a flow lands: its day in mart_customer_day, that day's month in the month mart):
    premium, commission   day the premium was paid; commission = paid amount x rate of the
                          policy's channel and the instalment's policy year
    claims paid           day of the decision, paid claims only
    acquisition cost      day of issue, per policy by channel
    cost to serve         day of the service event, unit cost of its type and channel
    increase in reserves  + reserve ratio of the product line x premium, on the day it was paid;
                          - the policy's whole reserve when its death claim is paid (decision day):
                          the reserve booked on every premium paid up to that day (ratio x premium
                          received to date), so a death releases exactly what the policy built. The
                          death claim is the first paid claim of a policy ended by death reported on
                          or after the death (status date). A surrender or maturity pays its reserve
                          out and releases it at once: neither is booked, nor is a death without a
                          paid claim (a declined, pending or claimless one keeps its reserve).
    investment spread     a monthly accrual, so in the month mart only: month each policy year
                          starts, for policy years that start while the policy runs (in force:
                          up to the as-of date; otherwise before its status date): reserve
                          ratio of the product line x premium paid for that policy year and
                          earlier x (actual return of the year it starts - guaranteed rate),
                          computed exactly: ratio x (return - guaranteed rate) read to 10 decimals
                          times the premium in DECIMAL, summed without rounding each policy year
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from cubes.catalog import all_cubes
from cubes.rollups_build import build_rollups
from data.config import VIP_METRICS, investment_return

FACT_DATES = [
    ("fact_policy", "application_date"), ("fact_policy", "issue_date"), ("fact_policy", "status_date"),
    ("fact_premium", "due_date"), ("fact_premium", "paid_date"), ("fact_claim", "report_date"),
    ("fact_claim", "decision_date"), ("fact_underwriting", "application_date"),
    ("fact_service_event", "event_date"), ("fact_visit", "visit_date"),
]


def derive(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    first, last = _date_range(con, params)
    _write_params(con, params, first.year, last.year)
    _write_calendar(con, params, first, last)
    _write_vip_tiers(con, params)
    _write_mart(con, params)
    build_rollups(con, all_cubes())


def write_missing_marts(con, params: dict) -> bool:
    """Build the marts in a warehouse derived before mart_customer_day existed (its rollups are
    rebuilt next, and the contribution cube reads the day mart). Whether it built them."""
    [(present,)] = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mart_customer_day'").fetchall()
    if present:
        return False
    _write_mart(con, params)
    return True


def _date_range(con, params: dict) -> tuple[dt.date, dt.date]:
    """From 1 January of the earliest fact date (or the params start) to 31 December of the latest
    fact date (or the as-of date)."""
    spans = " UNION ALL ".join(f"SELECT min({col}) AS lo, max({col}) AS hi FROM {table}" for table, col in FACT_DATES)
    [(lo, hi)] = con.execute(f"SELECT min(lo), max(hi) FROM ({spans})").fetchall()
    lo = min(d for d in (lo, params["start_date"]) if d is not None)
    hi = max(d for d in (hi, params["as_of_date"]) if d is not None)
    return dt.date(lo.year, 1, 1), dt.date(hi.year, 12, 31)


def _replace(con, table: str, frame: pd.DataFrame, types: str) -> None:
    con.register("derive_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} ({types})")
        con.execute(f"INSERT INTO {table} SELECT * FROM derive_frame")
    finally:
        con.unregister("derive_frame")


def _write_params(con, params: dict, first_year: int, last_year: int) -> None:
    _replace(con, "param_unit_cost",
             pd.DataFrame([(et, ch, cost) for (et, ch), cost in params["unit_cost"].items()]),
             "event_type event_type_code, service_channel service_channel_code, unit_cost DOUBLE")
    _replace(con, "param_commission",
             pd.DataFrame([(ch, year, rate) for ch, rates in params["commission"].items()
                           for year, rate in enumerate(rates, start=1)]),
             "channel_code channel_code, policy_year SMALLINT, rate DOUBLE")
    _replace(con, "param_acquisition_cost", pd.DataFrame(list(params["acquisition_cost"].items())),
             "channel_code channel_code, cost_per_policy DOUBLE")
    # Every calendar year the facts touch gets a rate (the nearest configured year fills gaps),
    # so the spread never silently drops a year.
    _replace(con, "param_investment_return",
             pd.DataFrame([(y, investment_return(params, y)) for y in range(first_year, last_year + 1)]),
             "year INTEGER, rate DOUBLE")
    _replace(con, "param_reserve_ratio", pd.DataFrame(list(params["reserve_ratio"].items())),
             "line_code product_line_code, reserve_ratio DOUBLE")


def _write_calendar(con, params: dict, first: dt.date, last: dt.date) -> None:
    con.execute("""
        CREATE OR REPLACE TABLE dim_calendar AS
        WITH days AS (
            SELECT CAST(d AS DATE) AS date
            FROM generate_series(CAST($first AS TIMESTAMP), CAST($last AS TIMESTAMP), INTERVAL 1 DAY) t(d)
        ), work AS (
            SELECT *, CASE WHEN day(date) > $cutoff
                           THEN CAST(date_trunc('month', date) + INTERVAL 1 MONTH AS DATE)
                           ELSE CAST(date_trunc('month', date) AS DATE) END AS work_start
            FROM days
        )
        SELECT date, CAST(year(date) AS INTEGER) AS year, CAST(quarter(date) AS INTEGER) AS quarter,
               CAST(month(date) AS INTEGER) AS month, strftime(date, '%Y-%m') AS year_month,
               CAST(isodow(date) AS INTEGER) AS day_of_week,
               isodow(date) <= 5 AND NOT list_contains($holidays, date) AS is_workday,
               strftime(work_start, '%Y-%m') AS work_month, CAST(year(work_start) AS INTEGER) AS work_year
        FROM work ORDER BY date
    """, {"first": first, "last": last, "cutoff": params["work_month_cutoff_day"],
          "holidays": list(params["holidays"])})
    con.execute("ALTER TABLE dim_calendar ADD PRIMARY KEY (date)")


def _write_vip_tiers(con, params: dict) -> None:
    """Measure each customer at the as-of date, then take the first tier whose minimums all hold."""
    cases, values = [], []
    for rule in params["vip_tiers"]:
        conds = []
        for metric, minimum in rule["minimums"].items():
            assert metric in VIP_METRICS            # config.load_params rejects anything else
            conds.append(f"{metric} >= ?")
            values.append(minimum)
        cases.append(f"WHEN {' AND '.join(conds)} THEN '{rule['tier']}'")
    tier_sql = f"CASE {' '.join(cases)} ELSE 'regular' END" if cases else "'regular'"
    as_of = params["as_of_date"]
    con.execute(f"""
        UPDATE dim_customer SET vip_tier = m.tier
        FROM (
            WITH paid AS (
                SELECT p.customer_id,
                       sum(CAST(f.amount AS DECIMAL(18, 4))) AS total_premium,
                       sum(CAST(f.amount AS DECIMAL(18, 4))) FILTER (WHERE f.paid_date > CAST(? AS DATE) - INTERVAL 12 MONTH)
                           AS premium_12m
                FROM fact_premium f JOIN fact_policy p USING (policy_id)
                WHERE f.paid_date <= CAST(? AS DATE)
                GROUP BY ALL
            ), held AS (
                SELECT customer_id,
                       sum(CAST(annual_premium + 0.1 * single_premium AS DECIMAL(18, 4))) AS inforce_annual_premium,
                       count(*) AS inforce_policies
                FROM fact_policy WHERE status = 'in_force' GROUP BY ALL
            ), metrics AS (
                SELECT c.customer_id,
                       coalesce(paid.premium_12m, 0) AS premium_12m,
                       coalesce(paid.total_premium, 0) AS total_premium,
                       coalesce(held.inforce_annual_premium, 0) AS inforce_annual_premium,
                       coalesce(held.inforce_policies, 0) AS inforce_policies,
                       coalesce(year(CAST(? AS DATE)) - year(c.first_policy_date)
                                - CASE WHEN strftime(CAST(? AS DATE), '%m%d') < strftime(c.first_policy_date, '%m%d')
                                       THEN 1 ELSE 0 END, 0) AS tenure_years
                FROM dim_customer c
                LEFT JOIN paid USING (customer_id) LEFT JOIN held USING (customer_id)
            )
            SELECT customer_id, CAST({tier_sql} AS vip_tier_code) AS tier FROM metrics
        ) m
        WHERE dim_customer.customer_id = m.customer_id
    """, [as_of, as_of, as_of, as_of, *values])


MONEY_COLUMNS = ["premium", "fyp", "renewal_premium", "single_premium", "claims_paid", "commission",
                 "acquisition_cost", "cost_to_serve", "reserve_increase", "investment_spread"]
COUNT_COLUMNS = ["service_events", "complaints"]
BATCH_ROWS = 4_000_000              # flow rows aggregated per batch: bounds memory at any scale

# Each flow: (customer_id, day, some of the mart columns), already summed per customer and day (the
# investment spread per customer and month, dated on the month's first day).
# `money(x)` rounds to 0.0001 as DECIMAL: exact sums, so the mart does not depend on the order in
# which parallel threads add, and the same facts give the same mart bit for bit. Premiums carry
# cents and the rates a few decimals, so nothing but the spread has digits beyond 0.0001; the
# spread is kept to SPREAD_SCALE decimals instead (its staging column), so no policy year is rounded.
FLOWS = {
    "premium": """
        WITH last_rate AS (SELECT channel_code, max(policy_year) AS last_year FROM param_commission GROUP BY ALL)
        SELECT p.customer_id, f.paid_date AS day,
               sum(money(f.amount)) AS premium,
               sum(money(f.amount)) FILTER (WHERE f.policy_year = 1 AND p.payment_frequency <> 'single') AS fyp,
               sum(money(f.amount)) FILTER (WHERE f.policy_year >= 2 AND p.payment_frequency <> 'single')
                   AS renewal_premium,
               sum(money(f.amount)) FILTER (WHERE p.payment_frequency = 'single') AS single_premium,
               sum(money(f.amount * coalesce(c.rate, 0))) AS commission
        FROM fact_premium f
        JOIN fact_policy p USING (policy_id)
        LEFT JOIN last_rate l ON l.channel_code = p.channel_code
        LEFT JOIN param_commission c
               ON c.channel_code = p.channel_code AND c.policy_year = least(f.policy_year, l.last_year)
        WHERE f.paid_date IS NOT NULL
        GROUP BY ALL""",
    "claims": """
        SELECT p.customer_id, c.decision_date AS day,
               sum(money(c.amount_paid)) AS claims_paid
        FROM fact_claim c JOIN fact_policy p USING (policy_id)
        WHERE c.decision = 'paid'
        GROUP BY ALL""",
    "acquisition": """
        SELECT p.customer_id, p.issue_date AS day,
               sum(money(a.cost_per_policy)) AS acquisition_cost
        FROM fact_policy p JOIN param_acquisition_cost a USING (channel_code)
        GROUP BY ALL""",
    "service": """
        SELECT e.customer_id, e.event_date AS day,
               sum(money(coalesce(u.unit_cost, 0))) AS cost_to_serve, count(*) AS service_events,
               count(*) FILTER (WHERE e.event_type = 'complaint') AS complaints
        FROM fact_service_event e LEFT JOIN param_unit_cost u USING (event_type, service_channel)
        GROUP BY ALL""",
    "reserves": """
        WITH death_claims AS (
            SELECT c.policy_id, min(c.decision_date) AS day
            FROM fact_claim c JOIN fact_policy p USING (policy_id)
            WHERE p.status = 'death_claim' AND c.decision = 'paid' AND c.report_date >= p.status_date
            GROUP BY ALL
        ), booked AS (
            SELECT f.policy_id, p.customer_id, f.paid_date, money(r.reserve_ratio * f.amount) AS reserve
            FROM fact_premium f JOIN fact_policy p USING (policy_id) JOIN dim_product pr USING (product_code)
            JOIN param_reserve_ratio r USING (line_code)
            WHERE f.paid_date IS NOT NULL
        )
        SELECT customer_id, paid_date AS day, sum(reserve) AS reserve_increase FROM booked GROUP BY ALL
        UNION ALL
        SELECT b.customer_id, d.day, -sum(b.reserve) FROM death_claims d
        JOIN booked b ON b.policy_id = d.policy_id AND b.paid_date <= d.day
        GROUP BY ALL""",
    "investment_spread": """
        WITH runs AS (
            SELECT p.policy_id, p.customer_id, p.issue_date, pr.line_code, pr.guaranteed_rate,
                   CASE WHEN p.status = 'in_force' THEN CAST($as_of AS DATE) + 1 ELSE p.status_date END AS run_end
            FROM fact_policy p JOIN dim_product pr USING (product_code)
        ), policy_years AS (
            SELECT *, CAST(issue_date + to_years(CAST(policy_year - 1 AS INTEGER)) AS DATE) AS year_start
            FROM (SELECT *, unnest(generate_series(1, greatest(date_diff('year', issue_date, run_end), 0) + 1))
                                AS policy_year FROM runs)
        ), paid_by_year AS (
            SELECT policy_id, policy_year, sum(money(amount)) AS paid
            FROM fact_premium WHERE paid_date IS NOT NULL GROUP BY ALL
        ), reserves AS (
            SELECT py.*, sum(coalesce(pb.paid, 0)) OVER (PARTITION BY py.policy_id ORDER BY py.policy_year)
                       AS paid_to_date
            FROM policy_years py LEFT JOIN paid_by_year pb USING (policy_id, policy_year)
            WHERE py.year_start < py.run_end
        )
        SELECT y.customer_id, CAST(date_trunc('month', y.year_start) AS DATE) AS day,
               sum(CAST(r.reserve_ratio * (i.rate - y.guaranteed_rate) AS DECIMAL(38, 10)) * y.paid_to_date)
                   AS investment_spread
        FROM reserves y
        JOIN param_reserve_ratio r USING (line_code)
        JOIN param_investment_return i ON i.year = year(y.year_start)
        GROUP BY ALL""",
}


SPREAD_SCALE = 14   # decimals of 10-decimal factors times 4-decimal premium: the product is exact
DAY_MONEY_COLUMNS = [c for c in MONEY_COLUMNS if c != "investment_spread"]  # the spread is monthly


def _sums(columns: list[str]) -> str:
    return ", ".join(f"CAST(coalesce(sum({c}), 0) AS DOUBLE)" for c in columns)


def _contribution(spread: bool) -> str:
    """The contribution of the summed flows (DOMAIN.md); a day's lacks the monthly spread."""
    parts = ["premium", "-claims_paid", "-commission", "-acquisition_cost", "-cost_to_serve", "-reserve_increase"]
    parts += ["investment_spread"] if spread else []
    return "CAST(" + " ".join(f"{'-' if p[0] == '-' else '+'} coalesce(sum({p.lstrip('-')}), 0)"
                              for p in parts).lstrip("+ ") + " AS DOUBLE)"


def _write_mart(con, params: dict) -> None:
    """Stage every flow in a temp table, then sum them per customer and day (without the spread)
    and per customer and month (with it) in customer-id batches, so that no single aggregate has
    to hold a whole mart in memory."""
    con.execute("CREATE OR REPLACE TEMP MACRO money(x) AS CAST(x AS DECIMAL(18, 4))")
    money_types = ", ".join(f"{c} DECIMAL(38, {SPREAD_SCALE if c == 'investment_spread' else 4})"
                            for c in MONEY_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE mart_flows (customer_id VARCHAR, day DATE, {money_types}, "
                "service_events BIGINT, complaints BIGINT)")
    for sql in FLOWS.values():
        con.execute(f"INSERT INTO mart_flows BY NAME {sql}", {"as_of": params["as_of_date"]}
                    if "$as_of" in sql else None)
    counts = ", ".join(f"CAST(coalesce(sum({c}), 0) AS INTEGER)" for c in COUNT_COLUMNS)
    count_types = "service_events INTEGER NOT NULL, complaints INTEGER NOT NULL"
    con.execute(f"""CREATE OR REPLACE TABLE mart_customer_day (
        customer_id VARCHAR NOT NULL, day DATE NOT NULL,
        {", ".join(f"{c} DOUBLE NOT NULL" for c in DAY_MONEY_COLUMNS + ["contribution"])}, {count_types})""")
    con.execute(f"""CREATE OR REPLACE TABLE mart_customer_month (
        customer_id VARCHAR NOT NULL, month DATE NOT NULL,
        {", ".join(f"{c} DOUBLE NOT NULL" for c in MONEY_COLUMNS + ["contribution"])}, {count_types})""")
    for lo, hi in _customer_batches(con):
        batch = {"lo": lo, "hi": hi}
        where = "customer_id >= $lo AND ($hi IS NULL OR customer_id < $hi)"
        con.execute(f"""
            INSERT INTO mart_customer_day
            SELECT customer_id, day, {_sums(DAY_MONEY_COLUMNS)}, {_contribution(False)}, {counts}
            FROM mart_flows
            WHERE {where} AND investment_spread IS NULL
            GROUP BY customer_id, day
            ORDER BY customer_id, day""", batch)
        con.execute(f"""
            INSERT INTO mart_customer_month
            SELECT customer_id, CAST(date_trunc('month', day) AS DATE) AS month, {_sums(MONEY_COLUMNS)},
                   {_contribution(True)}, {counts}
            FROM mart_flows
            WHERE {where}
            GROUP BY customer_id, month
            ORDER BY customer_id, month""", batch)
    con.execute("DROP TABLE mart_flows")


def _customer_batches(con) -> list[tuple[str, str | None]]:
    """Customer-id ranges [lo, hi) of about BATCH_ROWS flow rows each; the last one is open."""
    [(rows,)] = con.execute("SELECT count(*) FROM mart_flows").fetchall()
    parts = max(1, -(-rows // BATCH_ROWS))
    if parts == 1:
        return [("", None)]
    [(cuts,)] = con.execute("SELECT quantile_disc(customer_id, ?) FROM mart_flows",
                            [[i / parts for i in range(1, parts)]]).fetchall()
    edges = [""] + sorted(set(cuts)) + [None]
    return list(zip(edges[:-1], edges[1:]))
