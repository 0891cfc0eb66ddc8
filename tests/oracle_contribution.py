"""Contribution (DOMAIN.md) straight from the raw facts and the params, written by hand for the tests:
premium - claims - commission - acquisition cost - cost to serve - increase in reserves + investment
spread, each flow on its own day inside [lo, hi]. The increase in reserves is the line's reserve ratio
x each premium paid, less the reserve of a policy ended by death (ratio x premium received up to the
day) on the day its death claim (first paid claim reported on or after the death) is paid."""
from __future__ import annotations

import pandas as pd

# per customer and product line: every flow that belongs to a policy
POLICY_FLOWS = """
    WITH pol AS (
        SELECT p.policy_id, p.customer_id, p.channel_code, p.issue_date, p.status, p.status_date,
               pr.line_code, pr.guaranteed_rate, r.reserve_ratio,
               CASE WHEN p.status = 'in_force' THEN CAST($as_of AS DATE) + 1 ELSE p.status_date END AS run_end
        FROM fact_policy p JOIN dim_product pr USING (product_code) JOIN param_reserve_ratio r USING (line_code)
    ), last_year AS (
        SELECT channel_code, max(policy_year) AS last FROM param_commission GROUP BY channel_code
    ), paid AS (
        SELECT f.policy_id, f.policy_year, f.paid_date, f.amount, f.amount * pol.reserve_ratio AS reserve,
               f.amount * c.rate AS commission
        FROM fact_premium f JOIN pol USING (policy_id) JOIN last_year l USING (channel_code)
        JOIN param_commission c ON c.channel_code = pol.channel_code AND c.policy_year = least(f.policy_year, l.last)
        WHERE f.paid_date IS NOT NULL
    ), deaths AS (
        SELECT c.policy_id, min(c.decision_date) AS paid_on
        FROM fact_claim c JOIN pol USING (policy_id)
        WHERE pol.status = 'death_claim' AND c.decision = 'paid' AND c.report_date >= pol.status_date
        GROUP BY c.policy_id
    ), policy_years AS (
        SELECT pol.*, k, CAST(pol.issue_date + to_years(CAST(k - 1 AS INTEGER)) AS DATE) AS year_start
        FROM pol, range(1, 60) t(k)
    ), spread AS (  -- booked in the month the policy year starts: the whole month when it is in [lo, hi]
        SELECT y.policy_id, sum(y.reserve_ratio * (i.rate - y.guaranteed_rate) * p.amount) AS spread
        FROM policy_years y JOIN param_investment_return i ON i.year = year(y.year_start)
        JOIN paid p ON p.policy_id = y.policy_id AND p.policy_year <= y.k
        WHERE y.year_start < y.run_end AND date_trunc('month', y.year_start) BETWEEN $lo AND $hi
        GROUP BY y.policy_id
    ), flows AS (
        SELECT policy_id, amount AS premium, 0 AS claims, commission, 0 AS acquisition, reserve, 0 AS spread
        FROM paid WHERE paid_date BETWEEN $lo AND $hi
        UNION ALL
        SELECT policy_id, 0, amount_paid, 0, 0, 0, 0 FROM fact_claim
        WHERE decision = 'paid' AND decision_date BETWEEN $lo AND $hi
        UNION ALL
        SELECT d.policy_id, 0, 0, 0, 0, -sum(p.reserve), 0
        FROM deaths d JOIN paid p ON p.policy_id = d.policy_id AND p.paid_date <= d.paid_on
        WHERE d.paid_on BETWEEN $lo AND $hi GROUP BY d.policy_id
        UNION ALL
        SELECT policy_id, 0, 0, 0, a.cost_per_policy, 0, 0 FROM pol JOIN param_acquisition_cost a USING (channel_code)
        WHERE issue_date BETWEEN $lo AND $hi
        UNION ALL
        SELECT policy_id, 0, 0, 0, 0, 0, spread FROM spread
    )
    SELECT pol.customer_id, CAST(pol.line_code AS VARCHAR) AS line, sum(premium) AS premium, sum(claims) AS claims,
           sum(commission) AS commission, sum(acquisition) AS acquisition_cost, sum(reserve) AS reserve_increase,
           sum(spread) AS investment_spread
    FROM flows JOIN pol USING (policy_id) GROUP BY ALL
"""
# per customer: the cost to serve, which belongs to the customer, not to a policy's line
SERVICE = """
    SELECT e.customer_id, sum(u.unit_cost) AS cost_to_serve FROM fact_service_event e
    JOIN param_unit_cost u USING (event_type, service_channel) WHERE e.event_date BETWEEN $lo AND $hi
    GROUP BY e.customer_id
"""
PARTS = ("premium", "claims", "commission", "acquisition_cost", "reserve_increase", "investment_spread")


def policy_contribution(frame: pd.DataFrame) -> pd.Series:
    """Contribution of policy flows, before the customer's cost to serve."""
    return (frame["premium"] - frame["claims"] - frame["commission"] - frame["acquisition_cost"]
            - frame["reserve_increase"] + frame["investment_spread"])


def by_line(con, as_of: str, lo: str, hi: str) -> pd.DataFrame:
    """customer_id, line, PARTS and `policy_contribution` over [lo, hi]."""
    frame = con.execute(POLICY_FLOWS, {"as_of": as_of, "lo": lo, "hi": hi}).df()
    return frame.assign(policy_contribution=policy_contribution(frame))


def by_customer(con, as_of: str, lo: str, hi: str) -> pd.DataFrame:
    """Indexed by customer_id: PARTS, cost_to_serve and contribution over [lo, hi], every customer with
    a flow in it."""
    lines = by_line(con, as_of, lo, hi).groupby("customer_id")[list(PARTS)].sum()
    service = con.execute(SERVICE, {"lo": lo, "hi": hi}).df().set_index("customer_id")
    out = lines.join(service, how="outer").fillna(0.0)
    return out.assign(contribution=policy_contribution(out) - out["cost_to_serve"])
