"""Cube 3: service and cost to serve (grain: service event).

Each event costs the unit cost of its type and channel (param_unit_cost, activity-based costing).
Policy exposure rows (one per in-force policy-month, 1/12 policy-year each) give the complaint rate
its denominator; they carry no event type or service channel, so the rate is read by customer
dimensions and time."""
from __future__ import annotations

from cubes import dimensions as dims
from cubes.model import Cube, code_labels, count_of, ratio_of, sum_of
from cubes.rules import Rules
from cubes.sources import CUSTOMER, CUSTOMER_COLUMNS, EXPOSURE, GEOGRAPHY, as_of_cte


def service_source(rules: Rules) -> str:
    return f"""
WITH {as_of_cte(rules)}, {GEOGRAPHY}, {CUSTOMER}, {EXPOSURE},
rows AS (
    SELECT CAST(e.event_id AS VARCHAR) AS record_id, e.event_date AS d, 'event' AS kind, e.customer_id,
           e.policy_id, CAST(e.event_type AS VARCHAR) AS event_type,
           CAST(e.service_channel AS VARCHAR) AS service_channel, 1 AS events, e.minutes,
           coalesce(u.unit_cost, 0) AS cost, CASE WHEN e.event_type = 'complaint' THEN 1 END AS complaints
    FROM fact_service_event e
    LEFT JOIN param_unit_cost u ON CAST(u.event_type AS VARCHAR) = CAST(e.event_type AS VARCHAR)
        AND CAST(u.service_channel AS VARCHAR) = CAST(e.service_channel AS VARCHAR)
    UNION ALL BY NAME
    SELECT x.policy_id || '@' || strftime(x.d, '%Y-%m') AS record_id, x.d, 'exposure' AS kind, p.customer_id,
           x.policy_id, x.exposure_years
    FROM exposure x JOIN fact_policy p ON p.policy_id = x.policy_id
)
SELECT r.*, c.customer_branch_id AS branch_id, g.city_code, g.province_code, g.region_code,
       {CUSTOMER_COLUMNS}, cal.work_month
FROM rows r
JOIN cust c ON c.customer_id = r.customer_id
JOIN geo g ON g.branch_id = c.customer_branch_id
LEFT JOIN dim_calendar cal ON cal.date = r.d
"""


def service_cube(rules: Rules) -> Cube:
    return Cube(
        name="service", label_zh="服务与服务成本", label_en="Service and cost to serve",
        grain="service event (plus in-force policy-months for the complaint rate)",
        source=service_source(rules),
        hierarchies=dims.customer_dimensions(rules) + (
            dims.one("event_type", "event_type", "服务类型", "Event type", code_labels("event_type")),
            dims.one("service_channel", "service_channel", "服务渠道", "Service channel",
                     code_labels("service_channel")),
            dims.time("服务日期", "event date"), dims.work_month(),
        ),
        measures=(
            sum_of("events", "events", "服务次数", "Service events", fmt="int"),
            sum_of("minutes", "minutes", "服务时长（分钟）", "Minutes", fmt="float"),
            sum_of("cost", "cost", "服务成本", "Cost to serve"),
            count_of("customers_served", "customer_id", "服务客户数", "Customers served", where="kind = 'event'"),
            ratio_of("cost_per_customer", "cost", "customers_served", "人均服务成本", "Cost per customer", fmt="money"),
            ratio_of("minutes_per_event", "minutes", "events", "平均服务时长", "Minutes per event", fmt="float"),
            sum_of("complaints", "complaints", "投诉次数", "Complaints", fmt="int"),
            sum_of("exposure_years", "exposure_years", "有效保单年", "Policy-years in force", fmt="float"),
            ratio_of("complaints_per_10k", "complaints", "exposure_years", "投诉率（每万有效保单年）",
                     "Complaints per 10,000 policy-years", scale=10_000, fmt="float"),
        ),
        scope_columns={"region": "region_code", "branch": "branch_id", "customer": "customer_id"},
        drill_columns=("kind", "record_id", "d", "customer_id", "policy_id", "event_type", "service_channel"),
    )
