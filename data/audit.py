"""The audit log: sign-ins (success, failure, lockout, throttled address), sign-outs, exports and user changes.

Rows live in the access database (data/users.py opens it) in a table that SQLite itself keeps
append-only: triggers abort any UPDATE or DELETE, so not even a bug in this code can rewrite history.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,              -- UTC, ISO 8601 with microseconds: sorts as text
    actor   TEXT NOT NULL,              -- who did it (the user name tried, for a failed sign-in)
    action  TEXT NOT NULL,
    target  TEXT,                       -- the user changed, or the export's view/kind
    detail  TEXT,                       -- JSON: the export's query spec, a change's new value ...
    rows    INTEGER,                    -- rows exported
    address TEXT                        -- the client's IP address
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, action, at);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target, action, at);
CREATE INDEX IF NOT EXISTS audit_log_address ON audit_log (address, action, at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

ACTIONS = ("login", "login_failed", "login_locked", "login_throttled", "logout", "export_started", "export",
           "user_added", "role_set", "scope_set", "password_reset", "user_disabled", "user_enabled", "user_unlocked")
COLUMNS = ("id", "at", "actor", "action", "target", "detail", "rows", "address")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record(con: sqlite3.Connection, actor: str, action: str, target: str | None = None, detail=None,
           rows: int | None = None, address: str | None = None, at: dt.datetime | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    text = detail if detail is None or isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    with con:
        con.execute("INSERT INTO audit_log (at, actor, action, target, detail, rows, address) VALUES (?,?,?,?,?,?,?)",
                    ((at or now()).isoformat(), actor, action, target, text, rows, address))


def entries(con: sqlite3.Connection, actor: str | None = None, actions: Iterable[str] = (),
            since: dt.date | None = None, until: dt.date | None = None, limit: int = 1000) -> pd.DataFrame:
    """The newest `limit` rows matching every filter given; `until` includes its whole day."""
    conditions, params = [], []
    if actor:
        conditions.append("actor = ?")
        params.append(actor)
    actions = list(actions)
    if actions:
        conditions.append(f"action IN ({', '.join('?' * len(actions))})")
        params += actions
    if since:
        conditions.append("at >= ?")
        params.append(since.isoformat())
    if until:
        conditions.append("at < ?")
        params.append((until + dt.timedelta(days=1)).isoformat())
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log {where} ORDER BY id DESC LIMIT ?",
                       (*params, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(COLUMNS))


def counted(frames: Iterable[pd.DataFrame], done: Callable[[int, bool], None]) -> Iterator[pd.DataFrame]:
    """`frames` passed through; `done(rows, finished)` runs once they stop, even when the client
    hangs up mid-download (finished=False), so a partial export is logged with what was sent."""
    rows, finished = 0, False
    try:
        for frame in frames:
            rows += len(frame)
            yield frame
        finished = True
    finally:
        done(rows, finished)
