"""Contribution & cost to serve page (贡献度与服务成本): whale curve, waterfall, segment quadrant,
VIP tiers, loss-making customers and service policy by segment.

The layout is a pure function of the URL query; callbacks/contribution.py fills it. The page's own
URL state (checked against the cube definition only; members are checked by the callbacks):

    /contribution?dim=geography.province&wdim=vip_tier&wmember=vip&reason=high_claims&adopt=50

`dim` segments the quadrant and the service policy, `wdim`/`wmember` pick the waterfall's segment
(none = the whole company), `reason` filters the loss-making list, `adopt` is the assumed share (%) of
routine service events that move to the cheaper channel.
"""
from __future__ import annotations

from dataclasses import dataclass

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc

from cubes.catalog import cube_by_name
from cubes.contribution_analysis import ADOPTION_CHOICES, DEFAULT_ADOPTION, REASONS
from cubes.model import level_ref
from layouts.cube_labels import level_label
from layouts.export_links import export_links
from layouts.graphs import graph
from layouts.i18n import grid_options, normalise_language, t
from layouts.page_header import page_header
from layouts.url_query import search_with

CUBE = "contribution"
PAGE_KEYS = ("dim", "wdim", "wmember", "reason", "adopt")
DEFAULT_DIMENSION = "geography.province"
KPIS = ("contribution", "customers", "top20", "top30", "loss_customers", "giveback")


def segment_levels() -> list[str]:
    cube = cube_by_name(CUBE)
    return [level_ref(h, lv) for h in cube.hierarchies if not h.filter_only for lv in h.levels]


@dataclass(frozen=True)
class ContributionState:
    dimension: str = DEFAULT_DIMENSION
    waterfall_level: str | None = None
    waterfall_member: str | None = None
    reason: str | None = None
    adoption: int = DEFAULT_ADOPTION
    invalid: tuple[tuple[str, str], ...] = ()


def parse(query: dict[str, str]) -> ContributionState:
    invalid = []
    levels = segment_levels()

    def choose(key, valid, default):
        raw = query.get(key)
        if raw is None or raw == "" or raw in valid:
            return default if raw in (None, "") else raw
        invalid.append((key, raw))
        return default

    dimension = choose("dim", levels, DEFAULT_DIMENSION)
    waterfall_level = choose("wdim", levels, None)
    member = query.get("wmember") or None
    if member is not None and waterfall_level is None:
        invalid.append(("wmember", member))
        member = None
    reason = choose("reason", REASONS, None)
    adoption = int(choose("adopt", [str(a) for a in ADOPTION_CHOICES], str(DEFAULT_ADOPTION)))
    return ContributionState(dimension, waterfall_level, member if waterfall_level else None, reason, adoption,
                             tuple(invalid))


def with_state(search: str | None, state: ContributionState) -> str:
    """`search` with the page's parameters replaced by `state`'s; defaults are left out of the URL."""
    params = {}
    for key, value, default in (("dim", state.dimension, DEFAULT_DIMENSION),
                                ("wdim", state.waterfall_level or "", ""),
                                ("wmember", state.waterfall_member or "", ""),
                                ("reason", state.reason or "", ""),
                                ("adopt", str(state.adoption), str(DEFAULT_ADOPTION))):
        if value != default:
            params[key] = value
    return search_with(search, PAGE_KEYS, params)


# --- building blocks -------------------------------------------------------------------------------
def _kpi_card(name: str, lang: str) -> dmc.Card:
    return dmc.Card([
        dmc.Text(t(f"contribution.kpi.{name}", lang), size="sm", c="dimmed", lineClamp=1),
        dmc.Text("—", id=f"contribution-kpi-{name}", fw=700, size="xl"),
        dmc.Text("", id=f"contribution-kpi-{name}-note", size="sm", c="dimmed"),
    ], withBorder=True, padding="sm")


def _graph(graph_id: str, lang: str, height: int) -> dcc.Loading:
    return dcc.Loading(graph(graph_id, lang, height))


def _card(children: list, **style) -> dmc.Card:
    return dmc.Card(children, withBorder=True, padding="sm", **style)


def _table_link(prefix: str, lang: str) -> dmc.Group:
    """Only the table export: these views are computed per customer, the table already lists them."""
    return export_links(prefix, lang, kinds=("table",))


def _grid(grid_id: str, lang: str, **options) -> dag.AgGrid:
    """A sortable grid as tall as its rows (the policy grid's callback may give it a fixed height)."""
    return dag.AgGrid(id=grid_id, rowData=[], columnDefs=[],
                      # no column menu (these grids have no filter): its button took a header's room
                      defaultColDef={"sortable": True, "resizable": True, "wrapHeaderText": True,
                                     "autoHeaderHeight": True, "suppressHeaderMenuButton": True},
                      dashGridOptions=grid_options(lang, domLayout="autoHeight", **options),
                      className="ag-theme-quartz", style={"width": "100%"})


def _level_options(lang: str) -> list[dict]:
    return [{"value": ref, "label": level_label(CUBE, ref, lang)} for ref in segment_levels()]


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    state = parse(query)
    waterfall_controls = dmc.Group([
        dmc.Select(id="contribution-wdim", label=t("contribution.segment_dim", lang), value=state.waterfall_level,
                   data=_level_options(lang), clearable=True, placeholder=t("contribution.segment_none", lang),
                   w=200),
        dmc.Select(id="contribution-wmember", label=t("contribution.segment_member", lang),
                   value=state.waterfall_member, data=[], searchable=True, clearable=True, w=180,
                   disabled=state.waterfall_level is None),
    ], gap="sm", align="flex-end")
    return dmc.Stack([
        *page_header("contribution", query, lang, [_kpi_card(name, lang) for name in KPIS]),
        dmc.SimpleGrid([
            _card([dmc.Text(t("contribution.whale", lang), fw=600, mb="xs"), _graph("contribution-whale", lang, 420),
                   export_links("contribution-whale", lang)]),
            _card([dmc.Text(id="contribution-waterfall-title", fw=600, mb="xs"), waterfall_controls,
                   _graph("contribution-waterfall", lang, 350), export_links("contribution-waterfall", lang)]),
        ], cols={"base": 1, "md": 2}),
        _card([
            dmc.Group([
                dmc.Text(t("contribution.quadrant", lang), fw=600),
                dmc.Select(id="contribution-dim", label=t("contribution.quadrant_dim", lang), value=state.dimension,
                           data=_level_options(lang), w=260),
            ], justify="space-between", align="flex-end"),
            dmc.Text(t("contribution.quadrant.hint", lang), size="sm", c="dimmed"),
            dmc.Text(id="contribution-quadrant-averages", size="sm"),
            _graph("contribution-quadrant", lang, 460),
            export_links("contribution-quadrant", lang),
        ]),
        _card([
            dmc.Text(t("contribution.policy", lang), fw=600),
            dmc.Group([
                dmc.Text(t("contribution.adoption", lang), size="sm"),
                dmc.SegmentedControl(id="contribution-adopt", value=str(state.adoption), size="xs",
                                     data=[{"value": str(a), "label": f"{a}%"} for a in ADOPTION_CHOICES]),
            ], gap="sm"),
            dmc.Text(t("contribution.policy.note", lang), size="xs", c="dimmed"),
            dmc.Text(id="contribution-policy-summary", size="sm"),
            dcc.Loading(_grid("contribution-policy", lang)),
            _table_link("contribution-policy", lang),
        ]),
        _card([
            dmc.Text(t("contribution.tiers", lang), fw=600, mb="xs"),
            dcc.Loading(_grid("contribution-tiers", lang)),
            export_links("contribution-tiers", lang),
        ]),
        _card([
            dmc.Text(t("contribution.losses", lang), fw=600),
            dmc.Text(id="contribution-losses-count", size="sm"),
            dmc.Text(t("contribution.losses.rule", lang), size="xs", c="dimmed"),
            dmc.SimpleGrid([
                _graph("contribution-reasons", lang, 260),
                dmc.Stack([
                    dmc.Select(id="contribution-reason", label=t("contribution.reason_filter", lang),
                               value=state.reason, clearable=True, placeholder=t("contribution.reason.all", lang),
                               data=[{"value": r, "label": t(f"contribution.reason.{r}", lang)} for r in REASONS],
                               w=240),
                ]),
            ], cols={"base": 1, "md": 2}),
            dcc.Loading(_grid("contribution-losses", lang, pagination=True, paginationPageSize=20)),
            _table_link("contribution-losses", lang),
        ]),
    ], gap="md")
