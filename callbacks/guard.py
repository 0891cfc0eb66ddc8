"""Malformed requests get a 4xx answer and one warning line, never a 500 with a traceback.

The browser posts callbacks only with values its own components hold, and builds export links only
from the page's specs. A callback or export that raises TypeError, KeyError, ... on its inputs was
sent a hand-made request (a string where a store holds a dict, a null grid cell, a spec nested
100,000 deep): it answers 400, and the log gets one line naming the route, the error and the line of
code it came from (so a genuine bug is still found from the log) rather than a full traceback that
anyone could flood the log with. Every other error (the warehouse, the disk, a bug of another kind)
is left to Flask: a 500 with its traceback.
"""
from __future__ import annotations

import traceback

from dash import Dash
from dash.exceptions import DependencyException, InvalidCallbackReturnValue, UnsupportedRelativePath
from flask import Response, current_app, request

# What Python raises when a value has the wrong type or shape; RecursionError from the JSON decoder
# on a deeply nested body, OverflowError from an integer too large for the warehouse or a date; Dash's
# pages router refuses a URL path that does not start with '/'.
MALFORMED = (TypeError, ValueError, LookupError, AttributeError, RecursionError, OverflowError,
             UnsupportedRelativePath)
GUARDED = ("/_dash-update-component", "/export/")


def _origin(error: BaseException) -> str:
    """file:line of the innermost frame raising `error` (the project's own frame when there is one)."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if "site-packages" not in f.filename] or frames
    return f"{own[-1].filename}:{own[-1].lineno}" if own else "?"


def _warn(error: BaseException) -> None:
    # repr keeps the line one line: the path and the message may carry the sender's newlines
    current_app.logger.warning("malformed request %s %r: %s: %r (%s)", request.method, request.path[:200],
                               type(error).__name__, str(error)[:200], _origin(error))


def _malformed(error: Exception) -> Response:
    if not request.path.startswith(GUARDED) and not isinstance(error, RecursionError):
        raise error  # outside callbacks and exports, a TypeError is the server's own: Flask logs it
    _warn(error)
    return Response("Bad request: the request's values do not have the expected form.\n", status=400,
                    mimetype="text/plain; charset=utf-8")


def _outputs_not_on_page(error: InvalidCallbackReturnValue) -> Response:
    # A wildcard output's length is the number of ids the request lists: a request listing fewer or more
    # components than the page has was hand-made. Any other bad return value is the callback's own bug.
    first = str(error).strip().split("\n", 1)[0]
    if not (first.startswith("Invalid number of output values") and " item " in first):
        raise error
    return _malformed(error)


def _no_such_bundle(_error: DependencyException) -> Response:
    # Dash raises this for a /_dash-component-suites/ path it never registered. Anyone may ask, before
    # signing in: a plain 404 like any missing file, with no log line to flood the log with.
    return Response("Not found.\n", status=404, mimetype="text/plain; charset=utf-8")


def init_guard(app: Dash) -> None:
    for kind in MALFORMED:
        app.server.register_error_handler(kind, _malformed)
    app.server.register_error_handler(InvalidCallbackReturnValue, _outputs_not_on_page)
    app.server.register_error_handler(DependencyException, _no_such_bundle)
