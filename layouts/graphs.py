"""The one way every page builds a chart: a dcc.Graph whose mode bar speaks the page's language.

Plotly's mode bar (zoom, pan, reset, PNG download) is in English unless a locale is registered:
assets/plotly-locale-zh-cn.js registers plotly.js's own zh-CN texts, so "下载图表为PNG格式".
"""
from __future__ import annotations

from dash import dcc

PLOTLY_LOCALES = {"zh": "zh-CN", "en": "en"}
# box and lasso selection mean nothing on these charts (a click filters or drills instead)
UNUSED_BUTTONS = ["select2d", "lasso2d", "autoScale2d"]


def graph_config(graph_id: str, lang: str) -> dict:
    """Mode bar in `lang`, no Plotly logo, the PNG named after the chart (overview-trend.png), at
    twice the screen's resolution so it prints sharp."""
    return {"locale": PLOTLY_LOCALES.get(lang, "zh-CN"), "displaylogo": False, "modeBarButtonsToRemove": UNUSED_BUTTONS,
            "toImageButtonOptions": {"format": "png", "filename": f"policycube_{graph_id}", "scale": 2}}


def graph(graph_id: str, lang: str, height: int, **style) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=graph_config(graph_id, lang), style={"height": f"{height}px", **style})
