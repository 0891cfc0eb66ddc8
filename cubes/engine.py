"""The DuckDB engine: answers QuerySpecs over one warehouse file.

    engine = Engine(path, rollups=None)         # read-only; safe to share between threads
    engine.query(spec, scope=None)              # flat rows: keys, zh/en labels, measures
    engine.pivot(spec, scope=None)              # rows x (column members, measure) for a grid
    engine.drill_through(spec, cell, scope=None, limit=100, offset=0)
    engine.members(cube, level, scope=None)     # key, label_zh, label_en in business order
    engine.whale_curve(spec, scope=None, points=100)
    engine.describe()                           # cubes, dimensions, levels, member counts, measures

`spec` is a QuerySpec or its dict. `query`, `pivot`, `members` and `whale_curve` answer from a
pre-aggregated rollup (cubes/rollups.py) when one built from the current definitions answers the
spec exactly (`rollup_for(spec, scope)` names it); `rollups=False` (or env POLICYCUBE_ROLLUPS=0)
always reads raw rows. Each call opens its own cursor on the shared read-only
connection. When the file changes (a reload), the next call reconnects and the data version in
the cache key changes, so no stale answer is served. The key also holds the warehouse path and
a fingerprint of the cube definitions (their SQL, with the company rules compiled in), so a new
formula or params file is not answered from an old entry.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cubes import member_lists
from cubes.cache import ResultCache
from cubes.catalog import all_cubes, cube_by_name, definitions_fingerprint
from cubes.frames import finish, natural_rank, pivot
from cubes.labels import MemberLabels, load_member_labels
from cubes.model import SpecError, level_ref
from cubes.rollups import META_TABLE, Built, answered_spec, fingerprint, match, rollup_cube, rollups_of
from cubes.scope import Scope
from cubes.spec import QuerySpec
from cubes.sql import compile_query, compile_records, compile_slice, level_expr, plan

MAX_DRILL_ROWS = 10_000
log = logging.getLogger(__name__)
WAREHOUSE = "warehouse"  # the attached warehouse's catalog name


class Engine:
    def __init__(self, path: str | Path, cache: ResultCache | None = None, rollups: bool | None = None):
        self.path = Path(path)
        self.rollups = rollups if rollups is not None else os.environ.get("POLICYCUBE_ROLLUPS", "1") != "0"
        if not self.path.exists():
            raise FileNotFoundError(f"warehouse file not found: {self.path}")
        self.cache = cache or ResultCache()
        self._lock = threading.Lock()
        self._con = None
        self._version = None
        self._labels: dict = {}
        self._built: list[Built] | None = None
        self._listed: set[str] | None = None
        self._listed_levels: dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._stale: list[str] = []

    # --- connection and data version ---------------------------------------------------------------
    def data_version(self) -> str:
        st = self.path.stat()
        return f"{st.st_mtime_ns}-{st.st_size}"

    def _current(self) -> None:
        """Reconnects, and forgets what was read from the old file, when the file changed."""
        version = self.data_version()
        with self._lock:
            if self._con is None or version != self._version:
                # the old connection is left to close itself once its in-flight cursors finish
                self._con = _attach_readonly(self.path)
                self._version = version
                self._labels = {}
                self._built = None
                self._listed = None
                self._listed_levels = {}

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        self._current()
        with self._lock:
            cur = self._con.cursor()
        cur.execute(f"USE {WAREHOUSE}")
        return cur

    def _run(self, sql: str, params) -> pd.DataFrame:
        cur = self._cursor()
        try:
            return cur.execute(sql, params).df()
        finally:
            cur.close()

    def _cached(self, kind: str, parts: tuple, compute):
        key = self.cache.key(kind, str(self.path), self.data_version(), definitions_fingerprint(),
                             f"rollups={self.rollups}", *parts)
        return self.cache.get_or_compute(key, compute)

    # --- public API ----------------------------------------------------------------------------------
    def query(self, spec: QuerySpec | dict, scope: Scope | None = None) -> pd.DataFrame:
        spec = _spec(spec)
        return self._cached("query", (spec.cache_key(), _scope_key(scope)), lambda: self._query(spec, scope))

    def pivot(self, spec: QuerySpec | dict, scope: Scope | None = None) -> pd.DataFrame:
        spec = _spec(spec)
        return pivot(self.query(spec, scope), plan(spec.definition, spec))

    def drill_through(self, spec: QuerySpec | dict, cell: dict | None = None, scope: Scope | None = None,
                      limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """The records behind a cell; frame.attrs['total_rows'] is the count of all of them."""
        spec = _spec(spec)
        if not (isinstance(limit, int) and isinstance(offset, int) and 0 < limit and offset >= 0):
            raise SpecError("drill-through needs a positive limit and a non-negative offset")
        limit = min(limit, MAX_DRILL_ROWS)
        page_sql, page_params, count_sql, count_params = compile_records(
            spec.definition, spec, dict(cell or {}), scope, limit, offset)
        frame = self._run(page_sql, page_params)
        frame.attrs["total_rows"] = int(self._run(count_sql, count_params)["n"].iloc[0])
        return frame

    def iter_records(self, spec: QuerySpec | dict, scope: Scope | None = None, cell: dict | None = None,
                     batch_rows: int = 50_000) -> Iterator[pd.DataFrame]:
        """Every record behind the spec's slice (or one cell of it), in batches, for exports too
        large for one frame; dates come as ISO text (what a CSV shows, and quicker to write).

        Ordering a million records and joining their attributes would grow the worker by half a
        gigabyte, so they are read on a DuckDB instance of their own whose memory is capped
        (`export_memory_limit()`, the rest spills to disk) and closed when the caller stops. When
        even spilling does not fit the cap (several million records), they are read as before on
        the engine's connection; that happens before the first batch, as ordering comes first."""
        spec = _spec(spec)
        sql, params, _count_sql, _count_params = compile_records(spec.definition, spec, dict(cell or {}), scope,
                                                                 2**62, 0)
        con = _attach_readonly(self.path)
        batches = None
        try:
            con.execute(f"SET memory_limit = '{export_memory_limit()}'")
            batches = _record_batches(con.cursor(), sql, params, batch_rows)
            try:
                first = next(batches, None)
            except duckdb.OutOfMemoryException:
                con.close()
                batches = _record_batches(self._cursor(), sql, params, batch_rows)
                first = next(batches, None)
            if first is not None:
                yield first
                yield from batches
        finally:
            if batches is not None:
                batches.close()
            con.close()

    def member_label(self, cube: str, level: str, key, lang: str) -> str:
        """The display name of one member, or the key itself when the warehouse has no such member."""
        members = self.members(cube, level)
        match = members.loc[members["key"].astype(str) == str(key), f"label_{lang}"]
        return str(match.iloc[0]) if len(match) else str(key)

    def members(self, cube: str, level: str, scope: Scope | None = None) -> pd.DataFrame:
        """Members of a level present in the data the scope allows, with labels, in business order."""
        c = cube_by_name(cube)
        ref = c.canonical_level(level)
        if self._is_listed(c, ref, scope):  # held in memory already: a result-cache entry would cost more
            return self._listed_members(c, ref, scope)
        return self._cached("members", (cube, ref, _scope_key(scope)), lambda: self._members(c, ref, scope))

    def describe(self) -> dict:
        """Every cube: label, grain, dimensions (levels with member counts) and measures."""
        out = {}
        for cube in all_cubes().values():
            counts = self._cached("counts", (cube.name,), lambda c=cube: self._member_counts(c))
            dims = {}
            for h in cube.hierarchies:
                dims[h.name] = {
                    "label": {"zh": h.label_zh, "en": h.label_en}, "filter_only": h.filter_only,
                    "levels": [{"name": level_ref(h, lv), "label": {"zh": lv.label_zh, "en": lv.label_en},
                                "type": lv.dtype, "members": counts[level_ref(h, lv)]} for lv in h.levels],
                }
            out[cube.name] = {
                "label": {"zh": cube.label_zh, "en": cube.label_en}, "grain": cube.grain, "dimensions": dims,
                "measures": [{"name": m.name, "label": {"zh": m.label_zh, "en": m.label_en}, "format": m.fmt,
                              "additive": m.additive} for m in cube.measures],
            }
        return out

    def whale_curve(self, spec: QuerySpec | dict, scope: Scope | None = None, points: int = 100) -> pd.DataFrame:
        """Cumulative share of contribution against share of customers, best customers first, over
        the spec's slice of the contribution cube (rows and columns ignored)."""
        spec = _spec(spec)
        if spec.cube != "contribution":
            raise SpecError("the whale curve ranks customers: use the 'contribution' cube")
        if not (isinstance(points, int) and 2 <= points <= 1000):
            raise SpecError("whale curve points must be a whole number between 2 and 1000")
        flat = spec.replace(rows=[], columns=[], top=None, sort=[], totals=False, compare=None)
        return self._cached("whale", (flat.cache_key(), _scope_key(scope), str(points)),
                            lambda: self._whale(flat, scope, points))

    def read(self, sql: str, params: dict) -> pd.DataFrame:
        """The rows of a statement written for one page (a customer's history, an agent's book):
        values only as bound `params`; one read-only cursor per call, so safe between threads."""
        return self._run(sql, params)

    def slice_sql(self, spec: QuerySpec | dict, scope: Scope | None, select: str) -> tuple[str, dict]:
        """`select` over the cube rows the spec's filters and `scope` keep, from the rollup that
        answers the spec when one does (as `query` would): SQL and its parameters, for a page's
        analysis that is one statement over the slice."""
        spec = _spec(spec)
        return compile_slice(*self._source(spec, scope), scope, select)

    def rollup_for(self, spec: QuerySpec | dict, scope: Scope | None = None) -> str | None:
        """The rollup table `query` answers the spec from, or None when it reads raw rows."""
        spec = _spec(spec)
        built = match(spec.definition, spec, scope, self._built_rollups()) if self.rollups else None
        return built.rollup.table if built else None

    def stale_tables(self) -> list[str]:
        """The declared rollup and member-list tables missing from the warehouse or built from other
        definitions (`python -m data.rollups` rebuilds them)."""
        self._built_rollups()
        return list(self._stale)

    # --- implementation ------------------------------------------------------------------------------
    def _built_rollups(self) -> list[Built]:
        """The rollup tables of this warehouse built from the current definitions."""
        self._current()
        if self._built is None:
            self._read_meta()
        return self._built

    def _listed_cubes(self) -> set[str]:
        """The cubes whose member-list table was built from the current definitions."""
        self._current()
        if self._listed is None:
            self._read_meta()
        return self._listed

    def _read_meta(self) -> None:
        """Which rollups and member lists rollup_meta records as built from the current definitions,
        read once per data version (none in a warehouse built before rollups existed)."""
        meta = []
        if self._run("SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = $db AND table_name = $t",
                     {"db": WAREHOUSE, "t": META_TABLE})["n"].iloc[0]:
            meta = list(self._run(f"SELECT table_name, cube, fingerprint, row_count, month_levels FROM {META_TABLE}",
                                  {}).itertuples(index=False))
        current = {r.table: (r, fingerprint(cube_by_name(r.cube), r))
                   for c in all_cubes() for r in rollups_of(c)}
        lists = {member_lists.table(c): member_lists.fingerprint(c) for c in all_cubes().values()}
        self._built = [Built(current[row.table_name][0], int(row.row_count), frozenset(row.month_levels))
                       for row in meta
                       if row.table_name in current and current[row.table_name][1] == row.fingerprint]
        listed = {row.table_name: row.cube for row in meta if lists.get(row.table_name) == row.fingerprint}
        self._listed = set(listed.values())
        self._stale = sorted((set(current) | set(lists)) - {b.rollup.table for b in self._built} - set(listed))
        if self.rollups and self._stale:  # correct answers still, but such queries read raw rows: say so once
            log.warning("%d rollup table(s) missing or built from older definitions: %s. Queries they would "
                        "answer read raw rows (slow at scale) until `python -m data.rollups` rebuilds them.",
                        len(self._stale), ", ".join(self._stale))

    def _source(self, spec: QuerySpec, scope: Scope | None) -> tuple:
        """The cube and spec to compile: the rollup's when one answers the spec exactly."""
        cube = spec.definition
        built = match(cube, spec, scope, self._built_rollups()) if self.rollups else None
        if built is None:
            return cube, spec
        return rollup_cube(cube, built.rollup), answered_spec(cube, built.rollup, spec)

    def _query(self, spec: QuerySpec, scope: Scope | None) -> pd.DataFrame:
        cube = spec.definition
        sql, params, pl = compile_query(*self._source(spec, scope), scope)
        raw = self._run(sql, params)
        frame = finish(raw, cube, pl, {ref: self._member_labels(cube, ref) for ref in pl.levels})
        frame.attrs["labels"] = column_labels(cube, frame.columns)
        return frame

    def _member_labels(self, cube, ref: str) -> MemberLabels:
        lv = cube.level(ref)[1]
        if lv.labels not in self._labels:
            run = lambda sql, params: [tuple(r) for r in self._run(sql, params).itertuples(index=False)]  # noqa: E731
            self._labels[lv.labels] = load_member_labels(lv, run)
        return self._labels[lv.labels]

    def _members(self, cube, ref: str, scope: Scope | None) -> pd.DataFrame:
        if ref in cube.inner_levels:  # e.g. months of the contribution cube: read where they live
            sql = f"SELECT DISTINCT {level_expr(cube, ref, cube.inner_levels[ref])} AS key FROM {cube.inner_table}"
            params = {}
        else:
            # the members of a level are the same in a rollup keeping it (flow rows keep every key)
            asked = QuerySpec(cube.name, (cube.measures[0].name,), rows=(ref,))
            source, asked = self._source(asked, scope)
            sql, params = compile_slice(source, asked, scope,
                                        f"DISTINCT {level_expr(source, ref, cube.date_column)} AS key")
        return self._labelled(cube, ref, self._run(sql, params)["key"])

    def _is_listed(self, cube, ref: str, scope: Scope | None) -> bool:
        return (self.rollups and ref not in cube.inner_levels and member_lists.answers(cube, ref, scope)
                and cube.name in self._listed_cubes())

    def _listed_members(self, cube, ref: str, scope: Scope | None) -> pd.DataFrame:
        listed, labelled = self._listed_level(cube, ref)
        if scope is None:
            return labelled
        return labelled[labelled["key"].isin(set(member_lists.keys_in(listed, scope)))].reset_index(drop=True)

    def _listed_level(self, cube, ref: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A level's rows of the cube's member-list table (keys by scope columns) and all its members
        labelled, once per data version: small, and asked by every page's filter bar and drill path."""
        self._current()
        with self._lock:
            known = self._listed_levels.get((cube.name, ref))
        if known is None:
            rows = self._run(*member_lists.read_sql(cube, ref))
            known = rows, self._labelled(cube, ref, rows["key"].drop_duplicates())
            with self._lock:
                self._listed_levels[(cube.name, ref)] = known
        return known

    def _labelled(self, cube, ref: str, keys: pd.Series) -> pd.DataFrame:
        """Keys of a level in business order, with their zh/en names."""
        keys = keys.dropna()
        labels = self._member_labels(cube, ref)
        keys = keys.iloc[natural_rank(keys, labels).argsort(kind="mergesort")].reset_index(drop=True)
        lookup = [str(k) if cube.level(ref)[1].dtype == "str" else k for k in keys]
        return pd.DataFrame({"key": keys, "label_zh": [labels.name(k, 0) for k in lookup],
                             "label_en": [labels.name(k, 1) for k in lookup]})

    def _member_counts(self, cube) -> dict[str, int]:
        """Distinct members of every level, in one pass over the cube's source."""
        outer = [ref for ref in cube.level_names if ref not in cube.inner_levels]
        select = ", ".join(f'count(DISTINCT {level_expr(cube, ref, cube.date_column)}) AS "{ref}"' for ref in outer)
        sql, params = compile_slice(cube, QuerySpec(cube.name, (cube.measures[0].name,)), None, select)
        counts = {ref: int(n) for ref, n in self._run(sql, params).iloc[0].items()}
        counts.update({ref: len(self.members(cube.name, ref)) for ref in cube.inner_levels})
        return counts

    def _whale(self, spec: QuerySpec, scope: Scope | None, points: int) -> pd.DataFrame:
        values = self._run(*self.slice_sql(spec, scope, "contribution"))["contribution"].to_numpy()
        if not (values[:-1] >= values[1:]).all():  # a rollup stored best first comes sorted (cubes/rollups.py)
            values = -np.sort(-values)
        n = len(values)
        total = values.sum() if n else 0.0
        cut = sorted({max(1, round(n * i / points)) for i in range(1, points + 1)}) if n else []
        cumulative = values.cumsum()
        return pd.DataFrame({
            "customer_share": [c / n for c in cut],
            "contribution_share": [cumulative[c - 1] / total if total else float("nan") for c in cut],
            "customers": cut,
            "cumulative_contribution": [cumulative[c - 1] for c in cut],
        })


def _attach_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """A private in-memory database with the warehouse file attached read-only. duckdb.connect(path)
    would hand back the process-wide instance of that path, which keeps reading the old file after
    a reload has replaced it while any cursor of it is still open."""
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {WAREHOUSE} (READ_ONLY)")
    # every gunicorn worker has its own instance: bound each one's memory (DuckDB's default is 80 %
    # of RAM per instance), and no file or network beyond the attached warehouse can be read
    con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")
    con.execute("SET enable_external_access = false")
    return con


def _record_batches(cur: duckdb.DuckDBPyConnection, sql: str, params: dict, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The statement's rows as frames of `batch_rows`, dates as ISO text; closes `cur` when done."""
    try:
        cur.execute(f"USE {WAREHOUSE}")
        for batch in cur.sql(sql, params=params).to_arrow_reader(batch_rows):
            columns = [c.cast(pa.string()) if pa.types.is_date(c.type) else c for c in batch.columns]
            yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pandas()
    finally:
        cur.close()


def duckdb_memory_limit(variable: str = "POLICYCUBE_DUCKDB_MEMORY", default: str = "1GB") -> str:
    """The memory limit of each engine's DuckDB instance: env POLICYCUBE_DUCKDB_MEMORY, default 1GB
    (or another size setting: env `variable`, `default`)."""
    value = os.environ.get(variable, "").strip() or default
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise ValueError(f"{variable} must be a size like '1GB' or '512MiB', got {value!r}")
    return value


def export_memory_limit() -> str:
    """The memory limit of the DuckDB instance a record export reads on: env POLICYCUBE_EXPORT_MEMORY,
    default 200MB (at 10x, a 1M-row export then spills about 100 MB to DuckDB's temp directory and
    grows a worker by 140-290 MB instead of 380-540 MB)."""
    return duckdb_memory_limit("POLICYCUBE_EXPORT_MEMORY", "200MB")


def _spec(spec) -> QuerySpec:
    return spec if isinstance(spec, QuerySpec) else QuerySpec.from_dict(spec)


def _scope_key(scope: Scope | None) -> str:
    return "*" if scope is None else scope.key()


def column_labels(cube, columns) -> dict:
    """zh/en headers of the measure and level columns, from the cube definition."""
    out = {}
    for col in columns:
        base, _, suffix = col.partition("__")
        if base in cube.measure_names:
            m = cube.measure(base)
            extra = {"": ("", ""), "prior": ("（对比期）", " (prior)"), "change": ("（变动）", " (change)")}[suffix]
            out[col] = {"zh": m.label_zh + extra[0], "en": m.label_en + extra[1], "format": m.fmt}
        elif col.split("|")[0] in cube.level_names:
            lv = cube.level(col.split("|")[0])[1]
            out[col] = {"zh": lv.label_zh, "en": lv.label_en}
    return out
