"""Vectorised helpers of the demo generator: dates as epoch days, and random picks by weight.

Dates are int64 days since 1970-01-01 so that millions of them are shifted and compared as
numpy arrays; DuckDB turns them back into DATEs when a table is written (demo_writer.sql_date).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data import reference as ref

EPOCH = dt.date(1970, 1, 1)
NULL_DAY = -1_000_000               # a missing date among epoch days (birth dates go below 0)


def epoch_day(d: dt.date) -> int:
    return (d - EPOCH).days


def month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Epoch days plus whole months, the day clamped to the target month's length (Jan 31 + 1 = Feb 28)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m + np.asarray(months, dtype=np.int64)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    return (first + np.minimum(dom, length - 1)).astype(np.int64)


def dues_until(issue: np.ndarray, step: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """How many instalments, every `step` months from the issue date, fall due on or before `limit`."""
    k = np.floor_divide(month_index(limit) - month_index(issue), step)
    k = np.where(add_months(issue, k * step) > limit, k - 1, k)
    return np.maximum(k + 1, 0)


def choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (rows x categories) weight matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def weighted_in_groups(rng, group: np.ndarray, starts: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Pick one member per row from its group, by weight; members of a group are contiguous.

    `cum` is the running weight over all members, `starts` each group's first member (plus the end).
    """
    lo = np.where(starts[group] > 0, cum[starts[group] - 1], 0.0)
    hi = cum[starts[group + 1] - 1]
    pick = np.searchsorted(cum, lo + rng.random(len(group)) * (hi - lo), side="right")
    return np.clip(pick, starts[group], starts[group + 1] - 1)


def person_names(rng, n: int) -> pa.Array:
    surname = pa.array(ref.SURNAMES).take(pa.array(rng.integers(0, len(ref.SURNAMES), n)))
    given = pa.array(ref.GIVEN_CHARS)
    first = given.take(pa.array(rng.integers(0, len(ref.GIVEN_CHARS), n)))
    second = pa.array(np.where(rng.random(n) < 0.7, np.array(ref.GIVEN_CHARS, dtype=object)[
        rng.integers(0, len(ref.GIVEN_CHARS), n)], ""), pa.string())
    return pc.binary_join_element_wise(surname, first, second, "")
