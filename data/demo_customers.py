"""Demo customers: where they live, age, income, occupation, first channel, death; and their rows."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data import reference as ref
from data.demo_arrays import NULL_DAY, choice_rows, month_index, person_names, weighted_in_groups
from data.demo_world import REGIONS
from data.demo_writer import Writer, code_array, sql_date, sql_id

CORPORATE_SHARE = 0.015
INCOME_BANDS = ref.codes("income_band")
SOURCES = ref.codes("acquisition_source")

# Channel mix of individual customers by region (banks sell more insurance in the east and centre).
CHANNEL_BY_REGION = {        # agency, bancassurance, telesales, online, broker
    "north": [46, 18, 10, 16, 10], "northeast": [55, 10, 12, 13, 10], "east": [36, 32, 8, 15, 9],
    "central": [40, 30, 9, 12, 9], "south": [44, 20, 10, 17, 9], "southwest": [52, 14, 11, 14, 9],
    "northwest": [58, 10, 12, 12, 8],
}
AGE_GROUPS = np.array([30, 45, 60])             # <30, 30-44, 45-59, 60+
# Heavy service users call and complain many times more often (demo_activity.HEAVY_MULTIPLIER).
HEAVY_USER_SHARE = 0.06


def _issue_days(rng, n: int, start: int, as_of: int) -> np.ndarray:
    """Issue dates with growth over the years and the first-quarter sales push (开门红)."""
    months = np.arange(month_index(np.array([start]))[0], month_index(np.array([as_of]))[0] + 1)
    season = np.array([2.0, 1.3, 1.5, 0.9, 0.85, 0.95, 0.8, 0.8, 0.85, 0.8, 0.85, 0.95])
    weight = season[months % 12] * np.exp(0.07 * (months - months[0]) / 12)
    m = months[np.searchsorted(np.cumsum(weight), rng.random(n) * weight.sum(), side="right")]
    first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (m + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    return np.minimum(first + (rng.random(n) * length).astype(np.int64), as_of)


def sample_customers(rng, n: int, world: dict, as_of: int, start: int) -> dict:
    """One chunk of customers as arrays, indexed by the customer's position in the chunk."""
    corporate = rng.random(n) < CORPORATE_SHARE
    city = np.searchsorted(np.cumsum(world["city_weight"]), rng.random(n) * world["city_weight"].sum(),
                           side="right")
    branch = weighted_in_groups(rng, city, world["city_starts"], world["branch_cum"])
    region = world["branch_region"][branch]
    age = np.clip(rng.normal(38, 11, n), 18, 70).astype(np.int64)
    age_group = np.searchsorted(AGE_GROUPS, age, side="right")
    mix = np.array([CHANNEL_BY_REGION[r] for r in REGIONS], dtype=float)[region]
    mix[:, 3] *= np.array([2.0, 1.0, 0.5, 0.25])[age_group]          # online is young
    mix[:, 2] *= np.array([1.2, 1.0, 0.9, 0.6])[age_group]
    mix[:, 1] *= np.array([0.4, 0.9, 1.5, 2.0])[age_group]           # bank customers are older
    channel = choice_rows(rng, mix)
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
    hazard = 0.0012 * np.exp(0.09 * (age - 30))
    dies = ~corporate & (rng.random(n) < 1 - np.exp(-hazard * years))
    death = np.where(dies, first_issue + 1 + (rng.random(n) * (as_of - first_issue)).astype(np.int64), -1)
    return {"n": n, "corporate": corporate, "city": city, "branch": branch, "region": region, "age": age,
            "age_group": age_group, "channel": channel, "first_issue": first_issue, "birth": birth,
            "income": income, "occupation": occupation, "risk_class": risk_class, "source": source,
            "death": death, "sex": (rng.random(n) < 0.48).astype(np.int64),
            "heavy": rng.random(n) < HEAVY_USER_SHARE, "employees": np.maximum(5, rng.lognormal(np.log(40), 1.0, n))}


def write_customers(w: Writer, rng, c: dict, cid: np.ndarray, world: dict, p: dict) -> None:
    """dim_customer rows: names, resident or credit ids, phones, corporate groups."""
    n = c["n"]
    corp = c["corporate"]
    words = pa.array(ref.COMPANY_WORDS)
    kinds = rng.integers(0, len(ref.COMPANY_KINDS), n)
    company = pc.binary_join_element_wise(
        words.take(pa.array(rng.integers(0, len(ref.COMPANY_WORDS), n))),
        words.take(pa.array(rng.integers(0, len(ref.COMPANY_WORDS), n))),
        pa.array([k[0] for k in ref.COMPANY_KINDS]).take(pa.array(kinds)), "")
    name = pc.if_else(pa.array(corp), company, person_names(rng, n))

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
    prefix = pa.array(ref.MOBILE_PREFIXES).take(pa.array(rng.integers(0, len(ref.MOBILE_PREFIXES), n)))
    phone = pc.binary_join_element_wise(prefix,
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
        "sex": code_array(c["sex"], ["M", "F"]), "birth": np.where(corp, NULL_DAY, c["birth"]),
        "occ": pa.array(np.array([o[0] for o in ref.OCCUPATIONS], dtype=object)[c["occupation"]], pa.string()),
        "income": code_array(c["income"], INCOME_BANDS),
        "city": pa.array(np.array([x[0] for x in ref.CITIES], dtype=object)[c["city"]], pa.string()),
        "branch": pa.array(np.array(world["branch_ids"], dtype=object)[c["branch"]], pa.string()),
        "first": first_policy, "source": code_array(c["source"], SOURCES),
        "grp": np.where(has_group, cid[0] + group_head, -1), "role": code_array(role, ["parent", "subsidiary"]),
        "has_group": has_group, "parent": np.where(is_sub, cid[0] + parent, -1),
    }, f"""{sql_id('C', 'c', 8)} AS customer_id,
           CASE WHEN corp THEN 'corporate' ELSE 'individual' END AS customer_type, name,
           phone, CASE WHEN corp THEN credit ELSE idnum END AS id_number,
           CASE WHEN corp THEN NULL ELSE sex END AS sex, {sql_date('birth')} AS birth_date,
           CASE WHEN corp THEN NULL ELSE occ END AS occupation_code,
           CASE WHEN corp THEN NULL ELSE income END AS income_band,
           city AS city_code, branch AS branch_id, {sql_date('first')} AS first_policy_date,
           source AS acquisition_source, {sql_id('G', 'grp', 8)} AS corporate_group_id,
           CASE WHEN has_group THEN role END AS group_role, {sql_id('C', 'parent', 8)} AS parent_customer_id,
           'regular' AS vip_tier""")
