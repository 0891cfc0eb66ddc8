"""Roles -> Access, and the ScopedEngine's drill-through, members and totals for each role, checked
against hand-written SQL over the raw tables (the agent's rule: customers holding a policy the agent
sold; their own visits on the agents cube)."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from cubes.access import NOTHING, ScopedEngine, access_for
from cubes.agents_book import customer_book
from cubes.engine import Engine
from cubes.scope import Scope

MONTH = {"dim": "time.month", "op": "between", "values": ["2026-03-01", "2026-03-31"]}
EVENTS = {"cube": "service", "measures": ["events"], "filters": [MONTH]}


@pytest.fixture(scope="module")
def base(demo_warehouse):
    return Engine(demo_warehouse)


@pytest.fixture(scope="module")
def raw(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def busy_agent(raw):
    """An agent with both customers and March 2026 visits, of an east-region branch."""
    return raw.execute("""
        SELECT v.agent_id FROM fact_visit v JOIN dim_agent a USING (agent_id)
        JOIN dim_branch b ON b.branch_id = a.branch_id JOIN dim_city c USING (city_code)
        JOIN dim_province p USING (province_code)
        WHERE p.region_code = 'east' AND v.visit_date BETWEEN DATE '2026-03-01' AND DATE '2026-03-31'
          AND v.agent_id IN (SELECT agent_id FROM fact_policy)
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""").fetchall()[0][0]


def test_roles_map_to_scopes_and_personal_data_rights():
    assert access_for("executive", {}).scope is None and access_for("executive", {}).show_pii
    assert access_for("analyst", {}).scope is None and not access_for("analyst", {}).show_pii
    region = access_for("regional_manager", {"region": ["east"]})
    assert region.scope == Scope.of(region=["east"]) and not region.show_pii
    assert access_for("agency_manager", {"branch": ["B31010006"]}).scope == Scope.of(branch=["B31010006"])
    assert access_for("agent", {"agent": ["A000410"]}).show_pii
    # no rows: an administrator, an unknown role, a scoped role whose codes are missing
    assert access_for("admin", {}).scope == NOTHING
    assert access_for("superuser", {}).scope == NOTHING
    assert access_for("regional_manager", {}).scope == Scope.of(region=[])


def _service_events(raw, where: str, params) -> set[str]:
    return {r[0] for r in raw.execute(f"""
        SELECT CAST(e.event_id AS VARCHAR) FROM fact_service_event e
        JOIN dim_customer c ON c.customer_id = e.customer_id
        JOIN dim_branch b ON b.branch_id = c.branch_id JOIN dim_city ci ON ci.city_code = b.city_code
        JOIN dim_province pv ON pv.province_code = ci.province_code
        WHERE e.event_date BETWEEN DATE '2026-03-01' AND DATE '2026-03-31' AND {where}""", params).fetchall()}


def test_an_agent_drills_through_to_the_service_events_of_their_own_customers_only(base, raw, busy_agent):
    agent = ScopedEngine(base, access_for("agent", {"agent": [busy_agent]}))
    records = agent.drill_through(EVENTS, limit=10_000)
    expected = _service_events(raw, "e.customer_id IN (SELECT customer_id FROM fact_policy WHERE agent_id = ?)",
                               [busy_agent])
    assert 0 < len(expected) < 10_000
    assert set(records.loc[records["kind"] == "event", "record_id"]) == expected
    assert records.attrs["total_rows"] == len(records)


def test_a_regional_manager_drills_through_and_totals_only_their_region(base, raw):
    manager = ScopedEngine(base, access_for("regional_manager", {"region": ["east"]}))
    records = manager.drill_through(EVENTS, limit=10)
    assert records.attrs["total_rows"] == len(_service_events(raw, "pv.region_code = 'east'", []))
    by_region = manager.query({**EVENTS, "rows": ["geography.region"], "totals": False})
    assert list(by_region["geography.region"]) == ["east"]
    assert list(manager.members("service", "geography.region")["key"]) == ["east"]
    # a filter for another region keeps nothing, it does not replace the scope
    north = manager.query({**EVENTS, "filters": [MONTH, {"dim": "geography.region", "op": "in", "values": ["north"]}]})
    assert north.empty or north["events"].fillna(0).sum() == 0


def test_an_agent_sees_their_own_visits_on_the_agents_cube(base, raw, busy_agent):
    agent = ScopedEngine(base, access_for("agent", {"agent": [busy_agent]}))
    records = agent.drill_through({"cube": "agents", "measures": ["visits"], "filters": [MONTH]}, limit=10_000)
    visits = records[records["kind"] == "visit"]
    expected = raw.execute("SELECT count(*) FROM fact_visit WHERE agent_id = ? AND visit_date "
                           "BETWEEN DATE '2026-03-01' AND DATE '2026-03-31'", [busy_agent]).fetchall()[0][0]
    assert len(visits) == expected > 0 and set(visits["agent_id"]) == {busy_agent}


def test_an_agency_manager_sees_the_contribution_of_their_branch_customers(base, raw):
    manager = ScopedEngine(base, access_for("agency_manager", {"branch": ["B31010006"]}))
    customers = manager.query({"cube": "contribution", "measures": ["customers"]})["customers"].iloc[0]
    expected = raw.execute("SELECT count(DISTINCT customer_id) FROM mart_customer_month m "
                           "JOIN dim_customer c USING (customer_id) WHERE c.branch_id = 'B31010006'").fetchall()[0][0]
    assert customers == expected > 0
    curve = manager.whale_curve({"cube": "contribution", "measures": ["contribution"]}, points=10)
    assert curve["customers"].iloc[-1] == expected


def test_an_administrator_reads_no_business_rows(base):
    admin = ScopedEngine(base, access_for("admin", {}))
    assert admin.drill_through(EVENTS).attrs["total_rows"] == 0
    assert admin.members("policies", "geography.region").empty


def test_a_scoped_engine_offers_no_way_to_widen_or_bypass_the_scope(base):
    manager = ScopedEngine(base, access_for("regional_manager", {"region": ["east"]}))
    with pytest.raises(TypeError):
        manager.query(EVENTS, scope=None)
    with pytest.raises(AttributeError, match="shared_engine"):
        manager._run("SELECT 1", {})


def test_names_of_members_outside_the_scope_are_not_given(base):
    east = ScopedEngine(base, access_for("regional_manager", {"region": ["east"]}))
    assert east.member_label("policies", "geography.region", "east", "en") == "East China"
    assert east.member_label("policies", "geography.region", "north", "en") == "north"


def test_an_agents_book_keeps_to_the_customers_the_manager_may_see(demo_warehouse, raw, tmp_path):
    """A customer of an agent can belong to another branch (the demo data has none: one is moved):
    the agent's branch manager does not see them in the agent's book."""
    agent, branch, moved, other = raw.execute("""
        SELECT p.agent_id, a.branch_id, min(p.customer_id),
               (SELECT min(branch_id) FROM dim_branch WHERE branch_id <> a.branch_id)
        FROM fact_policy p JOIN dim_agent a USING (agent_id)
        GROUP BY 1, 2 ORDER BY count(DISTINCT p.customer_id) DESC, 1 LIMIT 1""").fetchall()[0]
    copy = tmp_path / "moved.duckdb"
    shutil.copy(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE dim_customer SET branch_id = ? WHERE customer_id = ?", [other, moved])
        want = {r[0] for r in con.execute("""SELECT DISTINCT p.customer_id FROM fact_policy p
                                             JOIN dim_customer c USING (customer_id)
                                             WHERE p.agent_id = ? AND c.branch_id = ?""", [agent, branch]).fetchall()}
    book = customer_book(Engine(copy, rollups=False), access_for("agency_manager", {"branch": [branch]}), agent,
                         "2025-01-01", "2026-10-31")
    assert moved not in want and set(book["customer_id"]) == want
