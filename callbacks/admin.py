"""The administrator's page: audit log rows under the chosen filters, and the users list.

Times are shown, and the date filter read, in the company's time zone (Beijing time); the JSON the
log keeps is written out as a sentence in the page's language."""
from __future__ import annotations

import datetime as dt
import json
import logging
from zoneinfo import ZoneInfo

import pandas as pd
from dash import Input, Output, State, callback

from callbacks.auth import access_db, scope_text
from callbacks.engine import shared_engine
from callbacks.grids import json_rows
from cubes.export import filters_line
from cubes.spec import QuerySpec
from data import audit, users
from layouts.admin import is_admin
from layouts.cube_labels import level_label
from layouts.i18n import join_list, normalise_language, t

log = logging.getLogger(__name__)

AUDIT_LIMIT = 1000
TIME_ZONE = ZoneInfo("Asia/Shanghai")  # the insurer's offices; the log itself is kept in UTC
DETAIL_SEPARATOR = " · "


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _day_start(day: dt.date | None) -> dt.datetime | None:
    """Midnight of a Beijing day, in UTC: the log's `at` is UTC, and audit.entries compares its ISO
    text with this one's (`until` covers the whole day: entries adds the day)."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), TIME_ZONE).astimezone(dt.UTC)


def local_times(stamps: pd.Series) -> pd.Series:
    """The log's UTC ISO stamps as Beijing wall-clock time, to the second: 2026-12-04 09:41:19."""
    return (pd.to_datetime(stamps, utc=True, format="ISO8601").dt.tz_convert(TIME_ZONE)
            .dt.strftime("%Y-%m-%d %H:%M:%S"))


def user_rows(lang: str, listed=None) -> list[dict]:
    rows = []
    for user in listed if listed is not None else users.list_users(access_db()):
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
                          actions=[a for a in actions or [] if a in audit.ACTIONS], since=_day_start(since),
                          until=_day_start(until), limit=AUDIT_LIMIT)
    listed = users.list_users(access_db())
    roles = {user.username: user.role for user in listed}
    frame = frame.assign(
        at=local_times(frame["at"]),
        target=[_target(row, lang) for row in frame.itertuples()],
        detail=[_detail(row, roles, lang) for row in frame.itertuples()],
        action=[t(f"action.{a}", lang) for a in frame["action"]])
    shown = t("admin.shown", lang, shown=len(frame), limit=AUDIT_LIMIT)
    return json_rows(frame), shown, user_rows(lang, listed)


EXPORT_ACTIONS = ("export_started", "export")  # an export's two rows: before its first byte, and at its end


# --- the target and the detail in words --------------------------------------------------------------------
def _target(row, lang: str) -> str:
    """What the action was about: the user changed, or for an export the page and the table (透视表 明细),
    not the route's view/kind codes."""
    if row.action not in EXPORT_ACTIONS or not isinstance(row.target, str) or "/" not in row.target:
        return row.target
    view, kind = row.target.split("/", 1)
    return f"{t('nav.' + view, lang)} {t('admin.kind.' + kind, lang)}"


def _detail(row, roles: dict, lang: str) -> str:
    """What happened, as a person says it; the stored text as it is when it cannot be read."""
    text = row.detail if isinstance(row.detail, str) else ""
    try:
        data = json.loads(text) if text.startswith("{") else text
        if row.action in EXPORT_ACTIONS and isinstance(data, dict):
            return _export_detail(data, row.rows, lang)
        if row.action in ("user_added", "role_set") and isinstance(data, dict):
            words = scope_text(data.get("role", ""), data.get("scope") or {}, lang)
            return words + (DETAIL_SEPARATOR + t("admin.state.demo", lang) if data.get("demo") else "")
        if row.action == "scope_set" and isinstance(data, dict):
            return scope_text(roles.get(row.target, ""), data.get("scope") or {}, lang)
        if row.action == "login_failed":
            return t(f"admin.refused.{data or 'password'}", lang)
    except Exception:  # an old or hand-written row: shown as stored rather than breaking the page
        log.warning("audit row %s: detail not readable", row.id, exc_info=True)
    return text


def _export_detail(data: dict, rows, lang: str) -> str:
    """12,345 行 · 筛选条件: 大区 属于 华北 · 客户 C00001672: names of members, not codes (the target
    column names the page and the table)."""
    view, parts = data.get("view", ""), []
    if rows is not None and not pd.isna(rows):
        parts.append(t("admin.row" if rows == 1 else "admin.rows", lang, rows=f"{int(rows):,}"))
    spec = QuerySpec.from_dict(data["spec"])
    if view != "customer":  # the customer grids' spec is a placeholder: the customer id says what went out
        # member names are not personal data, and an administrator's own scope holds no rows to name them by
        parts.append(filters_line(spec, lang, lambda ref, key: shared_engine().member_label(spec.cube, ref, key, lang)))
    cell = data.get("cell") or {}
    if cell:
        members = [f"{level_label(spec.cube, ref, lang)} = {shared_engine().member_label(spec.cube, ref, key, lang)}"
                   for ref, key in cell.items()]
        parts.append(t("admin.cell", lang, members=join_list(members, lang)))
    params = data.get("params") or {}
    if params.get("id"):
        parts.append(t("admin.customer", lang, id=params["id"]))
    if params.get("from") or params.get("to"):
        parts.append(t("admin.dates", lang, start=params.get("from") or "…", end=params.get("to") or "…"))
    if data.get("complete") is False:
        parts.append(t("admin.incomplete", lang))
    return DETAIL_SEPARATOR.join(parts)
