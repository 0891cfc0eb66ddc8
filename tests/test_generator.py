"""The demo warehouse looks like a real life insurer's book: each realism target of issues 3 and 21 is
measured here from the raw tables with pandas / hand-written SQL, independent of the generator."""
from __future__ import annotations

import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.config import load_params
from data.generate import generate
from data.warehouse import PROJECT_ROOT
from tests.oracle_contribution import by_customer, by_line

PARAMS = load_params()
AS_OF = pd.Timestamp(PARAMS["as_of_date"])
GRACE = pd.Timedelta(days=PARAMS["grace_days"])


@pytest.fixture(scope="module")
def con(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse), read_only=True)
    yield connection
    connection.close()


def q(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


# --- shape of the warehouse -------------------------------------------------------------------


def test_reference_hierarchies(con):
    regions = q(con, "SELECT name_zh FROM dim_region ORDER BY sort_order").name_zh.tolist()
    assert regions == ["华北", "东北", "华东", "华中", "华南", "西南", "西北"]
    prov = q(con, "SELECT p.province_code, count(c.city_code) AS cities FROM dim_province p "
                  "LEFT JOIN dim_city c USING (province_code) GROUP BY ALL")
    assert len(prov) == 31 and (prov.cities >= 1).all()
    orphans = q(con, "SELECT count(*) AS n FROM dim_branch b LEFT JOIN dim_city c USING (city_code) "
                     "WHERE c.city_code IS NULL").n[0]
    assert orphans == 0
    assert sorted(q(con, "SELECT DISTINCT risk_class FROM dim_occupation").risk_class) == [1, 2, 3, 4, 5, 6]
    lines = q(con, "SELECT name_zh FROM dim_product_line ORDER BY sort_order").name_zh.tolist()
    assert lines == ["寿险", "健康险", "意外险", "年金", "两全"]
    assert set(q(con, "SELECT name_zh FROM dim_channel").name_zh) == {"个人代理", "银保", "电销", "网销", "经代", "团险"}
    products = q(con, "SELECT term_type, guaranteed_rate FROM dim_product")
    assert set(products.term_type) == {"long", "short"} and products.guaranteed_rate.max() >= 0.035


def test_every_enum_value_has_labels(con):
    missing = []
    for (type_name,) in con.execute("SELECT type_name FROM duckdb_types() WHERE logical_type = 'ENUM' "
                                    "AND type_name LIKE '%_code'").fetchall():
        values = con.execute(f"SELECT unnest(enum_range(NULL::{type_name}))::VARCHAR").fetchall()
        kind = type_name.removesuffix("_code")
        labelled = {r[0] for r in con.execute("SELECT code FROM dim_code WHERE kind = ? AND name_zh <> '' "
                                              "AND name_en <> ''", [kind]).fetchall()}
        missing += [(kind, v) for (v,) in values if v not in labelled]
    assert missing == []


def test_customers_have_valid_synthetic_identity(con):
    cust = q(con, "SELECT * FROM dim_customer USING SAMPLE 3000 ROWS (reservoir, 7)")
    ind = cust[cust.customer_type == "individual"]
    assert ind.id_number.str.fullmatch(r"\d{17}[\dX]").all()
    digits = np.array([[int(ch) for ch in s[:17]] for s in ind.id_number])
    weights = np.array([2 ** (17 - i) % 11 for i in range(17)])
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    assert (check == ind.id_number.str[17].to_numpy()).all()
    assert (ind.id_number.str[6:14] == pd.to_datetime(ind.birth_date).dt.strftime("%Y%m%d")).all()
    male_by_id = ind.id_number.str[16].astype(int) % 2 == 1
    assert (male_by_id == (ind.sex == "M")).all()
    assert cust.phone.str.fullmatch(r"1\d{10}").all()
    assert cust.name.str.len().between(2, 12).all()
    corp = cust[cust.customer_type == "corporate"]
    assert corp.sex.isna().all() and corp.birth_date.isna().all()


def test_corporate_groups_have_parents_and_subsidiaries(con):
    groups = q(con, """
        SELECT s.customer_id, s.corporate_group_id, p.group_role AS parent_role, p.corporate_group_id AS parent_group
        FROM dim_customer s LEFT JOIN dim_customer p ON p.customer_id = s.parent_customer_id
        WHERE s.group_role = 'subsidiary'""")
    assert len(groups) > 0
    assert (groups.parent_role == "parent").all() and (groups.parent_group == groups.corporate_group_id).all()
    non_corporate = q(con, "SELECT count(*) AS n FROM dim_customer WHERE corporate_group_id IS NOT NULL "
                           "AND customer_type <> 'corporate'").n[0]
    assert non_corporate == 0


def test_facts_are_consistent(con):
    checks = q(con, """
        SELECT
          (SELECT count(*) FROM fact_policy p WHERE NOT EXISTS (SELECT 1 FROM fact_premium f
              WHERE f.policy_id = p.policy_id AND f.policy_year = 1)) AS no_first_premium,
          (SELECT count(*) FROM fact_premium WHERE due_date > $as_of OR paid_date > $as_of) AS future,
          (SELECT count(*) FROM fact_policy WHERE issue_date < application_date) AS issued_before_applied,
          (SELECT count(*) FROM fact_claim WHERE decision <> 'paid' AND amount_paid <> 0) AS paid_unpaid,
          (SELECT count(*) FROM fact_visit WHERE (outcome = 'sale') <> (policy_id IS NOT NULL)) AS visit_sale,
          (SELECT count(*) FROM fact_underwriting WHERE (decision = 'declined') <> (policy_id IS NULL)) AS uw,
          (SELECT count(*) FROM fact_policy p JOIN dim_agent a USING (agent_id)
              WHERE p.application_date < a.hire_date OR p.application_date >= a.leave_date) AS inactive_seller
    """, {"as_of": PARAMS["as_of_date"]})
    assert checks.iloc[0].tolist() == [0] * 7
    kinds = q(con, "SELECT count(DISTINCT event_type) AS t, count(DISTINCT service_channel) AS c, "
                   "min(minutes) AS m FROM fact_service_event")
    assert kinds.t[0] == 6 and kinds.c[0] == 4 and kinds.m[0] > 0


# --- realism targets ----------------------------------------------------------------------------


def test_five_years_of_issue_dates_up_to_as_of(con):
    span = q(con, "SELECT min(issue_date) AS lo, max(issue_date) AS hi, count(DISTINCT year(issue_date)) AS years "
                  "FROM fact_policy")
    assert pd.Timestamp(span.lo[0]) <= pd.Timestamp(PARAMS["start_date"]) + pd.Timedelta(days=31)
    assert AS_OF - pd.Timedelta(days=31) <= pd.Timestamp(span.hi[0]) <= AS_OF
    assert span.years[0] >= 5


def test_premium_is_lognormal_and_rises_with_income(con):
    pol = q(con, """
        SELECT c.income_band::VARCHAR AS band, p.annual_premium, pr.product_code LIKE 'CRITICAL%' AS ci
        FROM fact_policy p JOIN dim_customer c USING (customer_id) JOIN dim_product pr USING (product_code)
        WHERE c.customer_type = 'individual' AND pr.term_type = 'long' AND p.payment_frequency <> 'single'""")
    medians = pol.groupby("band").annual_premium.median()
    order = ["lt50k", "50k_100k", "100k_200k", "200k_500k", "gt500k"]
    assert medians[order].is_monotonic_increasing and medians["gt500k"] > 4 * medians["lt50k"]
    one = pol[pol.ci & (pol.band == "100k_200k")].annual_premium
    assert len(one) > 300
    assert abs(np.log(one).skew()) < 0.3          # log-premium symmetric ...
    assert one.skew() > 1.0 and one.mean() > 1.15 * one.median()   # ... premium right-skewed


def test_product_mix_differs_by_age_and_channel(con):
    pol = q(con, """
        SELECT pr.line_code::VARCHAR AS line, p.channel_code::VARCHAR AS channel,
               date_diff('year', c.birth_date, p.issue_date) AS age
        FROM fact_policy p JOIN dim_customer c USING (customer_id) JOIN dim_product pr USING (product_code)
        WHERE c.customer_type = 'individual'""")
    savings = pol.line.isin(["annuity", "endowment"])
    assert savings[pol.age >= 50].mean() > 2 * savings[pol.age < 30].mean()
    protection = pol.line.isin(["health", "accident"])
    assert protection[pol.channel == "online"].mean() > 2 * protection[pol.channel == "bancassurance"].mean()


def lapse_rates_by_policy_year(con) -> pd.Series:
    """Lapses and surrenders per policy-year of exposure, long-term regular-premium policies."""
    pol = q(con, """
        SELECT p.issue_date, p.status::VARCHAR AS status,
               CASE WHEN p.status = 'in_force' THEN $as_of ELSE p.status_date END AS end_date
        FROM fact_policy p JOIN dim_product pr USING (product_code)
        WHERE pr.term_type = 'long' AND p.payment_frequency <> 'single'""",
            {"as_of": PARAMS["as_of_date"]})
    years = (pd.to_datetime(pol.end_date) - pd.to_datetime(pol.issue_date)).dt.days / 365.25
    exit_year = np.floor(years).astype(int) + 1
    lapsed = pol.status.isin(["lapsed", "surrendered"])
    rates = {}
    for label, lo, hi in [("1-2", 0, 2), ("3+", 2, 99)]:
        exposure = np.clip(years - lo, 0, hi - lo).sum()
        exits = (lapsed & exit_year.between(lo + 1, hi)).sum()
        rates[label] = exits / exposure
    return pd.Series(rates)


def test_lapses_concentrate_in_policy_years_one_and_two(con):
    rates = lapse_rates_by_policy_year(con)
    assert rates["1-2"] > 1.5 * rates["3+"]


def persistency_13(con) -> pd.DataFrame:
    """13th-month persistency per DOMAIN.md, by channel: policies issued long enough ago that the
    month-13 premium and its grace period have passed; deaths and maturities before month 13 leave
    the exposure; received = the first policy-year-2 instalment paid within grace."""
    pol = q(con, """
        SELECT p.policy_id, p.channel_code::VARCHAR AS channel, p.issue_date, p.status::VARCHAR AS status,
               p.status_date, p.annual_premium
        FROM fact_policy p JOIN dim_product pr USING (product_code)
        WHERE pr.term_type = 'long' AND p.payment_frequency <> 'single' AND p.premium_term_years >= 2""")
    year2 = q(con, """
        SELECT policy_id, arg_min(due_date, due_date) AS due, arg_min(paid_date, due_date) AS paid
        FROM fact_premium WHERE policy_year = 2 GROUP BY policy_id""")
    pol["month13"] = pd.to_datetime(pol.issue_date) + pd.DateOffset(months=12)
    pol = pol[pol.month13 + GRACE <= AS_OF]
    left = pol.status.isin(["death_claim", "matured"]) & (pd.to_datetime(pol.status_date) < pol.month13)
    pol = pol[~left].merge(year2, on="policy_id", how="left")
    pol["kept"] = pol.paid.notna() & (pd.to_datetime(pol.paid) <= pd.to_datetime(pol.due) + GRACE)
    pol["kept_premium"] = pol.annual_premium.where(pol.kept, 0.0)
    by = pol.groupby("channel").agg(n=("kept", "size"), kept=("kept", "sum"),
                                     premium=("annual_premium", "sum"), kept_premium=("kept_premium", "sum"))
    by.loc["all"] = by.sum()
    by["by_count"] = by.kept / by.n
    by["by_premium"] = by.kept_premium / by.premium
    return by


def test_13_month_persistency(con):
    p = persistency_13(con)
    assert p.loc["all", "n"] > 1000
    assert 0.84 <= p.loc["all", "by_count"] <= 0.91
    assert 0.84 <= p.loc["all", "by_premium"] <= 0.93
    for weak in ("telesales", "online"):
        assert p.loc[weak, "by_count"] < p.loc["agency", "by_count"] - 0.05


def claim_frequency(con) -> tuple[pd.Series, pd.Series]:
    """Claims reported per policy-year of exposure, health and accident lines, by age band at issue
    and by occupational risk class of the insured."""
    pol = q(con, """
        SELECT p.policy_id, date_diff('year', c.birth_date, p.issue_date) AS age, o.risk_class,
               date_diff('day', p.issue_date,
                         CASE WHEN p.status = 'in_force' THEN $as_of ELSE p.status_date END) / 365.25 AS years,
               (SELECT count(*) FROM fact_claim cl WHERE cl.policy_id = p.policy_id) AS claims
        FROM fact_policy p JOIN dim_customer c USING (customer_id) JOIN dim_product pr USING (product_code)
        JOIN dim_occupation o USING (occupation_code)
        WHERE c.customer_type = 'individual' AND pr.line_code IN ('health', 'accident')""",
            {"as_of": PARAMS["as_of_date"]})
    bounds = [b["lower"] for b in PARAMS["age_bands"]]
    pol["band"] = np.searchsorted(bounds, pol.age, side="right") - 1
    by_age = pol.groupby("band").claims.sum() / pol.groupby("band").years.sum()
    by_risk = pol.groupby("risk_class").claims.sum() / pol.groupby("risk_class").years.sum()
    return by_age, by_risk


def rank_correlation(values) -> float:
    """Spearman correlation of the values with their position (1 = strictly increasing)."""
    return float(np.corrcoef(pd.Series(values).rank(), np.arange(len(values)))[0, 1])


def test_claim_frequency_rises_with_age_and_risk_class(con):
    by_age, by_risk = claim_frequency(con)
    assert by_age.iloc[-1] > 1.5 * by_age.iloc[0]
    assert rank_correlation(by_age.values) > 0.8
    assert by_risk[6] > 2 * by_risk[1]
    assert rank_correlation(by_risk.values) > 0.8


@pytest.fixture(scope="module")
def book(con) -> pd.DataFrame:
    """Each customer's contribution over the whole history, by hand from the raw facts (DOMAIN.md)."""
    return by_customer(con, PARAMS["as_of_date"], "1900-01-01", PARAMS["as_of_date"])


def test_contribution_margin_is_a_life_insurers(con, book):
    """Premium set aside as reserve is not profit: the company keeps 5-25% of premium, over the whole
    history and over the year to date the dashboard opens on."""
    assert 0.05 <= book.contribution.sum() / book.premium.sum() <= 0.25
    ytd = by_customer(con, PARAMS["as_of_date"], f"{AS_OF.year}-01-01", PARAMS["as_of_date"])
    assert 0.05 <= ytd.contribution.sum() / ytd.premium.sum() <= 0.25


def test_protection_earns_more_per_yuan_than_savings(con):
    """Health and accident keep more of each premium yuan than annuity and endowment, whose premium
    is mostly reserve (policy flows by product line; cost to serve is the customer's, not a line's)."""
    lines = by_line(con, PARAMS["as_of_date"], "1900-01-01", PARAMS["as_of_date"]).groupby("line")[
        ["policy_contribution", "premium"]].sum()
    margin = lines.policy_contribution / lines.premium
    assert min(margin["health"], margin["accident"]) > max(margin["annuity"], margin["endowment"])
    assert margin["annuity"] < 0.15 and margin["endowment"] < 0.15


def test_contribution_follows_the_2_8_pattern(book):
    """About 30% of customers bring over 70% of the profit and about 20% lose money, giving back a
    material share (30-60%) of the whale curve's peak, as the founding papers put it."""
    c = book.contribution.sort_values(ascending=False).to_numpy()
    top30 = c[: int(0.3 * len(c))].sum() / c.sum()
    negative = (c < 0).mean()
    giveback = -c[c < 0].sum() / c[c >= 0].sum()
    assert top30 > 0.70
    assert 0.14 <= negative <= 0.28
    assert 0.30 <= giveback <= 0.60


def test_unprofitable_customers_have_the_three_causes(con, book):
    early = q(con, """SELECT DISTINCT customer_id FROM fact_policy
                      WHERE status IN ('lapsed', 'surrendered') AND status_date < issue_date + INTERVAL 2 YEAR""")
    neg = book[book.contribution < 0]
    heavy_claims = (neg.claims > neg.premium).mean()
    heavy_service = (neg.cost_to_serve > 0.5 * neg.premium).mean()
    early_lapse = neg.index.isin(early.customer_id).mean()
    assert min(heavy_claims, heavy_service, early_lapse) > 0.05


def agent_stats(con) -> pd.DataFrame:
    return q(con, """
        SELECT a.agent_id,
               (SELECT count(*) FROM fact_policy p WHERE p.agent_id = a.agent_id) AS sales,
               count(v.visit_id) AS visits, sum(v.minutes) AS minutes,
               count(v.visit_id) FILTER (WHERE v.outcome = 'sale') AS closes
        FROM dim_agent a LEFT JOIN fact_visit v USING (agent_id) GROUP BY ALL""")


def test_agents_are_heterogeneous(con):
    agents = agent_stats(con)
    sales = agents.sales.sort_values(ascending=False).to_numpy()
    assert sales[: len(sales) // 10].sum() > 0.35 * sales.sum()        # a few stars
    assert (agents.sales == 0).mean() > 0.05                           # some never sell
    active = agents[agents.closes >= 10]
    per_close = active.visits / active.closes
    per_visit = active.minutes / active.visits
    assert per_close.std() / per_close.mean() > 0.3
    assert per_visit.std() / per_visit.mean() > 0.15


def conversion_by_source(con) -> pd.Series:
    conv = q(con, """
        SELECT lead_source::VARCHAR AS source,
               count(DISTINCT prospect_id) FILTER (WHERE outcome = 'sale') AS won,
               count(DISTINCT prospect_id) AS prospects
        FROM fact_visit GROUP BY ALL""").set_index("source")
    return conv.won / conv.prospects


def test_referrals_convert_markedly_better_than_cold_visits(con):
    conv = conversion_by_source(con)
    assert conv["referral"] > 2 * conv["cold_visit"] > 0


def test_regional_channel_mix_differs(con):
    share = q(con, """
        SELECT r.region_code::VARCHAR AS region, avg((p.channel_code = 'bancassurance')::INTEGER) AS banca
        FROM fact_policy p JOIN dim_branch b USING (branch_id) JOIN dim_city c USING (city_code)
        JOIN dim_province pv USING (province_code) JOIN dim_region r USING (region_code)
        GROUP BY ALL""").set_index("region").banca
    assert share.max() - share.min() > 0.10
    assert share.idxmax() in {"east", "central"}


# --- determinism and the command line --------------------------------------------------------


def checksums(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as c:
        tables = [r[0] for r in c.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        # rollup_meta.seconds records how long each rollup took to build: the one column that may differ.
        return {t: c.execute(f"SELECT count(*), sum(hash(COLUMNS(lambda c: c <> 'seconds'))::HUGEINT) FROM {t}").fetchall()
                for t in tables}


def test_same_seed_gives_identical_warehouse(tmp_path):
    a = checksums(generate(tmp_path / "a.duckdb", scale=0.03, seed=11, progress=False))
    b = checksums(generate(tmp_path / "b.duckdb", scale=0.03, seed=11, progress=False))
    c = checksums(generate(tmp_path / "c.duckdb", scale=0.03, seed=12, progress=False))
    assert a == b
    assert a["fact_policy"] != c["fact_policy"]
    assert {"mart_customer_month", "dim_calendar", "param_commission"} <= set(a)


def test_failed_generation_leaves_no_partial_file(tmp_path, monkeypatch):
    import data.generate as gen

    out = tmp_path / "w.duckdb"
    out.write_bytes(b"previous warehouse")

    def boom(con, params):
        raise RuntimeError("derive failed")

    monkeypatch.setattr(gen, "derive", boom)
    with pytest.raises(RuntimeError):
        gen.generate(out, scale=0.01, progress=False)
    assert out.read_bytes() == b"previous warehouse"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


@pytest.mark.parametrize("args", [["--scale", "-1"], ["--scale", "abc"], ["--seed", "x"], ["--bogus"]])
def test_cli_rejects_bad_arguments(args):
    run = subprocess.run([sys.executable, "-m", "data.generate", *args], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "usage:" in run.stderr and "Traceback" not in run.stderr


def test_cli_writes_the_warehouse(tmp_path):
    out = tmp_path / "cli.duckdb"
    run = subprocess.run([sys.executable, "-m", "data.generate", "--scale", "0.01", "--seed", "3", "--out", str(out),
                          "--quiet"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(out), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM dim_customer").fetchall()[0][0] == 1000


def test_data_ignores_the_wall_clock(con):
    latest = q(con, "SELECT max(greatest(issue_date, status_date)) AS d FROM fact_policy").d[0]
    assert pd.Timestamp(latest) <= AS_OF
