"""Build (or rebuild) the cube rollups in an existing warehouse, e.g. after changing a cube
definition or params.toml without reloading data (generate and load build them anyway):

    python -m data.rollups [--warehouse PATH]

The warehouse file is replaced atomically: readers keep the old file until the new one is ready.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

from cubes.catalog import all_cubes
from cubes.rollups_build import build_rollups
from data.config import load_params
from data.derive import write_missing_marts
from data.generate import DUCKDB_MEMORY
from data.warehouse import warehouse_path


def rebuild(path: Path, report=print) -> list[dict]:
    """Build every rollup on a copy of `path`, then put the copy in its place."""
    work = path.with_name(f".{path.name}.rollups.tmp")
    shutil.copyfile(path, work)
    try:
        con = duckdb.connect(str(work))
        try:
            # the same bounded memory as generating the warehouse, spilling beside it
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
            con.execute("SET temp_directory = ?", [f"{work}.spill"])
            write_missing_marts(con, load_params())  # a warehouse derived before the day mart
            done = build_rollups(con, all_cubes(), report)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(work, path)
    finally:
        work.unlink(missing_ok=True)
        Path(f"{work}.wal").unlink(missing_ok=True)
        shutil.rmtree(f"{work}.spill", ignore_errors=True)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.rollups", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="warehouse file (default: POLICYCUBE_DATA or data/warehouse/policycube.duckdb)")
    args = parser.parse_args(argv)
    path = args.warehouse or warehouse_path()
    if not path.is_file():
        print(f"error: warehouse file not found: {path}", file=sys.stderr)
        return 1
    start, size = time.perf_counter(), path.stat().st_size
    try:
        rebuild(path, lambda r: print(f"{r['table']}: {r['rows']:,} rows in {r['seconds']} s"))
    except (OSError, duckdb.Error) as exc:
        print(f"error: could not build rollups in {path}: {exc}", file=sys.stderr)
        return 1
    print(f"rollups built in {time.perf_counter() - start:.1f} s; file {size / 1e6:,.0f} MB -> "
          f"{path.stat().st_size / 1e6:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
