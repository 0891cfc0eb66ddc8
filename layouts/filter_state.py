"""The global filters as URL state: parse them from the query string, write them back, and turn
them into query-spec filters for a cube.

URL form (every key optional, lists comma-separated):
    ?from=2025-01-01&to=2025-12-31&region=east,north&channel=agency&vip=gold_vip
Every page shows one period: the URL's dates, checked and clipped to the data (`with_period`), or
by default the year to date at the data's as-of date. Pure functions of plain data: no Dash, no
queries. Member validity is checked by the callback that knows the engine; this module only
rejects what is malformed.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from layouts.url_query import search_with


@dataclass(frozen=True)
class GlobalFilter:
    key: str  # the URL parameter
    level: str  # the cube level it filters
    label_key: str  # catalogue key of its name


GLOBAL_FILTERS = (
    GlobalFilter("region", "geography.region", "filter.region"),
    GlobalFilter("province", "geography.province", "filter.province"),
    GlobalFilter("channel", "channel", "filter.channel"),
    GlobalFilter("line", "product.line", "filter.line"),
    GlobalFilter("industry", "occupation.industry", "filter.industry"),
    GlobalFilter("age", "age_band", "filter.age"),
    GlobalFilter("sex", "sex", "filter.sex"),
    GlobalFilter("tenure", "tenure_band", "filter.tenure"),
    GlobalFilter("vip", "vip_tier", "filter.vip"),
)
FILTER_KEYS = tuple(f.key for f in GLOBAL_FILTERS)
DATE_KEYS = ("from", "to")
DATE_LEVEL = "time.month"
MAX_VALUES = 200  # more members than any level has: a longer list is not a real selection


@dataclass(frozen=True)
class FilterState:
    members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (key, chosen members), in GLOBAL_FILTERS order
    start: str | None = None
    end: str | None = None
    invalid: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (parameter, raw value) ignored
    dated: bool = False  # the URL chose the period (else the default period is shown)
    notes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=(), compare=False)  # period notices

    def chosen(self, key: str) -> tuple[str, ...]:
        return dict(self.members).get(key, ())

    @property
    def active(self) -> bool:
        return bool(self.members or self.dated)


def _iso_date(raw: str) -> str | None:
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def parse(query: dict[str, str]) -> FilterState:
    """The filters a URL's query parameters ask for; malformed ones are listed in `invalid`."""
    invalid: list[tuple[str, str]] = []
    members = []
    for spec in GLOBAL_FILTERS:
        raw = query.get(spec.key)
        if not raw:
            continue
        values = tuple(dict.fromkeys(v.strip() for v in str(raw).split(",") if v.strip()))
        if not values or len(values) > MAX_VALUES:
            invalid.append((spec.key, str(raw)))
            continue
        members.append((spec.key, values))
    dates = {}
    for key in DATE_KEYS:
        raw = query.get(key)
        if raw:
            dates[key] = _iso_date(str(raw))
            if dates[key] is None:
                invalid.append((key, str(raw)))
    start, end = dates.get("from"), dates.get("to")
    return FilterState(tuple(members), start, end, tuple(invalid), dated=bool(start or end))


# --- the period ------------------------------------------------------------------------------------
# The picker's quick choices, relative to the as-of date (catalogue keys period.preset.<key>).
PRESETS = ("this_month", "last_month", "this_quarter", "ytd", "last_year", "last_12_months")
DEFAULT_PRESET = "ytd"


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def preset_range(key: str, as_of: dt.date) -> tuple[str, str]:
    """The days a preset covers, ending no later than the as-of date (nothing is known after it)."""
    this_month = _month_start(as_of)
    start, end = {
        "this_month": (this_month, as_of),
        "last_month": (_month_start(as_of, 1), this_month - dt.timedelta(days=1)),
        "this_quarter": (_month_start(as_of, (as_of.month - 1) % 3), as_of),
        "ytd": (dt.date(as_of.year, 1, 1), as_of),
        "last_year": (dt.date(as_of.year - 1, 1, 1), dt.date(as_of.year - 1, 12, 31)),
        "last_12_months": (_month_start(as_of, 11), as_of),
    }[key]
    return start.isoformat(), end.isoformat()


def preset_of(start: str, end: str, as_of: dt.date) -> str | None:
    """The preset a period is, if any (the chip names it)."""
    return next((key for key in PRESETS if preset_range(key, as_of) == (start, end)), None)


def with_period(state: FilterState, as_of: dt.date, first_day: dt.date) -> FilterState:
    """The state with the period every page shows: the URL's dates clipped to the data's days
    (`first_day` .. `as_of`), or the default period when it gives none or none usable, each
    clip and refusal said in `notes` (catalogue key, values)."""
    low, high = first_day.isoformat(), as_of.isoformat()
    start, end = state.start, state.end
    if start and not end:
        end = max(start, high)  # open-ended: up to the as-of date (a later start is refused below)
    elif end and not start:
        start = min(end, max(f"{end[:4]}-01-01", low))  # open start: from the first of its year
    notes = []
    if not (start and end):
        start, end = preset_range(DEFAULT_PRESET, as_of)
    elif start > end:
        notes.append(("period.reversed", {"start": start, "end": end}))
        start, end = preset_range(DEFAULT_PRESET, as_of)
    elif end < low or start > high:
        notes.append(("period.outside", {"start": start, "end": end, "first": low, "last": high}))
        start, end = preset_range(DEFAULT_PRESET, as_of)
    else:
        if start < low:
            notes.append(("period.clipped_start", {"start": start, "first": low}))
            start = low
        if end > high:
            notes.append(("period.clipped_end", {"end": end, "last": high}))
            end = high
    if any(key in ("period.reversed", "period.outside") for key, _ in notes):
        notes.append(("period.default", dict(zip(("start", "end"), preset_range(DEFAULT_PRESET, as_of)))))
    frozen = tuple((key, tuple(values.items())) for key, values in notes)
    return replace(state, start=start, end=end, notes=frozen)



def without_members(state: FilterState, key: str, unknown: set[str]) -> FilterState:
    """The state with `unknown` members of one filter dropped (and reported as invalid)."""
    kept = tuple((k, tuple(v for v in values if not (k == key and v in unknown))) for k, values in state.members)
    dropped = tuple((key, value) for value in sorted(unknown))
    return replace(state, members=tuple((k, v) for k, v in kept if v), invalid=state.invalid + dropped)


def to_query(state: FilterState) -> dict[str, str]:
    query = {key: ",".join(values) for key, values in state.members}
    if state.start:
        query["from"] = state.start
    if state.end:
        query["to"] = state.end
    return query


def merge_search(search: str | None, state: FilterState) -> str:
    """`search` with its filter parameters replaced by `state`'s, every other parameter kept."""
    return search_with(search, FILTER_KEYS + DATE_KEYS, to_query(state))


def spec_filters(state: FilterState, cube_levels: Collection[str]) -> tuple[list[dict], list[str]]:
    """Query-spec filters for a cube with `cube_levels`, and the filter keys that cube cannot apply."""
    filters, not_applicable = [], []
    for spec in GLOBAL_FILTERS:
        values = state.chosen(spec.key)
        if not values:
            continue
        if spec.level in cube_levels:
            filters.append({"dim": spec.level, "op": "in", "values": list(values)})
        else:
            not_applicable.append(spec.key)
    return filters, not_applicable
