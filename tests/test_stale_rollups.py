"""A rollup table built from older definitions is not read, and the server log says which and how to fix it."""
from __future__ import annotations

import logging

import duckdb

from cubes.engine import Engine
from cubes.rollups import rollups_of
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
