"""The page registry, in code: path, layout function and the catalogue key of each page's name."""
from __future__ import annotations

import dash

from layouts import admin, agents, contribution, customer, explore, overview, pivot

PAGES = (
    ("overview", "/", overview.layout, "nav.overview"),
    ("explore", "/explore", explore.layout, "nav.explore"),
    ("pivot", "/pivot", pivot.layout, "nav.pivot"),
    ("contribution", "/contribution", contribution.layout, "nav.contribution"),
    ("agents", "/agents", agents.layout, "nav.agents"),
    ("customer", "/customer", customer.layout, "nav.customer"),
    ("admin", "/admin", admin.layout, "nav.admin"),  # shown to administrators only (layouts/shell.py)
)


def register_pages() -> None:
    for module, path, layout, name_key in PAGES:
        dash.register_page(module, path=path, layout=layout, name=name_key, title="PolicyCube")
