"""The global filter bar: the period shown and the active filters as chips, one click to clear, a
drawer to choose them.

Controls start empty; callbacks/filters.py fills options and values from the URL, which is the
single source of the filter state, and gives the date picker its language (a DatesProvider locale:
dayjs's zh-cn is vendored in assets/), presets, bounds and opening month.
"""
from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc

from layouts.filter_state import GLOBAL_FILTERS
from layouts.i18n import DEFAULT_LANGUAGE, t

# The picker's field writes a day as the page's language does, a picked one (dayjs's format, the
# picker's valueFormat) and the active period alike (`day_text`): 2026年1月1日 / 1 Jan 2026.
DAY_FORMATS = {"zh": "YYYY年M月D日", "en": "D MMM YYYY"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: str | dt.date, lang: str) -> str:
    day = dt.date.fromisoformat(str(day)[:10])
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _select(key: str, lang: str) -> dmc.MultiSelect:
    label_key = next(f.label_key for f in GLOBAL_FILTERS if f.key == key)
    return dmc.MultiSelect(
        id={"role": "filter-select", "key": key},
        label=t(label_key, lang),
        data=[],
        value=[],
        searchable=True,
        clearable=True,
        comboboxProps={"withinPortal": True},
    )


def filter_bar() -> dmc.Stack:
    lang = DEFAULT_LANGUAGE
    drawer = dmc.Drawer(
        dmc.Stack(
            [
                dmc.DatesProvider(
                    dmc.DatePickerInput(id="filter-dates", type="range", label=t("filter.dates", lang),
                                        valueFormat=DAY_FORMATS[lang], clearable=False, value=[], presets=[],
                                        popoverProps={"withinPortal": True}),
                    id="filter-dates-provider", settings={"firstDayOfWeek": 1}),
                *[_select(f.key, lang) for f in GLOBAL_FILTERS],
                dmc.Button(t("filter.apply", lang), id="filter-apply", fullWidth=True),
            ],
            gap="sm",
        ),
        id="filter-drawer",
        title=t("filter.title", lang),
        position="right",
        size="md",
        opened=False,
    )
    return dmc.Stack(
        [
            dmc.Group(
                [
                    dmc.Button(t("filter.open", lang), id="filter-open", variant="light", size="xs"),
                    dmc.Badge(id="filter-period-chip", variant="filled", color="blue", tt="none", size="lg"),
                    dmc.Group(id="filter-chips", gap=6),
                    dmc.Button(t("filter.clear", lang), id="filter-clear", variant="subtle", size="xs",
                               color="gray", display="none"),
                ],
                gap="sm",
            ),
            dmc.Alert(id="filter-notice", color="yellow", hide=True, withCloseButton=True),
            drawer,
        ],
        gap="xs",
        mb="md",
        id="filter-bar",
    )
