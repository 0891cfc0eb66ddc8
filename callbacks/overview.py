"""Overview callback: the chosen period (year to date by default) against the same months a year
earlier, under the global filters, from the cube engine."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import dash_mantine_components as dmc
from dash import ALL, Input, Output, State, callback, ctx, no_update

from callbacks import charts
from callbacks.downloads import export_href
from callbacks.engine import engine
from callbacks.filters import current_filters
from callbacks.view_cache import memoised_view, not_kept
from cubes.catalog import cube_by_name
from cubes.periods import is_month_end, months_earlier
from layouts import numbers
from layouts.filter_state import GLOBAL_FILTERS, FilterState, merge_search, parse, spec_filters
from layouts.i18n import join_list, normalise_language, t
from layouts.url_query import query_of

log = logging.getLogger(__name__)

POLICY_KPIS = ("written_premium", "fyp", "renewal_premium", "ape", "loss_ratio", "in_force_at_end")
CUSTOMER_KPIS = ("contribution", "customers", "vip_customers")
RATIO_KPIS = {"persistency_13", "loss_ratio"}
COUNT_UNITS = {"customers": "人", "in_force_at_end": "件", "vip_customers": "人"}   # written in Chinese only
MOVERS_EACH_SIDE = 5


@dataclass(frozen=True)
class Slice:
    """What the page shows: a period and the global filters, turned into spec filters per cube."""

    start: str
    end: str
    state: FilterState

    def filters(self, cube: str, start: str | None = None, end: str | None = None) -> list[dict]:
        when = [{"dim": "time.month", "op": "between", "values": [start or self.start, end or self.end]}]
        return when + spec_filters(self.state, cube_by_name(cube).level_names)[0]

    def prior(self) -> tuple[str, str]:
        """The same dates a year earlier; a period ending on a month end compares with a month end."""
        return months_earlier(self.start, 12), months_earlier(self.end, 12, month_end=is_month_end(self.end))

    def not_applicable(self, cube: str) -> list[str]:
        return spec_filters(self.state, cube_by_name(cube).level_names)[1]


def page_slice(state: FilterState) -> Slice:
    """The period current_filters settled (year to date at the as-of date unless the URL chose one)."""
    return Slice(state.start, state.end, state)


def _policy_kpis(s: Slice) -> dict[str, tuple[float, float]]:
    frame = engine().query({"cube": "policies", "measures": list(POLICY_KPIS), "filters": s.filters("policies"),
                            "compare": "yoy"})
    values = {name: (frame[name].iloc[0], frame[f"{name}__prior"].iloc[0]) for name in POLICY_KPIS}
    # 13-month persistency is known only 13 months after issue: report the cohort whose 13th month
    # falls in the period.
    cohort = s.filters("policies", months_earlier(s.start, 13), months_earlier(s.end, 13, month_end=is_month_end(s.end)))
    frame = engine().query({"cube": "policies", "measures": ["persistency_13"], "filters": cohort, "compare": "yoy"})
    values["persistency_13"] = (frame["persistency_13"].iloc[0], frame["persistency_13__prior"].iloc[0])
    return values


def _customer_kpis(s: Slice, start: str, end: str) -> dict[str, float]:
    """The contribution cube's grain is the customer, so a period is a slice, not a time row."""
    totals = engine().query({"cube": "contribution", "measures": list(CUSTOMER_KPIS),
                             "filters": s.filters("contribution", start, end)}).iloc[0]
    return {name: totals[name] for name in CUSTOMER_KPIS}


def kpi_values(s: Slice) -> dict[str, tuple[float, float]]:
    """Each headline KPI as (this period, same period a year earlier)."""
    values = _policy_kpis(s)
    now, before = _customer_kpis(s, s.start, s.end), _customer_kpis(s, *s.prior())
    values.update({name: (now[name], before[name]) for name in CUSTOMER_KPIS})
    return values


def _format_kpi(name: str, value: float, prior: float, lang: str) -> tuple[str, dmc.Text]:
    rate = name in RATIO_KPIS
    if rate:
        shown = numbers.percent(value)
    elif name in COUNT_UNITS:
        shown = numbers.integer(value, COUNT_UNITS[name], lang)
    else:
        shown = numbers.compact(value, lang)
    change = numbers.change(value, prior, lang, rate=rate)
    delta = value - prior if rate else numbers.relative_change(value, prior)
    if numbers.missing(delta):   # nothing a year earlier: said in grey, neither good nor bad
        return shown, dmc.Text(f"{t('overview.yoy', lang)} {change}", c="dimmed", size="sm", span=True)
    good = (delta >= 0) != (name == "loss_ratio")  # a rising loss ratio is bad news
    return shown, dmc.Text(f"{t('overview.yoy', lang)} {change}", c="teal" if good else "red", size="sm", span=True)


def chart_specs(s: Slice) -> dict[str, dict]:
    """The query behind each chart; the same spec feeds the chart and its CSV exports."""
    def monthly(start: str | None = None, end: str | None = None) -> dict:
        return {"cube": "policies", "rows": ["time.month"], "measures": list(charts.TREND_PARTS),
                "filters": s.filters("policies", start, end)}

    provinces = {"cube": "policies", "rows": ["geography.region", "geography.province"],
                 "measures": ["written_premium"], "filters": s.filters("policies"), "compare": "yoy"}
    return {
        "overview-trend": monthly(),
        "overview-trend-prior": monthly(*s.prior()),
        "overview-channels": {"cube": "policies", "rows": ["channel"], "measures": ["written_premium"],
                              "filters": s.filters("policies"), "compare": "yoy"},
        "overview-regions": provinces,
        "overview-movers": provinces,
    }


def _scope_note(s: Slice, lang: str) -> str:
    skipped = s.not_applicable("contribution")
    if not skipped:
        return ""
    names = join_list((t(f.label_key, lang) for f in GLOBAL_FILTERS if f.key in skipped), lang)
    what = join_list((t(f"kpi.{k}", lang) for k in CUSTOMER_KPIS), lang)
    return t("filter.not_applicable", lang, what=what, names=names)


@callback(
    Output("overview-period", "children"),
    Output({"role": "kpi-label", "kpi": ALL}, "children"),
    Output({"role": "kpi-value", "kpi": ALL}, "children"),
    Output({"role": "kpi-change", "kpi": ALL}, "children"),
    Output("overview-trend", "figure"),
    Output("overview-channels", "figure"),
    Output("overview-regions", "figure"),
    Output("overview-movers", "figure"),
    Output("overview-message", "children"),
    Output("overview-message", "hide"),
    Output("overview-scope-note", "children"),
    Output({"role": "chart-export", "chart": ALL, "kind": ALL}, "href"),
    Input("overview-query", "data"),
)
@memoised_view
def draw_overview(query):
    lang = normalise_language(query.get("lang"))
    names = [output["id"]["kpi"] for output in ctx.outputs_list[1]]
    labels = [t(f"kpi.{name}", lang) for name in names]
    try:
        s = page_slice(current_filters(query))
        values = kpi_values(s)
        specs = chart_specs(s)
        this_period, last_period = engine().query(specs["overview-trend"]), engine().query(specs["overview-trend-prior"])
        channels = engine().query(specs["overview-channels"])
        provinces = engine().query(specs["overview-regions"])
    except Exception:  # the page shows a message, never a traceback
        log.exception("overview query failed")
        not_kept()
        empty = charts.message_figure(t("state.error", lang))
        return ("", labels, ["—"] * len(names), [""] * len(names), empty, empty, empty, empty,
                t("state.error", lang), False, "", ["#"] * len(ctx.outputs_list[-1]))

    cards = [_format_kpi(name, *values[name], lang) for name in names]
    empty = charts.message_figure(t("state.empty", lang))
    return (
        t("overview.period", lang, start=s.start, end=s.end),
        labels,
        [shown for shown, _change in cards],
        [change for _shown, change in cards],
        charts.premium_trend(this_period, last_period, lang) if len(this_period) else empty,
        charts.share_donut(channels["channel"], channels[f"channel|{lang}"], channels["written_premium"],
                           channels["written_premium__prior"], "channel", lang) if len(channels) else empty,
        charts.region_treemap(provinces, "geography.region", "geography.province", "written_premium", lang)
        if len(provinces) else empty,
        charts.movers_bars(provinces, "geography.province", f"geography.province|{lang}", "written_premium",
                           MOVERS_EACH_SIDE, lang) if len(provinces) else empty,
        "",
        True,
        _scope_note(s, lang),
        [export_href("overview", specs[o["id"]["chart"]], lang, o["id"]["kind"]) for o in ctx.outputs_list[-1]],
    )


CROSS_FILTER_CHARTS = ("overview-channels", "overview-regions", "overview-movers")


def filtered_to(state: FilterState, key: str, member: str) -> FilterState:
    """`state` with global filter `key` set to the one `member`, every other filter kept."""
    chosen = {**dict(state.members), key: (member,)}
    return replace(state, members=tuple((f.key, chosen[f.key]) for f in GLOBAL_FILTERS if f.key in chosen))


@callback(
    Output("url", "search", allow_duplicate=True),
    *[Input(graph, "clickData") for graph in CROSS_FILTER_CHARTS],
    State("url", "search"),
    prevent_initial_call=True,
)
def cross_filter(*clicks_and_search):
    """A click on a channel, region or province filters the page to it (a global filter in the URL,
    so the filter bar shows it and Back returns). The charts put (filter key, member key) first in
    each point's customdata."""
    *_clicks, search = clicks_and_search
    points = (ctx.triggered[0]["value"] or {}).get("points") or [{}]
    data = points[0].get("customdata")
    keys = {f.key for f in GLOBAL_FILTERS}
    if not isinstance(data, list) or len(data) < 2 or data[0] not in keys:
        return no_update
    state = parse(query_of(search))
    new = filtered_to(state, data[0], str(data[1]))
    return no_update if new == state else merge_search(search, new)
