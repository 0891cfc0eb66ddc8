"""Cube 2: customer contribution (grain: customer).

Each customer's flows and contribution are summed over the days the time filters keep; the outer
query then groups customers. Because each source row is one customer, rank measures (share of
contribution from the top N% of customers, share of customers losing money) are computed per cell
from that cell's own customers, subtotals included. Time is therefore a filter here, not a row or
column.

The time filters are evaluated on days (`{inner_where}` over a column `day`), so any date range
works: each customer's flows over the kept days come from cubes/customer_flows.py (whole months
from mart_customer_month, the kept days of cut months from mart_customer_day, a cut month's
investment spread in proportion to its days kept), the rule the customer view and the agent book
follow too.
"""
from __future__ import annotations

from dataclasses import replace

from cubes import dimensions as dims
from cubes.customer_flows import DAY, flows_sql
from cubes.model import Cube, Measure, count_of, ratio_of, sum_of
from cubes.rules import Rules
from cubes.sources import CUSTOMER, CUSTOMER_COLUMNS, GEOGRAPHY, as_of_cte

TOP_SHARES = (10, 20, 30)
TIME_FILTERS = "{inner_where}"  # the engine puts the cube's time filters (on DAY) here


def contribution_source(rules: Rules) -> str:
    return f"""
WITH {as_of_cte(rules)}, {GEOGRAPHY}, {CUSTOMER}, per_customer AS ({flows_sql(TIME_FILTERS)})
SELECT m.*, m.customer_id AS record_id, 'customer' AS kind,
       CASE WHEN m.contribution < 0 THEN 1 END AS negative_customer,
       CASE WHEN m.contribution < 0 THEN m.contribution END AS negative_contribution,
       {CUSTOMER_COLUMNS}, c.customer_name, c.customer_branch_id AS branch_id,
       g.city_code, g.province_code, g.region_code
FROM per_customer m
JOIN cust c ON c.customer_id = m.customer_id
JOIN geo g ON g.branch_id = c.customer_branch_id
"""


def top_share(percent: int) -> Measure:
    """Contribution of the best `percent`% of the cell's customers over the cell's contribution."""
    take = f"CAST(ceil(count(*) * {percent} / 100.0) AS BIGINT)"
    return Measure(
        f"top{percent}_share", "sql", f"前{percent}%客户贡献占比", f"Contribution share of top {percent}% customers",
        sql=f"(list_sum(list_slice(list(contribution ORDER BY contribution DESC), 1, {take})) "
            f"/ NULLIF(sum(contribution), 0))",
        uses=("contribution",), fmt="pct",
    )


def contribution_cube(rules: Rules) -> Cube:
    return Cube(
        name="contribution", label_zh="客户贡献度", label_en="Customer contribution",
        grain="customer (summed over the days kept by the time filters)",
        source=contribution_source(rules),
        hierarchies=dims.customer_dimensions(rules) + (
            replace(dims.time("月份", "month"), filter_only=True),
        ),
        measures=(
            count_of("customers", "customer_id", "客户数", "Customers"),
            count_of("vip_customers", "customer_id", "VIP客户数", "VIP customers", where="vip_tier IN ('vip', 'gold_vip')"),
            sum_of("premium", "premium", "保费", "Premium"),
            sum_of("fyp", "fyp", "首年保费", "First-year premium"),
            sum_of("renewal_premium", "renewal_premium", "续期保费", "Renewal premium"),
            sum_of("claims", "claims_paid", "赔付", "Claims"),
            sum_of("commission", "commission", "佣金", "Commission"),
            sum_of("acquisition_cost", "acquisition_cost", "获客成本", "Acquisition cost"),
            sum_of("cost_to_serve", "cost_to_serve", "服务成本", "Cost to serve"),
            sum_of("reserve_increase", "reserve_increase", "提取准备金", "Increase in reserves"),
            sum_of("investment_spread", "investment_spread", "利差", "Investment spread"),
            sum_of("contribution", "contribution", "贡献", "Contribution"),
            ratio_of("contribution_margin", "contribution", "premium", "贡献率", "Contribution margin"),
            sum_of("service_events", "service_events", "服务次数", "Service events", fmt="int"),
            sum_of("complaints", "complaints", "投诉次数", "Complaints", fmt="int"),
            sum_of("negative_customers", "negative_customer", "负贡献客户数", "Customers with negative contribution",
                   fmt="int"),
            ratio_of("negative_share", "negative_customers", "customers", "负贡献客户占比",
                     "Share of customers with negative contribution"),
            sum_of("negative_contribution", "negative_contribution", "负贡献合计", "Contribution lost to negative customers"),
        ) + tuple(top_share(p) for p in TOP_SHARES),
        scope_columns={"region": "region_code", "branch": "branch_id", "customer": "customer_id"},
        inner_levels={"time.year": DAY, "time.quarter": DAY, "time.month": DAY},
        # its months are the month mart's (a month with only a spread has no day rows)
        inner_table=f"(SELECT month AS {DAY} FROM mart_customer_month)",
        drill_columns=("record_id", "customer_name", "branch_id", "vip_tier", "acquisition_source"),
        row_key="customer_id",  # one row per customer
    )
