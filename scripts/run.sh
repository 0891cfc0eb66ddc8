#!/usr/bin/env bash
# `make run`: the dashboard served as production serves it (gunicorn, not Flask's development server),
# sized for one person: one worker with threads. One process keeps the default in-process result cache
# (SimpleCache) right: every request reads and fills the same cache. `make serve` runs several workers
# and shares the cache on disk. HOST, PORT and POLICYCUBE_DATA configure it; THREADS the threads (8).
set -euo pipefail
cd "$(dirname "$0")/.."
# builds the demo warehouse on first run (with its progress bar), or refreshes stale rollups
.venv/bin/python -c "from data.warehouse import ensure_warehouse; print('PolicyCube: warehouse', ensure_warehouse())"
# Ctrl+C stops gunicorn cleanly; warnings only, so the terminal shows the start-up line and problems
exec .venv/bin/gunicorn app:server --config scripts/gunicorn_conf.py \
    --workers 1 --threads "${THREADS:-8}" --log-level warning
