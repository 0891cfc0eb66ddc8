"""AG Grid building blocks shared by the pages: number columns and JSON-safe rows."""
from __future__ import annotations

import math

import pandas as pd

# d3-format in the browser, so the grid keeps raw numbers (sorting and CSV export stay exact).
NUMBER_FORMATS = {"money": ",.0f", "int": ",.0f", "pct": ".2%", "float": ",.2f"}


def number_column(field: str, header: str, fmt: str, **extra) -> dict:
    pattern = NUMBER_FORMATS.get(fmt, NUMBER_FORMATS["float"])
    # A minimum width keeps numbers whole on a narrow screen: the grid scrolls sideways instead.
    return {"field": field, "headerName": header, "type": "rightAligned", "minWidth": 150 if fmt == "money" else 110,
            "valueFormatter": {"function": f"params.value == null ? '' : d3.format('{pattern}')(params.value)"},
            **extra}


def json_rows(frame: pd.DataFrame) -> list[dict]:
    """Records with NaN and NA as null and dates as ISO strings."""
    def clean(value):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
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
