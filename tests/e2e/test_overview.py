"""The overview page in a real browser: headline numbers agree with the raw tables."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from data.config import load_params
from layouts import numbers
from tests.e2e.conftest import console_errors, screenshot

pytestmark = pytest.mark.e2e

CHARTS = ("overview-trend", "overview-channels", "overview-regions", "overview-movers")


def _oracle_period() -> tuple[str, str]:
    """Year to date at the as-of date the company rules give the data."""
    as_of = load_params()["as_of_date"]
    return f"{as_of.year}-01-01", as_of.isoformat()


def _oracle_written_premium(path, start: str, end: str) -> float:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT sum(amount) FROM fact_premium WHERE paid_date BETWEEN ? AND ?", [start, end]
        ).fetchall()[0][0]


def _wait_for_overview(duo) -> None:
    duo.wait_for_contains_text('[id*="kpi-value"][id*="written_premium"]', ".", timeout=30)
    for graph in CHARTS:
        duo.wait_for_element(f"#{graph} .main-svg", timeout=30)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_written_premium_card_equals_raw_premium_facts(dashboard, downloads, demo_warehouse, lang):
    dashboard.driver.get(dashboard.server_url + ("/?lang=en" if lang == "en" else "/"))
    _wait_for_overview(dashboard)
    start, end = _oracle_period()
    expected = numbers.compact(_oracle_written_premium(demo_warehouse, start, end), lang)
    shown = dashboard.find_element('[id*="kpi-value"][id*="written_premium"]').text
    assert shown == expected
    assert start in dashboard.find_element("#overview-period").text
    screenshot(dashboard, f"overview_{lang}")
    _check_channel_export(dashboard, downloads, demo_warehouse, start, end, lang)
    assert console_errors(dashboard) == []


def _check_channel_export(duo, download, path, start: str, end: str, lang: str) -> None:
    """The channel-mix chart's table export: premium per channel over the period, labels in `lang`."""
    link = duo.driver.find_element(
        "css selector", '[id*="chart-export"][id*="overview-channels"][id*="table"]:not([id*="xlsx"])')
    content = download(link).read_bytes()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert start in lines[0] and end in lines[0]
    frame = pd.read_csv(io.StringIO("\n".join(lines[1:])))
    with duckdb.connect(str(path), read_only=True) as con:
        expected = dict(con.execute(
            f"SELECT c.name_{lang}, round(sum(pr.amount), 2) FROM fact_premium pr JOIN fact_policy p USING (policy_id) "
            "JOIN dim_channel c ON c.channel_code = p.channel_code WHERE pr.paid_date BETWEEN ? AND ? GROUP BY 1",
            [start, end]).fetchall())
    channel, premium = ("渠道", "保费收入（元）") if lang == "zh" else ("Channel", "Written premium (CNY)")
    assert dict(zip(frame[channel], frame[premium])) == pytest.approx(expected, abs=0.01)
