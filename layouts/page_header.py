"""The top of an analytical page: URL query store, title and period, notices, scope note, KPI cards.

Callbacks address its parts by the page's prefix: `<page>-query`, `<page>-period`, `<page>-notice`,
`<page>-error` and `<page>-scope-note`.
"""
from __future__ import annotations

import dash_mantine_components as dmc
from dash import dcc

from layouts.i18n import t


def page_header(page: str, query: dict, lang: str, kpi_cards: list) -> list:
    return [
        dcc.Store(id=f"{page}-query", data={**query, "lang": lang}),
        dmc.Group([
            dmc.Title(t(f"{page}.title", lang), order=2, id=f"{page}-title"),
            dmc.Text(id=f"{page}-period", c="dimmed"),
        ], justify="space-between", align="baseline"),
        dmc.Alert(id=f"{page}-notice", color="yellow", hide=True),
        dmc.Alert(id=f"{page}-error", color="red", hide=True),
        dmc.Text(id=f"{page}-scope-note", size="sm", c="dimmed"),
        dcc.Loading(dmc.SimpleGrid(kpi_cards, cols={"base": 2, "sm": 3, "lg": 6}, spacing="sm")),
    ]
