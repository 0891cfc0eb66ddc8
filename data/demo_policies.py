"""Demo policies and their lifecycle: sale, premiums due and paid, lapse and surrender, claims, underwriting."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from data import reference as ref
from data.demo_agents import pick_agents
from data.demo_arrays import NULL_DAY, add_months, choice_rows, dues_until
from data.demo_customers import AGE_GROUPS, CHANNEL_BY_REGION
from data.demo_world import FAMILIES, REGIONS
from data.demo_writer import Counters, Writer, code_array, sql_date, sql_id

CHANNELS = ref.codes("channel")
FREQS = ref.codes("payment_frequency")            # single annual semiannual quarterly monthly
PER_YEAR = np.array([1, 1, 2, 4, 12])             # instalments per year by frequency
STATUSES = ref.codes("policy_status")

# Family choice by channel (columns in FAMILIES order) and an age multiplier by age group.
FAMILY_BY_CHANNEL = np.array([
    [8, 14, 30, 10, 10, 0, 0, 12, 8, 3, 5],     # agency
    [2, 18, 5, 2, 3, 0, 0, 30, 8, 22, 10],      # bancassurance
    [10, 3, 15, 25, 40, 0, 0, 3, 1, 2, 1],      # telesales
    [6, 1, 6, 45, 40, 0, 0, 1, 0, 1, 0],        # online
    [12, 12, 30, 12, 12, 0, 0, 10, 5, 3, 4],    # broker
    [0, 0, 0, 0, 0, 55, 45, 0, 0, 0, 0],        # group
], dtype=float)
FAMILY_AGE = np.array([
    [1.2, 1.3, 0.8, 0.2], [0.5, 1.0, 1.3, 1.2], [1.3, 1.2, 0.8, 0.3], [1.3, 1.0, 0.9, 0.6],
    [1.4, 1.0, 0.8, 0.6], [1, 1, 1, 1], [1, 1, 1, 1], [0.3, 0.9, 1.6, 1.8], [0.3, 1.8, 0.6, 0.1],
    [0.5, 0.9, 1.4, 1.8], [0.5, 1.0, 1.3, 1.2],
]).T
# Premium: median annual premium by income band, times a family factor; lognormal spread.
PREMIUM_MEDIAN = np.array([2_500, 5_000, 9_000, 16_000, 35_000], dtype=float)
FAMILY_PREMIUM = np.array([0.35, 1.2, 0.8, 0.08, 0.10, 0, 0, 1.5, 1.0, 1.6, 1.3])
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
CLAIM_SIGMA = 1.6                   # heavy-tailed claim amounts: a few claimants cost a lot
GRACE_LATE_SHARE = 0.06             # renewals paid late but inside the grace period


def sample_policies(rng, c: dict, world: dict, agents: dict, as_of: int) -> dict:
    """Each customer's policies: issue date, channel, agent, product, premium, term and cover."""
    n = c["n"]
    corp = c["corporate"]
    life_end = np.where(c["death"] >= 0, c["death"], as_of)
    # Individuals buy 1 + Poisson more policies, wealthier and agency customers more; corporates
    # renew their group cover every year with probability 0.85.
    extra_rate = np.array([1.6, 0.8, 0.55, 0.8, 1.05, 0])[c["channel"]] \
        * np.array([0.6, 0.8, 1.0, 1.3, 1.6])[c["income"]]
    years_left = (as_of - c["first_issue"]) // 365
    renewals = np.minimum(rng.geometric(0.15, n) - 1, years_left)
    count = 1 + np.where(corp, renewals, np.minimum(rng.poisson(extra_rate), 5))
    cust = np.repeat(np.arange(n), count)
    k = np.arange(len(cust)) - np.repeat(np.cumsum(count) - count, count)
    later = c["first_issue"][cust] \
        + (rng.random(len(cust)) * (life_end[cust] - c["first_issue"][cust])).astype(np.int64)
    issue = np.where(k == 0, c["first_issue"][cust], np.where(corp[cust], c["first_issue"][cust] + 365 * k, later))
    issue = np.minimum(issue, as_of)
    switch = (k > 0) & ~corp[cust] & (rng.random(len(cust)) < 0.3)
    mix = np.array([CHANNEL_BY_REGION[r] for r in REGIONS], dtype=float)[c["region"][cust]]
    channel = np.where(switch, choice_rows(rng, mix), c["channel"][cust])

    age = c["age"][cust] + (issue - c["first_issue"][cust]) // 365
    age_group = np.searchsorted(AGE_GROUPS, age, side="right")
    fam_p = FAMILY_BY_CHANNEL[channel] * FAMILY_AGE[age_group]
    family = choice_rows(rng, fam_p)
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
    freq = choice_rows(rng, np.where(digital[:, None], [[0, 0.4, 0.03, 0.02, 0.55]], [[0, 0.5, 0.05, 0.05, 0.4]]))
    monthly_medical = (fam_names[family] == "medical") & (rng.random(len(cust)) < np.where(digital, 0.6, 0.25))
    freq = np.where(short, np.where(monthly_medical, 4, 1), freq)
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
    agent[sold] = pick_agents(rng, agents, branch[sold], application[sold])
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


def lapses_and_premiums(rng, p: dict, c: dict, as_of: int, grace: int) -> dict:
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


def sample_claims(rng, p: dict, c: dict, prem: dict, as_of: int) -> dict:
    """Claims by family, age and occupational risk, and the death claims of policies ended by death."""
    fam = np.array(FAMILIES)[p["family"]]
    rc = c["risk_class"][p["cust"]]
    age = p["age"]
    exposure_end = np.where(p["status"] == 0, as_of, p["status_day"])
    years = np.maximum(exposure_end - p["issue"], 0) / 365.25
    rate = np.select(
        [fam == "medical", fam == "personal_accident", fam == "critical_illness",
         fam == "group_accident", fam == "group_medical"],
        [0.12 * np.exp(0.035 * (age - 40)) * (1 + 0.1 * (rc - 1)),
         0.025 * RISK_FACTOR[rc - 1] * (1 + 0.015 * (age - 40)),
         0.006 * np.exp(0.08 * (age - 40)),
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
    return {"policy": policy[keep], "report": report[keep],
            "decision": np.where(outcome == 2, NULL_DAY, decision)[keep], "claimed": claimed[keep],
            "paid": paid[keep], "outcome": outcome[keep]}


def write_policies(w: Writer, p: dict, cid: np.ndarray, pid: np.ndarray, world: dict) -> None:
    w.insert("fact_policy", {
        "p": pid, "c": cid[p["cust"]], "a": p["agent"],
        "product": pa.array(np.array(world["product_codes"], dtype=object)[p["product"]], pa.string()),
        "channel": code_array(p["channel"], CHANNELS),
        "branch": pa.array(np.array(world["branch_ids"], dtype=object)[p["branch"]], pa.string()),
        "app": p["application"], "issue": p["issue"], "status": code_array(p["status"], STATUSES),
        "sday": p["status_day"], "sa": p["sum_assured"], "annual": p["annual"],
        "freq": code_array(p["freq"], FREQS), "term": p["term"], "single": p["single"],
    }, f"""{sql_id('P', 'p', 9)} AS policy_id, {sql_id('C', 'c', 8)} AS customer_id, {sql_id('A', 'a', 6)} AS agent_id,
           product AS product_code, channel AS channel_code, branch AS branch_id,
           {sql_date('app')} AS application_date, {sql_date('issue')} AS issue_date, status,
           {sql_date('sday')} AS status_date, sa AS sum_assured, annual AS annual_premium,
           freq AS payment_frequency, term AS premium_term_years, single AS single_premium""")


def write_premiums(w: Writer, prem: dict, pid: np.ndarray, ids: Counters) -> None:
    w.insert("fact_premium", {
        "id": ids.take("premium", len(prem["policy"])), "p": pid[prem["policy"]], "due": prem["due"],
        "paid": prem["paid"], "amount": prem["amount"], "py": prem["policy_year"].astype(np.int16),
    }, f"id AS payment_id, {sql_id('P', 'p', 9)} AS policy_id, {sql_date('due')} AS due_date, "
       f"{sql_date('paid')} AS paid_date, amount, py AS policy_year")


def write_claims(w: Writer, cl: dict, pid: np.ndarray, ids: Counters) -> None:
    w.insert("fact_claim", {
        "id": ids.take("claim", len(cl["policy"])), "p": pid[cl["policy"]], "report": cl["report"],
        "decision": cl["decision"], "claimed": cl["claimed"], "paid": cl["paid"],
        "outcome": code_array(cl["outcome"], ref.codes("claim_decision")),
    }, f"{sql_id('CL', 'id', 9)} AS claim_id, {sql_id('P', 'p', 9)} AS policy_id, {sql_date('report')} AS report_date, "
       f"{sql_date('decision')} AS decision_date, claimed AS amount_claimed, paid AS amount_paid, outcome AS decision")


def write_underwriting(w: Writer, rng, p: dict, c: dict, cid, pid, world, ids: Counters) -> None:
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
    decided = np.concatenate([np.maximum(p["issue"] - 1, p["application"]),
                              dec_app + rng.integers(1, 15, len(declined))])
    w.insert("fact_underwriting", {
        "id": ids.take("application", len(rows)), "c": cid[p["cust"][rows]],
        "product": pa.array(np.array(world["product_codes"], dtype=object)[p["product"][rows]], pa.string()),
        "channel": code_array(p["channel"][rows], CHANNELS), "a": p["agent"][rows], "app": app, "dec": decided,
        "decision": code_array(decision, ref.codes("uw_decision")),
        "p": np.where(decision < 2, pid[rows], -1),
    }, f"{sql_id('AP', 'id', 9)} AS application_id, {sql_id('C', 'c', 8)} AS customer_id, product AS product_code, "
       f"channel AS channel_code, {sql_id('A', 'a', 6)} AS agent_id, {sql_date('app')} AS application_date, "
       f"{sql_date('dec')} AS decision_date, decision, {sql_id('P', 'p', 9)} AS policy_id")
