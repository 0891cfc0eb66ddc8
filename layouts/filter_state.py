"""The global filters as URL state: parse them from the query string, write them back, and turn
them into query-spec filters for a cube.

URL form (every key optional, lists comma-separated):
    ?from=2025-01-01&to=2025-12-31&region=east,north&channel=agency&vip=gold_vip
Pure functions of plain data: no Dash, no queries. Member validity is checked by the callback that
knows the engine; this module only rejects what is malformed.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

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

    def chosen(self, key: str) -> tuple[str, ...]:
        return dict(self.members).get(key, ())

    @property
    def active(self) -> bool:
        return bool(self.members or self.start or self.end)


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
    if start and end and start > end:
        invalid.append(("from", start))
        start = None
    return FilterState(tuple(members), start, end, tuple(invalid))



def without_members(state: FilterState, key: str, unknown: set[str]) -> FilterState:
    """The state with `unknown` members of one filter dropped (and reported as invalid)."""
    kept = tuple((k, tuple(v for v in values if not (k == key and v in unknown))) for k, values in state.members)
    dropped = tuple((key, value) for value in sorted(unknown))
    return FilterState(tuple((k, v) for k, v in kept if v), state.start, state.end, state.invalid + dropped)


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
