"""Explore callbacks: draw one measure by one dimension, drill on click, keep every choice in the URL."""
from __future__ import annotations

import logging
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, no_update

from callbacks import charts
from callbacks.downloads import export_href
from callbacks.engine import engine
from callbacks.grids import number_column, sort_of, sorted_columns
from callbacks.view_url import rewritten_search
from callbacks.filters import cube_filters, current_filters
from callbacks.view_cache import memoised_view, not_kept
from cubes.catalog import cube_by_name
from layouts.explore_state import EXPLORE_CUBE, TABLE_FIELDS, ExploreState, parse, with_state
from layouts.i18n import bad_param_notices, grid_options, normalise_language, t
from layouts.numbers import compact, integer, percent, points, signed_percent
from layouts.url_query import encode, query_of

log = logging.getLogger(__name__)



def _known_path(state: ExploreState) -> tuple[ExploreState, str | None]:
    """The drill path cut before its first member the warehouse does not know."""
    for depth, member in enumerate(state.path):
        if member not in set(engine().members(EXPLORE_CUBE, state.levels()[depth])["key"].astype(str)):
            return replace(state, path=state.path[:depth]), member
    return state, None


def _crumbs(state: ExploreState, query: dict, lang: str) -> list:
    """The drill path as links: each leads to the view at that depth (so back and forward work too)."""
    search = encode(query)
    names = [t("explore.all_members", lang)]
    for depth, member in enumerate(state.path):
        labels = engine().members(EXPLORE_CUBE, state.levels()[depth])
        label = labels.loc[labels["key"].astype(str) == member, f"label_{lang}"]
        names.append(label.iloc[0] if len(label) else member)
    return [dcc.Link(name, href="/explore" + with_state(search, replace(state, path=state.path[:depth])),
                     id={"role": "explore-crumb", "depth": depth})
            for depth, name in enumerate(names)]


def _compared(frame: pd.DataFrame, state: ExploreState, lang: str):
    """The two segments side by side: one row per member of the shown level, largest total first, and
    each segment's total over those members (recomputed by the engine: a rate stays a rate)."""
    level, segment = state.shown_level(), state.slice_level
    body = frame[(frame["_row_depth"] > 0) & (frame["_col_depth"] > 0)]
    order = frame[(frame["_row_depth"] > 0) & (frame["_col_depth"] == 0)].sort_values(state.measure, ascending=False)
    totals = frame[(frame["_row_depth"] == 0) & (frame["_col_depth"] > 0)]
    keys = order[level].astype(str).tolist()
    series, sums = {}, {}
    for member in state.slice_members:
        part = body[body[segment].astype(str) == member]
        if len(part):
            values = dict(zip(part[level].astype(str), part[state.measure]))
            name = part[f"{segment}|{lang}"].iloc[0]
            series[name] = [values.get(k) for k in keys]
            total = totals.loc[totals[segment].astype(str) == member, state.measure]
            sums[name] = float(total.iloc[0]) if len(total) else None
    return keys, order[f"{level}|{lang}"].tolist(), series, sums


def _member_column(lang: str) -> dict:
    # a long name (Northeast China) wraps on a phone instead of being cut
    return {"field": "member", "headerName": t("explore.member", lang), "flex": 2, "minWidth": 120,
            "wrapText": True, "autoHeight": True}


def _difference(a, b, additive: bool):
    """B against A: relative for amounts and counts, in points (a plain subtraction) for rates."""
    if a is None or b is None or (additive and a == 0):
        return None
    return (b - a) / abs(a) if additive else b - a


def _difference_text(value, additive: bool, lang: str) -> str:
    if value is None:
        return t("explore.no_difference", lang)
    return signed_percent(value) if additive else points(value, lang)


def _compare_figure(chart: str, keys, labels, series: dict, fmt: str, name: str, lang: str) -> go.Figure:
    """The segments in the chosen chart type: grouped bars, one line each, or one pie each."""
    bars = charts.compare_bars(keys, labels, series, fmt, name, lang)
    if chart == "line":
        return go.Figure([go.Scatter(x=b.x, y=b.y, name=b.name, customdata=b.customdata, mode="lines+markers",
                                     hovertext=b.hovertext, hovertemplate=b.hovertemplate) for b in bars.data],
                         layout=bars.layout)
    if chart == "pie":
        width = 1 / len(bars.data)
        pies = [go.Pie(labels=b.x, values=b.y, customdata=b.customdata, hovertext=b.hovertext, hole=0.4, sort=False,
                       title=b.name,
                       domain={"x": [i * width + 0.02, (i + 1) * width - 0.02]}, texttemplate="%{percent}",
                       hovertemplate=b.hovertemplate.replace("%{x}", "%{label}").replace("%{y", "%{value"))
                for i, b in enumerate(bars.data)]
        return go.Figure(pies, layout=bars.layout)
    return bars


def _compare_summary(sums: dict, measure: str, lang: str) -> str:
    """Each segment's total and B against A, as the page states them above the chart."""
    definition = cube_by_name(EXPLORE_CUBE).measure(measure)
    shown = {"money": lambda v: compact(v, lang), "pct": percent}.get(definition.fmt, integer)
    parts = [f"{'AB'[i]} {name}：{shown(v)}" if lang == "zh" else f"{'AB'[i]} {name}: {shown(v)}"
             for i, (name, v) in enumerate(sums.items())]
    if len(sums) == 2:
        a, b = sums.values()
        parts.append(t("explore.compare_change", lang,
                       value=_difference_text(_difference(a, b, definition.additive), definition.additive, lang)))
    return " · ".join(parts)


def _compare_grid(keys, labels, series: dict, sums: dict, measure: str, lang: str) -> tuple[list, list, dict]:
    definition = cube_by_name(EXPLORE_CUBE).measure(measure)
    names = list(series)
    columns = [_member_column(lang)]
    columns += [number_column(f"s{i}", f"{'AB'[i]}: {name}", definition.fmt, lang, flex=1)
                for i, name in enumerate(names)]
    rows = [{"member": label, **{f"s{i}": series[name][j] for i, name in enumerate(names)}}
            for j, label in enumerate(labels)]
    total = {"member": t("explore.total", lang), **{f"s{i}": sums.get(name) for i, name in enumerate(names)}}
    if len(names) == 2:
        # B against A as the summary says it: a signed percent, or signed points for a rate
        header, pattern, scale = (("explore.difference_pct", "+.1%", "") if definition.additive
                                  else ("explore.difference_points", "+.1f", " * 100"))
        columns.append(number_column("diff", t("explore.difference", lang), definition.fmt, lang, flex=1))
        columns.append({**number_column("diff_pct", t(header, lang), "float", flex=1), "valueFormatter": {
            "function": f"params.value == null ? '' : d3.format('{pattern}')(params.value{scale})"}})
        for row in rows + [total]:
            a, b = row.get("s0"), row.get("s1")
            row["diff"] = None if a is None or b is None else b - a
            row["diff_pct"] = _difference(a, b, definition.additive)
    return rows, columns, grid_options(lang, domLayout="autoHeight", pinnedBottomRowData=[total])


def _grid(frame: pd.DataFrame, level: str, measure: str, lang: str) -> tuple[list, list, dict]:
    definition = cube_by_name(EXPLORE_CUBE).measure(measure)
    body, total = frame[frame["_row_depth"] > 0], frame[frame["_row_depth"] == 0]
    label_col = f"{level}|{lang}"
    columns = [
        _member_column(lang),
        number_column("value", definition.label_zh if lang == "zh" else definition.label_en, definition.fmt, lang,
                      flex=1),
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
    Output("explore-compare-summary", "children"),
    Input("explore-query", "data"),
)
@memoised_view
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
        name = definition.label_zh if lang == "zh" else definition.label_en   # the axis title, with its unit
        chart = state.chart
        if chart == "pie" and not definition.additive:
            notices.append(t("explore.pie_needs_additive", lang))
            chart = "bar"
        level = state.shown_level()
        body = frame[frame["_row_depth"] > 0]
        if state.compare and not state.comparing():
            notices.append(t("explore.compare_needs_two", lang))
        summary = ""
        if body.empty:
            figure = charts.message_figure(t("state.empty", lang))
            rows, columns, options = _grid(frame, level, state.measure, lang)
        elif state.comparing():
            keys, labels, series, sums = _compared(frame, state, lang)
            figure = _compare_figure(chart, keys, labels, series, definition.fmt, name, lang)
            rows, columns, options = _compare_grid(keys, labels, series, sums, state.measure, lang)
            summary = _compare_summary(sums, state.measure, lang)
        else:
            figure = charts.measure_chart(chart, body[level].astype(str), body[f"{level}|{lang}"], body[state.measure],
                                          definition.fmt, name, lang)
            rows, columns, options = _grid(frame, level, state.measure, lang)
        if not body.empty and chart != "pie":  # the members' axis names their level (大区, 省份, ...)
            shown = cube_by_name(EXPLORE_CUBE).level(level)[1]
            figure.update_xaxes(title=shown.label_zh if lang == "zh" else shown.label_en)
    except Exception:  # the page shows a message, never a traceback
        log.exception("explore query failed")
        not_kept()
        return (charts.message_figure(t("state.error", lang)), [], [], no_update, "#", "#", [],
                t("state.error", lang), False, "")
    return (figure, rows, sorted_columns(columns, state.sort), options, export_href("explore", spec, lang),
            export_href("explore", spec, lang, "records"), _crumbs(state, {k: v for k, v in query.items() if k != 'lang' or v != 'zh'}, lang),
            " ".join(notices), not notices, summary)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("explore-chart-graph", "clickData"),
    Input("explore-measure", "value"),
    Input("explore-dimension", "value"),
    Input("explore-chart", "value"),
    Input("explore-top", "value"),
    Input("explore-slice", "value"),
    Input("explore-slice-members", "value"),
    Input("explore-compare", "checked"),
    State("url", "search"),
    prevent_initial_call=True,
)
def navigate(click, measure, dimension, chart, top, slice_level, slice_members, compare, search):
    state, _ = _known_path(parse(query_of(search)))
    trigger = ctx.triggered_id
    path = state.path
    if trigger == "explore-chart-graph":
        member = str((click or {}).get("points", [{}])[0].get("customdata", ""))
        if not member or member == "__others__" or not state.can_drill():
            return no_update
        path = state.path + (member,)
    elif trigger == "explore-dimension" and dimension != state.dimension:
        path = ()
    if dimension and slice_level and slice_level.split(".")[0] == dimension:
        slice_level = None  # a dimension cannot slice itself
    members = tuple(slice_members or ()) if slice_level == state.slice_level else ()
    new = replace(state, measure=measure or state.measure, dimension=dimension or state.dimension, path=path,
                  chart=chart or state.chart, top=int(top) if top is not None else state.top,
                  slice_level=slice_level or None, slice_members=members if slice_level else (), compare=bool(compare))
    return rewritten_search(search, state, new, with_state)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("explore-grid", "columnState"),
    State("url", "search"),
    prevent_initial_call=True,
)
def sort_table(column_state, search):
    """A click on a table header sorts it in the browser; the URL keeps that order for reload and back."""
    state = parse(query_of(search))
    sort = sort_of(column_state, TABLE_FIELDS)
    if sort is False or sort == state.sort:
        return no_update
    return with_state(search, replace(state, sort=sort))


@callback(
    Output("explore-slice-members", "data"),
    Input("explore-slice", "value"),
    State("explore-query", "data"),
)
def slice_member_options(level, query):
    if not level:
        return []
    lang = normalise_language(query.get("lang"))
    members = engine().members(EXPLORE_CUBE, level)
    return [{"value": str(k), "label": str(v)} for k, v in zip(members["key"], members[f"label_{lang}"])]
