"""AG Grid building blocks shared by the pages: typed number columns, JSON-safe rows, and a grid's
sort state read from (and written into) its column definitions for the URL."""
from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

from layouts.grid_sort import Sort
from layouts.numbers import GRID_MONEY, titled

# AG Grid's quartz theme: a 14 px font, 16 px padding each side of a cell, and room for the sort
# mark and the menu button in a header (a header's text had 77 px less than its column)
CELL_PADDING, HEADER_MARKS = 36, 44


def text_width(text: str) -> float:
    """Pixels `text` needs in the grid's font: CJK characters are square, the rest about 8.5 px."""
    return sum(14 if unicodedata.east_asian_width(c) in "WF" else 8.5 for c in text)


# what a wrapped header cannot break: a run of Latin letters, digits and signs, or one CJK character
_UNBREAKABLE = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def header_width(header: str) -> int:
    """The narrowest column whose wrapped header breaks no word ("Contributi / on margin"): its
    widest unbreakable piece, with the cell's padding and the header's marks (Chinese breaks
    between any two characters)."""
    return math.ceil(max(map(text_width, _UNBREAKABLE.findall(header)), default=0) + CELL_PADDING + HEADER_MARKS)


def with_whole_header(column: dict) -> dict:
    """`column` at least `header_width` of its header wide."""
    return column | {"minWidth": max(column.get("minWidth", 0), header_width(column["headerName"]))}


# d3-format in the browser, so the grid keeps raw numbers (sorting and CSV export stay exact).
NUMBER_FORMATS = {"money": ",.0f", "int": ",.0f", "pct": ".2%", "float": ",.2f"}
MONEY_DIGITS = ",.2f"  # money in a grid's unit (layouts/numbers.py GRID_MONEY), named in the header


def number_column(field: str, header: str, fmt: str, lang: str | None = None, **extra) -> dict:
    """A right-aligned number column that sorts and filters as numbers. With `lang`, money shows in
    that language's unit (the header says which); the cells keep the raw amount."""
    pattern, divisor = NUMBER_FORMATS.get(fmt, NUMBER_FORMATS["float"]), 1
    if fmt == "money" and lang is not None:
        (divisor, unit), pattern = GRID_MONEY["zh" if lang == "zh" else "en"], MONEY_DIGITS
        header = titled(header, unit, lang)
    scaled = "params.value" if divisor == 1 else f"params.value / {divisor:g}"
    # A minimum width keeps numbers whole on a narrow screen (1,234,567.89 万元; raw yuan are wider):
    # the grid scrolls sideways instead.
    column = {"field": field, "headerName": header, "type": "rightAligned", "cellDataType": "number",
              "minWidth": 110 if fmt != "money" else 150 if divisor == 1 else 130,
              "valueFormatter": {"function": f"params.value == null ? '' : d3.format('{pattern}')({scaled})"},
              # AG Grid keeps a column's context for the application: an export of the grid writes the format
              "context": {"format": fmt}, **extra}
    return with_whole_header(column)


# --- sort state in the URL (layouts/grid_sort.py) -----------------------------------------------
def sort_of(column_state: list[dict] | None, fields) -> Sort | None | bool:
    """The sort the user's header click left in the grid's column state (None: no sort); False while
    the grid does not show `fields` yet (a grid mounts before its columns arrive)."""
    state = [c for c in column_state or [] if c.get("colId") in set(fields)]
    if not state:
        return False
    return next(((c["colId"], c["sort"] == "desc") for c in state if c.get("sort") in ("asc", "desc")), None)


def sorted_columns(columns: list[dict], sort: Sort | None) -> list[dict]:
    """The column definitions with the sorted column's arrow (groups' children included)."""
    def mark(column: dict) -> dict:
        if "children" in column:
            return {**column, "children": [mark(child) for child in column["children"]]}
        if sort and column.get("field") == sort[0]:
            return {**column, "sort": "desc" if sort[1] else "asc"}
        return column
    return [mark(column) for column in columns]


def json_rows(frame: pd.DataFrame) -> list[dict]:
    """Records with NaN and NA as null and dates as ISO strings."""
    def clean(value):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, pd.Timestamp) and value == value.normalize():
            return value.date().isoformat()  # a day, not midnight: AG Grid's date columns read YYYY-MM-DD
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value.item() if hasattr(value, "item") else value

    return [{key: clean(value) for key, value in row.items()} for row in frame.to_dict("records")]


# --- infinite row model: the server sorts, filters and slices; the browser holds only loaded blocks --
_TEXT_TESTS = {
    "contains": lambda s, v: s.str.contains(v, regex=False),
    "notContains": lambda s, v: ~s.str.contains(v, regex=False),
    "equals": lambda s, v: s == v,
    "notEqual": lambda s, v: s != v,
    "startsWith": lambda s, v: s.str.startswith(v),
    "endsWith": lambda s, v: s.str.endswith(v),
}
_NUMBER_TESTS = {
    "equals": lambda s, c: s == c["filter"],
    "notEqual": lambda s, c: s != c["filter"],
    "greaterThan": lambda s, c: s > c["filter"],
    "greaterThanOrEqual": lambda s, c: s >= c["filter"],
    "lessThan": lambda s, c: s < c["filter"],
    "lessThanOrEqual": lambda s, c: s <= c["filter"],
    # AG Grid's default range excludes both ends (inRangeInclusive false)
    "inRange": lambda s, c: (s > c["filter"]) & (s < c["filterTo"]),
}
# AG Grid's text filter lets blanks through these; every other condition (and every number one) drops them
_TEXT_KEEPS_BLANKS = {"notContains", "notEqual"}


def _condition(column: pd.Series, cond: dict) -> pd.Series:
    kind = cond.get("type")
    blank = column.isna() | (column.astype("string") == "")
    if kind in ("blank", "notBlank"):
        return blank if kind == "blank" else ~blank
    if cond.get("filterType") == "number" and kind in _NUMBER_TESTS:
        values = pd.to_numeric(column, errors="coerce")
        return _NUMBER_TESTS[kind](values, cond).fillna(False).astype(bool) & values.notna()
    if cond.get("filterType") == "text" and kind in _TEXT_TESTS:
        # AG Grid's text filter ignores case
        text = column.astype("string").str.lower()
        matched = _TEXT_TESTS[kind](text, str(cond.get("filter") or "").lower()).fillna(False).astype(bool)
        return matched | blank if kind in _TEXT_KEEPS_BLANKS else matched & ~blank
    raise ValueError(f"unsupported grid filter: {cond.get('filterType')} {kind}")


def _column_filter(column: pd.Series, model: dict) -> pd.Series:
    if "conditions" not in model:
        return _condition(column, model)
    masks = [_condition(column, {"filterType": model.get("filterType"), **c}) for c in model["conditions"]]
    combined = masks[0]
    for mask in masks[1:]:
        combined = (combined | mask) if model.get("operator") == "OR" else (combined & mask)
    return combined


def sort_and_filter(frame: pd.DataFrame, sort_model: list[dict] | None, filter_model: dict | None) -> pd.DataFrame:
    """The rows AG Grid's sort and filter models ask for; with no sort the frame's own order stays.
    Blanks sort last either way. Columns must be the frame's: the models come from the browser."""
    unknown = {item["colId"] for item in sort_model or []} | set(filter_model or {})
    if unknown - set(frame.columns):
        raise ValueError(f"unknown grid columns: {sorted(unknown - set(frame.columns))}")
    for field, model in (filter_model or {}).items():
        frame = frame[_column_filter(frame[field], model).to_numpy()]
    if sort_model:
        frame = frame.sort_values([item["colId"] for item in sort_model], kind="stable", na_position="last",
                                  ascending=[item.get("sort") != "desc" for item in sort_model])
    return frame


def grid_block(frame: pd.DataFrame, request: dict) -> dict:
    """The infinite row model's answer to one getRowsRequest: the block's rows and the filtered total."""
    rows = sort_and_filter(frame, request.get("sortModel"), request.get("filterModel"))
    start, end = int(request.get("startRow") or 0), int(request.get("endRow") or 0)
    return {"rowData": json_rows(rows.iloc[start:end]), "rowCount": len(rows)}
