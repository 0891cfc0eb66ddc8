"""What the contribution page asks the engine, one function per view. `filters` are query-spec
filters of the contribution cube (customer levels and a whole-month `between` on time.month); every
call goes through the ScopedEngine the caller hands in, so its row scope applies to each answer. The
loss-makers are one SQL statement over the cube's slice, with that scope applied to both cubes it reads."""
from __future__ import annotations

import json

import pandas as pd

from cubes import contribution_analysis as analysis
from cubes.catalog import cube_by_name
from cubes.sources import GEOGRAPHY
from cubes.spec import QuerySpec
from cubes.sql import Params, scope_conditions

CUBE = "contribution"
WHALE_POINTS = 200
TIER_MEASURES = ("customers", "premium", "contribution", "contribution_margin", "cost_to_serve", "service_events",
                 "complaints")


def spec(filters: list[dict], measures=("contribution",), rows=(), totals: bool = False) -> dict:
    return {"cube": CUBE, "rows": list(rows), "measures": list(measures), "filters": filters, "totals": totals}


def period(filters: list[dict]) -> tuple[str | None, str | None]:
    for f in filters:
        if f["op"] == "between":
            return f["values"][0], f["values"][1]
    return None, None


def whale(engine, filters: list[dict]) -> tuple[pd.DataFrame, analysis.WhaleSummary]:
    """The curve (customer share, contribution share) and its marked figures."""
    curve = engine.whale_curve(spec(filters), points=WHALE_POINTS)
    totals = engine.query(spec(filters, analysis.WHALE_MEASURES)).iloc[0]
    return curve, analysis.whale_summary(totals)


def waterfall(engine, filters: list[dict], level: str | None = None, member: str | None = None) -> pd.Series:
    """The contribution parts of the whole slice, or of one member of `level` in it."""
    where = filters + ([{"dim": level, "op": "eq", "values": [member]}] if level and member is not None else [])
    return engine.query(spec(where, analysis.WATERFALL_MEASURES)).iloc[0]


def quadrant(engine, filters: list[dict], level: str) -> analysis.Quadrant:
    return analysis.quadrant(engine.query(spec(filters, analysis.QUADRANT_MEASURES, [level], totals=True)), level)


def vip_tiers(engine, filters: list[dict]) -> pd.DataFrame:
    return engine.query(spec(filters, TIER_MEASURES, ["vip_tier"], totals=True))


# --- loss-making customers -------------------------------------------------------------------------
# The main reason a customer loses money: each drain on their premium is compared with what it would
# be at the company's rate for that premium (the drain's sum over the slice / the slice's premium);
# the drain furthest above it is the main reason, ties going to the earlier drain. Acquisition cost
# and commission are one drain, the price of winning the business: its excess is an early lapse when
# the customer let a policy lapse or surrender within its first two policy years (in the period),
# else acquisition cost not recovered (premium too small or too recent to pay back selling). The
# reserve drain is premium set aside above the company's share (savings business whose margin
# after the reserve does not cover its costs).
EARLY_LAPSE_MONTHS = 24   # lapsed or surrendered within policy years 1-2: acquisition never earned back
# (name, the drain over the contribution cube's record columns, the reason it names)
DRAINS = (("claims", "claims_paid", "'high_claims'"),
          ("service", "cost_to_serve", "'high_service_cost'"),
          ("acquisition", "commission + acquisition_cost",
           "CASE WHEN lapsed THEN 'early_lapse' ELSE 'acquisition_unrecovered' END"),
          ("reserve", "reserve_increase", "'reserve_not_covered'"),
          ("spread", "-investment_spread", "'negative_spread'"))   # a negative spread drains
LOSS_COLUMNS = ("premium", "claims_paid", "commission", "acquisition_cost", "cost_to_serve", "reserve_increase",
                "investment_spread", "contribution")
EXCESSES = ", ".join(f"x_{name}" for name, _drain, _reason in DRAINS)
# {materialized}: the slice is read twice (the company's rates, the customers): a rollup's rows are
# cheaper to scan again than to copy, a slice summed from monthly rows is not
LOSSES = f"""
    WITH customers AS {{materialized}} ({{customers}}),
    rates AS (
        SELECT {", ".join(f"CASE WHEN sum(premium) <> 0 THEN sum({drain}) / sum(premium) ELSE 0 END AS rate_{name}"
                          for name, drain, _reason in DRAINS)}
        FROM customers
    ),
    losing AS (
        SELECT c.*, c.customer_id IN (SELECT customer_id FROM ({{early}})) AS lapsed,
               {", ".join(f"({drain}) - rate_{name} * premium AS x_{name}" for name, drain, _reason in DRAINS)}
        FROM customers c CROSS JOIN rates
        WHERE c.contribution < 0
    )
    SELECT customer_id, {", ".join(LOSS_COLUMNS)},
           CASE greatest({EXCESSES}) {" ".join(f"WHEN x_{name} THEN {reason}" for name, _drain, reason in DRAINS[:-1])}
                ELSE {DRAINS[-1][2]} END AS reason,
           greatest({EXCESSES}) AS excess,
           CASE WHEN premium > 0 THEN contribution / premium END AS contribution_margin
    FROM losing"""
# the page's share of the list in one read: customers and contribution by reason, and the worst listed
LOSS_VIEW = """
    WITH losses AS ({losses})
    SELECT 'summary' AS part, reason, count(*) AS customers, sum(contribution) AS contribution
    FROM losses GROUP BY reason
    UNION ALL BY NAME
    SELECT * FROM (SELECT 'worst' AS part, * FROM losses {listed} ORDER BY contribution, customer_id LIMIT {shown})"""


def loss_makers(engine, filters: list[dict]) -> pd.DataFrame:
    """Every customer of the slice with negative contribution, worst first: customer_id,
    LOSS_COLUMNS, reason (analysis.REASONS), excess (the main drain's excess over the company
    rate) and contribution_margin."""
    sql, p = _losses_sql(engine, filters)
    return engine.engine.read(f"{sql} ORDER BY contribution, customer_id", p.values)


def loss_view(engine, filters: list[dict], reason: str | None, shown: int) -> analysis.LossView:
    """The loss-makers by reason, and the `shown` worst of those with `reason` (all when None);
    only these leave the database. Memoised per filters and access."""
    def compute():
        sql, p = _losses_sql(engine, filters)
        listed = f"WHERE reason = {p.bind(reason)}" if reason else ""
        parts = engine.engine.read(LOSS_VIEW.format(losses=sql, listed=listed, shown=p.bind(shown)), p.values)
        summary = parts[parts["part"] == "summary"]
        worst = parts[parts["part"] == "worst"]
        return analysis.LossView(
            analysis.in_reason_order(pd.DataFrame({"reason": summary["reason"].astype(str),
                                                   "customers": summary["customers"].astype(int),
                                                   "contribution": summary["contribution"].astype(float)})),
            worst[["customer_id", *LOSS_COLUMNS, "reason", "excess", "contribution_margin"]].reset_index(drop=True),
            reason)

    return engine.memoised("loss_view", (json.dumps(filters, sort_keys=True), str(reason), str(shown)), compute)


def _losses_sql(engine, filters: list[dict]) -> tuple[str, Params]:
    query = spec(filters)
    customers, p = _slice_sql(engine, query, f"record_id AS customer_id, {', '.join(LOSS_COLUMNS)}")
    from_rollup = engine.engine.rollup_for(query, engine.scope_for(CUBE)) is not None
    sql = LOSSES.format(customers=customers, early=_early_lapsers_sql(engine, *period(filters), p),
                        materialized="NOT MATERIALIZED" if from_rollup else "MATERIALIZED")
    return sql, p


def _slice_sql(engine, query: dict, select: str) -> tuple[str, Params]:
    """`select` over the contribution cube's rows that the spec's filters and the caller's scope
    keep, from the rollup that answers the spec when there is one; with its parameters."""
    q = QuerySpec.from_dict(query)
    scope = engine.scope_for(q.cube)
    sql, values = engine.engine.slice_sql(q, scope, select)
    return sql, Params(dict(values))


def _early_lapsers_sql(engine, start: str | None, end: str | None, p: Params) -> str:
    """Customers (column customer_id) with a policy lapsed or surrendered (in [start, end]
    when given) before the end of its second policy year, of the policies the caller may see."""
    policies = cube_by_name("policies")
    conditions = ["status IN ('lapsed', 'surrendered')",
                  f"status_date < issue_date + INTERVAL {EARLY_LAPSE_MONTHS} MONTH"]
    conditions += [f"status_date >= CAST({p.bind(start)} AS DATE)"] if start else []
    conditions += [f"status_date <= CAST({p.bind(end)} AS DATE)"] if end else []
    # the policies cube's row scope, over the columns its source names: the policy's own branch
    conditions += scope_conditions(policies, engine.scope_for(policies.name), p)
    return (f"WITH {GEOGRAPHY} SELECT * FROM (SELECT p.customer_id, p.branch_id, g.region_code, p.status, "
            f"p.status_date, p.issue_date FROM fact_policy p JOIN geo g ON g.branch_id = p.branch_id) "
            f"WHERE {' AND '.join(f'({c})' for c in conditions)}")


# Naming every event type keeps the service cube to its event rows: its policy-exposure rows (the
# complaint rate's denominator) have none, and without the filter they are built only to be dropped.
EVENTS_ONLY = {"dim": "event_type", "op": "in", "values": list(analysis.EVENT_TYPES)}


def unit_costs(engine) -> pd.DataFrame:
    frame = engine.query({"cube": "service", "rows": ["event_type", "service_channel"], "measures": ["events", "cost"],
                          "filters": [EVENTS_ONLY]})
    return analysis.unit_costs(frame)


def service_mix(engine, filters: list[dict], level: str) -> pd.DataFrame:
    """segment, event_type, service_channel, events of the slice (the service cube dates events as
    the mart books their cost, so the same whole-month filter selects the same events)."""
    frame = engine.query({"cube": "service", "rows": [level, "event_type", "service_channel"], "measures": ["events"],
                          "filters": filters + [EVENTS_ONLY]})
    return pd.DataFrame({"segment": frame[level].astype(str), "event_type": frame["event_type"],
                         "service_channel": frame["service_channel"], "events": frame["events"].astype(float)})


def service_policy(engine, filters: list[dict], level: str, adoption_percent: int) -> pd.DataFrame:
    q = quadrant(engine, filters, level)
    shift = analysis.channel_shift(service_mix(engine, filters, level), unit_costs(engine), adoption_percent / 100)
    return analysis.service_policy(q, shift)
