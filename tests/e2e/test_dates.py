"""Dates as a person meets them: the picker in the page's language with presets, two days picked in
the calendar (months cut), the overview's cards against hand-written SQL, the period chip, and
ranges typed into the URL that cannot be shown named in the notice."""
from __future__ import annotations

import duckdb
import pytest
from selenium.webdriver.common.by import By

from layouts import numbers
from tests.e2e.conftest import console_errors, screenshot
from tests.test_periods_days import FLOWS_SQL

pytestmark = pytest.mark.e2e

CARD = '[id*="kpi-value"][id*=\'"kpi":"{}"\']'
PICKER = "mantine-DatePickerInput"


def _visible(duo, xpath: str, timeout: int = 10):
    duo._wait_for(lambda d: any(e.is_displayed() for e in d.find_elements(By.XPATH, xpath)), timeout=timeout,
                  msg=f"nothing visible at {xpath}")
    return next(e for e in duo.driver.find_elements(By.XPATH, xpath) if e.is_displayed())


def _open_picker(duo, shows: str | None = None):
    """Open the drawer, check the picker's field reads `shows` (the active period) as a value, not a
    faded hint, and open the calendar."""
    duo.find_element("#filter-open").click()
    field = duo.wait_for_element("#filter-dates", timeout=10)
    duo._wait_for(lambda _d: field.is_displayed(), timeout=10, msg="drawer did not open")
    if shows is not None:
        duo._wait_for(lambda _d: field.text == shows, timeout=10, msg=f"the field reads {field.text!r}, not {shows!r}")
        colours = duo.driver.execute_script(
            "const text = el => getComputedStyle(el).color;"
            "return [text(arguments[0].querySelector('span') || arguments[0]), text(document.querySelector('.mantine-DatePickerInput-label'))];",
            field)
        assert colours[0] == colours[1]   # as dark as the label above it
    field.click()


def _caption(duo) -> str:
    return _visible(duo, f"//button[contains(@class, '{PICKER}-calendarHeaderLevel')]").text


def _day(duo, day: int):
    _visible(duo, f"//button[contains(@class, '{PICKER}-day') and not(@data-outside) "
                  f"and normalize-space()='{day}']").click()


def _step(duo, direction: str):
    _visible(duo, f"//button[contains(@class, '{PICKER}-calendarHeaderControl') "
                  f"and @data-direction='{direction}']").click()


def _oracle(warehouse, low: str, high: str) -> tuple[float, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(premium,)] = con.execute("SELECT sum(amount) FROM fact_premium WHERE paid_date BETWEEN ? AND ?",
                                   [low, high]).fetchall()
        flows = con.execute(FLOWS_SQL, {"low": low, "high": high}).df()
    contribution = (flows["premium"] - flows["claims"] - flows["commission"] - flows["acquisition_cost"]
                    - flows["cost_to_serve"] - flows["reserve_increase"] + flows["investment_spread"]).sum()
    return premium, contribution


def test_pick_a_preset_then_two_days_and_read_the_cards(dashboard, demo_warehouse):
    duo = dashboard
    duo.driver.get(duo.server_url + "/")
    duo.wait_for_contains_text("#filter-period-chip", "期间：2026-01-01 — 2026-10-31（今年以来）", timeout=30)

    _open_picker(duo, shows="2026年1月1日 – 2026年10月31日（今年以来）")
    assert _caption(duo) == "2026年10月"  # opens on the as-of month, in Chinese
    weekdays = [e.text for e in duo.driver.find_elements(By.CSS_SELECTOR, f".{PICKER}-weekday") if e.is_displayed()]
    assert weekdays[:3] == ["一", "二", "三"]
    screenshot(duo, "dates_picker_zh")
    _visible(duo, f"//button[contains(@class, '{PICKER}-presetButton') and normalize-space()='近12个月']").click()
    _visible(duo, "//button[@id='filter-apply']").click()
    duo.wait_for_contains_text("#filter-period-chip", "期间：2025-11-01 — 2026-10-31（近12个月）", timeout=30)
    assert "from=2025-11-01" in duo.driver.current_url and "to=2026-10-31" in duo.driver.current_url

    _open_picker(duo, shows="2025年11月1日 – 2026年10月31日（近12个月）")
    while _caption(duo) != "2026年9月":
        _step(duo, "previous")
    _day(duo, 15)
    _step(duo, "next")
    assert _caption(duo) == "2026年10月"
    _day(duo, 10)
    assert duo.find_element("#filter-dates").text == "2026年9月15日 – 2026年10月10日"   # the days just picked
    _visible(duo, "//button[@id='filter-apply']").click()
    duo.wait_for_contains_text("#filter-period-chip", "期间：2026-09-15 — 2026-10-10", timeout=30)
    assert "（" not in duo.find_element("#filter-period-chip").text  # not a preset: none is named

    premium, contribution = _oracle(demo_warehouse, "2026-09-15", "2026-10-10")
    duo.wait_for_text_to_equal(CARD.format("written_premium"), numbers.compact(premium, "zh"), timeout=60)
    duo.wait_for_text_to_equal(CARD.format("contribution"), numbers.compact(contribution, "zh"), timeout=60)
    assert "—" not in duo.find_element(CARD.format("customers")).text
    screenshot(duo, "dates_cut_months_zh")
    screenshot(duo, "dates_cut_months_zh_phone", width=390)
    assert console_errors(duo) == []


def test_the_picker_speaks_english_with_english_presets(dashboard):
    duo = dashboard
    duo.driver.get(duo.server_url + "/explore?lang=en")
    duo.wait_for_contains_text("#filter-period-chip", "Period: 2026-01-01 — 2026-10-31 (Year to date)", timeout=30)
    _open_picker(duo, shows="1 Jan 2026 – 31 Oct 2026 (Year to date)")
    assert _caption(duo) == "October 2026"
    presets = [e.text for e in duo.driver.find_elements(By.CSS_SELECTOR, f".{PICKER}-presetButton") if e.is_displayed()]
    assert presets == ["This month", "Last month", "This quarter", "Year to date", "Last year", "Last 12 months"]
    # the as-of month is the last one: the calendar cannot step past it
    ahead = _visible(duo, f"//button[contains(@class, '{PICKER}-calendarHeaderControl') and @data-direction='next']")
    assert ahead.get_attribute("data-disabled") == "true" or ahead.get_attribute("disabled")
    screenshot(duo, "dates_picker_en")
    duo.find_element(".mantine-Drawer-close").click()
    screenshot(duo, "dates_explore_en_phone", width=390)


@pytest.mark.parametrize("query, notice", [
    ("from=2025-09-10&to=2025-03-15", "日期范围 2025-09-10 至 2025-03-15 的起始日期晚于截止日期"),
    ("from=2030-01-01&to=2030-06-30", "不在数据期间"),
    ("from=2026-06-01&to=2026-12-31", "截止日期 2026-12-31 晚于数据截止日（2026-10-31），已截至 2026-10-31"),
])
def test_ranges_typed_in_the_url_that_cannot_be_shown_are_named(dashboard, query, notice):
    duo = dashboard
    duo.driver.get(duo.server_url + f"/contribution?{query}")
    duo.wait_for_contains_text("#filter-notice", notice, timeout=30)
    chip = "期间：2026-06-01 — 2026-10-31" if "2026-06" in query else "期间：2026-01-01 — 2026-10-31（今年以来）"
    duo.wait_for_contains_text("#filter-period-chip", chip, timeout=30)
    assert "cube" not in duo.driver.find_element(By.TAG_NAME, "body").text  # no engine text anywhere
    screenshot(duo, f"dates_notice_{query[5:15]}_{query[19:29]}_zh", width=390)
    assert console_errors(duo) == []


def test_chips_name_members_outside_the_callers_scope(dashboard_as):
    duo = dashboard_as("demo-region")  # East China only
    duo.driver.get(duo.server_url + "/?region=north&channel=agency")
    duo.wait_for_contains_text("#filter-chips", "大区: 华北", timeout=30)
    assert "渠道: 个人代理" in duo.find_element("#filter-chips").text
    assert "north" not in duo.find_element("#filter-chips").text
    duo.wait_for_contains_text("#filter-notice", "华北 不在您的数据权限范围内", timeout=30)
