"""Explore callbacks: draw one measure by one dimension, drill on click, keep every choice in the URL."""
from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import dash_mantine_components as dmc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, no_update

from callbacks import charts
from callbacks.downloads import export_href
from callbacks.engine import engine
from callbacks.grids import number_column
from callbacks.filters import cube_filters, current_filters
from cubes.catalog import cube_by_name
from layouts.explore_state import EXPLORE_CUBE, ExploreState, parse, with_state
from layouts.i18n import bad_param_notices, grid_options, normalise_language, t

log = logging.getLogger(__name__)



def _known_path(state: ExploreState) -> tuple[ExploreState, str | None]:
    """The drill path cut before its first member the warehouse does not know."""
    for depth, member in enumerate(state.path):
        if member not in set(engine().members(EXPLORE_CUBE, state.levels()[depth])["key"].astype(str)):
            return ExploreState(state.measure, state.dimension, state.path[:depth], state.chart, state.top), member
    return state, None


def _crumbs(state: ExploreState, query: dict, lang: str) -> list:
    """The drill path as links: each leads to the view at that depth (so back and forward work too)."""
    search = "?" + urlencode(query) if query else ""
    names = [t("explore.all_members", lang)]
    for depth, member in enumerate(state.path):
        labels = engine().members(EXPLORE_CUBE, state.levels()[depth])
        label = labels.loc[labels["key"].astype(str) == member, f"label_{lang}"]
        names.append(label.iloc[0] if len(label) else member)
    return [dcc.Link(name, href="/explore" + with_state(search, replace(state, path=state.path[:depth])),
                     id={"role": "explore-crumb", "depth": depth})
            for depth, name in enumerate(names)]


def _grid(frame: pd.DataFrame, level: str, measure: str, lang: str) -> tuple[list, list, dict]:
    definition = cube_by_name(EXPLORE_CUBE).measure(measure)
    body, total = frame[frame["_row_depth"] > 0], frame[frame["_row_depth"] == 0]
    label_col = f"{level}|{lang}"
    columns = [
        {"field": "member", "headerName": t("explore.member", lang), "flex": 2},
        number_column("value", definition.label_zh if lang == "zh" else definition.label_en, definition.fmt, flex=1),
    ]
    grand = float(total[measure].iloc[0]) if len(total) else None
    rows = [{"member": m, "value": v} for m, v in zip(body[label_col], body[measure])]
    if definition.additive and grand:
        columns.append(number_column("share", t("explore.share", lang), "pct", flex=1))
        for row in rows:
            row["share"] = row["value"] / grand
    pinned = [{"member": total[label_col].iloc[0], "value": grand, **({"share": 1.0} if len(columns) == 3 else {})}] \
        if len(total) else []
    return rows, columns, grid_options(lang, domLayout="autoHeight", pinnedBottomRowData=pinned)


@callback(
    Output("explore-chart-graph", "figure"),
    Output("explore-grid", "rowData"),
    Output("explore-grid", "columnDefs"),
    Output("explore-grid", "dashGridOptions"),
    Output("explore-export-table", "href"),
    Output("explore-export-records", "href"),
    Output("explore-crumbs", "children"),
    Output("explore-notice", "children"),
    Output("explore-notice", "hide"),
    Input("explore-query", "data"),
)
def draw_explore(query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    notices = bad_param_notices(state.invalid, lang)
    try:
        state, unknown = _known_path(state)
        if unknown:
            notices.append(t("explore.unknown_member", lang, value=unknown))
        spec = state.spec(cube_filters(EXPLORE_CUBE, current_filters(query)))
        frame = engine().query(spec)
        definition = cube_by_name(EXPLORE_CUBE).measure(state.measure)
        chart = state.chart
        if chart == "pie" and not definition.additive:
            notices.append(t("explore.pie_needs_additive", lang))
            chart = "bar"
        level = state.shown_level()
        body = frame[frame["_row_depth"] > 0]
        if body.empty:
            figure = charts.message_figure(t("state.empty", lang))
        else:
            figure = charts.measure_chart(chart, body[level].astype(str), body[f"{level}|{lang}"], body[state.measure],
                                          definition.fmt, lang)
        rows, columns, options = _grid(frame, level, state.measure, lang)
    except Exception as error:  # the page shows a message, never a traceback
        log.exception("explore query failed")
        return (charts.message_figure(t("state.error", lang, detail=error)), [], [], no_update, "#", "#", [],
                t("state.error", lang, detail=error), False)
    return (figure, rows, columns, options, export_href("explore", spec, lang),
            export_href("explore", spec, lang, "records"), _crumbs(state, {k: v for k, v in query.items() if k != 'lang' or v != 'zh'}, lang),
            " ".join(notices), not notices)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("explore-chart-graph", "clickData"),
    Input("explore-measure", "value"),
    Input("explore-dimension", "value"),
    Input("explore-chart", "value"),
    Input("explore-top", "value"),
    State("url", "search"),
    prevent_initial_call=True,
)
def navigate(click, measure, dimension, chart, top, search):
    state, _ = _known_path(parse(dict(parse_qsl((search or "").lstrip("?")))))
    trigger = ctx.triggered_id
    path = state.path
    if trigger == "explore-chart-graph":
        member = str((click or {}).get("points", [{}])[0].get("customdata", ""))
        if not member or member == "__others__" or not state.can_drill():
            return no_update
        path = state.path + (member,)
    elif trigger == "explore-dimension" and dimension != state.dimension:
        path = ()
    new = ExploreState(measure or state.measure, dimension or state.dimension, path, chart or state.chart,
                       int(top) if top is not None else state.top)
    # Controls report their values when they mount: only a real change of the view rewrites the URL,
    # so a bad parameter's notice stays visible until the user changes something.
    if replace(new, invalid=()) == replace(state, invalid=()):
        return no_update
    return with_state(search, new)
