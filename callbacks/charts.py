"""Figure builders: a DataFrame from the engine in, a Plotly figure out. No queries here."""
from __future__ import annotations

import calendar

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from layouts.i18n import t

# Money on axes in the unit a reader expects: 万元 in Chinese, millions in English.
MONEY_UNIT = {"zh": (1e4, "万元"), "en": (1e6, "M CNY")}
TREND_PARTS = ("fyp", "renewal_premium", "single_premium")
SERIES_COLOURS = ("#4c6ef5", "#20c997", "#fab005", "#fa5252", "#7950f2", "#15aabf", "#82c91e", "#e64980")


def month_label(key: str, lang: str) -> str:
    """'2026-03' as 2026年3月 or Mar 2026."""
    year, month = int(key[:4]), int(key[5:7])
    return f"{year}年{month}月" if lang == "zh" else f"{calendar.month_abbr[month]} {year}"


# Every figure's look, as the default template: plotly_white with transparent backgrounds (the page's
# light or dark scheme shows through), the legend below any tick labels, CJK fonts and our series
# colours. A template is applied as a figure is built; the same settings applied to each figure
# afterwards (update_layout) were validated again every time, 3-4 ms a figure.
TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
TEMPLATE.layout.update(
    paper_bgcolor="rgba(0,0,0,0)",
    plot_bgcolor="rgba(0,0,0,0)",
    margin={"l": 10, "r": 10, "t": 16, "b": 10},
    legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
    font={"family": "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"},
    colorway=SERIES_COLOURS,
)
pio.templates["policycube"] = TEMPLATE
pio.templates.default = "policycube"


def message_figure(text: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def premium_trend(this_period: pd.DataFrame, last_period: pd.DataFrame, lang: str) -> go.Figure:
    """Stacked first-year, renewal and single premium per month, with the total of the same months a
    year earlier as a line (matched month by month)."""
    divisor, unit = MONEY_UNIT[lang]
    months = [month_label(key, lang) for key in this_period["time.month"]]
    prior = last_period.set_index("time.month")[list(TREND_PARTS)].sum(axis=1)
    prior_keys = [f"{int(key[:4]) - 1}-{key[5:7]}" for key in this_period["time.month"]]
    fig = go.Figure()
    for part in TREND_PARTS:
        fig.add_bar(x=months, y=this_period[part] / divisor, name=f"{t(f'kpi.{part}', lang)} · {t('overview.this_period', lang)}")
    fig.add_scatter(x=months, y=[prior.get(key, float("nan")) / divisor for key in prior_keys],
                    name=f"{t('kpi.written_premium', lang)} · {t('overview.last_period', lang)}",
                    mode="lines+markers", line={"dash": "dot", "color": "#868e96"})
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=unit, tickformat=",.0f")
    return fig


def share_donut(labels: pd.Series, values: pd.Series, lang: str) -> go.Figure:
    divisor, unit = MONEY_UNIT[lang]
    fig = go.Figure(go.Pie(labels=labels, values=values / divisor, hole=0.5, sort=False,
                           texttemplate="%{label}<br>%{percent}",
                           hovertemplate=f"%{{label}}: %{{value:,.0f}} {unit} (%{{percent}})<extra></extra>"))
    fig.update_layout(showlegend=False)
    return fig


def region_treemap(frame: pd.DataFrame, region: str, province: str, value: str, lang: str) -> go.Figure:
    """Region > province treemap sized by `value`; `frame` holds one row per province."""
    divisor, unit = MONEY_UNIT[lang]
    regions = frame.groupby(region, sort=False)[value].sum()
    ids = list(regions.index) + [f"{r}/{p}" for r, p in zip(frame[region], frame[province])]
    fig = go.Figure(go.Treemap(
        ids=ids,
        labels=list(regions.index) + list(frame[province]),
        parents=[""] * len(regions) + list(frame[region]),
        values=list(regions / divisor) + list(frame[value] / divisor),
        branchvalues="total",
        hovertemplate=f"%{{label}}: %{{value:,.0f}} {unit}<extra></extra>",
        textinfo="label+percent root",
    ))
    return fig


def movers_bar(labels: pd.Series, changes: pd.Series, lang: str) -> go.Figure:
    """Horizontal bars of relative change, growth in green and decline in red, biggest at the top."""
    fig = go.Figure(go.Bar(
        x=changes * 100, y=labels, orientation="h",
        marker_color=["#2f9e44" if c >= 0 else "#e03131" for c in changes],
        texttemplate="%{x:+.1f}%", textposition="auto",
        hovertemplate="%{y}: %{x:+.1f}%<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=f"{t('overview.change', lang)} (%)", zeroline=True)
    return fig


AXIS_FORMATS = {"pct": ".1%", "int": ",.0f", "money": ",.0f", "float": ",.2f"}


def measure_chart(kind: str, keys: pd.Series, labels: pd.Series, values: pd.Series, fmt: str, lang: str) -> go.Figure:
    """One measure by the members of one level; `keys` ride along as customdata for drill clicks."""
    money = fmt == "money"
    divisor, unit = MONEY_UNIT[lang] if money else (1, "")
    shown = values / divisor
    number = AXIS_FORMATS.get(fmt, ",.2f")
    if kind == "pie":
        fig = go.Figure(go.Pie(labels=labels, values=shown, customdata=keys, hole=0.4, sort=False,
                               texttemplate="%{label}<br>%{percent}",
                               hovertemplate=f"%{{label}}: %{{value:{number}}} {unit}<extra></extra>"))
        fig.update_layout(showlegend=False)
    elif kind == "line":
        fig = go.Figure(go.Scatter(x=labels, y=shown, customdata=keys, mode="lines+markers",
                                   hovertemplate=f"%{{x}}: %{{y:{number}}} {unit}<extra></extra>"))
    else:
        fig = go.Figure(go.Bar(x=labels, y=shown, customdata=keys,
                               hovertemplate=f"%{{x}}: %{{y:{number}}} {unit}<extra></extra>"))
    if kind != "pie":
        fig.update_yaxes(title=unit or None, tickformat=number)
    return fig


def compare_bars(keys: list, labels: list, series: dict, fmt: str, lang: str) -> go.Figure:
    """Two (or more) segments side by side per member; keys ride along for drill clicks."""
    divisor, unit = MONEY_UNIT[lang] if fmt == "money" else (1, "")
    number = AXIS_FORMATS.get(fmt, ",.2f")
    fig = go.Figure()
    for name, values in series.items():
        fig.add_bar(x=labels, y=[None if v is None else v / divisor for v in values], name=name, customdata=keys,
                    hovertemplate=f"{name} · %{{x}}: %{{y:{number}}} {unit}<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=unit or None, tickformat=number)
    return fig
