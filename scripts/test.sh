#!/usr/bin/env bash
# Set up .venv with the test tools, install Debian's Chromium if missing, run the whole suite.
# Extra arguments go to pytest (e.g. -k api, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium for the browser tests..."
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
source scripts/_venv.sh
ensure_venv ".[test]"
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy src
exec .venv/bin/pytest "$@"
