"""The contribution page's analysis against oracles written separately: hand-written SQL over the raw
tables (mart_customer_month, dim_*, fact_policy, fact_service_event, param_unit_cost) and plain pandas."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from cubes import contribution_analysis as analysis
from cubes import contribution_queries as queries
from cubes.access import ScopedEngine
from cubes.engine import Engine
from cubes.scope import Access, Scope
from layouts.contribution import ContributionState, parse, with_state

PER_CUSTOMER = """
    SELECT m.customer_id, sum(m.premium) AS premium, sum(m.claims_paid) AS claims,
           sum(m.commission) + sum(m.acquisition_cost) AS acquisition, sum(m.cost_to_serve) AS service,
           sum(m.reserve_increase) AS reserve, -sum(m.investment_spread) AS spread, sum(m.contribution) AS contribution,
           sum(m.commission) AS commission, sum(m.acquisition_cost) AS acquisition_cost,
           sum(m.investment_spread) AS investment_spread, sum(m.reserve_increase) AS reserve_increase,
           c.vip_tier::VARCHAR AS vip_tier, v.region_code, v.province_code
    FROM mart_customer_month m
    JOIN dim_customer c USING (customer_id)
    JOIN dim_branch b ON b.branch_id = c.branch_id
    JOIN dim_city ci ON ci.city_code = b.city_code
    JOIN dim_province v ON v.province_code = ci.province_code
    WHERE m.month BETWEEN ? AND ?
    GROUP BY ALL
"""
EARLY_LAPSE = """
    SELECT DISTINCT customer_id FROM fact_policy
    WHERE status IN ('lapsed', 'surrendered') AND status_date < issue_date + INTERVAL 24 MONTH
      AND status_date BETWEEN ? AND ?
"""
FIRST, LAST = "2025-01-01", "2026-10-31"   # a period, so the time filter is exercised too
FILTERS = [{"dim": "time.month", "op": "between", "values": [FIRST, LAST]}]


@pytest.fixture(scope="module")
def raw(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        customers = con.execute(PER_CUSTOMER, [FIRST, LAST]).df()
        early = set(con.execute(EARLY_LAPSE, [FIRST, LAST]).df()["customer_id"])
        events = con.execute(
            "SELECT c.vip_tier::VARCHAR AS vip_tier, e.event_type::VARCHAR AS event_type, "
            "e.service_channel::VARCHAR AS service_channel, count(*) AS events "
            "FROM fact_service_event e JOIN dim_customer c USING (customer_id) "
            "WHERE e.event_date BETWEEN ? AND ? GROUP BY ALL", [FIRST, LAST]).df()
        unit = con.execute("SELECT event_type::VARCHAR AS event_type, service_channel::VARCHAR AS service_channel, "
                           "unit_cost FROM param_unit_cost").df()
    return customers, early, events, unit


@pytest.fixture(scope="module")
def engine(demo_warehouse):
    return ScopedEngine(Engine(demo_warehouse), Access())  # as the pages see it, every row


def test_waterfall_parts_add_up_to_the_segments_contribution(engine, raw):
    customers = raw[0]
    east = customers[customers["region_code"] == "east"]
    row = queries.waterfall(engine, FILTERS + [{"dim": "geography.region", "op": "eq", "values": ["east"]}])
    steps = dict(analysis.waterfall_steps(row))
    assert steps["premium"] == pytest.approx(east["premium"].sum(), rel=1e-9)
    assert steps["claims"] == pytest.approx(-east["claims"].sum(), rel=1e-9)
    assert steps["commission"] == pytest.approx(-east["commission"].sum(), rel=1e-9)
    assert steps["acquisition_cost"] == pytest.approx(-east["acquisition_cost"].sum(), rel=1e-9)
    assert steps["cost_to_serve"] == pytest.approx(-east["service"].sum(), rel=1e-9)
    assert steps["reserve_increase"] == pytest.approx(-east["reserve_increase"].sum(), rel=1e-9)
    assert steps["investment_spread"] == pytest.approx(east["investment_spread"].sum(), rel=1e-9)
    assert sum(steps.values()) == pytest.approx(east["contribution"].sum(), rel=1e-9)
    assert row["contribution"] == pytest.approx(east["contribution"].sum(), rel=1e-9)


def test_whale_marks_equal_a_ranking_of_the_customers(engine, raw):
    values = raw[0]["contribution"].sort_values(ascending=False).reset_index(drop=True)
    n, total = len(values), values.sum()
    curve, summary = queries.whale(engine, FILTERS)
    assert summary.customers == n
    assert summary.top20_share == pytest.approx(values.head(-(-n * 20 // 100)).sum() / total, rel=1e-9)
    assert summary.top30_share == pytest.approx(values.head(-(-n * 30 // 100)).sum() / total, rel=1e-9)
    losing = values[values < 0]
    assert summary.peak_share == pytest.approx(values[values >= 0].sum() / total, rel=1e-9)
    assert summary.peak_customer_share == pytest.approx(1 - len(losing) / n)
    assert summary.giveback_share == pytest.approx(-losing.sum() / values[values >= 0].sum(), rel=1e-9)
    assert curve["contribution_share"].max() == pytest.approx(summary.peak_share, rel=1e-3)


def test_quadrant_averages_and_classes_by_province(engine, raw):
    customers = raw[0]
    q = queries.quadrant(engine, FILTERS, "geography.province")
    avg_contribution = customers["contribution"].sum() / len(customers)
    avg_cost = customers["service"].sum() / len(customers)
    assert q.contribution_per_customer == pytest.approx(avg_contribution, rel=1e-9)
    assert q.cost_per_customer == pytest.approx(avg_cost, rel=1e-9)
    by = customers.groupby("province_code").agg(n=("customer_id", "size"), c=("contribution", "sum"),
                                                 s=("service", "sum"))
    shown = q.members.set_index("key")
    assert set(shown.index) == set(by.index)
    for code, r in by.iterrows():
        per_c, per_s = r["c"] / r["n"], r["s"] / r["n"]
        assert shown.loc[code, "customers"] == r["n"]
        assert shown.loc[code, "contribution_per_customer"] == pytest.approx(per_c, rel=1e-9)
        assert shown.loc[code, "cost_per_customer"] == pytest.approx(per_s, rel=1e-9)
        expected = {(True, False): "core", (True, True): "valuable_costly", (False, False): "low_touch",
                    (False, True): "low_value_costly"}[(per_c >= avg_contribution, per_s > avg_cost)]
        assert shown.loc[code, "quadrant"] == expected


def _oracle_reasons(customers: pd.DataFrame, early: set[str]) -> dict[str, str]:
    """Largest excess over the company rate; acquisition excess split by an early lapse."""
    drains = ["claims", "service", "acquisition", "reserve", "spread"]
    rates = {d: customers[d].sum() / customers["premium"].sum() for d in drains}
    out = {}
    for r in customers[customers["contribution"] < 0].itertuples():
        excess = [getattr(r, d) - rates[d] * r.premium for d in drains]
        main = drains[excess.index(max(excess))]
        if main == "acquisition":
            out[r.customer_id] = "early_lapse" if r.customer_id in early else "acquisition_unrecovered"
        else:
            out[r.customer_id] = {"claims": "high_claims", "service": "high_service_cost",
                                  "reserve": "reserve_not_covered", "spread": "negative_spread"}[main]
    return out


def test_loss_makers_and_their_main_reasons(engine, raw):
    customers, early = raw[0], raw[1]
    expected = _oracle_reasons(customers, early)
    losses = queries.loss_makers(engine, FILTERS)
    assert dict(zip(losses["customer_id"], losses["reason"])) == expected
    assert losses["contribution"].is_monotonic_increasing      # worst first
    assert len(set(expected.values())) >= 3                      # the rule really separates reasons
    losing = customers[customers["contribution"] < 0].set_index("customer_id")
    shown = losses.set_index("customer_id")
    for column in ("premium", "commission", "acquisition_cost", "reserve_increase", "investment_spread", "contribution"):
        assert shown[column].to_numpy() == pytest.approx(losing.loc[shown.index, column].to_numpy(), rel=1e-9)


def test_the_pages_view_of_the_loss_makers(engine, raw):
    """By reason: customers and contribution lost; the worst listed, of one reason or of all."""
    customers, early = raw[0], raw[1]
    reasons = pd.Series(_oracle_reasons(customers, early), name="reason")
    losing = customers.set_index("customer_id").join(reasons, how="inner")
    worst = losing.reset_index().sort_values(["contribution", "customer_id"])
    view = queries.loss_view(engine, FILTERS, None, 50)
    by_reason = losing.groupby("reason")["contribution"].agg(["count", "sum"])
    assert list(view.summary["reason"]) == [r for r in analysis.REASONS if r in by_reason.index]
    assert list(view.summary["customers"]) == [by_reason.loc[r, "count"] for r in view.summary["reason"]]
    assert view.summary["contribution"].to_numpy() == pytest.approx(
        [by_reason.loc[r, "sum"] for r in view.summary["reason"]], rel=1e-9)
    assert (view.listed, view.listed_contribution) == (len(losing), pytest.approx(losing["contribution"].sum()))
    assert list(view.worst["customer_id"]) == list(worst["customer_id"].head(50))
    early_lapse = queries.loss_view(engine, FILTERS, "early_lapse", 20)
    lapsed = worst[worst["reason"] == "early_lapse"]
    assert early_lapse.listed == len(lapsed) > 0
    assert list(early_lapse.worst["customer_id"]) == list(lapsed["customer_id"].head(20))
    assert set(early_lapse.worst["reason"]) == {"early_lapse"}


@pytest.mark.parametrize("scope", [{"region": ["east"]}, {"branch": ["B11010002", "B11010005"]}])
def test_a_scoped_callers_loss_makers_are_their_own_customers_ranked_among_themselves(demo_warehouse, scope):
    """The company rates are the visible customers', early lapses those of the visible policies."""
    key, codes = next(iter(scope.items()))
    column = {"region": "v.region_code", "branch": "b.branch_id"}[key]
    marks = ", ".join("?" for _ in codes)
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        customers = con.execute(PER_CUSTOMER.replace("WHERE m.month BETWEEN ? AND ?", f"WHERE {column} IN ({marks})"),
                                codes).df()
        early = set(con.execute(f"""
            SELECT DISTINCT p.customer_id FROM fact_policy p JOIN dim_branch b ON b.branch_id = p.branch_id
            JOIN dim_city ci ON ci.city_code = b.city_code JOIN dim_province v ON v.province_code = ci.province_code
            WHERE {column} IN ({marks}) AND status IN ('lapsed', 'surrendered')
              AND status_date < issue_date + INTERVAL 24 MONTH""", codes).df()["customer_id"])
    assert len(customers) > 100
    scoped = ScopedEngine(Engine(demo_warehouse), Access(Scope.of(**scope)))
    losses = queries.loss_makers(scoped, [])
    assert dict(zip(losses["customer_id"], losses["reason"])) == _oracle_reasons(customers, early)


def test_channel_shift_saving_from_the_unit_cost_table(engine, raw):
    events, unit = raw[2], raw[3]
    shift = analysis.channel_shift(queries.service_mix(engine, FILTERS, "vip_tier"), queries.unit_costs(engine), 0.5)
    price = {(e, c): u for e, c, u in unit.itertuples(index=False)}
    movable = {"servicing_change", "inquiry", "renewal_reminder", "claim_handling"}
    for tier, part in events.groupby("vip_tier"):
        savings = {}
        for target in set(unit["service_channel"]):
            savings[target] = sum(max(price[(e, c)] - price[(e, target)], 0) * n
                                  for e, c, n in part[["event_type", "service_channel", "events"]].itertuples(index=False)
                                  if e in movable)
        best = max(savings, key=savings.get)
        row = shift[shift["segment"] == tier].iloc[0]
        assert row["target_channel"] == best
        assert row["saving"] == pytest.approx(0.5 * savings[best], rel=1e-9)
        assert row["cost"] == pytest.approx(sum(price[(e, c)] * n for e, c, n in
                                                part[["event_type", "service_channel", "events"]]
                                                .itertuples(index=False)), rel=1e-9)


def test_channel_shift_moves_only_to_a_cheaper_channel():
    units = pd.DataFrame({"event_type": ["inquiry", "inquiry", "complaint", "complaint"],
                          "service_channel": ["online", "branch_counter", "online", "branch_counter"],
                          "unit_cost": [2.0, 45.0, 180.0, 420.0]})
    mix = pd.DataFrame({"segment": ["a", "a", "a", "b"], "event_type": ["inquiry", "inquiry", "complaint", "inquiry"],
                        "service_channel": ["online", "branch_counter", "branch_counter", "online"],
                        "events": [10.0, 4.0, 3.0, 5.0]})
    out = analysis.channel_shift(mix, units, 1.0).set_index("segment")
    assert out.loc["a", "target_channel"] == "online"
    assert out.loc["a", "saving"] == 4 * 43.0              # complaints are not moved
    assert out.loc["a", "cost"] == 10 * 2 + 4 * 45 + 3 * 420
    assert pd.isna(out.loc["b", "target_channel"]) and out.loc["b", "saving"] == 0   # nothing dearer to move


def test_url_state_round_trip():
    state = ContributionState(dimension="vip_tier", waterfall_level="geography.region", waterfall_member="east",
                              reason="early_lapse", adoption=100)
    search = with_state("?lang=en&region=east", state)
    assert search.startswith("?lang=en&region=east&")
    assert parse(dict(p.split("=") for p in search[1:].split("&"))) == state
    bad = parse({"dim": "nope", "adopt": "33", "wmember": "east", "reason": "bad"})
    assert bad == ContributionState(invalid=bad.invalid)
    assert {name for name, _ in bad.invalid} == {"dim", "adopt", "wmember", "reason"}


def test_a_period_without_data_gives_empty_views_not_errors(engine):
    before = [{"dim": "time.month", "op": "between", "values": ["2019-01-01", "2019-12-31"]}]
    assert queries.whale(engine, before)[1].customers == 0
    assert queries.loss_makers(engine, before).empty
    assert queries.loss_view(engine, before, None, 10).summary.empty
    assert queries.quadrant(engine, before, "vip_tier").members.empty
    assert queries.service_policy(engine, before, "vip_tier", 50).empty
