"""Bench-only WSGI entry point: the real app, plus a Server-Timing header on every response.

`gunicorn scripts.bench_wsgi:app` serves exactly what `gunicorn app:server` serves. The header says
how long the app took until it started the response (`app;dur=<ms>`): for a Dash callback that is the
whole server-side work, since the callback answers in one body; for a streamed CSV it is the time to
the first byte, so the bench times exports on the client instead.
"""
from __future__ import annotations

import time

from app import server


def app(environ, start_response):
    started = time.perf_counter()

    def timed_start_response(status, headers, exc_info=None):
        elapsed_ms = (time.perf_counter() - started) * 1000
        return start_response(status, [*headers, ("Server-Timing", f"app;dur={elapsed_ms:.2f}")], exc_info)

    return server(environ, timed_start_response)
