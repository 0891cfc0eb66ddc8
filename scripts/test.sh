#!/usr/bin/env bash
# The test suite: unit, engine-against-oracle and end-to-end tests in headless Chromium.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/test_load.py -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
export DASH_TEST_CHROMEPATH=${DASH_TEST_CHROMEPATH:-/usr/bin/chromium}
rm -rf artifacts/failures
mkdir -p artifacts
exec .venv/bin/python -m pytest --headless "$@"
