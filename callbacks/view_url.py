"""Writing a page's view state back into the URL when the user changes a control."""
from __future__ import annotations

from dataclasses import replace

from dash import no_update


def rewritten_search(search: str | None, old, new, with_state):
    """The URL query for view state `new`, or no_update when nothing but the ignored bad parameters
    changed: controls report their values when they mount, and rewriting the URL then would clear
    the notice about a bad parameter before the user has read it."""
    if replace(new, invalid=()) == replace(old, invalid=()):
        return no_update
    return with_state(search, new)
