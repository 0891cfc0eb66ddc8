"""Single customer view data against hand-written SQL over the raw tables of the small demo
warehouse: row scope (region, branch, agent) in the view and in search, PII masking, the
contribution waterfall and the whale-curve rank, history gaps."""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from cubes.customer_contribution import contribution_rank, waterfall
from cubes.customer_gaps import history_gaps
from cubes.customer_view import CustomerRecord, Period, customer_record, search
from cubes.pii import mask_id_number, mask_name, mask_phone
from cubes.scope import Access, Scope
from tests.test_cubes_fixtures import engine, warehouse  # noqa: F401

EVERYTHING = 10**7  # a search limit above any customer count


def sql(path, query: str, params=()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


@pytest.fixture(scope="module")
def sample(warehouse):  # noqa: F811
    """A customer with an agent-sold policy, a claim and a service event; their region and branch."""
    [row] = sql(warehouse, """
        SELECT c.customer_id, CAST(v.region_code AS VARCHAR), c.branch_id, min(p.agent_id)
        FROM dim_customer c JOIN dim_branch b ON b.branch_id = c.branch_id JOIN dim_city ci ON ci.city_code = b.city_code
        JOIN dim_province v ON v.province_code = ci.province_code JOIN fact_policy p ON p.customer_id = c.customer_id
        WHERE p.agent_id IS NOT NULL
          AND c.customer_id IN (SELECT p2.customer_id FROM fact_claim JOIN fact_policy p2 USING (policy_id))
          AND c.customer_id IN (SELECT customer_id FROM fact_service_event)
        GROUP BY ALL ORDER BY c.customer_id LIMIT 1""")
    return dict(zip(("id", "region", "branch", "agent"), row))


def visible_oracle(path, key: str, values: list[str]) -> set[str]:
    column = {"region": "CAST(v.region_code AS VARCHAR)", "branch": "c.branch_id"}
    if key == "agent":
        query = "SELECT DISTINCT customer_id FROM fact_policy WHERE agent_id IN (SELECT unnest(?))"
    else:
        query = f"""SELECT c.customer_id FROM dim_customer c JOIN dim_branch b ON b.branch_id = c.branch_id
                    JOIN dim_city ci ON ci.city_code = b.city_code JOIN dim_province v ON v.province_code = ci.province_code
                    WHERE {column[key]} IN (SELECT unnest(?))"""
    return {r[0] for r in sql(path, query, [values])}


@pytest.mark.parametrize("key", ["region", "branch", "agent"])
def test_scope_decides_who_is_visible_in_the_view_and_in_search(engine, warehouse, sample, key):  # noqa: F811
    inside = Access(Scope.of(**{key: [sample[key]]}))
    other = sql(warehouse, {"region": "SELECT CAST(region_code AS VARCHAR) FROM dim_region",
                            "branch": "SELECT branch_id FROM dim_branch",
                            "agent": "SELECT agent_id FROM dim_agent"}[key])
    outside = Access(Scope.of(**{key: [next(v for (v,) in other if v != sample[key])]}))
    assert customer_record(engine, inside, sample["id"]).profile["customer_id"] == sample["id"]
    assert list(search(engine, inside, sample["id"])["customer_id"]) == [sample["id"]]
    # outside the scope: exactly what an id that does not exist gets
    assert customer_record(engine, outside, sample["id"]) is None is customer_record(engine, Access(), "C99999999")
    assert search(engine, outside, sample["id"]).empty
    assert contribution_rank(engine, outside, sample["id"]) is None
    # every visible customer, found by the id prefix all ids share
    found = set(search(engine, inside, "C", limit=EVERYTHING)["customer_id"])
    assert found == visible_oracle(warehouse, key, [sample[key]])


def test_an_empty_scope_list_sees_nothing_and_an_unknown_scope_key_is_refused(engine, sample):  # noqa: F811
    assert customer_record(engine, Access(Scope.of(region=[])), sample["id"]) is None
    with pytest.raises(ValueError):
        customer_record(engine, Access(Scope.of(product=["x"])), sample["id"])


def test_related_customers_are_the_group_members_in_scope(engine, warehouse):  # noqa: F811
    [(parent, group, region)] = sql(warehouse, """
        SELECT c.customer_id, c.corporate_group_id, CAST(v.region_code AS VARCHAR) FROM dim_customer c
        JOIN dim_branch b ON b.branch_id = c.branch_id JOIN dim_city ci ON ci.city_code = b.city_code
        JOIN dim_province v ON v.province_code = ci.province_code
        WHERE c.group_role = 'parent' AND (SELECT count(*) FROM dim_customer s WHERE s.parent_customer_id = c.customer_id) >= 2
        ORDER BY c.customer_id LIMIT 1""")
    members = {r[0] for r in sql(warehouse, "SELECT customer_id FROM dim_customer WHERE corporate_group_id = ? AND customer_id <> ?",
                                 [group, parent])}
    assert set(customer_record(engine, Access(), parent).related["customer_id"]) == members
    in_region = visible_oracle(warehouse, "region", [region])
    scoped = customer_record(engine, Access(Scope.of(region=[region])), parent).related
    assert set(scoped["customer_id"]) == members & in_region


def test_personal_data_is_masked_without_the_right_and_names_are_not_searchable(engine, warehouse, sample):  # noqa: F811
    [(name, phone, number)] = sql(warehouse, "SELECT name, phone, id_number FROM dim_customer WHERE customer_id = ?",
                                  [sample["id"]])
    masked = customer_record(engine, Access(show_pii=False), sample["id"]).profile
    assert (masked["name"], masked["phone"], masked["id_number"]) == (mask_name(name), mask_phone(phone),
                                                                       mask_id_number(number))
    assert name not in (masked["name"], masked["phone"], masked["id_number"])
    assert list(search(engine, Access(show_pii=False), sample["id"])["name"]) == [mask_name(name)]
    assert search(engine, Access(show_pii=False), name).empty
    assert sample["id"] in set(search(engine, Access(), name, limit=EVERYTHING)["customer_id"])


def test_the_record_holds_exactly_the_customers_rows_in_the_period(engine, warehouse, sample):  # noqa: F811
    # the period starts and ends on days with events: both ends are inclusive
    [(first, last)] = sql(warehouse, "SELECT CAST(min(event_date) AS VARCHAR), CAST(max(event_date) AS VARCHAR) "
                                     "FROM fact_service_event WHERE customer_id = ?", [sample["id"]])
    period = Period(first, last)
    record = customer_record(engine, Access(), sample["id"], period)
    cid, start, end = sample["id"], period.start, period.end
    assert set(record.policies["policy_id"]) == {r[0] for r in sql(
        warehouse, "SELECT policy_id FROM fact_policy WHERE customer_id = ?", [cid])}
    assert set(record.premiums["payment_id"]) == {r[0] for r in sql(warehouse, """
        SELECT payment_id FROM fact_premium JOIN fact_policy USING (policy_id)
        WHERE customer_id = ? AND due_date BETWEEN ? AND ?""", [cid, start, end])}
    assert set(record.claims["claim_id"]) == {r[0] for r in sql(warehouse, """
        SELECT claim_id FROM fact_claim JOIN fact_policy USING (policy_id)
        WHERE customer_id = ? AND report_date BETWEEN ? AND ?""", [cid, start, end])}
    assert set(record.events["event_id"]) == {r[0] for r in sql(
        warehouse, "SELECT event_id FROM fact_service_event WHERE customer_id = ? AND event_date BETWEEN ? AND ?",
        [cid, start, end])}
    assert set(record.visits["visit_id"]) == {r[0] for r in sql(
        warehouse, "SELECT visit_id FROM fact_visit WHERE customer_id = ? AND visit_date BETWEEN ? AND ?", [cid, start, end])}


def test_waterfall_parts_add_up_to_the_contribution_from_the_raw_facts(engine, warehouse, sample):  # noqa: F811
    parts = waterfall(customer_record(engine, Access(), sample["id"]).months).set_index("part")["amount"]
    assert parts.drop("contribution").sum() == pytest.approx(parts["contribution"], abs=0.01)
    [(premium, claims, events)] = sql(warehouse, """
        SELECT (SELECT sum(amount) FROM fact_premium JOIN fact_policy USING (policy_id)
                WHERE customer_id = $1 AND paid_date IS NOT NULL),
               (SELECT coalesce(sum(amount_paid), 0) FROM fact_claim JOIN fact_policy USING (policy_id)
                WHERE customer_id = $1 AND decision = 'paid'),
               (SELECT count(*) FROM fact_service_event WHERE customer_id = $1)""", [sample["id"]])
    assert parts["premium"] == pytest.approx(premium, abs=0.01)
    assert parts["claims_paid"] == pytest.approx(-claims, abs=0.01)
    assert events > 0 and parts["cost_to_serve"] < 0


def test_rank_on_the_whale_curve_matches_pandas(engine, warehouse, sample):  # noqa: F811
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart = con.execute("SELECT customer_id, month, contribution FROM mart_customer_month").df()
    in_region = visible_oracle(warehouse, "region", [sample["region"]])
    for access, allowed, period in ((Access(), None, Period()),
                                    (Access(Scope.of(region=[sample["region"]])), in_region, Period("2025-01-01", "2025-12-31"))):
        rows = mart if allowed is None else mart[mart["customer_id"].isin(allowed)]
        if period.start:
            rows = rows[(rows["month"] >= pd.Timestamp(period.start)) & (rows["month"] <= pd.Timestamp(period.end))]
        per = rows.groupby("customer_id")["contribution"].sum().sort_values(ascending=False)
        for customer in (per.index[0], per.index[len(per) // 2], per.index[-1], sample["id"]):
            got = contribution_rank(engine, access, customer, period)
            if customer not in per.index:
                assert got is None
                continue
            value = per[customer]
            assert got.customers == len(per)
            assert got.rank == 1 + int((per > value).sum())
            assert got.contribution == pytest.approx(value)
            position = list(per.index).index(customer) + 1 if (per == value).sum() == 1 else None
            if position:
                assert got.cumulative_share == pytest.approx(per.iloc[:position].sum() / per.sum())
            assert got.curve["contribution_share"].iloc[-1] == pytest.approx(1.0)


def _record(policies: list[dict], premiums: list[dict], period: Period = Period()) -> CustomerRecord:
    frames = {name: pd.DataFrame() for name in ("claims", "underwriting", "events", "visits", "months")}
    policy_frame = pd.DataFrame(policies).astype({"issue_date": "datetime64[us]", "status_date": "datetime64[us]"})
    premium_frame = pd.DataFrame(premiums, columns=["policy_id", "due_date", "amount", "state"]).astype(
        {"due_date": "datetime64[us]"})
    return CustomerRecord({}, pd.DataFrame(), policy_frame, premium_frame, period=period, **frames)


def test_gaps_flag_missed_instalments_lapses_and_missing_records():
    monthly = {"policy_id": "P1", "issue_date": "2025-01-10", "status": "in_force", "status_date": "2025-01-10",
               "payment_frequency": "monthly", "premium_term_years": 10}
    lapsed = {"policy_id": "P2", "issue_date": "2025-01-05", "status": "lapsed", "status_date": "2025-05-05",
              "payment_frequency": "quarterly", "premium_term_years": 5}
    dues = [{"policy_id": "P1", "due_date": f"2025-{m:02d}-10", "amount": 100.0, "state": "paid"}
            for m in (1, 2, 3, 6, 7, 8, 9)]  # April and May are not in the data
    dues += [{"policy_id": "P2", "due_date": "2025-01-05", "amount": 300.0, "state": "paid"},
             {"policy_id": "P2", "due_date": "2025-04-05", "amount": 300.0, "state": "missed"}]
    gaps = history_gaps(_record([monthly, lapsed], dues), dt.date(2025, 10, 20))
    kinds = {(g.kind, g.policy_id, g.start, g.count) for g in gaps}
    assert kinds == {("no_records", "P1", "2025-04-01", 2), ("missed", "P2", "2025-04-01", 1),
                     ("lapse", "P2", "2025-05-05", 1)}
    # within a period that leaves out the hole and the lapse, nothing is flagged
    later = history_gaps(_record([monthly], dues[4:7], Period("2025-07-01", "2025-09-30")), dt.date(2025, 10, 20))
    assert later == []


def test_malformed_ids_are_unknown_without_a_query(engine):  # noqa: F811
    for raw in (None, "", "x' OR '1'='1", "C" * 200):
        assert customer_record(engine, Access(), raw) is None
        assert contribution_rank(engine, Access(), raw) is None
