"""The cube engine each server process shares, seen through the signed-in user's access.

Opening on first use (not at import) keeps gunicorn workers from sharing a DuckDB handle across fork.
Answers are memoised in RESULT_CACHE, which app.py attaches to the Flask app's flask-caching backend.
Pages and downloads call `engine()`: a ScopedEngine that ANDs the caller's row scope into every
query and masks personal data for roles without the right; they never see the unscoped Engine.
"""
from __future__ import annotations

import threading
from pathlib import Path

from flask import has_request_context
from flask_login import current_user

from cubes.access import NOTHING, ScopedEngine, access_for
from cubes.cache import ResultCache
from cubes.engine import Engine
from cubes.scope import Access
from data.warehouse import warehouse_path

RESULT_CACHE = ResultCache()
_engines: dict[Path, Engine] = {}
_lock = threading.Lock()


def shared_engine() -> Engine:
    """The process's unscoped Engine: only for code that applies `current_access()` itself."""
    path = warehouse_path()
    with _lock:
        if path not in _engines:
            _engines[path] = Engine(path, cache=RESULT_CACHE)
        return _engines[path]


def engine() -> ScopedEngine:
    return ScopedEngine(shared_engine(), current_access())


def current_access() -> Access:
    """The signed-in user's row scope and PII rights; nothing at all for anyone else."""
    if not has_request_context():
        raise RuntimeError("current_access() needs a request: data is read on behalf of a signed-in user")
    if not current_user.is_authenticated:  # the sign-in guard refuses these requests before they get here
        return Access(NOTHING, show_pii=False)
    return access_for(current_user.role, current_user.scope)
