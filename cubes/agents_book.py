"""The agents page's roster, and one agent's profile and customer book (营销员客户名册).

The book is every customer holding a policy the agent sold: policies sold to them, still in force,
annual premium in force, the 13-month persistency of those policies (cubes/cube_policies.py rules:
due when month 12 plus grace has passed by the as-of date) and the customer's contribution over the
days of the period, as the contribution cube counts it (cubes/customer_flows.py: a cut month's
kept days, its investment spread in proportion). The cube cannot express it: its grain has no
customer level and contribution lives in another fact.

Visibility: the agent must lie in the caller's row scope (region or branch of the agent's branch,
or the agent itself); an agent outside it is answered exactly as an unknown one (None). Names are
masked unless access.show_pii. Every value reaches SQL as a bound parameter. No Dash.
"""
from __future__ import annotations

import pandas as pd

from cubes.cube_agents import team_name_zh
from cubes.cube_policies import persistency_columns
from cubes.customer_flows import Period, period_flows_sql
from cubes.customer_view import visible_ids_sql
from cubes.engine import Engine
from cubes.pii import mask_frame
from cubes.rules import load_rules
from cubes.scope import Access
from cubes.sources import GEOGRAPHY, as_of_cte
from cubes.sql import Params

# scope key -> condition on the agent `a` and its branch geography `g`
SCOPE_CONDITIONS = {
    "region": "CAST(g.region_code AS VARCHAR) IN ({values})",
    "branch": "a.branch_id IN ({values})",
    "agent": "a.agent_id IN ({values})",
}


def _visible(access: Access, p: Params) -> str:
    """The condition an agent row must meet for the caller; an unknown scope key fails closed."""
    conditions = []
    for key, allowed in (access.scope.items() if access.scope is not None else ()):
        if key not in SCOPE_CONDITIONS:
            raise ValueError(f"the agent book cannot apply a row scope on '{key}'; valid: {', '.join(SCOPE_CONDITIONS)}")
        conditions.append(SCOPE_CONDITIONS[key].format(values=", ".join(p.bind(v) for v in allowed))
                          if allowed else "FALSE")
    return " AND ".join(conditions) or "TRUE"


def roster(engine: Engine, access: Access) -> pd.DataFrame:
    """Every agent the caller may see, in branch, team and agent order: keys and zh/en names of the
    branch, team and agent (columns named like the agents cube's levels) and the branch's region,
    province and city. Read from the dimension tables: the cube's answer at three levels costs a
    labelling and ordering of its 20,000 rows (10x) in Python."""
    p = Params()
    sql = f"""
WITH {GEOGRAPHY}
SELECT a.branch_id AS "agent.branch", b.name_zh AS "agent.branch|zh", b.name_en AS "agent.branch|en",
       a.team_id AS "agent.team", {team_name_zh("tm")} AS "agent.team|zh", tm.name_en AS "agent.team|en",
       a.agent_id AS "agent.agent", a.name AS "agent.agent|zh", a.name AS "agent.agent|en",
       CAST(g.region_code AS VARCHAR) AS "geography.region", CAST(g.province_code AS VARCHAR) AS "geography.province",
       CAST(g.city_code AS VARCHAR) AS "geography.city"
FROM dim_agent a
JOIN geo g ON g.branch_id = a.branch_id
JOIN dim_branch b ON b.branch_id = a.branch_id
JOIN dim_team tm ON tm.team_id = a.team_id
WHERE {_visible(access, p)}
ORDER BY a.branch_id, a.team_id, a.agent_id"""
    return engine.read(sql, p.values)


def agent_profile(engine: Engine, access: Access, agent_id: str | None) -> dict | None:
    """Name, branch, team, grade and dates of a visible agent, or None (unknown or out of scope)."""
    if not agent_id:
        return None
    p = Params()
    agent = p.bind(agent_id)
    sql = f"""
WITH {GEOGRAPHY}
SELECT a.agent_id, a.name, a.branch_id, b.name_zh AS branch_zh, b.name_en AS branch_en, a.team_id,
       {team_name_zh("tm")} AS team_zh, tm.name_en AS team_en, CAST(a.grade AS VARCHAR) AS grade,
       gr.name_zh AS grade_zh, gr.name_en AS grade_en, a.hire_date, a.leave_date
FROM dim_agent a
JOIN geo g ON g.branch_id = a.branch_id
JOIN dim_branch b ON b.branch_id = a.branch_id
JOIN dim_team tm ON tm.team_id = a.team_id
LEFT JOIN dim_code gr ON gr.kind = 'agent_grade' AND gr.code = CAST(a.grade AS VARCHAR)
WHERE a.agent_id = {agent} AND {_visible(access, p)}"""
    rows = engine.read(sql, p.values)
    return rows.iloc[0].to_dict() if len(rows) else None


def customer_book(engine: Engine, access: Access, agent_id: str, start: str | None, end: str | None) -> pd.DataFrame:
    """One row per customer of a visible agent, largest contribution first (empty when not visible);
    the contribution is the customer's over the days from `start` to `end` (ISO dates, either open)."""
    rules = load_rules()
    p = Params()
    agent = p.bind(agent_id)
    sql = f"""
WITH {as_of_cte(rules)}, {GEOGRAPHY},
paid_by_year AS (
    SELECT policy_id, min(paid_date) FILTER (WHERE policy_year = 2) AS first_paid_y2,
           min(paid_date) FILTER (WHERE policy_year = 3) AS first_paid_y3
    FROM fact_premium WHERE policy_id IN (SELECT policy_id FROM fact_policy WHERE agent_id = {agent})
    GROUP BY policy_id
),
sold AS (
    SELECT p.customer_id, p.status, p.annual_premium, {persistency_columns(12, 2, rules.grace_days)}
    FROM fact_policy p CROSS JOIN as_of_date
    LEFT JOIN paid_by_year pp ON pp.policy_id = p.policy_id
    JOIN dim_agent a ON a.agent_id = p.agent_id
    JOIN geo g ON g.branch_id = a.branch_id
    WHERE p.agent_id = {agent} AND {_visible(access, p)}
),
book AS (
    SELECT customer_id, count(*) AS policies, count(*) FILTER (WHERE status = 'in_force') AS in_force,
           coalesce(sum(annual_premium) FILTER (WHERE status = 'in_force'), 0) AS premium_in_force,
           coalesce(sum(p13_due), 0) AS p13_due, coalesce(sum(p13_kept), 0) AS p13_kept
    FROM sold
    WHERE customer_id IN ({visible_ids_sql(access, p)})  -- the customer's own branch must be in scope too
    GROUP BY customer_id
),
contribution AS (
    SELECT customer_id, contribution
    FROM ({period_flows_sql(Period(start, end), p, customers="customer_id IN (SELECT customer_id FROM book)",
                            measures=("contribution",))})
)
SELECT b.customer_id, c.name, CAST(c.vip_tier AS VARCHAR) AS vip_tier, v.name_zh AS vip_zh, v.name_en AS vip_en,
       b.policies, b.in_force, b.premium_in_force, b.p13_due, b.p13_kept,
       CAST(b.p13_kept AS DOUBLE) / NULLIF(b.p13_due, 0) AS persistency_13,
       coalesce(m.contribution, 0) AS contribution
FROM book b
JOIN dim_customer c ON c.customer_id = b.customer_id
LEFT JOIN dim_code v ON v.kind = 'vip_tier' AND v.code = CAST(c.vip_tier AS VARCHAR)
LEFT JOIN contribution m ON m.customer_id = b.customer_id
ORDER BY contribution DESC, b.customer_id"""
    frame = engine.read(sql, p.values)
    return frame if access.show_pii else mask_frame(frame)
