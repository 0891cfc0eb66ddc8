"""Check staged rows of one table in SQL, then upsert the good ones.

The rows of all files for a table sit in the temp table _stage as text (columns named as in the
schema, plus _source, _row and, for code columns, _norm_<column> = the normalized cell). One
query parses every cell by its schema type and lists each row's problems; rows without problems
replace any row with the same key and are inserted, the others are returned for quarantine.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from data.load_mapping import normalize
from data.load_schema import INTEGER_TYPES, LABEL_TABLE, Column, Table
from data.reference import CODE_LABELS

DATE_FORMATS = ["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
WHOLE_NUMBER = r"[+-]?[0-9]+(\.0*)?"


def _lit(text: str) -> str:
    """A schema-defined name or expression as an SQL string literal (never user data)."""
    return "'" + text.replace("'", "''") + "'"


def _cell(column: str) -> str:
    return f"NULLIF(trim(s.\"{column}\"), '')"


def _typed(column: Column, label_alias: str | None) -> str:
    cell = _cell(column.name)
    number = f"replace({cell}, ',', '')"          # Excel writes thousands separators
    if column.enum_kind:
        return f"{label_alias}.code"
    if column.sql_type == "DATE":
        return (f"COALESCE(TRY_CAST({cell} AS DATE), TRY_CAST(TRY_CAST({cell} AS TIMESTAMP) AS DATE), "
                f"CAST(TRY_STRPTIME({cell}, [{', '.join(map(_lit, DATE_FORMATS))}]) AS DATE))")
    if column.sql_type in INTEGER_TYPES:
        return (f"CASE WHEN regexp_full_match({number}, {_lit(WHOLE_NUMBER)}) "
                f"THEN TRY_CAST({number} AS {column.sql_type}) END")
    if column.sql_type == "DOUBLE":
        return f"CASE WHEN isfinite(TRY_CAST({number} AS DOUBLE)) THEN TRY_CAST({number} AS DOUBLE) END"
    return cell


def _problem(column: Column) -> str:
    """SQL for this column's problem in a row, or NULL; reads the typed value and the raw cell."""
    name, raw = column.name, f'"_raw_{column.name}"'
    if column.enum_kind:
        bad = _lit(f"is not a {column.enum_kind} code or label")
    elif column.sql_type == "DATE":
        bad = _lit("is not a date (YYYY-MM-DD)")
    elif column.sql_type in INTEGER_TYPES:
        bad = _lit(f"is not a whole number in the range of {column.sql_type}")
    elif column.sql_type == "DOUBLE":
        bad = _lit("is not a number")
    else:
        bad = _lit("cannot be read")
    shown = f"' ''' || {raw} || ''''"            # the cell as written, in quotes
    cases = [f"WHEN {raw} IS NOT NULL AND \"{name}\" IS NULL THEN {_lit(name + ': ')} || {bad} || {shown}"]
    if column.not_null:
        cases.insert(0, f"WHEN {raw} IS NULL THEN {_lit(name + ': missing required value')}")
    if column.is_numeric:
        cases.append(f"WHEN \"{name}\" < 0 THEN {_lit(name + ': negative value ')} || {raw}")
    return "CASE " + " ".join(cases) + " END"


def _unknown_reference(column: str, target: str) -> str:
    return f"{_lit(column + ': unknown reference ')} || '''' || \"{column}\" || '''' || {_lit(f' (not in {target})')}"


def _reference_problem(column: str, target: str, target_column: str) -> str:
    return (f"CASE WHEN \"{column}\" IS NOT NULL AND \"{column}\" NOT IN "
            f"(SELECT \"{target_column}\" FROM \"{target}\") THEN {_unknown_reference(column, target)} END")


def _duplicate_problem(table: Table) -> str:
    key = ", ".join(f'"{k}"' for k in table.key)
    window = f"OVER (PARTITION BY {key} ORDER BY _file, _row)"
    all_set = " AND ".join(f'"{k}" IS NOT NULL' for k in table.key)
    shown = " || ', ' || ".join(f"'{k}=' || \"{k}\"" for k in table.key)
    return (f"CASE WHEN {all_set} AND row_number() {window} > 1 THEN "
            f"'duplicate key ' || {shown} || ' (first at ' || first_value(_source) {window} || ' row ' || "
            f"first_value(_row) {window} || ')' END")


def check(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Create temp table _checked: the typed columns of _stage plus reasons (empty list = good row)."""
    joins, typed, params = [], [], {}
    for i, column in enumerate(table.columns):
        alias = None
        if column.enum_kind:
            alias = f"l{i}"
            params[f"kind{i}"] = column.enum_kind
            joins.append(f'LEFT JOIN _code_label {alias} ON {alias}.kind = $kind{i} '
                         f'AND {alias}.label = s."_norm_{column.name}"')
        typed.append(f'{_typed(column, alias)} AS "{column.name}", {_cell(column.name)} AS "_raw_{column.name}"')
    own_refs = [r for r in table.references if r.table != table.name]
    problems = [_problem(c) for c in table.columns]
    problems += [f"CASE WHEN NOT ({expr}) THEN {_lit('check failed: ' + expr)} END" for expr in table.checks]
    problems += [_reference_problem(r.column, r.table, r.target_column) for r in own_refs]
    problems.append(_duplicate_problem(table))
    blank = " AND ".join(f'"_raw_{c.name}" IS NULL' for c in table.columns)
    con.execute("DROP TABLE IF EXISTS _checked")
    con.execute(
        f"CREATE TEMP TABLE _checked AS WITH typed AS ("
        f"SELECT s._file, s._row, s._source, {', '.join(typed)} FROM _stage s {' '.join(joins)}) "
        f"SELECT *, CASE WHEN {blank} THEN ['blank row'] "
        f"ELSE list_filter([{', '.join(problems)}], lambda x: x IS NOT NULL) END AS reasons FROM typed",
        params,
    )
    _check_self_references(con, table)


def _check_self_references(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    # A row may refer to another row of the same batch (a subsidiary to its parent): repeat until
    # no row refers to a row that is neither in the warehouse nor accepted in this batch.
    for ref in (r for r in table.references if r.table == table.name):
        col, target = f'"{ref.column}"', f'"{ref.target_column}"'
        reason = _unknown_reference(ref.column, table.name)
        changed = True
        while changed:
            # fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open and the
            # connection then refuses the next register()
            [(changed,)] = con.execute(
                f"UPDATE _checked SET reasons = list_append(reasons, {reason}) "
                f"WHERE len(reasons) = 0 AND {col} IS NOT NULL AND {col} NOT IN ("
                f"SELECT {target} FROM \"{table.name}\" UNION ALL "
                f"SELECT {target} FROM _checked WHERE len(reasons) = 0)"
            ).fetchall()


def upsert(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Good rows of _checked replace the rows with the same key in the table, or are added."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    same_key = " AND ".join(f'"{table.name}"."{k}" = c."{k}"' for k in table.key)
    con.execute(f'DELETE FROM "{table.name}" USING _checked c WHERE len(c.reasons) = 0 AND {same_key}')
    con.execute(f'INSERT INTO "{table.name}" ({names}) '
                f'SELECT {names} FROM _checked WHERE len(reasons) = 0 ORDER BY _file, _row')


def rejected(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Bad rows of _checked: _file, _row, reason (all problems of the row, '; '-separated)."""
    return con.execute(
        "SELECT _file, _row, array_to_string(reasons, '; ') AS reason FROM _checked "
        "WHERE len(reasons) > 0 ORDER BY _file, _row"
    ).df()


def accepted_per_file(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    return dict(con.execute("SELECT _file, count(*) FROM _checked WHERE len(reasons) = 0 GROUP BY _file").fetchall())


def code_labels(con: duckdb.DuckDBPyConnection, table: Table, synonyms: dict[str, dict[str, str]]) -> pd.DataFrame:
    """kind, label, code for every ENUM of the table, later sources winning: mapping synonyms,
    data/reference.py labels, the warehouse's dim_code labels, the codes themselves."""
    kinds = {c.enum_kind: c.enum_codes for c in table.columns if c.enum_kind}
    labelled = [(kind, code, zh, en) for kind in kinds for code, zh, en in CODE_LABELS.get(kind, [])]
    labelled += con.execute(
        f"SELECT kind, code, name_zh, name_en FROM {LABEL_TABLE} WHERE list_contains($kinds, kind) ORDER BY kind, code",
        {"kinds": list(kinds)},
    ).fetchall()
    rows: dict[tuple[str, str], str] = {}
    for kind in kinds:
        rows.update({(kind, label): code for label, code in synonyms.get(kind, {}).items()})
    for kind, code, name_zh, name_en in labelled:
        if code in kinds[kind]:
            rows.update({(kind, normalize(name_zh)): code, (kind, normalize(name_en)): code})
    for kind, codes in kinds.items():
        rows.update({(kind, normalize(code)): code for code in codes})
    return pd.DataFrame([(k, label, code) for (k, label), code in rows.items()], columns=["kind", "label", "code"])
