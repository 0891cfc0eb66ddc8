"""The administrator's page: the audit log with filters, and the users with their roles and scopes.

Only administrators get the page; anyone else gets a refusal (callbacks/admin.py checks again)."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc
from flask_login import current_user

from data.audit import ACTIONS
from layouts.i18n import grid_options, normalise_language, t

# when, who and what first: on a 390 px phone those three columns fill the screen, the rest scrolls
AUDIT_COLUMNS = ("at", "actor", "action", "detail", "target", "rows", "address")
USER_COLUMNS = ("username", "display_name", "role", "scope", "state")
# long sentences (an export's filters, a scope) wrap onto more lines rather than hide behind a scroll
WRAPPED = {"wrapText": True, "autoHeight": True, "cellStyle": {"lineHeight": "1.5", "paddingTop": "6px",
                                                                 "paddingBottom": "6px"}}
# a phone's first three columns: narrow enough to fit side by side (340 px of the 343 a phone leaves, with
# theme.css's smaller padding), wide enough for a day (2026-12-05), a user name or a role on one
# line, wrapping a time's hour or a long name below instead of cutting it; on a desktop they grow
# with their flex share
NARROW = {"minWidth": 110, **WRAPPED}


def is_admin() -> bool:
    return bool(current_user and current_user.is_authenticated and current_user.role == "admin")


def _grid(grid_id: str, columns, lang: str, **extra) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        rowData=[],
        columnDefs=[{"field": c, "headerName": t(f"admin.col.{c}", lang), **extra.get(c, {})} for c in columns],
        # columns share the width; headers wrap rather than cut on a narrow column
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "flex": 1, "minWidth": 140,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions=grid_options(lang, pagination=True, paginationPageSize=20, domLayout="autoHeight",
                                     tooltipShowDelay=300),
        className="ag-theme-quartz",
        style={"width": "100%"},
    )


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    if not is_admin():
        return dmc.Alert(t("admin.only", lang), id="admin-refused", color="red")
    actions = [a for a in (query.get("action") or "").split(",") if a in ACTIONS]
    return dmc.Stack(
        [
            dcc.Store(id="admin-lang", data=lang),
            dmc.Title(t("admin.title", lang), order=2, id="admin-title"),
            dmc.Text(t("admin.manage_hint", lang), size="sm", c="dimmed"),
            dmc.Title(t("admin.audit", lang), order=4),
            dmc.Group(
                [
                    dmc.TextInput(id="admin-actor", label=t("admin.filter_actor", lang), value=query.get("actor", ""),
                                  debounce=400, w=200, maw="100%"),
                    dmc.MultiSelect(id="admin-action", label=t("admin.filter_action", lang), value=actions,
                                    data=[{"value": a, "label": t(f"action.{a}", lang)} for a in ACTIONS],
                                    clearable=True, w=300, maw="100%"),
                    dmc.DatePickerInput(id="admin-dates", type="range", label=t("admin.filter_dates", lang),
                                        valueFormat="YYYY-MM-DD", clearable=True, value=[], w=260, maw="100%"),
                ],
                align="flex-end",
            ),
            dmc.Text(id="admin-shown", size="sm", c="dimmed"),
            _grid("admin-audit-grid", AUDIT_COLUMNS, lang, detail={"flex": 4, "minWidth": 240, **WRAPPED},
                  at={**NARROW, "minWidth": 120, "flex": 1.6}, actor=NARROW, action={**NARROW, "minWidth": 100}, target={"flex": 1.5, **WRAPPED},
                  rows={"type": "rightAligned", "filter": "agNumberColumnFilter", "valueFormatter":
                        {"function": "params.value == null ? '' : d3.format(',')(params.value)"}}),
            dmc.Title(t("admin.users", lang), order=4),
            _grid("admin-users-grid", USER_COLUMNS, lang, scope={"flex": 3, "minWidth": 240, **WRAPPED},
                  username={**NARROW, "minWidth": 115}, display_name={**NARROW, "minWidth": 95},
                  role={**NARROW, "minWidth": 130},
                  state={"minWidth": 160, **WRAPPED}),
        ],
        gap="sm",
    )
