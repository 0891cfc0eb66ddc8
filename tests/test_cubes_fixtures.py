"""Shared fixtures of the cube tests: one small demo warehouse per test session, an engine over
it, and its raw tables as pandas frames for the independent oracles."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cubes.engine import Engine
from cubes.rules import load_rules
from data.config import load_params
from layouts.filter_state import DEFAULT_PRESET, FilterState, preset_range

SCALE = 0.05  # 5,000 customers: every code path, seconds to build


@cache
def small_warehouse_path() -> Path:
    from data.generate import generate

    folder = Path(tempfile.mkdtemp(prefix="policycube-cubes-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return generate(folder / "w.duckdb", scale=SCALE, progress=False)


@cache
def raw_tables() -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(small_warehouse_path()), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        # ENUM columns as plain text, so the oracle compares strings like a user would
        return {n: con.execute(f"SELECT * FROM {n}").df().apply(
            lambda s: s.astype(str).where(s.notna(), None) if isinstance(s.dtype, pd.CategoricalDtype) else s)
            for n in names}
    finally:
        con.close()


@pytest.fixture(scope="session")
def warehouse() -> Path:
    return small_warehouse_path()


@pytest.fixture(scope="session")
def engine(warehouse) -> Engine:
    return Engine(warehouse)


@pytest.fixture(scope="session")
def tables(warehouse) -> dict[str, pd.DataFrame]:
    return raw_tables()


@pytest.fixture(scope="session")
def params() -> dict:
    return load_params()


# --- oracle helpers: plain pandas, written from DOMAIN.md, sharing no code with cubes/ ------------
def geography(t) -> pd.DataFrame:
    """branch_id -> region of the branch."""
    return (t["dim_branch"][["branch_id", "city_code"]]
            .merge(t["dim_city"][["city_code", "province_code"]], on="city_code")
            .merge(t["dim_province"][["province_code", "region_code"]], on="province_code")
            .rename(columns={"region_code": "region"})[["branch_id", "region"]])


def month_starts(first: pd.Series, last: pd.Series, by_month: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For rows running from the month after `first` to the month of `last`: (row position, year)
    of every month start in between, e.g. the months a policy was in force at the start of
    (with `by_month`, the month as year * 12 + month - 1 instead of the year)."""
    def index(dates):
        return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()

    start, end = index(first) + 1, index(last)
    length = np.maximum(end - start + 1, 0)
    rows = np.repeat(np.arange(len(first)), length)
    month = np.repeat(start, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
    return rows, (month if by_month else month // 12)


def add_persistency(pol: pd.DataFrame, prem: pd.DataFrame, params: dict) -> pd.DataFrame:
    """13th/25th-month persistency flags and premiums per policy, by DOMAIN.md: due when regular
    premium is payable at that month, the month plus grace has passed and death or maturity did
    not end the policy earlier; kept when that policy year's first premium came within grace."""
    as_of = pd.Timestamp(params["as_of_date"])
    grace = pd.Timedelta(days=params["grace_days"])
    pol = pol.copy()
    for months, year in ((12, 2), (24, 3)):
        limit = pol["issue_date"] + pd.DateOffset(months=months)
        first = prem[(prem["policy_year"] == year) & prem["paid_date"].notna()].groupby("policy_id")["paid_date"].min()
        first_paid = pol["policy_id"].map(first)
        ended = pol["status"].isin(["death_claim", "matured"]) & (pol["status_date"] < limit)
        due = ((pol["payment_frequency"] != "single") & (pol["premium_term_years"] >= year)
               & (limit + grace <= as_of) & ~ended)
        kept = due & first_paid.notna() & (first_paid <= limit + grace)
        n = months + 1
        pol[f"p{n}_due"], pol[f"p{n}_kept"] = due.astype(int), kept.astype(int)
        pol[f"p{n}_due_premium"] = pol["annual_premium"].where(due, 0.0)
        pol[f"p{n}_kept_premium"] = pol["annual_premium"].where(kept, 0.0)
    return pol


def check_every_row(frame: pd.DataFrame, expected, rows, columns, measures) -> int:
    """Compare each engine row with `expected(levels)`, the oracle grouped by the levels that row is
    not summed over (a frame indexed by them, or one row for the grand total). Returns rows checked."""
    grouped = {}
    for _, row in frame.iterrows():
        depth_r = row["_row_depth"] if "_row_depth" in row else len(rows)
        depth_c = row["_col_depth"] if "_col_depth" in row else len(columns)
        levels = list(rows[:depth_r]) + list(columns[:depth_c])
        if tuple(levels) not in grouped:
            grouped[tuple(levels)] = expected(levels)
        want_all = grouped[tuple(levels)]
        key = tuple(row[lv] for lv in levels)
        if not levels:
            want = want_all.iloc[0]
        else:
            key = key if len(key) > 1 else key[0]
            # a cell without facts of some kind has no oracle row: all its sums are zero
            want = want_all.loc[key] if key in want_all.index else pd.Series(0, index=want_all.columns)
        for m in measures:
            if pd.isna(want[m]):
                assert pd.isna(row[m]), (m, key, row[m])
            else:
                assert row[m] == pytest.approx(want[m], rel=1e-9, abs=1e-6), (m, levels, key)
    return len(frame)


def ratio(frame: pd.DataFrame, numerator: str, denominator: str, scale: float = 1.0) -> pd.Series:
    return frame[numerator] / frame[denominator].where(frame[denominator] != 0) * scale


def in_force_at(pol: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """DOMAIN.md's lapse-rate denominator: issued before `day` and not terminated before it."""
    return (pol["issue_date"] < day) & ((pol["status"] == "in_force") | (pol["status_date"] >= day))


def default_period() -> FilterState:
    """The filters a page settles on when the URL sets none: the year to date at the as-of date
    (callbacks/filters.current_filters applies it; tests that build page specs directly start here)."""
    return FilterState((), *preset_range(DEFAULT_PRESET, load_rules().as_of))
