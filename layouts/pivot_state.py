"""The Pivot page's URL state: row and column levels, measures, heat map, shown row depth.

    /pivot?rows=geography.region,channel&cols=product.line&measures=written_premium,loss_ratio&heat=1&depth=1
          &sort=health|written_premium:desc

`sort` orders each level's rows by that column, within their parent (layouts/grid_sort.py).

Checked against the cube definition only; unknown names fall back to defaults and are reported.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from cubes.catalog import cube_by_name
from cubes.model import level_ref
from layouts.grid_sort import Sort, parse_sort, sort_text
from layouts.url_query import search_with

PIVOT_CUBE = "policies"
PAGE_KEYS = ("rows", "cols", "measures", "heat", "depth", "sort")
MAX_LEVELS = 3  # per axis: more makes a grid nobody can read
MAX_MEASURES = 4


@dataclass(frozen=True)
class PivotState:
    rows: tuple[str, ...] = ("geography.region", "channel")
    columns: tuple[str, ...] = ("product.line",)
    measures: tuple[str, ...] = ("written_premium",)
    heat: bool = True
    depth: int = 0  # row levels shown below the grand total; 0 = all
    sort: Sort | None = None  # a measure column's field; the grid checks it is one of its columns
    invalid: tuple[tuple[str, str], ...] = ()

    def shown_depth(self) -> int:
        return self.depth if 0 < self.depth <= len(self.rows) else len(self.rows)

    def swapped(self) -> "PivotState":
        return replace(self, rows=self.columns, columns=self.rows, depth=0, sort=None, invalid=())

    def spec(self, filters: list[dict]) -> dict:
        return {"cube": PIVOT_CUBE, "rows": list(self.rows), "columns": list(self.columns),
                "measures": list(self.measures), "filters": filters, "totals": True}


def levels() -> list[str]:
    return [level_ref(h, lv) for h in cube_by_name(PIVOT_CUBE).hierarchies if not h.filter_only for lv in h.levels]


def measures() -> list[str]:
    return list(cube_by_name(PIVOT_CUBE).measure_names)


def _names(raw: str | None, valid: list[str], limit: int) -> tuple[tuple[str, ...] | None, bool]:
    if raw is None:
        return None, True
    names = tuple(dict.fromkeys(n for n in raw.split(",") if n))
    ok = all(n in valid for n in names) and len(names) <= limit
    return (names if ok else None), ok


def parse(query: dict[str, str]) -> PivotState:
    default, invalid, chosen = PivotState(), [], {}
    for key, valid, limit in (("rows", levels(), MAX_LEVELS), ("cols", levels(), MAX_LEVELS),
                              ("measures", measures(), MAX_MEASURES)):
        names, ok = _names(query.get(key), valid, limit)
        if not ok:
            invalid.append((key, query[key]))
        chosen[key] = names
    rows = chosen["rows"] if chosen["rows"] is not None else default.rows
    columns = chosen["cols"] if chosen["cols"] is not None else default.columns
    if set(rows) & set(columns):
        invalid.append(("cols", ",".join(columns)))
        columns = tuple(c for c in columns if c not in rows)
    picked = chosen["measures"] or default.measures
    heat = query.get("heat", "1") != "0"
    depth_raw = query.get("depth", "0")
    depth = int(depth_raw) if depth_raw.isdigit() and int(depth_raw) <= len(rows) else 0
    if depth_raw != str(depth):
        invalid.append(("depth", depth_raw))
    try:
        sort = parse_sort(query.get("sort"))
    except ValueError:
        invalid.append(("sort", query["sort"]))
        sort = None
    if sort and sort[0].rpartition("|")[2] not in picked:
        invalid.append(("sort", query["sort"]))
        sort = None
    return PivotState(rows, columns, picked, heat, depth, sort, tuple(invalid))


def with_state(search: str | None, state: PivotState) -> str:
    params = {}
    default = PivotState()
    for key, value, fallback in (("rows", ",".join(state.rows), ",".join(default.rows)),
                                 ("cols", ",".join(state.columns), ",".join(default.columns)),
                                 ("measures", ",".join(state.measures), ",".join(default.measures)),
                                 ("heat", "1" if state.heat else "0", "1"),
                                 ("depth", str(state.depth), "0"),
                                 ("sort", sort_text(state.sort), "")):
        if value != fallback:
            params[key] = value
    return search_with(search, PAGE_KEYS, params)
