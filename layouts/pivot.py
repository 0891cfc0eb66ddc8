"""Pivot page: rows by columns by measures, with subtotals, heat map and the records behind a cell.

A pure function of the URL; callbacks/pivot.py fills the grid and writes changes back to the URL.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc

from cubes.catalog import cube_by_name
from layouts.cube_labels import level_label
from layouts.export_links import export_links
from layouts.i18n import grid_options, normalise_language, t
from layouts.pivot_state import MAX_LEVELS, MAX_MEASURES, PIVOT_CUBE, levels, measures, parse


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    state = parse(query)
    cube = cube_by_name(PIVOT_CUBE)
    level_options = [{"value": ref, "label": level_label(PIVOT_CUBE, ref, lang)} for ref in levels()]
    controls = dmc.Group(
        [
            dmc.MultiSelect(id="pivot-rows", label=t("pivot.rows", lang), data=level_options, value=list(state.rows),
                            maxValues=MAX_LEVELS, searchable=True, w=300),
            dmc.Button(t("pivot.swap", lang), id="pivot-swap", variant="light"),
            dmc.MultiSelect(id="pivot-cols", label=t("pivot.columns", lang), data=level_options,
                            value=list(state.columns), maxValues=MAX_LEVELS, searchable=True, w=300),
            dmc.MultiSelect(id="pivot-measures", label=t("pivot.measures", lang), value=list(state.measures),
                            data=[{"value": m, "label": cube.measure(m).label_zh if lang == "zh" else cube.measure(m).label_en}
                                  for m in measures()], maxValues=MAX_MEASURES, searchable=True, w=320),
        ],
        align="flex-end",
        gap="sm",
    )
    depth_choices = [{"value": str(d), "label": level_label(PIVOT_CUBE, ref, lang)} for d, ref in enumerate(state.rows, start=1)]
    return dmc.Stack(
        [
            dcc.Store(id="pivot-query", data={**query, "lang": lang}),
            dmc.Title(t("pivot.title", lang), order=2, id="pivot-title"),
            controls,
            dmc.Group(
                [
                    dmc.Text(t("pivot.expand", lang), size="sm"),
                    dmc.SegmentedControl(id="pivot-depth", data=depth_choices,
                                         value=str(state.shown_depth()), size="xs"),
                    dmc.Switch(id="pivot-heat", label=t("pivot.heat", lang), checked=state.heat),
                    export_links("pivot", lang),
                ],
                gap="md",
            ),
            dmc.Alert(id="pivot-notice", color="yellow", hide=True),
            dcc.Loading(dag.AgGrid(
                id="pivot-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"resizable": True, "sortable": True},
                dashGridOptions=grid_options(lang, domLayout="autoHeight"),
                className="ag-theme-quartz",
                style={"width": "100%"},
            )),
            dmc.Text(t("pivot.cell_hint", lang), size="sm", c="dimmed"),
            # the records behind a cell: shown once a cell is picked (callbacks/pivot.py show_records)
            dmc.Box([
                dmc.Group([dmc.Title(id="pivot-records-title", order=4),
                           export_links("pivot-cell", lang, kinds=("records",), id="pivot-cell-export",
                                        display="none")]),
                dag.AgGrid(
                    id="pivot-records",
                    rowData=[],
                    columnDefs=[],
                    defaultColDef={"resizable": True, "sortable": True, "filter": True},
                    dashGridOptions=grid_options(lang, pagination=True, paginationPageSize=20,
                                                 autoSizeStrategy={"type": "fitCellContents"}),
                    className="ag-theme-quartz",
                    style={"width": "100%", "height": "420px"},
                ),
            ], id="pivot-records-area", display="none"),
        ],
        gap="sm",
    )
