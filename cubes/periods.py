"""Stock measures: a quantity counted at the first day of each result row's period, such as the
policies in force at the start of the period (the denominator of DOMAIN.md's lapse rate).

A stock does not add up across time (a year's opening stock is its first month's, not the sum of
its months'), but it does add up across every other dimension. The cube's source produces one
snapshot row per item and per date the compiler asks for (its `{stock_dates}`), and the measure
sums the snapshot rows dated at the first day of the row's period. That period is the
intersection of the time members the row is grouped by and of the span the time filters admit
(the whole calendar when there are none), so its first day is the latest of their first days.
A snapshot row lies in all of them, so it is dated at that latest first day exactly when it is
dated at the first day of any one of them: the test is an OR over the members' first days and
the span's. A grand total therefore starts where the filters start, a year where the year does
(or the filter, if later), and parts of a longer period never add their openings up.

Which time levels a row is grouped by differs between grouping sets; GROUPING() picks the branch.
The first days come from the cube's calendar table, over which every time level's expression can
be evaluated (`{date}` = its `date` column).
"""
from __future__ import annotations

from dataclasses import dataclass

SPAN = "__span"  # CTE: the first day the time filters admit
NO_DATES = "SELECT CAST(NULL AS DATE) AS d WHERE FALSE"


def first_days_cte(i: int) -> str:
    return f"__fd{i}"


def calendar_ctes(calendar: str, level_exprs: dict[int, str], span_conditions: list[str]) -> list[str]:
    """The first day of the filtered span and of every member of each time level in the query
    (`level_exprs`: position of the level among the query's levels -> its expression over `date`)."""
    where = " AND ".join(f"({c})" for c in span_conditions) or "TRUE"
    ctes = [f"{SPAN} AS (SELECT min(date) AS start FROM {calendar} WHERE {where})"]
    ctes += [f"{first_days_cte(i)} AS (SELECT min(date) AS d FROM {calendar} GROUP BY {expr})"
             for i, expr in level_exprs.items()]
    return ctes


def stock_dates(level_positions, shift: str | None, year_starts_of: str | None = None) -> str:
    """The dates snapshots are needed at: first days of the span and of the members, and the same
    days a comparison period earlier. With `year_starts_of` (a calendar table, for year to date)
    the first days of its years instead of the members'."""
    members = ([f"SELECT DISTINCT CAST(date_trunc('year', date) AS DATE) AS d FROM {year_starts_of}"]
               if year_starts_of else [f"SELECT d FROM {first_days_cte(i)}" for i in level_positions])
    base = " UNION ".join([f"SELECT start AS d FROM {SPAN}"] + members)
    if shift is None:
        return base
    return f"SELECT d FROM ({base}) UNION SELECT CAST(d - {shift} AS DATE) FROM ({base})"


@dataclass(frozen=True)
class Periods:
    """Where the rows of one aggregation start their periods.

    `time_keys` maps the key columns of the time levels to their first-days CTE. `grouped` lists,
    per grouping set (distinct only), the time keys it groups by. `span_test` recognises a
    snapshot at the span's first day; `fixed_test`, when set, is used for every row instead (year
    to date, whose time filters pick reporting periods: each cumulates from its year's first day)."""

    time_keys: dict
    grouped: tuple[tuple[str, ...], ...]
    span_test: str
    fixed_test: str = ""

    def test(self, keys: tuple[str, ...]) -> str:
        if self.fixed_test:
            return self.fixed_test
        return " OR ".join([f"__d IN (SELECT d FROM {self.time_keys[k]})" for k in keys] + [self.span_test])


def span_test(date_column: str, shift: str | None) -> str:
    """A snapshot at the span's first day; in a comparison period, at that day shifted back (the
    test is on the original date, so month ends shifted by a month still match)."""
    start = f"(SELECT start FROM {SPAN})"
    return f"{date_column} = " + (f"CAST({start} - {shift} AS DATE)" if shift else start)


def stock_sql(column: str, where: str, sql_type: str, periods: Periods) -> str:
    """Sum of `column` over the snapshot rows at the first day of each row's period."""
    def summed(keys):
        cond = " AND ".join(f"({c})" for c in (where, periods.test(keys)) if c)
        return f"CAST(coalesce(sum({column}) FILTER (WHERE {cond}), 0) AS {sql_type})"

    if len(periods.grouped) <= 1 or periods.fixed_test:  # one test serves every grouping set
        return summed(periods.grouped[0] if periods.grouped else ())
    *branches, last = periods.grouped
    whens = [" AND ".join(f"GROUPING({k}) = {0 if k in keys else 1}" for k in periods.time_keys)
             for keys in branches]
    return ("(CASE " + " ".join(f"WHEN {w} THEN {summed(keys)}" for w, keys in zip(whens, branches))
            + f" ELSE {summed(last)} END)")
