"""SQL fragments the cube sources share: the as-of date, geography of a branch, customer attributes,
and policy exposure. Each is a CTE body; a cube's source strings them together."""
from __future__ import annotations

from cubes.rules import Rules



def as_of_cte(rules: Rules) -> str:
    """The data's "today" (params calendar.as_of_date): ages, tenure and persistency are measured at it."""
    return f"as_of_date AS (SELECT {rules.as_of_sql} AS as_of)"

GEOGRAPHY = """geo AS (
    SELECT b.branch_id, b.city_code, ci.province_code, pv.region_code
    FROM dim_branch b
    JOIN dim_city ci ON ci.city_code = b.city_code
    JOIN dim_province pv ON pv.province_code = ci.province_code
)"""

# date_sub counts whole elapsed years (a birthday not yet reached this year does not count).
CUSTOMER = """cust AS (
    SELECT c.customer_id, c.name AS customer_name, c.customer_type, c.sex, c.birth_date, c.occupation_code, o.industry_code,
           o.risk_class, c.income_band, c.acquisition_source, c.vip_tier, c.first_policy_date,
           c.branch_id AS customer_branch_id,
           date_sub('year', c.birth_date, as_of_date.as_of) AS attained_age,
           date_sub('year', c.first_policy_date, as_of_date.as_of) AS tenure_years
    FROM dim_customer c
    LEFT JOIN dim_occupation o ON o.occupation_code = c.occupation_code
    CROSS JOIN as_of_date
)"""

# The customer attributes every customer-sliced source selects from `cust c`.
CUSTOMER_COLUMNS = ("c.sex, c.occupation_code, c.industry_code, c.risk_class, c.vip_tier, c.acquisition_source, "
                    "c.attained_age, c.tenure_years")

# One row per policy and calendar month it was in force at the start of, weighted 1/12: summed over
# any period this is policy-years of exposure, the denominator of lapse and complaint rates that
# stays a ratio of sums at every level (a month, a quarter and a year all divide by their exposure).
EXPOSURE = """exposure AS (
    SELECT policy_id, 1.0 / 12 AS exposure_years,
           unnest(generate_series(
               date_trunc('month', issue_date) + INTERVAL 1 MONTH,
               date_trunc('month', CASE WHEN status = 'in_force' THEN as_of ELSE status_date END),
               INTERVAL 1 MONTH))::DATE AS d
    FROM fact_policy CROSS JOIN as_of_date
)"""
