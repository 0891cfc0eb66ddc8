"""Server-side sign-in sessions, in the access database beside the users and the audit log.

The browser's signed cookie only names a session id; the row here is what makes it valid. Signing
out deletes the row, so a copy of the cookie taken before is worth nothing afterwards (a signed
cookie alone stays valid until it expires). Each session also holds the token that a sign-out form
must send back (CSRF protection: another site cannot read it, so cannot sign a user out).
"""
from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,          -- random, carried in the signed cookie
    username    TEXT NOT NULL,
    csrf        TEXT NOT NULL,             -- the token sign-out forms carry
    started_at  TEXT NOT NULL,             -- UTC, ISO 8601
    expires_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);
"""


@dataclass(frozen=True)
class Session:
    id: str
    username: str
    csrf: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start(con: sqlite3.Connection, username: str, lifetime: dt.timedelta) -> Session:
    at = _now()
    session = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(32))
    with con:
        # sessions that ended by time are of no use to anyone: keep the table small
        con.execute("DELETE FROM sessions WHERE expires_at < ?", (at.isoformat(),))
        con.execute("INSERT INTO sessions (id, username, csrf, started_at, expires_at) VALUES (?,?,?,?,?)",
                    (session.id, username, session.csrf, at.isoformat(), (at + lifetime).isoformat()))
    return session


def find(con: sqlite3.Connection, session_id: str | None, username: str) -> Session | None:
    """The live session with this id for this user, if any."""
    if not session_id or not isinstance(session_id, str):
        return None
    row = con.execute("SELECT id, username, csrf FROM sessions WHERE id = ? AND username = ? AND expires_at > ?",
                      (session_id, username, _now().isoformat())).fetchone()
    return Session(*row) if row else None


def end(con: sqlite3.Connection, session_id: str | None) -> None:
    with con:
        con.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
