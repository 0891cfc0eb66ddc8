"""Single customer view page (客户单一视图): one customer's profile, relations, contribution and
history. URL: /customer?id=<customer_id>&lang=<zh|en> (plus the global filters; their dates limit
the history). The layout is a pure function of the URL query; callbacks/customer.py fills it.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc, html

from layouts.export_links import export_pair
from layouts.graphs import graph
from layouts.i18n import grid_options, normalise_language, t

GRID_TITLES = {"premiums": "customer.payments_grid"}  # other grids: customer.<name>
GRID_NAMES = ("policies", "premiums", "claims", "underwriting", "visits")


def _card(title_key: str, lang: str, *children, **props) -> dmc.Card:
    return dmc.Card([dmc.Text(t(title_key, lang), fw=600, mb="xs"), *children], withBorder=True, padding="sm", **props)


def _grid(name: str, lang: str) -> dmc.Card:
    grid = dag.AgGrid(
        id={"role": "customer-grid", "grid": name},
        rowData=[],
        columnDefs=[],
        defaultColDef={"sortable": True, "resizable": True, "flex": 1},
        dashGridOptions=grid_options(lang, domLayout="autoHeight", pagination=True, paginationPageSize=10,
                                     paginationPageSizeSelector=[10, 20, 50, 100]),
        className="ag-theme-quartz",
        style={"width": "100%"},
    )
    export = dmc.Group(export_pair({"role": "customer-grid-export", "grid": name}, "table", lang), gap="md")
    return _card(GRID_TITLES.get(name, f"customer.{name}"), lang,
                 dmc.Text(id={"role": "customer-grid-count", "grid": name}, size="xs", c="dimmed"), grid, export)




def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    search = dmc.Select(
        id="customer-search",
        label=t("customer.search", lang),
        placeholder=t("customer.search_placeholder", lang),
        nothingFoundMessage=t("customer.search_none", lang),
        searchable=True,
        clearable=True,
        data=[],
        value=None,
        w=340,
    )
    content = html.Div(
        dmc.Stack(
            [
                dmc.SimpleGrid(
                    [
                        _card("customer.profile", lang, html.Div(id="customer-profile")),
                        dmc.Stack([
                            _card("customer.contribution", lang, graph("customer-waterfall", lang, 300)),
                            _card("customer.related", lang, html.Div(id="customer-related")),
                        ], gap="md"),
                    ],
                    cols={"base": 1, "lg": 2},
                ),
                _card("customer.whale", lang, dmc.Text(id="customer-rank", size="sm"),
                      dmc.Text(t("customer.rank_scope", lang), size="xs", c="dimmed"), graph("customer-whale", lang, 300)),
                _card("customer.gaps", lang, html.Div(id="customer-gaps")),
                _grid("policies", lang),
                _card("customer.payments", lang, graph("customer-payments-chart", lang, 320)),
                _grid("premiums", lang),
                dmc.SimpleGrid([_grid("claims", lang), _grid("underwriting", lang)], cols={"base": 1, "xl": 2}),
                _card("customer.events", lang, dmc.Text(id="customer-events-count", size="xs", c="dimmed"),
                      dmc.ScrollArea(html.Div(id="customer-events"), mah=460, type="auto")),
                _grid("visits", lang),
            ],
            gap="md",
        ),
        id="customer-content",
        style={"display": "none"},
    )
    return dmc.Stack(
        [
            dcc.Store(id="customer-query", data={**query, "lang": lang}),
            dmc.Group([dmc.Title(t("customer.title", lang), order=2), search], justify="space-between",
                      align="flex-end"),
            dmc.Alert(id="customer-notice", color="yellow", hide=True),
            dmc.Group([dmc.Text(id="customer-period", size="sm", c="dimmed"),
                       dmc.Badge(t("customer.masked", lang), id="customer-masked", color="gray", variant="light",
                                 tt="none", display="none")], gap="sm"),
            dcc.Loading(content),
        ],
        gap="sm",
    )
