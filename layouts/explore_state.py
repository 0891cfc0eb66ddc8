"""The Explore page's own URL state: measure, dimension, drill path, chart type, top N.

    /explore?measure=loss_ratio&dim=geography&path=east,32&chart=bar&top=10
            &slice=channel&members=agency,bancassurance&compare=1&sort=value:asc

`slice` and `members` slice the view by any level of the cube; with `compare=1` and exactly two
members, the two segments are drawn side by side. `sort` is the table's sorted column (layouts/grid_sort.py).

Checked against the cube definition only (no queries): an unknown measure or dimension falls back
to the default and is listed in `invalid` so the page can say so.
"""
from __future__ import annotations

from dataclasses import dataclass

from cubes.catalog import cube_by_name
from cubes.model import level_ref
from layouts.grid_sort import Sort, parse_sort, sort_text
from layouts.url_query import search_with

EXPLORE_CUBE = "policies"
CHARTS = ("bar", "line", "pie")
TOP_CHOICES = (5, 10, 20, 0)  # 0 = every member
PAGE_KEYS = ("measure", "dim", "path", "chart", "top", "slice", "members", "compare", "sort")
# the table's columns (callbacks/explore.py): one view's, or the two segments' side by side
TABLE_FIELDS = ("member", "value", "share", "s0", "s1", "diff", "diff_pct")
DEFAULT_MEASURE = "written_premium"
DEFAULT_DIMENSION = "geography"
DEFAULT_TOP = 10


@dataclass(frozen=True)
class ExploreState:
    measure: str = DEFAULT_MEASURE
    dimension: str = DEFAULT_DIMENSION
    path: tuple[str, ...] = ()
    chart: str = "bar"
    top: int = DEFAULT_TOP
    slice_level: str | None = None
    slice_members: tuple[str, ...] = ()
    compare: bool = False
    sort: Sort | None = None
    invalid: tuple[tuple[str, str], ...] = ()

    def comparing(self) -> bool:
        return self.compare and self.slice_level is not None and len(self.slice_members) == 2

    def levels(self) -> list[str]:
        """The hierarchy's levels, top down, as level references ('geography.region', ...)."""
        hierarchy = cube_by_name(EXPLORE_CUBE).hierarchy(self.dimension)
        return [level_ref(hierarchy, level) for level in hierarchy.levels]

    def shown_level(self) -> str:
        return self.levels()[len(self.path)]

    def can_drill(self) -> bool:
        return len(self.path) + 1 < len(self.levels())

    def spec(self, filters: list[dict]) -> dict:
        spec = {"cube": EXPLORE_CUBE, "rows": [self.levels()[0]], "measures": [self.measure],
                "filters": filters, "totals": True, "sort": [{"by": self.measure, "desc": True}]}
        if self.path:
            spec["drill"] = {"hierarchy": self.dimension, "path": list(self.path)}
        if self.top:
            spec["top"] = {"n": self.top, "by": self.measure, "others": True}
        if self.slice_level and self.slice_members:
            spec["filters"] = filters + [{"dim": self.slice_level, "op": "in", "values": list(self.slice_members)}]
        if self.comparing():
            spec["columns"] = [self.slice_level]
        return spec


def levels() -> list[str]:
    cube = cube_by_name(EXPLORE_CUBE)
    return [level_ref(h, lv) for h in cube.hierarchies if not h.filter_only for lv in h.levels]


def dimensions() -> list[str]:
    return [h.name for h in cube_by_name(EXPLORE_CUBE).hierarchies if not h.filter_only]


def measures() -> list[str]:
    return list(cube_by_name(EXPLORE_CUBE).measure_names)


def parse(query: dict[str, str]) -> ExploreState:
    invalid = []

    def choose(key, raw, valid, default):
        if raw is None or raw in valid:
            return default if raw is None else raw
        invalid.append((key, raw))
        return default

    measure = choose("measure", query.get("measure"), measures(), DEFAULT_MEASURE)
    dimension = choose("dim", query.get("dim"), dimensions(), DEFAULT_DIMENSION)
    chart = choose("chart", query.get("chart"), CHARTS, "bar")
    top_raw = query.get("top")
    top = choose("top", top_raw, [str(n) for n in TOP_CHOICES], str(DEFAULT_TOP))
    path = tuple(p for p in (query.get("path") or "").split(",") if p)
    depth = len(cube_by_name(EXPLORE_CUBE).hierarchy(dimension).levels)
    if len(path) >= depth or (path and "dim" in dict(invalid)):
        invalid.append(("path", query.get("path", "")))
        path = ()
    slice_level = query.get("slice") or None
    if slice_level is not None and (slice_level not in levels()
                                    or slice_level.split(".")[0] == dimension):
        invalid.append(("slice", slice_level))
        slice_level = None
    members = tuple(m for m in (query.get("members") or "").split(",") if m) if slice_level else ()
    compare = query.get("compare") == "1"
    try:
        sort = parse_sort(query.get("sort"))
    except ValueError:
        sort = None
        invalid.append(("sort", query["sort"]))
    if sort and sort[0] not in TABLE_FIELDS:
        sort = None
        invalid.append(("sort", query["sort"]))
    return ExploreState(measure, dimension, path, chart, int(top), slice_level, members, compare, sort,
                        tuple(invalid))


def with_state(search: str | None, state: ExploreState) -> str:
    """`search` with the page's parameters replaced by `state`'s; defaults are left out of the URL."""
    params = {}
    defaults = ExploreState()
    for key, value, default in (("measure", state.measure, defaults.measure),
                                ("dim", state.dimension, defaults.dimension),
                                ("path", ",".join(state.path), ""),
                                ("chart", state.chart, defaults.chart),
                                ("top", str(state.top), str(defaults.top)),
                                ("slice", state.slice_level or "", ""),
                                ("members", ",".join(state.slice_members), ""),
                                ("compare", "1" if state.compare else "", ""),
                                ("sort", sort_text(state.sort), "")):
        if value != default:
            params[key] = value
    return search_with(search, PAGE_KEYS, params)
