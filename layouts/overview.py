"""Overview page for executives: headline KPIs with year-over-year change, trends, mix.

The layout is a pure function of the URL query; callbacks/overview.py fills every card and chart.
"""
from __future__ import annotations

import dash_mantine_components as dmc
from dash import dcc

from layouts.export_links import export_links
from layouts.graphs import graph
from layouts.i18n import normalise_language, t

KPI_CARDS = (
    "written_premium", "fyp", "renewal_premium", "ape", "persistency_13",
    "loss_ratio", "contribution", "customers", "in_force_at_end", "vip_customers",
)


def kpi_card(name: str) -> dmc.Card:
    return dmc.Card(
        [
            dmc.Text(id={"role": "kpi-label", "kpi": name}, size="sm", c="dimmed", lineClamp=1),
            dmc.Text(id={"role": "kpi-value", "kpi": name}, fw=700, size="xl"),
            dmc.Text(id={"role": "kpi-change", "kpi": name}, size="sm"),
        ],
        withBorder=True,
        padding="sm",
        id={"role": "kpi-card", "kpi": name},
    )


def chart_card(graph_id: str, title_key: str, lang: str, height: int = 340) -> dmc.Card:
    return dmc.Card(
        [
            dmc.Text(t(title_key, lang), fw=600, mb="xs"),
            dcc.Loading(graph(graph_id, lang, height)),
            export_links(graph_id, lang, chart=True),
        ],
        withBorder=True,
        padding="sm",
    )


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    return dmc.Stack(
        [
            dcc.Store(id="overview-query", data={**query, "lang": lang}),
            dmc.Group(
                [
                    dmc.Title(t("overview.title", lang), order=2, id="overview-title"),
                    dmc.Text(id="overview-period", c="dimmed"),
                ],
                justify="space-between",
                align="baseline",
            ),
            dmc.Alert(id="overview-message", color="red", hide=True),
            dmc.Text(id="overview-scope-note", size="sm", c="dimmed"),
            dmc.Text(t("overview.click_hint", lang), size="sm", c="dimmed", id="overview-hint"),
            dcc.Loading(
                dmc.SimpleGrid([kpi_card(name) for name in KPI_CARDS], cols={"base": 2, "sm": 3, "lg": 5}, spacing="sm"),
            ),
            dmc.SimpleGrid(
                [
                    chart_card("overview-trend", "overview.trend", lang),
                    chart_card("overview-channels", "overview.channel_mix", lang),
                ],
                cols={"base": 1, "md": 2},
            ),
            dmc.SimpleGrid(
                [
                    chart_card("overview-regions", "overview.by_region", lang, height=420),
                    chart_card("overview-movers", "overview.movers", lang, height=420),
                ],
                cols={"base": 1, "md": 2},
            ),
        ],
        gap="md",
    )
