"""The floor and the analyst's alternative, timed in-process on the bench warehouse.

The floor is hand-written DuckDB SQL for the numbers an interaction shows, written here from the
schema (data/schema.sql) and the definitions in the README, independent of cubes/. Each case that
the engine can answer with the page's own spec is also run through `Engine` with the result cache
off, and the two answers are compared: a floor that computed something cheaper would not be a floor.

The pandas alternative loads the needed columns into DataFrames (timed as `load`) and computes the
pivot and the whale curve with merge/pivot_table/groupby (timed as `compute`).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from scripts.bench_replay import measure, repeat

GEO_JOINS = """
JOIN fact_policy p ON p.policy_id = pr.policy_id
JOIN dim_branch b ON b.branch_id = p.branch_id
JOIN dim_city ci ON ci.city_code = b.city_code
JOIN dim_province pv ON pv.province_code = ci.province_code"""
PAID = f"FROM fact_premium pr {GEO_JOINS} WHERE pr.paid_date IS NOT NULL"
EXPLORE_LEVELS = ("CAST(pv.region_code AS VARCHAR)", "pv.province_code", "ci.city_code", "b.branch_id")
TOP_N = 10  # the Explore page's default top N


def explore_sql(depth: int) -> str:
    """Written premium by the level below a drill path of `depth` members: top N, the rest as
    __others__, and the grand total of the slice (key NULL)."""
    where = "".join(f" AND {EXPLORE_LEVELS[i]} = ${i + 1}" for i in range(depth))
    return f"""
WITH m AS (SELECT {EXPLORE_LEVELS[depth]} AS k, sum(pr.amount) AS v {PAID}{where} GROUP BY 1),
r AS (SELECT k, v, row_number() OVER (ORDER BY v DESC) AS rn FROM m)
SELECT CASE WHEN rn <= {TOP_N} THEN k ELSE '__others__' END AS k, sum(v) AS v FROM r GROUP BY 1
UNION ALL SELECT NULL, sum(v) FROM m"""


PIVOT_SQL = f"""
SELECT CAST(pv.region_code AS VARCHAR) AS region, CAST(p.channel_code AS VARCHAR) AS channel,
       CAST(pd.line_code AS VARCHAR) AS line, sum(pr.amount) AS v
FROM fact_premium pr {GEO_JOINS}
JOIN dim_product pd ON pd.product_code = p.product_code
WHERE pr.paid_date IS NOT NULL
GROUP BY GROUPING SETS ((region, channel, line), (region, channel), (region, line), (region), (line), ())"""

# Cut points as the engine documents them: after round(n * i / points) customers, best first.
WHALE_SQL = """
WITH c AS (SELECT sum(contribution) AS v FROM mart_customer_month GROUP BY customer_id),
r AS (SELECT row_number() OVER (ORDER BY v DESC) AS rn,
             sum(v) OVER (ORDER BY v DESC ROWS UNBOUNDED PRECEDING) AS cum FROM c),
t AS (SELECT count(*) AS n, sum(v) AS total FROM c)
SELECT r.rn / t.n AS customer_share, r.cum / t.total AS contribution_share
FROM r, t WHERE r.rn IN (SELECT greatest(1, round(t.n * i / 100)) FROM t, range(1, 101) g(i)) ORDER BY r.rn"""

# The overview's numbers for one period ($1..$2): premium KPIs, APE of policies issued, claims decided,
# the in-force book at the end, the monthly trend, the channel mix and premium by region and province;
# contribution and customers from the monthly customer mart. (13-month persistency is not in the floor.)
OVERVIEW_SQLS = (
    f"""SELECT sum(pr.amount) AS written, sum(pr.amount) FILTER (pr.policy_year = 1 AND p.payment_frequency <> 'single') AS fyp,
               sum(pr.amount) FILTER (pr.policy_year >= 2) AS renewal,
               sum(pr.amount) FILTER (p.payment_frequency = 'single') AS single
        {PAID} AND pr.paid_date BETWEEN $1 AND $2 {{region}}""",
    f"""SELECT date_trunc('month', pr.paid_date) AS m, sum(pr.amount) {PAID} AND pr.paid_date BETWEEN $1 AND $2 {{region}}
        GROUP BY 1 ORDER BY 1""",
    f"""SELECT p.channel_code, sum(pr.amount) {PAID} AND pr.paid_date BETWEEN $1 AND $2 {{region}} GROUP BY 1""",
    f"""SELECT pv.region_code, pv.province_code, sum(pr.amount) {PAID} AND pr.paid_date BETWEEN $1 AND $2 {{region}}
        GROUP BY 1, 2""",
    """SELECT sum(p.annual_premium + 0.1 * p.single_premium) FROM fact_policy p JOIN dim_branch b USING (branch_id)
       JOIN dim_city ci USING (city_code) JOIN dim_province pv USING (province_code)
       WHERE p.issue_date BETWEEN $1 AND $2 {region}""",
    """SELECT sum(c.amount_paid) FROM fact_claim c JOIN fact_policy p USING (policy_id) JOIN dim_branch b USING (branch_id)
       JOIN dim_city ci USING (city_code) JOIN dim_province pv USING (province_code)
       WHERE coalesce(c.decision_date, c.report_date) BETWEEN $1 AND $2 {region}""",
    """SELECT count(*) FROM fact_policy p JOIN dim_branch b USING (branch_id) JOIN dim_city ci USING (city_code)
       JOIN dim_province pv USING (province_code)
       WHERE $1 <= $2 AND p.issue_date <= $2 AND (p.status = 'in_force' OR p.status_date > $2) {region}""",
    """SELECT sum(m.contribution), count(DISTINCT m.customer_id) FROM mart_customer_month m
       JOIN dim_customer c USING (customer_id) JOIN dim_branch b ON b.branch_id = c.branch_id
       JOIN dim_city ci ON ci.city_code = b.city_code JOIN dim_province pv ON pv.province_code = ci.province_code
       WHERE m.month BETWEEN $1 AND $2 {region}""",
)
OVERVIEW_PERIODS = (("2026-01-01", "2026-10-31"), ("2025-01-01", "2025-10-31"))  # year to date and a year earlier

CUSTOMER_SQLS = (
    "SELECT * FROM dim_customer WHERE customer_id = $1",
    "SELECT * FROM fact_policy WHERE customer_id = $1 ORDER BY issue_date",
    """SELECT pr.policy_id, sum(pr.amount) FILTER (pr.paid_date IS NOT NULL), count(*) FILTER (pr.paid_date IS NULL)
       FROM fact_premium pr JOIN fact_policy p USING (policy_id) WHERE p.customer_id = $1 GROUP BY 1""",
    "SELECT c.* FROM fact_claim c JOIN fact_policy p USING (policy_id) WHERE p.customer_id = $1",
    "SELECT event_type, count(*) FROM fact_service_event WHERE customer_id = $1 GROUP BY 1",
    "SELECT month, contribution FROM mart_customer_month WHERE customer_id = $1 ORDER BY month",
)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def timed(run: Callable[[], object], repeats: int, budget_s: float) -> tuple[list[float], object]:
    """Milliseconds of up to `repeats` runs after one warm-up run (fewer once `budget_s` is spent;
    only the warm-up when it alone took half of it), and the last answer."""
    results = measure(lambda: _ms(run), repeats, budget_s, warm_up_is_sample=True)
    return [ms for ms, _answer in results], results[-1][1]


def _ms(run: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    answer = run()
    return (time.perf_counter() - started) * 1000, answer


def pick_members(con) -> dict[str, str]:
    """The largest region, its largest province and city (the explore drill path), the customer with
    the largest contribution (the single customer view)."""
    members = {}
    path = []
    for depth, name in enumerate(("region", "province", "city")):
        ranked = rows(con, explore_sql(depth) + " ORDER BY v DESC", path)
        members[name] = next(k for k, _v in ranked if k not in (None, "__others__"))
        path.append(members[name])
    members["customer"] = rows(con, "SELECT customer_id FROM mart_customer_month GROUP BY 1 "
                                    "ORDER BY sum(contribution) DESC LIMIT 1")[0][0]
    return members


def export_period(con, wanted_rows: int, as_of: str = "2026-10-31") -> tuple[str, str, int]:
    """The months, counted back from the as-of month, whose paid premiums first reach `wanted_rows`."""
    months = rows(con, f"SELECT date_trunc('month', pr.paid_date)::DATE AS m, count(*) {PAID} AND pr.paid_date <= $1 "
                       "GROUP BY 1 ORDER BY 1 DESC", [as_of])
    total = 0
    for month, n in months:
        total += n
        if total >= wanted_rows:
            return month.isoformat(), as_of, total
    return months[-1][0].isoformat(), as_of, total


@dataclass(frozen=True)
class FloorCase:
    """Hand-written SQL for an interaction's numbers; `spec` is what the page asks the engine for (when
    the engine answers it with one call), `same` checks the engine's answer against the floor's."""

    name: str
    run: Callable[[duckdb.DuckDBPyConnection], object]
    engine_run: Callable[[object], object] | None = None
    same: Callable[[object, object], bool] | None = None


def _close(a, b, rel: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-6)


def _same_keyed(floor: list[tuple], frame: pd.DataFrame, keys: list[str], measure: str) -> bool:
    """Floor rows (keys..., value; NULL key = total) equal the engine's rows (totals have NULL keys)."""
    want = {tuple(None if k is None else str(k) for k in row[:-1]): row[-1] for row in floor}
    got = {}
    for record in frame[keys + [measure]].itertuples(index=False):
        key = tuple(None if pd.isna(k) else str(k) for k in record[:-1])
        got[key] = record[-1]
    return want.keys() == got.keys() and all(_close(want[k], got[k]) for k in want)


def floor_cases(members: dict[str, str]) -> list[FloorCase]:
    from layouts.explore_state import parse as explore_state
    from layouts.pivot_state import PivotState

    drill_path = [members["region"], members["province"], members["city"]]
    cases = []
    for depth, name in enumerate(("explore_top", "explore_drill_1", "explore_drill_2", "explore_drill_3")):
        path = drill_path[:depth]
        spec = explore_state({"path": ",".join(path)} if path else {}).spec([])
        cases.append(FloorCase(
            name,
            lambda con, depth=depth, path=path: rows(con, explore_sql(depth), path),
            lambda engine, spec=spec: engine.query(spec),
            lambda floor, frame: _same_keyed(floor, frame, [_shown_level(frame)], "written_premium")))
    pivot_spec = PivotState().spec([])
    cases.append(FloorCase(
        "pivot", lambda con: rows(con, PIVOT_SQL),
        lambda engine: engine.pivot(pivot_spec),
        # the page shows engine.pivot (wide); the same numbers in long form are engine.query's
        None))
    cases.append(FloorCase("pivot_long", lambda con: rows(con, PIVOT_SQL), lambda engine: engine.query(pivot_spec),
                           lambda floor, frame: _same_keyed(floor, frame, pivot_spec["rows"] + pivot_spec["columns"],
                                                            "written_premium")))
    cases.append(FloorCase(
        "whale", lambda con: rows(con, WHALE_SQL),
        lambda engine: engine.whale_curve({"cube": "contribution", "measures": ["contribution"]}, points=100),
        lambda floor, frame: len(floor) == len(frame) and all(
            _close(f[0], e0, 1e-9) and _close(f[1], e1, 1e-4)
            for f, e0, e1 in zip(floor, frame["customer_share"], frame["contribution_share"]))))
    for name, region in (("overview", ""), ("overview_region", "AND pv.region_code = $3")):
        extra = [members["region"]] if region else []
        cases.append(FloorCase(name, lambda con, region=region, extra=extra: [
            rows(con, sql.format(region=region), [start, end, *extra])
            for start, end in OVERVIEW_PERIODS for sql in OVERVIEW_SQLS]))
    cases.append(FloorCase("customer", lambda con: [rows(con, sql, [members["customer"]]) for sql in CUSTOMER_SQLS]))
    return cases


def _shown_level(frame: pd.DataFrame) -> str:
    return next(c for c in frame.columns if "." in c and "|" not in c)


def run_floor(path: Path, members: dict[str, str], repeats: int, budget_s: float,
              only: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Each case's floor time and, where the page's spec is known, the engine's (result cache off)."""
    from flask_caching.backends import NullCache

    from cubes.cache import ResultCache
    from cubes.engine import Engine

    engine = Engine(path, cache=ResultCache(NullCache()))
    con = connect(path)
    out = {}
    for case in floor_cases(members):
        if only and case.name not in only:
            continue
        floor_ms, floor_answer = timed(lambda: case.run(con), repeats, budget_s)
        result = {"floor_ms": floor_ms}
        if case.engine_run:
            engine_ms, engine_answer = timed(lambda: case.engine_run(engine), repeats, budget_s)
            result["engine_ms"] = engine_ms
            if case.same:
                result["same_answer"] = bool(case.same(floor_answer, engine_answer))
        out[case.name] = result
    con.close()
    return out


# --- the analyst's alternative ---------------------------------------------------------------------

def pandas_pivot(con) -> tuple[float, float, float]:
    """(load ms, compute ms, grand total): premiums, policies and the geography/product tables into
    pandas, then merge and pivot_table with margins plus the region subtotals."""
    started = time.perf_counter()
    premiums = con.sql("SELECT policy_id, paid_date, amount FROM fact_premium").df()
    policies = con.sql("SELECT policy_id, branch_id, channel_code, product_code FROM fact_policy").df()
    geo = con.sql("SELECT b.branch_id, pv.region_code FROM dim_branch b JOIN dim_city USING (city_code) "
                  "JOIN dim_province pv USING (province_code)").df()
    products = con.sql("SELECT product_code, line_code FROM dim_product").df()
    loaded = time.perf_counter()
    paid = premiums[premiums["paid_date"].notna()]
    frame = paid.merge(policies, on="policy_id").merge(geo, on="branch_id").merge(products, on="product_code")
    table = frame.pivot_table(index=["region_code", "channel_code"], columns="line_code", values="amount",
                              aggfunc="sum", margins=True, observed=True)
    subtotals = frame.groupby(["region_code", "line_code"], observed=True)["amount"].sum().unstack()
    assert len(subtotals)
    done = time.perf_counter()
    return (loaded - started) * 1000, (done - loaded) * 1000, float(table.loc[("All", ""), "All"])


def pandas_whale(con) -> tuple[float, float, float]:
    """(load ms, compute ms, top-10% share)."""
    started = time.perf_counter()
    mart = con.sql("SELECT customer_id, contribution FROM mart_customer_month").df()
    loaded = time.perf_counter()
    values = mart.groupby("customer_id")["contribution"].sum().sort_values(ascending=False).to_numpy()
    n = len(values)
    cumulative = values.cumsum() / values.sum()
    points = [cumulative[max(1, round(n * i / 100)) - 1] for i in range(1, 101)]
    done = time.perf_counter()
    return (loaded - started) * 1000, (done - loaded) * 1000, float(points[9])


def run_pandas(path: Path, repeats: int, budget_s: float) -> dict[str, dict]:
    con = connect(path)
    out = {}
    for name, run in (("pivot", pandas_pivot), ("whale", pandas_whale)):
        results = repeat(lambda: run(con), repeats, budget_s, minimum=1)
        out[name] = {"load_ms": [r[0] for r in results], "compute_ms": [r[1] for r in results],
                     "check": results[-1][2]}
    con.close()
    return out
