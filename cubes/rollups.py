"""Pre-aggregated rollups of a cube's source, and the matcher that answers a spec from one.

A rollup (table rollup_<cube>_<name>, built by cubes/rollups_build.py at load time) groups the
cube's source rows by the keys of some of its levels, the month of the event date and the row
scope's columns, and keeps one column per measure it can answer:

    sum        the measure's SUM(column) FILTER (WHERE where), pre-filtered, so summing it again
               gives the raw answer at every level
    stock      the same over the snapshot rows, which keep their exact date (`__part` 'opening'
               or 'closing'); snapshots are stored at every month start and month end (and the
               as-of date and its comparison-period ends), so any month-aligned period finds its
    count_distinct  only of a column that is a stored level's key (an agent's id): the count of
               the measure's rows per group, recounted as COUNT(DISTINCT key) over groups with any
    ratio      recomputed from its two parts, when both are answerable

To the compiler a rollup is just another cube (`rollup_cube`): same levels and measures by name,
its source the rollup table, levels reading their stored key columns. The time levels over the
event date keep their expressions: the rollup's date is the month's first day, which gives the
same year, quarter and month (the builder checks this per level and records the ones that hold).
So an answer from a rollup is the raw answer when `match` accepts the spec: every level it groups,
filters or drills by is stored (or month-invariant), `between` bounds are whole months, every
measure is answerable, and the row scope's keys are stored. Otherwise the engine reads raw rows.

A grain-exact rollup (`grain` set) stores the answer itself: one row per member of its grain (the
company for grain ()), over one period, with every declared measure's value as the raw rows give
it, distinct counts and indices against the company included, and levels that are attributes of
the grain (an agent's team, branch and region: the builder checks each grain member has one).
It answers a spec whose every group is one of its rows: the grain's levels grouped, no totals, the
period exactly, filters, drill paths and scope only on stored levels (they select whole rows), and
no filter or scope at all when a measure compares with the company (they would change it; a drill
path does not). A grain's distinct counts do not add up across its rows, so nothing is re-aggregated.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import cache

from cubes.cube_agents import COMPARE, FUNNEL, LEAGUE_MEASURES, TOTAL_MEASURES
from cubes.model import Cube, Hierarchy, Level, Measure
from cubes.periods import is_month_end, months_earlier
from cubes.rules import load_rules
from cubes.scope import Scope
from cubes.spec import QuerySpec
from cubes.sql import plan, uses_company

META_TABLE = "rollup_meta"
FLOW, OPENING, CLOSING = "flow", "opening", "closing"


@dataclass(frozen=True)
class Rollup:
    """`levels`: level refs whose keys are stored (time levels over the event date need not be
    listed: the month is always kept); `scope`: row-scope keys whose columns are stored (those the
    cube has); `stocks`: whether it keeps snapshot rows (stock measures). A `materialized` rollup
    stores the source's rows as they are (no levels listed): it answers every measure, level and
    scope exactly, as long as no filter reaches inside the source (a cube's `inner_levels`). A
    source that cuts its multi-day rows at `between` bounds (`{cut_dates}`) is stored uncut: it
    answers only periods whose bounds cut nothing, which `whole_month_pieces` declares of whole
    months (the source's pieces never span a month boundary, so a month start cuts none of them)."""

    cube: str
    name: str
    levels: tuple[str, ...]
    scope: tuple[str, ...] = ("region", "branch")
    stocks: bool = True
    materialized: bool = False  # the source's own rows, stored (see `covers`)
    # a materialized rollup of one period of a cube whose time filter reaches inside its source
    # (the contribution cube sums each customer's months): the `between` bounds it answers
    period: tuple[str, str] | None = None
    # the order rows are stored in (how, not what: out of the fingerprint): contribution best first
    # keeps any slice of a customer table in whale-curve order, so the curve needs no sort
    order_by: str = field(default="", repr=False)
    # what is answered, not what is built: kept out of the repr, so out of every table's fingerprint
    whole_month_pieces: bool = field(default=False, repr=False)
    # grain-exact (see the module's docstring): the levels one row stands for, among `levels` (the
    # others are its attributes), `measures` the values stored, `period` the dates (None: all).
    # Out of the repr, and in the fingerprint only when set: other tables stay current.
    grain: tuple[str, ...] | None = field(default=None, repr=False)
    measures: tuple[str, ...] = field(default=(), repr=False)

    @property
    def table(self) -> str:
        return f"rollup_{self.cube}_{self.name}"


WHALE_ORDER = "contribution DESC"
GEOGRAPHY = ("geography.region", "geography.province", "geography.city", "geography.branch")

# Snapshot rows (stocks) at every month boundary multiply a rollup by its dates: only the coarser
# rollups keep them.
ROLLUPS = (
    Rollup("policies", "region_line", ("geography.region", "geography.province", "channel", "product.line",
                                       "work_month"), scope=("region",)),
    Rollup("policies", "geo", GEOGRAPHY + ("channel", "product.line"), stocks=False),
    # the headline cut (the default pivot, its swap, Explore's first level): a tenth of `product`'s rows
    Rollup("policies", "headline", ("geography.region", "channel", "product.line"), scope=("region",), stocks=False),
    Rollup("policies", "product", ("geography.region", "geography.province", "channel", "product.line",
                                   "product.product"), scope=("region",), stocks=False),
    Rollup("policies", "segment", ("geography.region", "sex", "age_band", "vip_tier", "tenure_band"),
           scope=("region",), stocks=False),
    Rollup("service", "geo_event", GEOGRAPHY + ("event_type", "service_channel", "work_month")),
    Rollup("service", "segment", ("geography.region", "sex", "age_band", "vip_tier", "event_type"),
           scope=("region",)),
    # one row per customer over all months: the whale curve and customer slices without a period
    Rollup("contribution", "customers", (), materialized=True, order_by=WHALE_ORDER),
    Rollup("agents", "agent_month", ("agent.branch", "agent.team", "agent.agent", "grade", "work_month")
           + GEOGRAPHY, scope=("region", "branch", "agent")),
    # the agents' visits, sales and months as the source makes them (its window over every visit
    # and its joins are the slow part): distinct counts and company indices of any whole-month
    # period; an agent's workdays are pieces of a calendar month, so month starts cut none of them
    Rollup("agents", "rows", (), materialized=True, whole_month_pieces=True),
)


@cache
def period_rollups() -> tuple[Rollup, ...]:
    """The contribution cube's rows for the periods every first visit asks: the year to date at the
    data's as-of date, and the same dates a year earlier (the overview's comparison)."""
    as_of = load_rules().as_of.isoformat()
    year_ago = months_earlier(as_of, 12, month_end=is_month_end(as_of))  # as the overview compares
    return tuple(Rollup("contribution", name, (), materialized=True, period=(f"{end[:4]}-01-01", end),
                        order_by=WHALE_ORDER) for name, end in (("ytd", as_of), ("ytd_prior", year_ago)))


AGENT = ("agent.agent", "agent.team", "agent.branch", "grade") + GEOGRAPHY  # an agent and its attributes
BRANCH = ("agent.branch",) + GEOGRAPHY


@cache
def page_rollups() -> tuple[Rollup, ...]:
    """The agents page's first visit, answered whole (grain-exact): its league, total row and KPI
    cards, funnel and branch (or a branch's teams) comparison over the year to date at the as-of date."""
    as_of = load_rules().as_of.isoformat()
    ytd = (f"{as_of[:4]}-01-01", as_of)
    return (
        Rollup("agents", "ytd_agent", AGENT, grain=("agent.agent",), period=ytd, measures=LEAGUE_MEASURES),
        Rollup("agents", "ytd_total", (), grain=(), period=ytd, measures=TOTAL_MEASURES),
        Rollup("agents", "ytd_lead_source", ("lead_source",), grain=("lead_source",), period=ytd, measures=FUNNEL),
        Rollup("agents", "ytd_branch", BRANCH, grain=("agent.branch",), period=ytd, measures=COMPARE),
        Rollup("agents", "ytd_team", ("agent.team",) + BRANCH, grain=("agent.team",), period=ytd, measures=COMPARE),
    )


def rollups_of(cube: str) -> tuple[Rollup, ...]:
    return tuple(r for r in ROLLUPS + period_rollups() + page_rollups() if r.cube == cube)


# --- stored column names ------------------------------------------------------------------------
def level_column(ref: str) -> str:
    return "lv_" + re.sub(r"\W", "_", ref)


def measure_column(name: str) -> str:
    return f"m_{name}"


def scope_column(key: str) -> str:
    return f"sc_{key}"


def stored_scope(cube: Cube, rollup: Rollup) -> tuple[str, ...]:
    """The row-scope keys whose columns the rollup keeps (those of its keys the cube has)."""
    return tuple(key for key in rollup.scope if key in cube.scope_columns)


def fingerprint(cube: Cube, rollup: Rollup) -> str:
    """Ties a built table to the definitions it was built from: a changed formula, level or
    company rule makes the table stale, and the engine then ignores it until it is rebuilt."""
    exact = (rollup.grain, rollup.measures) if rollup.grain is not None else ()
    return hashlib.sha256(repr((cube, rollup) + exact).encode("utf-8")).hexdigest()[:16]


# --- what a rollup can answer ---------------------------------------------------------------------
def stored_levels(cube: Cube, rollup: Rollup) -> set[str]:
    return {cube.canonical_level(ref) for ref in rollup.levels}


def key_level(cube: Cube, rollup: Rollup, column: str) -> str | None:
    """The stored level whose key is exactly the source column `column`, if any."""
    for ref in stored_levels(cube, rollup):
        if cube.level(ref)[1].expr.strip() == column.strip():
            return ref
    return None


def storable(cube: Cube, rollup: Rollup, m: Measure) -> bool:
    """Whether the rollup stores a column for `m` (ratios and 'sql' measures have none)."""
    if m.kind == "sum" or (m.kind == "stock" and not m.distinct and rollup.stocks):
        return True
    return m.kind == "count_distinct" and key_level(cube, rollup, m.column) is not None


def answerable(cube: Cube, rollup: Rollup, name: str) -> bool:
    m = cube.measure(name)
    if m.kind == "ratio":
        return answerable(cube, rollup, m.numerator) and answerable(cube, rollup, m.denominator)
    return storable(cube, rollup, m)


def uses_stock(cube: Cube, name: str) -> bool:
    m = cube.measure(name)
    if m.kind == "ratio":
        return uses_stock(cube, m.numerator) or uses_stock(cube, m.denominator)
    return m.kind == "stock"


def whole_months(low: str | None, high: str | None) -> bool:
    """`between` bounds a month-grained date answers exactly: a month's first and last day."""
    if low and dt.date.fromisoformat(low).day != 1:
        return False
    return not high or (dt.date.fromisoformat(high) + dt.timedelta(days=1)).day == 1


def uncut_periods(cube: Cube, rollup: Rollup, filters) -> bool:
    """Whether the `between` bounds of `filters` cut none of the rows a materialized rollup stored
    uncut (shifted a comparison period back, whole months stay whole months)."""
    if "{cut_dates}" not in cube.source:
        return True
    return rollup.whole_month_pieces and all(whole_months(*f.values) for f in filters if f.op == "between")


@dataclass(frozen=True)
class Built:
    """A rollup table present in the warehouse and built from the current definitions."""

    rollup: Rollup
    rows: int
    month_levels: frozenset  # time levels over the event date whose key the month's first day keeps


def key_exprs(cube: Cube, refs) -> set[str]:
    """The key expressions of levels: two levels with the same key (an agent's branch and the
    geography's branch) group alike."""
    return {cube.level(ref)[1].expr.strip() for ref in refs}


def exact_scope(cube: Cube, rollup: Rollup) -> dict[str, str]:
    """Row-scope key -> the stored level column holding the scope column (the grain's attributes)."""
    stored = {cube.level(ref)[1].expr.strip(): ref for ref in sorted(stored_levels(cube, rollup))}
    return {key: level_column(stored[column.strip()]) for key, column in cube.scope_columns.items()
            if column.strip() in stored}


def exact_covers(cube: Cube, rollup: Rollup, spec: QuerySpec, scope: Scope | None) -> bool:
    """Whether every group of the spec's answer is one stored row of a grain-exact rollup."""
    pl = plan(cube, spec)
    stored = stored_levels(cube, rollup)
    if spec.compare or spec.top or (spec.totals and pl.levels) or not set(spec.measures) <= set(rollup.measures):
        return False  # one row per group and stored measures only: nothing is re-aggregated
    if not (key_exprs(cube, rollup.grain) <= key_exprs(cube, pl.levels) and set(pl.levels) <= stored):
        return False
    periods = [tuple(f.values) for f in pl.filters if f.op == "between"]
    if periods != ([rollup.period] if rollup.period else []):
        return False
    if not all(f.dim in stored for f in pl.filters if f.op != "between"):
        return False
    if scope is not None and not {key for key, _ in scope.items()} <= set(exact_scope(cube, rollup)):
        return False
    # the company a measure compares with is what the filters and the scope keep, not the drill
    narrowed = scope is not None or any(f.op != "between" for f in pl.company_filters)
    return not (narrowed and uses_company(cube, spec.measures))


def covers(cube: Cube, built: Built, spec: QuerySpec, scope: Scope | None) -> bool:
    rollup = built.rollup
    if rollup.grain is not None:
        return exact_covers(cube, rollup, spec, scope)
    pl = plan(cube, spec)
    refs = set(pl.levels) | {f.dim for f in pl.filters}  # the drill's path and shown level included
    if rollup.period:  # exactly its period inside the source, anything outside it
        inner = [f for f in pl.filters if f.dim in cube.inner_levels]
        return (not set(pl.levels) & set(cube.inner_levels) and len(inner) == 1 and inner[0].op == "between"
                and tuple(inner[0].values) == rollup.period)
    if rollup.materialized:
        return not refs & set(cube.inner_levels) and uncut_periods(cube, rollup, pl.filters)
    stored = stored_levels(cube, rollup)
    if not refs <= stored | built.month_levels:
        return False
    if any(f.op == "between" and not whole_months(*f.values) for f in pl.filters):
        return False
    if scope is not None and not {key for key, _ in scope.items()} <= set(stored_scope(cube, rollup)):
        return False
    measures = set(spec.measures) | ({spec.top.by} if spec.top else set())
    if not all(answerable(cube, rollup, m) for m in measures):
        return False
    # snapshots are stored at month boundaries: a work month's (25th) end is not one of them
    if any(uses_stock(cube, m) for m in measures):
        return all("{date}" in cube.level(ref)[1].expr for ref in refs if cube.level(ref)[1].time)
    return True


def match(cube: Cube, spec: QuerySpec, scope: Scope | None, built: list[Built]) -> Built | None:
    """The smallest built rollup of the cube that answers the spec exactly, or None (read raw rows)."""
    candidates = [b for b in built if b.rollup.cube == cube.name and covers(cube, b, spec, scope)]
    return min(candidates, key=lambda b: b.rows, default=None)


# --- the rollup as a cube for the compiler ----------------------------------------------------------
def rollup_source(cube: Cube, rollup: Rollup) -> str:
    """The rollup's rows the compiler reads: the flows, and snapshot rows only at the dates the
    query asks for (as the raw source makes them), so both give the same groups."""
    parts = [f"__part = '{FLOW}'"]
    if cube.calendar and rollup.stocks:  # without snapshot rows there is nothing else to choose
        parts += [f"(__part = '{OPENING}' AND {cube.date_column} IN (SELECT d FROM ({{stock_dates}})))",
                  f"(__part = '{CLOSING}' AND {cube.date_column} IN (SELECT d FROM ({{stock_end_dates}})))"]
    return f"SELECT * FROM {rollup.table} WHERE {' OR '.join(parts)}"


def rollup_measure(cube: Cube, rollup: Rollup, m: Measure) -> Measure:
    """The measure over the rollup's columns (unchanged when the rollup does not store it)."""
    if not storable(cube, rollup, m):
        return m
    column = measure_column(m.name)
    if m.kind == "count_distinct":
        return replace(m, column=level_column(key_level(cube, rollup, m.column)), where=f"{column} > 0")
    return replace(m, column=column, where="")


def answered_spec(cube: Cube, rollup: Rollup, spec: QuerySpec) -> QuerySpec:
    """The spec to compile against `rollup_cube`: a period rollup's rows already are its period,
    so the filter inside the source that chose it drops out."""
    if not rollup.period:
        return spec
    period = (lambda f: f.op == "between") if rollup.grain is not None else (lambda f: f.dim in cube.inner_levels)
    return spec.replace(filters=[{"dim": f.dim, "op": f.op, "values": list(f.values)} for f in spec.filters
                                 if not period(f)])


def exact_measure(m: Measure) -> Measure:
    """A measure over a grain-exact rollup's one row per group: its stored value, typed as the raw
    answer is (sums and counts as before, ratios and company-relative values as DOUBLE)."""
    column = measure_column(m.name)
    if m.kind in ("sum", "count_distinct"):
        return replace(m, kind="sum", column=column, where="", fmt="int" if m.kind == "count_distinct" else m.fmt)
    return replace(m, kind="sql", sql=f"max({column})", column="", where="", numerator="", denominator="",
                   uses=(column,), baseline_by=())


def stored_hierarchies(cube: Cube, rollup: Rollup) -> tuple[Hierarchy, ...]:
    """The cube's hierarchies with each level the rollup stores reading its stored key column."""
    stored = stored_levels(cube, rollup)

    def level(h: Hierarchy, lv: Level) -> Level:
        ref = cube.canonical_level(f"{h.name}.{lv.name}")
        return replace(lv, expr=level_column(ref)) if ref in stored else lv

    return tuple(replace(h, levels=tuple(level(h, lv) for lv in h.levels)) for h in cube.hierarchies)


def exact_cube(cube: Cube, rollup: Rollup) -> Cube:
    return replace(
        cube, source=f"SELECT * FROM {rollup.table}", hierarchies=stored_hierarchies(cube, rollup),
        measures=tuple(exact_measure(m) if m.name in rollup.measures else m for m in cube.measures),
        scope_columns=exact_scope(cube, rollup), inner_levels={}, inner_table="", row_key="", calendar="",
    )


def rollup_cube(cube: Cube, rollup: Rollup) -> Cube:
    if rollup.grain is not None:
        return exact_cube(cube, rollup)
    if rollup.materialized:
        return replace(cube, source=f"SELECT * FROM {rollup.table}", inner_levels={}, inner_table="")
    return replace(
        cube, source=rollup_source(cube, rollup), hierarchies=stored_hierarchies(cube, rollup),
        measures=tuple(rollup_measure(cube, rollup, m) for m in cube.measures),
        scope_columns={key: scope_column(key) for key in stored_scope(cube, rollup)},
        inner_levels={}, inner_table="", row_key="",  # grouped rows: no column is unique to one
    )
