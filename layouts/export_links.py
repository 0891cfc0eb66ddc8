"""The two CSV download links every table or chart carries."""
from __future__ import annotations

import dash_mantine_components as dmc

from layouts.i18n import t


def export_links(prefix: str, lang: str, chart: bool = False) -> dmc.Group:
    """Download links for a view (ids '<prefix>-export-table|records'), or for one of several charts
    on a page (pattern ids, chart = prefix); callbacks point them at the current query."""
    def link(kind: str) -> dmc.Anchor:
        link_id = {"role": "chart-export", "chart": prefix, "kind": kind} if chart else f"{prefix}-export-{kind}"
        return dmc.Anchor(t(f"export.{kind}", lang), id=link_id, href="#", size="xs")

    return dmc.Group([link("table"), link("records")], gap="md")
