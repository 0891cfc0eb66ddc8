"""Locale-aware number formatting: 万 and 亿 in Chinese, K/M/B in English."""
from __future__ import annotations

import math

_ZH_UNITS = ((1e8, "亿"), (1e4, "万"))
_EN_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compact(value, lang: str, digits: int = 2) -> str:
    """A large amount in the units a reader of that language expects: 1.23亿 / 123.4M."""
    if _missing(value):
        return "—"
    units = _ZH_UNITS if lang == "zh" else _EN_UNITS
    for size, suffix in units:
        if abs(value) >= size:
            return f"{value / size:,.{digits}f}{suffix}"
    return f"{value:,.0f}"


def percent(value, digits: int = 1) -> str:
    if _missing(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def signed_percent(value, digits: int = 1) -> str:
    if _missing(value):
        return "—"
    return f"{value * 100:+.{digits}f}%"


def integer(value) -> str:
    if _missing(value):
        return "—"
    return f"{value:,.0f}"
