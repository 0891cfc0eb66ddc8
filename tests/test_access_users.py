"""The user-management command, hashed passwords, the append-only audit log, and demo accounts
that exist only with the demo data."""
from __future__ import annotations

import sqlite3

import duckdb
import pytest

from data import audit, users


@pytest.fixture
def access(tmp_path, monkeypatch, demo_warehouse):
    monkeypatch.setenv("POLICYCUBE_DATA", str(demo_warehouse))
    monkeypatch.setenv("POLICYCUBE_ACCESS_DB", str(tmp_path / "access.sqlite"))
    monkeypatch.setenv("POLICYCUBE_PASSWORD", "a long enough secret")
    con = users.connect()
    yield con
    con.close()


def test_the_command_adds_changes_and_disables_users_and_every_change_is_audited(access, capsys):
    assert users.main(["add", "wang", "--role", "regional_manager", "--region", "east", "--region", "south"]) == 0
    assert users.get_user(access, "wang").scope == {"region": ["east", "south"]}
    stored = access.execute("SELECT password_hash FROM users WHERE username = 'wang'").fetchone()[0]
    assert stored.startswith("scrypt:") and "a long enough secret" not in stored
    assert users.authenticate(access, "wang", "a long enough secret", None, demo_allowed=False)[1] == "ok"

    assert users.main(["set-role", "wang", "agency_manager", "--branch", "B31010006"]) == 0
    assert users.main(["set-scope", "wang", "--branch", "B31010005"]) == 0
    assert users.main(["reset-password", "wang"]) == 0
    assert users.main(["disable", "wang"]) == 0
    user = users.get_user(access, "wang")
    assert (user.role, user.scope, user.disabled) == ("agency_manager", {"branch": ["B31010005"]}, True)
    assert users.authenticate(access, "wang", "a long enough secret", None, demo_allowed=False)[1] == "failed"

    changes = audit.entries(access, actions=["user_added", "role_set", "scope_set", "password_reset", "user_disabled"])
    assert list(changes["action"]) == ["user_disabled", "password_reset", "scope_set", "role_set", "user_added"]
    assert set(changes["target"]) == {"wang"} and all(changes["actor"].str.startswith("cli:"))

    assert users.main(["list"]) == 0
    assert "wang" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["add", "li", "--role", "regional_manager"], "needs --region"),
    (["add", "li", "--role", "regional_manager", "--region", "atlantis"], "unknown region"),
    (["add", "li", "--role", "executive", "--branch", "B31010006"], "takes no scope"),
    (["set-role", "nobody", "analyst"], "no user"),
])
def test_the_command_refuses_bad_requests_with_a_clear_message(access, capsys, argv, message):
    assert users.main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_short_password_is_refused(access):
    with pytest.raises(users.UserError, match="at least"):
        users.add_user(access, "zhao", "short", "analyst", {}, "test")


def test_the_audit_log_cannot_be_changed_or_deleted(access):
    audit.record(access, "someone", "login", address="10.0.0.1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        access.execute("UPDATE audit_log SET actor = 'nobody'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        access.execute("DELETE FROM audit_log")
    assert list(audit.entries(access)["actor"]) == ["someone"]


def test_demo_accounts_come_only_with_the_demo_data(access, demo_warehouse, tmp_path):
    created = users.ensure_demo_accounts(access, demo_warehouse)
    assert sorted(created) == sorted(name for name, *_ in users.DEMO_ACCOUNTS)
    ok = users.authenticate(access, "demo-exec", users.DEMO_PASSWORD, None, demo_allowed=True)
    assert ok[1] == "ok" and ok[0].demo

    loaded = tmp_path / "own.duckdb"  # the demo with a user's data loaded into it (data/load.py's log table)
    with duckdb.connect(str(loaded)) as con:
        con.execute("CREATE TABLE demo_dataset (seed INTEGER); CREATE TABLE load_log (load_id VARCHAR)")
    assert not users.is_demo_warehouse(loaded)
    built_elsewhere = tmp_path / "elsewhere.duckdb"  # the same tables, not made by the demo generator
    with duckdb.connect(str(built_elsewhere)) as con:
        con.execute("CREATE TABLE dim_agent (agent_id VARCHAR)")
    assert not users.is_demo_warehouse(built_elsewhere)
    fresh = users.connect(tmp_path / "other.sqlite")
    assert users.ensure_demo_accounts(fresh, loaded) == []
    # the demo password does not open an account once the data is not the demo
    assert users.authenticate(access, "demo-exec", users.DEMO_PASSWORD, None, demo_allowed=False) == (None, "failed")
