"""The built-in code tables: dim_code, dim_region, dim_channel, dim_product_line.

They hold the bilingual labels and display order of the schema's ENUM codes, which the
dashboard needs for every warehouse, demo or loaded. The generator writes them into its fresh
warehouse; the loader fills them in before every load, so a warehouse built only from a user's
files still shows region names and labels. A row is added only where its key is missing, so
labels the user loaded (and which replace ours by upsert) are never overwritten.
"""
from __future__ import annotations

import duckdb

from data import reference as ref


def _ordered(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str, int]]:
    return [(code, zh, en, i) for i, (code, zh, en) in enumerate(rows)]


def code_table_rows() -> dict[str, list[tuple]]:
    """Table name -> built-in rows, in the tables' column order."""
    return {
        "dim_code": [(kind, *row) for kind, rows in ref.CODE_LABELS.items() for row in _ordered(rows)],
        "dim_region": _ordered(ref.REGIONS),
        "dim_product_line": _ordered(ref.PRODUCT_LINES),
        "dim_channel": _ordered(ref.CHANNELS),
    }


def write_code_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Add every built-in code row whose key the warehouse does not have yet."""
    for table, rows in code_table_rows().items():
        placeholders = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({placeholders})", rows)
