"""Sign-in: Flask-Login sessions, the /login and /logout routes, and the guard in front of everything.

Every request needs a signed-in user except the sign-in page itself and static files (app assets,
Dash's JavaScript bundles, the favicon). Without one, a page asks the browser to sign in (redirect
to /login?next=...), and everything else (callbacks, layout, dependencies, downloads) gets 401.
The session is Flask's signed cookie: HttpOnly, SameSite=Lax, Secure when POLICYCUBE_SECURE_COOKIE=1
(behind https), ending POLICYCUBE_SESSION_HOURS (default 8) after sign-in. The cookie names a
server-side session (data/sessions.py) that signing out deletes, so a copy of the cookie is refused
from then on. Sign-out is a POST carrying the session's CSRF token; GET /logout only shows that form.
Any change to the user (password, role, scope, disabled) ends their sessions, because the session
names the user's generation.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from dash import Dash, Input, Output, callback
from flask import Response, current_app, g, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from callbacks import known_browser
from callbacks.engine import shared_engine
from cubes.access import access_for
from data import audit, sessions, users
from data.warehouse import warehouse_path
from layouts.i18n import join_list, normalise_language, t
from layouts.login import login_page, sign_out_page
from layouts.url_query import query_of

PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = ("/login", "/_favicon.ico")
NOT_PAGES = ("/_dash-", "/_reload-hash", "/export/")  # answered with 401, never a redirect
SCOPE_LEVELS = {"region": "geography.region", "branch": "geography.branch"}


class SignedInUser(UserMixin):
    def __init__(self, user: users.User, signed_in: sessions.Session):
        self.username, self.display_name = user.username, user.display_name
        self.role, self.scope, self.generation = user.role, user.scope, user.generation
        self.session_id, self.csrf = signed_in.id, signed_in.csrf  # the sign-out form sends csrf back

    def get_id(self) -> str:
        return f"{self.username}:{self.generation}"


def access_db() -> sqlite3.Connection:
    """This request's connection to the users and audit database."""
    if "access_db" not in g:
        g.access_db = users.connect()
    return g.access_db


def _close_access_db(_error=None) -> None:
    con = g.pop("access_db", None)
    if con is not None:
        con.close()


_demo_checked: dict[tuple, bool] = {}


def demo_allowed() -> bool:
    """Whether the warehouse is the demo data (checked once per file version and users database);
    demo accounts need it, and are created in the users database the first time it is."""
    path = warehouse_path()
    stat = path.stat() if path.exists() else None
    version = (str(users.access_db_path()), str(path), *((stat.st_mtime_ns, stat.st_size) if stat else ()))
    if version not in _demo_checked:
        _demo_checked[version] = users.is_demo_warehouse(path)
        if _demo_checked[version]:
            users.ensure_demo_accounts(access_db(), path)
    return _demo_checked[version]


def load_user(user_id: str) -> SignedInUser | None:
    username, _, generation = user_id.rpartition(":")
    user = users.get_user(access_db(), username)
    if user is None or user.disabled or str(user.generation) != generation or (user.demo and not demo_allowed()):
        return None
    signed_in = sessions.find(access_db(), session.get("sid"), username)
    return SignedInUser(user, signed_in) if signed_in else None


def _safe_next(value: str | None) -> str:
    """Only a path of this site: never '//elsewhere' or 'https://elsewhere'. Control characters and
    spaces are refused outright: browsers drop a tab in '/\t/elsewhere', which makes it '//elsewhere'."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ch <= " " or ch == "\x7f" for ch in value)):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def _form_page(lang: str, next_path: str, message: str | None, status: int, error: bool = True,
               username: str = "") -> Response:
    return Response(login_page(lang, next_path, message, error, username), status=status,
                    mimetype="text/html; charset=utf-8")


def login():
    lang = normalise_language(request.values.get("lang"))
    next_path = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path)
        return _form_page(lang, next_path, "auth.signed_out" if "signed_out" in request.args else None, 200,
                          error=False)
    username = request.form.get("username", "")
    user, outcome = users.authenticate(access_db(), username, request.form.get("password", ""),
                                       request.remote_addr, demo_allowed(),
                                       known_browser=username.strip() in known_browser.known_names())
    if user is None:
        return _form_page(lang, next_path, f"auth.{outcome}", 401 if outcome == "failed" else 429,
                          username=username)
    session.clear()
    session.permanent = True
    signed_in = sessions.start(access_db(), user.username, current_app.permanent_session_lifetime)
    session["sid"] = signed_in.id
    login_user(SignedInUser(user, signed_in))
    return known_browser.remember(redirect(next_path), user.username)


def logout():
    """POST with the session's token signs out; a GET (a link, possibly from another site) or a
    POST without the token only shows the sign-out button."""
    lang = normalise_language(request.values.get("lang"))
    if not current_user.is_authenticated:
        return redirect("/login?signed_out=1")
    if request.method == "GET":
        return Response(sign_out_page(lang, current_user.csrf), mimetype="text/html; charset=utf-8")
    if not secrets.compare_digest(request.form.get("csrf", ""), current_user.csrf):
        return Response(sign_out_page(lang, current_user.csrf, "auth.sign_out_again"), status=403,
                        mimetype="text/html; charset=utf-8")
    audit.record(access_db(), current_user.username, "logout", address=request.remote_addr)
    sessions.end(access_db(), current_user.session_id)
    logout_user()
    session.clear()
    return redirect("/login?" + urlencode({"signed_out": 1, "lang": lang}))


def refuse_anonymous():
    path = request.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or current_user.is_authenticated:
        return None
    if request.method == "GET" and not path.startswith(NOT_PAGES):
        query = request.query_string.decode("utf-8", "replace")
        target = path + (f"?{query}" if query else "")
        return redirect("/login?" + urlencode({"next": target}))
    return Response("sign in first: POST /login\n", status=401, mimetype="text/plain; charset=utf-8")


def secret_key() -> str:
    """POLICYCUBE_SECRET_KEY, else a random key made once and kept beside the access database
    (mode 0600), so every gunicorn worker signs sessions with the same key."""
    if os.environ.get("POLICYCUBE_SECRET_KEY"):
        return os.environ["POLICYCUBE_SECRET_KEY"]
    path = users.access_db_path().with_name("policycube_secret.key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # fails if another worker got there first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return Path(path).read_text().strip()


def session_hours() -> float:
    return float(os.environ.get("POLICYCUBE_SESSION_HOURS") or 8)


def init_auth(app: Dash) -> None:
    server = app.server
    server.secret_key = secret_key()
    server.config.update(
        SESSION_COOKIE_NAME="policycube_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("POLICYCUBE_SECURE_COOKIE", "0") == "1",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=session_hours()),
        SESSION_REFRESH_EACH_REQUEST=False,  # the lifetime counts from sign-in, not from the last click
    )
    proxies = int(os.environ.get("POLICYCUBE_PROXIES") or 0)
    if proxies:
        # behind nginx every request comes from the proxy: the client's address (the audit log's,
        # the sign-in throttle's) is the one the trusted proxies name in X-Forwarded-For
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies)
    manager = LoginManager(server)
    manager.user_loader(load_user)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["GET", "POST"])
    server.before_request(refuse_anonymous)
    server.teardown_appcontext(_close_access_db)


# --- the user badge in the header ---------------------------------------------------------------------
def scope_text(role: str, scope: dict, lang: str) -> str:
    """What the user may see, in words: '区域经理 · 华东' / 'Agent · customers of agent A000410'."""
    key = users.ROLES.get(role)
    if role == "admin":
        what = t("auth.scope_none", lang)
    elif key is None:
        what = t("auth.scope_all", lang)
    elif key == "agent":
        what = t("auth.scope_agent", lang, codes=join_list(scope.get(key, []), lang))
    else:
        what = join_list([shared_engine().member_label("policies", SCOPE_LEVELS[key], code, lang)
                          for code in scope.get(key, [])], lang)
    masked = "" if access_for(role, scope).show_pii else f" · {t('auth.pii_masked', lang)}"
    return f"{t('role.' + role, lang)} · {what}{masked}"


@callback(
    Output("user-scope", "children"),
    Output("logout-link", "children"),
    Output("logout-form", "action"),
    Input("shell-query", "data"),
)
def user_badge_language(shared):
    lang = normalise_language(query_of(shared).get("lang"))
    # the sign-in page after signing out speaks the same language
    return (scope_text(current_user.role, current_user.scope, lang), t("auth.logout", lang),
            "/logout?" + urlencode({"lang": lang}))


# --- exports --------------------------------------------------------------------------------------------
def audited_export(frames, view: str, kind: str, spec, cell: dict, fmt: str):
    """The export's frames, passed through. An audit row names who exports what (view, kind, file
    format, the query spec, the cell) before the first byte, so even an export whose worker dies
    mid-stream is on record; when the frames end, a second row (the same export_id) says how many
    rows went out and whether the file was sent whole. The log is append-only: two rows, not an update."""
    actor, address = current_user.username, request.remote_addr
    detail = {"view": view, "kind": kind, "format": fmt, "spec": spec.to_dict(), "cell": cell or None,
              "params": {k: v for k, v in request.args.items() if k not in ("spec", "cell")},
              "export_id": secrets.token_hex(8)}
    path = users.access_db_path()
    audit.record(access_db(), actor, "export_started", f"{view}/{kind}", detail, None, address)

    def done(rows: int, finished: bool) -> None:
        # its own connection: a streamed download ends after the request's teardown closed g's
        con = users.connect(path)
        try:
            audit.record(con, actor, "export", f"{view}/{kind}", {**detail, "complete": finished}, rows, address)
        finally:
            con.close()

    return audit.counted(frames, done)
