"""The page for an address no page has (Dash Pages shows it for every unknown path): in the URL's
language, inside the app's header, with a way back to the overview."""
from __future__ import annotations

import dash_mantine_components as dmc

from layouts.i18n import DEFAULT_LANGUAGE, normalise_language, t


def layout(lang: str | None = None, **_query) -> dmc.Stack:
    lang = normalise_language(lang)
    home = "/" if lang == DEFAULT_LANGUAGE else f"/?lang={lang}"
    return dmc.Stack(
        [
            dmc.Text("404", size="xl", fw=700, c="dimmed"),
            dmc.Title(t("notfound.title", lang), order=2, id="not-found-title"),
            dmc.Text(t("notfound.text", lang), id="not-found-text"),
            dmc.Anchor(t("notfound.home", lang), href=home, id="not-found-link", fw=500),
        ],
        gap="sm",
        py="xl",
        maw=640,
    )
