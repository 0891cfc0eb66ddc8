"""The two CSV download links every table or chart carries."""
from __future__ import annotations

import dash_mantine_components as dmc

from layouts.i18n import t


def export_links(prefix: str, lang: str) -> dmc.Group:
    """Download links for a view; callbacks point them at the view's current query."""
    return dmc.Group([
        dmc.Anchor(t("export.table", lang), id=f"{prefix}-export-table", href="#", size="sm"),
        dmc.Anchor(t("export.records", lang), id=f"{prefix}-export-records", href="#", size="sm"),
    ], gap="md")
