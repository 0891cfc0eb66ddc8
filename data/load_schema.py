"""What the loader knows about the target tables, read from data/schema.sql itself.

The DDL is executed in a throw-away in-memory DuckDB and its catalog (information_schema,
duckdb_constraints, duckdb_types) gives every table's columns, types, NOT NULL, primary key,
CHECK expressions and ENUM code sets, so the loader never keeps a second, hand-copied list.
References are not declared in the DDL (foreign keys would slow bulk loads); a column named
like another table's single-column primary key refers to that table, plus the few exceptions
listed under [references] in data/column_mapping.toml.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter

import duckdb

from data.warehouse import create_schema

LABEL_TABLE = "dim_code"           # bilingual labels of the ENUM codes, loaded before their users
NUMERIC_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str                      # VARCHAR, DATE, DOUBLE, INTEGER ... or the ENUM's type name
    not_null: bool
    enum_kind: str | None = None       # dim_code kind of an ENUM column ("channel" for channel_code)
    enum_codes: tuple[str, ...] = ()

    @property
    def is_numeric(self) -> bool:
        return self.sql_type in NUMERIC_TYPES


@dataclass(frozen=True)
class Reference:
    column: str
    table: str
    target_column: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[str, ...]            # CHECK expressions, as DuckDB prints them
    references: tuple[Reference, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.not_null)


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    load_order: tuple[str, ...]        # every table after the tables it refers to


def _enum_types(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, ...], str]:
    rows = con.execute(
        "SELECT type_name, labels FROM duckdb_types() "
        "WHERE logical_type = 'ENUM' AND schema_name = 'main' AND NOT internal"
    ).fetchall()
    by_codes = {tuple(labels): name for name, labels in rows}
    if len(by_codes) != len(rows):
        raise ValueError("two ENUM types in schema.sql share the same codes; columns would be ambiguous")
    return by_codes


def _columns(con: duckdb.DuckDBPyConnection, table: str, enums: dict[tuple[str, ...], str]) -> tuple[Column, ...]:
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    enum_by_text = {
        "ENUM(" + ", ".join("'" + code.replace("'", "''") + "'" for code in codes) + ")": (name, codes)
        for codes, name in enums.items()
    }
    columns = []
    for name, data_type, not_null in rows:
        if data_type in enum_by_text:
            type_name, codes = enum_by_text[data_type]
            columns.append(Column(name, type_name, not_null, type_name.removesuffix("_code"), codes))
        else:
            columns.append(Column(name, data_type, not_null))
    return tuple(columns)


def _constraints(con: duckdb.DuckDBPyConnection, table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = con.execute(
        "SELECT constraint_type, constraint_column_names, expression FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type IN ('PRIMARY KEY', 'CHECK') ORDER BY constraint_index",
        [table],
    ).fetchall()
    key = next(tuple(cols) for kind, cols, _ in rows if kind == "PRIMARY KEY")
    checks = tuple(expr for kind, _, expr in rows if kind == "CHECK")
    return key, checks


def _references(tables: dict[str, tuple[tuple[Column, ...], tuple[str, ...]]],
                extra: dict[str, str]) -> dict[str, tuple[Reference, ...]]:
    # ENUM-typed keys (channel_code, line_code ...) are validated by their code set instead.
    owner = {key[0]: name for name, (_, key) in tables.items() if len(key) == 1}
    refs = {}
    for name, (columns, key) in tables.items():
        found = []
        for column in columns:
            target = extra.get(column.name, column.name)
            if column.enum_kind or target not in owner or (owner[target] == name and column.name in key):
                continue
            found.append(Reference(column.name, owner[target], target))
        refs[name] = tuple(found)
    return refs


@cache
def load_schema(extra_references: tuple[tuple[str, str], ...] = ()) -> Schema:
    """The loadable tables of schema.sql, with references and a dependency-respecting order."""
    con = duckdb.connect()
    try:
        create_schema(con)
        enums = _enum_types(con)
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()]
        parts = {}
        checks = {}
        for name in names:
            key, table_checks = _constraints(con, name)
            parts[name] = (_columns(con, name, enums), key)
            checks[name] = table_checks
    finally:
        con.close()
    refs = _references(parts, dict(extra_references))
    tables = {
        name: Table(name, columns, key, checks[name], refs[name]) for name, (columns, key) in parts.items()
    }
    graph = {name: {r.table for r in refs[name] if r.table != name} for name in names}
    for name, table in tables.items():
        if name != LABEL_TABLE and any(c.enum_kind for c in table.columns):
            graph[name].add(LABEL_TABLE)
    return Schema(tables, tuple(TopologicalSorter(graph).static_order()))
