"""The cube engine each server process shares: opened lazily, on the configured warehouse.

Opening on first use (not at import) keeps gunicorn workers from sharing a DuckDB handle across fork.
"""
from __future__ import annotations

import threading
from pathlib import Path

from cubes.engine import Engine
from data.warehouse import warehouse_path

_engines: dict[Path, Engine] = {}
_lock = threading.Lock()


def engine() -> Engine:
    path = warehouse_path()
    with _lock:
        if path not in _engines:
            _engines[path] = Engine(path)
        return _engines[path]
