"""Shell callbacks: the language lives in the URL (?lang=en), the theme in the browser's storage.

layouts/assets/shell.js keeps the URL and the language switch in step and derives `shell-query`, the
URL's language and global filters: the header, the user badge and the filter bar follow that, so an
in-page navigation that changes only the page's own parameters costs them no request."""
from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx

from layouts.i18n import normalise_language, t
from layouts.pages import nav_pages
from layouts.url_query import query_of

clientside_callback(
    ClientsideFunction("shell", "sync"),
    Output("url", "search"),
    Output("lang-switch", "value"),
    Output("shell-query", "data"),
    Input("url", "search"),
    Input("lang-switch", "value"),
    State("shell-keys", "data"),
    State("shell-query", "data"),
)

# <html lang> and the tab's title follow the page and the language, on every client-side navigation
clientside_callback(
    ClientsideFunction("shell", "title"),
    Output("shell-title", "data"),
    Input("url", "pathname"),
    Input("lang-switch", "value"),
    State("shell-keys", "data"),
)

clientside_callback(
    ClientsideFunction("shell", "filterBar"),
    Output("filter-bar", "style"),
    Input("url", "pathname"),
    State("shell-keys", "data"),
)

# the badge's scope (callbacks/auth.py words it) on the phone's own line too (layouts/shell.py)
clientside_callback(
    "function (scope) { return scope; }",
    Output("user-scope-narrow", "children"),
    Input("user-scope", "children"),
)


@callback(
    Output("app-title", "children"),
    Output("app-subtitle", "children"),
    Output({"role": "nav-link", "page": ALL}, "children"),
    Output({"role": "nav-link", "page": ALL}, "href"),
    Output({"role": "nav-menu-link", "page": ALL}, "children"),
    Output({"role": "nav-menu-link", "page": ALL}, "href"),
    Input("shell-query", "data"),
)
def shell_texts(shared):
    """The header in the URL's language; the page links keep the global filters and the language."""
    lang = normalise_language(query_of(shared).get("lang"))
    pages = nav_pages()
    names = [t(page["name"], lang) for page in pages]
    hrefs = [page["relative_path"] + (shared or "") for page in pages]
    return t("app.title", lang), t("app.subtitle", lang), names, hrefs, names, hrefs


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
