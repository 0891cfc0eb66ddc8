"""QuerySpec: what to ask a cube, as plain, frozen, JSON-serialisable data.

`QuerySpec.from_dict(d)` validates the dict against the cube definition and returns the spec in
canonical form (full level names, filters in a fixed order, IN values sorted), so equal questions
have equal `cache_key()`s however they were written. `to_dict()` gives back a dict that round-trips.

    {"cube": "policies",
     "rows": ["geography.region"], "columns": ["channel"],
     "measures": ["written_premium", "loss_ratio"],
     "filters": [{"dim": "time.year", "op": "in", "values": [2025, 2026]}],
     "drill": {"hierarchy": "geography", "path": ["east"]},
     "sort": [{"by": "written_premium", "desc": true}],
     "top": {"n": 10, "by": "written_premium", "others": true},
     "totals": true, "compare": "yoy"}

Filter ops: eq (one value), in, not_in (a list), range ([low, high], either may be null, inclusive),
between ([first_date, last_date] ISO dates, on any time level: filters the event date).
compare: yoy (same period a year earlier), prev (previous period of the finest time level),
ytd (measures cumulated from the start of the year), or null.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cubes.catalog import cube_by_name
from cubes.model import Cube, SpecError, level_ref

FILTER_OPS = ("eq", "in", "not_in", "range", "between")
COMPARE_MODES = ("yoy", "prev", "ytd")
TOP_LIMIT = 1_000_000  # more than any level has members; keeps N within the warehouse's 64-bit integers
SPEC_KEYS = ("cube", "rows", "columns", "measures", "filters", "drill", "sort", "top", "totals", "compare")


@dataclass(frozen=True)
class Filter:
    dim: str
    op: str
    values: tuple


@dataclass(frozen=True)
class Drill:
    hierarchy: str
    path: tuple


@dataclass(frozen=True)
class Sort:
    by: str
    desc: bool = True


@dataclass(frozen=True)
class Top:
    n: int
    by: str
    others: bool = True


@dataclass(frozen=True)
class QuerySpec:
    cube: str
    measures: tuple[str, ...]
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    drill: Drill | None = None
    sort: tuple[Sort, ...] = ()
    top: Top | None = None
    totals: bool = False
    compare: str | None = None

    @classmethod
    def from_dict(cls, data: dict) -> QuerySpec:
        return parse_spec(data)

    @classmethod
    def from_json(cls, text: str) -> QuerySpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"spec is not valid JSON: {exc}") from None
        return parse_spec(data)

    def to_dict(self) -> dict:
        return {
            "cube": self.cube,
            "rows": list(self.rows),
            "columns": list(self.columns),
            "measures": list(self.measures),
            "filters": [{"dim": f.dim, "op": f.op, "values": list(f.values)} for f in self.filters],
            "drill": {"hierarchy": self.drill.hierarchy, "path": list(self.drill.path)} if self.drill else None,
            "sort": [{"by": s.by, "desc": s.desc} for s in self.sort],
            "top": {"n": self.top.n, "by": self.top.by, "others": self.top.others} if self.top else None,
            "totals": self.totals,
            "compare": self.compare,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def cache_key(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def replace(self, **changes) -> QuerySpec:
        """A new, re-validated spec with some fields changed (dict-shaped values, as in from_dict)."""
        data = self.to_dict()
        data.update(changes)
        return parse_spec(data)

    @property
    def definition(self) -> Cube:
        return cube_by_name(self.cube)


# --- parsing and validation ---------------------------------------------------------------------
def parse_spec(data: Any) -> QuerySpec:
    if not isinstance(data, dict):
        raise SpecError("a query spec must be a JSON object")
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise SpecError(f"unknown spec key(s) {', '.join(unknown)}; valid: {', '.join(SPEC_KEYS)}")
    if not isinstance(data.get("cube"), str):
        raise SpecError("spec needs 'cube', the name of a cube")
    cube = cube_by_name(data["cube"])
    rows = _levels(cube, data.get("rows") or [], "rows")
    columns = _levels(cube, data.get("columns") or [], "columns")
    both = rows + columns
    if len(set(both)) != len(both):
        raise SpecError("a level may appear only once across rows and columns")
    measures = _names(data.get("measures"), "measures")
    if not measures:
        raise SpecError(f"spec needs at least one measure; valid: {', '.join(cube.measure_names)}")
    for m in measures:
        cube.measure(m)
    if len(set(measures)) != len(measures):
        raise SpecError("a measure may appear only once")
    filters = tuple(sorted((_filter(cube, f) for f in _list(data.get("filters"), "filters")), key=_filter_order))
    drill = _drill(cube, data["drill"]) if data.get("drill") else None
    top = _top(cube, data["top"], measures, rows) if data.get("top") else None
    sort = tuple(_sort(cube, s, measures, both) for s in _list(data.get("sort"), "sort"))
    totals = data.get("totals", False)
    if not isinstance(totals, bool):
        raise SpecError("'totals' must be true or false")
    compare = data.get("compare")
    if compare is not None:
        _check_compare(cube, compare, both, tuple(f.dim for f in filters))
    return QuerySpec(cube.name, measures, rows, columns, filters, drill, sort, top, totals, compare)


def _check_compare(cube: Cube, compare, shown: tuple[str, ...], filtered: tuple[str, ...]) -> None:
    if compare not in COMPARE_MODES:
        raise SpecError(f"unknown compare '{compare}'; valid: {', '.join(COMPARE_MODES)}")
    if "time" not in cube.hierarchy_names or cube.hierarchy("time").filter_only:
        raise SpecError(f"cube '{cube.name}' has no time rows to compare periods of")
    for ref in shown + filtered:
        lv = cube.level(ref)[1]
        if lv.time and "{date}" not in lv.expr:
            raise SpecError(f"compare works on calendar time (time.year/quarter/month), not on '{ref}'")
    if compare == "prev" and time_unit(shown + filtered) is None:
        raise SpecError("compare 'prev' needs a time level (time.year/quarter/month) in rows, columns or filters")
    # year to date cumulates per period shown; the periods must be rows or columns
    if compare == "ytd" and time_unit(shown) is None:
        raise SpecError("compare 'ytd' needs a time level (time.year/quarter/month) in rows or columns")


def time_unit(levels) -> str | None:
    """The finest calendar level used: 'month', 'quarter', 'year' or None."""
    used = {ref.split(".", 1)[1] for ref in levels if ref.startswith("time.")}
    return next((unit for unit in ("month", "quarter", "year") if unit in used), None)


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"'{what}' must be a list")
    return value


def _names(value, what: str) -> tuple[str, ...]:
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise SpecError(f"'{what}' must be a list of names")
    return tuple(items)


def _levels(cube: Cube, refs, what: str) -> tuple[str, ...]:
    out = []
    for ref in _names(refs, what):
        h, lv = cube.level(ref)
        if h.filter_only:
            raise SpecError(f"'{h.name}' of cube '{cube.name}' can filter but not be a row or column")
        out.append(level_ref(h, lv))
    return tuple(out)


def parse_member(cube: Cube, level_ref: str, value):
    """A member key checked against the level's type (ints stay ints: 2025, not '2025')."""
    _, lv = cube.level(level_ref)
    if value is None:
        return None
    if lv.dtype == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"members of '{level_ref}' are whole numbers, got {value!r}")
        return value
    if not isinstance(value, str):
        raise SpecError(f"members of '{level_ref}' are text, got {value!r}")
    return value


def _filter(cube: Cube, item) -> Filter:
    if not isinstance(item, dict) or "dim" not in item or "op" not in item:
        raise SpecError('each filter needs "dim", "op" and "values", e.g. {"dim": "channel", "op": "in", "values": ["agency"]}')
    level = cube.canonical_level(item["dim"]) if isinstance(item["dim"], str) else None
    if level is None:
        raise SpecError("a filter's 'dim' must be a level name")
    op = item["op"]
    if op not in FILTER_OPS:
        raise SpecError(f"unknown filter op '{op}'; valid: {', '.join(FILTER_OPS)}")
    raw = item.get("values", [item["value"]] if "value" in item else None)
    if not isinstance(raw, list):
        raise SpecError(f"filter on '{level}' needs 'values' as a list")
    if op == "eq" and len(raw) != 1:
        raise SpecError(f"filter op 'eq' on '{level}' takes exactly one value")
    if op in ("range", "between") and len(raw) != 2:
        raise SpecError(f"filter op '{op}' on '{level}' takes [low, high]")
    if op in ("in", "not_in") and not raw:
        raise SpecError(f"filter op '{op}' on '{level}' needs at least one value")
    if op == "between":
        if not cube.level(level)[1].time:
            raise SpecError(f"'between' filters dates; '{level}' is not a time level")
        values = tuple(_iso_date(v, level) for v in raw)
    elif op == "range":
        values = tuple(parse_member(cube, level, v) for v in raw)
        if values == (None, None):
            raise SpecError(f"range filter on '{level}' needs a low or a high bound")
    else:
        values = tuple(parse_member(cube, level, v) for v in raw)
        if op in ("in", "not_in"):
            values = tuple(sorted(set(values), key=_value_order))
    return Filter(level, op, values)


def _iso_date(value, level: str):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise SpecError(f"'between' on '{level}' takes ISO dates like '2025-01-31', got {value!r}") from None


def _value_order(v):
    return (v is None, json.dumps(v, ensure_ascii=False))


def _filter_order(f: Filter):
    return (f.dim, f.op, json.dumps(f.values, ensure_ascii=False))


def _drill(cube: Cube, item) -> Drill:
    if not isinstance(item, dict) or not isinstance(item.get("hierarchy"), str):
        raise SpecError('drill needs {"hierarchy": name, "path": [members chosen so far]}')
    h = cube.hierarchy(item["hierarchy"])
    path = _list(item.get("path"), "drill.path")
    if len(path) > len(h.levels):
        raise SpecError(f"drill path of '{h.name}' has {len(path)} members but only {len(h.levels)} levels")
    return Drill(h.name, tuple(parse_member(cube, level_ref(h, lv), v) for lv, v in zip(h.levels, path)))


def _top(cube: Cube, item, measures, rows) -> Top:
    n = item.get("n") if isinstance(item, dict) else None
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= TOP_LIMIT:
        raise SpecError(f'top needs {{"n": a positive whole number up to {TOP_LIMIT:,}, "by": measure, '
                        '"others": true|false}')
    if not rows:
        raise SpecError("top N ranks the first row level; the spec has no rows")
    by = item.get("by") or measures[0]
    if by not in measures:
        raise SpecError(f"top ranks by one of the spec's measures: {', '.join(measures)}")
    others = item.get("others", True)
    if not isinstance(others, bool):
        raise SpecError("top 'others' must be true or false")
    return Top(n, by, others)


def _sort(cube: Cube, item, measures, levels) -> Sort:
    if not isinstance(item, dict) or not isinstance(item.get("by"), str):
        raise SpecError('each sort item needs {"by": measure or level, "desc": true|false}')
    by = item["by"]
    if by not in measures:
        by = cube.canonical_level(by) if by.split(".")[0] in cube.hierarchy_names else by
    if by not in measures and by not in levels:
        raise SpecError(f"sort by one of {', '.join(list(measures) + list(levels))}; got '{item['by']}'")
    desc = item.get("desc", True)
    if not isinstance(desc, bool):
        raise SpecError("sort 'desc' must be true or false")
    return Sort(by, desc)
