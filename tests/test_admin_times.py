"""The audit log's date filter takes Beijing days: a sign-in at 01:30 Beijing time on 4 December is
17:30 UTC on the 3rd, and belongs to the 4th."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from callbacks.admin import _day_start, local_times
from data import audit, users


def test_a_beijing_day_holds_the_rows_of_its_wall_clock_hours(tmp_path):
    con = users.connect(tmp_path / "access.sqlite")
    early = dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC)  # 2026-12-04 01:30 in Beijing
    late = dt.datetime(2026, 12, 4, 15, 59, tzinfo=dt.UTC)   # 2026-12-04 23:59 in Beijing
    after = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)   # 2026-12-05 00:00 in Beijing
    for at in (early, late, after):
        audit.record(con, "wang", "login", at=at)
    day = dt.date(2026, 12, 4)
    shown = audit.entries(con, since=_day_start(day), until=_day_start(day))
    assert sorted(shown["at"]) == [early.isoformat(), late.isoformat()]
    assert list(local_times(pd.Series([early.isoformat()]))) == ["2026-12-04 01:30:00"]
    assert audit.entries(con, since=_day_start(dt.date(2026, 12, 3)), until=_day_start(dt.date(2026, 12, 3))).empty
