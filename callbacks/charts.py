"""Figure builders: a DataFrame from the engine in, a Plotly figure out. No queries here."""
from __future__ import annotations

import calendar

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from layouts import numbers
from layouts.i18n import t

# amounts on an axis in its unit, zeros trimmed: 0.5, 1, 1.5 亿元 rather than 0, 1, 2 or 0.50, 1.00
MONEY_TICKS = ",.2~f"
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
    margin={"l": 10, "r": 10, "t": 36, "b": 10},   # room at the top for the mode bar
    legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
    font={"family": "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"},
    colorway=SERIES_COLOURS,
)
pio.templates["policycube"] = TEMPLATE
pio.templates.default = "policycube"


# Plotly's own month ticks under the zh-CN locale read "一 2024" (its short month names are 一, 二 …):
# a date axis names days, months and years the page's way, whatever the zoom.
DATE_TICKS = {
    "zh": ((None, "M1", "%Y年%-m月%-d日"), ("M1", "M12", "%Y年%-m月"), ("M12", None, "%Y年")),
    "en": ((None, "M1", "%-d %b %Y"), ("M1", "M12", "%b %Y"), ("M12", None, "%Y")),
}


def month_format(lang: str) -> str:
    """A month as date axes write it (2026年3月 / Mar 2026), for a tooltip that names the month."""
    return DATE_TICKS["zh" if lang == "zh" else "en"][1][2]


def date_axis(fig: go.Figure, lang: str) -> go.Figure:
    """`fig`'s x axis (dates) in the page's language: 2026年3月 / Mar 2026, its tooltips to the day."""
    stops = DATE_TICKS["zh" if lang == "zh" else "en"]
    return fig.update_xaxes(tickformatstops=[{"dtickrange": [low, high], "value": fmt} for low, high, fmt in stops],
                            hoverformat=stops[0][2])


def message_figure(text: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _compared_text(value, prior, lang: str) -> list[str]:
    """An amount's tooltip lines on a page that compares: this period, a year earlier, the change."""
    return [numbers.compact(value, lang), numbers.compact(prior, lang), numbers.change(value, prior, lang)]


def _compared_hover(lang: str, title: str = "%{label}", first: int = 0) -> str:
    """Tooltip of a compared member; customdata[first:first + 3] holds `_compared_text`'s lines."""
    return (f"<b>{title}</b><br>{t('overview.this_period', lang)}: %{{customdata[{first}]}}<br>"
            f"{t('overview.last_period', lang)}: %{{customdata[{first + 1}]}}<br>"
            f"{t('overview.change', lang)}: %{{customdata[{first + 2}]}}<extra></extra>")


def premium_trend(this_period: pd.DataFrame, last_period: pd.DataFrame, lang: str) -> go.Figure:
    """Stacked first-year, renewal and single premium per month, with the total of the same months a
    year earlier as a line (matched month by month); each tooltip compares its month with last year."""
    prior = last_period.set_index("time.month")[list(TREND_PARTS)]
    prior_keys = [f"{int(key[:4]) - 1}-{key[5:7]}" for key in this_period["time.month"]]
    prior = prior.reindex(prior_keys)
    totals, prior_totals = this_period[list(TREND_PARTS)].sum(axis=1), prior.sum(axis=1, min_count=1)
    divisor, unit = numbers.money_scale([*totals, *prior_totals], lang)
    months = [month_label(key, lang) for key in this_period["time.month"]]
    fig = go.Figure()
    for part in TREND_PARTS:
        name = t(f"kpi.{part}", lang)
        fig.add_bar(x=months, y=this_period[part] / divisor, name=f"{name} · {t('overview.this_period', lang)}",
                    customdata=[_compared_text(v, p, lang) for v, p in zip(this_period[part], prior[part])],
                    hovertemplate=_compared_hover(lang, f"%{{x}} · {name}"))
    total = t("kpi.written_premium", lang)
    fig.add_scatter(x=months, y=prior_totals / divisor, name=f"{total} · {t('overview.last_period', lang)}",
                    customdata=[_compared_text(v, p, lang) for v, p in zip(totals, prior_totals)],
                    hovertemplate=_compared_hover(lang, f"%{{x}} · {total}"),
                    mode="lines+markers", line={"dash": "dot", "color": "#868e96"})
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=numbers.titled(total, unit, lang), tickformat=MONEY_TICKS)
    return fig


def share_donut(keys: pd.Series, labels: pd.Series, values: pd.Series, prior: pd.Series, filter_key: str,
                lang: str) -> go.Figure:
    """Shares of a whole; customdata is (filter key, member key, tooltip lines) so a click can
    filter the page to the member."""
    fig = go.Figure(go.Pie(
        labels=labels, values=values, hole=0.5, sort=False,
        customdata=[[filter_key, str(k), *_compared_text(v, p, lang)] for k, v, p in zip(keys, values, prior)],
        textposition="inside", texttemplate="%{label}<br>%{percent:.1%}",
        hovertemplate=_compared_hover(lang, "%{label} (%{percent:.1%})", first=2)))
    # small slices would be unreadable inside: their names stay in the legend below
    fig.update_layout(uniformtext={"minsize": 10, "mode": "hide"})
    return fig


def region_treemap(frame: pd.DataFrame, region: str, province: str, value: str, lang: str) -> go.Figure:
    """Region > province treemap sized by `value`; `frame` holds one row per province with the keys,
    the `<level>|<lang>` labels and `value__prior`. customdata is (filter key, member key, tooltip)."""
    regions = frame.groupby(region, sort=False)[[value, f"{value}__prior"]].sum(min_count=1)
    labels = frame.groupby(region, sort=False)[f"{region}|{lang}"].first()
    region_data = [["region", str(k), *_compared_text(r[value], r[f"{value}__prior"], lang)]
                   for k, r in regions.iterrows()]
    province_data = [["province", str(k), *_compared_text(v, p, lang)]
                     for k, v, p in zip(frame[province], frame[value], frame[f"{value}__prior"])]
    fig = go.Figure(go.Treemap(
        ids=[str(k) for k in regions.index] + [f"{r}/{p}" for r, p in zip(frame[region], frame[province])],
        labels=list(labels) + list(frame[f"{province}|{lang}"]),
        parents=[""] * len(regions) + [str(r) for r in frame[region]],
        values=list(regions[value]) + list(frame[value]),
        branchvalues="total", customdata=region_data + province_data,
        hovertemplate=_compared_hover(lang, "%{label} (%{percentRoot:.1%})", first=2),
        textinfo="label+percent root",
    ))
    return fig


def movers_bars(frame: pd.DataFrame, key: str, label: str, value: str, each_side: int, lang: str) -> go.Figure:
    """The members that grew fastest and those that fell most on a year earlier, as two titled groups
    one above the other (never one list): the `each_side` largest changes, then the `each_side`
    smallest of the rest, titled 增长最慢 when none of them fell. Bars in %, growth green and decline
    red; customdata (filter key, member key, tooltip lines) for the cross-filter click."""
    changes = [numbers.relative_change(v, p) for v, p in zip(frame[value], frame[f"{value}__prior"])]
    changed = frame.assign(_change=changes)
    changed = changed[changed["_change"].map(lambda c: not numbers.missing(c))]
    top = changed.nlargest(each_side, "_change")
    bottom = changed.drop(top.index).nsmallest(each_side, "_change")
    lower = "overview.decline" if (bottom["_change"] < 0).any() else "overview.slowest"
    groups = (("overview.growth", top), (lower, bottom))
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2,
                        subplot_titles=[f"<b>{t(title, lang)}</b>" for title, _part in groups])
    for row, (title, part) in enumerate(groups, start=1):
        if part.empty:
            fig.add_annotation(text=t("overview.no_movers", lang), showarrow=False, font={"color": "#868e96"},
                               xref=f"x{row} domain" if row > 1 else "x domain",
                               yref=f"y{row} domain" if row > 1 else "y domain", x=0.5, y=0.5)
            fig.update_xaxes(visible=False, row=row, col=1)
            fig.update_yaxes(visible=False, row=row, col=1)
            continue
        fig.add_bar(x=part["_change"] * 100, y=part[label], orientation="h",
                    marker_color=["#2f9e44" if c >= 0 else "#e03131" for c in part["_change"]],
                    name=t(title, lang), text=[numbers.signed_percent(c) for c in part["_change"]],
                    texttemplate="%{text}", textposition="auto",
                    customdata=[["province", str(k), *_compared_text(v, p, lang)]
                                for k, v, p in zip(part[key], part[value], part[f"{value}__prior"])],
                    hovertemplate=_compared_hover(lang, "%{y}", first=2), row=row, col=1)
        fig.update_yaxes(autorange="reversed", automargin=True, row=row, col=1)
        fig.update_xaxes(ticksuffix="%", zeroline=True, rangemode="tozero", row=row, col=1)
    # one axis title, under the lower group: above it, it would run into the lower group's title
    fig.update_xaxes(title=numbers.titled(t("overview.change", lang), "%", lang), row=2, col=1)
    fig.update_layout(showlegend=False, margin={"t": 64})   # the upper group's title below the mode bar
    return fig


# The smallest plot area labels must fit in (a 390 px phone); a wider screen only adds room.
LABEL_AREA_PX = (250, 280)
# beside the bubble first, then at its corners (a big bubble among neighbours often has a free one),
# last across a big bubble itself, clear of other names though over its neighbours' edges: the
# largest members are the ones a reader looks for by name
LABEL_POSITIONS = ("top center", "bottom center", "middle right", "middle left",
                   "top right", "top left", "bottom right", "bottom left", "middle center")
LABEL_ON_BUBBLE_PX = 14   # the least radius a name may be written across


def _text_px(label: str) -> float:
    """Width of a label at font size 11: CJK characters are about twice as wide as Latin ones."""
    return sum(11.5 if ord(ch) >= 0x2E80 else 6.5 for ch in label)


def padded_range(values: pd.Series, pad: float = 0.1) -> list[float]:
    """An axis range around `values` with room for bubbles at both ends."""
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * pad or abs(high) * pad or 1.0
    return [low - margin, high + margin]


def _inside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height


def label_places(x: pd.Series, y: pd.Series, labels: pd.Series, sizes: pd.Series, x_range: list[float],
                 y_range: list[float]) -> dict:
    """Where each point's name can go (a Plotly textposition) without running into a name already
    placed or another bubble, biggest `sizes` first, in the smallest plot the chart meets (axes fixed
    at `x_range`, `y_range`); None where it fits nowhere (the tooltip still names it). A name must
    stay inside the plot too: past its edge it was cut off on a phone. Keys are the series' index."""
    width, height = LABEL_AREA_PX
    to_px = [(values.astype(float) - low) / ((high - low) or 1.0) * size
             for values, (low, high), size in ((x, x_range, width), (y, y_range, height))]
    largest = float(sizes.max()) or 1.0
    # a bubble's diameter is 48 px at the largest size (the quadrant's sizeref), 4 px at the least
    radius = {i: max(2.0, 24 * (float(sizes[i]) / largest) ** 0.5) for i in sizes.index}
    bubbles = {i: (to_px[0][i] - r, to_px[1][i] - r, to_px[0][i] + r, to_px[1][i] + r) for i, r in radius.items()}
    placed: list[tuple[float, float, float, float]] = []
    places: dict = {}
    for i in sizes.sort_values(ascending=False, kind="stable").index:
        cx, cy = to_px[0][i], to_px[1][i]
        # 4 px spare all round the text
        w, h, r = _text_px(str(labels[i])) + 8, 22.0, 2 + radius[i]
        obstacles = placed + [box for j, box in bubbles.items() if j != i]
        boxes = {"top center": (cx - w / 2, cy + r, cx + w / 2, cy + r + h),
                 "bottom center": (cx - w / 2, cy - r - h, cx + w / 2, cy - r),
                 "middle right": (cx + r, cy - h / 2, cx + r + w, cy + h / 2),
                 "middle left": (cx - r - w, cy - h / 2, cx - r, cy + h / 2),
                 "top right": (cx + r, cy + r, cx + r + w, cy + r + h),
                 "top left": (cx - r - w, cy + r, cx - r, cy + r + h),
                 "bottom right": (cx + r, cy - r - h, cx + r + w, cy - r),
                 "bottom left": (cx - r - w, cy - r - h, cx - r, cy - r)}
        if radius[i] >= LABEL_ON_BUBBLE_PX:
            boxes["middle center"] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        places[i] = next((pos for pos in LABEL_POSITIONS if pos in boxes and _inside(boxes[pos], width, height) and not any(
            boxes[pos][0] < b[2] and b[0] < boxes[pos][2] and boxes[pos][1] < b[3] and b[1] < boxes[pos][3]
            for b in (placed if pos == "middle center" else obstacles))), None)
        if places[i]:
            placed.append(boxes[places[i]])
    return places


AXIS_FORMATS = {"pct": ".1%", "int": ",.0f", "float": ",.2f"}


def _value_text(value, fmt: str, lang: str) -> str:
    """One value as a tooltip shows it, in the page's style (numbers.py)."""
    if fmt == "money":
        return numbers.compact(value, lang)
    if fmt == "pct":
        return numbers.percent(value)
    if fmt == "int":
        return numbers.integer(value)
    return numbers.decimal(value)


def _axis(values, fmt: str, name: str, lang: str) -> tuple[float, str, str]:
    """(divisor, axis title with its unit, tick format) for one measure's values."""
    if fmt == "money":
        divisor, unit = numbers.money_scale(values, lang)
        return divisor, numbers.titled(name, unit, lang), MONEY_TICKS
    return 1.0, numbers.titled(name, "%" if fmt == "pct" else "", lang), AXIS_FORMATS.get(fmt, ",.2f")


def measure_chart(kind: str, keys: pd.Series, labels: pd.Series, values: pd.Series, fmt: str, name: str,
                  lang: str) -> go.Figure:
    """One measure (`name`, in format `fmt`) by the members of one level; `keys` ride along as
    customdata for drill clicks, the formatted value as hovertext."""
    divisor, title, number = _axis(values, fmt, name, lang)
    shown = values / divisor
    hover = [_value_text(v, fmt, lang) for v in values]
    if kind == "pie":
        fig = go.Figure(go.Pie(labels=labels, values=shown, customdata=keys, hovertext=hover, hole=0.4, sort=False,
                               texttemplate="%{label}<br>%{percent}",
                               hovertemplate=f"%{{label}}<br>{name}: %{{hovertext}} (%{{percent}})<extra></extra>"))
        fig.update_layout(showlegend=False)
        return fig
    if kind == "line":
        fig = go.Figure(go.Scatter(x=labels, y=shown, customdata=keys, hovertext=hover, mode="lines+markers",
                                   hovertemplate=f"%{{x}}<br>{name}: %{{hovertext}}<extra></extra>"))
    else:
        fig = go.Figure(go.Bar(x=labels, y=shown, customdata=keys, hovertext=hover,
                               hovertemplate=f"%{{x}}<br>{name}: %{{hovertext}}<extra></extra>"))
    fig.update_yaxes(title=title, tickformat=number)
    return fig


def compare_bars(keys: list, labels: list, series: dict, fmt: str, name: str, lang: str) -> go.Figure:
    """Two (or more) segments side by side per member; keys ride along for drill clicks."""
    divisor, title, number = _axis([v for values in series.values() for v in values], fmt, name, lang)
    fig = go.Figure()
    for segment, values in series.items():
        fig.add_bar(x=labels, y=[None if numbers.missing(v) else v / divisor for v in values], name=segment,
                    customdata=keys, hovertext=[_value_text(v, fmt, lang) for v in values],
                    hovertemplate=f"{segment} · %{{x}}<br>{name}: %{{hovertext}}<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=title, tickformat=number)
    return fig
