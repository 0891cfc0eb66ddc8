"""Pivot callbacks: the crosstab from the engine as flat grid rows, heat map, cell drill-through."""
from __future__ import annotations

import logging
import math

import pandas as pd
from dash import Input, Output, State, callback, ctx, no_update

from callbacks.downloads import export_href
from callbacks.engine import engine
from callbacks.filters import cube_filters, current_filters
from callbacks.grids import json_rows, number_column
from callbacks.view_url import rewritten_search
from callbacks.view_cache import memoised_view, not_kept
from cubes.catalog import cube_by_name
from cubes.labels import record_labeller
from layouts.i18n import bad_param_notices, grid_options, normalise_language, t
from layouts.cube_labels import level_label
from layouts.pivot_state import PIVOT_CUBE, PivotState, parse, with_state
from layouts.url_query import query_of

log = logging.getLogger(__name__)

HEAT_COLOURS = ("#e7f5ff", "#d0ebff", "#a5d8ff", "#74c0fc", "#4dabf7")
RECORDS_SHOWN = 200
TOTAL_KEY = "__total__"


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


def _column_defs(state: PivotState, meta: list[dict], body: pd.DataFrame, lang: str) -> list[dict]:
    cube = cube_by_name(PIVOT_CUBE)
    defs = [{"field": f"row{i}", "headerName": level_label(PIVOT_CUBE, ref, lang), "pinned": "left", "minWidth": 120}
            for i, ref in enumerate(state.rows[: state.shown_depth()])]
    groups: dict[tuple, dict] = {}
    heated = [c["field"] for c in meta if state.heat and c["field"].split("|")[0] != TOTAL_KEY]
    # every heated column's quintile cuts at once, as plain lists (NaN for a column without values)
    cuts = body[heated].astype(float).quantile([0.2, 0.4, 0.6, 0.8]).to_dict("list") if heated else {}
    for column in meta:
        members = tuple(str(m) for m in column["members"])
        header = " / ".join(column[f"label_{lang}"]) if state.columns else ""
        group = groups.setdefault(members, {"headerName": header, "children": []})
        measure = cube.measure(column["measure"])
        extra = {"minWidth": 110}
        if column["field"] in heated:
            extra["cellStyle"] = _heat_style([c for c in cuts[column["field"]] if not math.isnan(c)], state.shown_depth())
        group["children"].append(number_column(column["field"], measure.label_zh if lang == "zh" else measure.label_en,
                                               measure.fmt, **extra))
    if not state.columns:
        return defs + [child for group in groups.values() for child in group["children"]]
    return defs + list(groups.values())


def _measure_columns(state: PivotState, wide: pd.DataFrame) -> list[dict]:
    """The measure columns of the crosstab; without column levels, the plain measures."""
    if state.columns:
        return wide.attrs["columns"]
    return [{"field": m, "measure": m, "members": [], "label_zh": [], "label_en": []} for m in state.measures]


def _measure_fields(rows: list[dict]) -> set[str]:
    """The number columns of the grid rows: everything but the ids, depths, keys and labels."""
    return {k for k in (rows[0] if rows else {}) if not k.startswith(("_", "key", "row"))}


def _rows(state: PivotState, wide: pd.DataFrame, columns: list[dict], lang: str) -> list[dict]:
    shown = wide[wide["_row_depth"] <= state.shown_depth()].reset_index(drop=True)
    out = pd.DataFrame({"_id": shown.index.astype(str), "_row_depth": shown["_row_depth"]})
    for i, ref in enumerate(state.rows):
        out[f"key{i}"] = shown[ref].astype("string")
        out[f"row{i}"] = shown[f"{ref}|{lang}"]
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
    except Exception as error:  # the page shows a message, never a traceback
        log.exception("pivot query failed")
        not_kept()
        return [], [], no_update, "#", "#", t("state.error", lang, detail=error), False
    columns = _measure_columns(state, wide)
    wide.attrs = {}  # pandas deep-copies attrs on every operation: hundreds of column descriptions
    body = wide[wide["_row_depth"] == state.shown_depth()]  # heat is relative to the rows on screen
    options = grid_options(
        lang,
        domLayout="autoHeight",
        getRowId={"function": "params.data._id"},
        getRowStyle={"styleConditions": [{"condition": f"params.data._row_depth < {state.shown_depth()}",
                                          "style": {"fontWeight": "600",
                                                    "backgroundColor": "var(--mantine-color-default-hover)"}}]},
    )
    return (_rows(state, wide, columns, lang), _column_defs(state, columns, body, lang), options,
            export_href("pivot", spec, lang), export_href("pivot", spec, lang, "records"), " ".join(notices), not notices)


@callback(
    Output("pivot-records", "rowData"),
    Output("pivot-records", "columnDefs"),
    Output("pivot-records-title", "children"),
    Output("pivot-cell-export-records", "href"),
    Output("pivot-cell-export", "display"),
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
        return (no_update,) * 5
    where = {ref: row[f"key{i}"] for i, ref in enumerate(state.rows) if row.get(f"key{i}") is not None}
    members = field.split("|")[:-1]
    if members and members[0] != TOTAL_KEY:
        where.update({ref: member for ref, member in zip(state.columns, members)})
    spec = state.spec(cube_filters(PIVOT_CUBE, current_filters(query)))
    records = engine().drill_through(spec, where, limit=RECORDS_SHOWN)
    names = [row.get(f"row{i}") for i in range(len(state.rows)) if row.get(f"key{i}") is not None]
    names += [engine().member_label(PIVOT_CUBE, ref, m, lang) for ref, m in zip(state.columns, members) if m != TOTAL_KEY]
    cell_name = " / ".join(str(n) for n in names if n and n != TOTAL_KEY) or t("explore.all_members", lang)
    # the records as the export writes them: names for codes (the code beside an id), dates as dates
    shown = record_labeller(cube_by_name(PIVOT_CUBE), lang, lambda ref: engine().members(PIVOT_CUBE, ref))(records)
    formats, headers = shown.attrs["formats"], list(shown.columns)
    shown.columns = [f"c{i}" for i in range(len(headers))]  # headers may hold dots; fields must not
    columns = [number_column(field, header, formats[header]) if formats.get(header) not in (None, "date")
               else {"field": field, "headerName": header} for field, header in zip(shown.columns, headers)]
    return (json_rows(shown), columns,
            t("pivot.records", lang, cell=cell_name, total=f"{records.attrs['total_rows']:,}", shown=len(records)),
            export_href("pivot", spec, lang, "records", where), "flex")  # the links are a flex group


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
    new = PivotState(rows, columns, tuple(measures or state.measures), bool(heat), 0 if shown >= len(rows) else shown)
    return rewritten_search(search, state, new, with_state)
