#!/usr/bin/env bash
# Makes sure Debian's Chromium and its ChromeDriver are present for the browser tests.
# Installs them non-interactively when missing (needs root, as on CI); otherwise says what to run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium and chromedriver are missing. Install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    exit 1
fi
echo "Installing Debian's chromium and chromium-driver for the browser tests (about a minute)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk >/dev/null
chromium --version
