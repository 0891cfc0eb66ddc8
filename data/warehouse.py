"""Where the warehouse lives and how to open it.

One DuckDB file holds the whole warehouse. Its location and the demo scale come from the
environment so that the run command, the tests and the benchmark can point at different files:

    POLICYCUBE_DATA   path of the warehouse file   (default: data/warehouse/policycube.duckdb)
    POLICYCUBE_SCALE  demo scale, 1.0 = about 100,000 customers (default: 1.0)
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from data.load_lock import warehouse_lock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = PROJECT_ROOT / "data" / "warehouse" / "policycube.duckdb"
SCHEMA_SQL = Path(__file__).with_name("schema.sql")
DEMO_SEED = 20261123


def warehouse_path() -> Path:
    return Path(os.environ.get("POLICYCUBE_DATA") or DEFAULT_PATH)


def demo_scale() -> float:
    return float(os.environ.get("POLICYCUBE_SCALE") or 1.0)


def ensure_warehouse(path: Path | None = None, scale: float | None = None) -> Path:
    """Return the warehouse path, generating the demo warehouse first if the file is absent, and
    rebuilding its rollups if the cube definitions changed since they were built."""
    path = Path(path or warehouse_path())
    if not path.exists():
        from data.generate import generate

        generate(path, scale=demo_scale() if scale is None else scale, seed=DEMO_SEED)
    else:
        refresh_rollups(path)
    return path


def refresh_rollups(path: Path) -> bool:
    """Rebuild the rollups and member lists when any is missing or stale (built from older cube
    definitions): the engine would otherwise answer those queries from raw rows, correct but
    slow enough at scale to time a page out. Whether it rebuilt."""
    from cubes.engine import Engine

    engine = Engine(path)
    stale = engine.stale_tables() if engine.rollups else []
    del engine  # its read-only connection; the rebuild replaces the file
    if not stale:
        return False
    from data.rollups import rebuild

    print(f"PolicyCube: {len(stale)} rollup table(s) missing or built from older definitions "
          f"({', '.join(stale)}); rebuilding them (about a minute at demo scale)", flush=True)
    try:
        # the rebuild replaces the file from a copy, as a load does: one at a time, or one is lost
        with warehouse_lock(path):
            rebuild(path)
    except (OSError, duckdb.Error) as error:  # e.g. a read-only folder: serve anyway, from raw rows
        print(f"PolicyCube: could not rebuild the rollups ({error}); queries they would answer read raw "
              f"rows until `python -m data.rollups` succeeds", flush=True)
        return False
    return True


def connect_readonly(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path or warehouse_path()), read_only=True)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
