"""Deterministic demo warehouse: a synthetic Chinese life insurer, 2021 to the params as-of date.

    python -m data.generate [--scale S] [--seed N] [--out PATH]

Scale 1.0 is about 100,000 customers. Customers are generated in fixed-size chunks, each with its
own random stream derived from (seed, chunk number), so the same seed and scale always give the
same warehouse and memory stays bounded at any scale. Arrays are built with numpy and written
by DuckDB from Arrow tables; identifiers and dates are formatted inside DuckDB.

The demo world's behaviour (lapse hazards, claim rates, channel mixes ...) is set in the
constants below; company rules (costs, commission, VIP, calendar) come from data/params.toml.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from data import reference as ref
from data.config import ParamsError, load_params
from data.derive import derive
from data.warehouse import DEMO_SEED, create_schema, demo_scale, warehouse_path

CUSTOMERS_PER_SCALE = 100_000
CHUNK = 50_000                      # customers per chunk; fixed so that chunking never changes the data
AGENTS_PER_SCALE = 2_000
CORPORATE_SHARE = 0.015

CHANNELS = ref.codes("channel")
FAMILIES = [f[0] for f in ref.PRODUCT_FAMILIES]
FREQS = ref.codes("payment_frequency")            # single annual semiannual quarterly monthly
PER_YEAR = np.array([1, 1, 2, 4, 12])             # instalments per year by frequency
STATUSES = ref.codes("policy_status")
INCOME_BANDS = ref.codes("income_band")
SOURCES = ref.codes("acquisition_source")
EVENT_TYPES = ref.codes("event_type")
SERVICE_CHANNELS = ref.codes("service_channel")
REGIONS = ref.codes("region")

# Channel mix of individual customers by region (banks sell more insurance in the east and centre).
CHANNEL_BY_REGION = {        # agency, bancassurance, telesales, online, broker
    "north": [46, 18, 10, 16, 10], "northeast": [55, 10, 12, 13, 10], "east": [36, 32, 8, 15, 9],
    "central": [40, 30, 9, 12, 9], "south": [44, 20, 10, 17, 9], "southwest": [52, 14, 11, 14, 9],
    "northwest": [58, 10, 12, 12, 8],
}
# Family choice by channel (columns in FAMILIES order) and an age multiplier by age group.
FAMILY_BY_CHANNEL = np.array([
    [8, 14, 30, 10, 10, 0, 0, 12, 8, 3, 5],     # agency
    [2, 18, 5, 2, 3, 0, 0, 30, 8, 22, 10],      # bancassurance
    [10, 3, 15, 25, 40, 0, 0, 3, 1, 2, 1],      # telesales
    [6, 1, 6, 45, 40, 0, 0, 1, 0, 1, 0],        # online
    [12, 12, 30, 12, 12, 0, 0, 10, 5, 3, 4],    # broker
    [0, 0, 0, 0, 0, 55, 45, 0, 0, 0, 0],        # group
], dtype=float)
AGE_GROUPS = np.array([30, 45, 60])             # <30, 30-44, 45-59, 60+
FAMILY_AGE = np.array([
    [1.2, 1.3, 0.8, 0.2], [0.5, 1.0, 1.3, 1.2], [1.3, 1.2, 0.8, 0.3], [1.3, 1.0, 0.9, 0.6],
    [1.4, 1.0, 0.8, 0.6], [1, 1, 1, 1], [1, 1, 1, 1], [0.3, 0.9, 1.6, 1.8], [0.3, 1.8, 0.6, 0.1],
    [0.5, 0.9, 1.4, 1.8], [0.5, 1.0, 1.3, 1.2],
]).T
# Premium: median annual premium by income band, times a family factor; lognormal spread.
PREMIUM_MEDIAN = np.array([2_500, 5_000, 9_000, 16_000, 35_000], dtype=float)
FAMILY_PREMIUM = np.array([0.35, 1.2, 0.8, 0.08, 0.04, 0, 0, 1.5, 1.0, 1.6, 1.3])
FAMILY_SUM_ASSURED = np.array([100, 25, 30, 0, 500, 0, 0, 1.1, 1.1, 1.15, 1.15])  # x annual premium
PREMIUM_SIGMA = 0.75
PREMIUM_TERMS = {"term_life": [10, 20], "whole_life": [3, 5, 10, 20], "critical_illness": [10, 20, 30],
                 "pension_annuity": [3, 5, 10, 20], "education_annuity": [5, 10], "endowment_5y": [3, 5],
                 "endowment_10y": [5, 10]}
SINGLE_PREMIUM_FAMILIES = {"whole_life", "pension_annuity", "endowment_5y", "endowment_10y"}
# Lapse hazard by policy year, scaled by channel and income. In year 1 a policy paid more than once
# a year lapses between instalments; an annual one is surrendered (cancelled) within the year.
LAPSE_BY_YEAR = np.array([0.03, 0.08, 0.045, 0.03] + [0.022] * 26)
LAPSE_CHANNEL = np.array([1.0, 1.1, 2.4, 2.8, 1.15, 0.8])
LAPSE_INCOME = np.array([1.35, 1.15, 1.0, 0.85, 0.7])
MONTHLY_SHORT_LAPSE = 0.30          # a year's lapse probability of a monthly-paid short-term policy
# Claims: yearly frequency by family and occupational risk factor; amounts lognormal.
RISK_FACTOR = np.array([1.0, 1.4, 2.0, 3.0, 4.5, 7.0])
GROUP_CLAIMS_PER_HEAD = {"group_accident": 0.012, "group_medical": 0.55}
GROUP_PREMIUM_PER_HEAD = {"group_accident": 150.0, "group_medical": 1_200.0}
GROUP_MEDICAL_CLAIM_MEDIAN = 700.0  # mostly outpatient bills
CLAIM_SIGMA = 1.4                   # heavy-tailed claim amounts: a few claimants cost a lot
GRACE_LATE_SHARE = 0.06             # renewals paid late but inside the grace period
# Service: yearly events per customer by type; heavy users multiply inquiries and complaints.
SERVICE_RATE = {"servicing_change": 0.25, "inquiry": 0.6, "complaint": 0.03}
HEAVY_USER_SHARE = 0.06
HEAVY_MULTIPLIER = {"servicing_change": 4.0, "inquiry": 10.0, "complaint": 15.0}
SERVICE_CHANNEL_MIX = {      # call_centre, branch_counter, online, agent
    "servicing_change": [0.25, 0.35, 0.30, 0.10], "inquiry": [0.40, 0.15, 0.35, 0.10],
    "complaint": [0.55, 0.25, 0.15, 0.05], "claim_handling": [0.30, 0.30, 0.30, 0.10],
    "renewal_reminder": [0.50, 0.0, 0.30, 0.20], "vip_activity": [0.10, 0.50, 0.10, 0.30],
}
SERVICE_MINUTES = np.array([8.0, 25.0, 4.0, 35.0])
TYPE_MINUTES = {"servicing_change": 1.5, "inquiry": 1.0, "complaint": 2.5, "claim_handling": 2.0,
                "renewal_reminder": 0.5, "vip_activity": 4.0}
# Agents: conversion by lead source (closes / prospects), scaled by each agent's skill.
CONVERSION = {"cold_visit": 0.09, "referral": 0.34}
INACTIVE_AGENT_SHARE = 0.15
DUCKDB_MEMORY = "2GB"

EPOCH = dt.date(1970, 1, 1)
NULL_DAY = -1_000_000               # a missing date among epoch days (birth dates go below 0)


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Epoch days plus whole months, the day clamped to the target month's length (Jan 31 + 1 = Feb 28)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m + np.asarray(months, dtype=np.int64)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    return (first + np.minimum(dom, length - 1)).astype(np.int64)


def dues_until(issue: np.ndarray, step: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """How many instalments, every `step` months from the issue date, fall due on or before `limit`."""
    k = np.floor_divide(_month_index(limit) - _month_index(issue), step)
    k = np.where(add_months(issue, k * step) > limit, k - 1, k)
    return np.maximum(k + 1, 0)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (rows x categories) weight matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _weighted_in_groups(rng, group: np.ndarray, starts: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Pick one member per row from its group, by weight; members of a group are contiguous.

    `cum` is the running weight over all members, `starts` each group's first member (plus the end).
    """
    lo = np.where(starts[group] > 0, cum[starts[group] - 1], 0.0)
    hi = cum[starts[group + 1] - 1]
    pick = np.searchsorted(cum, lo + rng.random(len(group)) * (hi - lo), side="right")
    return np.clip(pick, starts[group], starts[group + 1] - 1)


def _names(rng, n: int) -> pa.Array:
    surname = pa.array(ref.SURNAMES).take(pa.array(rng.integers(0, len(ref.SURNAMES), n)))
    given = pa.array(ref.GIVEN_CHARS)
    first = given.take(pa.array(rng.integers(0, len(ref.GIVEN_CHARS), n)))
    second = pa.array(np.where(rng.random(n) < 0.7, np.array(ref.GIVEN_CHARS, dtype=object)[
        rng.integers(0, len(ref.GIVEN_CHARS), n)], ""), pa.string())
    return pc.binary_join_element_wise(surname, first, second, "")


def _dict(codes: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(labels))


class _Writer:
    """Appends Arrow tables to warehouse tables through one SELECT that formats ids and dates."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def insert(self, table: str, columns: dict, select: str) -> None:
        frame = pa.table(columns)
        self.con.register("staging_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM staging_frame")
        finally:
            self.con.unregister("staging_frame")


def _date(col: str) -> str:
    return f"CASE WHEN {col} <= {NULL_DAY} THEN NULL ELSE DATE '1970-01-01' + CAST({col} AS INTEGER) END"


def _id(prefix: str, col: str, width: int) -> str:
    return f"CASE WHEN {col} < 0 THEN NULL ELSE printf('{prefix}%0{width}d', {col}) END"


# ---------------------------------------------------------------------------------------------
# Reference dimensions and the branch network


def _write_reference(w: _Writer, rng: np.random.Generator, params: dict) -> dict:
    con = w.con
    code_rows = [(kind, code, zh, en, i) for kind, rows in ref.CODE_LABELS.items()
                 for i, (code, zh, en) in enumerate(rows)]
    con.executemany("INSERT INTO dim_code VALUES (?, ?, ?, ?, ?)", code_rows)
    con.executemany("INSERT INTO dim_region VALUES (?, ?, ?, ?)",
                    [(c, zh, en, i) for i, (c, zh, en) in enumerate(ref.REGIONS)])
    con.executemany("INSERT INTO dim_province VALUES (?, ?, ?, ?)", ref.PROVINCES)
    con.executemany("INSERT INTO dim_city VALUES (?, ?, ?, ?, ?)", [c[:5] for c in ref.CITIES])
    con.executemany("INSERT INTO dim_industry VALUES (?, ?, ?)", ref.INDUSTRIES)
    con.executemany("INSERT INTO dim_occupation VALUES (?, ?, ?, ?, ?)", [o[:5] for o in ref.OCCUPATIONS])
    con.executemany("INSERT INTO dim_product_line VALUES (?, ?, ?, ?)",
                    [(c, zh, en, i) for i, (c, zh, en) in enumerate(ref.PRODUCT_LINES)])
    con.executemany("INSERT INTO dim_channel VALUES (?, ?, ?, ?)",
                    [(c, zh, en, i) for i, (c, zh, en) in enumerate(ref.CHANNELS)])
    products = ref.products()
    con.executemany("INSERT INTO dim_product VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(p["product_code"], p["name_zh"], p["name_en"], p["line_code"], p["term_type"],
                      p["guaranteed_rate"], p["coverage_years"], p["launch_date"]) for p in products])

    province_region = {p[0]: REGIONS.index(p[3]) for p in ref.PROVINCES}
    branches = []
    for city_idx, (code, zh, en, prov, tier, weight) in enumerate(ref.CITIES):
        count = ref.BRANCHES_PER_TIER[tier]
        for b in range(count):
            dzh, den = ref.BRANCH_DISTRICTS[b]
            branches.append((f"B{code}{b + 1:02d}", f"{zh}{dzh}营业部", f"{en} {den} Office", code, city_idx,
                             weight / count * float(rng.lognormal(0, 0.3)), province_region[prov]))
    opened = _day(dt.date(2005, 1, 1)) + rng.integers(0, _day(params["start_date"]) - _day(dt.date(2005, 1, 1)),
                                                       len(branches))
    con.executemany("INSERT INTO dim_branch VALUES (?, ?, ?, ?, ?)",
                    [(b[0], b[1], b[2], b[3], EPOCH + dt.timedelta(days=int(o))) for b, o in zip(branches, opened)])
    branch_city = np.array([b[4] for b in branches])
    branch_weight = np.array([b[5] for b in branches])
    city_starts = np.searchsorted(branch_city, np.arange(len(ref.CITIES) + 1))
    return {
        "branch_ids": [b[0] for b in branches],
        "branch_city": branch_city,
        "branch_region": np.array([b[6] for b in branches]),
        "branch_weight": branch_weight,
        "branch_cum": np.cumsum(branch_weight),
        "city_starts": city_starts,
        "city_weight": np.array([c[5] for c in ref.CITIES]),
        "city_tier": np.array([c[4] for c in ref.CITIES]),
        "city_province": np.array([int(c[3]) for c in ref.CITIES]),
        "product_codes": [p["product_code"] for p in products],
        "product_family": np.array([FAMILIES.index(p["family"]) for p in products]),
        "product_launch": np.array([_day(p["launch_date"]) for p in products]),
    }


# ---------------------------------------------------------------------------------------------
# Agents: a few stars, a long tail, some inactive; teams of about eight under each branch


def _write_agents(w: _Writer, rng: np.random.Generator, world: dict, scale: float, params: dict) -> dict:
    as_of, start = _day(params["as_of_date"]), _day(params["start_date"])
    n_branch = len(world["branch_ids"])
    share = world["branch_weight"] / world["branch_weight"].sum()
    per_branch = np.maximum(3, np.round(share * AGENTS_PER_SCALE * scale)).astype(np.int64)
    n = int(per_branch.sum())
    branch = np.repeat(np.arange(n_branch), per_branch)
    rank = np.arange(n) - np.repeat(np.cumsum(per_branch) - per_branch, per_branch)   # 0 = manager
    team_in_branch = np.maximum(rank - 1, 0) // 8
    teams_per_branch = np.maximum(per_branch - 2, 0) // 8 + 1
    team_offset = np.cumsum(teams_per_branch) - teams_per_branch
    team = team_offset[branch] + team_in_branch
    is_manager = rank == 0
    is_supervisor = (rank >= 1) & ((rank - 1) % 8 == 0)
    leader = is_manager | is_supervisor

    hire = np.where(leader, _day(dt.date(2008, 1, 1)) + rng.integers(0, 3650, n),
                    _day(dt.date(2017, 1, 1)) + rng.integers(0, as_of - 30 - _day(dt.date(2017, 1, 1)), n))
    leaves = ~leader & (rng.random(n) < 0.5)
    leave = hire + 60 + rng.exponential(900, n).astype(np.int64)
    leave = np.where(leaves & (leave < as_of), leave, -1)
    hire = np.where(~leader & (leave >= 0) & (leave < start), start + rng.integers(0, 400, n), hire)
    leave = np.where((leave >= 0) & (leave <= hire), hire + 180, leave)
    leave = np.where(leave >= as_of, -1, leave)
    tenure = (np.where(leave >= 0, leave, as_of) - hire) / 365.25
    grade = np.select([is_manager, is_supervisor, tenure < 1, tenure < 4], [4, 3, 0, 1], 2)

    weight = rng.lognormal(0, 1.15, n) * np.select([is_manager, is_supervisor], [0.3, 1.5], 1.0)
    weight[~leader & (rng.random(n) < INACTIVE_AGENT_SHARE)] = 0.0
    agents = {
        "branch": branch, "hire": hire, "leave": np.where(leave >= 0, leave, np.iinfo(np.int64).max),
        "weight": weight, "cum": np.cumsum(weight), "starts": np.searchsorted(branch, np.arange(n_branch + 1)),
        "skill": np.exp(rng.normal(0, 0.35, n)),
        "followups": rng.lognormal(np.log(1.1), 0.5, n),
        "minutes": rng.lognormal(np.log(45), 0.3, n),
    }
    branch_ids = np.array(world["branch_ids"], dtype=object)
    team_branch = np.repeat(np.arange(n_branch), teams_per_branch)
    w.insert("dim_team", {"t": np.arange(len(team_branch)), "b": pa.array(branch_ids[team_branch], pa.string())},
             f"{_id('T', 't', 5)} AS team_id, b || '团队' || (t + 1) AS name_zh, 'Team ' || (t + 1) AS name_en, "
             "b AS branch_id")
    w.insert("dim_agent", {"a": np.arange(n), "name": _names(rng, n), "t": team,
                           "b": pa.array(branch_ids[branch], pa.string()),
                           "grade": _dict(grade, ref.codes("agent_grade")), "hire": hire,
                           "leave": np.where(leave >= 0, leave, NULL_DAY)},
             f"{_id('A', 'a', 6)} AS agent_id, name, {_id('T', 't', 5)} AS team_id, b AS branch_id, "
             f"grade, {_date('hire')} AS hire_date, {_date('leave')} AS leave_date")
    return agents


def _pick_agents(rng, agents: dict, branch: np.ndarray, day: np.ndarray) -> np.ndarray:
    """An agent of the branch, weighted by productivity and active on the day (else the branch manager)."""
    pick = np.full(len(branch), -1)
    todo = np.arange(len(branch))
    for _ in range(8):
        cand = _weighted_in_groups(rng, branch[todo], agents["starts"], agents["cum"])
        ok = (agents["hire"][cand] <= day[todo]) & (day[todo] < agents["leave"][cand]) & (agents["weight"][cand] > 0)
        pick[todo[ok]] = cand[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    pick[todo] = agents["starts"][branch[todo]]
    return pick


# ---------------------------------------------------------------------------------------------
# One chunk of customers with everything that happens to them


class _Counters:
    def __init__(self):
        self.policy = self.claim = self.application = self.event = self.visit = self.premium = self.lead = 0

    def take(self, name: str, n: int) -> np.ndarray:
        first = getattr(self, name)
        setattr(self, name, first + n)
        return np.arange(first, first + n, dtype=np.int64)


def _generate_chunk(w: _Writer, rng, first_customer: int, n: int, world: dict, agents: dict, params: dict,
                    ids: _Counters) -> None:
    as_of, start = _day(params["as_of_date"]), _day(params["start_date"])
    grace = params["grace_days"]
    cust = _customers(rng, n, world, as_of, start)
    pol = _policies(rng, cust, world, agents, as_of)
    prem = _lapses_and_premiums(rng, pol, cust, as_of, grace)
    claims = _claims(rng, pol, cust, prem, as_of)

    cid = first_customer + np.arange(n)
    _write_customers(w, rng, cust, cid, world, pol)
    pid = ids.take("policy", len(pol["cust"]))
    _write_policies(w, pol, cid, pid, world)
    _write_premiums(w, prem, pid, ids)
    _write_claims(w, claims, pid, ids)
    _write_underwriting(w, rng, pol, cust, cid, pid, world, ids)
    _write_service(w, rng, cust, pol, prem, claims, cid, pid, as_of, ids)
    _write_visits(w, rng, pol, cust, cid, pid, agents, as_of, start, ids)


def _issue_days(rng, n: int, start: int, as_of: int) -> np.ndarray:
    """Issue dates with growth over the years and the first-quarter sales push (开门红)."""
    months = np.arange(_month_index(np.array([start]))[0], _month_index(np.array([as_of]))[0] + 1)
    season = np.array([2.0, 1.3, 1.5, 0.9, 0.85, 0.95, 0.8, 0.8, 0.85, 0.8, 0.85, 0.95])
    weight = season[months % 12] * np.exp(0.07 * (months - months[0]) / 12)
    m = months[np.searchsorted(np.cumsum(weight), rng.random(n) * weight.sum(), side="right")]
    first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (m + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    return np.minimum(first + (rng.random(n) * length).astype(np.int64), as_of)


def _customers(rng, n: int, world: dict, as_of: int, start: int) -> dict:
    corporate = rng.random(n) < CORPORATE_SHARE
    city = np.searchsorted(np.cumsum(world["city_weight"]), rng.random(n) * world["city_weight"].sum(),
                           side="right")
    branch = _weighted_in_groups(rng, city, world["city_starts"], world["branch_cum"])
    region = world["branch_region"][branch]
    age = np.clip(rng.normal(38, 11, n), 18, 70).astype(np.int64)
    age_group = np.searchsorted(AGE_GROUPS, age, side="right")
    mix = np.array([CHANNEL_BY_REGION[r] for r in REGIONS], dtype=float)[region]
    mix[:, 3] *= np.array([2.0, 1.0, 0.5, 0.25])[age_group]          # online is young
    mix[:, 2] *= np.array([1.2, 1.0, 0.9, 0.6])[age_group]
    mix[:, 1] *= np.array([0.4, 0.9, 1.5, 2.0])[age_group]           # bank customers are older
    channel = _choice_rows(rng, mix)
    channel = np.where(corporate, np.where(rng.random(n) < 0.85, 5, 4), channel)
    first_issue = _issue_days(rng, n, start, as_of)
    birth = first_issue - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)

    tier = world["city_tier"][city]
    latent = rng.normal(0, 1, n) + np.array([0, 0.45, 0.2, -0.1, -0.35])[tier] - ((age - 45) / 18.0) ** 2 * 0.5
    income = np.searchsorted([-0.9, 0.1, 0.95, 1.75], latent)
    occ_weight = np.array([o[5] for o in ref.OCCUPATIONS])
    occupation = np.searchsorted(np.cumsum(occ_weight), rng.random(n) * occ_weight.sum(), side="right")
    occ_codes = [o[0] for o in ref.OCCUPATIONS]
    occupation = np.where((age < 23) & (rng.random(n) < 0.6), occ_codes.index(ref.STUDENT_OCCUPATION), occupation)
    occupation = np.where((age >= 58) & (rng.random(n) < 0.7), occ_codes.index(ref.RETIRED_OCCUPATION), occupation)
    risk_class = np.array([o[4] for o in ref.OCCUPATIONS])[occupation]

    # Acquisition source follows the first channel; agents win about a third by referral.
    source = np.array([0, 2, 3, 4, 1, 5])[channel]
    source = np.where((channel == 0) & (rng.random(n) < 0.36), 1, source)
    # Death: Gompertz mortality over the years since the first policy.
    years = (as_of - first_issue) / 365.25
    hazard = 0.0004 * np.exp(0.09 * (age - 30))
    dies = ~corporate & (rng.random(n) < 1 - np.exp(-hazard * years))
    death = np.where(dies, first_issue + 1 + (rng.random(n) * (as_of - first_issue)).astype(np.int64), -1)
    return {"n": n, "corporate": corporate, "city": city, "branch": branch, "region": region, "age": age,
            "age_group": age_group, "channel": channel, "first_issue": first_issue, "birth": birth,
            "income": income, "occupation": occupation, "risk_class": risk_class, "source": source,
            "death": death, "sex": (rng.random(n) < 0.48).astype(np.int64),
            "heavy": rng.random(n) < HEAVY_USER_SHARE, "employees": np.maximum(5, rng.lognormal(np.log(40), 1.0, n))}


def _policies(rng, c: dict, world: dict, agents: dict, as_of: int) -> dict:
    n = c["n"]
    corp = c["corporate"]
    life_end = np.where(c["death"] >= 0, c["death"], as_of)
    # Individuals buy 1 + Poisson more policies, wealthier and agency customers more; corporates
    # renew their group cover every year with probability 0.85.
    extra_rate = np.array([1.6, 0.8, 0.55, 0.8, 1.05, 0])[c["channel"]] * np.array([0.6, 0.8, 1.0, 1.3, 1.6])[c["income"]]
    years_left = (as_of - c["first_issue"]) // 365
    renewals = np.minimum(rng.geometric(0.15, n) - 1, years_left)
    count = 1 + np.where(corp, renewals, np.minimum(rng.poisson(extra_rate), 5))
    cust = np.repeat(np.arange(n), count)
    k = np.arange(len(cust)) - np.repeat(np.cumsum(count) - count, count)
    later = c["first_issue"][cust] + (rng.random(len(cust)) * (life_end[cust] - c["first_issue"][cust])).astype(np.int64)
    issue = np.where(k == 0, c["first_issue"][cust], np.where(corp[cust], c["first_issue"][cust] + 365 * k, later))
    issue = np.minimum(issue, as_of)
    switch = (k > 0) & ~corp[cust] & (rng.random(len(cust)) < 0.3)
    mix = np.array([CHANNEL_BY_REGION[r] for r in REGIONS], dtype=float)[c["region"][cust]]
    channel = np.where(switch, _choice_rows(rng, mix), c["channel"][cust])

    age = c["age"][cust] + (issue - c["first_issue"][cust]) // 365
    age_group = np.searchsorted(AGE_GROUPS, age, side="right")
    fam_p = FAMILY_BY_CHANNEL[channel] * FAMILY_AGE[age_group]
    family = _choice_rows(rng, fam_p)
    fam_names = np.array(FAMILIES)

    # The product generation on sale at the issue date.
    pf, pl = world["product_family"], world["product_launch"]
    product = np.zeros(len(cust), dtype=np.int64)
    for f in range(len(FAMILIES)):
        rows = np.flatnonzero(family == f)
        gens = np.flatnonzero(pf == f)
        product[rows] = gens[np.maximum(np.searchsorted(pl[gens], issue[rows], side="right") - 1, 0)]

    short = np.isin(fam_names[family], ["medical", "personal_accident", "group_accident", "group_medical"])
    digital = np.isin(channel, [2, 3])
    single_p = np.where(channel == 1, 0.45, np.where(channel == 0, 0.08, 0.05))
    single = ~short & np.isin(fam_names[family], list(SINGLE_PREMIUM_FAMILIES)) & (rng.random(len(cust)) < single_p)
    freq = _choice_rows(rng, np.where(digital[:, None], [[0, 0.4, 0.03, 0.02, 0.55]], [[0, 0.5, 0.05, 0.05, 0.4]]))
    freq = np.where(short, np.where((fam_names[family] == "medical") & (rng.random(len(cust)) < np.where(digital, 0.6, 0.25)), 4, 1), freq)
    freq = np.where(single, 0, freq)
    term = np.ones(len(cust), dtype=np.int64)
    for fam, options in PREMIUM_TERMS.items():
        rows = np.flatnonzero((fam_names[family] == fam) & ~single)
        term[rows] = np.array(options)[rng.integers(0, len(options), len(rows))]

    base = PREMIUM_MEDIAN[c["income"][cust]] * FAMILY_PREMIUM[family] * rng.lognormal(0, PREMIUM_SIGMA, len(cust))
    heads = c["employees"][cust] * rng.lognormal(0, 0.1, len(cust))
    per_head = np.where(fam_names[family] == "group_accident", GROUP_PREMIUM_PER_HEAD["group_accident"],
                        GROUP_PREMIUM_PER_HEAD["group_medical"])
    annual = np.where(np.isin(fam_names[family], ["group_accident", "group_medical"]), heads * per_head, base)
    annual = np.round(annual, -1) + 10
    single_amount = np.where(single, np.round(annual * rng.lognormal(np.log(6), 0.4, len(cust)), -2), 0.0)
    annual = np.where(single, 0.0, annual)
    coverage = np.array([f[3] or 0 for f in ref.PRODUCT_FAMILIES])[family]
    sum_assured = np.select(
        [fam_names[family] == "medical", np.isin(fam_names[family], ["group_accident", "group_medical"]),
         np.isin(fam_names[family], ["pension_annuity", "education_annuity", "endowment_5y", "endowment_10y"])],
        [2_000_000.0, np.round(heads) * 100_000.0, (annual * term + single_amount) * FAMILY_SUM_ASSURED[family]],
        np.maximum(annual, single_amount / 6) * FAMILY_SUM_ASSURED[family])
    sum_assured = np.round(np.maximum(sum_assured, 10_000.0), -3)

    application = issue - np.where(digital, rng.integers(0, 2, len(cust)), rng.integers(2, 21, len(cust)))
    branch = c["branch"][cust]
    agent = np.full(len(cust), -1)
    sold = np.flatnonzero(channel == 0)
    agent[sold] = _pick_agents(rng, agents, branch[sold], application[sold])
    # A customer's later agency policies mostly go through the agent who sold the first one.
    first_agent = np.full(n, -1)
    first_of_cust = np.unique(cust[sold], return_index=True)
    first_agent[first_of_cust[0]] = agent[sold[first_of_cust[1]]]
    keep = first_agent[cust[sold]]
    stay = (keep >= 0) & (agents["hire"][keep] <= application[sold]) & (application[sold] < agents["leave"][keep]) \
        & (rng.random(len(sold)) < 0.8)
    agent[sold[stay]] = keep[stay]
    return {"cust": cust, "issue": issue, "application": application, "channel": channel, "family": family,
            "product": product, "freq": freq, "term": term, "annual": annual, "single": single_amount,
            "sum_assured": sum_assured, "coverage": coverage, "short": short, "agent": agent, "branch": branch,
            "age": age, "heads": heads}


def _lapses_and_premiums(rng, p: dict, c: dict, as_of: int, grace: int) -> dict:
    """Decide each policy's fate (lapse, surrender, maturity, death) and expand its instalments."""
    m = len(p["cust"])
    per_year = PER_YEAR[p["freq"]]
    step = 12 // per_year
    issue = p["issue"]
    total_dues = np.where(p["freq"] == 0, 1, p["term"] * per_year)

    hazard = LAPSE_BY_YEAR[None, :] * (LAPSE_CHANNEL[p["channel"]] * LAPSE_INCOME[c["income"][p["cust"]]])[:, None]
    hazard = np.where(p["short"][:, None], 0.0, hazard)
    monthly_short = p["short"] & (p["freq"] == 4)
    hazard[:, 0] = np.where(monthly_short, MONTHLY_SHORT_LAPSE * LAPSE_CHANNEL[p["channel"]] / 2, hazard[:, 0])
    hazard = np.where(np.arange(30)[None, :] < np.where(p["freq"] == 0, 0, p["term"])[:, None], hazard, 0.0)
    lapse_cum = 1 - np.cumprod(1 - np.minimum(hazard, 0.95), axis=1)
    year = (lapse_cum <= rng.random(m)[:, None]).sum(axis=1)          # 0-based lapse year; 30 = never
    lapses = year < 30
    within = np.where(year == 0, 1 + (rng.random(m) * np.maximum(per_year - 1, 1)).astype(np.int64),
                      np.where(rng.random(m) < 0.75, 0, (rng.random(m) * per_year).astype(np.int64)))
    lapse_k = np.where(lapses, year * per_year + within, np.iinfo(np.int64).max // 4)
    lapse_due = add_months(issue, np.minimum(lapse_k, 1200) * step)
    cancelled = lapses & (year == 0) & (per_year == 1)
    surrender = cancelled | lapses & (year >= 2) & (rng.random(m) < 0.5)
    surrender_day = np.where(cancelled, issue + rng.integers(15, 350, m),
                             lapse_due - 1 - (rng.random(m) * step * 30).astype(np.int64))

    big = np.iinfo(np.int64).max // 4
    death = c["death"][p["cust"]]
    t_death = np.where(death >= 0, death, big)
    t_mature = np.where(p["coverage"] > 0, add_months(issue, p["coverage"] * 12), big)
    t_lapse = np.where(lapses & ~surrender, lapse_due + grace, big)
    t_surr = np.where(surrender, surrender_day, big)
    ends = np.stack([np.full(m, big), t_lapse, t_surr, t_mature, t_death])
    status = np.argmin(ends, axis=0)
    status_day = ends[status, np.arange(m)]
    status = np.where(status_day <= as_of, status, 0)
    status_day = np.where(status == 0, issue, status_day)

    # Instalments due while the policy runs: up to the as-of date, the lapse instalment (unpaid),
    # and strictly before surrender, maturity or death.
    stop = np.minimum.reduce([t_surr, t_mature, t_death]) - 1
    n_due = np.minimum.reduce([total_dues, dues_until(issue, step, np.full(m, as_of)),
                               dues_until(issue, step, np.minimum(stop, as_of)),
                               np.where(lapses & ~surrender, lapse_k + 1, np.where(surrender, lapse_k, big))])
    n_due = np.maximum(n_due, 1)
    policy = np.repeat(np.arange(m), n_due)
    k = np.arange(len(policy)) - np.repeat(np.cumsum(n_due) - n_due, n_due)
    due = add_months(issue[policy], k * step[policy])
    amount = np.where(p["freq"] == 0, p["single"], np.round(p["annual"] / per_year, 2))[policy]
    missed = lapses[policy] & ~surrender[policy] & (k == lapse_k[policy])
    late = rng.random(len(k)) < GRACE_LATE_SHARE
    offset = np.where(late, rng.integers(1, grace, len(k)), rng.integers(-15, 8, len(k)))
    paid = np.where(k == 0, p["application"][policy], due + offset)
    paid = np.where(missed | (paid > as_of), NULL_DAY, paid)
    p.update(status=status, status_day=status_day, per_year=per_year, lapse_k=lapse_k)
    return {"policy": policy, "due": due, "paid": paid, "amount": amount,
            "policy_year": k // per_year[policy] + 1, "first_of_year": k % per_year[policy] == 0}


def _claims(rng, p: dict, c: dict, prem: dict, as_of: int) -> dict:
    fam = np.array(FAMILIES)[p["family"]]
    rc = c["risk_class"][p["cust"]]
    age = p["age"]
    exposure_end = np.where(p["status"] == 0, as_of, p["status_day"])
    years = np.maximum(exposure_end - p["issue"], 0) / 365.25
    rate = np.select(
        [fam == "medical", fam == "personal_accident", fam == "critical_illness",
         fam == "group_accident", fam == "group_medical"],
        [0.08 * np.exp(0.035 * (age - 40)) * (1 + 0.1 * (rc - 1)),
         0.025 * RISK_FACTOR[rc - 1] * (1 + 0.015 * (age - 40)),
         0.0025 * np.exp(0.08 * (age - 40)),
         GROUP_CLAIMS_PER_HEAD["group_accident"] * p["heads"],
         GROUP_CLAIMS_PER_HEAD["group_medical"] * p["heads"]], 0.0)
    count = rng.poisson(np.maximum(rate, 0) * years)
    count = np.where(fam == "critical_illness", np.minimum(count, 1), count)
    policy = np.repeat(np.arange(len(fam)), count)
    report = p["issue"][policy] + (rng.random(len(policy)) * (exposure_end - p["issue"])[policy]).astype(np.int64)
    median = np.select([fam[policy] == "group_medical", np.isin(fam[policy], ["personal_accident", "group_accident"])],
                       [GROUP_MEDICAL_CLAIM_MEDIAN, 3_000.0], 3_500.0)
    claimed = np.minimum(median * rng.lognormal(0, CLAIM_SIGMA, len(policy)), p["sum_assured"][policy])
    claimed = np.where(fam[policy] == "critical_illness", p["sum_assured"][policy], claimed)

    # Death claims: the sum assured for life and critical illness, the premiums paid plus a little
    # for savings products; other lines end without a claim.
    dead = np.flatnonzero((p["status"] == 4) & np.isin(fam, ["term_life", "whole_life", "critical_illness",
                                                           "pension_annuity", "education_annuity",
                                                           "endowment_5y", "endowment_10y"]))
    paid_to_date = np.bincount(prem["policy"], weights=np.where(prem["paid"] > NULL_DAY, prem["amount"], 0.0),
                               minlength=len(fam))
    death_amount = np.where(np.isin(fam[dead], ["term_life", "whole_life", "critical_illness"]),
                            p["sum_assured"][dead], np.round(paid_to_date[dead] * 1.05, 2))
    policy = np.concatenate([policy, dead])
    report = np.concatenate([report, p["status_day"][dead] + rng.integers(3, 40, len(dead))])
    claimed = np.round(np.concatenate([claimed, death_amount]), 2)
    early = report - p["issue"][policy] < 180
    decision = report + 3 + rng.exponential(18, len(policy)).astype(np.int64)
    declined = rng.random(len(policy)) < np.where(early, 0.2, 0.07)
    outcome = np.where(decision > as_of, 2, np.where(declined, 1, 0))
    paid = np.where(outcome == 0, np.round(claimed * rng.uniform(0.75, 1.0, len(policy)), 2), 0.0)
    paid = np.where((outcome == 0) & (np.arange(len(policy)) >= len(policy) - len(dead)), claimed, paid)
    keep = report <= as_of
    return {"policy": policy[keep], "report": report[keep], "decision": np.where(outcome == 2, NULL_DAY, decision)[keep],
            "claimed": claimed[keep], "paid": paid[keep], "outcome": outcome[keep]}


# ---------------------------------------------------------------------------------------------
# Writers for one chunk


def _write_customers(w: _Writer, rng, c: dict, cid: np.ndarray, world: dict, p: dict) -> None:
    n = c["n"]
    corp = c["corporate"]
    words = pa.array(ref.COMPANY_WORDS)
    kinds = rng.integers(0, len(ref.COMPANY_KINDS), n)
    company = pc.binary_join_element_wise(
        words.take(pa.array(rng.integers(0, len(ref.COMPANY_WORDS), n))),
        words.take(pa.array(rng.integers(0, len(ref.COMPANY_WORDS), n))),
        pa.array([k[0] for k in ref.COMPANY_KINDS]).take(pa.array(kinds)), "")
    name = pc.if_else(pa.array(corp), company, _names(rng, n))

    # 18-digit resident ID: area code, birth date, sequence (odd for men), ISO 7064 MOD 11-2 check.
    area = world["city_province"][c["city"]] * 10_000 + rng.integers(1, 30, n) * 100 + rng.integers(1, 20, n)
    birth = c["birth"].astype("datetime64[D]")
    y = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    seq = rng.integers(0, 500, n) * 2 + np.where(c["sex"] == 0, 1, 0)
    body = np.stack([area // 10 ** (5 - i) % 10 for i in range(6)]
                    + [(y * 10000 + mo * 100 + d) // 10 ** (7 - i) % 10 for i in range(8)]
                    + [seq // 10 ** (2 - i) % 10 for i in range(3)])
    weights = np.array([2 ** (17 - i) % 11 for i in range(17)])
    check = np.array(list("10X98765432"))[(weights[:, None] * body).sum(axis=0) % 11]
    idnum = pc.binary_join_element_wise(
        pa.array(np.char.mod("%06d", area)), pa.array(np.char.mod("%08d", y * 10000 + mo * 100 + d)),
        pa.array(np.char.mod("%03d", seq)), pa.array(check), "")
    credit = pc.binary_join_element_wise(pa.array(np.char.mod("91%06d", area)),
                                         pa.array(np.char.mod("%010d", rng.integers(0, 10 ** 10, n))), "")
    phone = pc.binary_join_element_wise(pa.array(ref.MOBILE_PREFIXES).take(pa.array(rng.integers(0, len(ref.MOBILE_PREFIXES), n))),
                                        pa.array(np.char.mod("%08d", rng.integers(0, 10 ** 8, n))), "")

    # Corporate groups: a third of the companies are subsidiaries of an earlier company in the chunk.
    corp_idx = np.flatnonzero(corp)
    is_sub = np.zeros(n, dtype=bool)
    parent = np.full(n, -1)
    if len(corp_idx) > 1:
        sub = corp_idx[1:][rng.random(len(corp_idx) - 1) < 0.35]
        pos = np.searchsorted(corp_idx, sub)
        par = corp_idx[(rng.random(len(sub)) * pos).astype(np.int64)]
        # Subsidiaries hang under the top of their chain so that groups are two levels deep.
        is_sub[sub] = True
        parent[sub] = par
        while is_sub[parent[sub]].any():
            parent[sub] = np.where(is_sub[parent[sub]], parent[parent[sub]], parent[sub])
    group_head = np.where(is_sub, parent, np.arange(n))
    has_group = corp & np.isin(np.arange(n), group_head[is_sub]) | is_sub
    role = np.where(is_sub, 1, 0)
    first_policy = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_policy, p["cust"], p["issue"])
    w.insert("dim_customer", {
        "c": cid, "corp": corp, "name": name, "phone": phone, "idnum": idnum, "credit": credit,
        "sex": _dict(c["sex"], ["M", "F"]), "birth": np.where(corp, NULL_DAY, c["birth"]),
        "occ": pa.array(np.array([o[0] for o in ref.OCCUPATIONS], dtype=object)[c["occupation"]], pa.string()),
        "income": _dict(c["income"], INCOME_BANDS),
        "city": pa.array(np.array([x[0] for x in ref.CITIES], dtype=object)[c["city"]], pa.string()),
        "branch": pa.array(np.array(world["branch_ids"], dtype=object)[c["branch"]], pa.string()),
        "first": first_policy, "source": _dict(c["source"], SOURCES),
        "grp": np.where(has_group, cid[0] + group_head, -1), "role": _dict(role, ["parent", "subsidiary"]),
        "has_group": has_group, "parent": np.where(is_sub, cid[0] + parent, -1),
    }, f"""{_id('C', 'c', 8)} AS customer_id,
           CASE WHEN corp THEN 'corporate' ELSE 'individual' END AS customer_type, name,
           phone, CASE WHEN corp THEN credit ELSE idnum END AS id_number,
           CASE WHEN corp THEN NULL ELSE sex END AS sex, {_date('birth')} AS birth_date,
           CASE WHEN corp THEN NULL ELSE occ END AS occupation_code, CASE WHEN corp THEN NULL ELSE income END AS income_band,
           city AS city_code, branch AS branch_id, {_date('first')} AS first_policy_date,
           source AS acquisition_source, {_id('G', 'grp', 8)} AS corporate_group_id,
           CASE WHEN has_group THEN role END AS group_role, {_id('C', 'parent', 8)} AS parent_customer_id,
           'regular' AS vip_tier""")


def _write_policies(w: _Writer, p: dict, cid: np.ndarray, pid: np.ndarray, world: dict) -> None:
    w.insert("fact_policy", {
        "p": pid, "c": cid[p["cust"]], "a": p["agent"],
        "product": pa.array(np.array(world["product_codes"], dtype=object)[p["product"]], pa.string()),
        "channel": _dict(p["channel"], CHANNELS),
        "branch": pa.array(np.array(world["branch_ids"], dtype=object)[p["branch"]], pa.string()),
        "app": p["application"], "issue": p["issue"], "status": _dict(p["status"], STATUSES),
        "sday": p["status_day"], "sa": p["sum_assured"], "annual": p["annual"],
        "freq": _dict(p["freq"], FREQS), "term": p["term"], "single": p["single"],
    }, f"""{_id('P', 'p', 9)} AS policy_id, {_id('C', 'c', 8)} AS customer_id, {_id('A', 'a', 6)} AS agent_id,
           product AS product_code, channel AS channel_code, branch AS branch_id,
           {_date('app')} AS application_date, {_date('issue')} AS issue_date, status,
           {_date('sday')} AS status_date, sa AS sum_assured, annual AS annual_premium,
           freq AS payment_frequency, term AS premium_term_years, single AS single_premium""")


def _write_premiums(w: _Writer, prem: dict, pid: np.ndarray, ids: _Counters) -> None:
    w.insert("fact_premium", {
        "id": ids.take("premium", len(prem["policy"])), "p": pid[prem["policy"]], "due": prem["due"],
        "paid": prem["paid"], "amount": prem["amount"], "py": prem["policy_year"].astype(np.int16),
    }, f"id AS payment_id, {_id('P', 'p', 9)} AS policy_id, {_date('due')} AS due_date, "
       f"{_date('paid')} AS paid_date, amount, py AS policy_year")


def _write_claims(w: _Writer, cl: dict, pid: np.ndarray, ids: _Counters) -> None:
    w.insert("fact_claim", {
        "id": ids.take("claim", len(cl["policy"])), "p": pid[cl["policy"]], "report": cl["report"],
        "decision": cl["decision"], "claimed": cl["claimed"], "paid": cl["paid"],
        "outcome": _dict(cl["outcome"], ref.codes("claim_decision")),
    }, f"{_id('CL', 'id', 9)} AS claim_id, {_id('P', 'p', 9)} AS policy_id, {_date('report')} AS report_date, "
       f"{_date('decision')} AS decision_date, claimed AS amount_claimed, paid AS amount_paid, outcome AS decision")


def _write_underwriting(w: _Writer, rng, p: dict, c: dict, cid, pid, world, ids: _Counters) -> None:
    """Every policy came from an accepted or rated application; older and riskier applicants are
    rated and declined more often, and a declined applicant sometimes applied again later."""
    m = len(p["cust"])
    risk = c["risk_class"][p["cust"]]
    rated = rng.random(m) < 0.05 + 0.02 * (risk - 1) + 0.004 * np.maximum(p["age"] - 40, 0)
    p_decline = np.where(p["short"], 0.01, 0.03 + 0.012 * (risk - 1) + 0.003 * np.maximum(p["age"] - 45, 0))
    declined = np.flatnonzero(rng.random(m) < p_decline)
    dec_app = np.maximum(p["application"][declined] - rng.integers(20, 300, len(declined)),
                         p["application"][declined] - 400)
    rows = np.concatenate([np.arange(m), declined])
    app = np.concatenate([p["application"], dec_app])
    decision = np.concatenate([np.where(rated, 1, 0), np.full(len(declined), 2)])
    decided = np.concatenate([np.maximum(p["issue"] - 1, p["application"]), dec_app + rng.integers(1, 15, len(declined))])
    w.insert("fact_underwriting", {
        "id": ids.take("application", len(rows)), "c": cid[p["cust"][rows]],
        "product": pa.array(np.array(world["product_codes"], dtype=object)[p["product"][rows]], pa.string()),
        "channel": _dict(p["channel"][rows], CHANNELS), "a": p["agent"][rows], "app": app, "dec": decided,
        "decision": _dict(decision, ref.codes("uw_decision")),
        "p": np.where(decision < 2, pid[rows], -1),
    }, f"{_id('AP', 'id', 9)} AS application_id, {_id('C', 'c', 8)} AS customer_id, product AS product_code, "
       f"channel AS channel_code, {_id('A', 'a', 6)} AS agent_id, {_date('app')} AS application_date, "
       f"{_date('dec')} AS decision_date, decision, {_id('P', 'p', 9)} AS policy_id")


def _write_service(w: _Writer, rng, c: dict, p: dict, prem: dict, cl: dict, cid, pid, as_of: int,
                   ids: _Counters) -> None:
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
    channel = _choice_rows(rng, mix)
    minutes = SERVICE_MINUTES[channel] * np.array([TYPE_MINUTES[e] for e in EVENT_TYPES])[etype] \
        * rng.lognormal(0, 0.5, len(who))
    w.insert("fact_service_event", {
        "id": ids.take("event", len(who)), "c": cid[who], "p": np.where(pol >= 0, pid[np.maximum(pol, 0)], -1),
        "day": np.minimum(day, as_of), "etype": _dict(etype, EVENT_TYPES),
        "ch": _dict(channel, SERVICE_CHANNELS), "minutes": np.round(minutes, 1),
    }, f"id AS event_id, {_id('C', 'c', 8)} AS customer_id, {_id('P', 'p', 9)} AS policy_id, "
       f"{_date('day')} AS event_date, etype AS event_type, ch AS service_channel, minutes")


def _write_visits(w: _Writer, rng, p: dict, c: dict, cid, pid, agents: dict, as_of: int, start: int,
                  ids: _Counters) -> None:
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
        "minutes": np.round(minutes, 0), "src": _dict(np.concatenate([source[s], source[u_rows]]),
                                                      ref.codes("lead_source")),
        "sale": _dict(sale_all.astype(np.int64), ref.codes("visit_outcome")),
        "p": np.concatenate([np.where(is_sale, pid[sold][s], -1), np.full(len(u_rows), -1)]),
    }, f"id AS visit_id, {_id('A', 'a', 6)} AS agent_id, "
       f"coalesce({_id('L', 'lead', 10)}, {_id('C', 'c', 8)}) AS prospect_id, {_id('C', 'c', 8)} AS customer_id, "
       f"{_date('day')} AS visit_date, minutes, src AS lead_source, sale AS outcome, {_id('P', 'p', 9)} AS policy_id")


def _write_idle_agent_visits(w: _Writer, rng, agents: dict, as_of: int, start: int, ids: _Counters) -> None:
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
    }, f"id AS visit_id, {_id('A', 'a', 6)} AS agent_id, {_id('L', 'lead', 10)} AS prospect_id, "
       f"NULL AS customer_id, {_date('day')} AS visit_date, minutes, 'cold_visit' AS lead_source, "
       f"'no_sale' AS outcome, NULL AS policy_id")


# ---------------------------------------------------------------------------------------------


def generate(out: Path, scale: float = 1.0, seed: int = DEMO_SEED, progress: bool = True,
             params: dict | None = None) -> Path:
    """Build the demo warehouse at `out` (atomically: a temp file beside it, then os.replace)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    params = params or load_params()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    spill = Path(f"{tmp}.spill")
    tmp.unlink(missing_ok=True)
    n_customers = max(200, round(CUSTOMERS_PER_SCALE * scale))
    chunks = [(s, min(CHUNK, n_customers - s)) for s in range(0, n_customers, CHUNK)]
    as_of, start = _day(params["as_of_date"]), _day(params["start_date"])
    try:
        con = duckdb.connect(str(tmp))
        try:
            # Bounded memory at any scale: DuckDB spills to a temp directory beside the output.
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
            con.execute("SET temp_directory = ?", [str(spill)])
            create_schema(con)
            w = _Writer(con)
            with tqdm(total=len(chunks) + 2, desc="demo warehouse", unit="step", disable=not progress) as bar:
                world = _write_reference(w, np.random.default_rng([seed, 0]), params)
                agents = _write_agents(w, np.random.default_rng([seed, 0, 1]), world, scale, params)
                ids = _Counters()
                _write_idle_agent_visits(w, np.random.default_rng([seed, 0, 2]), agents, as_of, start, ids)
                bar.update()
                for i, (first, n) in enumerate(chunks):
                    _generate_chunk(w, np.random.default_rng([seed, 1, i]), first + 1, n, world, agents, params, ids)
                    bar.update()
                derive(con, params)
                con.execute("CHECKPOINT")
                bar.update()
        finally:
            con.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.generate",
                                     description="Generate the deterministic PolicyCube demo warehouse.")
    parser.add_argument("--scale", type=float, default=None,
                        help="1.0 = about 100,000 customers (default: POLICYCUBE_SCALE or 1.0)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    parser.add_argument("--out", type=Path, default=None,
                        help="warehouse file to write (default: POLICYCUBE_DATA or data/warehouse/policycube.duckdb)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        scale = demo_scale() if args.scale is None else args.scale
    except ValueError:
        parser.error("POLICYCUBE_SCALE must be a number")
    if not scale > 0 or scale > 1000:
        parser.error(f"--scale must be a number in (0, 1000], got {scale}")
    out = args.out or warehouse_path()
    if out.exists() and out.is_dir():
        parser.error(f"--out must be a file path, {out} is a directory")
    try:
        path = generate(out, scale=scale, seed=args.seed, progress=not args.quiet)
    except ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, duckdb.Error) as exc:
        print(f"error: could not write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
