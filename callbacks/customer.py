"""Callbacks of the Single customer view page: search suggestions, opening a customer (the id lives
in the URL), and drawing the view. Every read goes through cubes/customer_*.py with the caller's
Access, so scope and masking hold for suggestions and the view alike."""
from __future__ import annotations

import logging
import math
from urllib.parse import urlencode

import dash_mantine_components as dmc
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, no_update

from callbacks import charts
from callbacks.downloads import export_href, register_export
from callbacks.engine import current_access, shared_engine
from callbacks.filters import current_filters
from callbacks.grids import CELL_PADDING, HEADER_MARKS, json_rows, number_column, text_width
from callbacks.view_cache import memoised_view, not_kept
from cubes.customer_contribution import Rank, contribution_rank, waterfall
from cubes.customer_gaps import Gap, history_gaps
from cubes.customer_view import CustomerRecord, Period, code_labels, customer_record, search, serving_agent
from cubes.rules import load_rules
from layouts import numbers
from layouts.customer import GRID_NAMES
from layouts.filter_state import GLOBAL_FILTERS
from layouts.i18n import join_list, normalise_language, t
from layouts.url_query import query_of, search_with

log = logging.getLogger(__name__)

OPTION_SEPARATOR = " · "
KIND_COLOURS = {"first_year": "#4c6ef5", "renewal": "#20c997", "single": "#fab005"}
MONTH_BAR_MS = 24 * 86_400_000  # a month's bar on a date axis, in milliseconds
MONTH_BAR_PAD = pd.Timedelta(days=20)  # room either side of a short history's first and last bar
MISSED_COLOUR, OUTSTANDING_COLOUR = "#e03131", "#f08c00"
RED_WHEN = "params.data[{field!r}] === {value!r}"
# Amounts on this page are one customer's, thousands of yuan rather than millions: every card, grid and
# chart shows them in 元 / CNY with separators, never cut to 万元 with two decimals, and names the unit.


# --- search --------------------------------------------------------------------------------------------
def _options(found: pd.DataFrame) -> list[dict]:
    return [{"value": cid, "label": f"{cid}{OPTION_SEPARATOR}{name}"} for cid, name in zip(found["customer_id"], found["name"])]


@callback(
    Output("customer-search", "data", allow_duplicate=True),
    Input("customer-search", "searchValue"),
    State("customer-search", "value"),
    State("customer-search", "data"),
    prevent_initial_call=True,
)
def suggest(text, value, data):
    """Up to 20 visible customers matching the typed text; the chosen one stays among the options
    (picking it writes its label into the box, which must not search again)."""
    chosen = [o for o in data or [] if o["value"] == value]
    if chosen and text == chosen[0]["label"]:
        return no_update
    typed = (text or "").split(OPTION_SEPARATOR)[0]  # before the try: a typed text that is no text is a forged request (400)
    try:
        options = _options(search(shared_engine(), current_access(), typed))
    except Exception:  # no suggestions rather than a broken box; the view itself says what failed
        log.exception("customer search failed")
        options = []
    return options + [o for o in chosen if o not in options]


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("customer-search", "value"),
    State("url", "search"),
    prevent_initial_call=True,
)
def open_customer(value, url_search):
    if not value or value == query_of(url_search).get("id"):
        return no_update
    return search_with(url_search, ("id",), {"id": value})


# --- labels and formats ----------------------------------------------------------------------------------
class CodeNames:
    """Coded values (status, channel ...) in the page's language."""

    def __init__(self, lang: str):
        self.lang, self.index = lang, 0 if lang == "zh" else 1
        self.codes = code_labels(shared_engine())

    def code(self, kind: str, value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "—"
        return self.codes.get((kind, str(value)), (str(value), str(value)))[self.index]

    def of(self, frame: pd.DataFrame, column: str, kind: str) -> pd.Series:
        return frame[column].map(lambda v: self.code(kind, v))

    def pick(self, frame: pd.DataFrame, stem: str) -> pd.Series:
        """The `<stem>_zh` or `<stem>_en` column."""
        return frame[f"{stem}_{self.lang}"]


def _day(value) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _days(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].map(lambda v: None if pd.isna(v) else _day(v)) for c in columns})


def _yuan(value) -> str:
    """A whole-yuan amount as the waterfall writes it: 36,130 / −198."""
    return numbers.decimal(value, 0)


def _amount_title(key: str, lang: str) -> str:
    return numbers.in_yuan(t(key, lang), lang)


def _text_column(field: str, header_key: str, lang: str, **extra) -> dict:
    return {"field": field, "headerName": t(header_key, lang), "minWidth": 120, **extra}


def _date_column(field: str, header_key: str, lang: str) -> dict:
    """A day, shown as text (2026-05-21) and exported as a date."""
    return _text_column(field, header_key, lang, context={"format": "date"})


def _shown(value) -> str:
    # numbers as their widest format (",.2f"); text as it is
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _fit(rows: list[dict], columns: list[dict]) -> list[dict]:
    """Every column at least as wide as its longest cell and its header, so no id, date, amount or
    product is cut to "…": columns still share out a wide screen, a phone scrolls sideways."""
    for column in columns:
        widest = max([text_width(_shown(row.get(column["field"]))) for row in rows] +
                     [text_width(column["headerName"]) + HEADER_MARKS])
        column["minWidth"] = max(column.get("minWidth", 0), math.ceil(widest + CELL_PADDING))
        if column.get("pinned"):  # a pinned column keeps its width: on a phone the rest scroll beside it
            column.update(flex=None, width=column["minWidth"])
    return columns


def _red_when(field: str, value: str) -> dict:
    return {"styleConditions": [{"condition": RED_WHEN.format(field=field, value=value),
                                 "style": {"color": MISSED_COLOUR, "fontWeight": 600}}]}


# --- grids ---------------------------------------------------------------------------------------------------
def _agent(frame: pd.DataFrame) -> list[str]:
    return [f"{name} ({aid})" if isinstance(aid, str) else "—" for aid, name in zip(frame["agent_id"], frame["agent_name"])]


def _grids(record: CustomerRecord, labels: CodeNames) -> dict[str, tuple[list, list]]:
    lang = labels.lang
    pol = _days(record.policies, "issue_date", "status_date").assign(
        product=lambda f: labels.pick(f, "product"), channel_label=labels.of(record.policies, "channel", "channel"),
        agent=_agent(record.policies), status_label=labels.of(record.policies, "status", "policy_status"),
        frequency=labels.of(record.policies, "payment_frequency", "payment_frequency"))
    policies = [
        _text_column("policy_id", "customer.col.policy_id", lang, pinned="left"), _text_column("product", "customer.col.product", lang, minWidth=200, tooltipField="product"),
        _text_column("channel_label", "customer.col.channel", lang), _text_column("agent", "customer.col.agent", lang, minWidth=170),
        _date_column("issue_date", "customer.col.issue_date", lang), _text_column("status_label", "customer.col.status", lang,
                                                                          cellStyle=_red_when("status", "lapsed")),
        _date_column("status_date", "customer.col.status_date", lang),
        number_column("sum_assured", _amount_title("customer.col.sum_assured", lang), "money"),
        number_column("annual_premium", _amount_title("customer.col.annual_premium", lang), "float"),
        number_column("single_premium", _amount_title("customer.col.single_premium", lang), "float"),
        _text_column("frequency", "customer.col.frequency", lang), number_column("premium_term_years", t("customer.col.term", lang), "int"),
    ]
    pre = _days(record.premiums, "due_date", "paid_date").assign(
        kind_label=record.premiums["kind"].map(lambda k: t(f"customer.kind.{k}", lang)),
        state_label=record.premiums["state"].map(lambda s: t(f"customer.{s}", lang)))
    premiums = [
        _text_column("policy_id", "customer.col.policy_id", lang), _date_column("due_date", "customer.col.due_date", lang),
        _date_column("paid_date", "customer.col.paid_date", lang), number_column("amount", _amount_title("customer.col.amount", lang), "float"),
        number_column("policy_year", t("customer.col.policy_year", lang), "int"), _text_column("kind_label", "customer.col.kind", lang),
        _text_column("state_label", "customer.col.state", lang, cellStyle=_red_when("state", "missed")),
    ]
    cla = _days(record.claims, "report_date", "decision_date").assign(
        decision_label=labels.of(record.claims, "decision", "claim_decision"))
    claims = [
        _text_column("claim_id", "customer.col.claim_id", lang), _text_column("policy_id", "customer.col.policy_id", lang),
        _date_column("report_date", "customer.col.report_date", lang), _date_column("decision_date", "customer.col.decision_date", lang),
        number_column("amount_claimed", _amount_title("customer.col.amount_claimed", lang), "float"),
        number_column("amount_paid", _amount_title("customer.col.amount_paid", lang), "float"),
        _text_column("decision_label", "customer.col.decision", lang, cellStyle=_red_when("decision", "declined")),
    ]
    und = _days(record.underwriting, "application_date", "decision_date").assign(
        product=lambda f: labels.pick(f, "product"), channel_label=labels.of(record.underwriting, "channel", "channel"),
        decision_label=labels.of(record.underwriting, "decision", "uw_decision"))
    underwriting = [
        _text_column("application_id", "customer.col.application_id", lang), _text_column("product", "customer.col.product", lang, minWidth=200, tooltipField="product"),
        _text_column("channel_label", "customer.col.channel", lang), _date_column("application_date", "customer.col.application_date", lang),
        _date_column("decision_date", "customer.col.decision_date", lang),
        _text_column("decision_label", "customer.col.decision", lang, cellStyle=_red_when("decision", "declined")),
        _text_column("policy_id", "customer.col.policy_id", lang),
    ]
    vis = _days(record.visits, "visit_date").assign(
        agent=_agent(record.visits), source_label=labels.of(record.visits, "lead_source", "lead_source"),
        outcome_label=labels.of(record.visits, "outcome", "visit_outcome"))
    visits = [
        _date_column("visit_date", "customer.col.visit_date", lang), _text_column("agent", "customer.col.agent", lang, minWidth=170),
        number_column("minutes", t("customer.col.minutes", lang), "int"), _text_column("source_label", "customer.col.lead_source", lang),
        _text_column("outcome_label", "customer.col.outcome", lang), _text_column("policy_id", "customer.col.policy_id", lang),
    ]
    grids = {"policies": (pol, policies), "premiums": (pre, premiums), "claims": (cla, claims),
             "underwriting": (und, underwriting), "visits": (vis, visits)}
    return {name: (rows, _fit(rows, columns)) for name, (rows, columns) in
            ((name, (json_rows(frame), columns)) for name, (frame, columns) in grids.items())}


# --- profile, relations, gaps, events --------------------------------------------------------------------
def _field(label_key: str, value, lang: str) -> dmc.Stack:
    return dmc.Stack([dmc.Text(t(label_key, lang), size="xs", c="dimmed"),
                      dmc.Text("—" if value is None or value == "" else str(value), size="sm", fw=500)], gap=0)


def _profile(record: CustomerRecord, labels: CodeNames) -> dmc.Stack:
    lang, p = labels.lang, record.profile
    agent = serving_agent(record.policies)
    sex_age = "—" if p["sex"] is None else (
        f"{labels.code('sex', p['sex'])} / {t('customer.age_years', lang, age=p['age'])}")
    tenure = "—" if pd.isna(p["first_policy_date"]) else t(
        "customer.tenure_value", lang, years=p["tenure_years"], since=_day(p["first_policy_date"]))
    vip_colour = {"gold_vip": "yellow", "vip": "grape"}.get(p["vip_tier"], "gray")
    fields = [
        ("customer.id", p["customer_id"]), ("customer.phone", p["phone"]), ("customer.id_number", p["id_number"]),
        ("customer.type", labels.code("customer_type", p["customer_type"])), ("customer.sex_age", sex_age),
        ("customer.occupation", p.get(f"occupation_{lang}")), ("customer.income", labels.code("income_band", p["income_band"])),
        ("customer.tenure", tenure), ("customer.source", labels.code("acquisition_source", p["acquisition_source"])),
        ("customer.agent", f"{agent[1]} ({agent[0]})" if agent else t("customer.agent_none", lang)),
        ("customer.branch", f"{p.get(f'branch_{lang}') or p['branch_id']} / {p.get(f'region_{lang}') or '—'}"),
    ]
    return dmc.Stack([
        dmc.Group([dmc.Title(p["name"], order=3, id="customer-name"),
                   dmc.Badge(labels.code("vip_tier", p["vip_tier"]), color=vip_colour, tt="none", id="customer-vip")],
                  gap="sm"),
        dmc.SimpleGrid([_field(key, value, lang) for key, value in fields], cols={"base": 1, "sm": 2}, spacing="sm"),
    ], gap="sm")


def _related(record: CustomerRecord, labels: CodeNames):
    lang = labels.lang
    if record.related.empty:
        return dmc.Text(t("customer.related_none", lang), size="sm", c="dimmed")
    items = [dmc.ListItem([
        dcc.Link(cid, href=f"/customer?id={cid}&lang={lang}", id={"role": "customer-related-link", "id": cid}),
        f"  {name} · {labels.code('group_role', role)}"])
        for cid, name, role in zip(record.related["customer_id"], record.related["name"], record.related["group_role"])]
    return dmc.List(items, size="sm", spacing=4)


def _gap_text(gap: Gap, lang: str) -> str:
    return t(f"customer.gap.{gap.kind}", lang, start=gap.start[:7] if gap.kind != "lapse" else gap.start, end=gap.end[:7],
             policy=gap.policy_id, count=gap.count, amount=f"{gap.amount:,.2f}")


def _gaps(gaps: list[Gap], lang: str):
    if not gaps:
        return dmc.Text(t("customer.gaps_none", lang), size="sm", c="teal")
    colour = {"missed": "red", "lapse": "orange", "no_records": "grape"}
    return dmc.List([dmc.ListItem(dmc.Text(_gap_text(g, lang), size="sm", c=colour[g.kind]),
                                  id={"role": "customer-gap", "index": i}) for i, g in enumerate(gaps)], spacing=2)


def _events(record: CustomerRecord, labels: CodeNames):
    lang = labels.lang
    if record.events.empty:
        return dmc.Text(t("customer.none", lang), size="sm", c="dimmed")
    items = []
    for e in record.events.itertuples():
        detail = [labels.code("service_channel", e.service_channel), t("customer.minutes", lang, minutes=f"{e.minutes:.0f}")]
        if isinstance(e.policy_id, str):
            detail.append(e.policy_id)
        items.append(dmc.TimelineItem(
            dmc.Text(f"{join_list(detail, lang)} · #{e.event_id}", size="xs", c="dimmed", className="customer-event-detail"),
            title=f"{_day(e.event_date)}  {labels.code('event_type', e.event_type)}",
            **({"c": "red"} if e.event_type == "complaint" else {})))
    return dmc.Timeline(items, active=len(items), bulletSize=12, lineWidth=2)


# --- charts --------------------------------------------------------------------------------------------------
def _payments_figure(premiums: pd.DataFrame, lang: str) -> go.Figure:
    """Paid premium per due month, first-year and renewal stacked; missed and outstanding instalments
    marked at their amounts."""
    if premiums.empty:
        return charts.message_figure(t("customer.none", lang))
    month = premiums["due_date"].dt.to_period("M").dt.to_timestamp()
    frame = premiums.assign(month=month)
    fig = go.Figure()
    hover = f"%{{x|{charts.month_format(lang)}}}<br>%{{fullData.name}}: %{{y:,.2f}} {t('customer.yuan', lang)}<extra></extra>"
    paid = frame[frame["state"] == "paid"]
    for kind, colour in KIND_COLOURS.items():
        part = paid[paid["kind"] == kind].groupby("month")["amount"].sum()
        if len(part):
            fig.add_bar(x=part.index, y=part.values, name=t(f"customer.kind.{kind}", lang), marker_color=colour,
                        hovertemplate=hover)
    for state, colour, symbol in (("missed", MISSED_COLOUR, "x"), ("outstanding", OUTSTANDING_COLOUR, "circle-open")):
        part = frame[frame["state"] == state].groupby("month")["amount"].sum()
        if len(part):
            fig.add_scatter(x=part.index, y=part.values, mode="markers", name=t(f"customer.{state}", lang),
                            marker={"color": colour, "symbol": symbol, "size": 12, "line": {"width": 2, "color": colour}},
                            hovertemplate=hover)
    # the legend reads first-year, renewal, then the marks (stacked bars would list them reversed)
    fig.update_layout(barmode="stack", bargap=0.15, legend={"traceorder": "normal", "orientation": "h", "y": -0.15})
    fig.update_yaxes(title=_amount_title("customer.col.amount", lang), tickformat=",.0f")
    first, last = frame["month"].min(), frame["month"].max()
    if (last - first).days >= 366:
        return charts.date_axis(fig, lang)
    # a short history is ticked and drawn month by month: left alone, plotly ticks one month by the
    # hour (the same day under several ticks) and draws its bar across the whole chart
    fig.update_traces(width=MONTH_BAR_MS, selector={"type": "bar"})
    return fig.update_xaxes(dtick="M1", tick0=first, tickformat=charts.month_format(lang),
                            range=[first - MONTH_BAR_PAD, last + MONTH_BAR_PAD])


def _waterfall_figure(parts: pd.DataFrame, lang: str) -> go.Figure:
    """Premium down to contribution, one bar a row, each row named with its amount ("佣金 -6,973"): on a
    phone seven side-by-side labels ran into each other, and amounts beside short bars into the names.
    Every amount in 元 / CNY, the unit on the axis."""
    names = [f"{t(f'customer.part.{p}', lang)}  <b>{_yuan(v)}</b>" for p, v in zip(parts["part"], parts["amount"])]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=names, x=parts["amount"], measure=["relative"] * (len(parts) - 1) + ["total"],
        hovertemplate=f"%{{y}}<br>%{{x:,.2f}} {t('customer.yuan', lang)}<extra></extra>",
        increasing={"marker": {"color": "#20c997"}}, decreasing={"marker": {"color": "#fa5252"}},
        totals={"marker": {"color": "#4c6ef5"}}, connector={"line": {"color": "#adb5bd"}}))
    fig.update_xaxes(title=_amount_title("customer.col.amount", lang), tickformat=",.0f", nticks=5, automargin=True)
    fig.update_yaxes(autorange="reversed", automargin=True)  # premium on top, contribution at the foot
    fig.update_layout(showlegend=False, margin={"r": 20})   # the template's top margin holds the mode bar
    return fig


def _whale_figure(rank: Rank, lang: str) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=rank.curve["customer_share"], y=rank.curve["contribution_share"], mode="lines",
                    name=t("customer.curve", lang), line={"color": "#4c6ef5"})
    fig.add_scatter(x=[rank.top_share], y=[rank.cumulative_share], mode="markers+text", name=t("customer.this_customer", lang),
                    text=[t("customer.this_customer", lang)], cliponaxis=False,
                    # beside the mark near either end, so the label stays inside the chart
                    textposition="middle right" if rank.top_share < 0.15 else
                    "middle left" if rank.top_share > 0.85 else "bottom center",
                    marker={"color": MISSED_COLOUR, "size": 12})
    fig.update_xaxes(title=t("customer.curve_x", lang), tickformat=".0%", range=[0, 1.02], dtick=0.1)  # to 100%
    fig.update_yaxes(title=t("customer.curve", lang), tickformat=".0%")
    fig.update_layout(showlegend=False)
    return fig


def _rank_text(rank: Rank | None, lang: str) -> str:
    if rank is None:
        return t("customer.rank_none", lang)
    return t("customer.rank", lang, rank=numbers.integer(rank.rank), customers=numbers.integer(rank.customers),
             top=numbers.percent(rank.top_share), cumulative=numbers.percent(rank.cumulative_share))


# --- the view ----------------------------------------------------------------------------------------------
def _notes(query: dict, lang: str) -> tuple[Period, str, list[str]]:
    """The period the history is limited to, the sentence saying so, and notices about filters."""
    state = current_filters(query)
    # the customer's whole history unless the URL chose a period (checked and clipped like every page's)
    period = Period(state.start, state.end) if state.dated else Period()
    if period.limited:
        text = t("customer.period", lang, start=period.start or "…", end=period.end or "…")
    else:
        text = t("customer.period_all", lang, as_of=load_rules().as_of.isoformat())
    ignored = [t(f.label_key, lang) for f in GLOBAL_FILTERS if state.chosen(f.key)]
    notices = [t("customer.filters_ignored", lang, names=join_list(ignored, lang))] if ignored else []
    return period, text, notices


@callback(
    Output("customer-notice", "children"),
    Output("customer-notice", "hide"),
    Output("customer-period", "children"),
    Output("customer-masked", "display"),
    Output("customer-search", "data"),
    Output("customer-search", "value"),
    Output("customer-search", "placeholder"),
    Output("customer-content", "style"),
    Output("customer-profile", "children"),
    Output("customer-related", "children"),
    Output("customer-waterfall", "figure"),
    Output("customer-rank", "children"),
    Output("customer-whale", "figure"),
    Output("customer-gaps", "children"),
    Output("customer-payments-chart", "figure"),
    Output("customer-events", "children"),
    Output("customer-events-count", "children"),
    Output({"role": "customer-grid", "grid": ALL}, "rowData"),
    Output({"role": "customer-grid", "grid": ALL}, "columnDefs"),
    Output({"role": "customer-grid-count", "grid": ALL}, "children"),
    Output({"role": "customer-grid-export", "grid": ALL}, "href"),
    Input("customer-query", "data"),
)
@memoised_view
def draw_customer(query):
    lang = normalise_language(query.get("lang"))
    access = current_access()
    grid_names = [o["id"]["grid"] for o in ctx.outputs_list[-4]]
    placeholder = t("customer.search_placeholder" if access.show_pii else "customer.search_placeholder_id", lang)
    masked = "none" if access.show_pii else "inline-block"
    hidden = {"display": "none"}
    empty = (hidden, [], [], {}, "", {}, [], {}, [], "", [[]] * len(grid_names), [[]] * len(grid_names),
             [""] * len(grid_names), ["#"] * len(grid_names))
    try:
        period, period_text, notices = _notes(query, lang)
        raw_id = (query.get("id") or "").strip()
        if not raw_id:
            # the search box is left alone: the user may already be typing in it
            return (t("customer.hint", lang), False, period_text, masked, no_update, no_update, placeholder, *empty)
        record = customer_record(shared_engine(), access, raw_id, period)
        if record is None:
            notices.insert(0, t("customer.unknown", lang, id=raw_id))
            return (" ".join(notices), False, period_text, masked, no_update, no_update, placeholder, *empty)
        labels = CodeNames(lang)
        rank = contribution_rank(shared_engine(), access, record.profile["customer_id"], period)
        grids = _grids(record, labels)
        counts = {name: t("customer.count", lang, n=numbers.integer(len(grids[name][0]))) for name in grid_names}
        option = {"value": record.profile["customer_id"],
                  "label": f"{record.profile['customer_id']}{OPTION_SEPARATOR}{record.profile['name']}"}
        return (
            " ".join(notices), not notices, period_text, masked, [option], option["value"], placeholder, {},
            _profile(record, labels), _related(record, labels),
            _waterfall_figure(waterfall(record.months), lang), _rank_text(rank, lang),
            _whale_figure(rank, lang) if rank else charts.message_figure(t("customer.rank_none", lang)),
            _gaps(history_gaps(record, load_rules().as_of), lang), _payments_figure(record.premiums, lang),
            _events(record, labels), t("customer.count", lang, n=numbers.integer(len(record.events))),
            [grids[n][0] for n in grid_names], [grids[n][1] for n in grid_names], [counts[n] for n in grid_names],
            [_export_href(n, query, record.profile["customer_id"], lang) for n in grid_names],
        )
    except Exception:  # the page shows a message, never a traceback
        log.exception("customer view failed")
        not_kept()
        return (t("state.error", lang), False, "", masked, no_update, no_update, placeholder, *empty)


# --- CSV exports of the history grids (through /export, so they are scoped and audited) -----------------
GRID_EXPORT_SPEC = {"cube": "contribution", "measures": ["customers"]}  # the route's required spec: unused


def _export_href(grid: str, query: dict, customer_id: str, lang: str) -> str:
    period = {key: query[key] for key in ("from", "to") if query.get(key)}
    return export_href("customer", GRID_EXPORT_SPEC, lang, grid) + "&" + urlencode({"id": customer_id, **period})


def _grid_export(grid: str):
    """The grid as the page shows it (headers and code labels in the language), for the customer in `args`."""
    def build(_spec, args, lang: str) -> pd.DataFrame:
        period, _text, _notices = _notes(dict(args), lang)
        record = customer_record(shared_engine(), current_access(), args.get("id", ""), period)
        if record is None:  # unknown or outside the caller's scope: an empty file, never another's rows
            return pd.DataFrame()
        rows, columns = _grids(record, CodeNames(lang))[grid]
        frame = pd.DataFrame(rows, columns=[column["field"] for column in columns])
        formats = {column["headerName"]: column.get("context", {}).get("format") for column in columns}
        frame = frame.rename(columns={column["field"]: column["headerName"] for column in columns})
        for name in (name for name, fmt in formats.items() if fmt == "date"):
            frame[name] = pd.to_datetime(frame[name])
        frame.attrs["formats"] = {name: fmt for name, fmt in formats.items() if fmt not in (None, "date")}
        return frame
    return build


for _grid_name in GRID_NAMES:
    register_export("customer", _grid_name, _grid_export(_grid_name))
