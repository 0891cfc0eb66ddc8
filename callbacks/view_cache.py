"""Whole answers of the pages' render callbacks, memoised.

A render callback turns its inputs (a page's URL query) into figures, grids and texts. Its queries
come from the engine's result cache, but building the figures, reshaping a pivot and reading a
customer's raw rows still take tens to hundreds of milliseconds on every call. Its answer depends
only on its arguments, the outputs it fills, the caller's access, the data version and the cube
definitions, which is what the engine's `memoised` keys on; so a repeated view is one cache read.

    @callback(Output(...), Input("explore-query", "data"))
    @memoised_view
    def draw_explore(query): ...

An answer that reports a failure (the page's error message) must not be kept: the callback's
error branch calls `not_kept()`, and the next call tries again.

The argument named `query` is the page's URL query store, which the page layout writes as text to
text: anything else was forged, and is refused (TypeError, a 400 by callbacks/guard.py) before the
render's own error branch could take it for a failure of the page and log its traceback.
"""
from __future__ import annotations

import functools
import inspect
import json

import plotly.graph_objects as go
from dash import ctx
from flask import g

from callbacks.engine import engine


class _Failed(Exception):
    def __init__(self, answer):
        super().__init__("not kept")
        self.answer = answer


def memoised_view(render):
    names = list(inspect.signature(render).parameters)
    at = names.index("query") if "query" in names else None

    @functools.wraps(render)
    def answer(*args):
        if at is not None:
            _check_query(args[at])
        parts = (render.__module__, render.__qualname__,
                 json.dumps([args, ctx.outputs_list], sort_keys=True, default=str, ensure_ascii=False))
        try:
            return engine().memoised("view", parts, lambda: _kept(render, args))
        except _Failed as failed:
            return failed.answer

    return answer


def _check_query(query) -> None:
    if query is not None and not (isinstance(query, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in query.items())):
        raise TypeError("a page's query must be an object of texts")


def not_kept() -> None:
    """Called while a memoised view is answering: do not keep this answer (it reports a failure)."""
    g.policycube_view_failed = True


def _kept(render, args):
    g.policycube_view_failed = False
    value = _plain(render(*args))
    if g.pop("policycube_view_failed", False):
        raise _Failed(value)
    return value


def _plain(value):
    """Figures as the dicts Dash sends: a cache hit then builds and validates no Plotly object."""
    if isinstance(value, go.Figure):
        return value.to_plotly_json()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value
