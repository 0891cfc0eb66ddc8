"""Load a user's own CSV or Parquet files into the warehouse: `python -m data.load FILE_OR_DIR... [--into PATH]`.

Each file goes to the table its name names (fact_policy.csv, 保单.csv; see column_mapping.toml);
a directory means all its CSV and Parquet files. Tables load in dependency order (codes, then
dimensions, then facts), so a row can refer to rows loaded in the same batch.

Semantics, so that a second identical load changes nothing:
- a good row whose key already exists in the warehouse replaces that row (upsert by primary key);
- a bad row is never dropped silently: it goes to the table load_quarantine and to a CSV file
  beside the warehouse, with its source file, 1-based data row number and reason; the summary
  shows, per file, input rows = loaded + quarantined;
- the load works on a copy of the warehouse and replaces the original only after every table and
  data/derive.py succeeded, so any failure leaves the previous warehouse as it was;
- loads into one warehouse run one at a time (data/load_lock.py): a second waits for the first, and
  removes what a killed load left beside the warehouse;
- code rows the warehouse lacks (labels, region and channel names) are first filled in from
  data/code_tables.py, so a new warehouse is labelled too; the user's own code files replace them.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from data.code_tables import write_code_tables
from data.config import ParamsError, load_params
from data.derive import derive
from data.load_errors import LoadError
from data.load_lock import warehouse_lock
from data.load_mapping import load_mapping, normalize
from data.load_read import is_supported, read_raw
from data.load_schema import Schema, Table, load_schema
from data.load_validate import accepted_per_file, check, code_labels, rejected, upsert
from data.warehouse import create_schema, warehouse_path

LOG_DDL = """
CREATE TABLE IF NOT EXISTS load_quarantine (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, row_number BIGINT NOT NULL,
    table_name VARCHAR NOT NULL, reason VARCHAR NOT NULL, raw_row JSON, loaded_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS load_log (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    input_rows BIGINT NOT NULL, loaded_rows BIGINT NOT NULL, quarantined_rows BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL);
"""
QUARANTINE_COLUMNS = ["load_id", "source_file", "row_number", "table_name", "reason", "raw_row", "loaded_at"]


@dataclass
class SourceFile:
    path: Path
    table: str
    columns: dict[str, str]                  # header -> schema column
    ignored: list[str]                       # headers that match no column of the table


@dataclass
class FileResult:
    source: str
    table: str
    input_rows: int
    loaded: int
    quarantined: int
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    load_id: str
    warehouse: Path
    files: list[FileResult]
    quarantine_csv: Path | None


def collect_files(paths: list[Path]) -> list[Path]:
    """The files named, and the CSV/Parquet files directly inside each directory named."""
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_supported(p))
            if not found:
                raise LoadError(f"{path}: no CSV or Parquet files in this directory")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise LoadError(f"{path}: file not found")
    return files


def _read_source(path: Path, schema: Schema) -> SourceFile:
    mapping = load_mapping()
    table_name = mapping.table_for(path.stem, list(schema.tables))
    if table_name is None:
        raise LoadError(
            f"{path}: cannot tell which table this file is for; name it after a table of data/schema.sql "
            f"(e.g. fact_policy.csv or 保单.csv, see data/column_mapping.toml [tables]); derived tables "
            f"(param_*, mart_*, dim_calendar) are not loaded, data/derive.py rebuilds them"
        )
    table = schema.tables[table_name]
    raw = read_raw(path, header_only=True)     # the cells are read when the table's turn comes
    lookup = mapping.header_lookup(table)
    columns, ignored = {}, []
    for header in raw.columns:
        column = lookup.get(normalize(str(header)))
        if column is None:
            ignored.append(str(header))
        elif column in columns.values():
            first = next(h for h, c in columns.items() if c == column)
            raise LoadError(f"{path}: headers '{first}' and '{header}' both mean column {column} of {table_name}")
        else:
            columns[header] = column
    if not columns:
        raise LoadError(
            f"{path}: none of the columns of {table_name} found (headers: {', '.join(map(str, raw.columns))}); "
            f"expected e.g. {', '.join(table.required)}{_encoding_hint(raw)}"
        )
    missing = [c for c in table.required if c not in columns.values()]
    if missing:
        raise LoadError(f"{path}: required column(s) missing for {table_name}: {', '.join(missing)}"
                        f"{_encoding_hint(raw)}")
    return SourceFile(path, table_name, columns, ignored)


def _encoding_hint(raw: pd.DataFrame) -> str:
    """Why headers may not match: a file that is not UTF-8 is read as GBK, and text in any third
    encoding (or mixed ones) then turns into other Chinese characters without an error."""
    headers = [str(h) for h in raw.columns]
    if raw.attrs.get("encoding") != "gb18030" or all(h.isascii() for h in headers):
        return ""
    return (f"; the file is not UTF-8, so it was read as GBK, giving the headers {', '.join(headers)}: "
            f"if they look garbled, the file is in another text encoding: save it as CSV UTF-8 or GBK")


def _stage(con: duckdb.DuckDBPyConnection, table: Table, sources: list[SourceFile],
           raws: list[pd.DataFrame]) -> None:
    """Temp table _stage: every source's cells under schema column names, as text."""
    frames = []
    for index, (source, raw) in enumerate(zip(sources, raws)):
        frame = raw[list(source.columns)].rename(columns=source.columns)
        frame = frame.reindex(columns=[c.name for c in table.columns])
        for column in (c.name for c in table.columns if c.enum_kind):
            cells = frame[column].astype("str").where(frame[column].notna(), "")
            frame[f"_norm_{column}"] = cells.map({v: normalize(v) for v in cells.unique()})
        frame.insert(0, "_source", str(source.path))
        frame.insert(0, "_row", range(1, len(frame) + 1))
        frame.insert(0, "_file", index)
        frames.append(frame)
    staged = pd.concat(frames, ignore_index=True)
    text_columns = [c for c in staged.columns if c not in ("_file", "_row")]
    con.register("_stage_frame", staged)
    con.execute("DROP TABLE IF EXISTS _stage")
    con.execute(
        "CREATE TEMP TABLE _stage AS SELECT _file::INTEGER AS _file, _row::BIGINT AS _row, "
        + ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in text_columns)
        + " FROM _stage_frame"
    )
    con.unregister("_stage_frame")


def _read_cells(source: SourceFile) -> pd.DataFrame:
    raw = read_raw(source.path)
    if not set(source.columns) <= set(raw.columns):
        # only when the header decodes in one encoding and the rest of the file only in another
        raise LoadError(f"{source.path}: the header and the data rows are in different text encodings")
    return raw


def _load_table(con: duckdb.DuckDBPyConnection, table: Table, sources: list[SourceFile],
                load_id: str, loaded_at: datetime) -> list[FileResult]:
    kinds = {c.enum_kind for c in table.columns if c.enum_kind}
    con.register("_code_label", code_labels(con, table, {kind: load_mapping().code_synonyms(kind) for kind in kinds}))
    raws = [_read_cells(source) for source in sources]
    _stage(con, table, sources, raws)
    check(con, table)
    bad = rejected(con)
    upsert(con, table)
    good = accepted_per_file(con)
    con.unregister("_code_label")
    quarantine = [
        (load_id, str(sources[f].path), int(row), table.name, reason,
         json.dumps(raws[f].iloc[int(row) - 1].to_dict(), ensure_ascii=False, default=str), loaded_at)
        for f, row, reason in bad.itertuples(index=False)
    ]
    if quarantine:
        placeholders = ", ".join("?" * len(QUARANTINE_COLUMNS))
        con.executemany(f"INSERT INTO load_quarantine VALUES ({placeholders})", quarantine)
    results = []
    for index, source in enumerate(sources):
        result = FileResult(str(source.path), table.name, len(raws[index]), good.get(index, 0),
                            int((bad["_file"] == index).sum()), source.ignored)
        con.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?)", [
            load_id, result.source, table.name, result.input_rows, result.loaded, result.quarantined, loaded_at])
        results.append(result)
    return results


def _open_work_copy(target: Path, work: Path) -> duckdb.DuckDBPyConnection:
    if Path(f"{target}.wal").exists():
        # its newest changes are still in the write-ahead log, which a file copy would lose
        raise LoadError(f"{target}: the warehouse is open for writing elsewhere or was not closed cleanly; "
                        f"stop that process (or open and close the file once with duckdb) and load again")
    if target.exists():
        shutil.copyfile(target, work)
        con = duckdb.connect(str(work))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(work))
        create_schema(con)
    # labels and region names for the dashboard; rows of the user's own code files replace them
    write_code_tables(con)
    con.execute(LOG_DDL)
    return con


def _write_quarantine_csv(con: duckdb.DuckDBPyConnection, load_id: str, path: Path) -> bool:
    rows = con.execute(
        f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM load_quarantine WHERE load_id = ? "
        "ORDER BY source_file, row_number",
        [load_id],
    ).fetchall()
    if not rows:
        return False
    # utf-8-sig so that Excel shows the Chinese reasons and cells correctly
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(QUARANTINE_COLUMNS)
        writer.writerows(rows)
    return True


def load(paths: list[Path], into: Path | None = None, params: dict | None = None, wait: bool = True) -> LoadReport:
    """Load the files into the warehouse at `into` (default: warehouse_path()) atomically, after any
    other load into it has finished (wait=False: refuse with a LoadError while one runs)."""
    schema = load_schema(tuple(load_mapping().references.items()))
    sources = [_read_source(Path(p), schema) for p in collect_files([Path(p) for p in paths])]
    params = params if params is not None else load_params()
    target = Path(into or warehouse_path())
    loaded_at = datetime.now()
    load_id = f"{loaded_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    work = target.with_name(f".{target.name}.{load_id}.tmp")
    quarantine_csv = target.with_name(f"{target.stem}.quarantine.{load_id}.csv")
    quarantine_work = work.with_suffix(".csv")
    with warehouse_lock(target, wait):
        try:
            con = _open_work_copy(target, work)
            try:
                results = []
                for table_name in schema.load_order:
                    table_sources = [s for s in sources if s.table == table_name]
                    if table_sources:
                        results += _load_table(con, schema.tables[table_name], table_sources, load_id, loaded_at)
                derive(con, params)
                has_quarantine = _write_quarantine_csv(con, load_id, quarantine_work)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.replace(work, target)
            if has_quarantine:
                os.replace(quarantine_work, quarantine_csv)
        finally:
            for leftover in (work, Path(f"{work}.wal"), quarantine_work):
                leftover.unlink(missing_ok=True)
    order = {s.path: i for i, s in enumerate(sources)}
    results.sort(key=lambda r: order[Path(r.source)])
    return LoadReport(load_id, target, results, quarantine_csv if has_quarantine else None)


def _display_width(text: str) -> int:
    # Chinese characters take two terminal columns
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_report(report: LoadReport) -> str:
    width = max([_display_width(r.source) for r in report.files] + [4])

    def row(source: str, table: str, *counts) -> str:
        padded = source + " " * (width - _display_width(source))
        return f"{padded}  {table:<20} {counts[0]:>8} {counts[1]:>8} {counts[2]:>11}"

    lines = [f"Loaded into {report.warehouse} (load {report.load_id})",
             row("file", "table", "input", "loaded", "quarantined")]
    lines += [row(r.source, r.table, r.input_rows, r.loaded, r.quarantined) for r in report.files]
    total = [sum(getattr(r, k) for r in report.files) for k in ("input_rows", "loaded", "quarantined")]
    lines.append(row("total", "", *total))
    for r in report.files:
        if r.ignored_columns:
            lines.append(f"note: {r.source}: columns not in {r.table}, not loaded: {', '.join(r.ignored_columns)}")
    if report.quarantine_csv:
        lines.append(f"{total[2]} row(s) quarantined with their reasons: {report.quarantine_csv} "
                     f"(also in table load_quarantine, load_id '{report.load_id}')")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data.load",
        description="Load your own CSV (UTF-8 or GBK) or Parquet files into the PolicyCube warehouse.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR",
                        help="files named after their table (fact_policy.csv, 保单.csv) or directories of them")
    parser.add_argument("--into", type=Path, default=None,
                        help="warehouse file to load into "
                             "(default: $POLICYCUBE_DATA or data/warehouse/policycube.duckdb)")
    parser.add_argument("--no-wait", action="store_true",
                        help="if another load into the same warehouse is running, stop with exit code 1 "
                             "instead of waiting for it to finish")
    args = parser.parse_args(argv)
    try:
        report = load(args.paths, into=args.into, wait=not args.no_wait)
    except (LoadError, ParamsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (duckdb.Error, OSError) as exc:
        print(f"error: the load failed and the warehouse was left unchanged: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
