"""Result cache: answers memoised by (what was asked, which data, whose scope).

Works without Flask: the default backend is flask-caching's in-process SimpleCache. `init_app`
switches to the backend configured on the Flask app (e.g. FileSystemCache or Redis shared by the
gunicorn workers). The data version in every key means a reloaded warehouse never serves stale
answers; old entries simply age out.
"""
from __future__ import annotations

import hashlib

from flask_caching.backends import SimpleCache



class ResultCache:
    def __init__(self, backend=None, timeout: int = 3600):
        self._backend = backend if backend is not None else SimpleCache(threshold=512, default_timeout=timeout)
        self._timeout = timeout

    def init_app(self, app, config: dict | None = None) -> None:
        from flask_caching import Cache

        flask_cache = Cache(app, config=config)
        self._backend = app.extensions["cache"][flask_cache]

    @staticmethod
    def key(*parts: str) -> str:
        return "policycube:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def get_or_compute(self, key: str, compute):
        value = self._backend.get(key)
        if value is None:
            value = compute()
            self._backend.set(key, value, timeout=self._timeout)
        return value

    def clear(self) -> None:
        self._backend.clear()
