"""Pivot callbacks: the crosstab from the engine as flat grid rows, heat map, cell drill-through."""
from __future__ import annotations

import logging
import math
from dataclasses import replace

import pandas as pd
from dash import Input, Output, State, callback, ctx, no_update

from callbacks.downloads import export_href
from callbacks.engine import engine
from callbacks.filters import cube_filters, current_filters
from callbacks.grids import json_rows, number_column, sort_of, sorted_columns
from callbacks.view_url import rewritten_search
from callbacks.view_cache import memoised_view, not_kept
from cubes.catalog import cube_by_name
from cubes.labels import record_labeller
from layouts.i18n import bad_param_notices, grid_options, normalise_language, t
from layouts.cube_labels import level_label
from layouts.grid_sort import Sort
from layouts.pivot_state import PIVOT_CUBE, PivotState, parse, with_state
from layouts.url_query import query_of

log = logging.getLogger(__name__)

HEAT_COLOURS = ("#e7f5ff", "#d0ebff", "#a5d8ff", "#74c0fc", "#4dabf7")
RECORDS_SHOWN = 200
TOTAL_KEY = "__total__"
ROW_FIELDS = {"_id", "_row_depth", "_label"}  # each grid row's id, depth and row header
# The server orders the rows (_order: within each parent, subtotals above); a header click only asks
# for that order through the URL, so the grid itself keeps the rows as sent (ties keep their place).
# named, not written inline: an inline function needs eval, which the page's Content-Security-Policy
# forbids (it silently fell back to AG Grid's own sort); layouts/assets/grid_functions.js
SERVER_ORDER = {"function": "serverOrder"}


def _heat_style(cuts: list[float], depth: int) -> dict:
    """Five blue steps by quintile (`cuts`) of the cells at the shown depth: the eye finds the large
    ones at once. Subtotal rows stay uncoloured: they would always be the darkest."""
    if not cuts:
        return {}
    at_depth = f"params.data._row_depth == {depth} && params.value != null"
    conditions = [{"condition": f"{at_depth} && params.value > {cut}", "style": {"backgroundColor": colour, "color": "#1a1b1e"}}
                  for cut, colour in zip(reversed(cuts), reversed(HEAT_COLOURS[1:]))]
    conditions.append({"condition": at_depth, "style": {"backgroundColor": HEAT_COLOURS[0], "color": "#1a1b1e"}})
    return {"styleConditions": conditions}


def _row_header(state: PivotState, lang: str) -> dict:
    """The row levels as one column pinned left, each level indented below its parent (a narrow first
    column: on a phone the numbers keep most of the width)."""
    indent = [{"condition": f"params.data._row_depth == {depth}", "style": {"paddingLeft": f"{8 + 16 * (depth - 1)}px"}}
              for depth in range(2, state.shown_depth() + 1)]
    return {"field": "_label", "headerName": " / ".join(level_label(PIVOT_CUBE, ref, lang)
                                                          for ref in state.rows[: state.shown_depth()]),
            # wide enough for a bold "Southwest China" on one line; Chinese names are two to four characters
            "pinned": "left", "lockPinned": True, "width": 120 if lang == "zh" else 172, "minWidth": 96,
            "sortable": False,
            "wrapText": True, "autoHeight": True, "wrapHeaderText": True, "autoHeaderHeight": True,
            "cellStyle": {"styleConditions": indent}}


def _column_defs(state: PivotState, meta: list[dict], body: pd.DataFrame, lang: str) -> list[dict]:
    cube = cube_by_name(PIVOT_CUBE)
    groups: dict[tuple, dict] = {}
    heated = [c["field"] for c in meta if state.heat and c["field"].split("|")[0] != TOTAL_KEY]
    # every heated column's quintile cuts at once, as plain lists (NaN for a column without values)
    cuts = body[heated].astype(float).quantile([0.2, 0.4, 0.6, 0.8]).to_dict("list") if heated else {}
    for column in meta:
        members = tuple(str(m) for m in column["members"])
        header = " / ".join(column[f"label_{lang}"]) if state.columns else ""
        group = groups.setdefault(members, {"headerName": header, "children": []})
        measure = cube.measure(column["measure"])
        # the row totals stay in sight at the right while the columns scroll
        extra = {"pinned": "right"} if column["field"].startswith(TOTAL_KEY + "|") else {}
        if column["field"] in heated:
            extra["cellStyle"] = _heat_style([c for c in cuts[column["field"]] if not math.isnan(c)], state.shown_depth())
        group["children"].append(number_column(column["field"], measure.label_zh if lang == "zh" else measure.label_en,
                                               measure.fmt, lang, wrapHeaderText=True, autoHeaderHeight=True,
                                               comparator=SERVER_ORDER, **extra))
    columns = [child for group in groups.values() for child in group["children"]] if not state.columns \
        else list(groups.values())
    return [_row_header(state, lang)] + sorted_columns(columns, state.sort)


def _measure_columns(state: PivotState, wide: pd.DataFrame) -> list[dict]:
    """The measure columns of the crosstab; without column levels, the plain measures."""
    if state.columns:
        return wide.attrs["columns"]
    return [{"field": m, "measure": m, "members": [], "label_zh": [], "label_en": []} for m in state.measures]


def _measure_fields(rows: list[dict]) -> set[str]:
    """The number columns of the grid rows (the row totals' __total__|… included): everything but the
    row id, depth and label and the rows' keys and labels."""
    return {k for k in (rows[0] if rows else {}) if k not in ROW_FIELDS and not k.startswith(("key", "row"))}


def _order(shown: pd.DataFrame, refs: list[str], sort: Sort | None) -> list[int]:
    """The rows' positions on screen: every subtotal above its members, each level's members in the
    engine's order or by the sorted column within their parent (blanks last), the grand total last."""
    depths = shown["_row_depth"].tolist()
    keys = shown[refs].astype("string").itertuples(index=False)
    paths = [tuple(row[:depth]) for row, depth in zip(keys, depths)]
    position = {path: i for i, path in enumerate(paths)}
    values = shown[sort[0]].astype(float).tolist() if sort else [math.nan] * len(paths)

    def rank(path: tuple) -> tuple:
        i = position[path]
        value = values[i]
        if math.isnan(value):
            return (1, 0.0, i)
        return (0, -value if sort[1] else value, i)

    return sorted(range(len(paths)), key=lambda i: (depths[i] == 0,) + tuple(rank(paths[i][:k])
                                                                           for k in range(1, depths[i] + 1)))


def _rows(state: PivotState, wide: pd.DataFrame, columns: list[dict], lang: str) -> list[dict]:
    shown = wide[wide["_row_depth"] <= state.shown_depth()].reset_index(drop=True)
    shown = shown.iloc[_order(shown, list(state.rows), state.sort)].reset_index(drop=True)
    out = pd.DataFrame({"_id": shown.index.astype(str), "_row_depth": shown["_row_depth"]})
    for i, ref in enumerate(state.rows):
        out[f"key{i}"] = shown[ref].astype("string")
        out[f"row{i}"] = shown[f"{ref}|{lang}"]
    # a row is named by its own level (a subtotal by its member, the grand total by the engine's 合计)
    labels = [shown[f"{ref}|{lang}"] for ref in state.rows]
    out["_label"] = [labels[max(depth, 1) - 1].iloc[i] for i, depth in enumerate(shown["_row_depth"])]
    measures = [column["field"] for column in columns]
    return json_rows(pd.concat([out, shown[measures]], axis=1))


@callback(
    Output("pivot-grid", "rowData"),
    Output("pivot-grid", "columnDefs"),
    Output("pivot-grid", "dashGridOptions"),
    Output("pivot-export-table", "href"),
    Output("pivot-export-records", "href"),
    Output("pivot-notice", "children"),
    Output("pivot-notice", "hide"),
    Input("pivot-query", "data"),
)
@memoised_view
def draw_pivot(query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    notices = bad_param_notices(state.invalid, lang)
    try:
        spec = state.spec(cube_filters(PIVOT_CUBE, current_filters(query)))
        wide = engine().pivot(spec)
    except Exception:  # the page shows a message, never a traceback
        log.exception("pivot query failed")
        not_kept()
        return [], [], no_update, "#", "#", t("state.error", lang), False
    columns = _measure_columns(state, wide)
    wide.attrs = {}  # pandas deep-copies attrs on every operation: hundreds of column descriptions
    body = wide[wide["_row_depth"] == state.shown_depth()]  # heat is relative to the rows on screen
    options = grid_options(
        lang,
        domLayout="autoHeight",
        getRowId={"function": "params.data._id"},
        sortingOrder=["desc", "asc", None],  # the largest first: what a reader of a crosstab looks for
        getRowStyle={"styleConditions": [{"condition": f"params.data._row_depth < {state.shown_depth()}",
                                          "style": {"fontWeight": "600",
                                                    "backgroundColor": "var(--mantine-color-default-hover)"}}]},
    )
    return (_rows(state, wide, columns, lang), _column_defs(state, columns, body, lang), options,
            export_href("pivot", spec, lang), export_href("pivot", spec, lang, "records"), " ".join(notices), not notices)


def _member_label(ref: str, member: str, lang: str) -> str:
    """A column member's name as the grid's header shows it (the cell's field holds its code)."""
    labels = engine().members(PIVOT_CUBE, ref)
    label = labels.loc[labels["key"].astype(str) == member, f"label_{lang}"]
    return str(label.iloc[0]) if len(label) else member


@callback(
    Output("pivot-records", "rowData"),
    Output("pivot-records", "columnDefs"),
    Output("pivot-records-title", "children"),
    Output("pivot-cell-export-records", "href"),
    Output("pivot-cell-export", "display"),
    Output("pivot-records-area", "display"),
    Input("pivot-grid", "cellClicked"),
    State("pivot-grid", "rowData"),
    State("pivot-query", "data"),
    prevent_initial_call=True,
)
def show_records(cell, rows, query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    field = (cell or {}).get("colId", "")
    row = next((r for r in rows if r["_id"] == (cell or {}).get("rowId")), None)
    if row is None or field not in _measure_fields(rows):
        return (no_update,) * 6
    where = {ref: row[f"key{i}"] for i, ref in enumerate(state.rows) if row.get(f"key{i}") is not None}
    members = field.split("|")[:-1]
    if members and members[0] != TOTAL_KEY:
        where.update({ref: member for ref, member in zip(state.columns, members)})
    spec = state.spec(cube_filters(PIVOT_CUBE, current_filters(query)))
    records = engine().drill_through(spec, where, limit=RECORDS_SHOWN)
    names = [row.get(f"row{i}") for i in range(len(state.rows)) if row.get(f"key{i}") is not None]
    if members and members[0] != TOTAL_KEY:
        names += [_member_label(ref, member, lang) for ref, member in zip(state.columns, members)]
    cell_name = " / ".join(str(n) for n in names if n) or t("explore.all_members", lang)
    # the records as the export writes them: names for codes (the code beside an id), dates as dates
    shown = record_labeller(cube_by_name(PIVOT_CUBE), lang, lambda ref: engine().members(PIVOT_CUBE, ref))(records)
    formats, headers = shown.attrs["formats"], list(shown.columns)
    shown.columns = [f"c{i}" for i in range(len(headers))]  # headers may hold dots; fields must not
    columns = [number_column(field, header, formats[header]) if formats.get(header) not in (None, "date")
               else {"field": field, "headerName": header} for field, header in zip(shown.columns, headers)]
    return (json_rows(shown), columns,
            t("pivot.records", lang, cell=cell_name, total=f"{records.attrs['total_rows']:,}", shown=len(records)),
            export_href("pivot", spec, lang, "records", where), "flex", "block")  # the links are a flex group


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("pivot-grid", "columnState"),
    State("pivot-grid", "rowData"),
    State("url", "search"),
    prevent_initial_call=True,
)
def sort_pivot(column_state, rows, search):
    """A click on a number column's header orders the rows by it: the order goes into the URL."""
    state = parse(query_of(search))
    sort = sort_of(column_state, _measure_fields(rows or []))
    if sort is False or sort == state.sort:
        return no_update
    return with_state(search, replace(state, sort=sort))


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("pivot-rows", "value"),
    Input("pivot-cols", "value"),
    Input("pivot-measures", "value"),
    Input("pivot-heat", "checked"),
    Input("pivot-depth", "value"),
    Input("pivot-swap", "n_clicks"),
    State("url", "search"),
    prevent_initial_call=True,
)
def change_pivot(rows, columns, measures, heat, depth, _swap, search):
    state = parse(query_of(search))
    if ctx.triggered_id == "pivot-swap":
        return with_state(search, state.swapped())
    rows, columns = tuple(rows or state.rows), tuple(c for c in (columns or ()) if c not in (rows or ()))
    # the depth control shows the deepest level when the URL asks for all (0): that is no change
    shown = int(depth) if depth and rows == state.rows else 0
    new = replace(state, rows=rows, columns=columns, measures=tuple(measures or state.measures), heat=bool(heat),
                  depth=0 if shown >= len(rows) else shown)
    if (new.rows, new.columns, new.measures) != (state.rows, state.columns, state.measures):
        new = replace(new, sort=None)  # the sorted column may be gone
    return rewritten_search(search, state, new, with_state)
