"""Overview page for executives: headline KPIs with year-over-year change, trends, mix."""
from __future__ import annotations

import dash_mantine_components as dmc

from layouts.i18n import normalise_language, t


def layout(lang: str | None = None, **_query) -> dmc.Stack:
    lang = normalise_language(lang)
    return dmc.Stack(
        [dmc.Title(t("overview.title", lang), order=2, id="overview-title")],
        gap="md",
    )
