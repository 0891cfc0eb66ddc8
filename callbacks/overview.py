"""Overview callback: year to date against the same months of last year, from the cube engine."""
from __future__ import annotations

import calendar
import logging

import dash_mantine_components as dmc
import pandas as pd
from dash import ALL, Input, Output, callback, ctx

from callbacks import charts
from callbacks.engine import engine
from layouts import numbers
from layouts.i18n import t
from layouts.overview import KPI_CARDS

log = logging.getLogger(__name__)

POLICY_KPIS = ("written_premium", "fyp", "renewal_premium", "ape", "loss_ratio", "in_force_policies")
RATIO_KPIS = {"persistency_13", "loss_ratio"}
COUNT_KPIS = {"customers", "in_force_policies", "vip_customers"}
MOVERS_EACH_SIDE = 5


def reporting_period() -> tuple[int, str, str]:
    """The latest year in the data, from 1 January to the end of its latest month."""
    last_month = str(engine().members("policies", "time.month")["key"].iloc[-1])
    year, month = int(last_month[:4]), int(last_month[5:7])
    return year, f"{year}-01-01", f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _between(start: str, end: str) -> list[dict]:
    return [{"dim": "time.month", "op": "between", "values": [start, end]}]


def _months_earlier(day: str, months: int, month_end: bool = False) -> str:
    index = int(day[:4]) * 12 + int(day[5:7]) - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return f"{year}-{month + 1:02d}-{last if month_end else min(int(day[8:10]), last):02d}"


def _year_earlier(day: str) -> str:
    return _months_earlier(day, 12)


def _persistency(start: str, end: str) -> tuple[float, float]:
    """13-month persistency is known only for policies issued 13 months before the period: report
    the cohort whose 13th month falls in it."""
    cohort = _between(_months_earlier(start, 13), _months_earlier(end, 13, month_end=True))
    frame = engine().query({"cube": "policies", "measures": ["persistency_13"], "filters": cohort, "compare": "yoy"})
    return frame["persistency_13"].iloc[0], frame["persistency_13__prior"].iloc[0]


def _customer_kpis(start: str, end: str) -> dict[str, float]:
    """The contribution cube's grain is the customer, so a period is a slice, not a time row."""
    when = _between(start, end)
    totals = engine().query({"cube": "contribution", "measures": ["contribution", "customers"], "filters": when})
    vip = engine().query({"cube": "contribution", "measures": ["customers"],
                          "filters": when + [{"dim": "vip_tier", "op": "in", "values": ["vip", "gold_vip"]}]})
    return {"contribution": totals["contribution"].iloc[0], "customers": totals["customers"].iloc[0],
            "vip_customers": vip["customers"].iloc[0]}


def kpi_values(start: str, end: str) -> dict[str, tuple[float, float]]:
    """Each headline KPI as (this period, same period last year)."""
    policies = engine().query({"cube": "policies", "measures": list(POLICY_KPIS), "filters": _between(start, end),
                               "compare": "yoy"})
    values = {name: (policies[name].iloc[0], policies[f"{name}__prior"].iloc[0]) for name in POLICY_KPIS}
    now, before = _customer_kpis(start, end), _customer_kpis(_year_earlier(start), _year_earlier(end))
    values.update({name: (now[name], before[name]) for name in now})
    values["persistency_13"] = _persistency(start, end)
    return values


def _format_kpi(name: str, value: float, prior: float, lang: str) -> tuple[str, dmc.Text]:
    if name in RATIO_KPIS:
        shown = numbers.percent(value)
        delta = (value - prior) * 100
        change, up = f"{delta:+.1f}{t('overview.pp', lang)}", delta >= 0
    else:
        shown = numbers.integer(value) if name in COUNT_KPIS else numbers.compact(value, lang)
        ratio = (value - prior) / abs(prior) if prior else float("nan")
        change, up = numbers.signed_percent(ratio), ratio >= 0
    good = up != (name == "loss_ratio")  # a rising loss ratio is bad news
    return shown, dmc.Text(f"{t('overview.yoy', lang)} {change}", c="teal" if good else "red", size="sm", span=True)


def _trend(year: int, end: str):
    frame = engine().query({"cube": "policies", "rows": ["time.month"], "measures": list(charts.TREND_PARTS),
                            "filters": _between(f"{year - 1}-01-01", end)})
    frame = frame.assign(year=frame["time.month"].str[:4].astype(int),
                         month_of_year=frame["time.month"].str[5:7].astype(int))
    return frame[frame["year"] == year], frame[frame["year"] == year - 1]


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
    Input("overview-lang", "data"),
)
def draw_overview(lang):
    names = [output["id"]["kpi"] for output in ctx.outputs_list[1]]
    labels = [t(f"kpi.{name}", lang) for name in names]
    try:
        year, start, end = reporting_period()
        values = kpi_values(start, end)
        cards = [_format_kpi(name, *values[name], lang) for name in names]
        this_year, last_year = _trend(year, end)
        when = _between(start, end)
        channels = engine().query({"cube": "policies", "rows": ["channel"], "measures": ["written_premium"],
                                   "filters": when})
        provinces = engine().query({"cube": "policies", "rows": ["geography.region", "geography.province"],
                                    "measures": ["written_premium"], "filters": when, "compare": "yoy"})
    except Exception as error:  # the page shows a message, never a traceback
        log.exception("overview query failed")
        empty = charts.message_figure(t("state.error", lang, detail=error))
        return ("", labels, ["—"] * len(names), [""] * len(names), empty, empty, empty, empty,
                t("state.error", lang, detail=error), False)

    movers = provinces.dropna(subset=["written_premium__change"]).sort_values("written_premium__change", ascending=False)
    if len(movers) > 2 * MOVERS_EACH_SIDE:
        movers = pd.concat([movers.head(MOVERS_EACH_SIDE), movers.tail(MOVERS_EACH_SIDE)])
    return (
        t("overview.as_of", lang, year=year, prev=year - 1) + f" ({start} — {end})",
        labels,
        [shown for shown, _change in cards],
        [change for _shown, change in cards],
        charts.premium_trend(this_year, last_year, lang),
        charts.share_donut(channels[f"channel|{lang}"], channels["written_premium"], lang),
        charts.region_treemap(provinces, f"geography.region|{lang}", f"geography.province|{lang}", "written_premium", lang),
        charts.movers_bar(movers[f"geography.province|{lang}"], movers["written_premium__change"], lang),
        "",
        True,
    )
