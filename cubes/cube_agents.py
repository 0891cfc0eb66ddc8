"""Cube 4: agent activity (grain: visit and sale).

Rows: a visit on its date; a sale (a policy an agent sold) on its issue date, with its annualised
regular first-year premium (known at issue, so recent months are not understated by instalments
still to come; single premium is kept apart), the lead source of the visit that closed it, and its 13-month persistency;
an agent-month for every month an agent was employed at its start (headcount); the workdays an
agent was employed on, one row per agent and piece of a month (calendar month x work month, cut
at `between` bounds), dated at the piece's first workday. Rates that compare with "the company"
(conversion index, new-customer share) divide by the same measure over the company: the rows the
filters and the row scope keep, without the drill path (cubes/sql.py Baseline); the conversion
index of a cell of one lead source compares with the company's rate of that source."""
from __future__ import annotations

from dataclasses import replace

from cubes import dimensions as dims
from cubes.cube_policies import persistency_columns, persistency_measures
from cubes.model import (Cube, Hierarchy, Level, Measure, code_labels, count_of, distinct_count_sql, ratio_of,
                          sum_of, table_labels)
from cubes.rules import Rules
from cubes.sources import GEOGRAPHY, as_of_cte


# DOMAIN conversion: prospects won over prospects visited, both distinct and recounted at every level.
# Closes are counted per policy (a prospect who buys two policies closes twice), so closes over
# prospects could pass 100%; a converted prospect is one of the visited ones, so this cannot.
PROSPECTS = distinct_count_sql("prospect_id", "kind = 'visit'")
CONVERTED = distinct_count_sql("converted_prospect_id")
CONVERSION = f"(CAST({CONVERTED} AS DOUBLE) / NULLIF({PROSPECTS}, 0))"
NEW_CUSTOMERS = distinct_count_sql("new_customer_id")
LEAD_SOURCES = (("cold_visit", "陌拜", "cold-visit"), ("referral", "转介绍", "referral"))
MONTHS = distinct_count_sql("d", "kind = 'headcount'")
HEADCOUNT = f"(CAST(count(*) FILTER (WHERE kind = 'headcount') AS DOUBLE) / NULLIF({MONTHS}, 0))"
# DOMAIN's activity rate counts agents with a sale among the agents in the headcount. An agent is in
# it when employed at the start of a month of the cell (an agent-month row); one who sold and left,
# or was hired after the last month start, is not, so "sold and counted" is the intersection of the
# two distinct sets: |counted| + |sold| - |counted or sold|, each recounted at every level.
COUNTED = distinct_count_sql("agent_id", "kind = 'headcount'")
SOLD = distinct_count_sql("agent_id", "kind = 'sale'")
COUNTED_OR_SOLD = distinct_count_sql("agent_id", "kind IN ('headcount', 'sale')")
ACTIVE = f"({COUNTED} + {SOLD} - {COUNTED_OR_SOLD})"
# league-table KPIs indexed against the company (= 100); amounts and counts per agent of average
# headcount, so a team's index compares its agents' average with the company's
INDEXED = (("fyp_sold", True), ("cases", True), ("avg_case_size", False), ("visits_per_day", False),
           ("minutes_per_visit", False), ("visits_per_close", False), ("days_to_close", False),
           ("conversion_cold_visit", False), ("conversion_referral", False))
# what the agents page asks for (callbacks/agents.py); cubes/rollups.py stores it for the page's
# default period. The league: each indexed KPI with its index, then the KPIs without one.
LEAGUE_MEASURES = tuple(m for name, _per_agent in INDEXED for m in (name, f"{name}_index")) + (
    "new_customers", "new_share_cold_visit", "new_share_referral", "book_persistency_13")
KPIS = ("headcount", "activity_rate", "cases_per_agent", "fyp_sold", "conversion_cold_visit", "conversion_referral")
# the selection's total row: the league's measures and the KPI cards, one row for both
TOTAL_MEASURES = tuple(dict.fromkeys(LEAGUE_MEASURES + KPIS))
FUNNEL = ("prospects", "converted_prospects", "new_customers")
COMPARE = ("activity_rate", "cases_per_agent", "headcount", "fyp_sold")


def team_name_zh(table: str = "") -> str:
    """The Chinese label of a dim_team row (`table`: its alias in the query, if any). The demo
    warehouse writes a team's name starting with its branch's code (B11010001团队1); a person reads
    the branch's name beside it, so the label drops the code (a name without one is kept)."""
    prefix = f"{table}." if table else ""
    return f"replace({prefix}name_zh, {prefix}branch_id, '')"


def book_persistency_columns(grace_days: int) -> str:
    """A policy's month-13 persistency under book_ names: dated when it is decided, apart from the
    sale row's columns (counted by issue cohort), so the two never add up together."""
    return persistency_columns(12, 2, grace_days).replace(" AS p13_", " AS book_p13_")


def source_measures(code: str, zh: str, en: str) -> tuple[Measure, ...]:
    """Conversion and new customers of one lead source (DOMAIN: conversion by source, new-customer share)."""
    of_source = f"lead_source = '{code}'"
    return (
        count_of(f"converted_{code}", "converted_prospect_id", f"{zh}成交对象数", f"Prospects converted ({en})",
                 where=of_source),
        count_of(f"prospects_{code}", "prospect_id", f"{zh}拜访对象数", f"Prospects visited ({en})",
                 where=f"kind = 'visit' AND {of_source}"),
        ratio_of(f"conversion_{code}", f"converted_{code}", f"prospects_{code}", f"{zh}成交率", f"Conversion ({en})"),
        count_of(f"new_customers_{code}", "new_customer_id", f"{zh}新客户数", f"New customers ({en})", where=of_source),
        ratio_of(f"new_share_{code}", f"new_customers_{code}", "new_customers", f"新客户中{zh}占比",
                 f"Share of new customers won by {en}"),
    )


def _aggregate(measures: dict[str, Measure], name: str) -> str:
    """The SQL aggregate of a sum, distinct count, ratio of them, or company-free 'sql' measure."""
    m = measures[name]
    where = f" FILTER (WHERE {m.where})" if m.where else ""
    if m.kind == "sum":
        return f"coalesce(sum({m.column}){where}, 0)"
    if m.kind == "count_distinct":
        return distinct_count_sql(m.column, m.where)
    if m.kind == "ratio":
        return f"(CAST({_aggregate(measures, m.numerator)} AS DOUBLE) / NULLIF({_aggregate(measures, m.denominator)}, 0))"
    return m.sql


def index_measure(measures: dict[str, Measure], name: str, per_agent: bool) -> Measure:
    """Index of a KPI against the company (company = 100): the cell's value over the company's, both
    from their own summed parts; `per_agent` divides both by their average headcount first."""
    m = measures[name]
    value = f"({_aggregate(measures, name)} / {HEADCOUNT})" if per_agent else _aggregate(measures, name)
    uses = _columns(measures, name) + (("agent_id",) if per_agent else ())
    return Measure(f"{name}_index", "sql", f"{m.label_zh}指数", f"{m.label_en} index (company = 100)",
                   sql=f"(100.0 * {value} / NULLIF((SELECT {value} FROM {{slice}}), 0))", uses=uses, fmt="float")


def _columns(measures: dict[str, Measure], name: str) -> tuple[str, ...]:
    m = measures[name]
    if m.kind == "ratio":
        return tuple(dict.fromkeys(_columns(measures, m.numerator) + _columns(measures, m.denominator)))
    return (m.column,) if m.column else m.uses


def agents_source(rules: Rules) -> str:
    return f"""
WITH {as_of_cte(rules)}, {GEOGRAPHY},
paid_by_year AS (
    SELECT policy_id,
           min(paid_date) FILTER (WHERE policy_year = 2) AS first_paid_y2,
           min(paid_date) FILTER (WHERE policy_year = 3) AS first_paid_y3
    FROM fact_premium GROUP BY policy_id
),
cut AS ({{cut_dates}}),
workday AS (  -- workdays up to the as-of date, numbered, and the piece of a month each lies in
    SELECT cal.date, row_number() OVER (ORDER BY cal.date) AS i, cal.year_month, cal.work_month,
           (SELECT count(*) FROM cut WHERE cut.d <= cal.date) AS part
    FROM dim_calendar cal CROSS JOIN as_of_date
    WHERE cal.is_workday AND cal.date <= as_of_date.as_of
),
piece AS (
    SELECT min(date) AS d, min(i) AS first_i, max(i) AS last_i FROM workday GROUP BY year_month, work_month, part
),
employed AS (  -- the agent's workdays: from the hire date to the day before leaving
    SELECT a.agent_id,
           (SELECT min(i) FROM workday w WHERE w.date >= a.hire_date) AS first_i,
           (SELECT max(i) FROM workday w WHERE a.leave_date IS NULL OR w.date < a.leave_date) AS last_i
    FROM dim_agent a
),
closing_visit AS (
    SELECT policy_id, any_value(CAST(lead_source AS VARCHAR)) AS lead_source
    FROM fact_visit WHERE policy_id IS NOT NULL GROUP BY policy_id
),
rows AS (
    SELECT CAST(v.visit_id AS VARCHAR) AS record_id, v.visit_date AS d, 'visit' AS kind, v.agent_id,
           v.prospect_id, v.customer_id, CAST(v.lead_source AS VARCHAR) AS lead_source, 1 AS visits,
           v.minutes AS visit_minutes, v.agent_id || '|' || CAST(v.visit_date AS VARCHAR) AS agent_day,
           CASE WHEN v.outcome = 'sale' THEN 1 END AS closes,
           CASE WHEN v.outcome = 'sale' THEN v.prospect_id END AS converted_prospect_id,
           CASE WHEN v.outcome = 'sale' THEN date_diff('day',
               min(v.visit_date) OVER (PARTITION BY v.agent_id, v.prospect_id), v.visit_date) END AS days_to_close,
           CASE WHEN v.outcome = 'sale' AND p.issue_date = c.first_policy_date THEN v.customer_id END AS new_customer_id
    FROM fact_visit v
    LEFT JOIN fact_policy p ON p.policy_id = v.policy_id
    LEFT JOIN dim_customer c ON c.customer_id = v.customer_id
    UNION ALL BY NAME
    SELECT p.policy_id AS record_id, p.issue_date AS d, 'sale' AS kind, p.agent_id, p.customer_id,
           cv.lead_source, 1 AS cases,
           CASE WHEN p.payment_frequency <> 'single' THEN 1 END AS regular_cases,
           CASE WHEN p.payment_frequency <> 'single' THEN p.annual_premium END AS fyp_sold,
           CASE WHEN p.payment_frequency = 'single' THEN p.single_premium END AS single_premium_sold,
           {persistency_columns(12, 2, rules.grace_days)}
    FROM fact_policy p CROSS JOIN as_of_date
    LEFT JOIN paid_by_year pp ON pp.policy_id = p.policy_id
    LEFT JOIN closing_visit cv ON cv.policy_id = p.policy_id
    WHERE p.agent_id IS NOT NULL
    UNION ALL BY NAME
    SELECT p.policy_id || '#13' AS record_id, p.agent_id, p.customer_id, 'book13' AS kind,
           CAST(p.issue_date + INTERVAL 12 MONTH + INTERVAL {rules.grace_days} DAY AS DATE) AS d,
           {book_persistency_columns(rules.grace_days)}
    FROM fact_policy p CROSS JOIN as_of_date
    LEFT JOIN paid_by_year pp ON pp.policy_id = p.policy_id
    WHERE p.agent_id IS NOT NULL
      AND p.issue_date + INTERVAL 12 MONTH + INTERVAL {rules.grace_days} DAY <= as_of_date.as_of
    UNION ALL BY NAME
    SELECT a.agent_id || '@' || strftime(m.d, '%Y-%m') AS record_id, m.d, 'headcount' AS kind, a.agent_id
    FROM dim_agent a CROSS JOIN as_of_date
    CROSS JOIN LATERAL (SELECT unnest(generate_series(
        date_trunc('month', a.hire_date) + INTERVAL 1 MONTH,
        date_trunc('month', coalesce(least(a.leave_date, as_of_date.as_of), as_of_date.as_of)),
        INTERVAL 1 MONTH))::DATE AS d) m
    UNION ALL BY NAME
    SELECT e.agent_id || '~' || CAST(pc.d AS VARCHAR) AS record_id, pc.d, 'workdays' AS kind, e.agent_id,
           least(pc.last_i, e.last_i) - greatest(pc.first_i, e.first_i) + 1 AS workdays_employed
    FROM employed e JOIN piece pc ON pc.first_i <= e.last_i AND pc.last_i >= e.first_i
)
SELECT r.*, a.team_id, a.branch_id, CAST(a.grade AS VARCHAR) AS grade,
       g.city_code, g.province_code, g.region_code, cal.work_month
FROM rows r
JOIN dim_agent a ON a.agent_id = r.agent_id
JOIN geo g ON g.branch_id = a.branch_id
LEFT JOIN dim_calendar cal ON cal.date = r.d
"""


def agents_cube(rules: Rules) -> Cube:
    cube = Cube(
        name="agents", label_zh="营销员活动", label_en="Agent activity",
        grain="visit, sale (policy sold by an agent), agent-month of employment, agent workdays employed",
        source=agents_source(rules),
        hierarchies=(
            Hierarchy("agent", (
                Level("branch", "branch_id", "网点", "Branch", table_labels("dim_branch", "branch_id")),
                Level("team", "team_id", "团队", "Team", table_labels("dim_team", "team_id", zh=team_name_zh())),
                Level("agent", "agent_id", "营销员", "Agent", table_labels("dim_agent", "agent_id", zh="name", en="name")),
            ), "营销员", "Agent"),
            dims.geography(),
            dims.one("grade", "grade", "职级", "Grade", code_labels("agent_grade")),
            dims.one("lead_source", "lead_source", "线索来源", "Lead source", code_labels("lead_source")),
            dims.time("日期", "date"), dims.work_month(),
        ),
        measures=(
            sum_of("visits", "visits", "拜访次数", "Visits", fmt="int"),
            sum_of("visit_minutes", "visit_minutes", "拜访时长（分钟）", "Visit minutes", fmt="float"),
            # DOMAIN: visits / working days of the agent = workdays (dim_calendar) employed
            sum_of("workdays_employed", "workdays_employed", "在岗工作日数", "Workdays employed", fmt="int"),
            ratio_of("visits_per_day", "visits", "workdays_employed", "日均拜访", "Visits per day", fmt="float"),
            count_of("working_days", "agent_day", "有拜访天数", "Days with visits", where="kind = 'visit'"),
            ratio_of("visits_per_active_day", "visits", "working_days", "有拜访日均拜访", "Visits per day with visits",
                     fmt="float"),
            ratio_of("minutes_per_visit", "visit_minutes", "visits", "平均拜访时长", "Minutes per visit", fmt="float"),
            sum_of("closes", "closes", "成交次数", "Closes", fmt="int"),
            count_of("prospects", "prospect_id", "拜访对象数", "Prospects visited", where="kind = 'visit'"),
            count_of("converted_prospects", "converted_prospect_id", "成交对象数", "Prospects converted"),
            ratio_of("conversion_rate", "converted_prospects", "prospects", "成交率", "Conversion rate"),
            ratio_of("visits_per_close", "visits", "closes", "成交所需拜访数", "Visits per close", fmt="float"),
            sum_of("days_to_close_total", "days_to_close", "成交天数合计", "Days to close (sum)", fmt="int"),
            ratio_of("days_to_close", "days_to_close_total", "closes", "平均成交天数", "Days to close", fmt="float"),
            count_of("new_customers", "new_customer_id", "新客户数", "New customers"),
            Measure("new_customer_share", "sql", "新客户来源占比", "Share of the slice's new customers",
                    sql=f"({NEW_CUSTOMERS} / NULLIF((SELECT {NEW_CUSTOMERS} FROM {{slice}}), 0))",
                    uses=("new_customer_id",), fmt="pct"),
            sum_of("fyp_sold", "fyp_sold", "期交新单年化首年保费", "Regular first-year premium sold (annualised)"),
            sum_of("single_premium_sold", "single_premium_sold", "趸交保费（新单）", "Single premium sold"),
            sum_of("cases", "cases", "件数", "Cases", fmt="int"),
            sum_of("regular_cases", "regular_cases", "期交件数", "Regular-premium cases", fmt="int"),
            ratio_of("avg_case_size", "fyp_sold", "regular_cases", "件均保费（期交年化）",
                     "Average case size (regular, annualised)", fmt="money"),
            count_of("active_agents", "agent_id", "有成交营销员数", "Agents with a sale", where="kind = 'sale'"),
            # average over the months of the cell: agent-months / months (DOMAIN: average headcount)
            Measure("headcount", "sql", "平均在职营销员数", "Average headcount",
                    sql=HEADCOUNT,
                    uses=("agent_id",), fmt="float"),
            count_of("headcount_agents", "agent_id", "在职营销员数（计入人力）", "Agents in the headcount",
                     where="kind = 'headcount'"),
            Measure("active_in_headcount", "sql", "在职且有成交营销员数", "Agents in the headcount with a sale",
                    sql=ACTIVE, uses=("agent_id",), fmt="int"),
            # never above 100%: the agents who sold are counted among those in the headcount
            ratio_of("activity_rate", "active_in_headcount", "headcount_agents", "活动率", "Activity rate"),
            ratio_of("cases_per_agent", "cases", "headcount", "人均件数", "Cases per agent", fmt="float"),
            *persistency_measures(13),
            Measure("conversion_index", "sql", "成交率指数", "Conversion index (company = 1)",
                    sql=f"({CONVERSION} / NULLIF((SELECT {CONVERSION} FROM {{slice}}), 0))",
                    uses=("converted_prospect_id", "prospect_id"), fmt="float", baseline_by=("lead_source",)),
        ),
        scope_columns={"region": "region_code", "branch": "branch_id", "agent": "agent_id"},
        # an agent's branch and team beside the id: names alone are shared by several agents
        drill_columns=("kind", "record_id", "d", "agent_id", "branch_id", "team_id", "customer_id", "lead_source"),
    )
    return replace(cube, measures=cube.measures + league_measures(cube.measures))


def league_measures(base: tuple[Measure, ...]) -> tuple[Measure, ...]:
    """What the league table of the agents page adds: conversion and new customers by lead source,
    the book's 13-month persistency decided in the period, and each KPI's index against the company."""
    added = (
        *(m for source in LEAD_SOURCES for m in source_measures(*source)),
        sum_of("book_p13_due", "book_p13_due", "本期考核13个月应缴件数", "Due at month 13, decided in period",
               fmt="int"),
        sum_of("book_p13_kept", "book_p13_kept", "本期考核13个月继续件数", "Kept at month 13, decided in period",
               fmt="int"),
        ratio_of("book_persistency_13", "book_p13_kept", "book_p13_due", "13个月继续率（本期考核）",
                 "13-month persistency (decided in period)"),
    )
    measures = {m.name: m for m in base + added}
    return added + tuple(index_measure(measures, name, per_agent) for name, per_agent in INDEXED)
