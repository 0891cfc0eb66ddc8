"""Contribution & cost to serve callbacks: each view of the page from the engine under the global
filters, its CSV exports, and every control written back to the URL.

The analysis (loss reasons, quadrants, channel savings) is cubes/contribution_analysis.py; the
engine calls are cubes/contribution_queries.py. Here: filters in, figures and grid rows out.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, no_update

from callbacks import charts
from callbacks.downloads import export_href, register_export
from callbacks.engine import engine
from callbacks.filters import cube_filters, current_filters
from callbacks.grids import json_rows, number_column, with_whole_header
from callbacks.view_cache import memoised_view, not_kept
from callbacks.view_url import rewritten_search
from cubes import contribution_analysis as analysis
from cubes import contribution_queries as queries
from cubes.catalog import cube_by_name
from cubes.export import page_table
from layouts import numbers
from layouts.contribution import CUBE, KPIS, parse, with_state
from layouts.filter_state import GLOBAL_FILTERS, spec_filters
from layouts.i18n import bad_param_notices, grid_options, join_list, normalise_language, t
from layouts.url_query import query_of

log = logging.getLogger(__name__)

LOSS_ROWS_SHOWN = 1000   # the grid's share of a long list; the CSV export has every loss-maker
POLICY_ROWS_WHOLE = 12
QUADRANT_COLOURS = {"core": "#2f9e44", "valuable_costly": "#4c6ef5", "low_touch": "#868e96",
                    "low_value_costly": "#e03131"}


# --- the slice every view shows --------------------------------------------------------------------
@dataclass(frozen=True)
class PageSlice:
    filters: list
    start: str | None
    end: str | None
    not_applicable: list[str]   # global filters the customer-grain cube cannot apply


def page_slice(query: dict) -> PageSlice:
    state = current_filters(query)
    return PageSlice(cube_filters(CUBE, state), state.start, state.end,
                     spec_filters(state, cube_by_name(CUBE).level_names)[1])


# --- figures ----------------------------------------------------------------------------------------
def whale_figure(curve: pd.DataFrame, s: analysis.WhaleSummary, lang: str) -> go.Figure:
    """The cumulative contribution share (%) against the share of customers (%), best first, with
    the top 20 % and 30 % marked, the peak, and the loss-making tail shaded."""
    fig = go.Figure()
    fig.add_scatter(x=[0.0, *(curve["customer_share"] * 100)], y=[0.0, *(curve["contribution_share"] * 100)],
                    mode="lines", name=t("contribution.whale.curve", lang), line={"color": "#4c6ef5", "width": 3},
                    hovertemplate=t("contribution.whale.hover", lang) + "<extra></extra>")
    peak_x = s.peak_customer_share * 100
    if s.loss_customers:
        fig.add_vrect(x0=peak_x, x1=100, fillcolor="#e03131", opacity=0.08, line_width=0)
        fig.add_annotation(x=(peak_x + 100) / 2, y=12, showarrow=False, font={"color": "#e03131", "size": 12},
                           text=t("contribution.whale.tail", lang,
                                  customers=numbers.percent(s.loss_customers / s.customers),
                                  amount=numbers.compact(-s.loss_contribution, lang)))
    fig.add_hline(y=100, line={"dash": "dot", "color": "#868e96", "width": 1})
    marks = [("top20", 20.0, s.top20_share * 100, t("contribution.whale.top", lang, n=20, share=numbers.percent(s.top20_share))),
             ("top30", 30.0, s.top30_share * 100, t("contribution.whale.top", lang, n=30, share=numbers.percent(s.top30_share))),
             ("peak", peak_x, s.peak_share * 100, t("contribution.whale.peak", lang, share=numbers.percent(s.peak_share)))]
    fig.add_scatter(x=[m[1] for m in marks], y=[m[2] for m in marks], customdata=[m[0] for m in marks],
                    text=[m[3] for m in marks], mode="markers+text", name=t("contribution.whale.marks", lang),
                    textposition=["middle right", "bottom right", "top center"],
                    marker={"size": 10, "color": ["#fab005", "#fd7e14", "#e03131"]},
                    hovertemplate="%{text}<extra></extra>")
    fig.update_xaxes(title=t("contribution.whale.x_axis", lang), range=[0, 100], dtick=20, ticksuffix="%")
    fig.update_yaxes(title=t("contribution.whale.y_axis", lang), ticksuffix="%", rangemode="tozero",
                     range=[0, max(105.0, s.peak_share * 100 + 8)])
    fig.update_layout(showlegend=False, margin={"r": 28})   # room for the last tick, 100%
    return fig


def waterfall_figure(row: pd.Series, lang: str) -> go.Figure:
    """Premium down to contribution as horizontal steps, top to bottom: the part names sit on the
    axis and each amount beside its bar, so nothing overlaps on a phone either."""
    steps = analysis.waterfall_steps(row)
    amounts = [value for _, value in steps] + [float(row["contribution"])]
    divisor, unit = numbers.money_scale(amounts, lang)
    labels = [t(f"contribution.part.{name}", lang) for name, _ in steps] + [t("contribution.part.contribution", lang)]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=labels, x=[a / divisor for a in amounts], measure=["relative"] * len(steps) + ["total"],
        # each amount in its own unit: a small step in the axis's unit would read 0.00
        text=[("+" if i < len(steps) and a > 0 else "") + numbers.compact(a, lang) for i, a in enumerate(amounts)],
        textposition="auto",
        increasing={"marker": {"color": "#2f9e44"}}, decreasing={"marker": {"color": "#e03131"}},
        totals={"marker": {"color": "#4c6ef5"}}, connector={"line": {"color": "#adb5bd", "dash": "dot"}},
        hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title=numbers.titled(t("contribution.waterfall.amount", lang), unit, lang),
                     tickformat=charts.MONEY_TICKS, autorangeoptions={"include": _room_left(steps, divisor)})
    fig.update_layout(showlegend=False)
    return fig


TEXT_ROOM = 0.3   # of the axis span: what an amount written beside a bar needs on a phone


def _room_left(steps: list[tuple[str, float]], divisor: float) -> list[float]:
    """A narrow cost step ending near the axis's left end writes its amount to its left, over the part
    names (the reserve leaves the spread there): the axis then reaches TEXT_ROOM further left."""
    ends = [sum(v for _, v in steps[: i + 1]) / divisor for i in range(len(steps))]
    low, high = min(0.0, *ends), max(0.0, *ends)
    room = TEXT_ROOM * (high - low)
    crowded = any(v < 0 and -v / divisor < room and end - low < room for (_, v), end in zip(steps, ends))
    return [low - room] if crowded else []


def quadrant_figure(q: analysis.Quadrant, lang: str) -> go.Figure:
    """One bubble per member; names only where they fit beside their bubble (the rest on hover)."""
    yuan, people = ("元", "人") if lang == "zh" else (" CNY", "")
    members = q.members.reset_index(drop=True)
    fig = go.Figure()
    largest = float(members["customers"].max()) if len(members) else 1.0
    x_range, y_range = (charts.padded_range(members[c]) if len(members) else [0, 1]
                        for c in ("cost_per_customer", "contribution_per_customer"))
    places = charts.label_places(members["cost_per_customer"], members["contribution_per_customer"],
                                 members[f"label_{lang}"], members["customers"], x_range, y_range)
    for name, colour in QUADRANT_COLOURS.items():
        part = members[members["quadrant"] == name]
        if part.empty:
            continue
        fig.add_scatter(
            x=part["cost_per_customer"], y=part["contribution_per_customer"], mode="markers+text",
            text=[label if places[i] else "" for i, label in zip(part.index, part[f"label_{lang}"])],
            textposition=[places[i] or "top center" for i in part.index], hovertext=part[f"label_{lang}"],
            # the tooltip's amounts written as the page writes them (numbers.py: "−" for a loss)
            customdata=[[key, numbers.decimal(c, 0), numbers.decimal(s, 0), numbers.integer(n)] for key, c, s, n in zip(
                part["key"], part["contribution_per_customer"], part["cost_per_customer"], part["customers"])],
            name=t(f"contribution.q.{name}", lang),
            textfont={"size": 11},
            marker={"size": part["customers"], "sizemode": "area", "sizeref": 2.0 * largest / 48 ** 2, "sizemin": 4,
                    "color": colour, "opacity": 0.7, "line": {"width": 1, "color": "white"}},
            hovertemplate=(f"<b>%{{hovertext}}</b><br>"
                           f"{t('contribution.col.contribution_pc', lang)}: %{{customdata[1]}}{yuan}<br>"
                           f"{t('contribution.col.cost_pc', lang)}: %{{customdata[2]}}{yuan}<br>"
                           f"{t('contribution.col.customers', lang)}: %{{customdata[3]}}{people}<extra></extra>"))
    # the averages' amounts are written above the chart: on the plot they ran into the bubbles' names
    fig.add_hline(y=q.contribution_per_customer, line={"dash": "dash", "color": "#868e96"})
    fig.add_vline(x=q.cost_per_customer, line={"dash": "dash", "color": "#868e96"})
    fig.update_xaxes(title=t("contribution.quadrant.x", lang), tickformat=",.0f", range=x_range)
    fig.update_yaxes(title=t("contribution.quadrant.y", lang), tickformat=",.0f", range=y_range)
    fig.update_layout(margin={"b": 70})   # the template's top margin keeps the mode bar off the names
    return fig


def reasons_figure(summary: pd.DataFrame, lang: str) -> go.Figure:
    divisor, unit = numbers.money_scale(-summary["contribution"], lang)
    labels = [t(f"contribution.reason.{r}", lang) for r in summary["reason"]]
    text = [f"{numbers.compact(-v, lang)} · {t('contribution.reasons.people', lang, n=numbers.integer(n))}"
            for v, n in zip(summary["contribution"], summary["customers"])]
    fig = go.Figure(go.Bar(
        x=-summary["contribution"] / divisor, y=labels, orientation="h", marker_color="#e03131",
        textposition="auto", text=text, hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title=t("contribution.reasons.loss", lang, unit=unit), tickformat=charts.MONEY_TICKS)
    return fig


# --- grids ------------------------------------------------------------------------------------------
def _text_column(field: str, header: str, **extra) -> dict:
    return with_whole_header({"field": field, "headerName": header, "minWidth": 110, **extra})


def _number(field: str, fmt: str, lang: str, header: str | None = None, min_width: int | None = None) -> dict:
    """A number column that shares the width (these grids hold many columns side by side) but
    keeps a whole amount in yuan readable; an amount's header names the unit (元 / CNY)."""
    header = header or t(f"contribution.col.{field}", lang)
    if fmt == "money":
        header = numbers.in_yuan(header, lang)
    return number_column(field, header, fmt, minWidth=min_width or (135 if fmt == "money" else 110), flex=1)


def tiers_grid(frame: pd.DataFrame, lang: str) -> tuple[list, list, dict]:
    rows = []
    for _, r in frame.iterrows():
        customers = float(r["customers"]) or float("nan")
        rows.append({"tier": r[f"vip_tier|{lang}"], "customers": r["customers"], "premium": r["premium"],
                     "contribution": r["contribution"], "margin": r["contribution_margin"],
                     "contribution_pc": r["contribution"] / customers, "cost_to_serve": r["cost_to_serve"],
                     "cost_pc": r["cost_to_serve"] / customers, "events_pc": r["service_events"] / customers,
                     "complaints": r["complaints"], "total": r["_row_depth"] == 0})
    rows = json_rows(pd.DataFrame(rows))
    body, total = [r for r in rows if not r["total"]], [r for r in rows if r["total"]]
    formats = (("customers", "int"), ("premium", "money"), ("contribution", "money"), ("margin", "pct"),
               ("contribution_pc", "money"), ("cost_to_serve", "money"), ("cost_pc", "money"),
               ("events_pc", "float"), ("complaints", "int"))
    columns = [_text_column("tier", t("contribution.col.tier", lang), pinned="left", width=110)] + [
        _number(field, fmt, lang) for field, fmt in formats]
    return body, columns, grid_options(lang, domLayout="autoHeight", pinnedBottomRowData=total)


POLICY_NUMBERS = (("saving", "money"), ("saving_share", "pct"), ("contribution_pc", "money"), ("cost_pc", "money"),
                  ("customers", "int"), ("moved", "int"))
POLICY_CSV_ONLY = ("customers", "moved")   # hidden in the grid (the bubbles show customers), kept in the CSV


def policy_grid(policy: pd.DataFrame, channel_names: dict, lang: str) -> tuple[list, list]:
    rows = []
    for _, r in policy.iterrows():
        target = r["target_channel"]
        channel = channel_names.get(target, target) if isinstance(target, str) else t("contribution.policy.no_shift", lang)
        rows.append({"segment": r[f"label_{lang}"], "quadrant": t(f"contribution.q.{r['quadrant']}", lang),
                     "customers": r["customers"], "contribution_pc": r["contribution_per_customer"],
                     "cost_pc": r["cost_per_customer"],
                     "policy": t(f"contribution.policy.{r['quadrant']}", lang, channel=channel),
                     "target": channel_names.get(target, target) if isinstance(target, str) else None,
                     "moved": r["events_moved"], "saving": r["saving"], "saving_share": r["saving_share"]})
    columns = [
        _text_column("segment", t("contribution.col.segment", lang), pinned="left", width=120),
        _text_column("quadrant", t("contribution.col.quadrant", lang), minWidth=190, flex=2, wrapText=True,
                     autoHeight=True),
        _text_column("policy", t("contribution.col.policy", lang), minWidth=260, flex=3, wrapText=True,
                     autoHeight=True),
        _text_column("target", t("contribution.col.target", lang), minWidth=90, flex=1),
        *(_number(field, fmt, lang) | ({"hide": True} if field in POLICY_CSV_ONLY else {})
          for field, fmt in POLICY_NUMBERS),
    ]
    return json_rows(pd.DataFrame(rows, columns=[c["field"] for c in columns])), columns


LOSS_COLUMNS = (("contribution", "money"), ("premium", "money"), ("claims_paid", "money"), ("commission", "money"),
                ("acquisition_cost", "money"), ("cost_to_serve", "money"), ("reserve_increase", "money"),
                ("investment_spread", "money"),
                ("excess", "money"))


def _loss_header(field: str, lang: str) -> str:
    return t(f"contribution.col.{'claims' if field == 'claims_paid' else field}", lang)


def loss_grid(shown: pd.DataFrame, lang: str) -> tuple[list, list]:
    rows = json_rows(shown.assign(
        link=[f"[{c}](/customer?{urlencode({'id': c, 'lang': lang})})" for c in shown["customer_id"]],
        reason=[t(f"contribution.reason.{r}", lang) for r in shown["reason"]],
    )[["link", "customer_id", "reason", *(f for f, _ in LOSS_COLUMNS)]])
    columns = [{"field": "link", "headerName": t("contribution.col.customer_id", lang), "cellRenderer": "markdown",
                "pinned": "left", "width": 150},
               _text_column("reason", t("contribution.col.reason", lang), width=170)]
    # customer-level amounts are short: narrower columns keep the whole row in view
    columns += [_number(f, fmt, lang, _loss_header(f, lang), min_width=115) for f, fmt in LOSS_COLUMNS]
    return rows, columns


def loss_table(losses: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The loss-making list as exported: every row, headers and reasons in `lang`, amounts in yuan."""
    return page_table([(t("contribution.col.customer", lang), None, losses["customer_id"]),
                       (t("contribution.col.reason", lang), None, [t(f"contribution.reason.{r}", lang) for r in losses["reason"]]),
                       *((_loss_header(field, lang), fmt, losses[field]) for field, fmt in LOSS_COLUMNS)], lang)


# --- exports beyond one query -----------------------------------------------------------------------
def _filters_of(spec) -> list[dict]:
    return spec.to_dict()["filters"]


def export_whale(spec, args, lang: str) -> pd.DataFrame:
    curve = engine().whale_curve(spec.replace(measures=["contribution"]), points=queries.WHALE_POINTS)
    return page_table([(t("contribution.whale.x", lang), "pct", curve["customer_share"]),
                       (t("contribution.col.customers", lang), "int", curve["customers"]),
                       (t("contribution.whale.y", lang), "pct", curve["contribution_share"]),
                       (t("contribution.col.contribution", lang), "money", curve["cumulative_contribution"])], lang)


def export_losses(spec, args, lang: str) -> pd.DataFrame:
    state = parse(dict(args))
    losses = queries.loss_makers(engine(), _filters_of(spec))
    if state.reason:
        losses = losses[losses["reason"] == state.reason]
    return loss_table(losses, lang)


def export_policy(spec, args, lang: str) -> pd.DataFrame:
    state = parse(dict(args))
    level = spec.rows[0] if spec.rows else state.dimension
    rows, columns = policy_grid(queries.service_policy(engine(), _filters_of(spec), level, state.adoption),
                                _channel_names(lang), lang)
    frame = pd.DataFrame(rows, columns=[c["field"] for c in columns])
    formats = dict(POLICY_NUMBERS)
    return page_table([(t(f"contribution.col.{c['field']}", lang) if c["field"] in formats else c["headerName"],
                        formats.get(c["field"]), frame[c["field"]]) for c in columns], lang)


register_export("contribution", "whale", export_whale)
register_export("contribution", "losses", export_losses)
register_export("contribution", "policy", export_policy)


def _href(kind: str, spec: dict, lang: str, **extra) -> str:
    href = export_href("contribution", spec, lang, kind)
    return href + ("&" + urlencode(extra) if extra else "")


def _channel_names(lang: str) -> dict[str, str]:
    members = engine().members("service", "service_channel")
    return dict(zip(members["key"].astype(str), members[f"label_{lang}"]))


# --- callbacks --------------------------------------------------------------------------------------
def _period_text(s: PageSlice, lang: str) -> str:
    return t("contribution.period", lang, start=s.start, end=s.end)


def _scope_note(s: PageSlice, lang: str) -> str:
    if not s.not_applicable:
        return ""
    names = join_list((t(f.label_key, lang) for f in GLOBAL_FILTERS if f.key in s.not_applicable), lang)
    return t("filter.not_applicable", lang, what=t("nav.contribution", lang), names=names)


@callback(
    Output("contribution-period", "children"),
    Output("contribution-notice", "children"),
    Output("contribution-notice", "hide"),
    Output("contribution-error", "children"),
    Output("contribution-error", "hide"),
    Output("contribution-scope-note", "children"),
    *[Output(f"contribution-kpi-{name}", "children") for name in KPIS],
    *[Output(f"contribution-kpi-{name}-note", "children") for name in KPIS],
    Output("contribution-whale", "figure"),
    Output("contribution-whale-export-table", "href"),
    Output("contribution-whale-export-records", "href"),
    Input("contribution-query", "data"),
)
@memoised_view
def draw_whale(query):
    lang = normalise_language(query.get("lang"))
    notices = bad_param_notices(parse(query).invalid, lang)
    try:
        s = page_slice(query)
        curve, summary = queries.whale(engine(), s.filters)
    except Exception:  # the page shows a message, never a traceback
        log.exception("contribution whale curve failed")
        not_kept()
        message = t("state.error", lang)
        return ("", " ".join(notices), not notices, message, False, "", *["—"] * len(KPIS), *[""] * len(KPIS),
                charts.message_figure(message), "#", "#")
    values = {"contribution": numbers.compact(summary.contribution, lang),
              "customers": numbers.integer(summary.customers, "人", lang),
              "top20": numbers.percent(summary.top20_share), "top30": numbers.percent(summary.top30_share),
              "loss_customers": numbers.integer(summary.loss_customers, "人", lang),
              "giveback": numbers.compact(-summary.loss_contribution, lang)}
    share = summary.loss_customers / summary.customers if summary.customers else float("nan")
    notes = {"loss_customers": t("contribution.kpi.of_customers", lang, share=numbers.percent(share)),
             "giveback": t("contribution.kpi.of_peak", lang, share=numbers.percent(summary.giveback_share))}
    if not summary.customers:
        figure = charts.message_figure(t("state.empty", lang))
    elif summary.contribution <= 0:
        figure = charts.message_figure(t("contribution.whale.not_positive", lang))
    else:
        figure = whale_figure(curve, summary, lang)
    spec = queries.spec(s.filters)
    return (_period_text(s, lang), " ".join(notices), not notices, "", True, _scope_note(s, lang),
            *[values[k] for k in KPIS], *[notes.get(k, "") for k in KPIS], figure,
            _href("whale", spec, lang), export_href("contribution", spec, lang, "records"))


@callback(
    Output("contribution-waterfall-title", "children"),
    Output("contribution-waterfall", "figure"),
    Output("contribution-wmember", "data"),
    Output("contribution-waterfall-export-table", "href"),
    Output("contribution-waterfall-export-records", "href"),
    Input("contribution-query", "data"),
)
@memoised_view
def draw_waterfall(query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    segment = t("contribution.whole_company", lang)
    try:
        s = page_slice(query)
        options = []
        filters = s.filters
        if state.waterfall_level:
            members = engine().members(CUBE, state.waterfall_level)
            options = [{"value": str(k), "label": str(v)} for k, v in zip(members["key"], members[f"label_{lang}"])]
            if state.waterfall_member is not None:
                if state.waterfall_member not in {o["value"] for o in options}:
                    message = t("contribution.unknown_member", lang, value=state.waterfall_member)
                    return (t("contribution.waterfall", lang, segment=state.waterfall_member),
                            charts.message_figure(message), options, "#", "#")
                segment = engine().member_label(CUBE, state.waterfall_level, state.waterfall_member, lang)
                filters = filters + [{"dim": state.waterfall_level, "op": "eq", "values": [state.waterfall_member]}]
        row = queries.waterfall(engine(), filters)
    except Exception:
        log.exception("contribution waterfall failed")
        not_kept()
        return (t("contribution.waterfall", lang, segment=segment),
                charts.message_figure(t("state.error", lang)), [], "#", "#")
    spec = queries.spec(filters, analysis.WATERFALL_MEASURES)
    empty = pd.isna(row["premium"]) or not any(float(row[m] or 0) for m in analysis.WATERFALL_MEASURES)
    figure = charts.message_figure(t("state.empty", lang)) if empty else waterfall_figure(row, lang)
    return (t("contribution.waterfall", lang, segment=segment), figure, options,
            export_href("contribution", spec, lang), export_href("contribution", spec, lang, "records"))


@callback(
    Output("contribution-quadrant", "figure"),
    Output("contribution-quadrant-averages", "children"),
    Output("contribution-policy", "rowData"),
    Output("contribution-policy", "columnDefs"),
    Output("contribution-policy", "dashGridOptions"),
    Output("contribution-policy", "style"),
    Output("contribution-policy-summary", "children"),
    Output("contribution-quadrant-export-table", "href"),
    Output("contribution-quadrant-export-records", "href"),
    Output("contribution-policy-export-table", "href"),
    Input("contribution-query", "data"),
)
@memoised_view
def draw_segments(query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    try:
        s = page_slice(query)
        policy = queries.service_policy(engine(), s.filters, state.dimension, state.adoption)
        q = queries.quadrant(engine(), s.filters, state.dimension)
        rows, columns = policy_grid(policy, _channel_names(lang), lang)
    except Exception:
        log.exception("contribution segments failed")
        not_kept()
        return (charts.message_figure(t("state.error", lang)), "", [], [], no_update, no_update, "",
                "#", "#", "#")
    options, style = _policy_size(len(rows), lang)
    figure = quadrant_figure(q, lang) if len(q.members) else charts.message_figure(t("state.empty", lang))
    spec = queries.spec(s.filters, analysis.QUADRANT_MEASURES, [state.dimension], totals=True)
    averages = t("contribution.quadrant.averages", lang, contribution=numbers.compact(q.contribution_per_customer, lang),
                 cost=numbers.compact(q.cost_per_customer, lang))
    return (figure, averages, rows, columns, options, style, _policy_summary(policy, lang),
            export_href("contribution", spec, lang),
            export_href("contribution", spec, lang, "records"),
            _href("policy", queries.spec(s.filters, rows=[state.dimension]), lang, adopt=state.adoption))


def _policy_size(rows: int, lang: str) -> tuple[dict, dict]:
    """A few segments show whole; a long list (provinces, occupations) scrolls in a fixed height."""
    if rows <= POLICY_ROWS_WHOLE:
        return grid_options(lang, domLayout="autoHeight"), {"width": "100%"}
    return grid_options(lang), {"width": "100%", "height": "460px"}


def _policy_summary(policy: pd.DataFrame, lang: str) -> str:
    moving = policy[policy["target_channel"].notna()]
    if moving.empty:
        return ""
    return t("contribution.policy.summary", lang, n=len(moving), amount=numbers.compact(moving["saving"].sum(), lang),
             share=numbers.percent(moving["saving"].sum() / moving["cost"].sum()))


@callback(
    Output("contribution-tiers", "rowData"),
    Output("contribution-tiers", "columnDefs"),
    Output("contribution-tiers", "dashGridOptions"),
    Output("contribution-tiers-export-table", "href"),
    Output("contribution-tiers-export-records", "href"),
    Input("contribution-query", "data"),
)
@memoised_view
def draw_tiers(query):
    lang = normalise_language(query.get("lang"))
    try:
        s = page_slice(query)
        frame = queries.vip_tiers(engine(), s.filters)
    except Exception:
        log.exception("contribution VIP tiers failed")
        not_kept()
        return [], [], no_update, "#", "#"
    rows, columns, options = tiers_grid(frame, lang)
    spec = queries.spec(s.filters, queries.TIER_MEASURES, ["vip_tier"], totals=True)
    return rows, columns, options, export_href("contribution", spec, lang), export_href("contribution", spec, lang, "records")


@callback(
    Output("contribution-losses-count", "children"),
    Output("contribution-reasons", "figure"),
    Output("contribution-losses", "rowData"),
    Output("contribution-losses", "columnDefs"),
    Output("contribution-losses-export-table", "href"),
    Input("contribution-query", "data"),
)
@memoised_view
def draw_losses(query):
    lang = normalise_language(query.get("lang"))
    state = parse(query)
    try:
        s = page_slice(query)
        view = queries.loss_view(engine(), s.filters, state.reason, LOSS_ROWS_SHOWN)
    except Exception:
        log.exception("contribution loss-makers failed")
        not_kept()
        message = t("state.error", lang)
        return message, charts.message_figure(message), [], [], "#"
    if view.summary.empty:
        message = t("contribution.losses.empty", lang)
        return message, charts.message_figure(message), [], [], "#"
    figure = reasons_figure(view.summary, lang)
    count = t("contribution.losses.count", lang, total=numbers.integer(view.listed),
              amount=numbers.compact(view.listed_contribution, lang), shown=numbers.integer(len(view.worst)))
    rows, columns = loss_grid(view.worst, lang)
    extra = {"reason": state.reason} if state.reason else {}
    return count, figure, rows, columns, _href("losses", queries.spec(s.filters), lang, **extra)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("contribution-dim", "value"),
    Input("contribution-wdim", "value"),
    Input("contribution-wmember", "value"),
    Input("contribution-reason", "value"),
    Input("contribution-adopt", "value"),
    State("contribution-wmember", "data"),
    State("url", "search"),
    prevent_initial_call=True,
)
def navigate(dimension, waterfall_level, waterfall_member, reason, adoption, member_options, search):
    state = parse(query_of(search))
    member = waterfall_member or None
    known = {o["value"] for o in member_options or []}
    if member is None and state.waterfall_member is not None and state.waterfall_member not in known:
        member = state.waterfall_member   # the picker dropped a member it does not list: not the user's doing
    if ctx.triggered_id == "contribution-wdim" and waterfall_level != state.waterfall_level:
        member = None   # a member of the old level means nothing at the new one
    new = replace(state, dimension=dimension or state.dimension, waterfall_level=waterfall_level or None,
                  waterfall_member=member if waterfall_level else None, reason=reason or None,
                  adoption=int(adoption) if adoption else state.adoption)
    return rewritten_search(search, state, new, with_state)
