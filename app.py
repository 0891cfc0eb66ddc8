"""PolicyCube: the Dash app and its Flask server. Pages, callbacks and numbers live elsewhere.

`make run` and `make serve` serve `app:server` with gunicorn (scripts/run.sh, scripts/serve.sh);
`python app.py --debug` is Dash's development server, for development only (see README).
"""
from __future__ import annotations

import argparse
import os

from dash import Dash

import callbacks  # noqa: F401  registers the global @callback functions
import callbacks.admin  # noqa: F401  the administrator page's callbacks
from callbacks.auth import init_auth
from callbacks.downloads import blueprint as downloads
from callbacks.engine import RESULT_CACHE
from callbacks.guard import init_guard
from callbacks.headers import init_headers
from layouts.pages import register_pages
from layouts.shell import shell

app = Dash(
    __name__,
    use_pages=True,
    pages_folder="",
    suppress_callback_exceptions=True,
    title="PolicyCube",
    update_title=None,
    assets_folder="layouts/assets",
)
server = app.server
# SimpleCache is per process; POLICYCUBE_CACHE_TYPE=FileSystemCache with POLICYCUBE_CACHE_DIR shares
# answers between gunicorn workers. Keys carry the data version, so a reload never serves stale numbers.
RESULT_CACHE.init_app(server, {
    "CACHE_TYPE": os.environ.get("POLICYCUBE_CACHE_TYPE", "SimpleCache"),
    "CACHE_DIR": os.environ.get("POLICYCUBE_CACHE_DIR"),
    "CACHE_DEFAULT_TIMEOUT": 3600,
    "CACHE_THRESHOLD": 2000,
})
init_auth(app)  # sign-in; every other route refuses requests without a session
server.register_blueprint(downloads)
register_pages()
app.layout = shell
init_guard(app)  # malformed callbacks and exports: 400 and one log line, not a 500 and a traceback
init_headers(app)  # CSP and the other security headers on every response
# Dash (4.4) does its per-process setup (script list, callback map; the pages router's callback) in
# before_request hooks that mark it done before doing it: on a threaded worker the requests arriving
# meanwhile were served without it (404 on the renderer's own scripts: an empty page for the first
# visitor after a restart). Run here, once, at import, in Dash's order, before any request; this uses
# Dash's private hooks (there is no public API). With gunicorn's preload_app workers fork with it done.
_DASH_SETUP = ("_setup_server", "router_sync")
with server.test_request_context("/"):
    for _hook in [hook for hook in server.before_request_funcs[None] if hook.__name__ in _DASH_SETUP]:
        _hook()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the PolicyCube dashboard with Dash's development server.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and hot reload")
    args = parser.parse_args(argv)

    from data.warehouse import ensure_warehouse

    path = ensure_warehouse()
    print(f"PolicyCube: warehouse {path}")
    print(f"PolicyCube: open http://{args.host}:{args.port}/ in your browser (Ctrl+C stops)", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
