"""Global filter callbacks: the URL holds the filters; these keep the bar, the drawer and the URL in step.

`current_filters(query)` is what every page calls to learn the filters it must apply: the URL's
filters with malformed values and members unknown to the warehouse dropped, and the period every
page shows (the URL's dates clipped to the data, or the year to date at the as-of date).
"""
from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc
from dash import ALL, Input, Output, State, callback, ctx, no_update

from callbacks.engine import engine, shared_engine
from callbacks.view_cache import memoised_view
from cubes.catalog import cube_by_name
from cubes.rules import load_rules
from layouts.filter_bar import DAY_FORMATS, day_text
from layouts.filter_state import (
    DATE_KEYS, GLOBAL_FILTERS, PRESETS, FilterState, merge_search, parse, preset_of, preset_range, spec_filters,
    with_period, without_members,
)
from layouts.i18n import bad_param_notices, join_list, normalise_language, t
from layouts.url_query import query_of

FILTER_CUBE = "policies"  # has every globally filtered level; its members are the valid choices


def _members(level: str):
    """The members the caller may see."""
    return engine().members(FILTER_CUBE, level)


def data_days() -> tuple[dt.date, dt.date]:
    """The first day of the data (its earliest month with any event) and its as-of date."""
    months = shared_engine().members(FILTER_CUBE, "time.month")["key"].astype(str)
    as_of = load_rules().as_of
    first = dt.date.fromisoformat(f"{months.min()}-01") if len(months) else as_of.replace(month=1, day=1)
    return min(first, as_of), as_of


def current_filters(query: dict) -> FilterState:
    """Members the warehouse does not know are dropped with a notice. Members outside the caller's
    access stay: the row scope then leaves nothing to show, and `outside_access` says why. The
    period is always set (see layouts/filter_state.with_period); `dated` says whether the URL chose it."""
    state = parse(query)
    for spec in GLOBAL_FILTERS:
        chosen = state.chosen(spec.key)
        if chosen:
            known = set(shared_engine().members(FILTER_CUBE, spec.level)["key"].astype(str))
            unknown = set(chosen) - known
            if unknown:
                state = without_members(state, spec.key, unknown)
    first, as_of = data_days()
    return with_period(state, as_of, first)


def outside_access(state: FilterState) -> list[tuple[str, tuple[str, ...]]]:
    """(filter key, members) of the chosen members the caller's row scope excludes."""
    outside = []
    for spec in GLOBAL_FILTERS:
        chosen = state.chosen(spec.key)
        if chosen:
            visible = set(_members(spec.level)["key"].astype(str))
            hidden = tuple(value for value in chosen if value not in visible)
            if hidden:
                outside.append((spec.key, hidden))
    return outside


def cube_filters(cube: str, state: FilterState) -> list[dict]:
    """The global filters a cube can apply, plus the date range, as query-spec filters."""
    filters = spec_filters(state, cube_by_name(cube).level_names)[0]
    if state.start or state.end:
        filters.append({"dim": "time.month", "op": "between", "values": [state.start, state.end]})
    return filters


def _member_labels(level: str, lang: str) -> dict[str, str]:
    members = _members(level)
    return dict(zip(members["key"].astype(str), members[f"label_{lang}"]))


def _member_name(level: str, value: str, labels: dict[str, str], lang: str) -> str:
    # Global filters are business categories (regions, channels, bands), not people: their names may be
    # given even outside the caller's scope, which ScopedEngine.member_label would not do.
    return labels.get(value) or shared_engine().member_label(FILTER_CUBE, level, value, lang)


def _preset_name(state: FilterState, lang: str) -> str:
    """（今年以来） when the period is a preset, else nothing."""
    preset = preset_of(state.start, state.end, load_rules().as_of)
    return t("period.chip_preset", lang, name=t(f"period.preset.{preset}", lang)) if preset else ""


def period_text(state: FilterState, lang: str) -> str:
    """期间：2026-01-01 — 2026-10-31（今年以来）: the period a page shows, naming its preset if it is one."""
    return t("period.chip", lang, start=state.start, end=state.end, preset=_preset_name(state, lang))


def _chips(state: FilterState, lang: str) -> list:
    chips = []
    for spec in GLOBAL_FILTERS:
        chosen = state.chosen(spec.key)
        if chosen:
            labels = _member_labels(spec.level, lang)
            names = join_list((_member_name(spec.level, value, labels, lang) for value in chosen), lang)
            chips.append(dmc.Badge(f"{t(spec.label_key, lang)}: {names}", variant="light", tt="none",
                                   id={"role": "filter-chip", "key": spec.key}))
    return chips or [dmc.Text(t("filter.none", lang), size="sm", c="dimmed")]


def _picker(state: FilterState, lang: str) -> tuple:
    """The date picker's locale settings, month caption, presets, bounds, the month it opens on (the
    as-of month), the active period in its field and the format of a picked one, in the page's
    language. The field holds no value: Mantine would open the calendar on a value's first month
    (January, for the year to date), so the period is its placeholder (drawn as a value, theme.css),
    and a picked range replaces it."""
    first, as_of = data_days()
    settings = {"locale": "zh_cn" if lang == "zh" else "en", "firstDayOfWeek": 1}
    presets = [{"value": list(preset_range(key, as_of)), "label": t(f"period.preset.{key}", lang)} for key in PRESETS]
    caption = "YYYY年M月" if lang == "zh" else "MMMM YYYY"
    return (settings, caption, presets, first.isoformat(), as_of.isoformat(), as_of.replace(day=1).isoformat(),
            f"{day_text(state.start, lang)} – {day_text(state.end, lang)}{_preset_name(state, lang)}",
            DAY_FORMATS[lang])


@callback(
    Output({"role": "filter-select", "key": ALL}, "data"),
    Output({"role": "filter-select", "key": ALL}, "value"),
    Output({"role": "filter-select", "key": ALL}, "label"),
    Output("filter-dates", "value"),
    Output("filter-dates", "label"),
    Output("filter-dates-provider", "settings"),
    Output("filter-dates", "monthLabelFormat"),
    Output("filter-dates", "presets"),
    Output("filter-dates", "minDate"),
    Output("filter-dates", "maxDate"),
    Output("filter-dates", "defaultDate"),
    Output("filter-dates", "placeholder"),
    Output("filter-dates", "valueFormat"),
    Output("filter-chips", "children"),
    Output("filter-clear", "display"),
    Output("filter-notice", "children"),
    Output("filter-notice", "hide"),
    Output("filter-open", "children"),
    Output("filter-apply", "children"),
    Output("filter-clear", "children"),
    Output("filter-drawer", "title"),
    Input("shell-query", "data"),  # the URL's filters and language only: a drill leaves the bar alone
)
@memoised_view
def show_filters(shared):
    query = query_of(shared)
    lang = normalise_language(query.get("lang"))
    state = current_filters(query)
    keys = [output["id"]["key"] for output in ctx.outputs_list[0]]
    levels = {spec.key: spec for spec in GLOBAL_FILTERS}
    options = [[{"value": k, "label": v} for k, v in _member_labels(levels[key].level, lang).items()] for key in keys]
    period_notes = [t(key, lang, **dict(values)) for key, values in state.notes]
    notice = " ".join(bad_param_notices(state.invalid, lang) + period_notes + [
        t("filter.outside_access", lang, name=t(levels[key].label_key, lang), values=join_list(
            (_member_name(levels[key].level, value, {}, lang) for value in values), lang))
        for key, values in outside_access(state)])
    count = len(state.members) + state.dated
    return (
        options,
        [list(state.chosen(key)) for key in keys],
        [t(levels[key].label_key, lang) for key in keys],
        [],
        t("filter.dates", lang),
        *_picker(state, lang),
        _chips(state, lang),
        "inline-block" if state.active else "none",
        notice,
        not notice,
        f"{t('filter.open', lang)} ({count})" if count else t("filter.open", lang),
        t("filter.apply", lang),
        t("filter.clear", lang),
        t("filter.title", lang),
    )


# pages whose view is not limited by the default period: without a chosen range they show everything
WHOLE_HISTORY_PAGES = ("/customer",)


@callback(
    Output("filter-period-chip", "children"),
    Input("shell-query", "data"),
    Input("url", "pathname"),
)
def show_period(shared, pathname):
    """The chip names the period the page shows: the single customer view shows a customer's whole
    history until a range is chosen, and says so instead of the default period it does not apply."""
    query = query_of(shared)
    lang = normalise_language(query.get("lang"))
    state = current_filters(query)
    if pathname in WHOLE_HISTORY_PAGES and not state.dated:
        return t("period.chip_all", lang, as_of=load_rules().as_of.isoformat())
    return period_text(state, lang)


@callback(
    Output("url", "search", allow_duplicate=True),
    Output("filter-drawer", "opened"),
    Input("filter-open", "n_clicks"),
    Input("filter-apply", "n_clicks"),
    Input("filter-clear", "n_clicks"),
    State({"role": "filter-select", "key": ALL}, "value"),
    State("filter-dates", "value"),
    State("url", "search"),
    prevent_initial_call=True,
)
def change_filters(_open, _apply, _clear, selected, dates, search):
    if ctx.triggered_id == "filter-open":
        return no_update, True
    if ctx.triggered_id == "filter-clear":
        return merge_search(search, FilterState()), False
    keys = [state["id"]["key"] for state in ctx.states_list[0]]
    query = {key: ",".join(values) for key, values in zip(keys, selected) if values}
    if dates and len(dates) == 2 and all(dates):
        query.update({"from": str(dates[0])[:10], "to": str(dates[1])[:10]})
    else:  # no range picked: the period stays the URL's
        query.update({key: value for key, value in query_of(search).items() if key in DATE_KEYS})
    return merge_search(search, parse(query)), False
