#!/usr/bin/env bash
# Creates or reuses the project's virtual environment in .venv. Reinstalls only when
# requirements.txt changed since the last successful install, so a second run takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
python=${PYTHON:-python3}
echo "Setting up the Python environment in $venv (first run only, about a minute)..."
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r requirements.txt
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
