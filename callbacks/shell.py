"""Shell callbacks: the language lives in the URL (?lang=en), the theme in the browser's storage."""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, ctx

from layouts.filter_state import DATE_KEYS, FILTER_KEYS
from layouts.i18n import DEFAULT_LANGUAGE, normalise_language, t
from layouts.url_query import encode, query_of, search_with

GLOBAL_KEYS = FILTER_KEYS + DATE_KEYS  # what stays in the URL when moving to another page


def _with_lang(search: str | None, lang: str) -> str:
    return search_with(search, ("lang",), {} if lang == DEFAULT_LANGUAGE else {"lang": lang})


def _global_part(search: str | None) -> str:
    return encode({k: v for k, v in query_of(search).items() if k in GLOBAL_KEYS})


@callback(
    Output("url", "search"),
    Output("lang-switch", "value"),
    Output("app-title", "children"),
    Output("app-subtitle", "children"),
    Output({"role": "nav-link", "page": ALL}, "children"),
    Output({"role": "nav-link", "page": ALL}, "href"),
    Output({"role": "nav-menu-link", "page": ALL}, "children"),
    Output({"role": "nav-menu-link", "page": ALL}, "href"),
    Input("url", "search"),
    Input("lang-switch", "value"),
)
def sync_language(search, switched):
    """One callback owns both directions (URL -> switch, switch -> URL) to avoid a dependency cycle."""
    if ctx.triggered_id == "lang-switch":
        lang = normalise_language(switched)
        search = _with_lang(search, lang)
    else:
        lang = normalise_language(query_of(search).get("lang"))
    pages = list(dash.page_registry.values())
    names = [t(page["name"], lang) for page in pages]
    hrefs = [page["relative_path"] + _with_lang(_global_part(search), lang) for page in pages]
    return search, lang, t("app.title", lang), t("app.subtitle", lang), names, hrefs, names, hrefs


@callback(
    Output("mantine-provider", "forceColorScheme"),
    Output("theme-store", "data"),
    Output("theme-switch", "checked"),
    Input("theme-switch", "checked"),
    State("theme-store", "data"),
)
def apply_theme(dark, stored):
    if ctx.triggered_id is None and stored in ("light", "dark"):
        scheme = stored
    else:
        scheme = "dark" if dark else "light"
    return scheme, scheme, scheme == "dark"
