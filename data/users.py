"""Users, roles and row scopes of the dashboard, and the command that manages them.

    python -m data.users add NAME --role ROLE [--region east ...|--branch B..|--agent A..] [--display-name ..]
    python -m data.users set-role NAME ROLE
    python -m data.users set-scope NAME [--region ..|--branch ..|--agent ..]
    python -m data.users reset-password NAME
    python -m data.users disable NAME   |   enable NAME
    python -m data.users unlock NAME        (lift a lock after failed sign-ins)
    python -m data.users list

Passwords are asked for on the terminal (or read from POLICYCUBE_PASSWORD, for scripts) and stored
as werkzeug scrypt hashes. Users and the audit log live in a SQLite file beside the warehouse
(POLICYCUBE_ACCESS_DB overrides the path): every gunicorn worker holds the DuckDB warehouse open
read-only, so it cannot take writes, while SQLite in WAL mode serves several processes at once.

The demo accounts (DEMO_ACCOUNTS) exist only with the demo data: they are created when the app finds
the demo warehouse, and refused at sign-in once the warehouse holds loaded data (data/load.py
leaves a load_log table) or was not made by data/generate.py (which leaves a demo_dataset table).
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from werkzeug.security import check_password_hash, generate_password_hash

from data import audit, sessions
from data.warehouse import warehouse_path

# role -> the scope key that limits its rows (None: not limited by a key; see cubes/access.py)
ROLES = {"executive": None, "analyst": None, "regional_manager": "region", "agency_manager": "branch",
         "agent": "agent", "admin": None}
SCOPE_TABLES = {"region": ("dim_region", "region_code"), "branch": ("dim_branch", "branch_id"),
                "agent": ("dim_agent", "agent_id")}
MIN_PASSWORD = 8
MAX_FAILURES, FAILURE_WINDOW, LOCK_TIME = 5, dt.timedelta(minutes=15), dt.timedelta(minutes=15)
# Failed sign-ins from one address (any user names) before that address must wait: slows guessing
# across accounts, and locking many accounts. Generous, since an office may share one address.
ADDRESS_FAILURES, ADDRESS_WINDOW = 20, dt.timedelta(minutes=15)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '{}',   -- JSON {"region": ["east"]}
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    demo          INTEGER NOT NULL DEFAULT 0,
    generation    INTEGER NOT NULL DEFAULT 0,   -- bumped by every change: older sessions end
    created_at    TEXT NOT NULL
);
"""

DEMO_PASSWORD = "policycube-demo"
# Scope codes "pick" from the demo warehouse: the east-region branch with most agents, its active
# agent with most customers. The generator is deterministic, so the choice is stable per scale.
DEMO_ACCOUNTS = (
    ("demo-exec", "executive", "演示·高层", None),
    ("demo-analyst", "analyst", "演示·产品分析", None),
    ("demo-region", "regional_manager", "演示·华东区域经理", "region"),
    ("demo-branch", "agency_manager", "演示·营业部经理", "branch"),
    ("demo-agent", "agent", "演示·营销员", "agent"),
    ("demo-admin", "admin", "演示·管理员", None),
)
DEMO_SCOPE_SQL = {
    "region": "SELECT 'east'",
    "branch": """SELECT a.branch_id FROM dim_agent a JOIN dim_branch b USING (branch_id)
                 JOIN dim_city c USING (city_code) JOIN dim_province p USING (province_code)
                 WHERE p.region_code = 'east' GROUP BY a.branch_id ORDER BY count(*) DESC, a.branch_id LIMIT 1""",
    "agent": """SELECT p.agent_id FROM fact_policy p JOIN dim_agent a USING (agent_id)
                WHERE a.leave_date IS NULL AND a.branch_id = $branch
                GROUP BY p.agent_id ORDER BY count(DISTINCT p.customer_id) DESC, p.agent_id LIMIT 1""",
}


class UserError(ValueError):
    """A user-management request that cannot be done (unknown user or role, weak password ...)."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    scope: dict = field(default_factory=dict)
    disabled: bool = False
    demo: bool = False
    generation: int = 0


def access_db_path() -> Path:
    return Path(os.environ.get("POLICYCUBE_ACCESS_DB") or warehouse_path().with_name("policycube_access.sqlite"))


def _owner_only(path: Path) -> None:
    """Password hashes, sessions and the audit log: readable by the server's user alone. SQLite
    creates the -wal and -shm files with the database file's mode, so that is the one to set; a
    database made 0644 by an earlier version is tightened with its companions."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
            file.chmod(0o600)


# Access databases this process has set up: every request connects, and DDL on each would take
# the database's write lock against every other request's sign-in check.
_READY: set[Path] = set()


def connect(path: Path | None = None) -> sqlite3.Connection:
    path = Path(path or access_db_path())
    fresh = path not in _READY or not path.exists()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        _owner_only(path)
    con = sqlite3.connect(path, timeout=15, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 15000")
    if fresh:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(SCHEMA + audit.SCHEMA + sessions.SCHEMA)
        _READY.add(path)
    return con


def _user(row) -> User:
    username, display_name, role, scope, disabled, demo, generation = row
    return User(username, display_name, role, json.loads(scope), bool(disabled), bool(demo), generation)


def get_user(con: sqlite3.Connection, username: str) -> User | None:
    row = con.execute("SELECT username, display_name, role, scope, disabled, demo, generation FROM users "
                      "WHERE username = ?", (username,)).fetchone()
    return _user(row) if row else None


def list_users(con: sqlite3.Connection) -> list[User]:
    return [_user(r) for r in con.execute("SELECT username, display_name, role, scope, disabled, demo, generation "
                                          "FROM users ORDER BY username")]


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")


def check_scope(role: str, scope: dict, warehouse: Path | None = None) -> dict:
    """The scope a role needs (regions, a branch's ids, agent ids), with every code known to the warehouse."""
    key = ROLES[role]
    extra = set(scope) - {key}
    if extra:
        raise UserError(f"role {role} takes {'no scope' if key is None else '--' + key}, not --{', --'.join(extra)}")
    if key is None:
        return {}
    codes = sorted(set(scope.get(key) or ()))
    if not codes:
        raise UserError(f"role {role} needs --{key} (one or more codes)")
    table, column = SCOPE_TABLES[key]
    with duckdb.connect(str(warehouse or warehouse_path()), read_only=True) as wh:
        known = {r[0] for r in wh.execute(f"SELECT {column} FROM {table} WHERE {column} IN "
                                          f"({', '.join('?' * len(codes))})", codes).fetchall()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise UserError(f"unknown {key} code(s) in the warehouse: {', '.join(unknown)}")
    return {key: codes}


def add_user(con: sqlite3.Connection, username: str, password: str, role: str, scope: dict, actor: str,
             display_name: str | None = None, demo: bool = False) -> User:
    _check_role(role)
    _check_password(password)
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserError("a user name is letters, digits, '-', '_' or '.'")
    try:
        con.execute("INSERT INTO users (username, display_name, role, scope, password_hash, demo, created_at) "
                    "VALUES (?,?,?,?,?,?,?)", (username, display_name or username, role, json.dumps(scope),
                                               generate_password_hash(password), int(demo), audit.now().isoformat()))
    except sqlite3.IntegrityError:
        raise UserError(f"user {username!r} exists already") from None
    audit.record(con, actor, "user_added", username, {"role": role, "scope": scope, "demo": demo})
    return get_user(con, username)


def _change(con: sqlite3.Connection, username: str, actor: str, action: str, detail, sql: str, params=()) -> None:
    with con:
        changed = con.execute(f"UPDATE users SET {sql}, generation = generation + 1 WHERE username = ?",
                              (*params, username)).rowcount
    if not changed:
        raise UserError(f"no user {username!r}")
    audit.record(con, actor, action, username, detail)


def set_role(con, username: str, role: str, scope: dict, actor: str) -> None:
    _check_role(role)
    _change(con, username, actor, "role_set", {"role": role, "scope": scope}, "role = ?, scope = ?",
            (role, json.dumps(scope)))


def set_scope(con, username: str, scope: dict, actor: str) -> None:
    _change(con, username, actor, "scope_set", {"scope": scope}, "scope = ?", (json.dumps(scope),))


def reset_password(con, username: str, password: str, actor: str) -> None:
    _check_password(password)
    _change(con, username, actor, "password_reset", None, "password_hash = ?", (generate_password_hash(password),))


def set_disabled(con, username: str, disabled: bool, actor: str) -> None:
    _change(con, username, actor, "user_disabled" if disabled else "user_enabled", None, "disabled = ?",
            (int(disabled),))


def unlock(con, username: str, actor: str) -> None:
    """Lift a lock after failed sign-ins: failures before this no longer count (sessions go on)."""
    if get_user(con, username) is None:
        raise UserError(f"no user {username!r}")
    audit.record(con, actor, "user_unlocked", username)


# --- signing in -------------------------------------------------------------------------------------
# Checked against this when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


def locked_until(con: sqlite3.Connection, username: str, at: dt.datetime) -> dt.datetime | None:
    """When the lock on `username` ends: MAX_FAILURES failed sign-ins within FAILURE_WINDOW, none
    followed by a success, an unlock or a new password, lock it for LOCK_TIME after the last of them."""
    lifted = con.execute("SELECT max(at) FROM audit_log WHERE target = ? AND action IN ('user_unlocked', 'password_reset')",
                         (username,)).fetchone()[0]
    since = max((at - FAILURE_WINDOW - LOCK_TIME).isoformat(), lifted or "")
    rows = con.execute("SELECT action, at FROM audit_log WHERE actor = ? AND action IN ('login', 'login_failed') "
                       "AND at > ? ORDER BY id DESC LIMIT ?", (username, since, MAX_FAILURES)).fetchall()
    if len(rows) < MAX_FAILURES or any(action == "login" for action, _ in rows):
        return None
    last, first = dt.datetime.fromisoformat(rows[0][1]), dt.datetime.fromisoformat(rows[-1][1])
    until = last + LOCK_TIME
    return until if last - first <= FAILURE_WINDOW and at < until else None


def address_throttled(con: sqlite3.Connection, address: str | None, at: dt.datetime) -> bool:
    """Whether `address` made ADDRESS_FAILURES failed sign-ins within ADDRESS_WINDOW."""
    if not address:
        return False
    failures = con.execute("SELECT count(*) FROM audit_log WHERE address = ? AND action IN ('login_failed', 'login_locked') "
                           "AND at >= ?", (address, (at - ADDRESS_WINDOW).isoformat())).fetchone()[0]
    return failures >= ADDRESS_FAILURES


def authenticate(con: sqlite3.Connection, username: str, password: str, address: str | None,
                 demo_allowed: bool, known_browser: bool = False) -> tuple[User | None, str]:
    """(the user, "ok") or (None, "failed" | "locked" | "throttled"); every attempt goes to the audit log.

    A browser the user signed in with before (known_browser: callbacks/known_browser.py) passes the
    address throttle and the account lock with the right password, so neither can be used to lock
    a person out of their own browser; anyone else waits, or asks an administrator to unlock."""
    at = audit.now()
    username = (username or "").strip()[:100]
    if not known_browser and address_throttled(con, address, at):
        audit.record(con, username, "login_throttled", address=address, at=at)
        return None, "throttled"
    if not known_browser and locked_until(con, username, at):
        audit.record(con, username, "login_locked", address=address, at=at)
        return None, "locked"
    row = con.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    matches = check_password_hash(row[0] if row else _DUMMY_HASH, password or "") and row is not None
    user = get_user(con, username) if matches else None
    refused = None if user is None else ("disabled" if user.disabled else
                                         "demo account without the demo data" if user.demo and not demo_allowed
                                         else None)
    if user is None or refused:
        audit.record(con, username, "login_failed", detail=refused, address=address, at=at)
        return None, "locked" if not known_browser and locked_until(con, username, at) else "failed"
    audit.record(con, username, "login", address=address, at=at)
    return user, "ok"


# --- demo accounts ----------------------------------------------------------------------------------
def is_demo_warehouse(warehouse: Path) -> bool:
    """The generated demo data, with nothing of a user's loaded into it."""
    if not Path(warehouse).exists():
        return False
    with duckdb.connect(str(warehouse), read_only=True) as wh:
        tables = {r[0] for r in wh.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return "demo_dataset" in tables and "load_log" not in tables


def ensure_demo_accounts(con: sqlite3.Connection, warehouse: Path) -> list[str]:
    """Create the missing demo accounts when `warehouse` is the demo data; the names created."""
    if not is_demo_warehouse(warehouse):
        return []
    missing = [a for a in DEMO_ACCOUNTS if get_user(con, a[0]) is None]
    if not missing:
        return []
    with duckdb.connect(str(warehouse), read_only=True) as wh:
        branch = wh.execute(DEMO_SCOPE_SQL["branch"]).fetchall()[0][0]
        codes = {key: wh.execute(sql, {"branch": branch} if "$branch" in sql else None).fetchall()[0][0]
                 for key, sql in DEMO_SCOPE_SQL.items()}
    created = []
    for username, role, display_name, key in missing:
        try:
            add_user(con, username, DEMO_PASSWORD, role, {key: [codes[key]]} if key else {}, "system",
                     display_name, demo=True)
            created.append(username)
        except UserError:  # another worker created it a moment ago
            pass
    return created


# --- command line ---------------------------------------------------------------------------------
def _scope_args(args) -> dict:
    return {key: getattr(args, key) for key in SCOPE_TABLES if getattr(args, key)}


def _new_password(username: str) -> str:
    password = os.environ.get("POLICYCUBE_PASSWORD")
    if password:
        return password
    password = getpass.getpass(f"new password for {username}: ")
    if password != getpass.getpass("repeat it: "):
        raise UserError("the passwords differ")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.users", description="Manage PolicyCube users and roles.")
    commands = parser.add_subparsers(dest="command", required=True)

    def scoped(command):
        for key in SCOPE_TABLES:
            command.add_argument(f"--{key}", action="append", metavar="CODE", help=f"{key} code (repeatable)")
        return command

    add = scoped(commands.add_parser("add", help="add a user (asks for the password)"))
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--display-name")
    role = scoped(commands.add_parser("set-role", help="change a user's role (and its scope)"))
    role.add_argument("username")
    role.add_argument("role", choices=list(ROLES))
    scoped(commands.add_parser("set-scope", help="change the rows a user may see")).add_argument("username")
    commands.add_parser("reset-password", help="set a new password").add_argument("username")
    commands.add_parser("disable", help="refuse the user's sign-in").add_argument("username")
    commands.add_parser("enable", help="allow a disabled user again").add_argument("username")
    commands.add_parser("unlock", help="lift the lock after failed sign-ins").add_argument("username")
    commands.add_parser("list", help="every user with role and scope")
    args = parser.parse_args(argv)

    actor = f"cli:{getpass.getuser()}"
    con = connect()
    try:
        if args.command == "add":
            scope = check_scope(args.role, _scope_args(args))
            add_user(con, args.username, _new_password(args.username), args.role, scope, actor, args.display_name)
        elif args.command == "set-role":
            set_role(con, args.username, args.role, check_scope(args.role, _scope_args(args)), actor)
        elif args.command == "set-scope":
            user = get_user(con, args.username)
            if user is None:
                raise UserError(f"no user {args.username!r}")
            set_scope(con, args.username, check_scope(user.role, _scope_args(args)), actor)
        elif args.command == "reset-password":
            if get_user(con, args.username) is None:
                raise UserError(f"no user {args.username!r}")
            reset_password(con, args.username, _new_password(args.username), actor)
        elif args.command in ("disable", "enable"):
            set_disabled(con, args.username, args.command == "disable", actor)
        elif args.command == "unlock":
            unlock(con, args.username, actor)
        else:
            for user in list_users(con):
                flags = " ".join(f for f, on in (("disabled", user.disabled), ("demo", user.demo)) if on)
                print(f"{user.username:<20} {user.role:<17} {json.dumps(user.scope, ensure_ascii=False):<30} "
                      f"{user.display_name} {flags}".rstrip())
            return 0
    except (UserError, duckdb.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"done: {args.command} {getattr(args, 'username', '')} (access database {access_db_path()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
