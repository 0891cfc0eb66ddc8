#!/usr/bin/env bash
# Production serving: gunicorn with several workers on the same app object (app:server).
# WORKERS, THREADS, HOST, PORT and POLICYCUBE_DATA configure it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -c "from data.warehouse import ensure_warehouse; print('warehouse', ensure_warehouse())"
# one result cache for all workers: a view one worker drew is a cache read for the others
export POLICYCUBE_CACHE_TYPE="${POLICYCUBE_CACHE_TYPE:-FileSystemCache}"
export POLICYCUBE_CACHE_DIR="${POLICYCUBE_CACHE_DIR:-data/warehouse/.cache}"
# HOST, PORT, the timeout and the start-up line: scripts/gunicorn_conf.py, shared with `make run`
exec .venv/bin/gunicorn app:server --config scripts/gunicorn_conf.py \
    --workers "${WORKERS:-4}" --threads "${THREADS:-4}" --access-logfile -
