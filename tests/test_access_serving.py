"""Access control over HTTP: every endpoint refuses a caller without a session; each role's exports
hold exactly the rows of its scope (checked against hand-written SQL over the raw tables); every
export and sign-in leaves an audit row; lockout, session cookie and session end."""
from __future__ import annotations

import csv
import gc
import datetime as dt
import io
import json
import sqlite3
import time

import duckdb
import pytest

from data import audit, users

MONTH = ["2026-03-01", "2026-03-31"]
PREMIUM_SPEC = {"cube": "policies", "measures": ["written_premium"],
                "filters": [{"dim": "time.month", "op": "between", "values": MONTH}]}
BY_REGION = {**PREMIUM_SPEC, "rows": ["geography.region"]}
PUBLIC = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico")


@pytest.fixture(scope="module")
def served(demo_warehouse, tmp_path_factory):
    """The app on the demo warehouse with a fresh users database."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYCUBE_DATA", str(demo_warehouse))
        mp.setenv("POLICYCUBE_ACCESS_DB", str(tmp_path_factory.mktemp("access") / "access.sqlite"))
        import app

        yield app


@pytest.fixture(scope="module")
def raw(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    yield con
    con.close()


def sign_in(served, username: str, password: str = users.DEMO_PASSWORD):
    client = served.server.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:300]
    return client


def demo_scope(username: str) -> dict:
    con = users.connect()
    try:
        return users.get_user(con, username).scope
    finally:
        con.close()


def read_csv(response) -> tuple[str, list[dict]]:
    """(the filters line, the data rows as dicts)."""
    assert response.status_code == 200, response.data[:300]
    lines = response.data.decode("utf-8-sig").splitlines()
    return lines[0], list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))


def export(client, spec: dict, kind: str, view: str = "pivot"):
    return client.get(f"/export/{view}.csv", query_string={"spec": json.dumps(spec), "lang": "en", "kind": kind})


# --- the oracle: premium payments of March 2026 each role may see, from the raw tables ---------------
PAYMENTS = """
SELECT CAST(pr.payment_id AS VARCHAR) AS record_id, pr.amount, pv.region_code
FROM fact_premium pr
JOIN fact_policy p ON p.policy_id = pr.policy_id
JOIN dim_branch b ON b.branch_id = p.branch_id
JOIN dim_city ci ON ci.city_code = b.city_code
JOIN dim_province pv ON pv.province_code = ci.province_code
WHERE pr.paid_date BETWEEN DATE '2026-03-01' AND DATE '2026-03-31' AND {where}
"""
ROLE_WHERE = {
    "demo-exec": ("TRUE", []),
    "demo-analyst": ("TRUE", []),
    "demo-region": ("pv.region_code = ?", ["region"]),
    "demo-branch": ("p.branch_id = ?", ["branch"]),
    "demo-agent": ("p.customer_id IN (SELECT customer_id FROM fact_policy WHERE agent_id = ?)", ["agent"]),
    "demo-admin": ("FALSE", []),
}


def visible_payments(raw, username: str):
    where, keys = ROLE_WHERE[username]
    scope = demo_scope(username)
    return raw.execute(PAYMENTS.format(where=where), [scope[k][0] for k in keys]).df()


@pytest.mark.parametrize("username", list(ROLE_WHERE))
def test_each_role_exports_exactly_the_records_and_totals_of_its_scope(served, raw, username):
    client = sign_in(served, username)
    expected = visible_payments(raw, username)
    _line, records = read_csv(export(client, PREMIUM_SPEC, "records"))
    premium_rows = [r for r in records if r["Record type"] == "Premium payment"]
    assert sorted(r["Record id"] for r in premium_rows) == sorted(expected["record_id"])
    assert len(premium_rows) == len(records)

    _line, table = read_csv(export(client, BY_REGION, "table"))
    shown = {r["Region"]: float(r["Written premium (CNY)"]) for r in table if r["Region"] not in ("Total", "合计")}
    by_region = expected.groupby("region_code")["amount"].sum()
    labels = dict(raw.execute("SELECT region_code, name_en FROM dim_region").fetchall())
    assert shown == pytest.approx({labels[code]: round(value, 2) for code, value in by_region.items()}, abs=0.01)
    if username in ("demo-region", "demo-branch", "demo-agent"):
        assert 0 < len(expected) < len(visible_payments(raw, "demo-exec"))


def test_a_filter_for_another_region_exports_nothing(served, raw):
    client = sign_in(served, "demo-region")
    north = {**PREMIUM_SPEC, "filters": PREMIUM_SPEC["filters"] + [
        {"dim": "geography.region", "op": "in", "values": ["north"]}]}
    line, records = read_csv(export(client, north, "records"))
    assert records == []
    # the file says what was asked (by its code: names of members outside the scope are not given)
    assert "Region: north" in line
    _line, table = read_csv(export(client, {**north, "rows": ["geography.region"]}, "table"))
    assert all(r["Region"] != "North China" for r in table)


EXPORT_ACTIONS = ["export_started", "export"]


def _new_export_rows(con, before):
    rows = audit.entries(con, actor="demo-branch", actions=EXPORT_ACTIONS)
    return rows[~rows["id"].isin(before["id"])].sort_values("id")


def test_every_export_leaves_an_audit_row_with_user_spec_and_rows(served):
    client = sign_in(served, "demo-branch")
    con = users.connect()
    before = audit.entries(con, actor="demo-branch", actions=EXPORT_ACTIONS)
    _line, records = read_csv(export(client, PREMIUM_SPEC, "records", view="explore"))
    _line, table = read_csv(export(client, BY_REGION, "table", view="explore"))
    new = _new_export_rows(con, before)
    # each export: a row before its first byte, then one with the rows sent, the same export_id
    assert list(new["action"]) == EXPORT_ACTIONS * 2
    assert list(new["target"]) == ["explore/records"] * 2 + ["explore/table"] * 2
    assert list(new["rows"].iloc[[1, 3]]) == [len(records), len(table)]
    started, ended = (json.loads(d) for d in new["detail"].iloc[:2])
    assert started["export_id"] == ended["export_id"] != json.loads(new["detail"].iloc[2])["export_id"]
    assert ended["spec"]["filters"][0]["values"] == MONTH and ended["complete"] is True


def test_an_export_cut_mid_stream_is_on_record_from_its_first_byte(served):
    """A download the client drops (or whose worker dies) after the first chunk: the start row was
    written before any byte went out; the end row says the file is incomplete."""
    client = sign_in(served, "demo-branch")
    con = users.connect()
    before = audit.entries(con, actor="demo-branch", actions=EXPORT_ACTIONS)
    response = client.get("/export/explore.csv", buffered=False, query_string={
        "spec": json.dumps(PREMIUM_SPEC), "lang": "en", "kind": "records"})
    chunks = iter(response.response)
    assert next(chunks).startswith(b"\xef\xbb\xbf")  # the BOM and the filters line, then the first records
    assert next(chunks)
    assert list(_new_export_rows(con, before)["action"]) == ["export_started"]
    response.close()
    gc.collect()  # the stream's generators are closed as they are freed
    new = _new_export_rows(con, before)
    assert list(new["action"]) == EXPORT_ACTIONS and json.loads(new["detail"].iloc[1])["complete"] is False


@pytest.mark.parametrize("cell", ['{"nope": "x"}', '{"geography.region": "north", "time.day": "x"}'])
def test_an_export_the_cube_cannot_answer_is_refused_before_its_first_byte(served, cell):
    client = sign_in(served, "demo-branch")
    response = client.get("/export/pivot.csv", query_string={
        "spec": json.dumps(BY_REGION), "lang": "en", "kind": "records", "cell": cell})
    assert response.status_code == 400
    assert not response.data.startswith(b"\xef\xbb\xbf") and b"not valid" in response.data.lower()


def _real_callback_payload(client) -> dict:
    """The header badge's callback exactly as the browser posts it (from /_dash-dependencies)."""
    dependencies = client.get("/_dash-dependencies").get_json()
    badge = next(d for d in dependencies if "user-scope.children" in d["output"])
    return {"output": badge["output"],
            "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                        for o in badge["output"].strip(".").split("...")],
            "inputs": [{"id": i["id"], "property": i["property"], "value": "?lang=en"} for i in badge["inputs"]],
            "changedPropIds": ["url.search"], "state": []}


def test_every_endpoint_refuses_a_caller_without_session(served):
    signed = sign_in(served, "demo-exec")
    payload = _real_callback_payload(signed)
    answered = signed.post("/_dash-update-component", json=payload)
    assert answered.get_json()["response"]["user-scope"]["children"] == "Executive · all data"  # a real payload

    anonymous = served.server.test_client()
    refused = anonymous.post("/_dash-update-component", json=payload)
    assert refused.status_code == 401 and "response" not in refused.text
    for rule in served.server.url_map.iter_rules():
        if rule.rule.startswith(PUBLIC):
            continue
        paths = ([f"/export/{view}.csv?kind={kind}&spec={json.dumps(PREMIUM_SPEC)}"
                  for view in ("overview", "explore", "pivot", "contribution", "agents", "customer")
                  for kind in ("table", "records")] if "<view>" in rule.rule
                 else [rule.rule.replace("<path:path>", "customer").replace("<path:filename>", "x.css")])
        for path in paths:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                response = anonymous.open(path, method=method)
                if response.status_code == 302:  # pages ask the browser to sign in
                    assert response.headers["Location"].startswith("/login?next=")
                    assert not path.startswith(("/_dash", "/export"))
                else:
                    assert response.status_code == 401, (method, path, response.status_code)
                assert b"record" not in response.data.lower() and b"premium" not in response.data.lower()


def test_sign_in_failures_lock_the_account_and_are_audited(served):
    con = users.connect()
    users.add_user(con, "lock-test", "right-password", "executive", {}, "test")
    client = served.server.test_client()
    for _ in range(users.MAX_FAILURES - 1):
        assert client.post("/login", data={"username": "lock-test", "password": "wrong"}).status_code == 401
    fifth = client.post("/login", data={"username": "lock-test", "password": "wrong"})
    assert fifth.status_code == 429 and "锁定" in fifth.text
    # the right password is refused while locked, and says why
    assert client.post("/login", data={"username": "lock-test", "password": "right-password"}).status_code == 429
    assert client.get("/_dash-layout").status_code == 401
    log = audit.entries(con, actor="lock-test")
    assert list(log["action"]) == ["login_locked", *["login_failed"] * users.MAX_FAILURES]
    # the lock ends LOCK_TIME after the last failure
    last_failure = dt.datetime.fromisoformat(log[log["action"] == "login_failed"]["at"].iloc[0])
    assert users.locked_until(con, "lock-test", last_failure + users.LOCK_TIME / 2) is not None
    assert users.locked_until(con, "lock-test", last_failure + users.LOCK_TIME) is None


def attempt(client, username: str, password: str) -> int:
    return client.post("/login", data={"username": username, "password": password}).status_code


def from_address(served, address: str):
    client = served.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_lock_set_by_someone_else_does_not_shut_the_user_out_of_their_own_browser(served):
    con = users.connect()
    users.add_user(con, "victim", "victims-password", "analyst", {}, "test")
    own = from_address(served, "192.0.2.10")              # the browser the victim signs in with
    assert attempt(own, "victim", "victims-password") == 302
    assert sign_out(own).status_code == 302
    attacker = from_address(served, "198.51.100.9")
    for _ in range(users.MAX_FAILURES):
        attempt(attacker, "victim", "a-guess")
    assert attempt(attacker, "victim", "victims-password") == 429     # locked for others
    assert attempt(from_address(served, "192.0.2.10"), "victim", "victims-password") == 429  # a new browser
    forged = from_address(served, "192.0.2.10")
    forged.set_cookie("policycube_known", "victim", path="/login")
    assert attempt(forged, "victim", "victims-password") == 429
    # the victim's own browser: the right password signs in, and lifts the lock
    assert attempt(own, "victim", "a-wrong-password") == 401
    assert attempt(own, "victim", "victims-password") == 302
    assert own.get("/_dash-layout").status_code == 200
    assert attempt(from_address(served, "192.0.2.11"), "victim", "victims-password") == 302


def test_an_administrator_lifts_a_lock(served, capsys):
    con = users.connect()
    users.add_user(con, "locked-out", "right-password", "analyst", {}, "test")
    for _ in range(users.MAX_FAILURES):
        attempt(from_address(served, "198.51.100.20"), "locked-out", "a-guess")
    assert attempt(from_address(served, "192.0.2.20"), "locked-out", "right-password") == 429
    assert users.main(["unlock", "locked-out"]) == 0
    assert attempt(from_address(served, "192.0.2.20"), "locked-out", "right-password") == 302
    unlocked = audit.entries(con, actions=["user_unlocked"])
    assert list(unlocked["target"]) == ["locked-out"] and unlocked["actor"].iloc[0].startswith("cli:")
    assert users.main(["unlock", "nobody-at-all"]) == 2 and "no user 'nobody-at-all'" in capsys.readouterr().err


def test_many_failures_from_one_address_make_it_wait_whatever_the_name(served):
    con = users.connect()
    users.add_user(con, "throttle-test", "right-password", "analyst", {}, "test")
    guesser = from_address(served, "203.0.113.7")
    for i in range(users.ADDRESS_FAILURES):        # a different name each time: no account locks
        assert attempt(guesser, f"guess-{i}", "a-guess") == 401
    refused = guesser.post("/login", data={"username": "throttle-test", "password": "right-password"})
    assert refused.status_code == 429 and "此网络地址登录失败次数过多" in refused.text
    assert users.locked_until(con, "throttle-test", audit.now()) is None       # the account is not locked
    assert attempt(from_address(served, "203.0.113.8"), "throttle-test", "right-password") == 302
    throttled = audit.entries(con, actions=["login_throttled"])
    assert list(zip(throttled["actor"], throttled["address"])) == [("throttle-test", "203.0.113.7")]


def test_session_cookie_is_httponly_samesite_and_ends(served):
    client = served.server.test_client()
    response = client.post("/login", data={"username": "demo-analyst", "password": users.DEMO_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/_dash-layout").status_code == 200
    lifetime = served.server.permanent_session_lifetime
    served.server.permanent_session_lifetime = 1
    try:
        time.sleep(2.1)
        assert client.get("/_dash-layout").status_code == 401
    finally:
        served.server.permanent_session_lifetime = lifetime


def test_logout_and_a_password_reset_end_the_session(served):
    con = users.connect()
    users.add_user(con, "reset-test", "first-password", "analyst", {}, "test")
    client = sign_in(served, "reset-test", "first-password")
    assert client.get("/_dash-layout").status_code == 200
    users.reset_password(con, "reset-test", "second-password", "test")
    assert client.get("/_dash-layout").status_code == 401

    client = sign_in(served, "reset-test", "second-password")
    assert sign_out(client).headers["Location"].startswith("/login")
    assert client.get("/_dash-layout").status_code == 401
    assert "logout" in set(audit.entries(con, actor="reset-test")["action"])


def sign_out_token(client) -> str:
    """The token the header's sign-out button posts, as the browser receives it in the layout."""
    def find(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "logout-link":
                return node["props"]["value"]
            return next((found for value in node.values() if (found := find(value))), None)
        if isinstance(node, list):
            return next((found for value in node if (found := find(value))), None)
        return None

    token = find(client.get("/_dash-layout").get_json())
    assert token
    return token


def sign_out(client):
    return client.post("/logout", data={"csrf": sign_out_token(client)})


def test_a_cookie_copied_before_sign_out_is_refused_after_it(served):
    client = sign_in(served, "demo-exec")
    copy = served.server.test_client()
    copy.set_cookie("policycube_session", client.get_cookie("policycube_session").value)
    assert copy.get("/_dash-layout").status_code == 200
    assert export(copy, PREMIUM_SPEC, "table").status_code == 200
    assert sign_out(client).status_code == 302
    assert copy.get("/_dash-layout").status_code == 401
    assert export(copy, PREMIUM_SPEC, "table").status_code == 401
    assert export(copy, PREMIUM_SPEC, "records").status_code == 401


@pytest.mark.parametrize("forged", [None, "", "not-the-token"], ids=["no-token", "empty", "wrong"])
def test_sign_out_needs_a_post_with_the_sessions_token(served, forged):
    client = sign_in(served, "demo-analyst")
    # a link or another site's page: GET only shows the sign-out button, which carries the token
    page = client.get("/logout?lang=en")
    assert page.status_code == 200 and "Do you want to sign out?" in page.data.decode()
    assert f'value="{sign_out_token(client)}"' in page.data.decode()
    assert client.get("/_dash-layout").status_code == 200
    refused = client.post("/logout", data={} if forged is None else {"csrf": forged})
    assert refused.status_code == 403 and "退出请求无效" in refused.data.decode()
    assert client.get("/_dash-layout").status_code == 200
    assert sign_out(client).status_code == 302
    assert client.get("/_dash-layout").status_code == 401


SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def test_every_response_carries_the_security_headers(served):
    anonymous, client = served.server.test_client(), sign_in(served, "demo-exec")
    requests = {
        "login page": lambda: anonymous.get("/login"),
        "refused page": lambda: anonymous.get("/pivot"),
        "refused callback": lambda: anonymous.post("/_dash-update-component", json={}),
        "asset": lambda: anonymous.get("/assets/theme.css"),
        "page": lambda: client.get("/explore"),
        "layout": lambda: client.get("/_dash-layout"),
        "export": lambda: export(client, PREMIUM_SPEC, "table"),
        "records export": lambda: export(client, PREMIUM_SPEC, "records"),
        "sign-out page": lambda: client.get("/logout"),
    }
    responses = {}
    for name, ask in requests.items():
        responses[name] = response = ask()
        response.get_data()                        # a streamed export ends before the next request
        assert response.status_code in (200, 302, 401), name
        assert {k: response.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS, name
        policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", name
        # scripts: this site and Dash's inline start-up script by its hash, never any inline script
        assert policy["script-src"].startswith("'self' 'sha256-") and "unsafe" not in policy["script-src"], name
    for name in ("export", "records export", "layout", "page"):
        assert responses[name].headers["Cache-Control"] == "no-store", name
    assert "no-store" not in responses["asset"].headers.get("Cache-Control", "")


def test_the_access_database_and_its_wal_are_for_the_owner_only(served):
    con = users.connect()
    con.execute("SELECT count(*) FROM audit_log").fetchone()  # a reader: SQLite keeps the WAL until the last one closes
    try:
        sign_in(served, "demo-analyst")           # writes the audit log
        path = users.access_db_path()
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            assert file.exists() and file.stat().st_mode & 0o777 == 0o600, file
    finally:
        con.close()
    fresh = path.with_name("fresh.sqlite")
    users.connect(fresh).close()
    assert fresh.stat().st_mode & 0o777 == 0o600


def test_an_access_database_made_world_readable_is_tightened(tmp_path):
    path = tmp_path / "old.sqlite"
    sqlite3.connect(path).close()  # as an earlier version left it, readable by all
    path.chmod(0o644)
    users.connect(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("elsewhere", ["//evil.example/", "/\t/evil.example/", "https://evil.example/",
                                       "/\\evil.example/"])
def test_a_redirect_after_sign_in_stays_on_this_site(served, elsewhere):
    client = served.server.test_client()
    response = client.post("/login", data={"username": "demo-exec", "password": users.DEMO_PASSWORD,
                                           "next": elsewhere})
    assert response.headers["Location"] == "/"


# --- personal data in exports: shown whole only to roles with the right ----------------------------
GOLD_VIPS = {"cube": "contribution", "measures": ["contribution"],
             "filters": [{"dim": "vip_tier", "op": "in", "values": ["gold_vip"]},
                         {"dim": "geography.region", "op": "in", "values": ["east"]}]}


@pytest.mark.parametrize("username, masked", [("demo-exec", False), ("demo-analyst", True), ("demo-region", True)])
def test_exported_customer_names_are_masked_for_roles_without_the_right(served, raw, username, masked):
    _line, rows = read_csv(export(sign_in(served, username), GOLD_VIPS, "records", view="contribution"))
    names = dict(raw.execute("""SELECT customer_id, name FROM dim_customer c
                                JOIN dim_branch b USING (branch_id) JOIN dim_city ci ON ci.city_code = b.city_code
                                JOIN dim_province pv ON pv.province_code = ci.province_code
                                WHERE c.vip_tier = 'gold_vip' AND pv.region_code = 'east'""").fetchall())
    assert rows and {row["Record id"] for row in rows} <= set(names)
    for row in rows:
        whole = names[row["Record id"]]
        shown = row["Customer name"]
        if masked:  # as long as the name, its first character kept, at most four shown, the rest stars
            assert len(shown) == len(whole) and shown[0] == whole[0] and shown != whole
            assert sum(ch != "*" for ch in shown) <= 4
        else:
            assert shown == whole


# --- the single customer view's exports: that customer's rows, and nothing outside the caller's scope ---
CUSTOMER_IN = """SELECT c.customer_id FROM dim_customer c JOIN dim_branch b USING (branch_id)
                 JOIN dim_city ci ON ci.city_code = b.city_code JOIN dim_province pv ON pv.province_code = ci.province_code
                 WHERE pv.region_code = ? AND (SELECT count(*) FROM fact_policy p WHERE p.customer_id = c.customer_id) >= 3
                 ORDER BY c.customer_id LIMIT 1"""


def customer_export(client, customer_id: str, grid: str):
    return client.get("/export/customer.csv", query_string={
        "spec": json.dumps({"cube": "contribution", "measures": ["customers"]}), "lang": "en", "kind": grid,
        "id": customer_id})


def test_a_customer_export_lists_exactly_their_policies_within_the_callers_scope(served, raw):
    north = raw.execute(CUSTOMER_IN, ["north"]).fetchall()[0][0]
    expected = sorted(r[0] for r in raw.execute("SELECT policy_id FROM fact_policy WHERE customer_id = ?", [north]).fetchall())
    _line, rows = read_csv(customer_export(sign_in(served, "demo-exec"), north, "policies"))
    assert sorted(row["Policy"] for row in rows) == expected
    _line, rows = read_csv(customer_export(sign_in(served, "demo-region"), north, "policies"))  # East China only
    assert rows == []
