"""Build the rollup tables of cubes/rollups.py in a warehouse (called by data/derive.py after the
derived tables, or on an existing warehouse by `python -m data.rollups`).

The grouped rollups of a cube come from one pass over its source (GROUPING SETS, one set per
rollup), with snapshot rows at every month start and month end up to the as-of date and at the
as-of date's comparison-period ends (kept by the rollups that keep stocks); a materialized rollup
is the source's rows. A grain-exact rollup is the engine's own answer at its grain, compiled
against the smallest rollup built before it that answers it exactly (else the raw rows), and
checked to have one row per grain member. `rollup_meta` records each table's definitions
fingerprint, its row count and which time levels the month's first day keeps, so the engine uses
only tables built from the definitions it runs with.
"""
from __future__ import annotations

import datetime as dt
import time

import duckdb

from cubes import member_lists
from cubes.model import Cube
from cubes.periods import NO_DATES, shifted_end
from cubes.rollups import (CLOSING, FLOW, META_TABLE, OPENING, Built, Rollup, answered_spec, fingerprint,
                           level_column, match, measure_column, rollup_cube, rollups_of, scope_column, storable,
                           stored_levels, stored_scope)
from cubes.spec import QuerySpec
from cubes.sql import SHIFT, compile_query

CALENDAR = "dim_calendar"  # every day the facts touch (data/derive.py)


def snapshot_dates(cube: Cube) -> tuple[str, str]:
    """Relations (column d) of the month starts, and of the month ends with the as-of date and its
    comparison-period ends, up to the as-of date: every date a month-aligned query asks a stock at."""
    as_of = cube.as_of or f"(SELECT max(date) FROM {CALENDAR})"
    starts = f"SELECT DISTINCT CAST(date_trunc('month', date) AS DATE) AS d FROM {CALENDAR} WHERE date <= {as_of}"
    ends = " UNION ".join(
        [f"SELECT DISTINCT CAST(last_day(date) AS DATE) AS d FROM {CALENDAR} WHERE last_day(date) <= {as_of}",
         f"SELECT CAST({as_of} AS DATE)"] + [f"SELECT {shifted_end(as_of, shift)}" for shift in SHIFT.values()])
    return starts, ends


def source_sql(cube: Cube, stocks: bool, inner_where: str = "") -> str:
    """The cube's source with `inner_where` its only filter inside, with snapshot rows (`stocks`)
    at month boundaries."""
    starts, ends = snapshot_dates(cube) if stocks else (NO_DATES, NO_DATES)
    return (cube.source.replace("{inner_where}", inner_where).replace("{cut_dates}", NO_DATES)
            .replace("{stock_dates}", starts).replace("{stock_end_dates}", ends))


def period_where(cube: Cube, rollup: Rollup) -> str:
    """The condition inside the source that keeps a period rollup's period (dates from the
    company rules, not a user: written as literals)."""
    if not rollup.period:
        return ""
    low, high = (dt.date.fromisoformat(day) for day in rollup.period)
    return f" AND {next(iter(cube.inner_levels.values()))} BETWEEN DATE '{low}' AND DATE '{high}'"


def part_sql(cube: Cube) -> str:
    """Which rows are snapshots: the records of a stock measure counted at period ends or starts."""
    def records(at):
        return " OR ".join(f"({m.column} IS NOT NULL{' AND ' + m.where if m.where else ''})"
                           for m in cube.measures if m.kind == "stock" and m.at == at)
    whens = [f"WHEN {cond} THEN '{part}'" for part, cond in ((CLOSING, records("end")), (OPENING, records("start")))
             if cond]
    return f"CASE {' '.join(whens)} ELSE '{FLOW}' END" if whens else f"'{FLOW}'"


def key_columns(cube: Cube, rollup: Rollup) -> dict[str, str]:
    """Stored key column -> its expression over the source: levels, then row-scope columns."""
    d = cube.date_column
    keys = {level_column(ref): cube.level(ref)[1].expr.replace("{date}", d)
            for ref in sorted(stored_levels(cube, rollup))}
    keys.update({scope_column(k): cube.scope_columns[k] for k in stored_scope(cube, rollup)})
    return keys


def stored_measures(cube: Cube, rollup: Rollup) -> list[str]:
    return [m.name for m in cube.measures if storable(cube, rollup, m)]


def stage_sql(cube: Cube, rollups: list[Rollup]) -> tuple[str, dict[str, int]]:
    """One pass over the source for all of a cube's rollups: GROUPING SETS, one set per rollup.
    Returns the SQL and each rollup's GROUPING() id (a bit set per key column it does not keep)."""
    keys, measures = {}, {}
    for r in rollups:
        keys.update(key_columns(cube, r))
        measures.update({name: cube.measure(name) for name in stored_measures(cube, r)})
    d, part = cube.date_column, part_sql(cube)
    inner = [f"{part} AS __part",
             f"CASE WHEN {part} = '{FLOW}' THEN CAST(date_trunc('month', {d}) AS DATE) ELSE {d} END AS {d}"]
    inner += [f"{expr} AS {column}" for column, expr in keys.items()]
    for m in measures.values():
        when = " AND ".join(f"({c})" for c in (f"{m.column} IS NOT NULL", m.where) if c)
        # a distinct count keeps the count of its rows per group (see cubes/rollups.py)
        inner.append(f"CASE WHEN {when} THEN {1 if m.kind == 'count_distinct' else m.column} END AS "
                     f"{measure_column(m.name)}")
    names = list(keys)
    sets = {r.table: list(key_columns(cube, r)) for r in rollups}
    ids = {table: sum(1 << (len(names) - 1 - i) for i, k in enumerate(names) if k not in kept)
           for table, kept in sets.items()}
    sums = [f"sum({measure_column(n)}) AS {measure_column(n)}" for n in measures]
    grouping = ", ".join(f"(__part, {d}{''.join(', ' + k for k in kept)})" for kept in sets.values())
    sql = (f"SELECT __part, {d}, {', '.join(names + sums)}, GROUPING({', '.join(names)}) AS __set "
           f"FROM (SELECT {', '.join(inner)} FROM ({source_sql(cube, any(r.stocks for r in rollups))})) "
           f"GROUP BY GROUPING SETS ({grouping})")
    return sql, ids


def split_sql(cube: Cube, rollup: Rollup, stage: str, set_id: int) -> str:
    columns = ["__part", cube.date_column, *key_columns(cube, rollup),
               *(measure_column(n) for n in stored_measures(cube, rollup))]
    flows_only = "" if rollup.stocks else f" AND __part = '{FLOW}'"
    return f"SELECT {', '.join(columns)} FROM {stage} WHERE __set = {set_id}{flows_only}"


def month_levels(con, cube: Cube) -> list[str]:
    """Time levels over the event date whose key is the same for a day and its month's first day."""
    out = []
    for ref in cube.level_names:
        lv = cube.level(ref)[1]
        if lv.time and "{date}" in lv.expr:
            day, month = lv.expr.replace("{date}", "date"), lv.expr.replace(
                "{date}", "CAST(date_trunc('month', date) AS DATE)")
            [(same,)] = con.execute(
                f"SELECT bool_and(({day}) IS NOT DISTINCT FROM ({month})) FROM {CALENDAR}").fetchall()
            if same:
                out.append(ref)
    return out


def exact_sql(cube: Cube, rollup: Rollup, built: list[Built]) -> tuple[str, dict]:
    """A grain-exact rollup's rows: the engine's answer at its levels over its period, from the
    smallest rollup already built that answers that exactly (else the raw rows)."""
    levels = [cube.canonical_level(ref) for ref in rollup.levels]
    period = [{"dim": "time.month", "op": "between", "values": list(rollup.period)}] if rollup.period else []
    spec = QuerySpec.from_dict({"cube": cube.name, "rows": levels, "measures": list(rollup.measures),
                                "filters": period})
    source = match(cube, spec, None, built)
    if source is not None:
        sql, params, _pl = compile_query(rollup_cube(cube, source.rollup), answered_spec(cube, source.rollup, spec),
                                         None)
    else:
        sql, params, _pl = compile_query(cube, spec, None)
    columns = [f'"{ref}" AS {level_column(ref)}' for ref in levels]
    columns += [f'"{name}" AS {measure_column(name)}' for name in rollup.measures]
    return f"SELECT {', '.join(columns)} FROM ({sql})", params


def check_grain(con, cube: Cube, rollup: Rollup) -> None:
    """A grain-exact rollup's other levels must have one member per grain member: else a filter on
    one would split a stored row, and the stored value would not be the answer."""
    grain = ", ".join(level_column(cube.canonical_level(ref)) for ref in rollup.grain) or "NULL"
    [(split,)] = con.execute(f"SELECT count(*) FROM (SELECT {grain} FROM {rollup.table} GROUP BY ALL "
                             f"HAVING count(*) > 1)").fetchall()
    if split:
        raise ValueError(f"{rollup.table}: {split} members of its grain {rollup.grain} have more than one row: "
                         f"its other levels are not attributes of the grain")


def build_rollups(con: duckdb.DuckDBPyConnection, cubes: dict[str, Cube], report=None) -> list[dict]:
    """(Re)build every declared rollup of `cubes` (name -> Cube) and each cube's member lists
    (cubes/member_lists.py), and record them in rollup_meta."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (table_name VARCHAR PRIMARY KEY, cube VARCHAR,
                    fingerprint VARCHAR, row_count BIGINT, month_levels VARCHAR[], seconds DOUBLE)""")
    done = []
    built: list[Built] = []  # what a grain-exact rollup may be computed from

    def record(cube: Cube, table: str, print_: str, seconds: float, months: list[str], rollup: Rollup | None = None):
        [(rows,)] = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        con.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                    [table, cube.name, print_, rows, months, seconds])
        done.append({"table": table, "rows": rows, "seconds": round(seconds, 2)})
        if rollup is not None:
            built.append(Built(rollup, rows, frozenset(months)))
        if report:
            report(done[-1])

    for name, cube in cubes.items():
        declared = list(rollups_of(name))
        for rollup in (r for r in declared if r.materialized):
            start = time.perf_counter()
            order = f" ORDER BY {rollup.order_by}" if rollup.order_by else ""
            [(kept,)] = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
            con.execute("SET preserve_insertion_order = true")  # the rows are stored in their ORDER BY
            con.execute(f"CREATE OR REPLACE TABLE {rollup.table} AS "
                        f"SELECT * FROM ({source_sql(cube, False, period_where(cube, rollup))}){order}")
            con.execute(f"SET preserve_insertion_order = {str(bool(kept)).lower()}")
            record(cube, rollup.table, fingerprint(cube, rollup), time.perf_counter() - start, month_levels(con, cube),
                   rollup)
        start = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE {member_lists.table(cube)} AS "
                    f"{member_lists.build_sql(cube, source_sql(cube, False))}")
        record(cube, member_lists.table(cube), member_lists.fingerprint(cube), time.perf_counter() - start, [])
        grouped = [r for r in declared if not r.materialized and r.grain is None]
        if grouped:
            build_grouped(con, cube, grouped, record)
        for rollup in (r for r in declared if r.grain is not None):
            start = time.perf_counter()
            sql, params = exact_sql(cube, rollup, built)
            con.execute(f"CREATE OR REPLACE TABLE {rollup.table} AS {sql}", params)
            check_grain(con, cube, rollup)
            record(cube, rollup.table, fingerprint(cube, rollup), time.perf_counter() - start, [], rollup)
    return done


def build_grouped(con: duckdb.DuckDBPyConnection, cube: Cube, grouped: list[Rollup], record) -> None:
    """All grouped rollups of a cube from one pass over its source (see stage_sql)."""
    start = time.perf_counter()
    sql, ids = stage_sql(cube, grouped)
    con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_stage AS {sql}")
    for rollup in grouped:
        con.execute(f"CREATE OR REPLACE TABLE {rollup.table} AS "
                    f"{split_sql(cube, rollup, 'rollup_stage', ids[rollup.table])}")
    con.execute("DROP TABLE rollup_stage")
    seconds = (time.perf_counter() - start) / len(grouped)  # one pass serves them all: an even share
    months = month_levels(con, cube)
    for rollup in grouped:
        record(cube, rollup.table, fingerprint(cube, rollup), seconds, months, rollup)
