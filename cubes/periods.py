"""Stock measures: a quantity counted on the first or the last day of each result row's period,
such as the policies in force at the start of the period (the denominator of DOMAIN.md's lapse
rate) or at its end (the in-force book).

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

Period ends mirror this: the period ends on the earliest of the last days, each capped at the
data's as-of date (nothing is known after it), and the source dates its end snapshots ("in force
at the end of day d") at that day, which lies inside the row's period. In a comparison period the
end snapshot is taken one comparison period before the day after the end (so the prior of March
ends on the last day of February); its test is on the original date, like the span's.

Which time levels a row is grouped by differs between grouping sets; GROUPING() picks the branch.
The first and last days come from the cube's calendar table, over which every time level's
expression can be evaluated (`{date}` = its `date` column).
"""
from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass

from cubes.model import distinct_count_sql

SPAN = "__span"  # CTE: the first and the (capped) last day the time filters admit
NO_DATES = "SELECT CAST(NULL AS DATE) AS d WHERE FALSE"
START, END = "start", "end"  # where in its period a stock measure is counted


def months_earlier(day: str, months: int, month_end: bool = False) -> str:
    """The ISO date `months` calendar months before `day`: the same day of the month (the month's
    last day when it is shorter), or its last day when `month_end`."""
    index = int(day[:4]) * 12 + int(day[5:7]) - 1 - months
    year, month = divmod(index, 12)
    last = pycalendar.monthrange(year, month + 1)[1]
    return f"{year}-{month + 1:02d}-{last if month_end else min(int(day[8:10]), last):02d}"


def is_month_end(day: str) -> bool:
    return int(day[8:10]) == pycalendar.monthrange(int(day[:4]), int(day[5:7]))[1]


def first_days_cte(i: int) -> str:
    return f"__fd{i}"


def last_days_cte(i: int) -> str:
    return f"__ld{i}"


def calendar_ctes(calendar: str, level_exprs: dict[int, str], span_conditions: list[str], cap: str) -> list[str]:
    """The first and last day of the filtered span and of every member of each time level in the
    query (`level_exprs`: position of the level among the query's levels -> its expression over
    `date`); last days no later than `cap` (SQL date: the as-of date)."""
    where = " AND ".join(f"({c})" for c in span_conditions) or "TRUE"
    ctes = [f'{SPAN} AS (SELECT min(date) AS start, least(max(date), {cap}) AS "end" FROM {calendar} WHERE {where})']
    for i, expr in level_exprs.items():
        ctes += [f"{first_days_cte(i)} AS (SELECT min(date) AS d FROM {calendar} GROUP BY {expr})",
                 f"{last_days_cte(i)} AS (SELECT least(max(date), {cap}) AS d FROM {calendar} GROUP BY {expr})"]
    return ctes


def shifted_end(day: str, shift: str) -> str:
    """The end of the comparison period of a period ending on `day`."""
    return f"CAST(CAST({day} + INTERVAL 1 DAY - {shift} AS DATE) - INTERVAL 1 DAY AS DATE)"


def stock_dates(level_positions, shift: str | None, at: str = START, year_starts_of: str | None = None) -> str:
    """The dates snapshots are needed at: first (or last) days of the span and of the members, and
    the same days a comparison period earlier. With `year_starts_of` (a calendar table, for year
    to date) the first days of its years instead of the members'."""
    if at == END:
        base = " UNION ".join([f'SELECT "end" AS d FROM {SPAN}']
                              + [f"SELECT d FROM {last_days_cte(i)}" for i in level_positions])
        return base if shift is None else f"SELECT d FROM ({base}) UNION SELECT {shifted_end('d', shift)} FROM ({base})"
    members = ([f"SELECT DISTINCT CAST(date_trunc('year', date) AS DATE) AS d FROM {year_starts_of}"]
               if year_starts_of else [f"SELECT d FROM {first_days_cte(i)}" for i in level_positions])
    base = " UNION ".join([f"SELECT start AS d FROM {SPAN}"] + members)
    if shift is None:
        return base
    return f"SELECT d FROM ({base}) UNION SELECT CAST(d - {shift} AS DATE) FROM ({base})"


@dataclass(frozen=True)
class Periods:
    """Where the rows of one aggregation start their periods.

    `time_keys` maps the key columns of the time levels to their position (naming their first-
    and last-days CTEs). `grouped` lists,
    per grouping set (distinct only), the time keys it groups by. `shift` is the comparison period
    of a prior aggregation; `fixed_test`, when set, is used for every row instead (year
    to date, whose time filters pick reporting periods: each cumulates from its year's first day)."""

    time_keys: dict
    grouped: tuple[tuple[str, ...], ...]
    date_column: str
    shift: str | None = None
    fixed_test: str = ""

    def test(self, keys: tuple[str, ...], at: str = START) -> str:
        d, shift = self.date_column, self.shift
        if at == END:  # tested on the original date (see the module docstring)
            ends = [f"SELECT d FROM {last_days_cte(self.time_keys[k])}" for k in keys] + [f'SELECT "end" FROM {SPAN}']
            return " OR ".join(f"{d} IN (SELECT {shifted_end('d', shift) if shift else 'd'} FROM ({e}) e(d))"
                               for e in ends)
        if self.fixed_test:
            return self.fixed_test
        start = f"(SELECT start FROM {SPAN})"
        # the span's first day; in a comparison period shifted back and tested on the original
        # date, so month ends shifted by a month still match
        span = f"{d} = " + (f"CAST({start} - {shift} AS DATE)" if shift else start)
        return " OR ".join([f"__d IN (SELECT d FROM {first_days_cte(self.time_keys[k])})" for k in keys] + [span])


def stock_sql(column: str, where: str, sql_type: str, periods: Periods, at: str = START,
              distinct: bool = False) -> str:
    """Sum (or distinct count) of `column` over the snapshot rows at the first (last) day of each
    row's period."""
    def summed(keys):
        cond = " AND ".join(f"({c})" for c in (where, periods.test(keys, at)) if c)
        if distinct:
            return f"CAST({distinct_count_sql(column, cond)} AS {sql_type})"
        return f"CAST(coalesce(sum({column}) FILTER (WHERE {cond}), 0) AS {sql_type})"

    if len(periods.grouped) <= 1 or (periods.fixed_test and at == START):  # one test serves every set
        return summed(periods.grouped[0] if periods.grouped else ())
    *branches, last = periods.grouped
    whens = [" AND ".join(f"GROUPING({k}) = {0 if k in keys else 1}" for k in periods.time_keys)
             for keys in branches]
    return ("(CASE " + " ".join(f"WHEN {w} THEN {summed(keys)}" for w, keys in zip(whens, branches))
            + f" ELSE {summed(last)} END)")
