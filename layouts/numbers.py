"""Locale-aware number formats: the one style of every card, chart axis, tooltip and caption.

- Money names its unit, in the units a reader of the language expects: 元 / 万元 / 亿元 in Chinese,
  CNY / K / M / B CNY in English (1.23亿元, 4,567.89万元, 856元; 123.45M CNY, 856 CNY).
- A chart shows all its amounts in one unit, picked from its largest amount (`money_scale`), and its
  axis title names that unit: 保费收入（万元） / Written premium (M CNY) (`titled`).
- Rates are percentages (12.3%); a change of a rate is in points (+1.2个百分点 / +1.2 pp); any other
  change is relative (+12.3%).
- Counts are whole numbers, with 人/件 in Chinese where that reads naturally (12,345人).
- A missing number is "—"; a change with nothing a year earlier says so (去年同期无数据 /
  no data a year earlier), never "nan" or "None".
- A negative number has the typographic minus (−1,234元), as Plotly's axis ticks and the grids'
  d3-format write it, so a card, its chart and its grid spell a loss the same way. Exports keep the
  ASCII "-" a spreadsheet parses (cubes/export.py does not use this module).
Grids keep raw numbers and format them in the browser (callbacks/grids.py): a column's rows differ
by orders of magnitude and are sorted and filtered there, so a grid's money column has one fixed
unit (`GRID_MONEY`: 万元 / M CNY), named in its header by `titled` too.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

# (size, Chinese unit, English suffix before " CNY"), largest first; the last entry is the yuan itself
_MONEY_SCALES = {"zh": ((1e8, "亿元"), (1e4, "万元"), (1.0, "元")),
                 "en": ((1e9, "B CNY"), (1e6, "M CNY"), (1e3, "K CNY"), (1.0, "CNY"))}
_POINTS = {"zh": "个百分点", "en": " pp"}
_NO_PRIOR = {"zh": "去年同期无数据", "en": "no data a year earlier"}
MISSING = "—"
MINUS = "\u2212"   # "−", not the hyphen "-"
GRID_MONEY = {"zh": (1e4, "万元"), "en": (1e6, "M CNY")}  # (divisor, unit) of money columns in grids


def missing(value) -> bool:
    """None, NaN, pandas' NA or an infinite ratio (a change on zero): nothing to show."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def money_scale(values: Iterable | float, lang: str) -> tuple[float, str]:
    """(divisor, unit) for amounts whose largest magnitude is that of `values`: 亿元 once it reaches
    1亿, 万元 from 1万; B, M, K CNY in English."""
    values = list(values) if hasattr(values, "__iter__") else [values]
    largest = max((abs(float(v)) for v in values if not missing(v)), default=0.0)
    scales = _MONEY_SCALES["zh" if lang == "zh" else "en"]
    return next(((size, unit) for size, unit in scales if largest >= size), scales[-1])


def typographic(text: str) -> str:
    """A formatted number with the typographic minus: "-1,234" -> "−1,234"."""
    return text.replace("-", MINUS)


def decimal(value, places: int = 2) -> str:
    """A plain number with thousands separators (1,234.57, −12.0); "—" when missing."""
    return MISSING if missing(value) else typographic(f"{float(value):,.{places}f}")


def _spaced(number: str, unit: str, lang: str) -> str:
    """1.23亿元 in Chinese; 1.23M CNY, 856 CNY in English."""
    if lang == "zh":
        return number + unit
    return f"{number}{unit}" if unit[0] in "BMK" else f"{number} {unit}"


def compact(value, lang: str, digits: int = 2) -> str:
    """An amount in its own unit: 1.23亿元, 45.60万元, 856元 / 1.23B CNY, 45.60K CNY, 856 CNY."""
    if missing(value):
        return MISSING
    size, unit = money_scale(value, lang)
    places = 0 if size == 1.0 else digits
    return _spaced(decimal(float(value) / size, places), unit, lang)


def titled(name: str, unit: str, lang: str) -> str:
    """An axis title or column header with its unit: 保费收入（万元） / Written premium (M CNY)."""
    if not unit:
        return name
    return f"{name}（{unit}）" if lang == "zh" else f"{name} ({unit})"


def in_yuan(name: str, lang: str) -> str:
    """A header of amounts written in whole yuan (a grid's own cells, a customer's amounts):
    保费（元） / Premium (CNY)."""
    return titled(name, money_scale(0, lang)[1], lang)


def percent(value, digits: int = 1) -> str:
    if missing(value):
        return MISSING
    return typographic(f"{float(value) * 100:.{digits}f}%")


def signed_percent(value, digits: int = 1) -> str:
    if missing(value):
        return MISSING
    return typographic(f"{float(value) * 100:+.{digits}f}%")


def integer(value, unit: str = "", lang: str = "zh") -> str:
    """A count; `unit` (人, 件) is written in Chinese only: 12,345人 / 12,345."""
    if missing(value):
        return MISSING
    return decimal(value, 0) + (unit if lang == "zh" else "")


def relative_change(value, prior) -> float:
    """(value - prior) / |prior|; NaN when there is nothing to compare with."""
    if missing(value) or missing(prior) or float(prior) == 0:
        return float("nan")
    return (float(value) - float(prior)) / abs(float(prior))


def points(value, lang: str, digits: int = 1) -> str:
    """A difference of two rates in percentage points: +1.2个百分点 / −0.3 pp."""
    if missing(value):
        return MISSING
    return typographic(f"{float(value) * 100:+.{digits}f}") + _POINTS["zh" if lang == "zh" else "en"]


def change(value, prior, lang: str, rate: bool = False, digits: int = 1) -> str:
    """The change on a year earlier as read: +12.3% for amounts and counts, +1.2个百分点 / +1.2 pp for
    rates; 去年同期无数据 / no data a year earlier when either side is missing (or the prior is 0)."""
    if rate:
        if missing(value) or missing(prior):
            return _NO_PRIOR["zh" if lang == "zh" else "en"]
        return points(float(value) - float(prior), lang, digits)
    ratio = relative_change(value, prior)
    return _NO_PRIOR["zh" if lang == "zh" else "en"] if missing(ratio) else signed_percent(ratio, digits)
