"""Demo service events (保全, inquiries, complaints, claim handling, reminders, VIP events) and agents' visits."""
from __future__ import annotations

import numpy as np

from data import reference as ref
from data.demo_arrays import choice_rows
from data.demo_writer import Counters, Writer, code_array, sql_date, sql_id

EVENT_TYPES = ref.codes("event_type")
SERVICE_CHANNELS = ref.codes("service_channel")

# Service: yearly events per customer by type; heavy users multiply inquiries and complaints.
SERVICE_RATE = {"servicing_change": 0.25, "inquiry": 0.6, "complaint": 0.03}
HEAVY_MULTIPLIER = {"servicing_change": 4.0, "inquiry": 10.0, "complaint": 15.0}
SERVICE_CHANNEL_MIX = {      # call_centre, branch_counter, online, agent
    "servicing_change": [0.25, 0.35, 0.30, 0.10], "inquiry": [0.40, 0.15, 0.35, 0.10],
    "complaint": [0.55, 0.25, 0.15, 0.05], "claim_handling": [0.30, 0.30, 0.30, 0.10],
    "renewal_reminder": [0.50, 0.0, 0.30, 0.20], "vip_activity": [0.10, 0.50, 0.10, 0.30],
}
SERVICE_MINUTES = np.array([8.0, 25.0, 4.0, 35.0])
TYPE_MINUTES = {"servicing_change": 1.5, "inquiry": 1.0, "complaint": 2.5, "claim_handling": 2.0,
                "renewal_reminder": 0.5, "vip_activity": 4.0}
# Visits: conversion by lead source (closes / prospects), scaled by each agent's skill.
CONVERSION = {"cold_visit": 0.09, "referral": 0.34}


def write_service_events(w: Writer, rng, c: dict, p: dict, prem: dict, cl: dict, cid, pid, as_of: int,
                         ids: Counters) -> None:
    """Servicing, inquiries and complaints by tenure, VIP events, claim handling, renewal reminders."""
    n = c["n"]
    years = (as_of - c["first_issue"]) / 365.25
    pol_count = np.bincount(p["cust"], minlength=n)
    pol_start = np.cumsum(pol_count) - pol_count
    annual_total = np.bincount(p["cust"], weights=p["annual"] + p["single"] / 10, minlength=n)
    parts = []   # (customer, policy or -1, day, type)
    for et in ("servicing_change", "inquiry", "complaint"):
        rate = SERVICE_RATE[et] * np.where(c["heavy"], HEAVY_MULTIPLIER[et], 1.0) * years
        if et == "servicing_change":
            rate = rate * np.sqrt(pol_count)
        count = rng.poisson(rate)
        who = np.repeat(np.arange(n), count)
        day = c["first_issue"][who] + (rng.random(len(who)) * (as_of - c["first_issue"][who])).astype(np.int64)
        pol = pol_start[who] + (rng.random(len(who)) * pol_count[who]).astype(np.int64)
        parts.append((who, pol, day, np.full(len(who), EVENT_TYPES.index(et))))
    vip_count = rng.poisson(np.where(annual_total > 30_000, 1.5, 0.0) * years)
    who = np.repeat(np.arange(n), vip_count)
    parts.append((who, np.full(len(who), -1),
                  c["first_issue"][who] + (rng.random(len(who)) * (as_of - c["first_issue"][who])).astype(np.int64),
                  np.full(len(who), EVENT_TYPES.index("vip_activity"))))
    per_claim = 1 + rng.poisson(0.6, len(cl["policy"]))
    cpol = np.repeat(cl["policy"], per_claim)
    cday = np.minimum(np.repeat(cl["report"], per_claim) + rng.integers(0, 30, len(cpol)), as_of)
    parts.append((p["cust"][cpol], cpol, cday, np.full(len(cpol), EVENT_TYPES.index("claim_handling"))))
    remind = np.flatnonzero((prem["policy_year"] >= 2) & prem["first_of_year"] & (rng.random(len(prem["due"])) < 0.7))
    rpol = prem["policy"][remind]
    parts.append((p["cust"][rpol], rpol, np.maximum(prem["due"][remind] - rng.integers(7, 30, len(remind)),
                                                    p["issue"][rpol]),
                  np.full(len(rpol), EVENT_TYPES.index("renewal_reminder"))))
    who, pol, day, etype = (np.concatenate(x) for x in zip(*parts))
    mix = np.array([SERVICE_CHANNEL_MIX[e] for e in EVENT_TYPES])[etype]
    older = c["age"][who] >= 55
    mix[:, 1] = np.where(older, mix[:, 1] + mix[:, 2] * 0.6, mix[:, 1])
    mix[:, 2] = np.where(older, mix[:, 2] * 0.4, mix[:, 2])
    channel = choice_rows(rng, mix)
    minutes = SERVICE_MINUTES[channel] * np.array([TYPE_MINUTES[e] for e in EVENT_TYPES])[etype] \
        * rng.lognormal(0, 0.5, len(who))
    w.insert("fact_service_event", {
        "id": ids.take("event", len(who)), "c": cid[who], "p": np.where(pol >= 0, pid[np.maximum(pol, 0)], -1),
        "day": np.minimum(day, as_of), "etype": code_array(etype, EVENT_TYPES),
        "ch": code_array(channel, SERVICE_CHANNELS), "minutes": np.round(minutes, 1),
    }, f"id AS event_id, {sql_id('C', 'c', 8)} AS customer_id, {sql_id('P', 'p', 9)} AS policy_id, "
       f"{sql_date('day')} AS event_date, etype AS event_type, ch AS service_channel, minutes")


def write_visits(w: Writer, rng, p: dict, c: dict, cid, pid, agents: dict, as_of: int, start: int,
                 ids: Counters) -> None:
    """Agency sales with their follow-up visits, and the prospects each agent visited in vain.

    Unsold prospects per sale are geometric with the agent's conversion rate for the lead source,
    so closes / prospects visited comes out at that rate: referrals convert far better."""
    sold = np.flatnonzero(p["channel"] == 0)
    agent = p["agent"][sold]
    referral = (c["source"][p["cust"][sold]] != 0)
    source = np.where(referral, 1, 0)
    conv = np.clip(np.where(referral, CONVERSION["referral"], CONVERSION["cold_visit"]) * agents["skill"][agent],
                   0.02, 0.85)
    follow = rng.poisson(agents["followups"][agent] * np.where(referral, 0.6, 1.0))
    s = np.repeat(np.arange(len(sold)), follow + 1)                   # the sale each visit leads to
    is_sale = np.arange(len(s)) == np.repeat(np.cumsum(follow + 1) - follow - 1, follow + 1)
    day = np.where(is_sale, p["application"][sold][s], p["application"][sold][s] - rng.integers(3, 60, len(s)))
    unsold = rng.negative_binomial(1, conv)
    prospect_sale = np.repeat(np.arange(len(sold)), unsold)
    visits = 1 + rng.poisson(0.5 * agents["followups"][agent][prospect_sale])
    u_rows = np.repeat(prospect_sale, visits)
    u_prospect = np.repeat(ids.take("lead", len(prospect_sale)), visits)
    u_day = p["application"][sold][u_rows] + rng.integers(-120, 60, len(u_rows))
    a_all = np.concatenate([agent[s], agent[u_rows]])
    lo = np.maximum(agents["hire"][a_all], start)
    hi = np.minimum(agents["leave"][a_all] - 1, as_of)
    day_all = np.clip(np.concatenate([day, u_day]), lo, hi)
    sale_all = np.concatenate([is_sale, np.zeros(len(u_rows), dtype=bool)])
    minutes = agents["minutes"][a_all] * rng.lognormal(0, 0.35, len(a_all)) * np.where(sale_all, 1.3, 1.0)
    customer = np.concatenate([cid[p["cust"][sold][s]], np.full(len(u_rows), -1)])
    w.insert("fact_visit", {
        "id": ids.take("visit", len(a_all)), "a": a_all,
        "lead": np.concatenate([np.full(len(s), -1), u_prospect]), "c": customer, "day": day_all,
        "minutes": np.round(minutes, 0), "src": code_array(np.concatenate([source[s], source[u_rows]]),
                                                      ref.codes("lead_source")),
        "sale": code_array(sale_all.astype(np.int64), ref.codes("visit_outcome")),
        "p": np.concatenate([np.where(is_sale, pid[sold][s], -1), np.full(len(u_rows), -1)]),
    }, f"id AS visit_id, {sql_id('A', 'a', 6)} AS agent_id, "
       f"coalesce({sql_id('L', 'lead', 10)}, {sql_id('C', 'c', 8)}) AS prospect_id, "
       f"{sql_id('C', 'c', 8)} AS customer_id, {sql_date('day')} AS visit_date, minutes, src AS lead_source, "
       f"sale AS outcome, {sql_id('P', 'p', 9)} AS policy_id")


def write_idle_agent_visits(w: Writer, rng, agents: dict, as_of: int, start: int, ids: Counters) -> None:
    """Agents who never sell still knock on doors: cold visits without a sale."""
    idle = np.flatnonzero(agents["weight"] == 0)
    lo = np.maximum(agents["hire"][idle], start)
    hi = np.minimum(agents["leave"][idle] - 1, as_of)
    count = rng.poisson(np.maximum(hi - lo, 0) / 365.25 * 40)
    a = np.repeat(idle, count)
    day = np.repeat(lo, count) + (rng.random(len(a)) * np.repeat(np.maximum(hi - lo, 1), count)).astype(np.int64)
    w.insert("fact_visit", {
        "id": ids.take("visit", len(a)), "a": a, "lead": ids.take("lead", len(a)), "day": day,
        "minutes": np.round(agents["minutes"][a] * rng.lognormal(0, 0.35, len(a)), 0),
    }, f"id AS visit_id, {sql_id('A', 'a', 6)} AS agent_id, {sql_id('L', 'lead', 10)} AS prospect_id, "
       f"NULL AS customer_id, {sql_date('day')} AS visit_date, minutes, 'cold_visit' AS lead_source, "
       f"'no_sale' AS outcome, NULL AS policy_id")
