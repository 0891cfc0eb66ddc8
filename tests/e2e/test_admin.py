"""The administrator's audit log as an administrator reads it: times in Beijing time, and what an
export or a failed sign-in was, in words and member names, in Chinese and English."""
from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.e2e.conftest import click_label, console_errors, screenshot, sign_in

pytestmark = pytest.mark.e2e

BEIJING = ZoneInfo("Asia/Shanghai")


def _names(warehouse, lang: str) -> tuple[str, str]:
    """North China's and the agency channel's names, as the warehouse spells them."""
    column = f"name_{lang}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        region = con.execute(f"SELECT {column} FROM dim_region WHERE CAST(region_code AS VARCHAR) = 'north'").fetchone()[0]
        channel = con.execute(f"SELECT {column} FROM dim_code WHERE kind = 'channel' AND code = 'agency'").fetchone()[0]
    return region, channel


def _screen_rows(duo) -> list[dict]:
    """The audit grid's rows as they read on screen: column id -> cell text."""
    return duo.driver.execute_script("""
        return Array.from(document.querySelectorAll('#admin-audit-grid .ag-center-cols-container .ag-row'), row =>
            Object.fromEntries(Array.from(row.querySelectorAll('.ag-cell'), c => [c.getAttribute('col-id'), c.innerText])));""")


def _in_view(duo, grid: str) -> list[str]:
    """The columns whose header lies wholly inside the grid's visible width, left to right."""
    return duo.driver.execute_script("""
        const box = document.querySelector('#' + arguments[0] + ' .ag-body-viewport').getBoundingClientRect();
        return Array.from(document.querySelectorAll('#' + arguments[0] + ' .ag-header-cell'))
            .map(h => [h.getBoundingClientRect(), h.getAttribute('col-id')])
            .filter(([r]) => r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1)
            .sort((a, b) => a[0].left - b[0].left).map(([, id]) => id);""", grid)


def _cut(duo, grid: str, columns: list[str]) -> list[str]:
    """Texts of those columns' cells and headers that do not fit: wider than their box, or running
    below the row (or header) that holds them."""
    return duo.driver.execute_script("""
        const fits = e => { const r = e.getBoundingClientRect(), holder = e.closest('.ag-row, .ag-header-row').getBoundingClientRect();
                            return e.scrollWidth <= e.clientWidth + 1 && r.bottom <= holder.bottom + 1; };
        return Array.from(document.querySelectorAll('#' + arguments[0] + ' .ag-cell-value, #' + arguments[0] + ' .ag-cell-wrapper, #'
                                                    + arguments[0] + ' .ag-cell, #' + arguments[0] + ' .ag-header-cell-text'))
            .filter(e => arguments[1].includes(e.closest('[col-id]').getAttribute('col-id')))
            .filter(e => !fits(e)).map(e => e.innerText);""", grid, columns)


def _reads_on_a_phone(duo) -> None:
    """When, who and what of each row (a user's name, name and role) read on the phone's screen, whole."""
    for grid, first in (("admin-audit-grid", ["at", "actor", "action"]), ("admin-users-grid", ["username", "display_name", "role"])):
        duo._wait_for(lambda d: _in_view(duo, grid)[:3] == first, timeout=10, msg=f"{grid}: {_in_view(duo, grid)}")
        duo._wait_for(lambda d: _cut(duo, grid, first) == [], timeout=10, msg=f"{grid}: cut {_cut(duo, grid, first)}")


def _logged(access_db, action: str) -> list[tuple[str, int | None]]:
    """(at in UTC, rows) of demo-exec's rows of `action`, newest first: the oracle for the screen."""
    with sqlite3.connect(access_db) as con:
        return con.execute("SELECT at, rows FROM audit_log WHERE actor = 'demo-exec' AND action = ? ORDER BY id DESC",
                           (action,)).fetchall()


def _beijing(at: str) -> str:
    return dt.datetime.fromisoformat(at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def test_the_audit_log_reads_in_beijing_time_and_in_words(served, downloads, demo_warehouse, access_db):
    duo = served
    sign_in(duo, "demo-exec", "not-the-password")  # a failed sign-in, through the form
    sign_in(duo, "demo-exec")
    # the pivot's table export for North China's agency channel, downloaded by a click on its link
    duo.driver.get(duo.server.url + "/pivot?region=north&channel=agency")
    downloads(duo.wait_for_element("#pivot-export-table", timeout=30))
    duo._wait_for(lambda d: _logged(access_db, "export"), timeout=30, msg="the export was not logged")
    [(exported_at, exported_rows), *_] = _logged(access_db, "export")
    [(failed_at, _), *_] = _logged(access_db, "login_failed")
    duo.find_element("#logout-link").click()

    sign_in(duo, "demo-admin")
    duo.driver.get(duo.server.url + "/admin")
    duo.wait_for_element("#admin-audit-grid .ag-row", timeout=30)
    duo.find_element("#admin-actor").send_keys("demo-exec")
    duo.wait_for_text_to_equal("#admin-audit-grid .ag-row[row-index='0'] .ag-cell[col-id=actor]", "demo-exec", timeout=20)
    header = duo.find_element("#admin-audit-grid .ag-header-cell[col-id=at]").text
    assert header == "时间（北京时间 UTC+8）"
    rows = _screen_rows(duo)
    export = next(r for r in rows if r["at"] == _beijing(exported_at) and r["action"] == "导出")
    region, channel = _names(demo_warehouse, "zh")
    assert export["target"] == "透视表 表格" and export["rows"] == f"{exported_rows:,}"
    assert f"{exported_rows:,} 行" in export["detail"] and region in export["detail"] and channel in export["detail"]
    assert not any(code in export["detail"] for code in ("north", "agency", "{", "pivot"))
    # the failed sign-in and the successful one after it may share a second: find it by its words
    failed = next(r for r in rows if r["at"] == _beijing(failed_at) and r["action"] == "登录失败")
    assert failed["detail"] == "用户名或密码错误"
    screenshot(duo, "admin_zh")
    duo.driver.set_window_size(390, 844)
    # the filters stack and fit; the grids scroll sideways inside their cards, not the page
    assert duo.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    _reads_on_a_phone(duo)
    screenshot(duo, "admin_narrow_zh", width=390)
    duo.driver.set_window_size(1280, 900)

    click_label(duo, "English")
    duo.wait_for_text_to_equal("#admin-audit-grid .ag-header-cell[col-id=at]", "Time (Beijing, UTC+8)", timeout=20)
    duo.find_element("#admin-actor").send_keys("demo-exec")
    duo.wait_for_text_to_equal("#admin-audit-grid .ag-row[row-index='0'] .ag-cell[col-id=actor]", "demo-exec", timeout=20)
    rows = _screen_rows(duo)
    export = next(r for r in rows if r["at"] == _beijing(exported_at) and r["action"] == "export")
    region, channel = _names(demo_warehouse, "en")
    assert export["target"] == "Pivot table"
    assert f"{exported_rows:,} row" in export["detail"] and region in export["detail"] and channel in export["detail"]
    assert any(r["at"] == _beijing(failed_at) and r["detail"] == "wrong user name or password" for r in rows)
    screenshot(duo, "admin_en")
    duo.driver.set_window_size(390, 844)
    _reads_on_a_phone(duo)
    screenshot(duo, "admin_narrow_en", width=390)
    # the failed sign-in's 401 is the one error the browser may report
    assert [e for e in console_errors(duo) if "/login - " not in e["message"]] == []
