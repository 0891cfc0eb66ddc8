"""Engine features a page relies on: top N with others, drill paths, time comparisons, pivot,
drill-through, members, caching across reloads, concurrent use."""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pandas as pd
import pytest

from cubes.cache import ResultCache
from cubes.engine import MAX_DRILL_ROWS, Engine
from cubes.model import SpecError
from cubes.scope import Scope
from cubes.sql import OTHERS
from tests.test_cubes_fixtures import engine, tables, warehouse  # noqa: F401

BY_REGION = {"cube": "policies", "rows": ["geography.region"], "measures": ["written_premium", "customers"],
             "totals": True}


def value(frame, measure, **keys):
    rows = frame
    for level, member in keys.items():
        rows = rows[rows[level.replace("__", ".")] == member]
    assert len(rows) == 1, keys
    return rows[measure].iloc[0]


def test_top_n_with_others_keeps_the_total_of_the_whole_slice(engine):  # noqa: F811
    full = engine.query(BY_REGION)
    top = engine.query({**BY_REGION, "top": {"n": 3, "by": "written_premium"}})
    members = top[top["_row_depth"] == 1]
    assert list(members["geography.region"])[-1] == OTHERS and len(members) == 4
    best3 = full[full["_row_depth"] == 1].nlargest(3, "written_premium")
    assert set(members["geography.region"][:3]) == set(best3["geography.region"])
    grand = full[full["_row_depth"] == 0]
    assert value(top, "written_premium", _row_depth=0) == pytest.approx(grand["written_premium"].iloc[0])
    assert value(top, "customers", _row_depth=0) == grand["customers"].iloc[0]
    others = value(top, "written_premium", geography__region=OTHERS)
    assert others == pytest.approx(grand["written_premium"].iloc[0] - best3["written_premium"].sum())
    assert value(top, "geography.region|en", geography__region=OTHERS) == "Others"
    without = engine.query({**BY_REGION, "top": {"n": 3, "others": False}})
    assert OTHERS not in set(without["geography.region"].dropna())
    assert value(without, "written_premium", _row_depth=0) == pytest.approx(grand["written_premium"].iloc[0])


def test_drill_path_shows_the_next_level_inside_the_member(engine, tables):  # noqa: F811
    frame = engine.query({**BY_REGION, "drill": {"hierarchy": "geography", "path": ["east"]}})
    provinces = tables["dim_province"]
    east = set(provinces.loc[provinces["region_code"] == "east", "province_code"])
    assert set(frame.loc[frame["_row_depth"] == 1, "geography.province"]) <= east
    region_total = value(engine.query(BY_REGION), "written_premium", geography__region="east")
    assert value(frame, "written_premium", _row_depth=0) == pytest.approx(region_total)


def test_year_over_year_and_previous_period(engine):  # noqa: F811
    plain = engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["written_premium", "loss_ratio"]})
    by_month = plain.set_index("time.month")
    yoy = engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["written_premium", "loss_ratio"],
                        "compare": "yoy", "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    row = yoy.set_index("time.month").loc["2025-03"]
    assert row["written_premium__prior"] == pytest.approx(by_month.loc["2024-03", "written_premium"])
    assert row["written_premium__change"] == pytest.approx(
        by_month.loc["2025-03", "written_premium"] / by_month.loc["2024-03", "written_premium"] - 1)
    assert row["loss_ratio__change"] == pytest.approx(
        by_month.loc["2025-03", "loss_ratio"] - by_month.loc["2024-03", "loss_ratio"])
    prev = engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["written_premium"],
                         "compare": "prev"}).set_index("time.month")
    assert prev.loc["2025-03", "written_premium__prior"] == pytest.approx(by_month.loc["2025-02", "written_premium"])
    assert prev.loc["2025-01", "written_premium__prior"] == pytest.approx(by_month.loc["2024-12", "written_premium"])


def test_year_to_date_recounts_distinct_customers(engine):  # noqa: F811
    ytd = engine.query({"cube": "policies", "rows": ["time.month"], "measures": ["policies", "customers"],
                        "compare": "ytd", "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    march = ytd.set_index("time.month").loc["2025-03"]
    q1 = engine.query({"cube": "policies", "measures": ["policies", "customers"], "filters": [
        {"dim": "time.month", "op": "between", "values": ["2025-01-01", "2025-03-31"]}]}).iloc[0]
    assert march["policies"] == q1["policies"] and march["customers"] == q1["customers"]
    assert list(ytd["policies"]) == sorted(ytd["policies"])  # cumulative within the year
    by_channel = engine.query({"cube": "policies", "rows": ["time.month"], "columns": ["channel"], "totals": True,
                               "measures": ["customers"], "compare": "ytd",
                               "filters": [{"dim": "time.year", "op": "eq", "values": [2025]}]})
    assert (by_channel["_row_depth"] == 1).all()  # no total across months of year-to-date values
    all_channels = by_channel[(by_channel["time.month"] == "2025-03") & (by_channel["_col_depth"] == 0)]
    assert all_channels["customers"].iloc[0] == q1["customers"]


def test_pivot_is_a_flat_crosstab_of_the_query(engine):  # noqa: F811
    spec = {"cube": "policies", "rows": ["geography.region"], "columns": ["channel"], "measures": ["policies"],
            "totals": True}
    flat, wide = engine.query(spec), engine.pivot(spec)
    assert len(wide) == 8  # seven regions and the total
    assert "agency|policies" in wide.columns and "__total__|policies" in wide.columns
    east = wide[wide["geography.region"] == "east"].iloc[0]
    assert east["agency|policies"] == value(flat, "policies", geography__region="east", channel="agency")
    assert east["__total__|policies"] == value(flat[flat["_col_depth"] == 0], "policies", geography__region="east")
    grand = wide[wide["_row_depth"] == 0].iloc[0]
    assert grand["__total__|policies"] == value(flat[(flat["_row_depth"] == 0) & (flat["_col_depth"] == 0)],
                                                "policies")
    headers = {c["field"]: c for c in wide.attrs["columns"]}
    assert headers["agency|policies"]["label_zh"] == ["个人代理"] and headers["__total__|policies"]["label_en"] == ["Total"]
    assert len(headers) == 7  # six channels and their total


def test_drill_through_pages_the_records_of_a_cell(engine, tables):  # noqa: F811
    spec = {"cube": "policies", "rows": ["geography.region"], "columns": ["time.year"],
            "measures": ["written_premium"], "totals": True}
    cell = {"geography.region": "east", "time.year": 2025}
    frame = engine.query(spec)
    first = engine.drill_through(spec, cell, limit=700)
    total = first.attrs["total_rows"]
    assert total > 1400  # three pages at least
    pages = [first] + [engine.drill_through(spec, cell, limit=700, offset=o) for o in range(700, total, 700)]
    records = pd.concat(pages)
    assert len(records) == total and records["record_id"].is_unique
    assert records["written_premium"].sum() == pytest.approx(
        value(frame, "written_premium", geography__region="east", time__year=2025))
    # a subtotal cell: every year of the region
    region = engine.drill_through(spec, {"geography.region": "east"}, limit=1)
    paid = tables["fact_premium"]["paid_date"].notna()
    assert region.attrs["total_rows"] > total and region.attrs["total_rows"] < paid.sum()
    capped = engine.drill_through(spec, {}, limit=MAX_DRILL_ROWS * 10)
    assert len(capped) == MAX_DRILL_ROWS
    with pytest.raises(SpecError, match="not a row or column"):
        engine.drill_through(spec, {"channel": "agency"})


def test_members_in_business_order_with_labels(engine, tables):  # noqa: F811
    regions = engine.members("policies", "geography.region")
    expected = tables["dim_region"].sort_values("sort_order")
    assert list(regions["key"]) == list(expected["region_code"])
    assert list(regions["label_zh"]) == list(expected["name_zh"])
    months = engine.members("contribution", "time.month")
    mart_months = tables["mart_customer_month"]["month"].dt.strftime("%Y-%m")
    assert list(months["key"]) == sorted(mart_months.unique())


def test_a_reload_is_seen_by_the_next_query(warehouse, tmp_path):  # noqa: F811
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    # Raw reads: the UPDATE below stands in for a reload but does not rebuild the rollups as one would.
    eng = Engine(copy, rollups=False)
    spec = {"cube": "policies", "measures": ["claims_paid"]}
    before = eng.query(spec)["claims_paid"].iloc[0]
    assert eng.query(spec)["claims_paid"].iloc[0] == before  # served again, from the cache
    reloaded = tmp_path / "reloaded.duckdb"  # a reload writes a new file and moves it into place
    shutil.copy(warehouse, reloaded)
    con = duckdb.connect(str(reloaded))
    con.execute("UPDATE fact_claim SET amount_paid = amount_paid * 2")
    con.close()
    os.replace(reloaded, copy)
    assert eng.query(spec)["claims_paid"].iloc[0] == pytest.approx(before * 2)


def test_concurrent_queries_get_their_own_answers(engine):  # noqa: F811
    specs = [{"cube": "policies", "rows": [level], "measures": ["policies", "written_premium"], "totals": True,
              "filters": [{"dim": "time.year", "op": "eq", "values": [year]}]}
             for level in ("channel", "sex", "geography.region", "product.line") for year in (2023, 2024)]
    fresh = Engine(engine.path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(fresh.query, specs))
    for spec, frame in zip(specs, together):
        pd.testing.assert_frame_equal(frame, engine.query(spec), check_exact=False, rtol=1e-12)


def test_answers_are_cached_per_spec_and_scope(warehouse, monkeypatch):  # noqa: F811
    eng = Engine(warehouse)
    spec = {"cube": "policies", "rows": ["channel"], "measures": ["policies"]}
    first = eng.query(spec)
    east = eng.query(spec, scope=Scope.of(region=["east"]))
    monkeypatch.setattr(eng, "_run", lambda *a: pytest.fail("a cached answer went to the warehouse"))
    pd.testing.assert_frame_equal(eng.query(spec), first)
    pd.testing.assert_frame_equal(eng.query(spec, scope=Scope.of(region=["east"])), east)
    assert east["policies"].sum() < first["policies"].sum()
    with pytest.raises(pytest.fail.Exception):
        eng.query(spec, scope=Scope.of(region=["south"]))  # another scope is another answer


def test_cache_can_live_in_the_flask_app(warehouse):  # noqa: F811
    from flask import Flask

    app = Flask(__name__)
    cache = ResultCache()
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache"})
    eng = Engine(warehouse, cache=cache)
    spec = {"cube": "policies", "measures": ["policies"]}
    eng.query(spec)
    backend = next(iter(app.extensions["cache"].values()))
    assert any(k.startswith("policycube:") for k in backend._cache)


def test_a_changed_rule_is_not_answered_from_the_shared_cache(warehouse, tmp_path, monkeypatch):  # noqa: F811
    """A deploy with another params file (here: no persistency grace period) shares the cache
    backend with the old one; it must compute its own figures, not serve the old entry."""
    from cubes import catalog
    from data.config import params_path

    cache = ResultCache()
    spec = {"cube": "policies", "rows": ["time.year"], "measures": ["persistency_13"]}
    before = Engine(warehouse, cache=cache).query(spec)
    strict = tmp_path / "params.toml"
    strict.write_text(params_path().read_text(encoding="utf-8").replace("grace_days = 60", "grace_days = 0"),
                      encoding="utf-8")
    monkeypatch.setenv("POLICYCUBE_PARAMS", str(strict))
    for cached in (catalog.all_cubes, catalog.definitions_fingerprint):
        cached.cache_clear()
    try:
        after = Engine(warehouse, cache=cache).query(spec)
    finally:
        monkeypatch.undo()
        for cached in (catalog.all_cubes, catalog.definitions_fingerprint):
            cached.cache_clear()
    # without a grace period fewer payments count as on time
    assert (after["persistency_13"].fillna(0) <= before["persistency_13"].fillna(0)).all()
    assert (after["persistency_13"].fillna(0) < before["persistency_13"].fillna(0)).any()


def test_engine_memory_is_bounded_and_files_stay_closed(warehouse, monkeypatch):  # noqa: F811
    monkeypatch.setenv("POLICYCUBE_DUCKDB_MEMORY", "512MiB")
    eng = Engine(warehouse)
    cur = eng._cursor()
    try:
        assert cur.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "512.0 MiB"
        with pytest.raises(duckdb.PermissionException):
            cur.execute("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    finally:
        cur.close()
    monkeypatch.setenv("POLICYCUBE_DUCKDB_MEMORY", "lots")
    with pytest.raises(ValueError, match="POLICYCUBE_DUCKDB_MEMORY"):
        Engine(warehouse)._cursor()
