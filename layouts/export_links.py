"""Download links: each export as CSV and as Excel, plain <a> links the browser downloads.

Not dmc.Anchor: Dash takes a click on one for in-app navigation, and '/export/...' is no page
(the user saw "404"). A page's callback sets the CSV link's href; callbacks/downloads.py gives its
Excel twin (id `excel_id(csv_id)`) the same URL with `.xlsx` and both the `download` attribute, in
the browser. Every link id is declared here, so that each has its twin wired. A click asks the
server first and says a refusal on the page (layouts/assets/export_links.js).
"""
from __future__ import annotations

import dash_mantine_components as dmc
from dash import html

from layouts.i18n import t

KINDS = ("table", "records")
# Link ids '<prefix>-export-<kind>' of one view's exports, by prefix.
PAGES = {
    "explore": KINDS, "pivot": KINDS, "pivot-cell": ("records",), "agents": KINDS,
    "contribution-whale": KINDS, "contribution-waterfall": KINDS, "contribution-quadrant": KINDS,
    "contribution-tiers": KINDS, "contribution-policy": ("table",), "contribution-losses": ("table",),
}
STRING_LINKS = tuple(f"{prefix}-export-{kind}" for prefix, kinds in PAGES.items() for kind in kinds)
# Pattern ids of links repeated on a page (one per chart or grid): role -> the keys that vary.
PATTERN_LINKS = {"chart-export": ("chart", "kind"), "customer-grid-export": ("grid",)}


def excel_id(link_id):
    return {**link_id, "format": "xlsx"} if isinstance(link_id, dict) else f"{link_id}-xlsx"


def export_pair(link_id, kind: str, lang: str) -> list[html.A]:
    """The CSV link `link_id` and its Excel twin, for one kind of export."""
    declared = link_id.get("role") in PATTERN_LINKS if isinstance(link_id, dict) else link_id in STRING_LINKS
    if not declared:  # its Excel twin would never get an href
        raise ValueError(f"export link {link_id!r} is not declared in layouts/export_links.py")
    # what layouts/assets/export_links.js says when the export cannot be asked for at all
    said = {"data-failed": t("export.failed", lang), "data-signed-out": t("export.signed_out", lang)}
    return [html.A(t(f"export.{kind}", lang), id=link_id, href="#", className="export-link", **said),
            html.A(t(f"export.{kind}_xlsx", lang), id=excel_id(link_id), href="#", className="export-link", **said)]


def export_links(prefix: str, lang: str, chart: bool = False, kinds: tuple[str, ...] = KINDS, **group) -> dmc.Group:
    """Download links for a view (ids '<prefix>-export-<kind>'), or for one of several charts on a
    page (pattern ids, chart = prefix); callbacks point them at the current query."""
    def link_id(kind: str):
        return {"role": "chart-export", "chart": prefix, "kind": kind} if chart else f"{prefix}-export-{kind}"

    return dmc.Group([a for kind in kinds for a in export_pair(link_id(kind), kind, lang)], gap="md", **group)
