"""Pre-aggregated rollups give the raw answer: every declared rollup answers a set of specs
(levels x measures x filters x totals, drills, comparisons, top N, row scopes) with the same frame
as the raw rows do, and the engine picks a rollup only when it answers exactly."""
from __future__ import annotations

import shutil

import duckdb
import pytest
from pandas.testing import assert_frame_equal

from cubes.catalog import cube_by_name
from cubes.engine import Engine
from cubes.rollups import ROLLUPS, answerable, period_rollups, rollups_of, stored_scope, uses_stock
from cubes.scope import Scope
from data.rollups import main as rollups_cli
from tests.test_cubes_fixtures import small_warehouse_path

YEAR = {"dim": "time.year", "op": "between", "values": ["2025-01-01", "2025-12-31"]}
SPRING = {"dim": "time.month", "op": "between", "values": ["2026-03-01", "2026-05-31"]}


@pytest.fixture(scope="module")
def raw() -> Engine:
    return Engine(small_warehouse_path(), rollups=False)


@pytest.fixture(scope="module")
def on() -> Engine:
    return Engine(small_warehouse_path(), rollups=True)


def only(engine: Engine, rollup) -> Engine:
    """An engine over the same warehouse that may use just this one rollup."""
    single = Engine(engine.path, rollups=True)
    single._cursor().close()  # connect first: a new connection forgets the rollups read
    single._built = [b for b in engine._built_rollups() if b.rollup == rollup]
    assert single._built, f"{rollup.table} was not built"
    return single


def measures_of(rollup) -> tuple[list[str], list[str]]:
    """The rollup's answerable measures: (flows and ratios of flows, those involving a stock)."""
    cube = cube_by_name(rollup.cube)
    names = [m.name for m in cube.measures if answerable(cube, rollup, m.name)]
    return [n for n in names if not uses_stock(cube, n)], [n for n in names if uses_stock(cube, n)]


def members(engine: Engine, cube: str, level: str, n: int = 2) -> list:
    return engine.members(cube, level)["key"].head(n).tolist()


def specs_for(rollup, raw: Engine) -> list[tuple[dict, Scope | None]]:
    cube = cube_by_name(rollup.cube)
    flows, stocks = measures_of(rollup)
    levels = [cube.canonical_level(ref) for ref in rollup.levels if not cube.level(ref)[1].time]
    a, b, c = levels[0], levels[min(1, len(levels) - 1)], levels[-1]
    region = members(raw, rollup.cube, "geography.region", 1)
    scope_key = stored_scope(cube, rollup)[-1]
    scope_level = {"region": "geography.region", "branch": "geography.branch", "agent": "agent.agent"}[scope_key]
    scoped = Scope.of(**{scope_key: [str(k) for k in members(raw, rollup.cube, scope_level, 3)]})
    base = {"cube": rollup.cube}
    out = [
        ({**base, "measures": flows}, None),
        ({**base, "rows": [a, b], "columns": [c], "measures": flows[:4], "totals": True, "filters": [YEAR]}, None),
        ({**base, "rows": ["time.month"], "columns": [a], "measures": flows[:3], "totals": True,
          "filters": [SPRING]}, None),
        ({**base, "rows": [c], "measures": flows[:2], "filters": [YEAR], "compare": "yoy"}, None),
        ({**base, "rows": ["time.quarter", a], "measures": flows[:2], "compare": "prev", "totals": True}, None),
        ({**base, "rows": ["time.month"], "measures": flows[:2], "filters": [YEAR], "compare": "ytd"}, None),
        ({**base, "rows": [b], "measures": flows[:2], "totals": True,
          "top": {"n": 2, "by": flows[0], "others": True}}, None),
        ({**base, "rows": ["time.year", c], "measures": flows, "totals": True,
          "filters": [{"dim": a, "op": "not_in", "values": members(raw, rollup.cube, a, 1)}]}, scoped),
    ]
    if "geography.province" in levels:
        out.append(({**base, "rows": ["geography.region"], "measures": flows[:2], "totals": True, "filters": [YEAR],
                     "drill": {"hierarchy": "geography", "path": region}}, None))
    if "work_month" in rollup.levels:
        out.append(({**base, "rows": ["work_month", a], "measures": flows[:2], "totals": True,
                     "filters": [{"dim": "work_month", "op": "in", "values": ["2026-02", "2026-03"]}]}, None))
    if stocks:
        out += [
            ({**base, "measures": stocks, "filters": [YEAR], "compare": "yoy"}, None),
            ({**base, "rows": ["time.quarter"], "columns": [a], "measures": stocks, "totals": True}, None),
            ({**base, "rows": [a, "time.month"], "measures": stocks + flows[:1], "filters": [SPRING],
              "compare": "prev", "totals": True}, scoped),
        ]
    return out


@pytest.mark.parametrize("rollup", [r for r in ROLLUPS if not r.materialized], ids=lambda r: r.table)
def test_every_rollup_gives_the_raw_answer(rollup, raw, on):
    single = only(on, rollup)
    for spec, scope in specs_for(rollup, raw):
        assert single.rollup_for(spec, scope) == rollup.table, spec
        got, want = single.query(spec, scope), raw.query(spec, scope)
        assert len(want) > 0, spec
        assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-6, obj=str(spec))
        if spec.get("columns"):
            assert_frame_equal(single.pivot(spec, scope), raw.pivot(spec, scope), check_exact=False, rtol=1e-9,
                               atol=1e-6, obj=str(spec))


def test_customer_rows_stored_whole_give_every_measure_and_the_whale_curve(raw, on):
    """Without a period the contribution cube's customers are the same rows whatever is asked:
    distinct counts and rank measures included."""
    everything = list(cube_by_name("contribution").measure_names)
    vip = {"dim": "vip_tier", "op": "in", "values": ["vip", "gold_vip"]}
    region = Scope.of(region=[str(k) for k in members(raw, "contribution", "geography.region", 2)])
    for spec, scope in [
        ({"cube": "contribution", "measures": everything}, None),
        ({"cube": "contribution", "rows": ["geography.region", "vip_tier"], "measures": everything,
          "totals": True}, None),
        ({"cube": "contribution", "rows": ["age_band"], "columns": ["sex"], "measures": everything[:5],
          "filters": [vip], "totals": True}, region),
    ]:
        assert on.rollup_for(spec, scope) == "rollup_contribution_customers"
        assert_frame_equal(on.query(spec, scope), raw.query(spec, scope), check_exact=False, rtol=1e-9, atol=1e-6)
    for filters, scope in [([], None), ([vip], region)]:
        spec = {"cube": "contribution", "measures": ["contribution"], "filters": filters}
        assert on.rollup_for(spec, scope) == "rollup_contribution_customers"
        assert_frame_equal(on.whale_curve(spec, scope), raw.whale_curve(spec, scope), check_exact=False, rtol=1e-9)


def test_customer_rows_of_the_year_to_date_and_a_year_earlier_give_the_raw_answer(raw, on):
    """The overview's two periods are stored summed per customer; any other period reads raw rows."""
    everything = list(cube_by_name("contribution").measure_names)
    vip = {"dim": "vip_tier", "op": "in", "values": ["vip", "gold_vip"]}
    region = Scope.of(region=[str(k) for k in members(raw, "contribution", "geography.region", 2)])
    for rollup in period_rollups():
        period = {"dim": "time.month", "op": "between", "values": list(rollup.period)}
        for spec, scope in [
            ({"cube": "contribution", "measures": everything, "filters": [period]}, None),
            ({"cube": "contribution", "rows": ["geography.region", "vip_tier"], "measures": everything,
              "filters": [period, vip], "totals": True}, region),
        ]:
            assert on.rollup_for(spec, scope) == rollup.table
            assert_frame_equal(on.query(spec, scope), raw.query(spec, scope), check_exact=False, rtol=1e-9,
                               atol=1e-6)
        shifted = {**period, "values": [rollup.period[0], "2026-09-30" if rollup.period[1] != "2026-09-30"
                                        else "2026-08-31"]}
        assert on.rollup_for({"cube": "contribution", "measures": ["customers"], "filters": [shifted]}) is None
    assert [r.period for r in period_rollups()] == [("2026-01-01", "2026-10-31"), ("2025-01-01", "2025-10-31")]


def test_agent_rows_stored_whole_give_the_agents_page_for_whole_month_periods(raw, on):
    """The agents' visits, sales and months stored as the source makes them answer every measure
    (distinct counts, indices against the company, per-source baselines, year to date) for periods
    of whole months, drilled, compared and scoped, as the raw source does."""
    everything = list(cube_by_name("agents").measure_names)
    league = [m for m in everything if m.endswith("_index")] + ["fyp_sold", "new_share_cold_visit", "visits_per_day"]
    months = {"dim": "time.month", "op": "between", "values": ["2025-02-01", "2025-11-30"]}
    branch, team = (members(raw, "agents", level, 1)[0] for level in ("agent.branch", "agent.team"))
    agents = Scope.of(agent=[str(k) for k in members(raw, "agents", "agent.agent", 40)])
    for spec, scope in [
        ({"cube": "agents", "measures": everything, "filters": [months]}, None),
        ({"cube": "agents", "rows": ["agent.agent"], "measures": league, "filters": [months], "totals": True,
          "sort": [{"by": "fyp_sold", "desc": True}]}, None),
        ({"cube": "agents", "rows": ["agent.agent"], "measures": league, "filters": [months], "totals": True,
          "drill": {"hierarchy": "agent", "path": [branch, team]}}, None),
        ({"cube": "agents", "rows": ["lead_source"], "columns": ["time.quarter"], "measures": everything,
          "filters": [YEAR], "totals": True, "compare": "yoy"}, agents),
        ({"cube": "agents", "rows": ["time.month", "lead_source"], "measures": ["conversion_index", "cases_index"],
          "filters": [YEAR], "compare": "ytd", "totals": True}, None),
        ({"cube": "agents", "rows": ["work_month"], "measures": league, "totals": True,
          "top": {"n": 3, "by": "conversion_index", "others": True}}, Scope.of(branch=[str(branch)])),
    ]:
        assert on.rollup_for(spec, scope) == "rollup_agents_rows", spec
        got, want = on.query(spec, scope), raw.query(spec, scope)
        assert len(want) > 0 and want[[m for m in spec["measures"]]].notna().any().any(), spec
        assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-6, obj=str(spec))


def test_the_engine_picks_the_smallest_covering_rollup(on):
    sizes = {b.rollup.table: b.rows for b in on._built_rollups()}
    by_province = {"cube": "policies", "rows": ["geography.province"], "measures": ["written_premium"]}
    assert on.rollup_for(by_province) == min(
        (r.table for r in rollups_of("policies") if "geography.province" in r.levels), key=sizes.get)
    by_branch = {"cube": "policies", "rows": ["geography.branch"], "measures": ["written_premium", "loss_ratio"]}
    assert on.rollup_for(by_branch) == "rollup_policies_geo"
    stock = {"cube": "policies", "rows": ["channel"], "measures": ["in_force_at_end", "lapse_rate"]}
    assert on.rollup_for(stock) == "rollup_policies_region_line"
    league = {"cube": "agents", "rows": ["agent.agent"], "measures": ["visits", "cases", "active_agents"]}
    assert on.rollup_for(league, Scope.of(branch=["B0101"])) == "rollup_agents_agent_month"


@pytest.mark.parametrize("spec, scope", [
    # a distinct count of customers is not exact at any rollup's grain
    ({"cube": "policies", "rows": ["geography.region"], "measures": ["written_premium", "customers"]}, None),
    # a level no rollup keeps
    ({"cube": "policies", "rows": ["occupation.occupation"], "measures": ["written_premium"]}, None),
    # a row scope on a column the only rollup with this level does not keep
    ({"cube": "policies", "rows": ["product.product"], "measures": ["written_premium"]}, Scope.of(branch=["B0101"])),
    # a period that cuts a month
    ({"cube": "policies", "rows": ["channel"], "measures": ["written_premium"],
      "filters": [{"dim": "time.month", "op": "between", "values": ["2026-01-15", "2026-03-31"]}]}, None),
    # a stock at work-month ends (the 25th), which the rollups do not snapshot
    ({"cube": "policies", "rows": ["work_month"], "measures": ["in_force_at_end"]}, None),
    # a stock in a rollup that keeps no snapshots
    ({"cube": "policies", "rows": ["geography.branch"], "measures": ["in_force_at_end"]}, None),
    # a period that cuts a month cuts the agents' workdays there: the stored rows are uncut
    ({"cube": "agents", "rows": ["agent.agent"], "measures": ["visits_per_day", "conversion_index"],
      "filters": [{"dim": "time.month", "op": "between", "values": ["2026-01-01", "2026-03-15"]}]}, None),
    # customers' contribution over a period is summed from their months inside the source
    ({"cube": "contribution", "rows": ["geography.region"], "measures": ["contribution"], "filters": [YEAR]}, None),
])
def test_uncovered_specs_read_raw_rows(spec, scope, on, raw):
    assert on.rollup_for(spec, scope) is None
    assert_frame_equal(on.query(spec, scope), raw.query(spec, scope))


def test_rollups_off_reads_raw_rows(monkeypatch):
    spec = {"cube": "policies", "rows": ["channel"], "measures": ["written_premium"]}
    assert Engine(small_warehouse_path(), rollups=False).rollup_for(spec) is None
    monkeypatch.setenv("POLICYCUBE_ROLLUPS", "0")
    assert Engine(small_warehouse_path()).rollup_for(spec) is None
    monkeypatch.setenv("POLICYCUBE_ROLLUPS", "1")
    assert Engine(small_warehouse_path()).rollup_for(spec) is not None


def test_stale_rollups_are_ignored_and_the_cli_rebuilds_them(tmp_path, capsys):
    path = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse_path(), path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE rollup_meta SET fingerprint = 'built-from-older-definitions'")
    con.execute("DROP TABLE rollup_policies_geo")
    con.close()
    spec = {"cube": "policies", "rows": ["geography.branch"], "measures": ["written_premium"]}
    assert Engine(path).rollup_for(spec) is None
    assert rollups_cli(["--warehouse", str(path)]) == 0
    assert "rollup_policies_geo:" in capsys.readouterr().out
    engine = Engine(path)
    assert engine.rollup_for(spec) == "rollup_policies_geo"
    assert_frame_equal(engine.query(spec), Engine(path, rollups=False).query(spec), check_exact=False, rtol=1e-9)


def test_the_cli_reports_a_missing_warehouse(tmp_path, capsys):
    assert rollups_cli(["--warehouse", str(tmp_path / "none.duckdb")]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("cube, level", [("policies", "geography.city"), ("policies", "product.product"),
                                         ("agents", "agent.agent"), ("contribution", "vip_tier")])
def test_member_lists_from_rollups_are_the_raw_ones(cube, level, raw, on):
    region = Scope.of(region=[str(k) for k in members(raw, cube, "geography.region", 2)])
    for scope in (None, region):
        assert_frame_equal(on.members(cube, level, scope), raw.members(cube, level, scope))
