"""The number formats every card, axis, tooltip and caption uses (layouts/numbers.py): one unit
style per language, and no "nan"/"None" for missing values or empty comparisons."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from layouts import numbers

MISSING_VALUES = [None, float("nan"), pd.NA, math.inf, -math.inf]


@pytest.mark.parametrize("value, zh, en", [
    (0, "0元", "0 CNY"),
    (856.4, "856元", "856 CNY"),
    (-856.4, "−856元", "−856 CNY"),
    (12_345, "1.23万元", "12.35K CNY"),
    (4_567_890, "456.79万元", "4.57M CNY"),
    (123_456_789, "1.23亿元", "123.46M CNY"),
    (1_625_419_502.6, "16.25亿元", "1.63B CNY"),
    (-2.5e9, "−25.00亿元", "−2.50B CNY"),
])
def test_money_names_its_unit_in_each_language(value, zh, en):
    assert numbers.compact(value, "zh") == zh
    assert numbers.compact(value, "en") == en


@pytest.mark.parametrize("values, zh, en", [
    ([1e4, 2e8], (1e8, "亿元"), (1e6, "M CNY")),
    ([-3e8, 1e3], (1e8, "亿元"), (1e6, "M CNY")),      # the magnitude decides, not the sign
    (pd.Series([5e4, float("nan")]), (1e4, "万元"), (1e3, "K CNY")),
    ([2e9], (1e8, "亿元"), (1e9, "B CNY")),
    ([12.5], (1.0, "元"), (1.0, "CNY")),
    ([], (1.0, "元"), (1.0, "CNY")),
    ([None, float("nan")], (1.0, "元"), (1.0, "CNY")),
])
def test_a_chart_takes_one_unit_from_its_largest_amount(values, zh, en):
    assert numbers.money_scale(values, "zh") == zh
    assert numbers.money_scale(values, "en") == en


def test_axis_titles_and_headers_carry_the_unit():
    assert numbers.titled("保费收入", "万元", "zh") == "保费收入（万元）"
    assert numbers.titled("Written premium", "M CNY", "en") == "Written premium (M CNY)"
    assert numbers.titled("Cases", "", "en") == "Cases"


def test_rates_counts_and_changes():
    assert numbers.percent(0.8766) == "87.7%"
    assert numbers.signed_percent(0.5661) == "+56.6%"
    assert numbers.integer(90717, "人", "zh") == "90,717人"
    assert numbers.integer(90717, "人", "en") == "90,717"
    assert numbers.change(1.566, 1.0, "zh") == "+56.6%"
    assert numbers.change(0.5, 1.0, "en") == "−50.0%"
    assert numbers.change(-5, -10, "en") == "+50.0%"   # a loss halved is an improvement
    assert numbers.change(0.039, 0.042, "zh", rate=True) == "−0.3个百分点"
    assert numbers.change(0.877, 0.874, "en", rate=True) == "+0.3 pp"


@pytest.mark.parametrize("missing", MISSING_VALUES)
def test_missing_values_show_a_dash_never_nan_or_none(missing):
    for text in (numbers.compact(missing, "zh"), numbers.compact(missing, "en"), numbers.percent(missing),
                 numbers.signed_percent(missing), numbers.integer(missing, "人", "zh")):
        assert text == "—"


@pytest.mark.parametrize("value, prior", [(5.0, None), (5.0, float("nan")), (None, 5.0), (5.0, 0.0), (5.0, pd.NA)])
def test_an_empty_comparison_says_so(value, prior):
    assert numbers.change(value, prior, "zh") == "去年同期无数据"
    assert numbers.change(value, prior, "en") == "no data a year earlier"
    assert numbers.missing(numbers.relative_change(value, prior))


@pytest.mark.parametrize("value, prior", [(0.2, None), (None, 0.2), (float("nan"), 0.2)])
def test_an_empty_rate_comparison_says_so(value, prior):
    assert numbers.change(value, prior, "zh", rate=True) == "去年同期无数据"
    assert numbers.change(value, prior, "en", rate=True) == "no data a year earlier"
    assert "nan" not in numbers.change(value, prior, "zh", rate=True)


def test_a_negative_number_has_the_typographic_minus_in_every_format():
    """Plotly's axis ticks and the grids' d3-format write "−" (U+2212): cards and tooltips do too."""
    written = [numbers.compact(-1234.5, "zh"), numbers.compact(-1.5e6, "en"), numbers.percent(-0.05),
               numbers.signed_percent(-0.123), numbers.integer(-42, "人", "zh"), numbers.decimal(-1234.567),
               numbers.points(-0.012, "en"), numbers.change(0.5, 1.0, "zh")]
    assert written == ["−1,234元", "−1.50M CNY", "−5.0%", "−12.3%", "−42人", "−1,234.57", "−1.2 pp", "−50.0%"]
    assert not any("-" in text for text in written)
    assert numbers.decimal(float("nan")) == "—"
