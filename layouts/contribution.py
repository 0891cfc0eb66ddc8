"""Contribution & cost to serve page (贡献度与服务成本). The layout is a pure function of the URL query."""
from __future__ import annotations

import dash_mantine_components as dmc

from layouts.i18n import normalise_language, t


def layout(lang: str | None = None, **query) -> dmc.Stack:
    lang = normalise_language(lang)
    return dmc.Stack([dmc.Title(t("nav.contribution", lang), order=3)])
