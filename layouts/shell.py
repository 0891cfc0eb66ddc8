"""The application shell around every page: header with navigation, language and theme."""
from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html
from flask_login import current_user

from layouts.admin import is_admin
from layouts.filter_bar import filter_bar
from layouts.filter_state import DATE_KEYS, FILTER_KEYS
from layouts.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from layouts.login import sign_out_control
from layouts.pages import browser_texts, nav_pages

THEME = {
    "primaryColor": "indigo",
    "fontFamily": "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', system-ui, sans-serif",
    "defaultRadius": "md",
}


def _nav_links(lang: str, role: str) -> list:
    # every page keeps its link (the language callback updates them all); the admin's is hidden from others
    return [
        dmc.Anchor(
            t(page["name"], lang),
            href=page["relative_path"],
            id={"role": role, "page": page["module"]},
            underline="never",
            fw=500,
            display="none" if page["module"] == "admin" and not is_admin() else None,
        )
        for page in nav_pages()
    ]


def _user_area() -> list:
    """Who is signed in, what they may see (callbacks/auth.py words it per language), and sign-out."""
    if not current_user.is_authenticated:
        return []
    return [
        dmc.Stack([dmc.Text(current_user.display_name, size="sm", fw=500, id="user-name", lh=1.1, truncate="end"),
                   dmc.Text(id="user-scope", size="xs", c="dimmed", lh=1.1, lineClamp=2)],
                  gap=0, maw=200, visibleFrom="lg"),
        sign_out_control(current_user.csrf),
    ]


def _narrow_user_line() -> list:
    """Below LINKS_FROM the header has no room for the badge: who is signed in and what they may see
    read on a line of their own above the filter bar (shell.js copies the badge's scope into it)."""
    if not current_user.is_authenticated:
        return []
    return [dmc.Text([current_user.display_name, " · ", html.Span(id="user-scope-narrow")], id="user-line",
                     size="xs", c="dimmed", ta="right", mb=4, hiddenFrom=LINKS_FROM)]


# Where the page links stop fitting in one line beside the title, language, theme and user: below
# Mantine's lg breakpoint (1200 px; English with the administrator's seven links needs about 1150 px
# with the user badge) they fold into the ☰ menu.
LINKS_FROM = "lg"


def _narrow_menu(lang: str) -> dmc.Menu:
    """Below LINKS_FROM the page links fold into a menu so nothing overlaps."""
    return dmc.Box(
        dmc.Menu([
            dmc.MenuTarget(dmc.Button("☰", variant="subtle", size="compact-md", id="nav-menu-button")),
            dmc.MenuDropdown([dmc.MenuItem(link) for link in _nav_links(lang, "nav-menu-link")]),
        ]),
        hiddenFrom=LINKS_FROM,
    )


def shell() -> dmc.MantineProvider:
    lang = DEFAULT_LANGUAGE
    header = dmc.AppShellHeader(
        dmc.Group(
            [
                dmc.Group(
                    [
                        _narrow_menu(lang),
                        # a smaller title on a phone leaves room for the language, theme and sign-out
                        dmc.Title(t("app.title", lang), order=3, id="app-title", fz={"base": "sm", "xs": "md", "sm": "xl"},
                                  style={"whiteSpace": "nowrap"}),
                        dmc.Text(t("app.subtitle", lang), c="dimmed", size="sm", id="app-subtitle", visibleFrom="xl"),
                    ],
                    gap="xs",
                    wrap="nowrap",
                    className="header-items",
                ),
                dmc.Group(_nav_links(lang, "nav-link"), id="nav-links", gap="lg", visibleFrom=LINKS_FROM,
                          wrap="nowrap", className="header-items"),
                dmc.Group(
                    [
                        dmc.SegmentedControl(
                            id="lang-switch",
                            value=lang,
                            data=[{"value": "zh", "label": "中文"}, {"value": "en", "label": "English"}],
                            size="xs",
                        ),
                        # the moon inside the track, not beside it: a phone has no room for a label
                        dmc.Switch(id="theme-switch", offLabel="☾", onLabel="☀", size="md", checked=False),
                        *_user_area(),
                    ],
                    gap=6,
                    wrap="nowrap",
                    className="header-items",
                ),
            ],
            justify="space-between",
            gap="xs",
            h="100%",
            px={"base": "xs", "sm": "md"},
            wrap="nowrap",
            className="header-items",
        )
    )
    return dmc.MantineProvider(
        dmc.AppShell(
            [
                dcc.Location(id="url", refresh="callback-nav"),
                dcc.Store(id="theme-store", storage_type="local"),
                # what assets/shell.js keeps when it derives `shell-query` from the URL: the parameters
                # every page shares (they stay in the URL from page to page), the default language first
                dcc.Store(id="shell-keys", data={"shared": [*FILTER_KEYS, *DATE_KEYS],
                                                 "languages": sorted(LANGUAGES, key=lambda x: x != DEFAULT_LANGUAGE),
                                                 **browser_texts()}),
                dcc.Store(id="shell-query"),
                dcc.Store(id="shell-title"),  # the tab's title shell.js set: page and language
                header,
                dmc.AppShellMain([*_narrow_user_line(), filter_bar(), html.Div(dash.page_container, id="page-wrapper")]),
            ],
            header={"height": 60},
            padding="md",
        ),
        id="mantine-provider",
        theme=THEME,
        forceColorScheme="light",
    )
