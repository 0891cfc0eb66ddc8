"""Explore page for product teams: one measure by one dimension, drill down its hierarchy.

A pure function of the URL: controls show the URL's choices; callbacks/explore.py draws the chart
and the table and writes every change back to the URL.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc

from cubes.catalog import cube_by_name
from layouts.cube_labels import level_label
from layouts.explore_state import CHARTS, EXPLORE_CUBE, TOP_CHOICES, dimensions, levels, measures, parse
from layouts.export_links import export_links
from layouts.graphs import graph
from layouts.i18n import grid_options, normalise_language, t


def _label(item, lang: str) -> str:
    return item.label_zh if lang == "zh" else item.label_en


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    state = parse(query)
    cube = cube_by_name(EXPLORE_CUBE)
    controls = dmc.Group(
        [
            dmc.Select(id="explore-measure", label=t("explore.measure", lang), value=state.measure, searchable=True,
                       data=[{"value": m, "label": _label(cube.measure(m), lang)} for m in measures()], w=260),
            dmc.Select(id="explore-dimension", label=t("explore.dimension", lang), value=state.dimension,
                       data=[{"value": d, "label": _label(cube.hierarchy(d), lang)} for d in dimensions()], w=200),
            dmc.SegmentedControl(id="explore-chart", value=state.chart,
                                 data=[{"value": c, "label": t(f"explore.chart.{c}", lang)} for c in CHARTS]),
            dmc.Select(id="explore-slice", label=t("explore.slice", lang), value=state.slice_level, clearable=True,
                       searchable=True, w=220, placeholder=t("explore.slice_none", lang),
                       data=[{"value": ref, "label": level_label(EXPLORE_CUBE, ref, lang)} for ref in levels()
                             if ref.split(".")[0] != state.dimension]),
            dmc.MultiSelect(id="explore-slice-members", label=t("explore.slice_members", lang),
                            value=list(state.slice_members), data=[], searchable=True, clearable=True, w=260),
            dmc.Switch(id="explore-compare", label=t("explore.compare", lang), checked=state.compare),
            dmc.Select(id="explore-top", label=t("explore.top", lang), value=str(state.top), w=120,
                       data=[{"value": str(n), "label": t("explore.all", lang) if n == 0 else str(n)}
                             for n in TOP_CHOICES]),
        ],
        align="flex-end",
        gap="md",
    )
    return dmc.Stack(
        [
            dcc.Store(id="explore-query", data={**query, "lang": lang}),
            dmc.Title(t("explore.title", lang), order=2, id="explore-title"),
            controls,
            dmc.Alert(id="explore-notice", color="yellow", hide=True),
            dmc.Breadcrumbs(id="explore-crumbs", children=[]),
            dmc.Text(t("explore.hint", lang), size="sm", c="dimmed", id="explore-hint"),
            # compare mode: each segment's total and B against A (callbacks/explore.py _compare_summary)
            dmc.Text(id="explore-compare-summary", fw=600),
            dmc.Card(dcc.Loading(graph("explore-chart-graph", lang, 420)), withBorder=True, padding="sm"),
            export_links("explore", lang),
            dag.AgGrid(
                id="explore-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"sortable": True, "resizable": True, "filter": True, "wrapHeaderText": True,
                               "autoHeaderHeight": True},
                dashGridOptions=grid_options(lang, domLayout="autoHeight"),
                className="ag-theme-quartz",
                style={"width": "100%"},
            ),
        ],
        gap="sm",
    )
