"""Loading a user's own CSV/Parquet files: what a user checks after `python -m data.load`.

Fixtures (tests/fixtures/load):
  base/  a small consistent set of dimensions and facts, English headers, UTF-8
  bad/   one fault per row (expected reasons below), to be loaded together with base/
  gbk/   Chinese file names, headers and labels; 客户.csv and 保单.csv are GBK, 缴费.csv UTF-8 with BOM
"""
from __future__ import annotations

import csv
import json
import fcntl
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import data.load as load_module
from data.config import load_params
from data.load import load
from data.load_mapping import load_mapping
from data.load_schema import load_schema
from data.warehouse import create_schema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "load"
BASE, BAD, GBK = FIXTURES / "base", FIXTURES / "bad", FIXTURES / "gbk"

# (file, 1-based data row) -> words the quarantine reason must contain; every other row must load.
EXPECTED_QUARANTINE = {
    ("dim_occupation.csv", 2): "industry_code: unknown reference 'MIN'",
    ("dim_occupation.csv", 3): "check failed",
    ("dim_customer.csv", 1): "city_code: unknown reference '9999'",
    ("dim_customer.csv", 3): "parent_customer_id: unknown reference 'C8'",
    ("fact_policy.csv", 2): "policy_id: missing required value",
    ("fact_policy.csv", 3): "duplicate key policy_id=PL10",
    ("fact_policy.csv", 4): "customer_id: unknown reference 'C999'",
    ("fact_policy.csv", 5): "issue_date: is not a date",
    ("fact_policy.csv", 6): "sum_assured: is not a number 'abc'",
    ("fact_policy.csv", 7): "annual_premium: negative value",
    ("fact_policy.csv", 8): "channel_code: is not a channel code or label '外星渠道'",
    ("fact_policy.csv", 9): "customer_id: unknown reference 'C5'",   # C5 itself was quarantined
    ("fact_policy.csv", 10): "duplicate key policy_id=PL1",            # PL1 is already in base/
    ("fact_premium.csv", 2): "policy_id: unknown reference 'PL13'",   # PL13 was quarantined
    ("fact_premium.csv", 4): "policy_year: is not a whole number",
    ("fact_premium.csv", 5): "blank row",
}
LOAD_TABLES = ("load_quarantine", "load_log")


def csv_rows(path: Path, encoding: str = "utf-8-sig") -> list[dict]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def data_row_count(path: Path) -> int:
    # blank lines count: they are data rows the loader must account for
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def snapshot(path: Path, prefixes=("dim_", "fact_", "param_", "mart_")) -> dict[str, pd.DataFrame]:
    """Every warehouse table (not the load log) as a frame sorted on all columns."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {
            name: con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').df()
            for name in sorted(names) if name.startswith(prefixes)
        }
    finally:
        con.close()


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_dtype=False, obj=name)


def query(path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def params():
    return load_params()


@pytest.fixture(scope="module")
def bad_load(tmp_path_factory, params):
    into = tmp_path_factory.mktemp("bad") / "wh.duckdb"
    report = load([BASE, BAD], into=into, params=params)
    return into, report


# --- the documented mapping agrees with the schema ------------------------------------------------

def test_mapping_names_only_schema_tables_columns_and_codes():
    schema = load_schema(tuple(load_mapping().references.items()))
    mapping = load_mapping()
    columns = {c.name for t in schema.tables.values() for c in t.columns}
    codes = {c.enum_kind: set(c.enum_codes) for t in schema.tables.values() for c in t.columns if c.enum_kind}
    assert set(mapping.tables) <= set(schema.tables)
    assert set(mapping.columns) <= columns
    for table, overrides in mapping.table_columns.items():
        assert set(overrides) <= {c.name for c in schema.tables[table].columns}
    for kind, by_code in mapping.codes.items():
        assert set(by_code) <= codes[kind], kind
    for table in schema.tables.values():
        mapping.header_lookup(table)          # raises if one header would mean two columns


def test_tables_load_after_the_tables_they_refer_to():
    schema = load_schema(tuple(load_mapping().references.items()))
    position = {name: i for i, name in enumerate(schema.load_order)}
    for table in schema.tables.values():
        for ref in table.references:
            assert position[ref.table] <= position[table.name], (table.name, ref.column)
    assert position["fact_policy"] < position["fact_premium"]
    assert ("parent_customer_id", "dim_customer") in {(r.column, r.table) for r in schema.tables["dim_customer"].references}


# --- bad rows: quarantined with file, row and reason, nothing lost --------------------------------

def test_each_bad_row_is_quarantined_with_its_reason(bad_load):
    into, report = bad_load
    rows = query(into, "SELECT source_file, row_number, table_name, reason, raw_row FROM load_quarantine")
    found = {(Path(f).name, n): reason for f, n, _, reason, _ in rows}
    assert set(found) == set(EXPECTED_QUARANTINE)
    for key, words in EXPECTED_QUARANTINE.items():
        assert words in found[key], (key, found[key])
    # the raw row kept is the source row as written (headers and text)
    for source_file, row_number, table_name, _, raw_row in rows:
        assert table_name == Path(source_file).stem
        if EXPECTED_QUARANTINE[(Path(source_file).name, row_number)] != "blank row":
            assert json.loads(raw_row) == csv_rows(Path(source_file))[row_number - 1]


def test_quarantine_csv_beside_the_warehouse_lists_the_same_rows(bad_load):
    into, report = bad_load
    assert report.quarantine_csv.parent == into.parent
    listed = {(Path(r["source_file"]).name, int(r["row_number"])): r["reason"] for r in csv_rows(report.quarantine_csv)}
    assert set(listed) == set(EXPECTED_QUARANTINE)
    assert all(r["load_id"] == report.load_id for r in csv_rows(report.quarantine_csv))


def test_input_rows_equal_loaded_plus_quarantined(bad_load):
    into, report = bad_load
    for result in report.files:
        path = Path(result.source)
        quarantined = sum(1 for f, _ in EXPECTED_QUARANTINE if f == path.name and path.parent == BAD)
        assert result.input_rows == data_row_count(path)
        assert result.quarantined == quarantined
        assert result.loaded == result.input_rows - quarantined
    # what arrived in the tables: base rows + the good rows of bad/, no more, no less
    for table in ("dim_occupation", "dim_customer", "fact_policy", "fact_premium"):
        good_in_bad = data_row_count(BAD / f"{table}.csv") - sum(1 for f, _ in EXPECTED_QUARANTINE if f == f"{table}.csv")
        assert query(into, f"SELECT count(*) FROM {table}")[0][0] == data_row_count(BASE / f"{table}.csv") + good_in_bad


def test_good_rows_arrive_parsed_and_labels_become_codes(bad_load):
    into, _ = bad_load
    assert query(into, "SELECT customer_type, sex, birth_date::VARCHAR, income_band, acquisition_source, occupation_code "
                       "FROM dim_customer WHERE customer_id = 'C6'") == [
        ("individual", "F", "1990-07-15", "50k_100k", "referral", "IT02")]
    assert query(into, "SELECT channel_code, status, payment_frequency FROM fact_policy WHERE policy_id = 'PL10'") == [
        ("agency", "in_force", "annual")]
    assert query(into, "SELECT sum_assured FROM fact_policy WHERE policy_id IN ('PL1', 'PL17') ORDER BY policy_id") == [
        (500000.0,), (1500000.0,)]          # PL1 keeps its first version; "1,500,000" is a number
    assert query(into, "SELECT payment_id, due_date::VARCHAR, paid_date::VARCHAR, amount FROM fact_premium "
                       "WHERE payment_id IN (102, 104) ORDER BY 1") == [
        (102, "2023-05-10", "2023-05-10", 30000.0), (104, "2023-01-10", "2023-01-12", 6000.0)]
    # a subsidiary listed before its parent in the same file still loads
    assert query(into, "SELECT parent_customer_id FROM dim_customer WHERE customer_id = 'C4'") == [("C3",)]


# --- encodings and Chinese headers -----------------------------------------------------------------

def test_gbk_files_with_chinese_names_headers_and_labels_load(tmp_path, params):
    with pytest.raises(UnicodeDecodeError):
        (GBK / "保单.csv").read_text(encoding="utf-8")          # really not UTF-8
    into = tmp_path / "wh.duckdb"
    report = load([BASE, GBK], into=into, params=params)
    by_file = {Path(r.source).name: r for r in report.files}
    assert by_file["客户.csv"].table == "dim_customer" and by_file["客户.csv"].ignored_columns == ["备注"]
    assert all(r.quarantined == 0 for r in report.files)
    assert query(into, "SELECT customer_id, name, sex, birth_date::VARCHAR, income_band, acquisition_source "
                       "FROM dim_customer WHERE customer_id IN ('C21', 'C22') ORDER BY 1") == [
        ("C21", "周杰", "M", "1985-02-02", "200k_500k", "cold_visit"),
        ("C22", "吴静", "F", "1992-03-03", "100k_200k", "referral")]
    assert query(into, "SELECT policy_id, channel_code, status, payment_frequency, status_date::VARCHAR "
                       "FROM fact_policy WHERE policy_id IN ('PL21', 'PL22') ORDER BY 1") == [
        ("PL21", "agency", "in_force", "annual", "2024-03-01"),
        ("PL22", "bancassurance", "surrendered", "monthly", "2025-04-01")]
    assert query(into, "SELECT sum(amount) FROM fact_premium WHERE payment_id IN (2101, 2102)") == [(28000.0,)]


# --- code tables: a warehouse of the user's own data is labelled too -------------------------------

REGION_NAMES_ZH = ["华北", "东北", "华东", "华中", "华南", "西南", "西北"]      # in display order
CODE_TABLES = ("dim_code", "dim_region", "dim_channel", "dim_product_line")


def assert_code_tables_filled(path: Path) -> None:
    assert all(query(path, f"SELECT count(*) FROM {table}")[0][0] > 0 for table in CODE_TABLES)
    assert [r[0] for r in query(path, "SELECT name_zh FROM dim_region ORDER BY sort_order")] == REGION_NAMES_ZH
    assert query(path, "SELECT name_zh FROM dim_channel WHERE channel_code = 'bancassurance'") == [("银保",)]
    # every code of every ENUM of the schema has a Chinese label
    unlabelled = query(path, """
        SELECT t.type_name, v.code FROM duckdb_types() t, unnest(t.labels) AS v(code)
        WHERE t.logical_type = 'ENUM' AND t.schema_name = 'main' AND NOT t.internal
          AND NOT EXISTS (SELECT 1 FROM dim_code c WHERE c.kind = regexp_replace(t.type_name, '_code$', '')
                          AND c.code = v.code AND c.name_zh <> '')""")
    assert unlabelled == []


def test_a_new_warehouse_gets_labels_and_region_names(tmp_path, params):
    into = tmp_path / "new.duckdb"
    load([BASE], into=into, params=params)
    assert_code_tables_filled(into)


def test_an_existing_warehouse_with_empty_code_tables_gets_them_filled(tmp_path, params):
    into = tmp_path / "old.duckdb"
    con = duckdb.connect(str(into))
    try:
        create_schema(con)             # as a warehouse made by an earlier loader: no code rows
    finally:
        con.close()
    load([BASE], into=into, params=params)
    assert_code_tables_filled(into)


def test_the_users_own_region_names_replace_the_built_in_ones_and_stay(tmp_path, params):
    into = tmp_path / "wh.duckdb"
    regions = tmp_path / "大区.csv"
    regions.write_text("大区代码,中文名称,英文名称,排序\nnorth,华北大区,North Region,9\n", encoding="utf-8")
    load([BASE, regions], into=into, params=params)
    load([BASE], into=into, params=params)            # a later load must not restore ours
    assert query(into, "SELECT name_zh, name_en, sort_order FROM dim_region WHERE region_code = 'north'") == [
        ("华北大区", "North Region", 9)]
    assert query(into, "SELECT count(*) FROM dim_region")[0][0] == len(REGION_NAMES_ZH)


# --- idempotent and atomic -------------------------------------------------------------------------

def test_loading_the_same_files_twice_changes_nothing(tmp_path, params):
    into = tmp_path / "wh.duckdb"
    first = load([BASE, BAD], into=into, params=params)
    before = snapshot(into)
    second = load([BASE, BAD], into=into, params=params)
    assert_same_tables(before, snapshot(into))
    assert [(r.loaded, r.quarantined) for r in first.files] == [(r.loaded, r.quarantined) for r in second.files]


def test_a_later_load_replaces_rows_with_the_same_key(tmp_path, params):
    into = tmp_path / "wh.duckdb"
    load([BASE], into=into, params=params)
    update = tmp_path / "fact_policy.csv"
    rows = csv_rows(BASE / "fact_policy.csv")[:1]
    rows[0]["sum_assured"] = "650000"
    with open(update, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    load([update], into=into, params=params)
    assert query(into, "SELECT count(*), sum(sum_assured) FROM fact_policy") == [(3, 650000.0 + 300000 + 1000000)]


def test_a_load_failing_midway_leaves_the_old_warehouse_intact(tmp_path, params, monkeypatch):
    into = tmp_path / "wh.duckdb"
    load([BASE], into=into, params=params)
    before = snapshot(into)

    def broken_derive(con, params):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "derive", broken_derive)
    with pytest.raises(RuntimeError, match="disk full"):
        load([BAD, GBK], into=into, params=params)
    assert_same_tables(before, snapshot(into))
    assert query(into, "SELECT sum(amount) FROM fact_premium") == [(136000.0,)]
    # no temp or quarantine files left, only the (empty) lock file of data/load_lock.py
    assert sorted(p.name for p in tmp_path.iterdir()) == [".wh.duckdb.lock", "wh.duckdb"]


# --- round trip of the demo warehouse --------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from data.generate import generate

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate(path, scale=0.02, progress=False)
    return path


def test_round_trip_of_the_demo_warehouse_gives_identical_tables(demo, tmp_path, params):
    export = tmp_path / "export"
    export.mkdir()
    schema = load_schema(tuple(load_mapping().references.items()))
    con = duckdb.connect(str(demo), read_only=True)
    try:
        for i, name in enumerate(schema.tables):
            # half the tables as CSV, half as Parquet, so both readers are exercised
            fmt = "parquet" if i % 2 else "csv"
            con.execute(f"COPY \"{name}\" TO '{export / (name + '.' + fmt)}' (FORMAT {fmt})")
    finally:
        con.close()
    into = tmp_path / "loaded.duckdb"
    report = load([export], into=into, params=params)
    assert sum(r.quarantined for r in report.files) == 0
    assert {r.table: r.loaded for r in report.files} == {
        name: query(demo, f'SELECT count(*) FROM "{name}"')[0][0] for name in schema.tables}
    assert_same_tables(snapshot(demo), snapshot(into))
    # headline aggregates, written independently of the loader
    headline = ("SELECT (SELECT sum(amount) FROM fact_premium WHERE paid_date IS NOT NULL), "
                "(SELECT sum(amount_paid) FROM fact_claim), (SELECT count(DISTINCT customer_id) FROM fact_policy), "
                "(SELECT round(sum(contribution), 2) FROM mart_customer_month)")
    assert query(demo, headline) == query(into, headline)


# --- command line ----------------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "data.load", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_loads_and_prints_input_equals_loaded_plus_quarantined(tmp_path):
    into = tmp_path / "wh.duckdb"
    done = run_cli(str(BASE), str(BAD), "--into", str(into))
    assert done.returncode == 0, done.stderr
    total = next(line for line in done.stdout.splitlines() if line.startswith("total")).split()
    input_rows, loaded, quarantined = map(int, total[1:])
    assert input_rows == sum(data_row_count(p) for d in (BASE, BAD) for p in d.glob("*.csv"))
    assert quarantined == len(EXPECTED_QUARANTINE) and input_rows == loaded + quarantined
    assert "quarantine" in done.stdout


@pytest.mark.parametrize("content, encoding, message", [
    (None, None, "file not found"),
    ("policy_id,customer_id\nPL1,C1\n", "utf-16", "cannot read the text encoding"),
    ("foo,bar\n1,2\n", "utf-8", "none of the columns of fact_policy"),
    ("policy_id,customer_id\nPL1,C1\n", "utf-8", "required column(s) missing for fact_policy"),
], ids=["missing", "encoding", "no-columns", "missing-columns"])
def test_cli_rejects_unusable_files_with_a_clear_message(tmp_path, content, encoding, message):
    path = tmp_path / "fact_policy.csv"
    if content is not None:
        path.write_text(content, encoding=encoding)
    done = run_cli(str(path), "--into", str(tmp_path / "wh.duckdb"))
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_cli_names_the_encoding_of_gbk_text_behind_a_utf8_mark(tmp_path):
    # what some editors write: the UTF-8 byte-order mark, then GBK text (the 锘縞ustomer_id)
    path = tmp_path / "客户.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (GBK / "客户.csv").read_bytes())
    done = run_cli(str(path), "--into", str(tmp_path / "wh.duckdb"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "starts with the UTF-8 mark (BOM) but line 1 is not UTF-8 text" in done.stderr
    assert "missing" not in done.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_cli_shows_headers_read_as_gbk_when_a_file_in_another_encoding_misses_columns(tmp_path):
    path = tmp_path / "保单.csv"
    path.write_text("policy_id,客戶號,備註\nPL1,C1,\n", encoding="big5")      # Taiwan's encoding
    done = run_cli(str(path), "--into", str(tmp_path / "wh.duckdb"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "required column(s) missing for fact_policy" in done.stderr
    assert "the file is not UTF-8, so it was read as GBK, giving the headers" in done.stderr
    assert "save it as CSV UTF-8 or GBK" in done.stderr


def test_cli_names_a_file_it_cannot_map_to_a_table(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    done = run_cli(str(path), "--into", str(tmp_path / "wh.duckdb"))
    assert done.returncode == 1
    assert "cannot tell which table" in done.stderr and "Traceback" not in done.stderr


def test_cli_without_arguments_prints_usage():
    done = run_cli()
    assert done.returncode == 2
    assert "usage:" in done.stderr and "FILE_OR_DIR" in done.stderr


# --- loads at once: one at a time, nothing lost; a killed load's files removed ---------------------

def start_cli(*args: str, stderr: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(stderr, "w") as err:
        return subprocess.Popen([sys.executable, "-m", "data.load", *args], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True)


def wait_for(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def held_lock(into: Path):
    """The warehouse's load lock, held here as a running load would hold it."""
    with open(into.with_name(f".{into.name}.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def renamed_policies(folder: Path, prefix: str) -> Path:
    """base/'s policies under new ids: rows that only this load brings."""
    folder.mkdir()
    rows = csv_rows(BASE / "fact_policy.csv")
    for row in rows:
        row["policy_id"] = prefix + row["policy_id"]
    with open(folder / "fact_policy.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_two_loads_at_once_both_arrive_one_after_the_other(tmp_path):
    into = tmp_path / "wh.duckdb"
    assert run_cli(str(BASE), "--into", str(into)).returncode == 0
    sources = {"gbk": GBK, "more": renamed_policies(tmp_path / "more", "X")}
    with held_lock(into):
        # both start while a load holds the lock: each must wait, say so, and touch nothing
        loads = {name: start_cli(str(folder), "--into", str(into), stderr=tmp_path / f"{name}.err")
                 for name, folder in sources.items()}
        for name in loads:
            wait_for(lambda: "waiting for another load" in (tmp_path / f"{name}.err").read_text(), f"{name} to wait")
        assert all(p.poll() is None for p in loads.values())
    # released at once, they race for the lock: the loser waits for the winner to finish
    for name, process in loads.items():
        out, _ = process.communicate(timeout=180)
        assert process.returncode == 0, (tmp_path / f"{name}.err").read_text()
    assert query(into, "SELECT policy_id FROM fact_policy ORDER BY policy_id") == [
        ("PL1",), ("PL2",), ("PL21",), ("PL22",), ("PL3",), ("XPL1",), ("XPL2",), ("XPL3",)]
    assert query(into, "SELECT customer_id FROM dim_customer WHERE customer_id IN ('C21', 'C22') ORDER BY 1") == [
        ("C21",), ("C22",)]
    logged = query(into, "SELECT DISTINCT load_id, source_file FROM load_log")
    assert len({load_id for load_id, _ in logged}) == 3          # base/, then the two at once
    assert {Path(f).parent for _, f in logged} == {BASE, GBK, sources["more"]}


def test_no_wait_refuses_while_another_load_runs(tmp_path):
    into = tmp_path / "wh.duckdb"
    assert run_cli(str(BASE), "--into", str(into)).returncode == 0
    before = snapshot(into)
    with held_lock(into):
        done = run_cli(str(GBK), "--into", str(into), "--no-wait")
    assert done.returncode == 1
    assert "another load into this warehouse is running" in done.stderr and "Traceback" not in done.stderr
    assert_same_tables(before, snapshot(into))


def test_the_next_load_removes_what_a_killed_load_left(tmp_path):
    into = tmp_path / "wh.duckdb"
    assert run_cli(str(BASE), "--into", str(into)).returncode == 0
    before = snapshot(into)
    victim = start_cli(str(GBK), "--into", str(into), stderr=tmp_path / "victim.err")
    wait_for(lambda: any(tmp_path.glob(".wh.duckdb.*.tmp")), "the load's work copy")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    left = sorted(p.name for p in tmp_path.glob(".wh.duckdb.*"))
    assert any(name.endswith(".tmp") for name in left), left
    assert_same_tables(before, snapshot(into))               # the killed load changed nothing
    done = run_cli(str(GBK), "--into", str(into))
    assert done.returncode == 0, done.stderr
    assert "left by an interrupted load" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".wh")) == [".wh.duckdb.lock"]
    assert query(into, "SELECT count(*) FROM fact_policy WHERE policy_id IN ('PL21', 'PL22')") == [(2,)]


def test_a_rollup_rebuild_waits_for_a_running_load(tmp_path):
    """Opening a warehouse with stale rollups rebuilds them by replacing the file from a copy too
    (data/warehouse.py refresh_rollups): while a load holds the lock, that must wait."""
    from cubes.engine import Engine
    from tests.test_cubes_fixtures import small_warehouse_path

    into = tmp_path / "wh.duckdb"
    into.write_bytes(small_warehouse_path().read_bytes())
    with duckdb.connect(str(into)) as con:
        con.execute("UPDATE rollup_meta SET fingerprint = 'old' WHERE table_name = 'rollup_policies_geo'")
    before = into.stat().st_mtime_ns
    script = f"from pathlib import Path; from data.warehouse import refresh_rollups; refresh_rollups(Path({str(into)!r}))"
    with open(tmp_path / "rebuild.err", "w") as err, held_lock(into):
        rebuild = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                   stdout=subprocess.DEVNULL, stderr=err)
        wait_for(lambda: "waiting for another load" in (tmp_path / "rebuild.err").read_text(), "the rebuild to wait")
        assert rebuild.poll() is None and into.stat().st_mtime_ns == before
    assert rebuild.wait(timeout=300) == 0, (tmp_path / "rebuild.err").read_text()
    assert Engine(into, rollups=True).stale_tables() == []
