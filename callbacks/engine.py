"""The cube engine each server process shares: opened lazily, on the configured warehouse.

Opening on first use (not at import) keeps gunicorn workers from sharing a DuckDB handle across fork.
Answers are memoised in RESULT_CACHE, which app.py attaches to the Flask app's flask-caching backend.
"""
from __future__ import annotations

import threading
from pathlib import Path

from cubes.cache import ResultCache
from cubes.engine import Engine
from cubes.scope import Access
from data.warehouse import warehouse_path

RESULT_CACHE = ResultCache()
_engines: dict[Path, Engine] = {}
_lock = threading.Lock()


def engine() -> Engine:
    path = warehouse_path()
    with _lock:
        if path not in _engines:
            _engines[path] = Engine(path, cache=RESULT_CACHE)
        return _engines[path]


def current_access() -> Access:
    """The calling user's row scope and PII rights (unrestricted until sign-in exists)."""
    return Access()
