"""The single customer view's data (客户单一视图): search, profile, relations and history of one
customer, limited to what the caller's Access allows. No Dash.

Visibility: a customer is visible iff every key of access.scope holds for them:
    region  the region of the customer's branch (dim_branch > dim_city > dim_province)
    branch  the customer's branch
    agent   at least one of the customer's policies was sold by one of the listed agents
A customer outside the scope is answered exactly as one that does not exist (None, no rows, not in
search suggestions), so a typed id cannot tell the two apart. Names, phones and ID numbers are
masked unless access.show_pii; without it, search does not match names either (a hit would confirm
a person's name). Every value reaches SQL as a bound parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from cubes.customer_flows import Period, period_flows_sql
from cubes.engine import Engine
from cubes.pii import mask_frame
from cubes.rules import load_rules
from cubes.scope import Access
from cubes.sql import Params

SEARCH_LIMIT = 20
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")

# scope key -> condition on the customer `c` and its branch geography `g`; {values} are bound params
SCOPE_CONDITIONS = {
    "region": "CAST(g.region_code AS VARCHAR) IN ({values})",
    "branch": "c.branch_id IN ({values})",
    "agent": "EXISTS (SELECT 1 FROM fact_policy sp WHERE sp.customer_id = c.customer_id AND sp.agent_id IN ({values}))",
}

BRANCH_GEOGRAPHY = """
    LEFT JOIN dim_branch b ON b.branch_id = c.branch_id
    LEFT JOIN dim_city ci ON ci.city_code = b.city_code
    LEFT JOIN dim_province g ON g.province_code = ci.province_code"""


def visible_ids_sql(access: Access, p: Params) -> str:
    """A SELECT of the ids of every customer the caller may see. An unknown scope key fails closed."""
    conditions = []
    for key, allowed in (access.scope.items() if access.scope is not None else ()):
        if key not in SCOPE_CONDITIONS:
            raise ValueError(f"the customer view cannot apply a row scope on '{key}'; valid: {', '.join(SCOPE_CONDITIONS)}")
        values = ", ".join(p.bind(v) for v in allowed)
        conditions.append(SCOPE_CONDITIONS[key].format(values=values) if allowed else "FALSE")
    where = " AND ".join(conditions) or "TRUE"
    return f"SELECT c.customer_id FROM dim_customer c {BRANCH_GEOGRAPHY} WHERE {where}"


def _masked(frame: pd.DataFrame, access: Access, columns: dict | None = None) -> pd.DataFrame:
    return frame if access.show_pii else mask_frame(frame, columns)


# --- search -------------------------------------------------------------------------------------------
def search(engine: Engine, access: Access, text: str | None, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """Visible customers whose id starts with `text` or (with PII rights) whose name contains it:
    customer_id, name (masked without PII rights), best matches first, at most `limit`."""
    text = (text or "").strip()
    if not text:
        return pd.DataFrame({"customer_id": [], "name": []})
    p = Params()
    visible = visible_ids_sql(access, p)
    exact, prefix = p.bind(text.upper()), p.bind(_escape_like(text.upper()) + "%")
    name_match, order = "FALSE", ""
    if access.show_pii:
        contains, starts = p.bind(f"%{_escape_like(text)}%"), p.bind(f"{_escape_like(text)}%")
        name_match, order = f"c.name LIKE {contains} ESCAPE '\\'", f"c.name LIKE {starts} ESCAPE '\\' DESC, "
    sql = f"""
        SELECT c.customer_id, c.name FROM dim_customer c
        WHERE (upper(c.customer_id) LIKE {prefix} ESCAPE '\\' OR {name_match}) AND c.customer_id IN ({visible})
        ORDER BY upper(c.customer_id) = {exact} DESC, {order}c.customer_id
        LIMIT {p.bind(int(limit))}"""
    return _masked(engine.read(sql, p.values), access).reset_index(drop=True)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def valid_id(raw: str | None) -> str | None:
    """The id as given when it could be a customer id at all, else None (never reaches SQL)."""
    raw = (raw or "").strip()
    return raw if ID_PATTERN.fullmatch(raw) else None


# --- one customer ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerRecord:
    """Everything the page shows about one visible customer. History frames hold the rows in the period."""

    profile: dict
    related: pd.DataFrame
    policies: pd.DataFrame
    premiums: pd.DataFrame
    claims: pd.DataFrame
    underwriting: pd.DataFrame
    events: pd.DataFrame
    visits: pd.DataFrame
    months: pd.DataFrame
    period: Period


PROFILE = """
    SELECT c.customer_id, c.name, c.phone, c.id_number, CAST(c.customer_type AS VARCHAR) AS customer_type,
           CAST(c.sex AS VARCHAR) AS sex, c.birth_date, date_sub('year', c.birth_date, CAST($as_of AS DATE)) AS age,
           c.occupation_code, o.name_zh AS occupation_zh, o.name_en AS occupation_en,
           CAST(c.income_band AS VARCHAR) AS income_band, c.first_policy_date,
           date_sub('year', c.first_policy_date, CAST($as_of AS DATE)) AS tenure_years,
           CAST(c.acquisition_source AS VARCHAR) AS acquisition_source, CAST(c.vip_tier AS VARCHAR) AS vip_tier,
           c.branch_id, b.name_zh AS branch_zh, b.name_en AS branch_en,
           CAST(g.region_code AS VARCHAR) AS region, r.name_zh AS region_zh, r.name_en AS region_en,
           c.corporate_group_id, CAST(c.group_role AS VARCHAR) AS group_role, c.parent_customer_id
    FROM dim_customer c {geography}
    LEFT JOIN dim_region r ON r.region_code = g.region_code
    LEFT JOIN dim_occupation o ON o.occupation_code = c.occupation_code
    WHERE c.customer_id = $id AND c.customer_id IN ({visible})"""

RELATED = """
    SELECT c.customer_id, c.name, CAST(c.group_role AS VARCHAR) AS group_role
    FROM dim_customer c
    WHERE c.corporate_group_id = $group AND c.customer_id <> $id AND c.customer_id IN ({visible})
    ORDER BY c.group_role, c.customer_id"""

POLICIES = """
    SELECT p.policy_id, p.product_code, pr.name_zh AS product_zh, pr.name_en AS product_en,
           CAST(p.channel_code AS VARCHAR) AS channel, p.agent_id, a.name AS agent_name, p.application_date,
           p.issue_date, CAST(p.status AS VARCHAR) AS status, p.status_date, p.sum_assured, p.annual_premium,
           CAST(p.payment_frequency AS VARCHAR) AS payment_frequency, p.premium_term_years, p.single_premium
    FROM fact_policy p
    LEFT JOIN dim_product pr ON pr.product_code = p.product_code
    LEFT JOIN dim_agent a ON a.agent_id = p.agent_id
    WHERE p.customer_id = $id
    ORDER BY p.issue_date, p.policy_id"""

# unpaid and past the grace period = missed; unpaid within it = still outstanding
PREMIUMS = """
    SELECT f.payment_id, f.policy_id, f.due_date, f.paid_date, f.amount, f.policy_year,
           CASE WHEN p.payment_frequency = 'single' THEN 'single'
                WHEN f.policy_year = 1 THEN 'first_year' ELSE 'renewal' END AS kind,
           CASE WHEN f.paid_date IS NOT NULL THEN 'paid'
                WHEN f.due_date + CAST({grace} AS INTEGER) < CAST({as_of} AS DATE) THEN 'missed'
                ELSE 'outstanding' END AS state
    FROM fact_premium f JOIN fact_policy p ON p.policy_id = f.policy_id
    WHERE p.customer_id = $id AND {period}
    ORDER BY f.due_date, f.payment_id"""

CLAIMS = """
    SELECT c.claim_id, c.policy_id, c.report_date, c.decision_date, c.amount_claimed, c.amount_paid,
           CAST(c.decision AS VARCHAR) AS decision
    FROM fact_claim c JOIN fact_policy p ON p.policy_id = c.policy_id
    WHERE p.customer_id = $id AND {period}
    ORDER BY c.report_date, c.claim_id"""

UNDERWRITING = """
    SELECT u.application_id, u.product_code, pr.name_zh AS product_zh, pr.name_en AS product_en,
           CAST(u.channel_code AS VARCHAR) AS channel, u.agent_id, u.application_date, u.decision_date,
           CAST(u.decision AS VARCHAR) AS decision, u.policy_id
    FROM fact_underwriting u LEFT JOIN dim_product pr ON pr.product_code = u.product_code
    WHERE u.customer_id = $id AND {period}
    ORDER BY u.application_date, u.application_id"""

EVENTS = """
    SELECT e.event_id, e.event_date, CAST(e.event_type AS VARCHAR) AS event_type,
           CAST(e.service_channel AS VARCHAR) AS service_channel, e.minutes, e.policy_id
    FROM fact_service_event e
    WHERE e.customer_id = $id AND {period}
    ORDER BY e.event_date DESC, e.event_id DESC"""

VISITS = """
    SELECT v.visit_id, v.visit_date, v.agent_id, a.name AS agent_name, v.minutes,
           CAST(v.lead_source AS VARCHAR) AS lead_source, CAST(v.outcome AS VARCHAR) AS outcome, v.policy_id
    FROM fact_visit v LEFT JOIN dim_agent a ON a.agent_id = v.agent_id
    WHERE v.customer_id = $id AND {period}
    ORDER BY v.visit_date, v.visit_id"""

# the customer's flows by month over the period's days: a cut month holds its kept days (as the
# contribution cube counts them), not the whole month
MONTHS = """
    SELECT * EXCLUDE (customer_id) FROM ({flows}) ORDER BY month"""

HISTORY = {  # frame -> (query, the date column the period limits)
    "premiums": (PREMIUMS, "f.due_date"),
    "claims": (CLAIMS, "c.report_date"),
    "underwriting": (UNDERWRITING, "u.application_date"),
    "events": (EVENTS, "e.event_date"),
    "visits": (VISITS, "v.visit_date"),
}


def customer_record(engine: Engine, access: Access, customer_id: str | None,
                    period: Period = Period()) -> CustomerRecord | None:
    """The customer's view, or None when there is no such customer in the caller's scope."""
    customer_id = valid_id(customer_id)
    if customer_id is None:
        return None
    rules = load_rules()
    p = Params({"id": customer_id, "as_of": rules.as_of.isoformat()})
    found = engine.read(PROFILE.format(geography=BRANCH_GEOGRAPHY, visible=visible_ids_sql(access, p)), p.values)
    if found.empty:
        return None
    profile = _masked(found, access).iloc[0].to_dict()
    related = _related(engine, access, customer_id, profile.get("corporate_group_id"))
    frames = {}
    for name, (sql, column) in HISTORY.items():
        q = Params({"id": customer_id})
        fields = {"period": period.condition(column, q)}
        if name == "premiums":
            fields.update(grace=q.bind(rules.grace_days), as_of=q.bind(rules.as_of.isoformat()))
        frames[name] = engine.read(sql.format(**fields), q.values)
    q = Params({"id": customer_id})
    months = engine.read(MONTHS.format(flows=period_flows_sql(period, q, by_month=True, customers="customer_id = $id")), q.values)
    policies = engine.read(POLICIES, {"id": customer_id})
    return CustomerRecord(profile, related, policies, months=months, period=period, **frames)


def _related(engine: Engine, access: Access, customer_id: str, group) -> pd.DataFrame:
    """Other visible members of the customer's corporate group (parent first, then subsidiaries)."""
    if not isinstance(group, str) or not group:
        return pd.DataFrame({"customer_id": [], "name": [], "group_role": []})
    p = Params({"id": customer_id, "group": group})
    return _masked(engine.read(RELATED.format(visible=visible_ids_sql(access, p)), p.values), access)


def serving_agent(policies: pd.DataFrame) -> tuple[str, str] | None:
    """(agent_id, name) of the agent who sold the customer's latest agent-sold policy."""
    sold = policies[policies["agent_id"].notna()]
    if sold.empty:
        return None
    latest = sold.sort_values(["issue_date", "policy_id"]).iloc[-1]
    return latest["agent_id"], latest["agent_name"]


def code_labels(engine: Engine) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, code) -> (zh, en) for every coded value (status, channel, event type ...)."""
    frame = engine.read("SELECT kind, code, name_zh, name_en FROM dim_code", {})
    return {(k, c): (zh, en) for k, c, zh, en in frame.itertuples(index=False)}
