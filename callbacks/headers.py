"""Security headers on every response.

- Content-Security-Policy: scripts only from this site plus Dash's own inline scripts (the renderer
  start-up and inline clientside callbacks, allowed by their hashes, see Dash.csp_hashes); styles
  may be inline because Plotly, Mantine and AG Grid set them at run time; images and fonts from this
  site or data:/blob: URLs (Plotly's icons and its PNG download); no frames, plugins or other
  sites' forms. frame-ancestors 'none' and X-Frame-Options DENY keep the pages out of any frame.
- X-Content-Type-Options nosniff, Referrer-Policy same-origin (URLs carry filters and customer ids).
- Cache-Control no-store on everything that is not a static file: exports and page data hold
  personal data that must not stay in a shared or browser cache.
"""
from __future__ import annotations

from functools import cache

from dash import Dash
from flask import Response, request

from callbacks.auth import PUBLIC_PREFIXES

FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_headers(app: Dash) -> None:
    @cache
    def policy() -> str:
        # on the first response, when every callback (and its inline script) has been registered
        scripts = " ".join(["'self'", *app.csp_hashes()])
        return "; ".join([
            "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "worker-src 'self' blob:",
            "object-src 'none'", "frame-src 'none'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'",
        ])

    @app.server.after_request
    def secure(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy()
        response.headers.update(FIXED)
        if not request.path.startswith(PUBLIC_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response
