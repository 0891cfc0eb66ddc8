"""Gaps in one customer's history, to be flagged on the page rather than hidden. No Dash, no SQL:
a pure function of the customer's record.

    missed      instalments unpaid past the grace period, one gap per policy and month
    lapse       policies that lapsed or were surrendered (the premium stream stops there)
    no_records  instalments a regular-premium policy should have had but the warehouse has no row
                for (e.g. a load that skipped months): expected one every 12 / payments-per-year
                months from issue, within the premium term, while the policy ran, in the period
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from cubes.customer_view import CustomerRecord

PER_YEAR = {"annual": 1, "semiannual": 2, "quarterly": 4, "monthly": 12}
ENDED_BY_LAPSE = ("lapsed", "surrendered")


@dataclass(frozen=True)
class Gap:
    kind: str  # missed | lapse | no_records
    policy_id: str
    start: str  # ISO date (first of the month for month ranges)
    end: str
    count: int = 1
    amount: float = 0.0


def _month(day) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> str:
    return dt.date(index // 12, index % 12 + 1, 1).isoformat()


def history_gaps(record: CustomerRecord, as_of: dt.date) -> list[Gap]:
    """Every gap in the record's period, in date order."""
    gaps = _missed(record.premiums) + _lapses(record) + _no_records(record, as_of)
    return sorted(gaps, key=lambda g: (g.start, g.kind, g.policy_id))


def _missed(premiums: pd.DataFrame) -> list[Gap]:
    missed = premiums[premiums["state"] == "missed"]
    out = []
    for (policy, month), rows in missed.groupby([missed["policy_id"], missed["due_date"].map(_month)]):
        out.append(Gap("missed", policy, _month_start(month), rows["due_date"].max().date().isoformat(),
                       len(rows), float(rows["amount"].sum())))
    return out


def _lapses(record: CustomerRecord) -> list[Gap]:
    ended = record.policies[record.policies["status"].isin(ENDED_BY_LAPSE)]
    out = []
    for row in ended.itertuples():
        day = row.status_date.date().isoformat()
        if _in_period(day, record):
            out.append(Gap("lapse", row.policy_id, day, day))
    return out


def _in_period(day: str, record: CustomerRecord) -> bool:
    period = record.period
    return (not period.start or day >= period.start) and (not period.end or day <= period.end)


def _no_records(record: CustomerRecord, as_of: dt.date) -> list[Gap]:
    period = record.period
    first = _month(dt.date.fromisoformat(period.start)) if period.start else None
    last = _month(min(dt.date.fromisoformat(period.end), as_of) if period.end else as_of)
    out = []
    for policy in record.policies.itertuples():
        if policy.payment_frequency not in PER_YEAR:
            continue
        rows = record.premiums[record.premiums["policy_id"] == policy.policy_id].sort_values("due_date")
        recorded = set(rows["due_date"].map(_month))
        stream_ended = policy.status in ENDED_BY_LAPSE or (len(rows) and rows["state"].iloc[-1] == "missed")
        missing = [m for m in _expected_months(policy, recorded, last, stream_ended)
                   if (first is None or m >= first) and m not in recorded]
        out += _ranges(policy.policy_id, missing, 12 // PER_YEAR[policy.payment_frequency])
    return out


def _expected_months(policy, recorded: set[int], last: int, stream_ended: bool) -> range:
    """Months an instalment falls due while the policy runs and owes premium, up to month `last`.
    The month of `last` itself and of the status date are left out: a due date late in that month
    may fall after the day. After a missed instalment that ended the stream (a lapse) nothing is due."""
    step = 12 // PER_YEAR[policy.payment_frequency]
    issue = _month(policy.issue_date)
    stop = min(issue + 12 * policy.premium_term_years - 1, last - 1)
    if stream_ended:
        stop = min(stop, max(recorded, default=issue))
    if policy.status not in ("in_force",) + ENDED_BY_LAPSE:
        stop = min(stop, _month(policy.status_date) - 1)
    return range(issue, stop + 1, step)


def _ranges(policy_id: str, months: list[int], step: int) -> list[Gap]:
    """Consecutive expected months (one step apart) folded into one gap each."""
    out: list[Gap] = []
    for m in months:
        if out and _month(dt.date.fromisoformat(out[-1].end)) + step == m:
            last = out[-1]
            out[-1] = Gap("no_records", policy_id, last.start, _month_start(m), last.count + 1)
        else:
            out.append(Gap("no_records", policy_id, _month_start(m), _month_start(m)))
    return out
