"""The page registry, in code: path, layout function and the catalogue key of each page's name; the
page for unknown addresses; the browser title of each page in each language."""
from __future__ import annotations

import functools

import dash

from layouts import admin, agents, contribution, customer, explore, not_found, overview, pivot
from layouts.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

PAGES = (
    ("overview", "/", overview.layout, "nav.overview"),
    ("explore", "/explore", explore.layout, "nav.explore"),
    ("pivot", "/pivot", pivot.layout, "nav.pivot"),
    ("contribution", "/contribution", contribution.layout, "nav.contribution"),
    ("agents", "/agents", agents.layout, "nav.agents"),
    ("customer", "/customer", customer.layout, "nav.customer"),
    ("admin", "/admin", admin.layout, "nav.admin"),  # shown to administrators only (layouts/shell.py)
)
# Dash Pages shows the page registered under this module name for any path no page has
NOT_FOUND = "not_found_404"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def page_title(name_key: str, lang: str) -> str:
    """What the browser tab says: 经营总览 · 保险分析立方 / Overview · PolicyCube."""
    return f"{t(name_key, lang)} · {t('app.title', lang)}"


def _one_value_each(layout):
    """Dash hands a parameter given twice (?region=east&region=north) to the layout as a list; the
    pages' links write each once, and every page reads text: the last counts, as layouts/url_query.py
    reads the URL in the callbacks that rewrite it."""
    @functools.wraps(layout)
    def page(**query):
        return layout(**{k: v[-1] if isinstance(v, list) else v for k, v in query.items()})
    return page


def register_pages() -> None:
    # the registry's title is the default language's: what the first HTML says before shell.js runs
    # `order` keeps the header's links in PAGES' order (Dash Pages would sort them by module name)
    for order, (module, path, layout, name_key) in enumerate(PAGES):
        dash.register_page(module, path=path, layout=_one_value_each(layout), name=name_key, order=order,
                           title=page_title(name_key, DEFAULT_LANGUAGE))
    dash.register_page(NOT_FOUND, path="/404", layout=not_found.layout, name="notfound.title",
                       title=page_title("notfound.title", DEFAULT_LANGUAGE))


def nav_pages() -> list[dict]:
    """The registered pages the header links to: all but the page for unknown addresses."""
    return [page for page in dash.page_registry.values() if page["module"] != NOT_FOUND]


def browser_texts() -> dict:
    """What layouts/assets/shell.js needs to title the tab and mark <html lang> after each navigation:
    every page's title per language by path, the unknown-address page's, and the language tags."""
    titles = {page["relative_path"]: {lang: page_title(page["name"], lang) for lang in LANGUAGES}
              for page in dash.page_registry.values() if page["module"] != NOT_FOUND}
    return {"titles": titles, "notFoundTitle": {lang: page_title("notfound.title", lang) for lang in LANGUAGES},
            "htmlLang": HTML_LANG}
