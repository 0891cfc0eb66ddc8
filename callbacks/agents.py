"""Agent effectiveness callbacks: league table, funnel by lead source, branch/team comparison,
productivity distribution, and one agent's detail, all from the agents cube under the global filters
and period (year to date at the as-of date unless the filters choose dates).

A branch or team chosen on the page narrows the rows through a drill path, not a filter: the
indices keep comparing with the whole filtered slice (cubes/sql.py Baseline), so an agent's index is
the same whether or not their team is singled out.
"""
from __future__ import annotations

import logging
import math
import textwrap
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update
from plotly.subplots import make_subplots

from callbacks import charts
from callbacks.downloads import export_href, register_export
from callbacks.engine import current_access, engine, shared_engine
from callbacks.filters import current_filters
from callbacks.grids import grid_block, json_rows, number_column, sort_and_filter, sort_of, sorted_columns
from callbacks.overview import Slice, page_slice
from callbacks.view_cache import memoised_view, not_kept
from cubes import agents_book
from cubes.agents_book import agent_profile, customer_book
from cubes.cube_agents import COMPARE, FUNNEL, KPIS, LEAGUE_MEASURES, TOTAL_MEASURES
from cubes.export import DECIMALS
from cubes.labels import with_unit
from cubes.rollups import page_rollups
from layouts import numbers
from layouts.agents import PLACE_KEYS
from layouts.filter_state import GLOBAL_FILTERS
from layouts.grid_sort import Sort, parse_sort, sort_text
from layouts.i18n import bad_param_notices, grid_options, join_list, normalise_language, t
from layouts.url_query import query_of, search_with

log = logging.getLogger(__name__)

CUBE = "agents"
# league-table columns (cubes/cube_agents.py LEAGUE_MEASURES): each KPI's format; some have an
# index against the company
FORMATS = {"fyp_sold": "money", "cases": "int", "avg_case_size": "money", "visits_per_day": "float",
           "minutes_per_visit": "float", "visits_per_close": "float", "days_to_close": "float",
           "conversion_cold_visit": "pct", "conversion_referral": "pct", "new_customers": "int",
           "new_share_cold_visit": "pct", "new_share_referral": "pct", "book_persistency_13": "pct"}
# what a manager compares first, next to the agent, branch and team: visible without scrolling
# sideways on a desktop; the other KPIs follow to the right
KEY_KPIS = ("fyp_sold", "cases", "conversion_cold_visit", "conversion_referral")
LEAGUE = tuple(sorted(((name, FORMATS[name], f"{name}_index" in LEAGUE_MEASURES)
                       for name in LEAGUE_MEASURES if not name.endswith("_index")), key=lambda c: c[0] not in KEY_KPIS))
LOWER_IS_BETTER = {"visits_per_close", "days_to_close"}
# the league's sortable columns: the KPIs and indices, and the agent's id, branch and team (branch
# and team by their labels, as shown), each with the level that carries it in the export's spec;
# names are not: Chinese names in code-point order mean nothing to a reader
SORT_LEVELS = {"id": "agent.agent", "branch": "agent.branch", "team": "agent.team"}
SORTABLE = tuple(SORT_LEVELS) + LEAGUE_MEASURES
KPI_FORMATS = {"headcount": "float", "activity_rate": "pct", "cases_per_agent": "float", "fyp_sold": "money",
               "conversion_cold_visit": "pct", "conversion_referral": "pct"}
HEADCOUNT_DECIMALS_BELOW = 20  # an average headcount below this shows one decimal
FUNNEL_LABEL_CHARS = 12  # a funnel stage's name wraps after this many characters (a phone's left margin)
STAR_SHARE = 0.10  # the top tenth of agents by cases are the stars
LABELLED_BUBBLES = 30
BOOK_COLUMNS = (("premium_in_force", "money"), ("persistency_13", "pct"), ("contribution", "money"))
SEARCH_LIMIT = 20  # agent picker suggestions per keystroke
OPTION_SEPARATOR = " · "  # between an agent's name and id in the picker


# --- what the URL asks for ------------------------------------------------------------------------
@dataclass(frozen=True)
class Roster:
    """Every branch, team and agent the caller may see, with labels and the branch's geography path."""

    agents: pd.DataFrame  # agent.branch, agent.team, agent.agent and their |zh |en labels
    branch_paths: dict[str, list[str]]  # branch -> [region, province, city, branch]

    def branch_label(self, branch: str, lang: str) -> str:
        rows = self.agents[self.agents["agent.branch"] == branch]
        return str(rows[f"agent.branch|{lang}"].iloc[0]) if len(rows) else branch

    def team_branch(self, team: str) -> str | None:
        rows = self.agents[self.agents["agent.team"] == team]
        return str(rows["agent.branch"].iloc[0]) if len(rows) else None

    def sole_branch(self) -> str | None:
        """The one branch a caller sees (a branch manager, an agent), if there is only one."""
        return next(iter(self.branch_paths)) if len(self.branch_paths) == 1 else None

    def within(self, branch: str | None, team: str | None) -> pd.DataFrame:
        """The agents of the team, else of the branch, else all of them."""
        level, key = ("agent.team", team) if team else ("agent.branch", branch)
        return self.agents[self.agents[level] == key] if key else self.agents


def roster() -> Roster:
    agents = engine().memoised("agents-roster", (), lambda: agents_book.roster(shared_engine(), current_access()))
    branches = agents[["geography.region", "geography.province", "geography.city", "agent.branch"]].drop_duplicates()
    paths = {row[3]: list(row) for row in branches.astype(str).itertuples(index=False)}
    return Roster(agents, paths)


@dataclass(frozen=True)
class Selection:
    """The page's branch, team, agent and league sort, checked against the roster and the league's
    columns; notices for what was ignored."""

    branch: str | None
    team: str | None
    agent: str | None
    notices: tuple[str, ...]
    sort: Sort | None = None

    def drill(self, paths: dict[str, list[str]]) -> dict | None:
        if self.team:
            return {"hierarchy": "agent", "path": [self.branch, self.team]}
        if self.branch:
            return {"hierarchy": "geography", "path": paths[self.branch]}
        return None


def place(query: dict, people: Roster, lang: str) -> tuple[str | None, str | None, list[str]]:
    """The URL's branch and team checked against the roster (a team brings its branch), and notices
    for what was ignored."""
    branch, team = query.get("branch") or None, query.get("team") or None
    notices = []
    if branch and branch not in people.branch_paths:
        notices.append(t("agents.unknown_branch", lang, value=branch))
        branch = None
    if team and (people.team_branch(team) is None or (branch and people.team_branch(team) != branch)):
        notices.append(t("agents.unknown_team", lang, value=team))
        team = None
    if team:
        branch = people.team_branch(team)
    return branch, team, notices


def league_sort(query: dict) -> tuple[Sort | None, list[tuple[str, str]]]:
    """The URL's league sort, or none and the ignored parameter when it is malformed or names no
    sortable league column."""
    try:
        sort = parse_sort(query.get("sort"))
    except ValueError:
        return None, [("sort", query["sort"])]
    if sort and sort[0] not in SORTABLE:
        return None, [("sort", query["sort"])]
    return sort, []


def selection(query: dict, people: Roster, lang: str) -> Selection:
    branch, team, notices = place(query, people, lang)
    agent = query.get("agent") or None
    if agent and agent_profile(shared_engine(), current_access(), agent) is None:
        notices.append(t("agents.detail.unknown", lang, value=agent))
    sort, invalid = league_sort(query)
    return Selection(branch, team, agent, tuple(notices + bad_param_notices(invalid, lang)), sort)


def _spec(s: Slice, sel: Selection, people: Roster, measures: list[str], rows=(), **extra) -> dict:
    spec = {"cube": CUBE, "rows": list(rows), "measures": measures, "filters": s.filters(CUBE), **extra}
    drill = sel.drill(people.branch_paths)
    return {**spec, "drill": drill} if drill else spec


def page_queries(query: dict, lang: str) -> tuple[Slice, Roster, Selection, dict[str, dict]]:
    """The slice, roster, selection and queries the URL asks for."""
    s = page_slice(current_filters(query))
    people = roster()
    sel = selection(query, people, lang)
    return s, people, sel, page_specs(s, sel, people)


def compared_branch(sel: Selection, people: Roster) -> str | None:
    """The branch whose teams the comparison chart shows: the chosen one, or the caller's only
    branch (one bubble for a branch manager's whole scope would compare nothing)."""
    return sel.branch or people.sole_branch()


def page_specs(s: Slice, sel: Selection, people: Roster) -> dict[str, dict]:
    """The query behind each part of the page. The league's agents and the selection's total row
    (the KPI cards) are `agents` and `total`, or both at once in `league` (see league_and_total);
    the company is the slice without the branch or team."""
    compare = {"cube": CUBE, "rows": ["agent.branch"], "measures": list(COMPARE), "filters": s.filters(CUBE)}
    branch = compared_branch(sel, people)
    if branch:  # the teams of the branch (the drill shows the level below the branch)
        compare["drill"] = {"hierarchy": "agent", "path": [branch]}
    agents = _spec(s, sel, people, list(LEAGUE_MEASURES), ["agent.agent"], sort=[{"by": "fyp_sold", "desc": True}])
    return {
        "agents": agents,
        "total": _spec(s, sel, people, list(TOTAL_MEASURES)),
        "league": {**agents, "measures": list(TOTAL_MEASURES), "totals": True},
        # the export's rows in the grid's order (league_export): the sort rides in the spec
        "export": {**agents, "totals": True, "rows": list(SORT_LEVELS.values()),
                   "sort": export_sort(sel.sort) + agents["sort"]},
        "funnel": _spec(s, sel, people, list(FUNNEL), ["lead_source"]),
        "compare": compare,
        "company": {"cube": CUBE, "measures": list(KPIS), "filters": s.filters(CUBE)},
    }


def export_sort(sort: Sort | None) -> list[dict]:
    """The grid's sort as the export spec's first sort item (league_export reads it back)."""
    return [{"by": SORT_LEVELS.get(sort[0], sort[0]), "desc": sort[1]}] if sort else []


def league_and_total(specs: dict[str, dict]) -> tuple[pd.DataFrame, pd.Series]:
    """The league's agents and the selection's total row: two reads of the stored answers when
    they hold both (the default period, cubes/rollups.py page_rollups), else one statement over
    the rows, where the total shares the agents' pass (a query of its own would double it)."""
    stored = {r.table for r in page_rollups()}
    scope = engine().scope_for(CUBE)
    if all(shared_engine().rollup_for(specs[part], scope) in stored for part in ("agents", "total")):
        return engine().query(specs["agents"]), engine().query(specs["total"]).iloc[0]
    league = engine().query(specs["league"])
    return league[league["_row_depth"] == 1].reset_index(drop=True), league[league["_row_depth"] == 0].iloc[0]


# --- figures --------------------------------------------------------------------------------------
def funnel_figure(frame: pd.DataFrame, lang: str) -> go.Figure:
    """One funnel per lead source, each on its own scale, with the share of prospects at each stage."""
    frame = frame[frame["lead_source"].notna()]
    fig = make_subplots(rows=1, cols=len(frame), subplot_titles=list(frame[f"lead_source|{lang}"]),
                        horizontal_spacing=0.18)
    # the stages are named once, at the left; wrapped, so a phone keeps room for the funnels
    stages = ["<br>".join(textwrap.wrap(t(f"agents.funnel.{k}", lang), FUNNEL_LABEL_CHARS)) for k in FUNNEL]
    for i, (_, row) in enumerate(frame.iterrows(), start=1):
        fig.add_trace(go.Funnel(y=stages, x=[row[k] for k in FUNNEL],
                                texttemplate="%{value:,}<br>%{percentInitial:.1%}", name=row[f"lead_source|{lang}"],
                                marker={"color": charts.SERIES_COLOURS[i - 1]}, showlegend=False,
                                # a narrow stage's number sits beside its bar, past the subplot's edge
                                # on a phone: drawn whole, not cut at the axis
                                cliponaxis=False), row=1, col=i)
        if i > 1:
            fig.update_yaxes(showticklabels=False, row=1, col=i)
    # the left margin grows to the stage names instead of cutting them
    fig.update_yaxes(automargin=True, row=1, col=1)
    # room on the right for the last funnel's side numbers; the titles below the mode bar
    fig.update_layout(margin={"l": 10, "r": 44, "t": 56, "b": 10})
    return fig


def histogram_figure(cases: pd.Series, lang: str) -> go.Figure:
    """Agents by cases sold: the inactive tail (no sale) and the stars (top tenth) coloured apart."""
    cases = cases.fillna(0).astype(int)
    threshold = max(1, int(math.ceil(cases.quantile(1 - STAR_SHARE))))
    width = max(1, int(math.ceil(cases.max() / 30)))
    bins = (cases // width) * width
    groups = (("inactive", cases == 0, "#adb5bd", t("agents.histogram.inactive", lang, n=int((cases == 0).sum()))),
              ("others", (cases > 0) & (cases < threshold), charts.SERIES_COLOURS[0], t("agents.histogram.others", lang)),
              ("stars", cases >= threshold, "#f59f00",
               t("agents.histogram.stars", lang, cases=threshold, n=int((cases >= threshold).sum()))))
    fig = go.Figure()
    for _name, mask, colour, label in groups:
        counts = bins[mask].value_counts().sort_index()
        # a bin is drawn by the group that holds its lower edge; the zero bin is only the inactive
        fig.add_bar(x=counts.index + width / 2 if width > 1 else counts.index, y=counts.values, width=width * 0.9,
                    marker_color=colour, name=label)
    fig.update_layout(barmode="overlay", bargap=0.05)
    # agents are counted whole: a few per bin (a team) would otherwise get ticks at 0.5
    fig.update_yaxes(tickformat=",d", dtick=1 if bins.value_counts().max() < 8 else None)
    fig.update_xaxes(title=t("agents.col.cases", lang))
    fig.update_yaxes(title=t("agents.histogram.agents", lang))
    return fig


def compare_figure(frame: pd.DataFrame, level: str, company: pd.Series, average: str, lang: str) -> go.Figure:
    """One bubble per branch (or team): activity rate against cases per agent, size = headcount; the
    dotted lines are the company's (`average` names what they are). A few bubbles (the teams of a
    branch) carry their names."""
    body = frame.dropna(subset=["activity_rate", "cases_per_agent"])
    size = body["headcount"].fillna(0)
    fig = go.Figure(go.Scatter(
        x=body["activity_rate"], y=body["cases_per_agent"], text=body[f"{level}|{lang}"],
        mode="markers+text" if len(body) <= LABELLED_BUBBLES else "markers", textposition="top center",
        marker={"size": size, "sizemode": "area", "sizeref": 2.0 * max(size.max(), 1) / 40 ** 2, "sizemin": 4,
                "color": charts.SERIES_COLOURS[0], "opacity": 0.6, "line": {"width": 1, "color": "#ffffff"}},
        customdata=[t("agents.kpi.headcount_value", lang, n=headcount_text(v)) for v in size],
        hovertemplate=(f"%{{text}}<br>{t('agents.kpi.activity_rate', lang)} %{{x:.1%}}<br>"
                       f"{t('agents.kpi.cases_per_agent', lang)} %{{y:.1f}}<br>"
                       f"{t('agents.kpi.headcount', lang)} %{{customdata}}<extra></extra>")))
    fig.add_vline(x=company["activity_rate"], line={"dash": "dot", "color": "#868e96"})
    fig.add_hline(y=company["cases_per_agent"], line={"dash": "dot", "color": "#868e96"})
    # what the dotted lines are, above the plot and below the mode bar: on the plot the bubbles,
    # thick at every rate, ran over it
    fig.add_annotation(text=average, xref="paper", yref="paper", x=0, y=1, xanchor="left", yanchor="bottom",
                       showarrow=False, font={"color": "#868e96", "size": 12})
    fig.update_layout(margin={"t": 64})
    fig.update_xaxes(title=t("agents.compare.x", lang), tickformat=".0%")
    fig.update_yaxes(title=t("agents.kpi.cases_per_agent", lang))
    return fig


def trend_figure(frame: pd.DataFrame, lang: str) -> go.Figure:
    """The agent's visits and closes per month as bars, first-year premium as a line on its own axis."""
    divisor, unit = numbers.money_scale(frame["fyp_sold"], lang)
    months = [charts.month_label(key, lang) for key in frame["time.month"]]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=months, y=frame["visits"], name=t("agents.detail.visits", lang))
    fig.add_bar(x=months, y=frame["closes"], name=t("agents.detail.closes", lang))
    fig.add_scatter(x=months, y=frame["fyp_sold"] / divisor, name=f"{t('agents.detail.fyp', lang)}（{unit}）"
                    if lang == "zh" else f"{t('agents.detail.fyp', lang)} ({unit})", mode="lines+markers",
                    secondary_y=True)
    fig.update_yaxes(title=unit, secondary_y=True, showgrid=False)
    return fig


# --- grids ----------------------------------------------------------------------------------------
def _index_style(lower_is_better: bool) -> dict:
    good, bad = ("params.value <= 90", "params.value >= 110") if lower_is_better else ("params.value >= 110",
                                                                                         "params.value <= 90")
    return {"styleConditions": [{"condition": f"params.value != null && {good}", "style": {"color": "#2b8a3e"}},
                                {"condition": f"params.value != null && {bad}", "style": {"color": "#c92a2a"}}]}


# the infinite row model has no rows to infer column types from, so each filter is named; the server
# applies them (callbacks/grids.py sort_and_filter)
TEXT_FILTER = {"filter": "agTextColumnFilter", "cellDataType": "text"}
NUMBER_FILTER = {"filter": "agNumberColumnFilter", "cellDataType": "number"}


# the agent, their branch and team, then the KPIs (LEAGUE's order): (field, message, width in zh, in en);
# English branch names are about twice as long
IDENTITY = (("id", "agents.col.id", 84, 84), ("branch", "agents.col.branch", 124, 200),
            ("team", "agents.col.team", 84, 100))


def _with_unit(header: str, fmt: str, lang: str) -> str:
    """A money column's header names the yuan its cells are written in (元 / CNY)."""
    return numbers.in_yuan(header, lang) if fmt == "money" else header


def league_columns(lang: str) -> list[dict]:
    """Narrow enough that the agent (pinned), branch, team and the key KPIs with their indices fit a
    1280 px desktop; the ids are never cut."""
    columns = [{"field": "name", "headerName": t("agents.col.agent", lang), "pinned": "left", "width": 90,
                "sortable": False, **TEXT_FILTER}]
    columns += [{"field": field, "headerName": t(key, lang), "width": zh if lang == "zh" else en, **TEXT_FILTER}
                for field, key, zh, en in IDENTITY]
    for name, fmt, indexed in LEAGUE:
        header = _with_unit(t(f"agents.col.{name}", lang), fmt, lang)
        width = {"money": 108, "pct": 84}.get(fmt, 78)  # 3,235,940 and 100.00% whole
        value = number_column(name, header if not indexed else t("agents.col.value", lang), fmt,
                              minWidth=width, width=width, **NUMBER_FILTER)
        if not indexed:
            columns.append({**value, "headerName": header, "headerTooltip": header})
            continue
        index = number_column(f"{name}_index", t("agents.col.index", lang), "int", minWidth=58, width=58,
                              filter=False, cellDataType="number",
                              cellStyle=_index_style(name in LOWER_IS_BETTER))
        columns.append({"headerName": header, "headerTooltip": header, "children": [value, index]})
    return columns


def league_table(body: pd.DataFrame, people: Roster, lang: str) -> pd.DataFrame:
    """One row per agent (id, name, branch, team, measures) in the engine's order (FYP first)."""
    where = people.agents.set_index("agent.agent")
    return pd.DataFrame({"id": body["agent.agent"], "name": body[f"agent.agent|{lang}"],
                         "branch": body["agent.agent"].map(where[f"agent.branch|{lang}"]),
                         "team": body["agent.agent"].map(where[f"agent.team|{lang}"]),
                         **{m: body[m] for m in LEAGUE_MEASURES}})


def league_export(spec, _args, lang: str) -> pd.DataFrame:
    """The league's CSV as the grid shows it: each agent with id, branch and team (a name alone does
    not say who: 23 names are shared by two or three agents), the KPIs and indices in the grid's
    columns, the agents in its order (the spec's first sort item, page_specs), then the selection's
    total. Whatever the URL asks, rows are agents with the league's measures; only its filters,
    drill path (the page's period, branch, team) and sort are taken. Amounts are in yuan and rates
    in percent, as the headers say."""
    league = engine().query({**spec.to_dict(), "rows": ["agent.agent"], "measures": list(LEAGUE_MEASURES),
                             "totals": True, "sort": [{"by": "fyp_sold", "desc": True}]})
    body, total = league[league["_row_depth"] == 1], league[league["_row_depth"] == 0].iloc[0]
    fields = {level: field for field, level in SORT_LEVELS.items()}
    field, desc = next(((fields.get(s.by, s.by), s.desc) for s in spec.sort if fields.get(s.by, s.by) in SORTABLE),
                       ("fyp_sold", True))
    # the grid's order: the same stable sort of the same FYP-ordered rows (league_block)
    shown = sort_and_filter(league_table(body, roster(), lang), [{"colId": field, "sort": "desc" if desc else "asc"}],
                            None)
    rows = pd.concat([shown,
                      pd.DataFrame([{"name": t("agents.selection_total", lang), **total[list(LEAGUE_MEASURES)]}])],
                     ignore_index=True)
    headers = {"name": t("agents.col.agent", lang), **{field: t(key, lang) for field, key, *_widths in IDENTITY}}
    formats = {}
    for name, fmt, indexed in LEAGUE:
        header = t(f"agents.col.{name}", lang)
        rows[name] = rows[name].astype(float).round(DECIMALS[fmt])
        headers[name] = with_unit(header, fmt, lang)
        formats[headers[name]] = fmt  # the writers put rates in percent, as the header says (cubes/export.py)
        if indexed:
            rows[f"{name}_index"] = rows[f"{name}_index"].astype(float).round(DECIMALS["float"])
            headers[f"{name}_index"] = t("agents.col.index_of", lang, name=header)
    shown = rows[list(headers)].rename(columns=headers)
    shown.attrs["formats"] = formats
    return shown


register_export(CUBE, "league", league_export)


def pinned_total(total: pd.Series, lang: str) -> list[dict]:
    """The selection's total as the grid's pinned row."""
    return json_rows(pd.DataFrame([{"name": t("agents.selection_total", lang), **total[list(LEAGUE_MEASURES)]}]))


def book_columns(lang: str) -> list[dict]:
    return [
        {"field": "link", "headerName": t("agents.book.customer", lang), "cellRenderer": "markdown", "width": 120,
         "pinned": "left"},
        {"field": "name", "headerName": t("agents.book.name", lang), "width": 110},
        {"field": "vip", "headerName": t("agents.book.vip", lang), "width": 110},
        number_column("policies", t("agents.book.policies", lang), "int", minWidth=90, width=100),
        number_column("in_force", t("agents.book.in_force", lang), "int", minWidth=90, width=100),
        *(number_column(name, _with_unit(t(f"agents.book.{name}", lang), fmt, lang), fmt, flex=1)
          for name, fmt in BOOK_COLUMNS),
    ]


def book_rows(book: pd.DataFrame, lang: str) -> list[dict]:
    rows = pd.DataFrame({
        "link": [f"[{c}](/customer?id={c}&lang={lang})" for c in book["customer_id"]],
        "name": book["name"], "vip": book[f"vip_{lang}"], "policies": book["policies"], "in_force": book["in_force"],
        **{name: book[name] for name, _fmt in BOOK_COLUMNS},
    })
    return json_rows(rows)


# --- callbacks ------------------------------------------------------------------------------------
def _kpi_text(name: str, value, lang: str) -> str:
    fmt = KPI_FORMATS[name]
    if value is None or pd.isna(value):
        return "—"
    if fmt == "pct":
        return numbers.percent(value)
    if fmt == "money":
        return numbers.compact(value, lang)
    if name == "headcount":
        return t("agents.kpi.headcount_value", lang, n=headcount_text(value))
    return numbers.decimal(value, 1)


def headcount_text(value: float) -> str:
    """An average headcount as people count: whole agents, one decimal only for a small group
    (a team's 7.4 says more than 7)."""
    return f"{value:,.1f}" if value < HEADCOUNT_DECIMALS_BELOW and value != round(value) else f"{value:,.0f}"


def _options(frame: pd.DataFrame, level: str, lang: str, current: str | None, with_key: bool = False) -> list[dict]:
    """A select's choices; the URL's value stays among them even when it is not valid, so the select
    keeps showing it (and does not clear the URL behind the notice that names it)."""
    pairs = frame[[level, f"{level}|{lang}"]].drop_duplicates().astype(str).itertuples(index=False)
    options = [{"value": key, "label": f"{label}{OPTION_SEPARATOR}{key}" if with_key else label} for key, label in pairs]
    known = {o["value"] for o in options}
    return options + ([{"value": current, "label": current}] if current and current not in known else [])


def find_agents(agents: pd.DataFrame, text: str, lang: str, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """The agents whose id starts with `text` or whose name contains it (any case), at most `limit`:
    the exact id first, then id matches, then names that start with it, each by id."""
    text = text.strip().lower()
    if not text:
        return agents.iloc[0:0]
    ids, names = agents["agent.agent"].str.lower(), agents[f"agent.agent|{lang}"].str.lower()
    by_id = ids.str.startswith(text)
    ranks = {"_exact": ids == text, "_by_id": by_id, "_name_start": names.str.startswith(text)}
    found = agents.assign(**ranks)[by_id | names.str.contains(text, regex=False)]
    order = found.sort_values([*ranks, "agent.agent"], ascending=[False] * len(ranks) + [True])
    return order.head(limit).drop(columns=list(ranks))


def average_label(people: Roster, lang: str) -> str:
    """What the comparison's dotted lines average: a caller who sees one branch (a branch manager)
    has that branch as their whole slice, so the lines are their branch's, not the company's."""
    return t("agents.compare.branch_average" if people.sole_branch() else "agents.compare.average", lang)


def _scope_note(s: Slice, lang: str) -> str:
    skipped = s.not_applicable(CUBE)
    names = join_list((t(f.label_key, lang) for f in GLOBAL_FILTERS if f.key in skipped), lang)
    return t("filter.not_applicable", lang, what=t("agents.title", lang), names=names) if skipped else ""


@callback(
    Output("agents-period", "children"),
    Output({"role": "agents-kpi", "kpi": ALL}, "children"),
    Output("agents-grid-query", "data"),
    Output("agents-grid", "columnDefs"),
    Output("agents-grid", "dashGridOptions"),
    Output("agents-export-table", "href"),
    Output("agents-export-records", "href"),
    Output("agents-funnel", "figure"),
    Output("agents-histogram", "figure"),
    Output("agents-compare", "figure"),
    Output("agents-compare-title", "children"),
    Output("agents-branch", "data"),
    Output("agents-team", "data"),
    Output("agents-agent", "data"),
    Output("agents-notice", "children"),
    Output("agents-notice", "hide"),
    Output("agents-error", "children"),
    Output("agents-error", "hide"),
    Output("agents-scope-note", "children"),
    Input("agents-query", "data"),
    State("agents-grid", "dashGridOptions"),
)
@memoised_view
def draw_agents(query, options):
    lang = normalise_language(query.get("lang"))
    kpi_names = [o["id"]["kpi"] for o in ctx.outputs_list[1]]
    try:
        s, people, sel, specs = page_queries(query, lang)
        league, total = league_and_total(specs)
        funnel = engine().query(specs["funnel"])
        compare = engine().query(specs["compare"])
        company = engine().query(specs["company"]).iloc[0] if sel.branch else total
    except Exception:  # the page says so in the reader's language; the engine's text goes to the log
        log.exception("agents query failed")
        not_kept()
        empty = charts.message_figure(t("agents.failed", lang))
        # the grid keeps its columns and asks for its rows again: the block callback answers none
        return ("", ["—"] * len(kpi_names), query, league_columns(lang),
                {**(options or {}), **grid_options(lang, pinnedBottomRowData=[])}, "#", "#", empty, empty, empty,
                "", [], [], [], "", True, t("agents.failed", lang), False, "")
    empty = charts.message_figure(t("state.empty", lang))
    level = "agent.team" if compared_branch(sel, people) else "agent.branch"
    teams = people.agents[people.agents["agent.branch"] == sel.branch] if sel.branch else people.agents.iloc[0:0]
    # only the chosen agent, so the picker shows their name; the others come from suggest_agents
    agent = people.agents[people.agents["agent.agent"] == sel.agent]
    notices = list(sel.notices)
    return (
        t("agents.period", lang, start=s.start, end=s.end),
        [_kpi_text(name, total[name], lang) for name in kpi_names],
        query,  # the grid's blocks now belong to this query
        sorted_columns(league_columns(lang), sel.sort),
        {**(options or {}), **grid_options(lang, pinnedBottomRowData=pinned_total(total, lang))},
        export_href("agents", specs["export"], lang, "league"),
        # the records behind the selection: its filters and drill path, not the league's rows (with a
        # branch or team drilled, the three agent levels would all become the level below it)
        export_href("agents", {**specs["export"], "rows": [], "sort": []}, lang, "records"),
        funnel_figure(funnel, lang) if funnel["lead_source"].notna().any() else empty,
        histogram_figure(league["cases"], lang) if len(league) else empty,
        compare_figure(compare, level, company, average_label(people, lang), lang) if len(compare) else empty,
        t("agents.compare.team" if level == "agent.team" else "agents.compare.branch", lang),
        _options(people.agents, "agent.branch", lang, query.get("branch")),
        _options(teams, "agent.team", lang, query.get("team")),
        _options(agent, "agent.agent", lang, query.get("agent"), with_key=True),
        " ".join(notices),
        not notices,
        "",
        True,
        _scope_note(s, lang),
    )


@callback(
    Output("agents-grid", "getRowsResponse"),
    Output("agents-league-count", "children"),
    Input("agents-grid", "getRowsRequest"),
    State("agents-grid-query", "data"),
    prevent_initial_call=True,
)
def league_block(request, query):
    if not request or query is None:
        # the grid asks as soon as it mounts; the page's first draw computes the league and then asks again
        return no_update, no_update
    return _league_block(request, query)


@memoised_view
def _league_block(request, query):
    """One block of the league table, sorted and filtered as the grid asks, and the count of agents
    (with the grid's filter, how many of them match). The league query is the one draw_agents ran
    (a result-cache read), so a block costs a pandas sort, filter and slice."""
    lang = normalise_language(query.get("lang"))
    try:
        _s, people, _sel, specs = page_queries(query, lang)
        rows = league_table(league_and_total(specs)[0], people, lang)
        block = grid_block(rows, request)
    except Exception:  # a bad sort or filter from the browser, or a failed query: an empty table
        log.exception("agents league block failed")
        not_kept()
        return {"rowData": [], "rowCount": 0}, ""
    total = f"{len(rows):,}"
    if request.get("filterModel"):
        return block, t("agents.league_count_filtered", lang, m=f"{block['rowCount']:,}", n=total)
    return block, t("agents.league_count", lang, n=total)


# a new query empties the grid's block cache, so it asks for the rows it shows again
clientside_callback(
    """function (query) {
        if (query) { dash_ag_grid.getApiAsync("agents-grid").then(api => api.purgeInfiniteCache()); }
    }""",
    Input("agents-grid-query", "data"),
    prevent_initial_call=True,
)


@callback(
    Output("agents-agent", "data", allow_duplicate=True),
    Input("agents-agent", "searchValue"),
    State("agents-agent", "value"),
    State("agents-agent", "data"),
    State("agents-query", "data"),
    prevent_initial_call=True,
)
def suggest_agents(text, value, data, query):
    """Up to SEARCH_LIMIT agents the caller may see (in the chosen branch or team) matching the typed
    text; the chosen one stays among the options (picking it writes its label into the box, which
    must not search again)."""
    chosen = [o for o in data or [] if o["value"] == value]
    if chosen and text == chosen[0]["label"]:
        return no_update
    if not (text or "").strip():  # nothing typed (the box reports it when it mounts): nothing to suggest
        return chosen
    lang = normalise_language((query or {}).get("lang"))
    try:
        people = roster()
        branch, team, _notices = place(query or {}, people, lang)
        # a label that reaches here before its value does is searched by its id, so the pick survives
        found = find_agents(people.within(branch, team), (text or "").split(OPTION_SEPARATOR)[-1], lang)
        options = _options(found, "agent.agent", lang, None, with_key=True)
    except Exception:  # no suggestions rather than a broken box; the page itself says what failed
        log.exception("agent search failed")
        options = []
    return options + [o for o in chosen if o not in options]


@callback(
    Output("agents-detail-title", "children"),
    Output("agents-detail-facts", "children"),
    Output("agents-detail-body", "display"),
    Output("agents-trend", "figure"),
    Output("agents-book-title", "children"),
    Output("agents-book", "rowData"),
    Output("agents-book", "columnDefs"),
    Input("agents-query", "data"),
)
def draw_detail(query):
    lang = normalise_language(query.get("lang"))
    agent = query.get("agent")
    if not agent:
        return t("agents.detail.none", lang), "", "none", no_update, "", [], []
    try:
        profile = agent_profile(shared_engine(), current_access(), agent)
        if profile is None:
            return t("agents.detail.unknown", lang, value=agent), "", "none", no_update, "", [], []
        s = page_slice(current_filters(query))
        trend = engine().query({"cube": CUBE, "rows": ["time.month"], "measures": ["visits", "closes", "fyp_sold"],
                                "filters": s.filters(CUBE) + [{"dim": "agent.agent", "op": "eq", "values": [agent]}]})
        book = customer_book(shared_engine(), current_access(), agent, s.start, s.end)
    except Exception:
        log.exception("agent detail failed")
        return t("agents.failed", lang), "", "none", no_update, "", [], []
    facts = t("agents.detail.facts", lang, branch=profile[f"branch_{lang}"], team=profile[f"team_{lang}"],
              grade=profile[f"grade_{lang}"], hired=str(profile["hire_date"])[:10])
    if not pd.isna(profile["leave_date"]):
        facts += t("agents.detail.left", lang, left=str(profile["leave_date"])[:10])
    return (
        t("agents.detail.title", lang, name=profile["name"], id=agent),
        facts,
        "block",
        trend_figure(trend, lang) if len(trend) else charts.message_figure(t("state.empty", lang)),
        t("agents.detail.book", lang, n=f"{len(book):,}"),
        book_rows(book, lang),
        book_columns(lang),
    )


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("agents-branch", "value"),
    Input("agents-team", "value"),
    Input("agents-agent", "value"),
    Input("agents-grid", "cellClicked"),
    State("url", "search"),
    prevent_initial_call=True,
)
def navigate(branch, team, agent, clicked, search):
    current = query_of(search)
    chosen = {"branch": branch, "team": team, "agent": agent}
    if ctx.triggered_id == "agents-grid":
        row = (clicked or {}).get("rowId")
        if not row or row == "__total__":
            return no_update
        chosen["agent"] = row
    elif ctx.triggered_id == "agents-branch" and branch != current.get("branch"):
        chosen["team"] = None  # a team belongs to one branch
    wanted = {key: value for key, value in chosen.items() if value}
    # controls report their values when they mount: only a real change rewrites the URL
    if wanted == {key: current[key] for key in PLACE_KEYS if current.get(key)}:
        return no_update
    return search_with(search, PLACE_KEYS, wanted)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("agents-grid", "columnState"),
    State("url", "search"),
    prevent_initial_call=True,
)
def sort_league(column_state, search):
    """A click on a league header sorts it (the server orders the blocks, league_block); the URL
    keeps that order for reload, a copied link and back."""
    sort = sort_of(column_state, SORTABLE)
    if sort is False or sort == league_sort(query_of(search))[0]:
        return no_update
    return search_with(search, ("sort",), {"sort": sort_text(sort)} if sort else {})
