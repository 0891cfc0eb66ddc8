"""The vocabulary of a cube definition: levels, hierarchies, measures, the cube itself.

A cube is declared over one *source* relation (a SELECT over facts and joined dimensions, one row
per fact event). Every level is an expression over that relation's columns and every measure an
aggregate over it, so one query compiles to one SQL statement and a pre-aggregated rollup table
with the same columns can later stand in for the source. All SQL text here comes from the
definitions, never from a query spec.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LabelKind = Literal["code", "table", "static", "key"]


@dataclass(frozen=True)
class Labels:
    """Where a level's member labels come from: dim_code (kind), a dim_* table, entries given in the
    definition (configured bands: (code, zh, en) in order), or the key itself."""

    kind: LabelKind = "key"
    source: str = ""  # the dim_code kind, or the dim_* table name
    key_column: str = ""  # the key column of that table
    order: str = ""  # the table's ordering column, if any ('sort_order')
    zh_column: str = "name_zh"
    en_column: str = "name_en"
    entries: tuple[tuple[str, str, str], ...] = ()


def code_labels(kind: str) -> Labels:
    return Labels("code", kind)


def static_labels(entries) -> Labels:
    return Labels("static", entries=tuple(entries))


def table_labels(table: str, key_column: str, order: str = "", zh: str = "name_zh", en: str = "name_en") -> Labels:
    return Labels("table", table, key_column, order, zh, en)


@dataclass(frozen=True)
class Level:
    """One attribute users group and filter by. `expr` is SQL over the source relation's columns;
    a time level's expression uses `{date}` for the event date so comparisons can shift it."""

    name: str
    expr: str
    label_zh: str
    label_en: str
    labels: Labels = Labels()
    dtype: Literal["str", "int", "date"] = "str"
    time: bool = False


@dataclass(frozen=True)
class Hierarchy:
    """An ordered drill path (region > province > city > branch). A plain dimension is a
    hierarchy of one level with the same name."""

    name: str
    levels: tuple[Level, ...]
    label_zh: str
    label_en: str
    filter_only: bool = False  # usable in filters, not as rows or columns (see the contribution cube)


@dataclass(frozen=True)
class Measure:
    """An aggregate over the source.

    kind 'sum': SUM(column) [FILTER (WHERE where)]
    kind 'count_distinct': COUNT(DISTINCT column) [FILTER (WHERE where)] -- recounted at every level
    kind 'stock': SUM(column) [FILTER (WHERE where)] over the snapshot rows dated at the first day
        (`at` 'start') or the last day (`at` 'end') of each result row's period (see
        cubes/periods.py), or COUNT(DISTINCT column) of them with `distinct`: adds up across
        dimensions (a sum does), not across time
    kind 'ratio': numerator / denominator, two other measures of the cube, times `scale`
    kind 'sql': an aggregate expression written in the definition (rank measures); `{slice}` in it
        stands for the company's rows (see cubes/sql.py Baseline)
    `additive` says whether parts add up to the total (sums do, distinct counts and ratios do not).
    """

    name: str
    kind: Literal["sum", "count_distinct", "stock", "ratio", "sql"]
    label_zh: str
    label_en: str
    column: str = ""
    where: str = ""
    numerator: str = ""
    denominator: str = ""
    scale: float = 1.0
    sql: str = ""
    uses: tuple[str, ...] = ()  # source columns a 'sql' measure reads (drill-through shows them)
    fmt: Literal["int", "money", "pct", "float"] = "money"
    at: Literal["start", "end"] = "start"  # stock measures: where in the period they are counted
    distinct: bool = False  # stock measures: count distinct values instead of summing
    # 'sql' measures comparing with the company ({slice}): levels whose member the company follows
    # when the cell is of one member (a cold-visit cell compares with the company's cold visits)
    baseline_by: tuple[str, ...] = ()

    @property
    def additive(self) -> bool:
        return self.kind == "sum"


def sum_of(name, column, zh, en, where="", fmt="money") -> Measure:
    return Measure(name, "sum", zh, en, column=column, where=where, fmt=fmt)


def stock_of(name, column, zh, en, where="", fmt="int", at="start", distinct=False) -> Measure:
    return Measure(name, "stock", zh, en, column=column, where=where, fmt=fmt, at=at, distinct=distinct)


def distinct_count_sql(column: str, where: str = "", unique: bool = False) -> str:
    """COUNT(DISTINCT column) of the rows meeting `where`; a plain count when no two rows share a
    value (`unique`: the cube's row key). A CASE, not FILTER (WHERE ...): DuckDB would de-duplicate
    the values of every row before filtering, e.g. every prospect of every lead source for the
    count of one source's prospects, twice the work at 10x."""
    value = f"CASE WHEN {where} THEN {column} END" if where else column
    return f"count({value})" if unique else f"count(DISTINCT {value})"


def count_of(name, column, zh, en, where="") -> Measure:
    return Measure(name, "count_distinct", zh, en, column=column, where=where, fmt="int")


def ratio_of(name, numerator, denominator, zh, en, scale=1.0, fmt="pct") -> Measure:
    return Measure(name, "ratio", zh, en, numerator=numerator, denominator=denominator, scale=scale, fmt=fmt)


@dataclass(frozen=True)
class Cube:
    """A declared cube. `source` is a SELECT whose text may contain `{inner_where}`: filters on
    levels listed in `inner_levels` go there, inside its pre-aggregation. `scope_columns` names
    the source columns a row scope ('region', 'branch') restricts. Every source has `record_id`
    and `kind` (which fact a row is), the keys drill-through pages by. A cube with stock measures
    names its `calendar` (a table with a `date` column over which every time level's expression
    can be evaluated) and its source contains `{stock_dates}` and `{stock_end_dates}`, relations
    of the dates (column d) it must put start-of-day and end-of-day snapshot rows at. A source may
    contain `{cut_dates}`, a relation of the dates (column d) a row spanning several days must not
    span across (the bounds of `between` filters), so each such row lies wholly inside or outside. `as_of` (SQL
    date) caps the period ends of stocks: nothing is known after it."""

    name: str
    label_zh: str
    label_en: str
    grain: str
    source: str
    hierarchies: tuple[Hierarchy, ...]
    measures: tuple[Measure, ...]
    date_column: str = "d"
    scope_columns: dict = field(default_factory=dict)  # scope key -> source column
    inner_levels: dict = field(default_factory=dict)  # time level -> date column inside the pre-aggregation
    inner_table: str = ""  # the table the pre-aggregation reads (where inner levels' members live)
    drill_columns: tuple[str, ...] = ()  # source columns drill-through shows besides the measures' own
    calendar: str = ""  # the calendar table stock measures find the first days of periods in
    as_of: str = ""  # SQL date: the last day a stock can be counted at
    # a source column no two rows share (the contribution cube's customer): its distinct count is a
    # plain count. How it is counted, not what: kept out of the repr, so out of rollup fingerprints.
    row_key: str = field(default="", repr=False)

    # --- look-ups with errors that name the valid choices -------------------------------------
    def hierarchy(self, name: str) -> Hierarchy:
        for h in self.hierarchies:
            if h.name == name:
                return h
        raise SpecError(f"cube '{self.name}' has no dimension '{name}'; valid: {', '.join(self.hierarchy_names)}")

    @property
    def hierarchy_names(self) -> list[str]:
        return [h.name for h in self.hierarchies]

    @property
    def level_names(self) -> list[str]:
        return [level_ref(h, lv) for h in self.hierarchies for lv in h.levels]

    def level(self, ref: str) -> tuple[Hierarchy, Level]:
        """'geography.region', or a single-level dimension by its name ('channel')."""
        hier_name, _, level_name = ref.partition(".")
        h = self.hierarchy(hier_name)
        level_name = level_name or (h.levels[0].name if len(h.levels) == 1 else "")
        for lv in h.levels:
            if lv.name == level_name:
                return h, lv
        raise SpecError(
            f"dimension '{h.name}' of cube '{self.name}' has no level '{level_name or '?'}'; "
            f"valid: {', '.join(level_ref(h, lv) for lv in h.levels)}"
        )

    def canonical_level(self, ref: str) -> str:
        return level_ref(*self.level(ref))

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise SpecError(f"cube '{self.name}' has no measure '{name}'; valid: {', '.join(self.measure_names)}")

    @property
    def measure_names(self) -> list[str]:
        return [m.name for m in self.measures]


def level_ref(h: Hierarchy, lv: Level) -> str:
    """The canonical name of a level: 'geography.region', or just 'channel' for a one-level dimension."""
    return h.name if len(h.levels) == 1 and lv.name == h.name else f"{h.name}.{lv.name}"


class SpecError(ValueError):
    """A query spec that does not fit the cube definition; the message names the valid choices."""
