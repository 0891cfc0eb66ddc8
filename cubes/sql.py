"""Compile a validated QuerySpec into one DuckDB statement with named, bound parameters.

Every identifier and SQL fragment comes from the cube definition; every value from the spec or
the row scope goes through `Params.bind`. Layers of the statement:

    src      the cube's source relation (inner filters placed inside it)
    k_cur    source rows kept by filters, drill and scope, with one key column per level
    top      the top-N members of the first row level (only with `top`)
    b_cur    keys with the first row level bucketed into top members and '__others__'
    co_cur   the company a measure compares with (its `{slice}`): like k_cur, without the drill
    cv_cur   the company's values that no cell narrows, aggregated once in one row, unless the
             company is agg_cur's own grand total (CompanyValues)
    agg_cur  measures per grouping set: one GROUP BY, GROUPING SETS when totals are asked for
    (k_prior/b_prior/agg_prior: the same over dates shifted by the comparison period)

Ratios are numerator and denominator aggregated in the same grouping set, distinct counts are
counted per grouping set, so every subtotal is computed from its own rows. When a stock measure
is asked for, calendar CTEs (cubes/periods.py) come first and the source gets snapshot rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cubes.model import Cube, Measure, SpecError, distinct_count_sql, level_ref
from cubes.periods import END, NO_DATES, START, Periods, calendar_ctes, stock_dates, stock_sql
from cubes.scope import Scope
from cubes.spec import Filter, QuerySpec, parse_member, time_unit

OTHERS = "__others__"
SHIFT = {"year": "INTERVAL 1 YEAR", "quarter": "INTERVAL 3 MONTH", "month": "INTERVAL 1 MONTH"}


@dataclass
class Params:
    values: dict = field(default_factory=dict)

    def bind(self, value) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True)
class Plan:
    """The spec after the drill is applied: the levels actually grouped and every filter."""

    cube: Cube
    spec: QuerySpec
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    filters: tuple[Filter, ...]
    company_filters: tuple[Filter, ...]  # the filters without the drill path (see Baseline)

    @property
    def levels(self) -> tuple[str, ...]:
        return self.rows + self.columns


def plan(cube: Cube, spec: QuerySpec) -> Plan:
    rows, filters = list(spec.rows), list(spec.filters)
    company = list(filters)
    if spec.drill:
        h = cube.hierarchy(spec.drill.hierarchy)
        refs = [level_ref(h, lv) for lv in h.levels]
        path = [Filter(ref, "eq", (member,)) for ref, member in zip(refs, spec.drill.path)]
        filters += path
        # drilling into a year picks a period, not a narrower company: time paths stay in its filters
        company += [f for f in path if cube.level(f.dim)[1].time]
        # the drilled hierarchy shows the level below the path chosen so far
        below = refs[min(len(spec.drill.path), len(refs) - 1)]
        rows = [below if ref in refs else ref for ref in rows]
        if below in spec.columns:
            raise SpecError(f"drill into '{below}' conflicts with it being a column")
    if len(set(rows) | set(spec.columns)) != len(rows) + len(spec.columns):
        raise SpecError("after the drill a level would appear twice in rows and columns")
    return Plan(cube, spec, tuple(rows), spec.columns, tuple(filters), tuple(company))


# --- expressions ----------------------------------------------------------------------------------
def level_expr(cube: Cube, ref: str, date: str) -> str:
    """The level's typed key: text levels as VARCHAR (ENUMs compare with any text value without a
    conversion error), whole-number levels as BIGINT."""
    lv = cube.level(ref)[1]
    expr = lv.expr.replace("{date}", date)
    return f"CAST({expr} AS {'BIGINT' if lv.dtype == 'int' else 'VARCHAR'})"


def condition(cube: Cube, f: Filter, date: str, p: Params) -> str:
    if f.op == "between":
        low, high = f.values
        parts = ([f"{date} >= CAST({p.bind(low)} AS DATE)"] if low else []) + \
                ([f"{date} <= CAST({p.bind(high)} AS DATE)"] if high else [])
        return " AND ".join(parts) or "TRUE"
    expr = level_expr(cube, f.dim, date)
    if f.op == "range":
        low, high = f.values
        parts = ([f"{expr} >= {p.bind(low)}"] if low is not None else []) + \
                ([f"{expr} <= {p.bind(high)}"] if high is not None else [])
        return " AND ".join(parts)
    values = [v for v in f.values if v is not None]
    has_null = len(values) < len(f.values)
    listed = f"{expr} IN ({', '.join(p.bind(v) for v in values)})" if values else "FALSE"
    if f.op in ("eq", "in"):
        return f"({listed} OR {expr} IS NULL)" if has_null else listed
    # not_in keeps members without a value (NULL) unless NULL itself is excluded
    return f"({expr} IS NOT NULL AND NOT {listed})" if has_null else f"({expr} IS NULL OR NOT {listed})"


def scope_conditions(cube: Cube, scope: Scope | None, p: Params) -> list[str]:
    if scope is None:
        return []
    out = []
    for key, allowed in scope.items():
        if key not in cube.scope_columns:
            raise SpecError(f"cube '{cube.name}' cannot apply a row scope on '{key}'; "
                            f"valid: {', '.join(cube.scope_columns)}")
        column = f"CAST({cube.scope_columns[key]} AS VARCHAR)"
        out.append(f"{column} IN ({', '.join(p.bind(v) for v in allowed)})" if allowed else "FALSE")
    return out


def company_parts(sql: str) -> list[tuple[int, int, str]]:
    """Where a 'sql' measure reads the company: each `(SELECT expr FROM {slice})` in it, as
    (start, end, expr) spans of `sql`."""
    out, start = [], sql.find("(SELECT ")
    while start >= 0:
        depth = 0
        for end in range(start, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            if depth == 0:
                break
        inner = sql[start + len("(SELECT "):end]
        if depth == 0 and inner.endswith(" FROM {slice}"):
            out.append((start, end + 1, inner[:-len(" FROM {slice}")]))
        start = sql.find("(SELECT ", start + 1)
    return out


@dataclass
class CompanyValues:
    """Where an aggregation reads the company's values that no cell narrows (each `(SELECT expr
    FROM {slice})` of its 'sql' measures), so that they are aggregated once, not once per measure
    in a subquery of its own: from the aggregation's own grand total when the company's rows are
    its rows (no drill path) and it has one (`total`: the condition true on that row), else from
    the one row of CTE `name`, aggregated over the company's rows `relation`."""

    name: str
    relation: str
    total: str | None = None
    columns: dict = field(default_factory=dict)  # company aggregate expression -> its column in `name`

    def fill(self, sql: str) -> str:
        """`sql` with each company aggregate read once, and any other `{slice}` the company's rows."""
        out, done = [], 0
        for start, end, expr in company_parts(sql):
            if self.total is not None:  # a window over the grouped rows: the grand total's value
                value = f"max(CASE WHEN {self.total} THEN {expr} END) OVER ()"
            else:
                value = f"(SELECT {self.columns.setdefault(expr, f'__c{len(self.columns)}')} FROM {self.name})"
            out += [sql[done:start], value]
            done = end
        return ("".join(out) + sql[done:]).replace("{slice}", self.relation)

    def cte(self) -> str | None:
        if not self.columns:
            return None
        select = ", ".join(f"{expr} AS {column}" for expr, column in self.columns.items())
        return f"{self.name} AS MATERIALIZED (SELECT {select} FROM {self.relation})"


@dataclass(frozen=True)
class Baseline:
    """The company a 'sql' measure compares a cell with: its `{slice}` becomes `relation` (the rows
    the spec's filters and the row scope keep, without the drill path: drilling must not rebase
    "company = 1"), narrowed to the cell's member of each level the measure follows
    (`Measure.baseline_by`, e.g. the lead source) and of each level in `per_period` (year to date:
    each period's company is the company's year to date at that period). `cell_keys` maps level
    refs to (key column in `relation`, the cell's key expression); `where` restricts the relation.
    With `shared`, what is the same for every cell is aggregated once (see CompanyValues)."""

    relation: str = "co_cur"
    cell_keys: dict = field(default_factory=dict)
    per_period: tuple[str, ...] = ()
    where: str = ""
    shared: CompanyValues | None = None

    def conditions(self, m: Measure) -> list[str]:
        conds = [self.where] if self.where else []
        for ref, (key, cell) in self.cell_keys.items():
            if ref in self.per_period or ref in m.baseline_by:
                # a cell totalled over the level (NULL key) compares with the whole company
                conds.append(f"({cell} IS NULL OR CAST({self.relation}.{key} AS VARCHAR) = CAST({cell} AS VARCHAR))")
        return conds

    def sql(self, m: Measure) -> str:
        """The measure's SQL with the company in place of its `{slice}`."""
        conds = self.conditions(m)
        if self.shared is not None and not conds:
            return self.shared.fill(m.sql)
        return m.sql.replace("{slice}", self.relation + (f" WHERE {' AND '.join(conds)}" if conds else ""))


def uses_company(cube: Cube, names) -> bool:
    """Whether any of the measures `names` (or their ratios' parts) compares with the company."""
    for n in names:
        m = cube.measure(n)
        if (m.kind == "sql" and "{slice}" in m.sql) or (
                m.kind == "ratio" and uses_company(cube, (m.numerator, m.denominator))):
            return True
    return False


def measure_sql(cube: Cube, m: Measure, baseline: Baseline = Baseline(), periods: Periods | None = None) -> str:
    """The aggregate of a measure; `baseline` is the company a 'sql' measure may compare with
    (its `{slice}`); `periods` says where the aggregation's rows start their periods (stock measures)."""
    sql_type = "BIGINT" if m.fmt == "int" else "DOUBLE"
    if m.kind == "sum":
        agg = f"sum({m.column})" + (f" FILTER (WHERE {m.where})" if m.where else "")
        return f"CAST(coalesce({agg}, 0) AS {sql_type})"
    if m.kind == "stock":
        return stock_sql(m.column, m.where, sql_type, periods, m.at, m.distinct)
    if m.kind == "count_distinct":
        return f"CAST({distinct_count_sql(m.column, m.where, unique=m.column == cube.row_key)} AS BIGINT)"
    if m.kind == "ratio":
        num = measure_sql(cube, cube.measure(m.numerator), baseline, periods)
        den = measure_sql(cube, cube.measure(m.denominator), baseline, periods)
        scale = f" * {float(m.scale)!r}" if m.scale != 1 else ""
        return f"(CAST({num} AS DOUBLE) / NULLIF({den}, 0){scale})"
    return f"CAST({baseline.sql(m)} AS DOUBLE)"


def record_condition(cube: Cube, m: Measure, periods: Periods) -> str:
    """Which source rows are records of a measure (for drill-through); `periods` (one grouping
    set: the cell's levels) picks the snapshot rows of a stock."""
    if m.kind in ("sum", "stock"):
        stock = f" AND ({periods.test(periods.grouped[0], m.at)})" if m.kind == "stock" else ""
        return f"{m.column} IS NOT NULL" + (f" AND {m.where}" if m.where else "") + stock
    if m.kind == "count_distinct":
        return m.where or "TRUE"
    if m.kind == "ratio":
        parts = (record_condition(cube, cube.measure(name), periods) for name in (m.numerator, m.denominator))
        return " OR ".join(f"({c})" for c in parts)
    return " OR ".join(f"{column} IS NOT NULL" for column in m.uses) or "TRUE"


# --- statement building ---------------------------------------------------------------------------
def cut_dates(pl: Plan, p: Params, shift: str | None) -> str:
    """The days a `between` filter starts or resumes excluding on (and the same a comparison period
    earlier): rows spanning several days are split there, so a filter keeps them whole or not at all."""
    days = []
    for f in pl.filters:
        if f.op == "between":
            low, high = f.values
            days += ([f"CAST({p.bind(low)} AS DATE)"] if low else []) + \
                    ([f"CAST(CAST({p.bind(high)} AS DATE) + INTERVAL 1 DAY AS DATE)"] if high else [])
    days += [f"CAST({d} - {shift} AS DATE)" for d in days] if shift else []
    return " UNION ".join(f"SELECT {d} AS d" for d in days) or NO_DATES


def source_sql(cube: Cube, pl: Plan, p: Params, dates: dict | None = None, shift: str | None = None) -> str:
    """The cube source with filters on inner levels placed inside its pre-aggregation, `dates`
    ({'start'|'end': a relation of column d}) as the dates its stock snapshots are taken at and the
    `between` bounds (shifted back by `shift` too) as the days multi-day rows are cut at."""
    inner = [condition(cube, f, cube.inner_levels[f.dim], p) for f in pl.filters if f.dim in cube.inner_levels]
    dates = dates or {}
    if "{cut_dates}" in cube.source:
        cube_source = cube.source.replace("{cut_dates}", cut_dates(pl, p, shift))
    else:
        cube_source = cube.source
    return (cube_source.replace("{inner_where}", "".join(f" AND {c}" for c in inner))
            .replace("{stock_dates}", dates.get(START, NO_DATES))
            .replace("{stock_end_dates}", dates.get(END, NO_DATES)))


# --- stock measures: the first day of each row's period ------------------------------------------
def stock_ats(cube: Cube, names) -> set[str]:
    """Where the stock measures among `names` (or their ratios' parts) are counted: 'start', 'end'."""
    out = set()
    for n in names:
        m = cube.measure(n)
        if m.kind == "stock":
            out.add(m.at)
        elif m.kind == "ratio":
            out |= stock_ats(cube, (m.numerator, m.denominator))
    return out


def time_positions(cube: Cube, pl: Plan) -> list[int]:
    return [i for i, ref in enumerate(pl.levels) if cube.level(ref)[1].time]


def stock_ctes(cube: Cube, pl: Plan, p: Params) -> list[str]:
    """Calendar CTEs: first days of the time levels' members and of the span the time filters admit."""
    if not cube.calendar:
        raise ValueError(f"cube '{cube.name}' has stock measures but names no calendar table")
    exprs = {i: level_expr(cube, pl.levels[i], "date") for i in time_positions(cube, pl)}
    conds = [condition(cube, f, "date", p) for f in pl.filters if cube.level(f.dim)[1].time]
    return calendar_ctes(cube.calendar, exprs, conds, cube.as_of or "max(date)")


def snapshot_dates(cube: Cube, pl: Plan, ats: set[str], shift: str | None) -> dict:
    """The dates the source must put snapshot rows at, per place in the period."""
    if END in ats and pl.spec.compare == "ytd":
        raise SpecError("stocks at the period end do not cumulate: ask for them without compare 'ytd'")
    ytd_calendar = cube.calendar if pl.spec.compare == "ytd" else None
    return {at: stock_dates(time_positions(cube, pl), shift, at, ytd_calendar) for at in ats}


def periods_of(cube: Cube, pl: Plan, keys: list[str], sets: list[list[str]], shift: str | None,
               ytd: bool = False) -> Periods:
    """Where the rows of an aggregation over `keys` (the plan's levels' key columns) grouped by
    `sets` start their periods; `shift` is the comparison period of a prior aggregation, `ytd`
    says the periods run from the start of their year."""
    time_keys = {keys[i]: i for i in time_positions(cube, pl) if i < len(keys)}
    grouped = tuple(dict.fromkeys(tuple(k for k in time_keys if k in s) for s in sets))
    d = cube.date_column
    fixed = f"{d} = CAST(date_trunc('year', {d}) AS DATE)" if ytd else ""
    return Periods(time_keys, grouped, d, shift, fixed)


def keyed_sql(cube: Cube, pl: Plan, scope: Scope | None, p: Params, date: str, from_: str,
              company: bool = False) -> str:
    """Source rows kept by the filters (without the drill path for the `company`) and the scope."""
    keys = [f"{level_expr(cube, ref, date)} AS __k{i}" for i, ref in enumerate(pl.levels)]
    filters = pl.company_filters if company else pl.filters
    conds = [condition(cube, f, date, p) for f in filters if f.dim not in cube.inner_levels]
    conds += scope_conditions(cube, scope, p)
    where = " AND ".join(f"({c})" for c in conds) or "TRUE"
    if cube.calendar:  # stock measures reckon periods on __d (shifted in a comparison period)
        keys.insert(0, f"{date} AS __d")
    return f"SELECT *{''.join(', ' + k for k in keys)} FROM {from_} WHERE {where}"


def ytd_from(cube: Cube, unit: str) -> str:
    """Each source row counted in every reporting period from its own to the end of its year."""
    d = cube.date_column
    if unit == "year":
        return f"(SELECT *, {d} AS __rd FROM src)"
    step = SHIFT[unit]
    return (f"(SELECT *, unnest(generate_series(date_trunc('{unit}', {d}), "
            f"date_trunc('{unit}', make_date(year({d}), 12, 1)), {step}))::DATE AS __rd FROM src)")


def own_period(cube: Cube, unit: str | None) -> str:
    """Year to date: the copy of each source row in its own period, i.e. the rows without duplicates."""
    if unit in (None, "year"):
        return ""
    return f"__rd = CAST(date_trunc('{unit}', {cube.date_column}) AS DATE)"


def grouping_sets(pl: Plan, keys: list[str]) -> list[list[str]]:
    """The key columns of each grouping set: every row depth with every column depth."""
    r, c = len(pl.rows), len(pl.columns)
    # year-to-date values of different periods do not add up: no totals across time then
    required = {k for k, ref in zip(keys, pl.levels) if ref.startswith("time.")} if pl.spec.compare == "ytd" else set()
    sets = []
    for i in range(r + 1):
        for j in range(c + 1):
            grouped = keys[:i] + keys[r:r + j]
            if grouped not in sets and required <= set(grouped):
                sets.append(grouped)
    return sets


def grouped_sql(cube: Cube, pl: Plan, from_: str, bucketed: bool, suffix: str,
                shift: str | None) -> tuple[str, str | None]:
    """The aggregation of the period `suffix` and the CTE of company values it reads, if any."""
    n = len(pl.levels)
    keys = [f"__k{i}" for i in range(n)]
    if bucketed:
        keys[0] = "__b0"
    totals = bool(n and pl.spec.totals)
    sets = grouping_sets(pl, keys) if totals else [keys]
    ytd = pl.spec.compare == "ytd"
    periods = periods_of(cube, pl, keys, sets, shift, ytd)
    company = CompanyValues(f"cv_{suffix}", f"co_{suffix}", grand_total(pl, keys, sets))
    baseline = Baseline(company.relation,
                        {ref: (f"__k{i}", f"__cell.{k}") for i, (ref, k) in enumerate(zip(pl.levels, keys))},
                        tuple(ref for ref in pl.levels if ytd and cube.level(ref)[1].time), shared=company)
    selects = [f'{k} AS "{ref}"' for k, ref in zip(keys, pl.levels)]
    selects += [f'{measure_sql(cube, cube.measure(m), baseline, periods)} AS "{m}"' for m in pl.spec.measures]
    group = ""
    if totals:
        group = f" GROUP BY GROUPING SETS ({', '.join('(' + ', '.join(s) + ')' for s in sets)})"
        r = len(pl.rows)
        depth = lambda ks: " + ".join(f"(1 - GROUPING({k}))" for k in ks) or "0"  # noqa: E731
        selects += [f"CAST({depth(keys[:r])} AS INTEGER) AS _row_depth",
                    f"CAST({depth(keys[r:])} AS INTEGER) AS _col_depth"]
    elif n:
        group = f" GROUP BY {', '.join(keys)}"
    return f"SELECT {', '.join(selects)} FROM {from_} AS __cell{group}", company.cte()


def grand_total(pl: Plan, keys: list[str], sets: list[list[str]]) -> str | None:
    """The condition true on an aggregation's grand-total row when that row is the company (its
    rows are the company's: no drill path narrows them), else None."""
    if pl.company_filters != pl.filters or [] not in sets:
        return None
    return f"GROUPING({', '.join(keys)}) = {2 ** len(keys) - 1}" if keys else "TRUE"


def bucket_sql(from_: str) -> str:
    return (f"SELECT *, CASE WHEN EXISTS (SELECT 1 FROM top t WHERE t.__k0 IS NOT DISTINCT FROM x.__k0) "
            f"THEN CAST(__k0 AS VARCHAR) ELSE '{OTHERS}' END AS __b0 FROM {from_} x")


def top_sql(cube: Cube, pl: Plan, p: Params, ytd_unit: str | None = None) -> str:
    """The top N members of the first row level over the whole slice; `ytd_unit`: k_cur holds the
    rows year to date by that unit, so each row is counted once, in its own period."""
    top = pl.spec.top
    own = own_period(cube, ytd_unit)
    periods = periods_of(cube, pl, ["__k0"], [["__k0"]], None, pl.spec.compare == "ytd")
    baseline = Baseline("co_cur", {pl.levels[0]: ("__k0", "__cell.__k0")}, where=own)
    by = measure_sql(cube, cube.measure(top.by), baseline, periods)
    return (f"SELECT __k0 FROM k_cur AS __cell{' WHERE ' + own if own else ''} GROUP BY __k0 "
            f"ORDER BY {by} DESC NULLS LAST, __k0 NULLS LAST LIMIT {p.bind(top.n)}")


def period_ctes(cube: Cube, pl: Plan, scope, p: Params, suffix: str, date: str, from_: str,
                shift: str | None = None, ytd_unit: str | None = None) -> list[str]:
    ctes = [f"k_{suffix} AS ({keyed_sql(cube, pl, scope, p, date, from_)})"]
    if uses_company(cube, pl.spec.measures + ((pl.spec.top.by,) if pl.spec.top else ())):
        ctes.append(f"co_{suffix} AS ({keyed_sql(cube, pl, scope, p, date, from_, company=True)})")
    if pl.spec.top and suffix == "cur":
        ctes.append(f"top AS ({top_sql(cube, pl, p, ytd_unit)})")
    if pl.spec.top:
        ctes.append(f"b_{suffix} AS ({bucket_sql(f'k_{suffix}')})")
    keyed = f"{'b' if pl.spec.top else 'k'}_{suffix}"
    grouped, company = grouped_sql(cube, pl, keyed, bool(pl.spec.top), suffix, shift)
    ctes += [cte for cte in (company, f"agg_{suffix} AS ({grouped})") if cte]
    return ctes


def compile_query(cube: Cube, spec: QuerySpec, scope: Scope | None) -> tuple[str, dict, Plan]:
    pl = plan(cube, spec)
    p = Params()
    shift = None
    if spec.compare in ("yoy", "prev"):
        shift = SHIFT["year" if spec.compare == "yoy" else time_unit(pl.levels + tuple(f.dim for f in pl.filters))]
    ctes = []
    dates = {}
    if ats := stock_ats(cube, spec.measures):
        ctes += stock_ctes(cube, pl, p)
        dates = snapshot_dates(cube, pl, ats, shift)
    ctes.append(f"src AS ({source_sql(cube, pl, p, dates, shift)})")
    d = cube.date_column
    if spec.compare == "ytd":
        unit = time_unit(pl.levels)
        ctes += period_ctes(cube, pl, scope, p, "cur", "__rd", ytd_from(cube, unit), ytd_unit=unit)
    else:
        ctes += period_ctes(cube, pl, scope, p, "cur", d, "src")
    if shift:
        # prior rows relabelled as the period they are compared with
        ctes += period_ctes(cube, pl, scope, p, "prior", f"({d} + {shift})", "src", shift)
        on = [f'c."{ref}" IS NOT DISTINCT FROM pr."{ref}"' for ref in pl.levels]
        if spec.totals and pl.levels:
            on += ["c._row_depth = pr._row_depth", "c._col_depth = pr._col_depth"]
        prior_cols = ", ".join(f'pr."{m}" AS "{m}__prior"' for m in spec.measures)
        final = f"SELECT c.*, {prior_cols} FROM agg_cur c LEFT JOIN agg_prior pr ON {' AND '.join(on) or 'TRUE'}"
    else:
        final = "SELECT * FROM agg_cur"
    return f"WITH {', '.join(ctes)} {final}", p.values, pl


def compile_slice(cube: Cube, spec: QuerySpec, scope: Scope | None, select: str) -> tuple[str, dict]:
    """`select` (SQL from the definition) over the source rows the spec's filters and scope keep."""
    pl = plan(cube, spec)
    p = Params()
    sql = (f"WITH src AS ({source_sql(cube, pl, p)}), "
           f"k_cur AS ({keyed_sql(cube, pl, scope, p, cube.date_column, 'src')}) SELECT {select} FROM k_cur")
    return sql, p.values


def compile_records(cube: Cube, spec: QuerySpec, cell: dict, scope: Scope | None,
                    limit: int, offset: int) -> tuple[str, dict, str, dict]:
    """The source rows behind one cell, paged. `cell` maps row/column levels to members; a level
    left out is aggregated (a subtotal cell), '__others__' is the others bucket of a top N.
    Returns (page SQL, its params, count SQL, its params)."""
    pl = plan(cube, spec)
    p = Params()
    ctes = []
    dates = {}
    if ats := stock_ats(cube, spec.measures):
        ctes += stock_ctes(cube, pl, p)
        dates = snapshot_dates(cube, pl, ats, None)
    ctes += [f"src AS ({source_sql(cube, pl, p, dates)})",
             f"k_cur AS ({keyed_sql(cube, pl, scope, p, cube.date_column, 'src')})"]
    keys = [f"__k{i}" for i in range(len(pl.levels))]
    cell_refs = [cube.canonical_level(ref) for ref in cell]
    cell_keys = [keys[pl.levels.index(ref)] for ref in cell_refs if ref in pl.levels]
    periods = periods_of(cube, pl, keys, [cell_keys], None)
    conds = [" OR ".join(f"({record_condition(cube, cube.measure(m), periods)})" for m in spec.measures)]
    for ref, member in cell.items():
        ref = cube.canonical_level(ref)
        if ref not in pl.levels:
            raise SpecError(f"cell level '{ref}' is not a row or column of this query; valid: {', '.join(pl.levels)}")
        i = pl.levels.index(ref)
        if i == 0 and spec.top and member == OTHERS:
            if uses_company(cube, (spec.top.by,)):
                ctes.append(f"co_cur AS ({keyed_sql(cube, pl, scope, p, cube.date_column, 'src', company=True)})")
            ctes.append(f"top AS ({top_sql(cube, pl, p)})")
            conds.append("NOT EXISTS (SELECT 1 FROM top t WHERE t.__k0 IS NOT DISTINCT FROM k_cur.__k0)")
            continue
        if cube.level(ref)[1].dtype == "int" and isinstance(member, str) and member.lstrip("-").isdigit():
            member = int(member)  # top-N keys come back as text
        member = parse_member(cube, ref, member)
        conds.append(f"__k{i} IS NULL" if member is None else f"__k{i} = {p.bind(member)}")
    columns = list(dict.fromkeys(cube.drill_columns + used_columns(cube, spec.measures)))
    base = f"WITH {', '.join(ctes)} SELECT {{cols}} FROM k_cur WHERE {' AND '.join(f'({c})' for c in conds)}"
    count_sql, count_params = base.replace("{cols}", "count(*) AS n"), dict(p.values)
    page = (base.replace("{cols}", ", ".join(f'{c} AS "{c}"' for c in columns))
            + f" ORDER BY record_id, kind LIMIT {p.bind(limit)} OFFSET {p.bind(offset)}")
    return page, p.values, count_sql, count_params


def used_columns(cube: Cube, measures) -> tuple[str, ...]:
    out = []
    for name in measures:
        m = cube.measure(name)
        if m.kind == "ratio":
            out += used_columns(cube, (m.numerator, m.denominator))
        elif m.column:
            out.append(m.column)
        else:
            out += list(m.uses)
    return tuple(dict.fromkeys(out))
