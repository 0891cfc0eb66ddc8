"""Cube 1: policies and premium.

The source is one row per business event, each dated by when it happened, so the time dimension
means "when" for every measure: a policy row on its issue date (counts, sum assured, APE, and its
13/25-month persistency by issue cohort), a premium row on its paid date, a claim row on its decision
date, a lapse row on its status date, an exposure row per in-force policy-month, an underwriting row
on its decision date, and, when a query asks for the policies in force at the start (end) of its
periods, a snapshot row per policy and period start (end) it was in force at: issued before the
start and not terminated before it (issued by the end and not terminated by it). All rows carry the policy's (or application's) attributes, so every dimension slices
every measure.
"""
from __future__ import annotations

from cubes import dimensions as dims
from cubes.model import Cube, Hierarchy, Level, Measure, code_labels, count_of, ratio_of, stock_of, sum_of
from cubes.rules import Rules
from cubes.sources import CUSTOMER, CUSTOMER_COLUMNS, EXPOSURE, GEOGRAPHY, as_of_cte


def persistency_columns(months: int, policy_year: int, grace_days: int) -> str:
    """Month-`months` persistency of a policy row: due when regular premium is still payable at that
    month, the month (plus grace) has passed, and death or maturity did not end it earlier; kept when
    the first instalment of `policy_year` was paid within the grace period."""
    limit = f"p.issue_date + INTERVAL {months} MONTH"
    due = (f"p.payment_frequency <> 'single' AND p.premium_term_years >= {policy_year} "
           f"AND {limit} + INTERVAL {grace_days} DAY <= as_of_date.as_of "
           f"AND NOT (p.status IN ('death_claim', 'matured') AND p.status_date < {limit})")
    kept = f"{due} AND pp.first_paid_y{policy_year} <= {limit} + INTERVAL {grace_days} DAY"
    n = months + 1
    return (f"CASE WHEN {due} THEN 1 END AS p{n}_due, CASE WHEN {kept} THEN 1 END AS p{n}_kept, "
            f"CASE WHEN {due} THEN p.annual_premium END AS p{n}_due_premium, "
            f"CASE WHEN {kept} THEN p.annual_premium END AS p{n}_kept_premium")


def persistency_measures(n: int) -> tuple[Measure, ...]:
    """Month-n persistency by count and by premium, with the due and kept parts it is a ratio of."""
    return (
        sum_of(f"p{n}_due", f"p{n}_due", f"{n}个月应缴件数", f"Due at month {n}", fmt="int"),
        sum_of(f"p{n}_kept", f"p{n}_kept", f"{n}个月继续件数", f"Kept at month {n}", fmt="int"),
        sum_of(f"p{n}_due_premium", f"p{n}_due_premium", f"{n}个月应缴保费", f"Premium due at month {n}"),
        sum_of(f"p{n}_kept_premium", f"p{n}_kept_premium", f"{n}个月继续保费", f"Premium kept at month {n}"),
        ratio_of(f"persistency_{n}", f"p{n}_kept", f"p{n}_due", f"{n}个月继续率（件数）",
                 f"{n}-month persistency (count)"),
        ratio_of(f"persistency_{n}_premium", f"p{n}_kept_premium", f"p{n}_due_premium", f"{n}个月继续率（保费）",
                 f"{n}-month persistency (premium)"),
    )


def policies_source(rules: Rules) -> str:
    grace = rules.grace_days
    return f"""
WITH {as_of_cte(rules)}, {GEOGRAPHY}, {CUSTOMER}, {EXPOSURE},
-- the rate of every channel and policy year in the data; the last year given covers later years
commission_rate AS (
    SELECT g.channel_code, g.policy_year, pc.rate
    FROM (SELECT DISTINCT CAST(channel_code AS VARCHAR) AS channel_code, y.policy_year
          FROM param_commission, range(1, (SELECT max(policy_year) FROM fact_premium) + 1) y(policy_year)) g
    ASOF LEFT JOIN param_commission pc
        ON CAST(pc.channel_code AS VARCHAR) = g.channel_code AND g.policy_year >= pc.policy_year
),
paid_by_year AS (
    SELECT policy_id,
           min(paid_date) FILTER (WHERE policy_year = 2) AS first_paid_y2,
           min(paid_date) FILTER (WHERE policy_year = 3) AS first_paid_y3
    FROM fact_premium GROUP BY policy_id
),
policy_events AS (
    SELECT p.policy_id, p.policy_id AS record_id, p.issue_date AS d, 'policy' AS kind, 1 AS policies,
           CASE WHEN p.status = 'in_force' THEN 1 END AS in_force,
           p.annual_premium + p.single_premium AS annualised_premium,
           p.sum_assured, p.annual_premium + 0.1 * p.single_premium AS ape,
           {persistency_columns(12, 2, grace)},
           {persistency_columns(24, 3, grace)}
    FROM fact_policy p CROSS JOIN as_of_date LEFT JOIN paid_by_year pp ON pp.policy_id = p.policy_id
    UNION ALL BY NAME
    SELECT pr.policy_id, CAST(pr.payment_id AS VARCHAR) AS record_id, pr.paid_date AS d, 'premium' AS kind,
           pr.amount AS written_premium,
           CASE WHEN pr.policy_year = 1 AND p.payment_frequency <> 'single' THEN pr.amount END AS fyp,
           CASE WHEN pr.policy_year >= 2 THEN pr.amount END AS renewal_premium,
           CASE WHEN p.payment_frequency = 'single' THEN pr.amount END AS single_premium,
           pr.amount * coalesce(pc.rate, 0) AS commission
    FROM fact_premium pr
    JOIN fact_policy p ON p.policy_id = pr.policy_id
    LEFT JOIN commission_rate pc
        ON pc.channel_code = CAST(p.channel_code AS VARCHAR) AND pc.policy_year = pr.policy_year
    WHERE pr.paid_date IS NOT NULL
    UNION ALL BY NAME
    SELECT policy_id, claim_id AS record_id, coalesce(decision_date, report_date) AS d, 'claim' AS kind,
           amount_paid AS claims_paid,
           CASE WHEN decision IN ('paid', 'declined') THEN 1 END AS claims_decided,
           CASE WHEN decision = 'declined' THEN 1 END AS claims_declined
    FROM fact_claim
    UNION ALL BY NAME
    SELECT policy_id, policy_id AS record_id, status_date AS d, 'lapse' AS kind, 1 AS lapses
    FROM fact_policy WHERE status IN ('lapsed', 'surrendered')
    UNION ALL BY NAME
    SELECT policy_id, policy_id || '@' || strftime(d, '%Y-%m') AS record_id, d, 'exposure' AS kind, exposure_years
    FROM exposure
    UNION ALL BY NAME
    -- in force at the start of day s.d: issued before it and not terminated before it
    SELECT p.policy_id, p.policy_id || '@' || strftime(s.d, '%Y-%m-%d') AS record_id, s.d AS d,
           'opening' AS kind, 1 AS opening
    FROM fact_policy p CROSS JOIN as_of_date
    JOIN ({{stock_dates}}) s ON p.issue_date < s.d
        AND s.d <= CASE WHEN p.status = 'in_force' THEN as_of_date.as_of ELSE least(p.status_date, as_of_date.as_of) END
    UNION ALL BY NAME
    -- in force at the end of day s.d: issued by then and not terminated by then
    SELECT p.policy_id, p.policy_id || '#' || strftime(s.d, '%Y-%m-%d') AS record_id, s.d AS d,
           'closing' AS kind, 1 AS closing
    FROM fact_policy p CROSS JOIN as_of_date
    JOIN ({{stock_end_dates}}) s ON p.issue_date <= s.d AND s.d <= as_of_date.as_of
        AND (p.status = 'in_force' OR p.status_date > s.d)
),
events AS (
    SELECT e.*, p.customer_id, p.agent_id, p.product_code, p.channel_code,
           p.branch_id, p.status, p.payment_frequency, p.issue_date
    FROM policy_events e JOIN fact_policy p ON p.policy_id = e.policy_id
    UNION ALL BY NAME
    SELECT u.application_id AS record_id, u.decision_date AS d, 'underwriting' AS kind,
           u.customer_id, u.agent_id, u.product_code, u.channel_code, c.branch_id,
           u.application_date AS issue_date, 1 AS uw_decided,
           CASE WHEN u.decision = 'declined' THEN 1 END AS uw_declined
    FROM fact_underwriting u JOIN dim_customer c ON c.customer_id = u.customer_id
)
SELECT e.*, g.city_code, g.province_code, g.region_code, pr.line_code,
       {CUSTOMER_COLUMNS}, date_sub('year', c.birth_date, e.issue_date) AS age_at_issue,
       cal.work_month
FROM events e
JOIN geo g ON g.branch_id = e.branch_id
JOIN dim_product pr ON pr.product_code = e.product_code
JOIN cust c ON c.customer_id = e.customer_id
LEFT JOIN dim_calendar cal ON cal.date = e.d
"""


def policies_cube(rules: Rules) -> Cube:
    return Cube(
        name="policies", label_zh="保单与保费", label_en="Policies and premium",
        grain="policy event (issue, premium payment, claim, lapse, exposure month, underwriting decision)",
        source=policies_source(rules),
        hierarchies=(
            dims.geography(), dims.occupation(), dims.risk_class(), dims.issue_age_band(rules),
            dims.attained_age_band(rules), dims.sex(), dims.channel(), dims.tenure_band(rules), dims.product(),
            dims.time("业务发生日", "event date"), dims.work_month(),
            Hierarchy("status", (Level("status", "status", "保单状态", "Policy status", code_labels("policy_status")),),
                      "保单状态", "Policy status"),
            dims.vip_tier(),
            Hierarchy("payment_frequency", (Level("payment_frequency", "payment_frequency", "缴费频率",
                                                  "Payment frequency", code_labels("payment_frequency")),),
                      "缴费频率", "Payment frequency"),
        ),
        measures=(
            sum_of("policies", "policies", "保单数", "Policies", fmt="int"),
            # a flow, not the book: of the policies issued in the period, those in force at the as-of date
            sum_of("in_force_policies", "in_force", "新单留存件数", "Issued in period, still in force", fmt="int"),
            count_of("customers", "customer_id", "客户数", "Customers", where="kind = 'policy'"),
            count_of("in_force_customers", "customer_id", "新单留存客户数", "Customers of issued policies still in force",
                     where="kind = 'policy' AND in_force = 1"),
            stock_of("in_force_at_end", "closing", "期末有效保单数", "In-force policies at period end", at="end"),
            stock_of("customers_at_end", "customer_id", "期末有效客户数", "Customers in force at period end",
                     where="kind = 'closing'", at="end", distinct=True),
            sum_of("written_premium", "written_premium", "保费收入", "Written premium"),
            sum_of("fyp", "fyp", "首年保费", "First-year premium"),
            sum_of("renewal_premium", "renewal_premium", "续期保费", "Renewal premium"),
            sum_of("single_premium", "single_premium", "趸交保费", "Single premium"),
            sum_of("ape", "ape", "年化新单保费", "APE"),
            sum_of("sum_assured", "sum_assured", "保额", "Sum assured"),
            sum_of("annualised_premium", "annualised_premium", "新单年化保费（含趸交）", "New premium (annual + single)"),
            ratio_of("avg_premium", "annualised_premium", "policies", "件均保费", "Average premium", fmt="money"),
            sum_of("claims_paid", "claims_paid", "赔付金额", "Claims paid"),
            ratio_of("loss_ratio", "claims_paid", "written_premium", "赔付率", "Loss ratio"),
            sum_of("lapses", "lapses", "退保/失效件数", "Lapses and surrenders", fmt="int"),
            stock_of("in_force_at_start", "opening", "期初有效保单数", "Policies in force at period start"),
            ratio_of("lapse_rate", "lapses", "in_force_at_start", "退保率", "Lapse and surrender rate"),
            sum_of("exposure_years", "exposure_years", "有效保单年", "Policy-years in force", fmt="float"),
            ratio_of("lapse_rate_annualised", "lapses", "exposure_years", "年化退保率", "Lapse rate (annualised)"),
            *persistency_measures(13), *persistency_measures(25),
            sum_of("commission", "commission", "佣金", "Commission"),
            ratio_of("policies_per_customer", "in_force_at_end", "customers_at_end", "人均保单数",
                     "Policies per customer (in force at period end)", fmt="float"),
            sum_of("claims_decided", "claims_decided", "已决理赔件数", "Claims decided", fmt="int"),
            sum_of("claims_declined", "claims_declined", "拒赔件数", "Claims declined", fmt="int"),
            ratio_of("claim_decline_rate", "claims_declined", "claims_decided", "拒赔率", "Claim decline rate"),
            sum_of("uw_decided", "uw_decided", "核保决定件数", "Applications decided", fmt="int"),
            sum_of("uw_declined", "uw_declined", "拒保件数", "Applications declined", fmt="int"),
            ratio_of("uw_decline_rate", "uw_declined", "uw_decided", "拒保率", "Underwriting decline rate"),
        ),
        scope_columns={"region": "region_code", "branch": "branch_id", "customer": "customer_id"},
        drill_columns=("kind", "record_id", "d", "customer_id", "product_code", "channel_code", "branch_id", "status"),
        calendar="dim_calendar", as_of=rules.as_of_sql,
    )
