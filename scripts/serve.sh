#!/usr/bin/env bash
# Set up .venv (first time only) and serve the site on SQLite with the bundled real papers.
# Extra arguments go to `dailypapers serve` (e.g. --port 8080 --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv "."
exec .venv/bin/dailypapers serve "$@"
