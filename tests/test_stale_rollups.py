"""A rollup table built from older definitions is not read, and the server log says which and how to fix it."""
from __future__ import annotations

import logging

import duckdb

from cubes.engine import Engine
from cubes.rollups import rollups_of
from data.warehouse import ensure_warehouse, refresh_rollups
from tests.test_cubes_fixtures import small_warehouse_path

PIVOT = {"cube": "policies", "rows": ["geography.region"], "columns": ["product.line"], "measures": ["written_premium"]}


def test_stale_rollups_are_named_in_one_warning(tmp_path, caplog):
    path = tmp_path / "w.duckdb"
    path.write_bytes(small_warehouse_path().read_bytes())
    with duckdb.connect(str(path)) as con:  # as if the policies cube's definition had changed since the build
        con.execute("UPDATE rollup_meta SET fingerprint = 'old' WHERE table_name LIKE 'rollup_policies_%'")
    with caplog.at_level(logging.WARNING, logger="cubes.engine"):
        engine = Engine(path, rollups=True)
        assert engine.rollup_for(PIVOT) is None  # read from raw rows, not from a stale table
        engine.query(PIVOT)
    warnings = [r.getMessage() for r in caplog.records if r.name == "cubes.engine"]
    assert len(warnings) == 1  # once per data version, not per query
    assert all(r.table in warnings[0] for r in rollups_of("policies"))
    assert not any(r.table in warnings[0] for r in rollups_of("service"))
    assert "python -m data.rollups" in warnings[0]


def test_opening_a_warehouse_with_stale_rollups_rebuilds_them(tmp_path):
    """`make run`, `make serve`, the tests and the bench open the warehouse with ensure_warehouse."""
    path = tmp_path / "w.duckdb"
    path.write_bytes(small_warehouse_path().read_bytes())
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE rollup_meta SET fingerprint = 'old' WHERE table_name IN ('rollup_policies_geo', 'members_service')")
    assert Engine(path, rollups=True).stale_tables() == ["members_service", "rollup_policies_geo"]
    assert ensure_warehouse(path) == path
    assert Engine(path, rollups=True).stale_tables() == []
    assert Engine(path, rollups=True).rollup_for(PIVOT) is not None
    assert refresh_rollups(path) is False  # nothing stale: the file is left alone


def test_a_warehouse_whose_rollups_cannot_be_rebuilt_is_still_served(tmp_path, monkeypatch, capsys):
    path = tmp_path / "w.duckdb"
    path.write_bytes(small_warehouse_path().read_bytes())
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE rollup_meta SET fingerprint = 'old' WHERE table_name = 'rollup_policies_geo'")

    def refused(_path, report=print):
        raise PermissionError("read-only folder")

    monkeypatch.setattr("data.rollups.rebuild", refused)
    assert ensure_warehouse(path) == path
    assert "could not rebuild the rollups (read-only folder)" in capsys.readouterr().out
    assert Engine(path, rollups=True).query(PIVOT)["written_premium"].sum() > 0  # answered from raw rows
