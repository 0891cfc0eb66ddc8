"""The administrator's page: audit log rows under the chosen filters, and the users list."""
from __future__ import annotations

import datetime as dt
import json

from dash import Input, Output, State, callback

from callbacks.auth import access_db, scope_text
from callbacks.grids import json_rows
from data import audit, users
from layouts.admin import is_admin
from layouts.i18n import normalise_language, t

AUDIT_LIMIT = 1000


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def user_rows(lang: str) -> list[dict]:
    rows = []
    for user in users.list_users(access_db()):
        state = t("admin.state.disabled" if user.disabled else "admin.state.active", lang)
        rows.append({"username": user.username, "display_name": user.display_name,
                     "role": t(f"role.{user.role}", lang), "scope": scope_text(user.role, user.scope, lang),
                     "state": state + (f" · {t('admin.state.demo', lang)}" if user.demo else "")})
    return rows


@callback(
    Output("admin-audit-grid", "rowData"),
    Output("admin-shown", "children"),
    Output("admin-users-grid", "rowData"),
    Input("admin-actor", "value"),
    Input("admin-action", "value"),
    Input("admin-dates", "value"),
    State("admin-lang", "data"),
)
def show_audit(actor, actions, dates, lang):
    lang = normalise_language(lang)
    if not is_admin():  # the layout refuses too; a hand-made callback request gets nothing either
        return [], t("admin.only", lang), []
    since, until = (_date(d) for d in (list(dates or []) + [None, None])[:2])
    frame = audit.entries(access_db(), actor=(actor or "").strip() or None,
                          actions=[a for a in actions or [] if a in audit.ACTIONS], since=since, until=until,
                          limit=AUDIT_LIMIT)
    frame = frame.assign(action=[t(f"action.{a}", lang) for a in frame["action"]],
                         detail=[_detail(d) for d in frame["detail"]])
    shown = t("admin.shown", lang, shown=len(frame), limit=AUDIT_LIMIT)
    return json_rows(frame), shown, user_rows(lang)


def _detail(text) -> str:
    """The JSON detail compact and readable (Chinese unescaped)."""
    if not isinstance(text, str) or not text:
        return ""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return str(text)
