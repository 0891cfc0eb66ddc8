"""Agent effectiveness page (营销员效能). The layout is a pure function of the URL query.

URL state besides the global filters: `branch` and `team` narrow the league table (the company the
indices compare with stays the whole filtered slice), `agent` opens the agent detail, `sort`
(`fyp_sold:desc`) orders the league as a click on its header did.
callbacks/agents.py fills every card, chart and grid and writes control changes back to the URL.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc

from cubes.cube_agents import KPIS
from layouts.export_links import export_links
from layouts.graphs import graph
from layouts.i18n import grid_options, normalise_language, t
from layouts.page_header import page_header

# who the page shows: this page's own URL parameters besides the league's `sort` (layouts/grid_sort.py),
# which its own callback writes and a change of branch or team keeps
PLACE_KEYS = ("branch", "team", "agent")
LEAGUE_BLOCK = 100  # rows per request of the league table (about 60 KB)
# rows short enough, and the grid tall enough, that a desktop shows 20 agents and the total row
LEAGUE_ROW_HEIGHT = 34
LEAGUE_HEIGHT = "840px"
COLUMN_DEFAULTS = {"sortable": True, "resizable": True, "filter": True, "wrapHeaderText": True, "autoHeaderHeight": True}


def _kpi_card(name: str, lang: str) -> dmc.Card:
    return dmc.Card([
        dmc.Text(t(f"agents.kpi.{name}", lang), size="sm", c="dimmed", lineClamp=2),
        dmc.Text("—", id={"role": "agents-kpi", "kpi": name}, fw=700, size="xl"),
    ], withBorder=True, padding="sm")


def _chart_card(graph_id: str, title: str, lang: str, height: int, *extra) -> dmc.Card:
    return dmc.Card([
        dmc.Text(title, fw=600, mb="xs", id=f"{graph_id}-title"),
        dcc.Loading(graph(graph_id, lang, height)),
        *extra,
    ], withBorder=True, padding="sm")


def _controls(query: dict, lang: str) -> dmc.Group:
    # options come from the callbacks (they depend on the warehouse and the filters); the values
    # from the URL, so a copied link shows the same selection
    def select(key: str, label: str, placeholder: str, width: int, nothing: str = "—") -> dmc.Select:
        value = query.get(key) or None
        return dmc.Select(id=f"agents-{key}", label=label, placeholder=placeholder, value=value,
                          data=[{"value": value, "label": value}] if value else [], searchable=True, clearable=True,
                          w=width, limit=200,
                          nothingFoundMessage=nothing)

    return dmc.Group([
        select("branch", t("agents.branch", lang), t("agents.all_branches", lang), 260),
        select("team", t("agents.team", lang), t("agents.all_teams", lang), 220),
        # the agent's options are the server's suggestions for the typed text (callbacks/agents.py
        # suggest_agents): no debounce, which would drop a picked suggestion
        select("agent", t("agents.agent", lang), t("agents.pick_agent", lang), 260, t("agents.search_none", lang)),
    ], align="flex-end", gap="md")


def _detail(lang: str) -> dmc.Card:
    return dmc.Card([
        dmc.Text(t("agents.detail.none", lang), id="agents-detail-title", fw=600),
        dmc.Text(id="agents-detail-facts", size="sm", c="dimmed"),
        dmc.Box([
            dmc.Text(t("agents.detail.trend", lang), fw=600, mt="sm"),
            dcc.Loading(graph("agents-trend", lang, 300)),
            dmc.Text(id="agents-book-title", fw=600, mt="sm", mb="xs"),
            dag.AgGrid(id="agents-book", rowData=[], columnDefs=[],
                       defaultColDef=COLUMN_DEFAULTS,
                       dashGridOptions=grid_options(lang, pagination=True, paginationPageSize=20,
                                                    paginationPageSizeSelector=False),
                       className="ag-theme-quartz", style={"width": "100%", "height": "420px"}),
        ], id="agents-detail-body", display="none"),
    ], withBorder=True, padding="sm", id="agents-detail")


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    return dmc.Stack([
        *page_header("agents", query, lang, [_kpi_card(name, lang) for name in KPIS]),
        _controls(query, lang),
        dmc.Card([
            dmc.Group([
                dmc.Text(t("agents.league", lang), fw=600),
                dmc.Text(id="agents-league-count", size="sm", c="dimmed"),
            ], justify="space-between"),
            dmc.Text(t("agents.league_hint", lang), size="sm", c="dimmed", mb="xs"),
            # the infinite row model: the browser holds only the blocks it shows; the server sorts and
            # filters (callbacks/agents.py league_block). The store names the query the blocks belong to.
            dcc.Store(id="agents-grid-query"),
            dcc.Loading(dag.AgGrid(
                id="agents-grid", rowModelType="infinite", columnDefs=[],
                defaultColDef=COLUMN_DEFAULTS,
                dashGridOptions=grid_options(lang, rowSelection={"mode": "singleRow", "checkboxes": False,
                                                                 "enableClickSelection": True},
                                             cacheBlockSize=LEAGUE_BLOCK, rowHeight=LEAGUE_ROW_HEIGHT),
                getRowId="params.data.id || '__total__'", className="ag-theme-quartz",
                # half AG Grid's cell padding: the key columns' numbers fit whole on a desktop
                style={"width": "100%", "height": LEAGUE_HEIGHT, "--ag-cell-horizontal-padding": "8px"},
            )),
            export_links("agents", lang),
        ], withBorder=True, padding="sm"),
        _detail(lang),
        dmc.SimpleGrid([
            _chart_card("agents-funnel", t("agents.funnel", lang), lang, 340),
            _chart_card("agents-histogram", t("agents.histogram", lang), lang, 340),
        ], cols={"base": 1, "md": 2}),
        _chart_card("agents-compare", "", lang, 420),
    ], gap="md")
